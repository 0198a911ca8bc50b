/*
 * harness/tests/test_report.c - TAP 14 and 13 lines and YAML blocks, the
 * clauses of quality warnings, XML escaping and the JUnit file
 * (harness/report.h).
 */
#include <stdlib.h>
#include <unistd.h>

#include "../../tests/check.h"
#include "../report.h"

static unsigned tap_version = 14;

static char *tap_of(unsigned num, const char *name, const vdc_run_result *r, const char *rerun)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL)
        return NULL;
    vdc_report_item it = { name, r, rerun };
    vdc_tap t = { f, tap_version };
    vdc_tap_item(&t, num, &it);
    fclose(f);
    return text;
}

static char *xml_of(const char *s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL)
        return NULL;
    vdc_xml_escape(f, s);
    fclose(f);
    return text;
}

static void test_tap_pass_skip(void)
{
    vdc_run_result r = { .verdict = VDC_V_PASS };
    char *t = tap_of(3, "a/b#c.trace", &r, NULL);
    CHECK(t != NULL && strcmp(t, "ok 3 - a/b\\#c.trace\n") == 0);
    free(t);
    r.verdict = VDC_V_SKIP;
    snprintf(r.message, sizeof r.message, "backend does not declare VD_CAP_DISCARD");
    t = tap_of(4, "d.trace", &r, NULL);
    CHECK(t != NULL && strcmp(t, "ok 4 - d.trace # SKIP backend does not declare VD_CAP_DISCARD\n") == 0);
    free(t);
    /* A pass with quality warnings carries a YAML block. */
    r = (vdc_run_result){ .verdict = VDC_V_PASS, .warnings = 2 };
    t = tap_of(5, "w.trace", &r, "x");
    CHECK(t != NULL && strstr(t, "ok 5 - w.trace\n  ---\n  outcome: PASS\n  warnings: 2\n") == t);
    CHECK(t != NULL && strstr(t, "rerun") == NULL);
    free(t);
}

static void test_tap_failure_yaml(void)
{
    vdc_run_result r = { .verdict = VDC_V_CRASH, .signal = 11, .call = 7, .line = 12, .seconds = 0.5 };
    snprintf(r.record, sizeof r.record, "read c0 off=0 len=4K -> \"hit\"");
    snprintf(r.message, sizeof r.message, "SIGSEGV during call 7\nsecond line\n");
    snprintf(r.sanitizer, sizeof r.sanitizer, "==1==ERROR: AddressSanitizer: SEGV\n    #0 x\tin f");
    char *t = tap_of(1, "c.trace", &r, "build/vdcc replay --backend x c.trace");
    REQUIRE(t != NULL);
    CHECK(strstr(t, "not ok 1 - c.trace\n  ---\n  outcome: CRASH\n  signal: SIGSEGV\n  call: 7\n  line: 12\n") == t);
    CHECK(strstr(t, "  record: \"read c0 off=0 len=4K -> \\\"hit\\\"\"\n") != NULL);
    CHECK(strstr(t, "  message: |-\n    SIGSEGV during call 7\n    second line\n  rerun:") != NULL);
    CHECK(strstr(t, "  rerun: \"build/vdcc replay --backend x c.trace\"\n") != NULL);
    CHECK(strstr(t, "  sanitizer: |-\n    ==1==ERROR: AddressSanitizer: SEGV\n        #0 x\tin f\n") != NULL);
    size_t len = strlen(t);
    CHECK(len > 6 && strcmp(t + len - 6, "  ...\n") == 0);
    free(t);
    /* Control bytes never reach the YAML raw. */
    r = (vdc_run_result){ .verdict = VDC_V_FAIL };
    snprintf(r.message, sizeof r.message, "bad\x01" "byte");
    t = tap_of(2, "f.trace", &r, NULL);
    CHECK(t != NULL && strstr(t, "  message: \"bad\\x01byte\"\n") != NULL);
    free(t);
}

static void test_xml_escape(void)
{
    char *t = xml_of("a&b<c>d\"e'f\ng\th");
    CHECK(t != NULL && strcmp(t, "a&amp;b&lt;c&gt;d&quot;e&apos;f&#10;g&#9;h") == 0);
    free(t);
    t = xml_of("x\x01y\x7fz");
    CHECK(t != NULL && strcmp(t, "x?y?z") == 0);
    free(t);
    t = xml_of("caf\xc3\xa9 \xe2\x82\xac"); /* valid UTF-8 stays */
    CHECK(t != NULL && strcmp(t, "caf\xc3\xa9 \xe2\x82\xac") == 0);
    free(t);
    t = xml_of("\xff\xc3(\xed\xa0\x80\xc0\xaf"); /* invalid: stray, truncated, surrogate, overlong */
    CHECK(t != NULL && strcmp(t, "?" "?(" "?????") == 0);
    free(t);
}

