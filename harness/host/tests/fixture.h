/*
 * harness/host/tests/fixture.h - run one test body on each storage kind.
 *
 * FOR_EACH_FS(body) defines body_mem and body_posix, test cases that call
 * `static void body(vdc_fs *fs, bool mem)` with a fresh memory fs or a
 * POSIX fs rooted in a new mkdtemp directory under /tmp, and clean up
 * afterwards (the directory and everything in it is removed).  Header-only;
 * every function is static inline so unused ones cost no warning.
 */
#ifndef VDCC_HARNESS_HOST_TESTS_FIXTURE_H
#define VDCC_HARNESS_HOST_TESTS_FIXTURE_H

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/host/fs.h"
#include "tests/check.h"

/* Removes path and, for a directory, everything below it. */
static inline void fixture_rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *dir = opendir(path);
        if (dir != NULL) {
            struct dirent *e;
            while ((e = readdir(dir)) != NULL) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                    continue;
                char child[PATH_MAX];
                int n = snprintf(child, sizeof child, "%s/%s", path, e->d_name);
                if (n > 0 && (size_t)n < sizeof child)
                    fixture_rm_rf(child);
            }
            closedir(dir);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* The directory of the POSIX fs of the running case ("" for memory). */
static char fixture_dir[64];

static inline vdc_fs *fixture_posix_new(void)
{
    snprintf(fixture_dir, sizeof fixture_dir, "/tmp/vdcc-host-test.XXXXXX");
    if (mkdtemp(fixture_dir) == NULL) {
        fprintf(stderr, "  mkdtemp failed\n");
        fixture_dir[0] = '\0';
        return NULL;
    }
    return vdc_fs_posix_new(fixture_dir);
}

static inline void fixture_posix_free(vdc_fs *fs)
{
    vdc_fs_destroy(fs);
    if (fixture_dir[0] != '\0')
        fixture_rm_rf(fixture_dir);
    fixture_dir[0] = '\0';
}

#define FOR_EACH_FS(body)                                                    \
    static void body##_mem(void)                                             \
    {                                                                        \
        vdc_fs *fs = vdc_fs_mem_new(0, 0);                                   \
        REQUIRE(fs != NULL);                                                 \
        body(fs, true);                                                      \
        vdc_fs_destroy(fs);                                                  \
    }                                                                        \
    static void body##_posix(void)                                           \
    {                                                                        \
        vdc_fs *fs = fixture_posix_new();                                    \
        REQUIRE(fs != NULL);                                                 \
        body(fs, false);                                                     \
        fixture_posix_free(fs);                                              \
    }

#define FS_CASES(body) CHECK_CASE(body##_mem), CHECK_CASE(body##_posix)

/* A deterministic byte pattern: byte i of stream `seed`. */
static inline uint8_t pattern_byte(unsigned seed, uint64_t i)
{
    uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull ^ ((uint64_t)seed << 32 | seed);
    x ^= x >> 29;
    return (uint8_t)(x * 0xBF58476D1CE4E5B9ull >> 56) | 1; /* never zero */
}

static inline void pattern_fill(void *buf, size_t cb, unsigned seed, uint64_t start)
{
    uint8_t *p = buf;
    for (size_t i = 0; i < cb; i++)
        p[i] = pattern_byte(seed, start + i);
}

/* A small deterministic PRNG (xorshift64*), so failures reproduce. */
static inline uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

#endif /* VDCC_HARNESS_HOST_TESTS_FIXTURE_H */
