/*
 * harness/trace/replay.c - the replay driver.
 *
 * Contract: replay.h (vdc_replay, vdc_outcome_name); the semantics are
 * spec/trace-format.md section 7.  This file sets up the storage and the
 * host (7.1), checks required capabilities (7.9), runs the records in order
 * publishing progress (7.2; a streamed trace is read record by record as it
 * runs, 8.1, and a record it cannot read ends the replay with ERROR), keeps handles and UUID variables (7.4), checks
 * host misuse around every backend call (6.4), and closes what the trace
 * left open before the final checks (7.9).  vdc_replay returns
 * VINF_SUCCESS, VERR_INVALID_PARAMETER, VERR_NO_MEMORY or
 * VERR_PATH_NOT_FOUND as replay.h lists.
 */
#include "replay_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

const char *vdc_outcome_name(vdc_outcome o)
{
    switch (o) {
    case VDC_PASS: return "PASS";
    case VDC_FAIL: return "FAIL";
    case VDC_SKIP: return "SKIP";
    case VDC_ERROR: return "ERROR";
    }
    return "?";
}

/* ---- handles, variables, paths, buffers -------------------------------- */

rp_handle *rp_handle_of(rp *p, const char *name)
{
    for (unsigned i = 0; i < p->nh; i++)
        if (p->h[i].name == name || strcmp(p->h[i].name, name) == 0)
            return &p->h[i];
    if (p->nh >= VDC_TRACE_MAX_HANDLES)
        return NULL;
    rp_handle *h = &p->h[p->nh++];
    memset(h, 0, sizeof *h);
    h->name = name;
    return h;
}

rp_var *rp_var_of(rp *p, const char *name)
{
    for (unsigned i = 0; i < p->nvars; i++)
        if (p->vars[i].name == name || strcmp(p->vars[i].name, name) == 0)
            return &p->vars[i];
    if (p->nvars >= VDC_TRACE_MAX_VARS)
        return NULL;
    rp_var *v = &p->vars[p->nvars++];
    memset(v, 0, sizeof *v);
    v->name = name;
    return v;
}

void rp_fresh_uuid(rp *p, RTUUID *out)
{
    uint64_t k = p->uuid_counter++;
    uint64_t w0 = vdc_pattern_word(0x55554944u, 2 * k), w1 = vdc_pattern_word(0x55554944u, 2 * k + 1);
    for (unsigned i = 0; i < 8; i++) {
        out->au8[i] = (uint8_t)(w0 >> (8 * i));
        out->au8[8 + i] = (uint8_t)(w1 >> (8 * i));
    }
    out->au8[6] = (uint8_t)((out->au8[6] & 0x0f) | 0x40);
    out->au8[8] = (uint8_t)((out->au8[8] & 0x3f) | 0x80);
}

const char *rp_path(rp *p, const char *f)
{
    int n;
    if (p->scratch == NULL)
        n = snprintf(p->path, sizeof p->path, "%s", f);
    else
        n = snprintf(p->path, sizeof p->path, "%s/%s", p->scratch, f);
    if (n < 0 || (size_t)n >= sizeof p->path)
        return NULL;
    return p->path;
}

int rp_buf(rp *p, size_t cb)
{
    if (cb <= p->cbbuf)
        return RP_GO;
    uint8_t *nb = realloc(p->buf, cb);
    if (nb == NULL)
        return rp_oom(p);
    p->buf = nb;
    p->cbbuf = cb;
    return RP_GO;
}

void rp_before_call(rp *p)
{
    const char *log = vdc_host_log(p->host);
    p->misuse_before = vdc_host_get_stats(p->host)->misuse;
    p->log_before = log != NULL ? strlen(log) : 0;
    vdc_host_set_tag(p->host, p->cur + 1); /* a storage it leaks names this call */
}

/* "call N (line L: RECORD, clause C)" for each distinct call that opened
 * a storage still open, up to three. */
