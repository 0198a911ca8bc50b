/*
 * harness/trace/replay_meta.c - image lifecycle, getters, setters, dump,
 * compose, and the host-side records.
 *
 * Contract: replay_int.h (rp_do_*: RP_GO or RP_STOP with the verdict set).
 * Semantics: spec/trace-format.md sections 4.1, 4.3, 4.4, 6.3, 6.4, 7.3 and
 * 7.4.  Interface lists: probe gets vdc_host_probe_ifs as its image list,
 * open/create vdc_host_image_ifs, create also vdc_host_op_ifs, compose the
 * disk list; every call's host misuse is checked by rp_after_call.
 */
#include "replay_int.h"

#include <stdlib.h>
#include <string.h>

#include "../host/uuid.h"

/* Whether the backend declares configuration key `key` (paConfigInfo ends
 * with a NULL pszKey; a backend without the list declares none). */
static bool config_declared(const VDCACHEBACKEND *be, const char *key)
{
    if (be == NULL || be->paConfigInfo == NULL)
        return false;
    for (unsigned i = 0; i < 1024 && be->paConfigInfo[i].pszKey != NULL; i++)
        if (strcmp(be->paConfigInfo[i].pszKey, key) == 0)
            return true;
    return false;
}

/* An `interfaces` record's mode is passed to the host as it is. */
_Static_assert(VDC_IFS_FULL == (int)VDC_HOST_IFS_FULL && VDC_IFS_BARE == (int)VDC_HOST_IFS_BARE
                   && VDC_IFS_NOMESSAGE == (int)VDC_HOST_IFS_NOMESSAGE
                   && VDC_IFS_NOPREALLOC == (int)VDC_HOST_IFS_NOPREALLOC,
               "trace.h's interfaces modes are host.h's");

static const char *path_or_fail(rp *p, const char *f)
{
    const char *path = rp_path(p, f);
    if (path == NULL)
        rp_error(p, "the path of %s in the scratch directory is too long", f);
    return path;
}

int rp_do_probe(rp *p)
{
    const char *path = path_or_fail(p, p->rec->file);
    if (path == NULL)
        return RP_STOP;
    rp_before_call(p);
    int rc = p->be->pfnProbe(path, vdc_host_disk_ifs(p->host), vdc_host_probe_ifs(p->host));
    if (rp_after_call(p, "pfnProbe") == RP_STOP)
        return RP_STOP;
    return rp_check_status(p, rc, 0, 0, false);
}

/* Common tail of open and create: bd, handle state, expectations. */
static int opened(rp *p, rp_handle *h, int rc, void *bd, const char *fn)
{
    h->last_call = p->cur + 1;
    h->last_rc = rc;
    h->file = p->rec->file;
    if (RT_SUCCESS(rc)) {
        if (bd == NULL)
            return rp_fail(p, "%s succeeded but returned a NULL backend data pointer", fn);
        h->bd = bd;
        h->open = true;
    }
    return rp_check_status(p, rc, 0, 0, false);
}

int rp_do_open(rp *p)
{
    const vdc_record *r = p->rec;
    rp_handle *h = rp_handle_of(p, r->handle);
    const char *path;
    void *bd = NULL;

    if (h == NULL)
        return rp_error(p, "too many handles");
    if (h->open)
        return rp_error(p, "handle %s is already open", h->name);
    if ((path = path_or_fail(p, r->file)) == NULL)
        return RP_STOP;
    rp_before_call(p);
    int rc = p->be->pfnOpen(path, r->open_flags, vdc_host_disk_ifs(p->host), vdc_host_image_ifs(p->host), &bd);
    if (rp_after_call(p, "pfnOpen") == RP_STOP) {
        if (RT_SUCCESS(rc) && bd != NULL) {
            h->bd = bd;
            h->open = true; /* closed by the final cleanup */
        }
        return RP_STOP;
    }
    return opened(p, h, rc, bd, "pfnOpen");
}

