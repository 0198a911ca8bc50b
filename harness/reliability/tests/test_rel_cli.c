/*
 * harness/reliability/tests/test_rel_cli.c - `vdcc crashtest` and `vdcc
 * faults` as commands (reliability.h): usage errors exit 2, a correct
 * backend exits 0 (generated workloads and a trace), the planted defects
 * of naive.h, loaded as a plugin vtable, exit 1, and a backend that aborts
 * is survived; the options conform's rerun lines use are accepted.  The
 * commands print their reports to stdout (kept in the test log).
 */
#include <unistd.h>

#include "../../../tests/check.h"
#include "../reliability.h"

static char so_path[4200]; /* the naive plugin next to this test's build */

static int run(int (*cmd)(const char *, int, char **), const char *first, ...)
{
    char *argv[64];
    int argc = 0;
    va_list va;
    argv[argc++] = (char *)first;
    va_start(va, first);
    for (const char *a; (a = va_arg(va, const char *)) != NULL && argc < 63;)
        argv[argc++] = (char *)a;
    va_end(va);
    argv[argc] = NULL;
    fflush(stdout);
    int ex = cmd("vdcc", argc, argv);
    fflush(stdout);
    return ex;
}

static const char *naive_spec(const char *sym)
{
    static char spec[4400];
    if (so_path[0] == '\0') {
        char exe[4096];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n <= 0)
            return "missing.so";
        exe[n] = '\0';
        char *slash = strrchr(exe, '/'); /* .../t/test_rel_cli */
        if (slash != NULL)
            *slash = '\0';
        slash = strrchr(exe, '/');
        if (slash != NULL)
            *slash = '\0';
        snprintf(so_path, sizeof so_path, "%s/rel/rel_naive.so", exe);
    }
    snprintf(spec, sizeof spec, "%s:%s", so_path, sym);
    return spec;
}

static void test_usage(void)
{
    CHECK_EQ(run(vdc_cmd_crashtest, "crashtest", "--help", NULL), 0);
    CHECK_EQ(run(vdc_cmd_faults, "faults", "--help", NULL), 0);
    CHECK_EQ(run(vdc_cmd_crashtest, "crashtest", "--bogus", NULL), 2);
    CHECK_EQ(run(vdc_cmd_crashtest, "crashtest", "--ops", "0", NULL), 2);
    CHECK_EQ(run(vdc_cmd_crashtest, "crashtest", "--capacity", "1000", NULL), 2);
    CHECK_EQ(run(vdc_cmd_crashtest, "crashtest", "--first", "9", "--last", "3", NULL), 2);
    CHECK_EQ(run(vdc_cmd_crashtest, "crashtest", "--fault-mode", "io,full", NULL), 2);
    CHECK_EQ(run(vdc_cmd_crashtest, "crashtest", "a.trace", "b.trace", NULL), 2);
    CHECK_EQ(run(vdc_cmd_faults, "faults", "--modes", "io,nope", NULL), 2);
    CHECK_EQ(run(vdc_cmd_faults, "faults", "--kind", "everything", NULL), 2);
    CHECK_EQ(run(vdc_cmd_faults, "faults", "--backend", "no-such-backend", NULL), 2);
    CHECK_EQ(run(vdc_cmd_crashtest, "crashtest", "--backend", "toy", "/no/such/file.trace", NULL), 2);
}

static void test_correct_backend_passes(void)
{
    CHECK_EQ(run(vdc_cmd_crashtest, "crashtest", "--backend", "toy", "--ops", "20", "--capacity", "65536",
                 "--random", "4", "--max-single", "8", NULL), 0);
    CHECK_EQ(run(vdc_cmd_crashtest, "crashtest", "--backend", "ref", "--ops", "12", "--capacity", "32768",
                 "--random", "2", "--max-single", "4", "--no-isolate", NULL), 0);
    CHECK_EQ(run(vdc_cmd_faults, "faults", "--backend", "toy", "--ops", "15", "--stride", "3", NULL), 0);
    CHECK_EQ(run(vdc_cmd_faults, "faults", "--backend", "ref", "--ops", "10", "--kind", "read", "--modes",
                 "io,full-stuck", "--no-isolate", NULL), 0);
    /* conform's rerun lines use these */
    CHECK_EQ(run(vdc_cmd_crashtest, "crashtest", "--backend", "ref", "--ops", "8", "--capacity", "32768",
                 "--max-points", "3", "--max-states-per-point", "4", "--allow-open-failure", "--no-deep-check",
                 "--no-isolate", NULL), 0);
    CHECK_EQ(run(vdc_cmd_faults, "faults", "--backend", "ref", "--ops", "8", "--max-points", "2", "--modes",
                 "io,full-stuck", "--no-deep-check", "--no-isolate", NULL), 0);
}

static void test_trace_workload(void)
{
    char path[] = "/tmp/vdcc-rel-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    static const char trace[] =
        "vdcc-trace 1\n"
        "name rel-cli\n"
        "create c0 file=t.cache size=64K -> OK\n"
        "vdwrite c0 off=0 len=16K data=pattern:7 -> OK\n"
        "flush c0 -> OK\n"
        "vdwrite c0 off=8K len=16K data=pattern:8 -> OK\n"
        "vdread c0 off=0 len=32K -> hit|miss\n"
        "close c0 -> OK\n"
        "open c0 flags=READONLY -> OK\n"
        "write c0 off=0 len=4K data=pattern:9 -> VERR_VD_IMAGE_READ_ONLY\n"
        "close c0 -> OK\n";
    REQUIRE(write(fd, trace, sizeof trace - 1) == (ssize_t)(sizeof trace - 1));
    close(fd);
    CHECK_EQ(run(vdc_cmd_crashtest, "crashtest", "--backend", "ref", "--no-isolate", path, NULL), 0);
    CHECK_EQ(run(vdc_cmd_faults, "faults", "--backend", "toy", "--no-isolate", path, NULL), 0);
    unlink(path);
}

static void test_defects_fail(void)
{
    CHECK_EQ(run(vdc_cmd_crashtest, "crashtest", "--backend", naive_spec("rel_naive_backend"), "--ops", "6",
                 "--capacity", "32768", "--random", "1", "--max-single", "4", "--max-tears", "2", "--verbose", "2",
                 NULL), 1);
    CHECK_EQ(run(vdc_cmd_faults, "faults", "--backend", naive_spec("rel_sloppy_backend"), "--ops", "15",
                 "--capacity", "32768", "--kind", "read", "--verbose", "2", NULL), 1);
    /* aborts in some crash states: counted, survived, exit 1 */
    CHECK_EQ(run(vdc_cmd_crashtest, "crashtest", "--backend", naive_spec("rel_crashy_backend"), "--ops", "8",
                 "--capacity", "32768", "--random", "1", "--max-single", "4", "--max-tears", "2", "--verbose", "2",
                 NULL), 1);
}

CHECK_MAIN(CHECK_CASE(test_usage), CHECK_CASE(test_correct_backend_passes), CHECK_CASE(test_trace_workload),
           CHECK_CASE(test_defects_fail))
