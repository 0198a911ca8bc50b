/*
 * fuzz/standalone.c - replays inputs through a fuzz target without a
 * fuzzing engine (the build/asan and build/msan fuzz_* programs).
 *
 * Usage: fuzz_X [-timeout=N] [-OTHER=...] PATH...
 *   Each PATH is a file or a directory; directories are walked recursively
 *   in sorted order (hidden entries, README* and *.md files skipped), so
 *   every run replays the same inputs in the same order.  With no PATH, one
 *   input is read from standard input.  Arguments starting with '-' are
 *   ignored except -timeout=N (seconds per input, default 25, 0 = none), so
 *   libFuzzer-style command lines work.
 *
 * Output (stdout, line-buffered): "RUN  path" before each input and
 * "ok   path (N bytes, T ms)" after it (T: wall time of the run, to find
 * the slow inputs of a corpus); "FAIL path: why" for an input that cannot
 * be read; then "N passed, N failed".  A contract violation aborts and a
 * sanitizer report ends the process, so the input that killed the process
 * is the one named on the last "RUN" line.  A per-input alarm ends a hang
 * with "TIMEOUT path" and exit status 3.
 * Exit status: 0 when every input passed, 1 when any failed, 2 on bad usage.
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define REPLAY_MAX_INPUT ((size_t)64 << 20) /* bigger inputs are not ours */
#define MAX_DEPTH 32

/* libFuzzer calls LLVMFuzzerInitialize when a target defines it. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

typedef struct replay {
    unsigned passed, failed, timeout;
} replay;

/* The input being run, for the alarm handler: a fixed buffer, written only
 * between inputs, read only by the handler. */
static char current[4096];

static void on_alarm(int sig)
{
    static const char msg[] = "TIMEOUT ";
    (void)sig;
    (void)!write(STDOUT_FILENO, msg, sizeof(msg) - 1);
    (void)!write(STDOUT_FILENO, current, strnlen(current, sizeof(current)));
    (void)!write(STDOUT_FILENO, "\n", 1);
    _exit(3);
}

static int read_all(FILE *f, uint8_t **out, size_t *len)
{
    size_t cap = 65536, n = 0;
    uint8_t *buf = malloc(cap);
    if (buf == NULL)
        return ENOMEM;
    for (;;) {
        size_t got;
        if (n == cap) {
            uint8_t *nb;
            if (cap >= REPLAY_MAX_INPUT) {
                free(buf);
                return EFBIG;
            }
            nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                return ENOMEM;
            }
            buf = nb;
            cap *= 2;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        return EIO;
    }
    *out = buf;
    *len = n;
    return 0;
}

static void run_input(replay *rp, const char *name, const uint8_t *data, size_t len)
{
    uint8_t *copy;
    snprintf(current, sizeof(current), "%s", name);
    printf("RUN  %s\n", name);
    /* A copy of exactly len bytes, so a target reading past the end of its
     * input is caught by ASan as it would be under libFuzzer. */
    copy = malloc(len != 0 ? len : 1);
    if (copy == NULL) {
        printf("FAIL %s: out of memory\n", name);
        rp->failed++;
        return;
    }
    memcpy(copy, data, len);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (rp->timeout != 0)
        alarm(rp->timeout);
    LLVMFuzzerTestOneInput(copy, len);
    alarm(0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    free(copy);
    printf("ok   %s (%zu bytes, %.3f ms)\n", name, len,
           (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    rp->passed++;
}

static void run_file(replay *rp, const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data;
    size_t len;
    int err;

    if (f == NULL) {
        printf("FAIL %s: %s\n", path, strerror(errno));
        rp->failed++;
        return;
    }
    err = read_all(f, &data, &len);
    fclose(f);
    if (err != 0) {
        printf("FAIL %s: %s\n", path, strerror(err));
        rp->failed++;
        return;
    }
    run_input(rp, path, data, len);
    free(data);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int skip_entry(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    if (e->d_name[0] == '.' || strncmp(e->d_name, "README", 6) == 0)
        return 0;
    return !(n >= 3 && strcmp(e->d_name + n - 3, ".md") == 0);
}

static void run_path(replay *rp, const char *path, int depth)
{
    struct dirent **list;
    struct stat st;
    int n;

    if (stat(path, &st) != 0) {
        printf("FAIL %s: %s\n", path, strerror(errno));
        rp->failed++;
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        run_file(rp, path);
        return;
    }
    if (depth >= MAX_DEPTH) {
        printf("FAIL %s: directories nested too deep\n", path);
        rp->failed++;
        return;
    }
    n = scandir(path, &list, skip_entry, by_name);
    if (n < 0) {
        printf("FAIL %s: %s\n", path, strerror(errno));
        rp->failed++;
        return;
    }
    for (int i = 0; i < n; i++) {
        char *child;
        if (asprintf(&child, "%s/%s", path, list[i]->d_name) < 0) {
            printf("FAIL %s/%s: out of memory\n", path, list[i]->d_name);
            rp->failed++;
        } else {
            run_path(rp, child, depth + 1);
            free(child);
        }
        free(list[i]);
    }
    free(list);
}

int main(int argc, char **argv)
{
    replay rp = { 0, 0, 25 };
    int npaths = 0;

    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGALRM, on_alarm);
    if (LLVMFuzzerInitialize != NULL)
        LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "-timeout=", 9) == 0) {
            char *end;
            unsigned long t = strtoul(argv[i] + 9, &end, 10);
            if (*end != '\0' || t > 86400) {
                fprintf(stderr, "%s: bad %s\n", argv[0], argv[i]);
                return 2;
            }
            rp.timeout = (unsigned)t;
        } else if (argv[i][0] != '-') {
            npaths++;
        }
    }
    if (npaths == 0) {
        uint8_t *data;
        size_t len;
        int err = read_all(stdin, &data, &len);
        if (err != 0) {
            printf("FAIL <stdin>: %s\n", strerror(err));
            rp.failed++;
        } else {
            run_input(&rp, "<stdin>", data, len);
            free(data);
        }
    }
    for (int i = 1; i < argc; i++)
        if (argv[i][0] != '-')
            run_path(&rp, argv[i], 0);
    printf("%u passed, %u failed\n", rp.passed, rp.failed);
    return rp.failed != 0 ? 1 : 0;
}