/* The UUID an argument stands for (section 7.4); *pu NULL for `null`. */
static int uuid_arg(rp *p, const vdc_uuid_ref *u, RTUUID *buf, const RTUUID **pu)
{
    *pu = buf;
    switch (u->kind) {
    case VDC_UUID_LIT:
        *buf = u->lit;
        return RP_GO;
    case VDC_UUID_NIL:
        memset(buf, 0, sizeof *buf);
        return RP_GO;
    case VDC_UUID_NULLPTR:
        *pu = NULL;
        return RP_GO;
    case VDC_UUID_VAR: {
        rp_var *v = rp_var_of(p, u->var);
        if (v == NULL)
            return rp_error(p, "too many UUID variables");
        if (!v->bound) {
            rp_fresh_uuid(p, &v->v);
            v->bound = true;
        }
        *buf = v->v;
        return RP_GO;
    }
    default:
        return rp_error(p, "no UUID given");
    }
}

int rp_do_create(rp *p)
{
    const vdc_record *r = p->rec;
    rp_handle *h = rp_handle_of(p, r->handle);
    const char *path;
    RTUUID ubuf;
    const RTUUID *pu;
    void *bd = NULL;

    if (h == NULL)
        return rp_error(p, "too many handles");
    if (h->open)
        return rp_error(p, "handle %s is already open", h->name);
    if ((path = path_or_fail(p, r->file)) == NULL || uuid_arg(p, &r->uuid, &ubuf, &pu) == RP_STOP)
        return RP_STOP;
    rp_before_call(p);
    int rc = p->be->pfnCreate(path, r->size, r->image_flags, r->str.null ? NULL : r->str.s, pu, r->open_flags,
                              r->pct_start, r->pct_span, vdc_host_disk_ifs(p->host), vdc_host_image_ifs(p->host),
                              vdc_host_op_ifs(p->host), &bd);
    if (rp_after_call(p, "pfnCreate") == RP_STOP) {
        if (RT_SUCCESS(rc) && bd != NULL) {
            h->bd = bd;
            h->open = true;
        }
        return RP_STOP;
    }
    if (rc == VERR_VD_INVALID_SIZE && r->expect.n > 0 && !rp_alts_match(&r->expect, rc, 0, 0)) {
        if (r->size >= VDC_CAPACITY_ANY_MIN && r->size <= VDC_CAPACITY_ANY_MAX
            && r->size % VDC_CAPACITY_ANY_UNIT == 0)
            return rp_fail(p, "CREATE-1: pfnCreate refused a capacity of %llu bytes with VERR_VD_INVALID_SIZE, but "
                              "every multiple of 64 KiB from 1 MiB to 1 GiB must be taken (a declared limit lies "
                              "outside that)", (unsigned long long)r->size);
        return rp_skip(p, "pfnCreate refused a capacity of %llu bytes with VERR_VD_INVALID_SIZE: a limit the backend "
                          "declares (spec/contract.md CREATE-1), so this trace's clauses are skipped for it",
                       (unsigned long long)r->size);
    }
    rp_note_limit(p, h, rc);
    return opened(p, h, rc, bd, "pfnCreate");
}

/* Does file f exist in the storage?  Returns RP_STOP on an unusable answer. */
static int file_exists(rp *p, const char *f, bool *exists, uint64_t *size)
{
    const char *path = path_or_fail(p, f);
    vdc_file *fh = NULL;
    char s[64];

    if (path == NULL)
        return RP_STOP;
    *size = 0;
    int rc = p->fs->ops->open(p->fs, path, RTFILE_O_READ | RTFILE_O_OPEN | RTFILE_O_DENY_NONE, &fh);
    if (RT_SUCCESS(rc)) {
        *exists = true;
        if (p->fs->ops->get_size(fh, size) != VINF_SUCCESS)
            *size = UINT64_MAX;
        p->fs->ops->close(fh);
        return RP_GO;
    }
    if (rc == VERR_SHARING_VIOLATION) {
        *exists = true;
        *size = UINT64_MAX; /* unknown */
        return RP_GO;
    }
    if (rc == VERR_FILE_NOT_FOUND || rc == VERR_PATH_NOT_FOUND) {
        *exists = false;
        return RP_GO;
    }
    return rp_error(p, "cannot tell whether %s exists: opening it returned %s", f, rp_st(rc, s, sizeof s));
}

