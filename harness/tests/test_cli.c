/*
 * harness/tests/test_cli.c - option scanning, strict numbers and sizes,
 * output checks and shell quoting (harness/cli.h).  Error messages go to stderr; the checks look at
 * return values only.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../tests/check.h"
#include "../cli.h"

static void test_parse_uint(void)
{
    uint64_t v = 7;
    CHECK(vdc_parse_uint("t", "n", "10", 0, 100, &v) && v == 10);
    CHECK(vdc_parse_uint("t", "n", "0", 0, 100, &v) && v == 0);
    CHECK(vdc_parse_uint("t", "n", "18446744073709551615", 0, UINT64_MAX, &v) && v == UINT64_MAX);
    v = 7;
    CHECK(!vdc_parse_uint("t", "n", "18446744073709551616", 0, UINT64_MAX, &v));
    CHECK(!vdc_parse_uint("t", "n", "99999999999999999999999", 0, UINT64_MAX, &v));
    CHECK(!vdc_parse_uint("t", "n", "", 0, 100, &v));
    CHECK(!vdc_parse_uint("t", "n", "-1", 0, 100, &v));
    CHECK(!vdc_parse_uint("t", "n", "+1", 0, 100, &v));
    CHECK(!vdc_parse_uint("t", "n", " 1", 0, 100, &v));
    CHECK(!vdc_parse_uint("t", "n", "1 ", 0, 100, &v));
    CHECK(!vdc_parse_uint("t", "n", "1x", 0, 100, &v));
    CHECK(!vdc_parse_uint("t", "n", "0x10", 0, 100, &v));
    CHECK(!vdc_parse_uint("t", "n", "101", 0, 100, &v));
    CHECK(!vdc_parse_uint("t", "n", "0", 1, 100, &v));
    CHECK(!vdc_parse_uint("t", "n", NULL, 0, 100, &v));
    CHECK_EQ(v, 7); /* untouched by every failure */
}

static void test_parse_seconds(void)
{
    uint64_t ms = 0;
    CHECK(vdc_parse_seconds("t", "s", "10", 1, 100000, &ms) && ms == 10000);
    CHECK(vdc_parse_seconds("t", "s", "2.5", 1, 100000, &ms) && ms == 2500);
    CHECK(vdc_parse_seconds("t", "s", "0.25", 1, 100000, &ms) && ms == 250);
    CHECK(vdc_parse_seconds("t", "s", "0.001", 1, 100000, &ms) && ms == 1);
    CHECK(!vdc_parse_seconds("t", "s", "0", 1, 100000, &ms));
    CHECK(!vdc_parse_seconds("t", "s", "1.2345", 1, 100000, &ms));
    CHECK(!vdc_parse_seconds("t", "s", "1.", 1, 100000, &ms));
    CHECK(!vdc_parse_seconds("t", "s", ".5", 1, 100000, &ms));
    CHECK(!vdc_parse_seconds("t", "s", "-1", 1, 100000, &ms));
    CHECK(!vdc_parse_seconds("t", "s", "1s", 1, 100000, &ms));
    CHECK(!vdc_parse_seconds("t", "s", "101", 1, 100000, &ms));
    CHECK(!vdc_parse_seconds("t", "s", "18446744073709551615", 1, UINT64_MAX, &ms));
    CHECK(!vdc_parse_seconds("t", "s", "", 1, 100000, &ms));
}

enum { O_A = 1, O_B, O_F, O_H };
static const vdc_opt opts[] = {
    { O_A, "alpha", 'a', true }, { O_B, "beta", 0, true }, { O_F, "flag", 'f', false }, { O_H, "help", 'h', false },
    { 0 },
};

/* Scans argv and writes "id:value " per item into out. */
static int scan(int argc, char **argv, char *out, size_t cb)
{
    vdc_optstate st;
    const char *val;
    int id;
    size_t n = 0;
    out[0] = '\0';
    vdc_opt_init(&st, "t", argc, argv);
    while ((id = vdc_opt_next(&st, opts, &val)) != VDC_OPT_END) {
        if (id == VDC_OPT_ERROR)
            return -1;
        n += (size_t)snprintf(out + n, cb - n, "%d:%s ", id, val != NULL ? val : "-");
    }
    return 0;
}

static void test_options(void)
{
    char out[256];
    char *a1[] = { "cmd", "--alpha=1", "x", "--beta", "2", "-f", "-a", "3", "-a4", "--", "--flag", "-", NULL };
    CHECK(scan(12, a1, out, sizeof out) == 0);
    CHECK(strcmp(out, "1:1 0:x 2:2 3:- 1:3 1:4 0:--flag 0:- ") == 0);
    char *a2[] = { "cmd", "--nope", NULL };
    CHECK(scan(2, a2, out, sizeof out) == -1);
    char *a3[] = { "cmd", "--alpha", NULL };
    CHECK(scan(2, a3, out, sizeof out) == -1); /* missing value */
    char *a4[] = { "cmd", "--flag=1", NULL };
    CHECK(scan(2, a4, out, sizeof out) == -1); /* a flag takes no value */
    char *a5[] = { "cmd", "-z", NULL };
    CHECK(scan(2, a5, out, sizeof out) == -1);
    char *a6[] = { "cmd", "-fx", NULL };
    CHECK(scan(2, a6, out, sizeof out) == -1);
    char *a7[] = { "cmd", "--alph", "1", NULL };
    CHECK(scan(3, a7, out, sizeof out) == -1); /* no abbreviations */
    char *a8[] = { "cmd", "--alpha=", NULL };
    CHECK(scan(2, a8, out, sizeof out) == 0 && strcmp(out, "1: ") == 0);
}

