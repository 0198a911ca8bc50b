/*
 * fuzz/fuzz_open.c - fuzz target: any bytes as an image, into pfnOpen.
 *
 * The input is an image file (raw, or the sparse encoding of fuzz.h).  It is
 * opened read-only, then (the file being unchanged) read-write with the
 * smallest node and bitmap caches the backend allows.  When an open
 * succeeds, every getter and Dump are called, then FUZZ_OPEN_READS reads at
 * odd sizes spread over the capacity and beyond (coarse to fine; they stop
 * early after FUZZ_OPEN_FAILS failures in a row), and a flush; then the
 * instance is closed.  The data cannot be judged (the image is hostile),
 * only the shapes: aborts on host misuse (HOST-1), a hit of 0 or more than
 * cb bytes (READ-1), a miss of 0 bytes (READ-2), an asynchronous answer
 * (READ-4), handles left open (OPEN-2, HOST-3), open flags not read back
 * (INFO-2), and a read-only instance that changed the file (OPEN-3).
 * Input: at most FUZZ_OPEN_MAX bytes (fuzz_open.options caps fuzzing at
 * 64 KiB: the sparse encoding describes big images in a few KiB).
 */
#include "fuzz.h"

#define FUZZ_OPEN_MAX        (1u << 20)
#define FUZZ_OPEN_READS_LOG2 6u
#define FUZZ_OPEN_READS      (1u << FUZZ_OPEN_READS_LOG2)
#define FUZZ_OPEN_FAILS      8u
#define FUZZ_OPEN_MAXCB      (64u * 1024u + 3u)

/* Read sizes: odd on purpose, around block and node boundaries. */
static const size_t read_sizes[] = { 1, 511, 513, 4095, 4097, 777, 65537, 1023, 8191, 12345 };

/* i with its FUZZ_OPEN_READS_LOG2 low bits reversed: the order in which the
 * evenly spaced read positions are visited, coarse to fine (the first
 * reads sample the whole span, later ones fill the gaps). */
static unsigned coarse_to_fine(unsigned i)
{
    unsigned r = 0;
    for (unsigned b = 0; b < FUZZ_OPEN_READS_LOG2; b++)
        r |= ((i >> b) & 1u) << (FUZZ_OPEN_READS_LOG2 - 1 - b);
    return r;
}

static void exercise(fuzz_env *env, void *bd, uint8_t *buf, uint64_t salt)
{
    uint64_t span = 0, x = salt | 1;
    unsigned fails = 0;

    if (env->be->pfnGetSize != NULL)
        span = env->be->pfnGetSize(bd);
    /* Cover the capacity, and at least the first MiB (a cache maps disk
     * offsets, which need not lie below its capacity). */
    if (span < ((uint64_t)1 << 20) || span > ((uint64_t)1 << 50))
        span = (uint64_t)1 << 20;
    /* A read that fails (neither hit nor miss: the tree is corrupt on its
     * path) is as good as the next one that fails: after FUZZ_OPEN_FAILS
     * failures in a row, spread over the span, the rest would most likely
     * retrace the same failure, so the reads stop. */
    for (unsigned i = 0; i < FUZZ_OPEN_READS && fails < FUZZ_OPEN_FAILS; i++) {
        unsigned j = coarse_to_fine(i);
        size_t cb = read_sizes[j % (sizeof(read_sizes) / sizeof(read_sizes[0]))];
        uint64_t off;
        /* Evenly spread, then nudged by a value derived from the input so
         * different images read at different places. */
        x = x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
        off = span / FUZZ_OPEN_READS * j + (x >> 33) % 4096;
        if (j % 4 == 0)
            off &= ~(uint64_t)511;
        fuzz_io io = fuzz_read(env, bd, off, buf, cb);
        fails = io.rc == VINF_SUCCESS || io.rc == VERR_VD_BLOCK_FREE ? 0 : fails + 1;
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

/* The read buffer, reused by every input (reads only write into it, and
 * nothing looks at the bytes: the data of a hostile image cannot be
 * judged); allocating it per input cost a sizeable share of the run. */
static uint8_t read_buf[FUZZ_OPEN_MAXCB];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_env env;
    uint64_t salt;
    int64_t before, after;
    bool stamped;

    if (size > FUZZ_OPEN_MAX)
        return 0;
    if (!fuzz_env_init(&env, &FUZZ_BACKEND))
        return 0;
    if (RT_FAILURE(fuzz_put_image(&env, FUZZ_IMAGE_NAME, data, size)))
        goto out_fini;
    salt = size * 31u + (size > 0 ? data[size / 2] : 0);
    /* Read-only first: it must leave the file as it was (OPEN-3), so the
     * read-write open then sees the input unchanged. */
    stamped = fuzz_file_stamp(&env, FUZZ_IMAGE_NAME, &before);
    one_open(&env, VD_OPEN_FLAGS_READONLY, read_buf, salt);
    if (stamped && (!fuzz_file_stamp(&env, FUZZ_IMAGE_NAME, &after) || after != before))
        fuzz_fail(&env, "OPEN-3", "a read-only instance wrote to or resized the file");
    /* Read-write with the smallest node and bitmap caches, so reads across
     * a big tree evict nodes (write-back of what the open changed). */
    fuzz_small_caches(&env);
    one_open(&env, VD_OPEN_FLAGS_NORMAL, read_buf, salt);

out_fini:
    fuzz_env_fini(&env);
    return 0;
}