static void test_junit_file(void)
{
    char path[] = "/tmp/vdcc-test-junit-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    vdc_run_result r[4] = {
        { .verdict = VDC_V_PASS, .seconds = 0.25 },
        { .verdict = VDC_V_FAIL, .call = 3, .line = 9 },
        { .verdict = VDC_V_ERROR },
        { .verdict = VDC_V_SKIP },
    };
    snprintf(r[1].message, sizeof r[1].message, "expected <miss> & got \"hit\"");
    snprintf(r[2].message, sizeof r[2].message, "t.trace:1: bad");
    snprintf(r[3].message, sizeof r[3].message, "no caps");
    vdc_report_item items[4] = {
        { "p.trace", &r[0], NULL }, { "f&1.trace", &r[1], "vdcc replay f" }, { "e.trace", &r[2], NULL },
        { "s.trace", &r[3], NULL },
    };
    CHECK_EQ(vdc_junit_write(path, "vdcc conform <x>", NULL, 0, items, 4), 0);
    FILE *f = fopen(path, "r");
    REQUIRE(f != NULL);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    unlink(path);
    CHECK(strncmp(buf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"vdcc conform &lt;x&gt;\"", 80) == 0);
    CHECK(strstr(buf, "tests=\"4\" failures=\"1\" errors=\"1\" skipped=\"1\"") != NULL);
    CHECK(strstr(buf, "<testcase classname=\"vdcc.conform\" name=\"p.trace\" time=\"0.250\"/>") != NULL);
    CHECK(strstr(buf, "name=\"f&amp;1.trace\"") != NULL);
    CHECK(strstr(buf, "<failure type=\"FAIL\" message=\"expected &lt;miss&gt; &amp; got &quot;hit&quot;\">") != NULL);
    CHECK(strstr(buf, "<error type=\"ERROR\" message=\"t.trace:1: bad\">") != NULL);
    CHECK(strstr(buf, "<skipped message=\"no caps\"/>") != NULL);
    CHECK(strstr(buf, "</testsuite>\n</testsuites>\n") != NULL);
    CHECK_EQ(vdc_junit_write("/nonexistent-dir/x.xml", "s", NULL, 0, items, 4), -1);
}

/* TAP 13: no "|-" anywhere, every value one quoted line, the counts a
 * comment. */
static void test_tap13(void)
{
    vdc_run_result r = { .verdict = VDC_V_FAIL, .call = 2, .line = 5 };
    snprintf(r.message, sizeof r.message, "first\nsecond \"q\"\n");
    tap_version = 13;
    char *t = tap_of(1, "x.trace", &r, "vdcc replay x");
    tap_version = 14;
    REQUIRE(t != NULL);
    CHECK(strstr(t, "|") == NULL);
    CHECK(strstr(t, "  message: \"first\\nsecond \\\"q\\\"\\n\"\n") != NULL);
    free(t);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    REQUIRE(f != NULL);
    vdc_tap tap13 = { f, 13 }, tap14 = { f, 14 };
    vdc_tap_begin(&tap13, 3);
    vdc_tap_summary(&tap13, 1, 2, 0, 0);
    vdc_tap_summary(&tap14, 1, 2, 3, 0);
    fclose(f);
    CHECK(text != NULL && strcmp(text, "TAP version 13\n1..3\n# 1 passed, 2 failed\n1 passed, 2 failed, 3 skipped\n") == 0);
    free(text);
}

static void test_warning_clauses(void)
{
    char buf[64];
    vdc_warning_clauses("warning: READ-7: call 3 (line 4): should: hit\n"
                        "not a warning: WRITE-1\n"
                        "warning: crash sweep: FLUSH-2: lost\n"
                        "warning: READ-1,READ-7: again; X-1 and AB-12x and ABC-\n", buf, sizeof buf);
    CHECK(strcmp(buf, "READ-7, FLUSH-2, READ-1") == 0);
    vdc_warning_clauses("nothing here", buf, sizeof buf);
    CHECK(strcmp(buf, "") == 0);
    vdc_warning_clauses("warning: READ-7 FLUSH-2", buf, 10); /* no room for both */
    CHECK(strcmp(buf, "READ-7") == 0);
}

/* Quality warnings reach JUnit's system-out with their clauses; the
 * suite's properties are written. */
static void test_junit_warnings(void)
{
    char path[] = "/tmp/vdcc-test-junit-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    vdc_run_result r = { .verdict = VDC_V_PASS, .warnings = 2 };
    snprintf(r.message, sizeof r.message, "warning: READ-7: call 1 (line 2): should: hit <x>");
    vdc_report_item it = { "w.trace", &r, NULL };
    vdc_report_prop props[] = { { "backend.name", "a&b" } };
    CHECK_EQ(vdc_junit_write(path, "s", props, 1, &it, 1), 0);
    FILE *f = fopen(path, "r");
    REQUIRE(f != NULL);
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    unlink(path);
    CHECK(strstr(buf, "    <properties>\n      <property name=\"backend.name\" value=\"a&amp;b\"/>\n    </properties>\n") != NULL);
    CHECK(strstr(buf, "<testcase classname=\"vdcc.conform\" name=\"w.trace\" time=\"0.000\">\n"
                      "      <system-out>quality warnings: 2 (clauses: READ-7)&#10;warning: READ-7: call 1 (line 2): "
                      "should: hit &lt;x&gt;</system-out>\n    </testcase>") != NULL);
    CHECK(strstr(buf, "failures=\"0\" errors=\"0\"") != NULL);
}

CHECK_MAIN(CHECK_CASE(test_tap13), CHECK_CASE(test_warning_clauses), CHECK_CASE(test_junit_warnings),
           CHECK_CASE(test_tap_pass_skip), CHECK_CASE(test_tap_failure_yaml), CHECK_CASE(test_xml_escape),
           CHECK_CASE(test_junit_file))
