/*
 * tests/check.h - the smallest test harness that explains its failures.
 *
 * A test binary is a list of test functions run by CHECK_MAIN.  CHECK(cond)
 * records a failure with file:line and the expression and goes on; REQUIRE
 * stops the current test.  Each test prints one TAP-style line ("ok N - name"
 * or "not ok N - name"), and the binary ends with "N passed, N failed", the
 * line tests/run adds up.  Exit status is 0 exactly when nothing failed.
 * Header-only; every binary includes it once.
 */
#ifndef VDCC_TESTS_CHECK_H
#define VDCC_TESTS_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures_in_test;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            check_failures_in_test++;                                            \
        }                                                                        \
    } while (0)

/* Like CHECK for two integers, printing both values. */
#define CHECK_EQ(a, b)                                                           \
    do {                                                                         \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);          \
        if (check_a_ != check_b_) {                                              \
            fprintf(stderr, "  %s:%d: CHECK_EQ failed: %s == %s (%lld vs %lld)\n", \
                    __FILE__, __LINE__, #a, #b, check_a_, check_b_);             \
            check_failures_in_test++;                                            \
        }                                                                        \
    } while (0)

#define REQUIRE(cond)                                                            \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "  %s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond); \
            check_failures_in_test++;                                            \
            return;                                                              \
        }                                                                        \
    } while (0)

typedef struct check_case {
    const char *name;
    void (*fn)(void);
} check_case;

#define CHECK_CASE(fn) { #fn, fn }

/* Runs the cases named on the command line (all when none), in order. */
static inline int check_run(const check_case *cases, size_t n, int argc, char **argv)
{
    int passed = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        if (argc > 1) {
            int wanted = 0;
            for (int a = 1; a < argc; a++)
                wanted |= strcmp(argv[a], cases[i].name) == 0;
            if (!wanted)
                continue;
        }
        check_failures_in_test = 0;
        cases[i].fn();
        if (check_failures_in_test == 0) {
            passed++;
            printf("ok %d - %s\n", passed + failed, cases[i].name);
        } else {
            failed++;
            printf("not ok %d - %s\n", passed + failed, cases[i].name);
        }
        fflush(stdout);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}

#define CHECK_MAIN(...)                                                          \
    int main(int argc, char **argv)                                              \
    {                                                                            \
        static const check_case cases_[] = { __VA_ARGS__ };                      \
        return check_run(cases_, sizeof cases_ / sizeof cases_[0], argc, argv);  \
    }

#endif /* VDCC_TESTS_CHECK_H */
