/*
 * fuzz/fuzz_model.c - fuzz target: a script of operations on a fresh cache,
 * checked against a model of every byte.
 *
 * Input: byte 0 = kind (bit 0 fixed, bits 1-3 capacity class, bit 4 create
 * with VD_OPEN_FLAGS_IGNORE_FLUSH, bit 5 HONOR_ZEROES, bit 6 the smallest
 * node and bitmap caches: fuzz_small_caches); byte 1 = capacity
 * step; the rest is a script (fuzz/script.h).  The capacity is small
 * (cap_kib below: 10 KiB to 2 MiB), so scripts fill it and eviction
 * runs.  Since the cache starts empty, every byte's truth is known: a hit on
 * anything not written (or discarded since) is a lie, a hit on written data
 * must be its last write.  Failures a healthy memory-backed cache has no
 * excuse for abort too (fuzz/script.c).  At most FUZZ_MODEL_MAX bytes.
 */
#include "script.h"

#define FUZZ_MODEL_MAX 8192u

/* Capacity classes in KiB, plus 4 KiB per step. */
static const uint32_t cap_kib[8] = { 10, 16, 32, 64, 128, 256, 512, 1024 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_env env;
    uint64_t cb;
    unsigned image_flags, open_flags;

    if (size < 2 || size > FUZZ_MODEL_MAX)
        return 0;
    cb = ((uint64_t)cap_kib[(data[0] >> 1) & 7] + 4u * (uint64_t)data[1]) * 1024;
    image_flags = (data[0] & 1) ? VD_IMAGE_FLAGS_FIXED : VD_IMAGE_FLAGS_NONE;
    open_flags = ((data[0] & 0x10) ? VD_OPEN_FLAGS_IGNORE_FLUSH : 0)
               | ((data[0] & 0x20) ? VD_OPEN_FLAGS_HONOR_ZEROES : 0);
    if (!fuzz_env_init(&env, &FUZZ_BACKEND))
        return 0;
    if (data[0] & 0x40)
        fuzz_small_caches(&env);
    fuzz_script_run_model(&env, cb, image_flags, open_flags, data + 2, size - 2);
    fuzz_env_fini(&env);
    return 0;
}