int rp_do_close(rp *p)
{
    const vdc_record *r = p->rec;
    rp_handle *h;
    const char *file;

    if (rp_need_open(p, &h) == RP_STOP)
        return RP_STOP;
    file = h->file;
    h->open = false; /* VD forgets the handle whatever close returns */
    rp_before_call(p);
    int rc = p->be->pfnClose(h->bd, r->del);
    h->bd = NULL;
    if (rp_after_call(p, "pfnClose") == RP_STOP)
        return RP_STOP;
    if (rp_check_status(p, rc, 0, 0, false) == RP_STOP)
        return RP_STOP;
    if (r->del && RT_SUCCESS(rc) && file != NULL) {
        bool exists;
        uint64_t size;
        if (file_exists(p, file, &exists, &size) == RP_STOP)
            return RP_STOP;
        if (exists)
            return rp_fail(p, "pfnClose with fDelete=true succeeded, but %s still exists", file);
    }
    return RP_GO;
}

int rp_do_getter(rp *p)
{
    const vdc_record *r = p->rec;
    rp_handle *h;
    uint64_t v = 0;
    const char *fn = "";
    char a[64];

    if (rp_need_open(p, &h) == RP_STOP)
        return RP_STOP;
    rp_before_call(p);
    switch (r->op) {
    case VDC_OP_GET_VERSION: fn = "pfnGetVersion"; v = p->be->pfnGetVersion(h->bd); break;
    case VDC_OP_GET_SIZE: fn = "pfnGetSize"; v = p->be->pfnGetSize(h->bd); break;
    case VDC_OP_GET_FILE_SIZE: fn = "pfnGetFileSize"; v = p->be->pfnGetFileSize(h->bd); break;
    case VDC_OP_GET_IMAGE_FLAGS: fn = "pfnGetImageFlags"; v = p->be->pfnGetImageFlags(h->bd); break;
    case VDC_OP_GET_OPEN_FLAGS: fn = "pfnGetOpenFlags"; v = p->be->pfnGetOpenFlags(h->bd); break;
    default: return rp_error(p, "not a getter");
    }
    if (rp_after_call(p, fn) == RP_STOP)
        return RP_STOP;
    if (!rp_num_match(&r->value, v)) {
        if (r->op == VDC_OP_GET_IMAGE_FLAGS || r->op == VDC_OP_GET_OPEN_FLAGS)
            return rp_expect(p, "expected: %s returns 0x%llx\nactual:   0x%llx", fn, (unsigned long long)r->value.v,
                             (unsigned long long)v);
        return rp_expect(p, "expected: %s returns %s\nactual:   %llu", fn, rp_num_text(&r->value, a, sizeof a),
                         (unsigned long long)v);
    }
    return RP_GO;
}

int rp_do_set_open_flags(rp *p)
{
    rp_handle *h;
    if (rp_need_open(p, &h) == RP_STOP)
        return RP_STOP;
    rp_before_call(p);
    int rc = p->be->pfnSetOpenFlags(h->bd, p->rec->open_flags);
    if (rp_after_call(p, "pfnSetOpenFlags") == RP_STOP)
        return RP_STOP;
    return rp_check_status(p, rc, 0, 0, false);
}

#define COMMENT_GUARD 64

int rp_do_comment(rp *p)
{
    const vdc_record *r = p->rec;
    rp_handle *h;
    int rc;

    if (rp_need_open(p, &h) == RP_STOP)
        return RP_STOP;
    if (r->op == VDC_OP_SET_COMMENT) {
        rp_before_call(p);
        rc = p->be->pfnSetComment(h->bd, r->str.null ? NULL : r->str.s);
        if (rp_after_call(p, "pfnSetComment") == RP_STOP)
            return RP_STOP;
        return rp_check_status(p, rc, 0, 0, false);
    }
    size_t cb = (size_t)r->buf;
    if (rp_buf(p, cb + COMMENT_GUARD) == RP_STOP)
        return RP_STOP;
    memset(p->buf, RP_POISON, cb + COMMENT_GUARD);
    rp_before_call(p);
    rc = p->be->pfnGetComment(h->bd, (char *)p->buf, cb);
    if (rp_after_call(p, "pfnGetComment") == RP_STOP)
        return RP_STOP;
    for (size_t i = cb; i < cb + COMMENT_GUARD; i++)
        if (p->buf[i] != RP_POISON)
            return rp_fail(p, "pfnGetComment wrote past the %zu-byte buffer it was given (byte %zu changed)", cb, i);
    if (rp_check_status(p, rc, 0, 0, false) == RP_STOP || RT_FAILURE(rc))
        return p->stopped ? RP_STOP : RP_GO;
    const char *nul = memchr(p->buf, '\0', cb);
    if (nul == NULL)
        return rp_fail(p, "pfnGetComment returned %d but left no NUL terminator within its %zu-byte buffer", rc, cb);
    if (r->out_str.given && strcmp((const char *)p->buf, r->out_str.s) != 0)
        return rp_expect(p, "expected comment: \"%.200s\"\nactual:   \"%.200s\"", r->out_str.s, (const char *)p->buf);
    return RP_GO;
}

