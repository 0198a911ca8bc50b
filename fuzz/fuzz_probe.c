/*
 * fuzz/fuzz_probe.c - fuzz target: any bytes, as a file, into pfnProbe.
 *
 * VD asks a cache backend to probe a file only after every image backend
 * declined it, and takes any answer but VERR_VD_GEN_INVALID_HEADER as "this
 * file is mine" (spec/contract.md PROBE-1).  So the probe of arbitrary bytes
 * must answer VINF_SUCCESS, exactly VERR_VD_GEN_INVALID_HEADER, or an I/O
 * error; anything else aborts.  Probe goes through the limited IOINT VD
 * builds for probing, whose other members count as misuse (PROBE-3), must
 * leave no storage open and the file unchanged (PROBE-4).
 * Input: the file's bytes, at most FUZZ_PROBE_MAX (fuzz_probe.options).
 */
#include "fuzz.h"

#define FUZZ_PROBE_MAX 65536u

/* The host and fs are kept for the life of the process: probing sets no
 * configuration, and an input leaves the host as it found it (no storage
 * open, no misuse: anything else aborts), so after the log is cleared
 * and the fs emptied only scratch memory carries over.  Building them per
 * input was a large share of this small target's time. */
static fuzz_env env;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t before, after;
    int rc;

    if (size > FUZZ_PROBE_MAX)
        return 0;
    if (env.host == NULL && !fuzz_env_init(&env, &FUZZ_BACKEND))
        return 0;
    if (RT_FAILURE(vdc_fs_mem_put(env.fs, FUZZ_IMAGE_NAME, data, size))
        || !fuzz_file_stamp(&env, FUZZ_IMAGE_NAME, &before))
        goto out_clear;

    rc = env.be->pfnProbe(FUZZ_IMAGE_NAME, vdc_host_disk_ifs(env.host), vdc_host_probe_ifs(env.host));
    if (rc != VINF_SUCCESS && rc != VERR_VD_GEN_INVALID_HEADER && !fuzz_is_io_error(rc))
        fuzz_fail(&env, "PROBE-1", "probe of %zu bytes returned %d, not VINF_SUCCESS or "
                  "VERR_VD_GEN_INVALID_HEADER", size, rc);
    fuzz_check_misuse(&env, "probe");
    fuzz_check_no_storage(&env, "probe");
    if (!fuzz_file_stamp(&env, FUZZ_IMAGE_NAME, &after) || after != before)
        fuzz_fail(&env, "PROBE-4", "probe wrote to or resized the file");

out_clear:
    vdc_host_log_clear(env.host);
    vdc_fs_mem_clear(env.fs);
    return 0;
}