static void leak_calls(rp *p, char *buf, size_t cb)
{
    unsigned tags[64], seen[3], nseen = 0;
    unsigned n = vdc_host_open_tags(p->host, tags, 64);
    size_t o = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < n && i < 64; i++) {
        bool dup = false;
        for (unsigned k = 0; k < nseen; k++)
            dup |= seen[k] == tags[i];
        if (dup)
            continue;
        if (nseen == 3) {
            snprintf(buf + o, cb - o, "; ...");
            return;
        }
        seen[nseen++] = tags[i];
        unsigned ci = tags[i] - 1;
        const vdc_record *rec = tags[i] != 0 && ci < vdc_trace_ncalls(p->t) ? vdc_trace_record(p->t, ci) : NULL;
        if (rec == NULL) {
            o += (size_t)snprintf(buf + o, cb - o, "%sopened outside the trace's calls", nseen > 1 ? "; " : "");
        } else {
            o += (size_t)snprintf(buf + o, cb - o, "%sopened by call %u (line %u: %s), clause %s", nseen > 1 ? "; " : "",
                                  tags[i], rec->line, vdc_trace_record_text(p->t, ci),
                                  rec->nclauses > 0 ? rec->clauses[0] : "HOST-3");
            for (unsigned k = 1; k < rec->nclauses && o < cb; k++)
                o += (size_t)snprintf(buf + o, cb - o, ",%s", rec->clauses[k]);
        }
        if (o >= cb)
            return;
    }
}

int rp_after_call(rp *p, const char *what)
{
    const vdc_host_stats *st = vdc_host_get_stats(p->host);
    char lines[900];
    size_t o = 0;

    if (st->misuse == p->misuse_before)
        return RP_GO;
    lines[0] = '\0';
    const char *log = vdc_host_log(p->host);
    size_t loglen = log != NULL ? strlen(log) : 0;
    const char *s = log != NULL && p->log_before <= loglen ? log + p->log_before : "";
    while (*s != '\0' && o + 2 < sizeof lines) {
        const char *nl = strchr(s, '\n');
        size_t n = nl != NULL ? (size_t)(nl - s) : strlen(s);
        if (n >= 8 && memcmp(s, "misuse: ", 8) == 0) {
            int k = snprintf(lines + o, sizeof lines - o, "    %.*s\n", (int)(n > 200 ? 200 : n), s);
            if (k < 0 || (size_t)k >= sizeof lines - o)
                break;
            o += (size_t)k;
        }
        s += n + (nl != NULL ? 1 : 0);
    }
    return rp_fail(p, "the backend misused the host during %s (%llu misuse%s):\n%s", what,
                   (unsigned long long)(st->misuse - p->misuse_before), st->misuse - p->misuse_before == 1 ? "" : "s",
                   o > 0 ? lines : "    (not described: the host describes only the first few)\n");
}

static bool is_limited_file(const rp *p, const char *f)
{
    for (unsigned i = 0; f != NULL && i < p->nlimited; i++)
        if (strcmp(p->limited[i], f) == 0)
            return true;
    return false;
}

void rp_note_limit(rp *p, rp_handle *h, int rc)
{
    const char *f = p->rec->file;
    h->limited = rc == VERR_VD_INVALID_SIZE;
    for (unsigned i = 0; f != NULL && i < p->nlimited; i++)
        if (strcmp(p->limited[i], f) == 0)
            p->limited[i] = p->limited[--p->nlimited];
    if (h->limited && f != NULL && p->nlimited < VDC_TRACE_MAX_FILES)
        p->limited[p->nlimited++] = f;
}

/*
 * A record that depends on a create the backend refused for a declared
 * capacity limit (spec/contract.md CREATE-1: a skip, not a failure): one on
 * that handle, or an open, probe or exists of that file.  Such records are
 * skipped (the first is noted) and replay goes on; a new create runs.
 */
static bool limited_record(rp *p)
{
    const vdc_record *r = p->rec;
    if (r->op == VDC_OP_CREATE || r->op == VDC_OP_FILE)
        return false;
    bool dep = (r->op == VDC_OP_OPEN || r->op == VDC_OP_PROBE || r->op == VDC_OP_EXISTS) && is_limited_file(p, r->file);
    for (unsigned i = 0; !dep && r->handle != NULL && i < p->nh; i++)
        dep = strcmp(p->h[i].name, r->handle) == 0 && p->h[i].limited && !p->h[i].open;
    if (dep && p->nlimited_skips++ == 0)
        rp_note(p, "call %u (line %u) and the calls after it that need what a create refused as a declared capacity "
                "limit (VERR_VD_INVALID_SIZE) are skipped", p->cur + 1, r->line);
    return dep;
}

