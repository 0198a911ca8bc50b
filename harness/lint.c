/*
 * harness/lint.c - static checks of a cache backend's vtable.  The rules and
 * their levels are listed in lint.h; this file applies them in vtable order.
 * No status codes: findings are counted in the report and printed.
 */
#include "lint.h"

#include <stdarg.h>
#include <string.h>

#include "peek.h"

typedef struct lint {
    FILE            *out;
    vdc_lint_report *rep;
    vdc_peek         pk;
} lint;

static void finding(lint *l, bool error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void finding(lint *l, bool error, const char *fmt, ...)
{
    if (error)
        l->rep->errors++;
    else
        l->rep->warnings++;
    if (l->out == NULL)
        return;
    va_list va;
    va_start(va, fmt);
    fputs(error ? "error: " : "warning: ", l->out);
    vfprintf(l->out, fmt, va);
    fputc('\n', l->out);
    va_end(va);
}

/* A string of the vtable: readable, terminated, non-empty, printable. */
static bool check_string(lint *l, const char *what, const char *p, size_t max, char *buf, size_t cb)
{
    bool term;
    if (p == NULL) {
        finding(l, true, "%s is NULL", what);
        return false;
    }
    if (!vdc_peek_string(&l->pk, p, buf, cb < max + 2 ? cb : max + 2, &term)) {
        finding(l, true, "%s points at unreadable memory (%p)", what, (const void *)p);
        return false;
    }
    size_t len = strlen(buf);
    if (!term || len > max) {
        finding(l, true, "%s is longer than %zu characters", what, max);
        return false;
    }
    if (len == 0) {
        finding(l, true, "%s is empty", what);
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c < 0x20 || c > 0x7e) {
            finding(l, true, "%s has a non-printable byte 0x%02x at offset %zu", what, c, i);
            return false;
        }
    }
    return true;
}

static void check_version(lint *l, const VDCACHEBACKEND *be)
{
    if (!VD_VERSION_ARE_COMPATIBLE(VD_CACHEBACKEND_VERSION, be->u32Version))
        finding(l, true,
                "u32Version 0x%08x is not compatible with VD_CACHEBACKEND_VERSION 0x%08x: VD ignores this "
                "backend (VERR_IGNORED)",
                (unsigned)be->u32Version, (unsigned)VD_CACHEBACKEND_VERSION);
    if (be->u32VersionEnd != be->u32Version)
        finding(l, true, "u32VersionEnd 0x%08x differs from u32Version 0x%08x (struct layout mismatch?)",
                (unsigned)be->u32VersionEnd, (unsigned)be->u32Version);
}

static void check_name(lint *l, const VDCACHEBACKEND *be)
{
    char buf[VDC_LINT_NAME_MAX + 2];
    if (check_string(l, "pszBackendName", be->pszBackendName, VDC_LINT_NAME_MAX, buf, sizeof buf)
        && strchr(buf, ' ') != NULL)
        finding(l, false, "pszBackendName '%s' contains a space; users must quote it", buf);
}

static void check_caps(lint *l, const VDCACHEBACKEND *be)
{
    const uint64_t known = 0xfffu;
    uint64_t caps = be->uBackendCaps;
    if (caps & ~known)
        finding(l, false, "uBackendCaps has unknown bits 0x%llx", (unsigned long long)(caps & ~known));
    if (caps & (VD_CAP_DIFF | VD_CAP_CREATE_SPLIT_2G | VD_CAP_TCPNET))
        finding(l, false, "uBackendCaps declares DIFF, CREATE_SPLIT_2G or TCPNET (0x%llx), meaningless for a cache",
                (unsigned long long)(caps & (VD_CAP_DIFF | VD_CAP_CREATE_SPLIT_2G | VD_CAP_TCPNET)));
    if (!(caps & (VD_CAP_CREATE_FIXED | VD_CAP_CREATE_DYNAMIC)))
        finding(l, false, "uBackendCaps declares neither CREATE_FIXED nor CREATE_DYNAMIC");
    if ((caps & VD_CAP_DISCARD) && be->pfnDiscard == NULL)
        finding(l, true, "VD_CAP_DISCARD is declared but pfnDiscard is NULL");
    if (!(caps & VD_CAP_DISCARD) && be->pfnDiscard != NULL)
        finding(l, false, "pfnDiscard is set but VD_CAP_DISCARD is not declared (nobody will call it)");
}

static void check_extensions(lint *l, const VDCACHEBACKEND *be)
{
    if (be->papszFileExtensions == NULL) {
        if (be->uBackendCaps & VD_CAP_FILE)
            finding(l, false, "VD_CAP_FILE is declared but papszFileExtensions is NULL");
        return;
    }
    unsigned i;
    for (i = 0; i <= VDC_LINT_EXT_MAX; i++) {
        const char *p;
        if (!vdc_peek_bytes(&l->pk, &be->papszFileExtensions[i], &p, sizeof p)) {
            finding(l, true, "papszFileExtensions[%u] is unreadable", i);
            return;
        }
        if (p == NULL)
            break;
        char what[48], buf[VDC_LINT_NAME_MAX + 2];
        snprintf(what, sizeof what, "papszFileExtensions[%u]", i);
        if (check_string(l, what, p, VDC_LINT_NAME_MAX, buf, sizeof buf) && buf[0] == '.')
            finding(l, false, "%s '%s' starts with '.'; VD's extensions are given without it", what, buf);
    }
    if (i > VDC_LINT_EXT_MAX)
        finding(l, true, "papszFileExtensions is not NULL-terminated within %u entries", VDC_LINT_EXT_MAX);
    else if (i == 0 && (be->uBackendCaps & VD_CAP_FILE))
        finding(l, false, "VD_CAP_FILE is declared but papszFileExtensions is empty");
}

