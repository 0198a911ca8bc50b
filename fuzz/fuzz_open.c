/*
 * fuzz/fuzz_open.c - fuzz target: any bytes as an image, into pfnOpen.
 *
 * The input is an image file (raw, or the sparse encoding of fuzz.h).  It is
 * opened read-only, then (the file being unchanged) read-write with the
 * smallest node and bitmap caches the backend allows.  When an open
 * succeeds, every getter and Dump are called, then FUZZ_OPEN_READS reads at
 * odd sizes spread over the capacity and beyond, and a flush; then the
 * instance is closed.  The data cannot be judged (the image is hostile),
 * only the shapes: aborts on host misuse (HOST-1), a hit of 0 or more than
 * cb bytes (READ-1), a miss of 0 bytes (READ-2), an asynchronous answer
 * (READ-4), handles left open (OPEN-2, HOST-3), open flags not read back
 * (INFO-2), and a read-only instance that changed the file (OPEN-3).
 * Input: at most FUZZ_OPEN_MAX bytes (fuzz_open.options).
 */
#include "fuzz.h"

#include <stdlib.h>

#define FUZZ_OPEN_MAX    (2u << 20)
#define FUZZ_OPEN_READS  64u
#define FUZZ_OPEN_MAXCB  (64u * 1024u + 3u)

/* Read sizes: odd on purpose, around block and node boundaries. */
static const size_t read_sizes[] = { 1, 511, 513, 4095, 4097, 777, 65537, 1023, 8191, 12345 };

static void exercise(fuzz_env *env, void *bd, uint8_t *buf, uint64_t salt)
{
    uint64_t span = 0, x = salt | 1;

    if (env->be->pfnGetSize != NULL)
        span = env->be->pfnGetSize(bd);
    /* Cover the capacity, and at least the first MiB (a cache maps disk
     * offsets, which need not lie below its capacity). */
    if (span < ((uint64_t)1 << 20) || span > ((uint64_t)1 << 50))
        span = (uint64_t)1 << 20;
    for (unsigned i = 0; i < FUZZ_OPEN_READS; i++) {
        size_t cb = read_sizes[i % (sizeof(read_sizes) / sizeof(read_sizes[0]))];
        uint64_t off;
        /* Evenly spread, then nudged by a value derived from the input so
         * different images read at different places. */
        x = x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
        off = span / FUZZ_OPEN_READS * i + (x >> 33) % 4096;
        if (i % 4 == 0)
            off &= ~(uint64_t)511;
        (void)fuzz_read(env, bd, off, buf, cb);
    }
}

/* Opens the image with flags, exercises the instance and closes it. */
static void one_open(fuzz_env *env, unsigned flags, uint8_t *buf, uint64_t salt)
{
    void *bd = NULL;
    int rc;

    rc = env->be->pfnOpen(FUZZ_IMAGE_NAME, flags, vdc_host_disk_ifs(env->host), vdc_host_image_ifs(env->host),
                          &bd);
    if (RT_FAILURE(rc)) {
        fuzz_check_no_storage(env, "failed open");
        fuzz_check_misuse(env, "failed open");
        return;
    }
    if (bd == NULL)
        fuzz_fail(env, "OPEN-1", "open succeeded without an instance");
    fuzz_call_getters(env, bd, flags, true);
    exercise(env, bd, buf, salt);
    {
        struct VDIOCTX ctx;
        RTSGSEG seg;
        vdc_ioctx_init_buf(&ctx, &seg, buf, 0);
        (void)env->be->pfnFlush(bd, &ctx);
    }
    (void)env->be->pfnClose(bd, false);
    fuzz_check_no_storage(env, "close");
    fuzz_check_misuse(env, "open/read/close");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_env env;
    uint8_t *buf;
    uint64_t salt;
    int64_t before, after;
    bool stamped;

    if (size > FUZZ_OPEN_MAX)
        return 0;
    buf = malloc(FUZZ_OPEN_MAXCB);
    if (buf == NULL)
        return 0;
    if (!fuzz_env_init(&env, &FUZZ_BACKEND))
        goto out_free_buf;
    if (RT_FAILURE(fuzz_put_image(&env, FUZZ_IMAGE_NAME, data, size)))
        goto out_fini;
    salt = size * 31u + (size > 0 ? data[size / 2] : 0);
    /* Read-only first: it must leave the file as it was (OPEN-3), so the
     * read-write open then sees the input unchanged. */
    stamped = fuzz_file_stamp(&env, FUZZ_IMAGE_NAME, &before);
    one_open(&env, VD_OPEN_FLAGS_READONLY, buf, salt);
    if (stamped && (!fuzz_file_stamp(&env, FUZZ_IMAGE_NAME, &after) || after != before))
        fuzz_fail(&env, "OPEN-3", "a read-only instance wrote to or resized the file");
    /* Read-write with the smallest node and bitmap caches, so reads across
     * a big tree evict nodes (write-back of what the open changed). */
    fuzz_small_caches(&env);
    one_open(&env, VD_OPEN_FLAGS_NORMAL, buf, salt);

out_fini:
    fuzz_env_fini(&env);
out_free_buf:
    free(buf);
    return 0;
}