int rp_need_open(rp *p, rp_handle **out)
{
    rp_handle *h = rp_handle_of(p, p->rec->handle);
    char sb[64];
    if (h == NULL)
        return rp_error(p, "too many handles");
    if (!h->open) {
        if (h->last_call != 0)
            return rp_error(p, "handle %s is not open: its create/open at call %u returned %s (allowed by the trace)",
                            h->name, h->last_call, rp_st(h->last_rc, sb, sizeof sb));
        return rp_error(p, "handle %s is not open", h->name);
    }
    *out = h;
    return RP_GO;
}

/* ---- matching ------------------------------------------------------------ */

bool rp_alts_match(const vdc_alts *a, int rc, uint64_t count, uint64_t left)
{
    for (unsigned i = 0; i < a->n; i++) {
        const vdc_alt *x = &a->v[i];
        switch (x->kind) {
        case VDC_ALT_STATUS:
            if (rc == x->status)
                return true;
            break;
        case VDC_ALT_SUCCESS:
            if (RT_SUCCESS(rc))
                return true;
            break;
        case VDC_ALT_FAILURE:
            if (RT_FAILURE(rc))
                return true;
            break;
        case VDC_ALT_ANY:
            return true;
        case VDC_ALT_HIT:
            if (rc == VINF_SUCCESS)
                return true;
            break;
        case VDC_ALT_MISS:
            if (rc == VERR_VD_BLOCK_FREE && count >= (x->min < left ? x->min : left))
                return true;
            break;
        }
    }
    return false;
}

bool rp_num_match(const vdc_num *n, uint64_t v)
{
    switch (n->cmp) {
    case VDC_CMP_NONE: return true;
    case VDC_CMP_EQ: return v == n->v;
    case VDC_CMP_GE: return v >= n->v;
    case VDC_CMP_LE: return v <= n->v;
    }
    return false;
}

const char *rp_num_text(const vdc_num *n, char *buf, size_t cb)
{
    snprintf(buf, cb, "%s %llu", n->cmp == VDC_CMP_EQ ? "=" : n->cmp == VDC_CMP_GE ? ">=" : "<=",
             (unsigned long long)n->v);
    return buf;
}

int rp_check_status(rp *p, int rc, uint64_t count, uint64_t left, bool count_known)
{
    const vdc_record *r = p->rec;
    char a[160], s[64];

    if (r->expect.n > 0 && !rp_alts_match(&r->expect, rc, count, left)) {
        if (rc == VERR_VD_BLOCK_FREE && count_known)
            return rp_expect(p, "expected: %s\nactual:   %s, a miss of %llu bytes",
                             rp_alts_text(&r->expect, a, sizeof a), rp_st(rc, s, sizeof s), (unsigned long long)count);
        return rp_expect(p, "expected: %s\nactual:   %s", rp_alts_text(&r->expect, a, sizeof a),
                         rp_st(rc, s, sizeof s));
    }
    if (p->o->strict && r->seen_given) {
        if (rc != r->seen_status) {
            char s2[64];
            return rp_fail(p, "strict: the recording saw %s\nactual:   %s", rp_st(r->seen_status, s2, sizeof s2),
                           rp_st(rc, s, sizeof s));
        }
        if (r->seen_count_given && count_known && count != r->seen_count)
            return rp_fail(p, "strict: the recording saw %llu bytes, actual %llu", (unsigned long long)r->seen_count,
                           (unsigned long long)count);
    }
    if (r->should.n > 0 && !rp_alts_match(&r->should, rc, count, left))
        return rp_should(p, "should: %s, actual %s", rp_alts_text(&r->should, a, sizeof a), rp_st(rc, s, sizeof s));
    return RP_GO;
}

/* ---- the driver ---------------------------------------------------------- */