static void test_shell_quote(void)
{
    char buf[64];
    vdc_shell_quote("build/vdcc", buf, sizeof buf);
    CHECK(strcmp(buf, "build/vdcc") == 0);
    vdc_shell_quote("a b", buf, sizeof buf);
    CHECK(strcmp(buf, "'a b'") == 0);
    vdc_shell_quote("it's", buf, sizeof buf);
    CHECK(strcmp(buf, "'it'\\''s'") == 0);
    vdc_shell_quote("", buf, sizeof buf);
    CHECK(strcmp(buf, "''") == 0);
    vdc_shell_quote("$(rm -rf /)", buf, sizeof buf);
    CHECK(strcmp(buf, "'$(rm -rf /)'") == 0);
    char tiny[4];
    vdc_shell_quote("a b c d", tiny, sizeof tiny);
    CHECK(strlen(tiny) < sizeof tiny);
}

static void test_parse_size(void)
{
    uint64_t v = 7;
    const uint64_t T1 = (uint64_t)1 << 40;
    CHECK(vdc_parse_size("t", "--c", "512", 512, T1, &v) && v == 512);
    CHECK(vdc_parse_size("t", "--c", "64K", 512, T1, &v) && v == 65536);
    CHECK(vdc_parse_size("t", "--c", "64k", 512, T1, &v) && v == 65536);
    CHECK(vdc_parse_size("t", "--c", "8G", 512, T1, &v) && v == (uint64_t)8 << 30);
    CHECK(vdc_parse_size("t", "--c", "3M", 512, T1, &v) && v == (uint64_t)3 << 20);
    CHECK(vdc_parse_size("t", "--c", "1T", 512, T1, &v) && v == T1);
    CHECK(vdc_parse_size("t", "--c", "2MiB", 512, T1, &v) && v == (uint64_t)2 << 20);
    CHECK(vdc_parse_size("t", "--c", "2MB", 512, T1, &v) && v == (uint64_t)2 << 20);
    v = 7;
    CHECK(!vdc_parse_size("t", "--c", "2T", 512, T1, &v));        /* above max */
    CHECK(!vdc_parse_size("t", "--c", "100", 512, T1, &v));       /* below min */
    CHECK(!vdc_parse_size("t", "--c", "8Q", 512, T1, &v));
    CHECK(!vdc_parse_size("t", "--c", "1.5G", 512, T1, &v));
    CHECK(!vdc_parse_size("t", "--c", "G", 512, T1, &v));
    CHECK(!vdc_parse_size("t", "--c", "", 512, T1, &v));
    CHECK(!vdc_parse_size("t", "--c", "-1K", 512, T1, &v));
    CHECK(!vdc_parse_size("t", "--c", "1KK", 512, T1, &v));
    CHECK(!vdc_parse_size("t", "--c", "512B", 512, T1, &v));      /* B only after a suffix */
    CHECK(!vdc_parse_size("t", "--c", "16777216T", 0, UINT64_MAX, &v)); /* 2^64: overflow */
    CHECK(!vdc_parse_size("t", "--c", NULL, 0, T1, &v));
    CHECK_EQ(v, 7);
    CHECK(vdc_parse_size("t", "--c", "16777215T", 0, UINT64_MAX, &v) && v == (uint64_t)16777215 << 40);
}

static void test_check_output(void)
{
    char dir[] = "/tmp/vdcc-test-cli-XXXXXX";
    REQUIRE(mkdtemp(dir) != NULL);
    char file[128], sub[128], nodir[160];
    snprintf(file, sizeof file, "%s/j.xml", dir);
    snprintf(sub, sizeof sub, "%s/rep", dir);
    snprintf(nodir, sizeof nodir, "%s/none/j.xml", dir);
    CHECK(vdc_check_output("t", "--x", NULL, false));
    CHECK(vdc_check_output("t", "--junit", file, false));
    CHECK_EQ(access(file, W_OK), 0);                     /* created, empty */
    CHECK(!vdc_check_output("t", "--junit", nodir, false));
    CHECK(!vdc_check_output("t", "--junit", dir, false));  /* a directory is no file */
    CHECK(!vdc_check_output("t", "--junit", "", false));
    CHECK(vdc_check_output("t", "--report", sub, true));   /* made when missing */
    CHECK(vdc_check_output("t", "--report", sub, true));   /* and fine when there */
    CHECK(!vdc_check_output("t", "--report", file, true)); /* a file is no directory */
    rmdir(sub);
    unlink(file);
    rmdir(dir);
}

CHECK_MAIN(CHECK_CASE(test_parse_uint), CHECK_CASE(test_parse_size), CHECK_CASE(test_check_output), CHECK_CASE(test_parse_seconds), CHECK_CASE(test_options),
           CHECK_CASE(test_shell_quote))