int rp_do_uuid(rp *p)
{
    const vdc_record *r = p->rec;
    rp_handle *h;
    RTUUID u, ubuf;
    const RTUUID *pu;
    int rc;
    bool mod = r->op == VDC_OP_GET_MOD_UUID || r->op == VDC_OP_SET_MOD_UUID;
    char a[VDC_UUID_STR_LEN + 1], b[VDC_UUID_STR_LEN + 1];

    if (rp_need_open(p, &h) == RP_STOP)
        return RP_STOP;
    if (r->op == VDC_OP_SET_UUID || r->op == VDC_OP_SET_MOD_UUID) {
        if (uuid_arg(p, &r->uuid, &ubuf, &pu) == RP_STOP)
            return RP_STOP;
        rp_before_call(p);
        rc = mod ? p->be->pfnSetModificationUuid(h->bd, pu) : p->be->pfnSetUuid(h->bd, pu);
        if (rp_after_call(p, mod ? "pfnSetModificationUuid" : "pfnSetUuid") == RP_STOP)
            return RP_STOP;
        return rp_check_status(p, rc, 0, 0, false);
    }
    memset(&u, RP_POISON, sizeof u);
    rp_before_call(p);
    rc = mod ? p->be->pfnGetModificationUuid(h->bd, &u) : p->be->pfnGetUuid(h->bd, &u);
    if (rp_after_call(p, mod ? "pfnGetModificationUuid" : "pfnGetUuid") == RP_STOP)
        return RP_STOP;
    if (rp_check_status(p, rc, 0, 0, false) == RP_STOP)
        return RP_STOP;
    if (RT_FAILURE(rc))
        return RP_GO;
    const RTUUID *want = NULL;
    RTUUID zero;
    memset(&zero, 0, sizeof zero);
    switch (r->out_uuid.kind) {
    case VDC_UUID_LIT:
        want = &r->out_uuid.lit;
        break;
    case VDC_UUID_NIL:
        want = &zero;
        break;
    case VDC_UUID_VAR: {
        rp_var *v = rp_var_of(p, r->out_uuid.var);
        if (v == NULL)
            return rp_error(p, "too many UUID variables");
        if (!v->bound) {
            v->v = u;
            v->bound = true;
            return RP_GO;
        }
        want = &v->v;
        break;
    }
    default:
        return RP_GO;
    }
    if (memcmp(want->au8, u.au8, 16) != 0) {
        vdc_uuid_format(want, a);
        vdc_uuid_format(&u, b);
        return rp_expect(p, "expected UUID %s%s%s\nactual:        %s", a, r->out_uuid.kind == VDC_UUID_VAR ? " ($" : "",
                         r->out_uuid.kind == VDC_UUID_VAR ? r->out_uuid.var : "", b);
    }
    return RP_GO;
}

int rp_do_dump(rp *p)
{
    rp_handle *h;
    if (rp_need_open(p, &h) == RP_STOP)
        return RP_STOP;
    uint64_t before = vdc_host_get_stats(p->host)->messages;
    rp_before_call(p);
    p->be->pfnDump(h->bd);
    if (rp_after_call(p, "pfnDump") == RP_STOP)
        return RP_STOP;
    if (!p->rec->printed_any && vdc_host_get_stats(p->host)->messages == before)
        return rp_expect(p, "pfnDump printed nothing through the ERROR interface's pfnMessage (printed=yes)");
    return RP_GO;
}