static bool mandatory(vdc_op op)
{
    switch (op) {
    case VDC_OP_PROBE: case VDC_OP_OPEN: case VDC_OP_CREATE: case VDC_OP_CLOSE:
    case VDC_OP_READ: case VDC_OP_WRITE: case VDC_OP_VDREAD: case VDC_OP_VDWRITE: case VDC_OP_FLUSH:
    case VDC_OP_GET_MOD_UUID: case VDC_OP_SET_MOD_UUID:
        return true;
    default:
        return false;
    }
}

/* The callback a record needs, as a name and whether it is set. */
static bool callback_of(const VDCACHEBACKEND *be, vdc_op op, const char **name)
{
    switch (op) {
    case VDC_OP_PROBE: *name = "pfnProbe"; return be->pfnProbe != NULL;
    case VDC_OP_OPEN: *name = "pfnOpen"; return be->pfnOpen != NULL;
    case VDC_OP_CREATE: *name = "pfnCreate"; return be->pfnCreate != NULL;
    case VDC_OP_CLOSE: *name = "pfnClose"; return be->pfnClose != NULL;
    case VDC_OP_READ: case VDC_OP_VDREAD: *name = "pfnRead"; return be->pfnRead != NULL;
    case VDC_OP_WRITE: case VDC_OP_VDWRITE: *name = "pfnWrite"; return be->pfnWrite != NULL;
    case VDC_OP_FLUSH: *name = "pfnFlush"; return be->pfnFlush != NULL;
    case VDC_OP_DISCARD: *name = "pfnDiscard"; return be->pfnDiscard != NULL;
    case VDC_OP_GET_VERSION: *name = "pfnGetVersion"; return be->pfnGetVersion != NULL;
    case VDC_OP_GET_SIZE: *name = "pfnGetSize"; return be->pfnGetSize != NULL;
    case VDC_OP_GET_FILE_SIZE: *name = "pfnGetFileSize"; return be->pfnGetFileSize != NULL;
    case VDC_OP_GET_IMAGE_FLAGS: *name = "pfnGetImageFlags"; return be->pfnGetImageFlags != NULL;
    case VDC_OP_GET_OPEN_FLAGS: *name = "pfnGetOpenFlags"; return be->pfnGetOpenFlags != NULL;
    case VDC_OP_SET_OPEN_FLAGS: *name = "pfnSetOpenFlags"; return be->pfnSetOpenFlags != NULL;
    case VDC_OP_GET_COMMENT: *name = "pfnGetComment"; return be->pfnGetComment != NULL;
    case VDC_OP_SET_COMMENT: *name = "pfnSetComment"; return be->pfnSetComment != NULL;
    case VDC_OP_GET_UUID: *name = "pfnGetUuid"; return be->pfnGetUuid != NULL;
    case VDC_OP_SET_UUID: *name = "pfnSetUuid"; return be->pfnSetUuid != NULL;
    case VDC_OP_GET_MOD_UUID: *name = "pfnGetModificationUuid"; return be->pfnGetModificationUuid != NULL;
    case VDC_OP_SET_MOD_UUID: *name = "pfnSetModificationUuid"; return be->pfnSetModificationUuid != NULL;
    case VDC_OP_DUMP: *name = "pfnDump"; return be->pfnDump != NULL;
    case VDC_OP_COMPOSE_LOCATION: *name = "pfnComposeLocation"; return be->pfnComposeLocation != NULL;
    case VDC_OP_COMPOSE_NAME: *name = "pfnComposeName"; return be->pfnComposeName != NULL;
    default: *name = NULL; return true; /* host-side records */
    }
}

