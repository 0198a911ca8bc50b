/*
 * harness/tests/test_lint.c - lint's rules (harness/lint.h) on good
 * vtables, on each kind of defect, and on garbage pointers (which must be
 * findings, never crashes).
 */
#include <stdlib.h>

#include "../../ref/ref.h"
#include "../../tests/check.h"
#include "../lint.h"
#include "backends/tb.h"

/* Lints be; returns the findings text (caller frees) and the counts. */
static char *lint_text(const VDCACHEBACKEND *be, vdc_lint_report *rep)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL)
        return NULL;
    vdc_lint(be, f, rep);
    fclose(f);
    return text;
}

static void test_good_backends(void)
{
    vdc_lint_report rep;
    char *t = lint_text(&vdcc_toy_backend, &rep);
    CHECK_EQ(rep.errors, 0);
    CHECK_EQ(rep.warnings, 0);
    CHECK(t != NULL && t[0] == '\0');
    free(t);
    t = lint_text(&vdcc_ref_backend, &rep);
    CHECK_EQ(rep.errors, 0);
    free(t);
}

/* The brief's example: wrong u32VersionEnd and a missing pfnRead. */
static void test_broken_vtable(void)
{
    VDCACHEBACKEND be = vdcc_toy_backend;
    be.u32VersionEnd = VD_CACHEBACKEND_VERSION + 1;
    be.pfnRead = NULL;
    vdc_lint_report rep;
    char *t = lint_text(&be, &rep);
    REQUIRE(t != NULL);
    CHECK_EQ(rep.errors, 2);
    CHECK(strstr(t, "error: u32VersionEnd 0xff030011 differs from u32Version 0xff030010") != NULL);
    CHECK(strstr(t, "error: pfnRead is NULL") != NULL);
    free(t);
}

static void test_versions(void)
{
    VDCACHEBACKEND be = vdcc_toy_backend;
    vdc_lint_report rep;
    be.u32Version = be.u32VersionEnd = VD_VERSION_MAKE(0xff03, 2, 0);
    char *t = lint_text(&be, &rep);
    CHECK_EQ(rep.errors, 1);
    CHECK(t != NULL && strstr(t, "not compatible with VD_CACHEBACKEND_VERSION") != NULL);
    free(t);
    /* A newer minor than VD knows is refused too; an older one is fine. */
    be.u32Version = be.u32VersionEnd = VD_VERSION_MAKE(0xff03, 1, 1);
    vdc_lint(&be, NULL, &rep);
    CHECK_EQ(rep.errors, 1);
    be.u32Version = be.u32VersionEnd = VD_VERSION_MAKE(0xff02, 1, 0);
    vdc_lint(&be, NULL, &rep);
    CHECK_EQ(rep.errors, 1);
}

static void test_names(void)
{
    VDCACHEBACKEND be = vdcc_toy_backend;
    vdc_lint_report rep;
    const char *bad[] = { NULL, "", "a\tb", "x\x80y",
                          "0123456789012345678901234567890123456789012345678901234567890123456789" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        be.pszBackendName = bad[i];
        vdc_lint(&be, NULL, &rep);
        CHECK_EQ(rep.errors, 1);
    }
    be.pszBackendName = "my cache";
    vdc_lint(&be, NULL, &rep);
    CHECK_EQ(rep.errors, 0);
    CHECK_EQ(rep.warnings, 1);
    be.pszBackendName = (const char *)(uintptr_t)16; /* unmapped */
    char *t = lint_text(&be, &rep);
    CHECK_EQ(rep.errors, 1);
    CHECK(t != NULL && strstr(t, "pszBackendName points at unreadable memory") != NULL);
    free(t);
}

static void test_lists(void)
{
    VDCACHEBACKEND be = vdcc_toy_backend;
    vdc_lint_report rep;
    static const char *const unterminated[20] = { "a", "b", "c", "d", "e", "f", "g", "h", "i", "j",
                                                  "k", "l", "m", "n", "o", "p", "q", "r", "s", "t" };
    be.papszFileExtensions = unterminated;
    char *t = lint_text(&be, &rep);
    CHECK_EQ(rep.errors, 1);
    CHECK(t != NULL && strstr(t, "not NULL-terminated within 16") != NULL);
    free(t);
    static const char *const dotted[] = { ".vci", NULL };
    be.papszFileExtensions = dotted;
    vdc_lint(&be, NULL, &rep);
    CHECK_EQ(rep.errors, 0);
    CHECK_EQ(rep.warnings, 1);
    be.papszFileExtensions = (const char *const *)(uintptr_t)32;
    vdc_lint(&be, NULL, &rep);
    CHECK_EQ(rep.errors, 1);

    be = vdcc_toy_backend;
    static const VDCONFIGINFO cfg_bad[] = { { "Key", NULL, (VDCFGVALUETYPE)7, 0 }, { "Ok", "1", VDCFGVALUETYPE_INTEGER, 0x40 },
                                            { NULL, NULL, 0, 0 } };
    be.paConfigInfo = cfg_bad;
    t = lint_text(&be, &rep);
    CHECK_EQ(rep.errors, 1);
    CHECK_EQ(rep.warnings, 1);
    CHECK(t != NULL && strstr(t, "paConfigInfo[0].enmValueType 7") != NULL);
    free(t);
    static VDCONFIGINFO cfg_long[70];
    for (size_t i = 0; i < 70; i++)
        cfg_long[i] = (VDCONFIGINFO){ "K", NULL, VDCFGVALUETYPE_STRING, 0 };
    be.paConfigInfo = cfg_long;
    vdc_lint(&be, NULL, &rep);
    CHECK_EQ(rep.errors, 1);
}

static void test_callbacks_and_caps(void)
{
    VDCACHEBACKEND be = vdcc_toy_backend;
    vdc_lint_report rep;
    be.pfnDump = NULL;
    be.pfnGetComment = NULL;
    vdc_lint(&be, NULL, &rep);
    CHECK_EQ(rep.errors, 0);
    CHECK_EQ(rep.warnings, 2);

    be = vdcc_toy_backend;
    be.pfnProbe = NULL;
    be.pfnSetModificationUuid = NULL;
    vdc_lint(&be, NULL, &rep);
    CHECK_EQ(rep.errors, 2);

    be = vdcc_toy_backend;
    be.uBackendCaps |= VD_CAP_DISCARD;
    char *t = lint_text(&be, &rep);
    CHECK_EQ(rep.errors, 1);
    CHECK(t != NULL && strstr(t, "VD_CAP_DISCARD is declared but pfnDiscard is NULL") != NULL);
    free(t);

    be = vdcc_toy_backend;
    be.uBackendCaps |= UINT64_C(1) << 40;
    vdc_lint(&be, NULL, &rep);
    CHECK_EQ(rep.errors, 0);
    CHECK_EQ(rep.warnings, 1);
}

static void test_garbage_vtable(void)
{
    vdc_lint_report rep;
    vdc_lint(NULL, NULL, &rep);
    CHECK_EQ(rep.errors, 1);
    char *t = lint_text((const VDCACHEBACKEND *)(uintptr_t)64, &rep);
    CHECK_EQ(rep.errors, 1);
    CHECK(t != NULL && strstr(t, "unreadable") != NULL);
    free(t);
}

CHECK_MAIN(CHECK_CASE(test_good_backends), CHECK_CASE(test_broken_vtable), CHECK_CASE(test_versions),
           CHECK_CASE(test_names), CHECK_CASE(test_lists), CHECK_CASE(test_callbacks_and_caps),
           CHECK_CASE(test_garbage_vtable))