static void check_config(lint *l, const VDCACHEBACKEND *be)
{
    if (be->paConfigInfo == NULL)
        return;
    unsigned i;
    for (i = 0; i <= VDC_LINT_CFG_MAX; i++) {
        VDCONFIGINFO ci;
        if (!vdc_peek_bytes(&l->pk, &be->paConfigInfo[i], &ci, sizeof ci)) {
            finding(l, true, "paConfigInfo[%u] is unreadable", i);
            return;
        }
        if (ci.pszKey == NULL)
            break;
        char what[48], buf[VDC_LINT_NAME_MAX + 2];
        snprintf(what, sizeof what, "paConfigInfo[%u].pszKey", i);
        check_string(l, what, ci.pszKey, VDC_LINT_NAME_MAX, buf, sizeof buf);
        if (ci.pszDefaultValue != NULL) {
            char dv[1024];
            bool term;
            if (!vdc_peek_string(&l->pk, ci.pszDefaultValue, dv, sizeof dv, &term) || !term)
                finding(l, true, "paConfigInfo[%u].pszDefaultValue is unreadable or unterminated", i);
        }
        if (ci.enmValueType < VDCFGVALUETYPE_INTEGER || ci.enmValueType > VDCFGVALUETYPE_BYTES)
            finding(l, true, "paConfigInfo[%u].enmValueType %d is not INTEGER, STRING or BYTES", i,
                    (int)ci.enmValueType);
        if (ci.uKeyFlags & ~(uint64_t)(VD_CFGKEY_MANDATORY | VD_CFGKEY_EXPERT | VD_CFGKEY_CREATEONLY))
            finding(l, false, "paConfigInfo[%u].uKeyFlags has unknown bits 0x%llx", i,
                    (unsigned long long)ci.uKeyFlags);
    }
    if (i > VDC_LINT_CFG_MAX)
        finding(l, true, "paConfigInfo is not terminated (NULL pszKey) within %u entries", VDC_LINT_CFG_MAX);
}

static void check_callbacks(lint *l, const VDCACHEBACKEND *be)
{
    struct cb {
        const char *name;
        bool        set;
        bool        mandatory;
        const char *why;
    } cbs[] = {
#define CB(f, m, why) { #f, be->f != NULL, m, why }
        CB(pfnProbe, true, "VD probes cache backends"),
        CB(pfnOpen, true, "VDCacheOpen calls it"),
        CB(pfnCreate, true, "VDCreateCache calls it"),
        CB(pfnClose, true, "VD closes every cache"),
        CB(pfnRead, true, "VD reads the cache first"),
        CB(pfnWrite, true, "VD fills the cache after misses"),
        CB(pfnFlush, true, "VD flushes the cache"),
        CB(pfnGetModificationUuid, true, "VDCacheOpen compares it"),
        CB(pfnSetModificationUuid, true, "VD sets it on create and flush"),
        CB(pfnGetVersion, false, "tools query it"),
        CB(pfnGetSize, false, "tools query it"),
        CB(pfnGetFileSize, false, "tools query it"),
        CB(pfnGetImageFlags, false, "tools query it"),
        CB(pfnGetOpenFlags, false, "tools query it"),
        CB(pfnSetOpenFlags, false, "tools call it"),
        CB(pfnGetComment, false, "tools query it"),
        CB(pfnSetComment, false, "tools call it"),
        CB(pfnGetUuid, false, "tools query it"),
        CB(pfnSetUuid, false, "tools call it"),
        CB(pfnDump, false, "VDDumpImages calls it"),
        CB(pfnComposeLocation, false, "documented as required"),
        CB(pfnComposeName, false, "documented as required"),
#undef CB
    };
    for (size_t i = 0; i < sizeof cbs / sizeof cbs[0]; i++)
        if (!cbs[i].set)
            finding(l, cbs[i].mandatory, "%s is NULL (%s)", cbs[i].name, cbs[i].why);
}

void vdc_lint(const VDCACHEBACKEND *be, FILE *out, vdc_lint_report *rep)
{
    lint l = { .out = out, .rep = rep };
    rep->errors = rep->warnings = 0;
    if (be == NULL) {
        finding(&l, true, "the backend pointer is NULL");
        return;
    }
    if (!vdc_peek_open(&l.pk)) {
        finding(&l, true, "cannot check the vtable: no pipe for safe reads");
        return;
    }
    VDCACHEBACKEND copy;
    if (!vdc_peek_bytes(&l.pk, be, &copy, sizeof copy)) {
        finding(&l, true, "the vtable at %p is unreadable", (const void *)be);
        goto out_close_peek;
    }
    check_version(&l, &copy);
    check_name(&l, &copy);
    check_caps(&l, &copy);
    check_extensions(&l, &copy);
    check_config(&l, &copy);
    check_callbacks(&l, &copy);
out_close_peek:
    vdc_peek_close(&l.pk);
}