static int run_record(rp *p)
{
    const char *cb_name;
    vdc_op op = p->rec->op;

    if (limited_record(p))
        return RP_GO;
    if (!callback_of(p->be, op, &cb_name)) {
        if (mandatory(op))
            return rp_fail(p, "%s is NULL, and VD calls it without checking: VD would crash", cb_name);
        return rp_skip(p, "the backend has no %s (optional: VD itself never calls it)", cb_name);
    }
    switch (op) {
    case VDC_OP_PROBE: return rp_do_probe(p);
    case VDC_OP_OPEN: return rp_do_open(p);
    case VDC_OP_CREATE: return rp_do_create(p);
    case VDC_OP_CLOSE: return rp_do_close(p);
    case VDC_OP_READ: return rp_do_read(p);
    case VDC_OP_WRITE: return rp_do_write(p);
    case VDC_OP_VDREAD: return rp_do_vdread(p);
    case VDC_OP_VDWRITE: return rp_do_vdwrite(p);
    case VDC_OP_FLUSH: return rp_do_flush(p);
    case VDC_OP_DISCARD: return rp_do_discard(p);
    case VDC_OP_GET_VERSION: case VDC_OP_GET_SIZE: case VDC_OP_GET_FILE_SIZE:
    case VDC_OP_GET_IMAGE_FLAGS: case VDC_OP_GET_OPEN_FLAGS:
        return rp_do_getter(p);
    case VDC_OP_SET_OPEN_FLAGS: return rp_do_set_open_flags(p);
    case VDC_OP_GET_COMMENT: case VDC_OP_SET_COMMENT: return rp_do_comment(p);
    case VDC_OP_GET_UUID: case VDC_OP_SET_UUID: case VDC_OP_GET_MOD_UUID: case VDC_OP_SET_MOD_UUID:
        return rp_do_uuid(p);
    case VDC_OP_DUMP: return rp_do_dump(p);
    case VDC_OP_COMPOSE_LOCATION: case VDC_OP_COMPOSE_NAME: return rp_do_compose(p);
    case VDC_OP_FILE: case VDC_OP_EXISTS: case VDC_OP_GONE: case VDC_OP_CONFIG: case VDC_OP_INTERFACES:
        return rp_do_host(p);
    case VDC_OP_IMAGE: return rp_do_image(p);
    default:
        return rp_error(p, "unknown record kind %d", (int)op);
    }
}

static void missing_caps_text(uint64_t missing, char *buf, size_t cb)
{
    const char *zero;
    const vdc_flag_name *names = vdc_flag_names(VDC_FS_CAPS, &zero);
    size_t o = 0;
    buf[0] = '\0';
    for (const vdc_flag_name *f = names; f->name != NULL; f++) {
        if (missing & f->bit) {
            int n = snprintf(buf + o, cb - o, "%s%s", o ? " " : "", f->name);
            if (n < 0 || (size_t)n >= cb - o)
                return;
            o += (size_t)n;
            missing &= ~f->bit;
        }
    }
    if (missing != 0)
        snprintf(buf + o, cb - o, "%s0x%llx", o ? " " : "", (unsigned long long)missing);
}

/* Closes what the trace left open, then the final checks of section 7.9. */
static void finish(rp *p)
{
    unsigned left_open = 0;
    for (unsigned i = 0; i < p->nh; i++) {
        rp_handle *h = &p->h[i];
        if (!h->open)
            continue;
        left_open++;
        h->open = false;
        if (p->be->pfnClose != NULL && !p->stopped) {
            rp_before_call(p);
            p->be->pfnClose(h->bd, false);
            if (rp_after_call(p, "the final close of a handle the trace left open") == RP_STOP)
                return;
        } else if (p->be->pfnClose != NULL) {
            p->be->pfnClose(h->bd, false); /* cleanup after a verdict; results no longer matter */
        }
    }
    if (p->stopped)
        return;
    if (left_open > 0)
        rp_note(p, "the trace left %u handle%s open; the replay closed %s", left_open, left_open == 1 ? "" : "s",
                left_open == 1 ? "it" : "them");
    const vdc_host_stats *st = vdc_host_get_stats(p->host);
    if (st->misuse > 0) /* every call is checked; this only guards the bookkeeping */
        rp_fail(p, "the host counted %llu misuse%s", (unsigned long long)st->misuse, st->misuse == 1 ? "" : "s");
    else if (st->open_storages > 0) {
        char calls[700];
        leak_calls(p, calls, sizeof calls);
        rp_fail(p, "the backend left %u storage handle%s open after every image was closed (HOST-3): %s",
                st->open_storages, st->open_storages == 1 ? "" : "s", calls);
    }
}