int rp_do_compose(rp *p)
{
    const vdc_record *r = p->rec;
    char *s = NULL;
    bool loc = r->op == VDC_OP_COMPOSE_LOCATION;

    rp_before_call(p);
    int rc = loc ? p->be->pfnComposeLocation(vdc_host_disk_ifs(p->host), &s)
                 : p->be->pfnComposeName(vdc_host_disk_ifs(p->host), &s);
    int after = rp_after_call(p, loc ? "pfnComposeLocation" : "pfnComposeName");
    int verdict = RP_GO;
    if (after == RP_STOP)
        verdict = RP_STOP;
    else if (rp_check_status(p, rc, 0, 0, false) == RP_STOP)
        verdict = RP_STOP;
    else if (RT_SUCCESS(rc) && r->out_str.given) {
        if (r->out_str.null && s != NULL)
            verdict = rp_expect(p, "expected string: null\nactual:   \"%.200s\"", s);
        else if (!r->out_str.null && (s == NULL || strcmp(s, r->out_str.s) != 0))
            verdict = rp_expect(p, "expected string: \"%.200s\"\nactual:   %s%.200s%s", r->out_str.s, s ? "\"" : "",
                                s ? s : "null", s ? "\"" : "");
    }
    free(s); /* RTStrFree is free() in vdcc's world */
    return verdict;
}

/* ---- host-side records ---------------------------------------------------- */

static int make_file(rp *p)
{
    const vdc_record *r = p->rec;
    const char *path = path_or_fail(p, r->file);
    vdc_file *fh = NULL;
    char s[64];
    int rc;

    if (path == NULL)
        return RP_STOP;
    rc = p->fs->ops->open(p->fs, path, RTFILE_O_READWRITE | RTFILE_O_CREATE_REPLACE | RTFILE_O_DENY_NONE, &fh);
    if (RT_FAILURE(rc))
        return rp_error(p, "cannot create %s: %s", r->file, rp_st(rc, s, sizeof s));
    rc = p->fs->ops->set_size(fh, 0);
    size_t chunk = r->len < (1u << 20) ? (size_t)r->len : (1u << 20);
    if (RT_SUCCESS(rc) && chunk > 0 && rp_buf(p, chunk) == RP_STOP) {
        p->fs->ops->close(fh);
        return RP_STOP;
    }
    for (uint64_t done = 0; RT_SUCCESS(rc) && done < r->len;) {
        size_t n = r->len - done < chunk ? (size_t)(r->len - done) : chunk;
        vdc_data_fill(&r->data, done, p->buf, n);
        rc = p->fs->ops->write(fh, done, p->buf, n);
        done += n;
    }
    int rc2 = p->fs->ops->close(fh);
    if (RT_FAILURE(rc) || RT_FAILURE(rc2))
        return rp_error(p, "cannot write %s: %s", r->file, rp_st(RT_FAILURE(rc) ? rc : rc2, s, sizeof s));
    return RP_GO;
}

int rp_do_host(rp *p)
{
    const vdc_record *r = p->rec;
    bool exists;
    uint64_t size;
    char a[64];

    switch (r->op) {
    case VDC_OP_FILE:
        return make_file(p);
    case VDC_OP_EXISTS:
        if (file_exists(p, r->file, &exists, &size) == RP_STOP)
            return RP_STOP;
        if (!exists)
            return rp_fail(p, "%s does not exist", r->file);
        if (r->value.cmp != VDC_CMP_NONE && size == UINT64_MAX)
            return rp_error(p, "cannot read the size of %s (another handle denies reading)", r->file);
        if (!rp_num_match(&r->value, size))
            return rp_expect(p, "expected: %s has a size %s\nactual:   %llu bytes", r->file,
                             rp_num_text(&r->value, a, sizeof a), (unsigned long long)size);
        return RP_GO;
    case VDC_OP_GONE:
        if (file_exists(p, r->file, &exists, &size) == RP_STOP)
            return RP_STOP;
        if (exists)
            return rp_fail(p, "%s still exists", r->file);
        return RP_GO;
    case VDC_OP_CONFIG:
        /* Like VirtualBox's Main, which offers a backend only the
         * properties its paConfigInfo declares, the harness passes only
         * declared keys: a trace may tune one backend's caches without
         * making another refuse an unknown key (trace-format 7.3). */
        if (!config_declared(p->be, r->key))
            return RP_GO;
        if (vdc_host_config_set(p->host, r->key, r->str.s) != VINF_SUCCESS)
            return rp_oom(p);
        return RP_GO;
    case VDC_OP_INTERFACES:
        vdc_host_set_ifs(p->host, (vdc_host_ifs_mode)vdc_interfaces_mode(r->key, strlen(r->key)));
        return RP_GO;
    default:
        return rp_error(p, "not a host-side record");
    }
}
