/*
 * fuzz/fuzz_ops.c - fuzz target: a hostile image, then a script of
 * operations on it.
 *
 * Input: u32le n (bit 31 set: the smallest node and bitmap caches,
 * fuzz_small_caches; the rest is the length); n bytes of image (raw or the
 * sparse encoding of fuzz.h; fewer when the input is shorter); one byte of
 * open flags (mapped by
 * fuzz_script_flags); the rest is a script (fuzz/script.h).  What the image
 * held before the open is unknown and not judged; what the script writes is
 * checked on every read: a cache may miss, never lie.  At most FUZZ_OPS_MAX
 * bytes (fuzz_ops.options caps fuzzing at 64 KiB).
 */
#include "script.h"

#define FUZZ_OPS_MAX (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_env env;
    size_t n;

    if (size < 5 || size > FUZZ_OPS_MAX)
        return 0;
    n = fuzz_le32(data) & 0x7fffffffu;
    if (n > size - 4)
        n = size - 4;
    if (!fuzz_env_init(&env, &FUZZ_BACKEND))
        return 0;
    if (data[3] & 0x80)
        fuzz_small_caches(&env);
    if (RT_SUCCESS(fuzz_put_image(&env, FUZZ_IMAGE_NAME, data + 4, n))) {
        const uint8_t *rest = data + 4 + n;
        size_t left = size - 4 - n;
        unsigned flags = left > 0 ? fuzz_script_flags(rest[0]) : VD_OPEN_FLAGS_NORMAL;
        if (left > 0) {
            rest++;
            left--;
        }
        fuzz_script_run_ops(&env, flags, rest, left);
    }
    fuzz_env_fini(&env);
    return 0;
}