int vdc_replay(const vdc_trace *t, const vdc_replay_opts *o, vdc_replay_result *r)
{
    rp *p;
    int rc = VINF_SUCCESS;

    if (r == NULL)
        return VERR_INVALID_PARAMETER;
    memset(r, 0, sizeof *r);
    r->outcome = VDC_PASS;
    if (t == NULL || o == NULL || o->backend == NULL) {
        r->outcome = VDC_ERROR;
        snprintf(r->message, sizeof r->message, "vdc_replay: NULL trace, options or backend");
        return VERR_INVALID_PARAMETER;
    }
    if (o->scratch_dir != NULL) {
        struct stat sbuf;
        if (stat(o->scratch_dir, &sbuf) != 0 || !S_ISDIR(sbuf.st_mode)) {
            r->outcome = VDC_ERROR;
            snprintf(r->message, sizeof r->message, "scratch directory %s does not exist", o->scratch_dir);
            return VERR_PATH_NOT_FOUND;
        }
    }
    p = calloc(1, sizeof *p);
    if (p == NULL)
        goto out_oom;
    p->t = t;
    p->o = o;
    p->r = r;
    p->be = o->backend;
    p->scratch = o->scratch_dir;
    p->fs = o->scratch_dir != NULL ? vdc_fs_posix_new(o->scratch_dir) : vdc_fs_mem_new(0, 0);
    if (p->fs == NULL)
        goto out_free_rp;
    p->host = vdc_host_new(p->fs);
    if (p->host == NULL)
        goto out_destroy_fs;

    uint64_t missing = vdc_trace_required_caps(t) & ~p->be->uBackendCaps;
    if (missing != 0) {
        char caps[256];
        missing_caps_text(missing, caps, sizeof caps);
        rp_skip(p, "the backend lacks capabilities the trace requires: %s", caps);
    }
    const char *format = vdc_trace_format(t);
    if (format != NULL && !p->stopped
        && (p->be->pszBackendName == NULL || strcasecmp(p->be->pszBackendName, format) != 0))
        rp_skip(p, "the trace is for %s backends (its format line); this backend is '%s'", format,
                p->be->pszBackendName != NULL ? p->be->pszBackendName : "");
    /* Records come one at a time: a streamed trace is read as it runs. */
    for (unsigned i = 0; !p->stopped; i++) {
        char perr[512];
        const vdc_record *rec = NULL;
        int nrc = vdc_trace_next(t, i, &rec, perr, sizeof perr);
        if (nrc == VINF_EOF)
            break;
        p->cur = i;
        if (nrc != VINF_SUCCESS) {
            p->rec = NULL;
            rp_error(p, "%s", perr[0] != '\0' ? perr : "the trace cannot be read further");
            break;
        }
        p->rec = rec;
        p->warned = false;
        if (o->progress != NULL)
            *o->progress = i + 1;
        r->calls_run = i + 1;
        run_record(p);
    }
    p->cur = vdc_trace_ncalls(t);
    p->rec = NULL;
    finish(p);
    r->misuse = vdc_host_get_stats(p->host)->misuse;
    if (r->outcome == VDC_PASS && p->nnotes > 0)
        snprintf(r->message, sizeof r->message, "%s", p->notes);
    if (o->report != NULL && r->outcome != VDC_PASS) {
        const char *log = vdc_host_log(p->host);
        size_t n = log != NULL ? strlen(log) : 0;
        fprintf(o->report, "%s: %s\n%s\n", vdc_trace_name(t), vdc_outcome_name(r->outcome), r->message);
        if (n > 0)
            fprintf(o->report, "host log%s:\n%s", n > 4096 ? " (last 4096 bytes)" : "", n > 4096 ? log + n - 4096 : log);
    }
    rc = p->fatal_rc;
    vdc_host_free(p->host);
    vdc_fs_destroy(p->fs);
    free(p->buf);
    free(p);
    return rc;

out_destroy_fs:
    vdc_fs_destroy(p->fs);
out_free_rp:
    free(p);
out_oom:
    r->outcome = VDC_ERROR;
    snprintf(r->message, sizeof r->message, "out of memory setting up the replay");
    return VERR_NO_MEMORY;
}
