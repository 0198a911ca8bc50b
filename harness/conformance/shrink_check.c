/*
 * harness/conformance/shrink_check.c - is a trace's every expectation one
 * that a correct backend can meet?  (shrink.h, vdc_shrink_consistent)
 *
 * Why: the shrinker removes records and keeps the others as they are.  A
 * read expecting "pattern:7 or a miss" stays right when unrelated records
 * go, but not when the write of pattern:7 goes while an older write of the
 * same range stays: the candidate then fails on EVERY backend, "the same
 * way" as the original, and the shrink ends at a bogus trace.  This checker
 * follows the trace with a contract-level model (the same rules as
 * gen_model.h: last data written per byte of each image file, which files
 * exist and what they are, open flags, UUIDs, comments, capacities) and
 * rejects a trace with an expectation the model contradicts:
 *   - a hit-admitting read whose data= differs from the modelled bytes,
 *     or a miss-only read over modelled data;
 *   - a write, discard or UUID setter expected to succeed on a read-only
 *     instance, or expected to fail with VERR_VD_IMAGE_READ_ONLY on a
 *     read-write one;
 *   - probe/open expecting an image where the model has none (or the
 *     reverse), exists/gone contradicting the model;
 *   - get-open-flags, get-size, get-uuid, get-mod-uuid, get-comment
 *     expecting a value other than the modelled one, or one the model does
 *     not know (its set was removed).
 * Whatever the model cannot know (a status list admitting both success and
 * failure, the tail of a single pfnWrite) becomes "unknown" and satisfies
 * every check.  It is a necessary condition only: a consistent trace can
 * still be wrong in ways the model does not follow.
 *
 * Statuses: vdc_shrink_consistent returns VINF_SUCCESS (consistent),
 * VERR_INVALID_PARAMETER (inconsistent: *bad_call and why say where),
 * VERR_NO_MEMORY.  spec/contract.md gives the rules; spec/trace-format.md
 * sections 4, 6 and 7.4 the record semantics.
 */
#include "shrink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap.h"

typedef enum fstate { F_NONE = 0, F_IMAGE, F_FOREIGN, F_UNKNOWN } fstate;

/* A value the model may know: 0 = unknown, else a token. */
typedef uint64_t token;

typedef struct cf {
    const char *name;
    fstate      state;
    vdc_imap    data;
    bool        data_unknown;   /* the model lost track of this file's data */
    token       uuid, mod;
    bool        comment_known;
    const char *comment;        /* NULL: empty/none (when known) */
    bool        cap_known;
    uint64_t    cap;
} cf;

typedef struct ch {
    const char *name;
    cf         *file;
    bool        open;
    bool        flags_known;
    unsigned    flags;
} ch;

typedef struct cvar {
    const char *name;
    token       v;
} cvar;

typedef struct cm {
    cf       f[VDC_TRACE_MAX_FILES];
    unsigned nf;
    ch       h[VDC_TRACE_MAX_HANDLES];
    unsigned nh;
    cvar     vars[VDC_TRACE_MAX_VARS];
    unsigned nvars;
    uint64_t next_token;
    bool     oom;
    uint8_t  a[65536], b[65536]; /* for comparing generators byte by byte */
} cm;

static cf *file_of(cm *m, const char *name)
{
    for (unsigned i = 0; i < m->nf; i++)
        if (strcmp(m->f[i].name, name) == 0)
            return &m->f[i];
    if (m->nf == VDC_TRACE_MAX_FILES)
        return NULL;
    cf *f = &m->f[m->nf++];
    memset(f, 0, sizeof *f);
    f->name = name;
    vdc_imap_init(&f->data);
    return f;
}

static void file_forget(cf *f, fstate st)
{
    vdc_imap_clear(&f->data);
    f->state = st;
    f->data_unknown = st == F_UNKNOWN;
    f->uuid = f->mod = 0;
    f->comment_known = false;
    f->comment = NULL;
    f->cap_known = false;
}

static ch *handle_of(cm *m, const char *name)
{
    for (unsigned i = 0; i < m->nh; i++)
        if (strcmp(m->h[i].name, name) == 0)
            return &m->h[i];
    if (m->nh == VDC_TRACE_MAX_HANDLES)
        return NULL;
    ch *h = &m->h[m->nh++];
    memset(h, 0, sizeof *h);
    h->name = name;
    return h;
}

static token fresh(cm *m)
{
    return (UINT64_C(1) << 63) | ++m->next_token;
}

static token token_of_bytes(const RTUUID *u)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (unsigned i = 0; i < 16; i++) {
        h ^= u->au8[i];
        h *= UINT64_C(0x100000001b3);
    }
    return (h & ~(UINT64_C(1) << 63)) | 1;
}

static cvar *var_of(cm *m, const char *name)
{
    for (unsigned i = 0; i < m->nvars; i++)
        if (strcmp(m->vars[i].name, name) == 0)
            return &m->vars[i];
    if (m->nvars == VDC_TRACE_MAX_VARS)
        return NULL;
    cvar *v = &m->vars[m->nvars++];
    v->name = name;
    v->v = 0;
    return v;
}

/* The token an argument passes (binding an unbound variable). */
static token arg_token(cm *m, const vdc_uuid_ref *u)
{
    RTUUID nil;
    switch (u->kind) {
    case VDC_UUID_LIT:
        return token_of_bytes(&u->lit);
    case VDC_UUID_NIL:
        memset(&nil, 0, sizeof nil);
        return token_of_bytes(&nil);
    case VDC_UUID_VAR: {
        cvar *v = var_of(m, u->var);
        if (v == NULL)
            return 0;
        if (v->v == 0)
            v->v = fresh(m);
        return v->v;
    }
    default:
        return 0;
    }
}

/* ---- status lists --------------------------------------------------------- */

static bool admits_success(const vdc_alts *a)
{
    for (unsigned i = 0; i < a->n; i++) {
        vdc_alt_kind k = a->v[i].kind;
        if (k == VDC_ALT_SUCCESS || k == VDC_ALT_ANY || k == VDC_ALT_HIT || (k == VDC_ALT_STATUS && a->v[i].status >= 0))
            return true;
    }
    return a->n == 0;
}

static bool admits_failure(const vdc_alts *a)
{
    for (unsigned i = 0; i < a->n; i++) {
        vdc_alt_kind k = a->v[i].kind;
        if (k == VDC_ALT_FAILURE || k == VDC_ALT_ANY || k == VDC_ALT_MISS || (k == VDC_ALT_STATUS && a->v[i].status < 0))
            return true;
    }
    return false;
}

static bool admits_status(const vdc_alts *a, int rc)
{
    for (unsigned i = 0; i < a->n; i++) {
        const vdc_alt *x = &a->v[i];
        if (x->kind == VDC_ALT_ANY || (x->kind == VDC_ALT_STATUS && x->status == rc)
            || (x->kind == VDC_ALT_FAILURE && rc < 0) || (x->kind == VDC_ALT_SUCCESS && rc >= 0))
            return true;
    }
    return false;
}

/* ---- data ----------------------------------------------------------------- */

typedef struct rd_walk {
    cm             *m;
    const vdc_data *want;
    bool            hit_ok;
    bool            bad;
    uint64_t        at;
} rd_walk;

/* Do the model's bytes (cell) and the expectation agree on [a, b)? */
static bool same_bytes(cm *m, const vdc_cell *c, const vdc_data *want, uint64_t a, uint64_t b, uint64_t *at)
{
    for (unsigned s = 0; s < want->nsegs; s++) {
        const vdc_seg *w = &want->segs[s];
        uint64_t lo = w->start > a ? w->start : a, hi = w->start + w->len < b ? w->start + w->len : b;
        if (lo >= hi || w->kind == VDC_GEN_ANY)
            continue;
        const vdc_seg *g = &c->seg;
        if (g->kind == w->kind && g->kind == VDC_GEN_PATTERN) {
            if (g->seed != w->seed) {
                *at = lo;
                return false;
            }
            continue;
        }
        if (g->kind == w->kind && (g->kind == VDC_GEN_ZERO || (g->kind == VDC_GEN_FILL && g->fill == w->fill)))
            continue;
        /* different generators: compare the bytes */
        vdc_seg gs = *g;
        vdc_data gd = { 1, &gs };
        for (uint64_t x = lo; x < hi;) {
            size_t n = hi - x < sizeof m->a ? (size_t)(hi - x) : sizeof m->a;
            vdc_data_fill(&gd, x, m->a, n);
            size_t diff;
            if (!vdc_data_match(want, x, m->a, n, &diff)) {
                *at = x + diff;
                return false;
            }
            x += n;
        }
    }
    return true;
}

static bool rd_piece(void *ctx, uint64_t a, uint64_t b, const vdc_cell *c)
{
    rd_walk *w = ctx;
    if (c->kind == VDC_CELL_DATA) {
        if (!w->hit_ok) {
            w->bad = true;
            w->at = a;
            return false;
        }
        if (w->want->nsegs > 0) {
            /* the run may be wider than its segment: clip a copy */
            vdc_cell k = *c;
            if (k.seg.kind == VDC_GEN_HEX && k.seg.hex != NULL)
                k.seg.hex += a - k.seg.start;
            k.seg.start = a;
            k.seg.len = b - a;
            if (!same_bytes(w->m, &k, w->want, a, b, &w->at)) {
                w->bad = true;
                return false;
            }
        }
    } else if (c->kind == VDC_CELL_ANY && !w->hit_ok) {
        w->bad = true;
        w->at = a;
        return false;
    }
    return true;
}

static void set_data(cm *m, cf *f, uint64_t a, uint64_t b, const vdc_data *d)
{
    if (vdc_imap_set_data(&f->data, a, b, d) != VINF_SUCCESS)
        m->oom = true;
}

static void set_cell(cm *m, cf *f, uint64_t a, uint64_t b, vdc_cell_kind k)
{
    vdc_cell c = { .kind = k };
    if (vdc_imap_set(&f->data, a, b, &c) != VINF_SUCCESS)
        m->oom = true;
}

typedef struct fill_walk {
    cm             *m;
    cf             *f;
    const vdc_data *d;
} fill_walk;

static bool fill_piece(void *ctx, uint64_t a, uint64_t b, const vdc_cell *c)
{
    fill_walk *w = ctx;
    if (c->kind == VDC_CELL_EMPTY)
        set_data(w->m, w->f, a, b, w->d);
    return true;
}

/* ---- one record --------------------------------------------------------- */

#define BAD(...)                                   \
    do {                                           \
        snprintf(why, cb, __VA_ARGS__);            \
        return false;                              \
    } while (0)

static bool check_io(cm *m, const vdc_record *r, ch *h, char *why, size_t cb)
{
    cf *f = h->file;
    bool ro_known = h->flags_known, ro = (h->flags & VD_OPEN_FLAGS_READONLY) != 0;
    bool ok_only = admits_success(&r->expect) && !admits_failure(&r->expect);
    bool ro_only = !admits_success(&r->expect) && admits_status(&r->expect, VERR_VD_IMAGE_READ_ONLY)
                && !admits_status(&r->expect, VERR_NOT_SUPPORTED);
    bool changes = r->op == VDC_OP_WRITE || r->op == VDC_OP_VDWRITE || r->op == VDC_OP_DISCARD;
    if (changes && ro_known && ok_only && ro)
        BAD("%s expects success on a read-only instance", vdc_op_name(r->op));
    if (changes && ro_known && ro_only && !ro)
        BAD("%s expects VERR_VD_IMAGE_READ_ONLY on a read-write instance", vdc_op_name(r->op));
    if (f == NULL || f->data_unknown)
        return true;
    switch (r->op) {
    case VDC_OP_WRITE:
    case VDC_OP_VDWRITE:
        if (ok_only && r->op == VDC_OP_VDWRITE) {
            set_data(m, f, r->off, r->off + r->len, &r->data);
        } else if (ok_only) {
            set_data(m, f, r->off, r->off + 1, &r->data);
            set_cell(m, f, r->off + 1, r->off + r->len, VDC_CELL_ANY);
        } else if (admits_success(&r->expect)) {
            set_cell(m, f, r->off, r->off + r->len, VDC_CELL_ANY);
        }
        return true;
    case VDC_OP_DISCARD:
        if (ok_only)
            set_cell(m, f, r->off, r->off + r->len, VDC_CELL_EMPTY);
        else if (admits_success(&r->expect))
            set_cell(m, f, r->off, r->off + r->len, VDC_CELL_ANY);
        return true;
    case VDC_OP_READ:
    case VDC_OP_VDREAD: {
        rd_walk w = { m, &r->data, admits_success(&r->expect), false, 0 };
        vdc_imap_walk(&f->data, r->off, r->off + r->len, rd_piece, &w);
        if (w.bad)
            BAD("%s expects %s at virtual offset %llu, where the model holds other data", vdc_op_name(r->op),
                w.hit_ok ? "different bytes" : "a miss", (unsigned long long)w.at);
        if (r->fill && r->data.nsegs > 0) {
            fill_walk fw = { m, f, &r->data };
            vdc_imap_walk(&f->data, r->off, r->off + r->len, fill_piece, &fw);
        }
        return true;
    }
    default:
        return true;
    }
}

static bool check_meta(cm *m, const vdc_record *r, ch *h, char *why, size_t cb)
{
    cf *f = h->file;
    bool ok_only = admits_success(&r->expect) && !admits_failure(&r->expect);
    bool ro = h->flags_known && (h->flags & VD_OPEN_FLAGS_READONLY);
    bool rw = h->flags_known && !(h->flags & VD_OPEN_FLAGS_READONLY);
    switch (r->op) {
    case VDC_OP_SET_OPEN_FLAGS:
        h->flags_known = ok_only;
        h->flags = r->open_flags;
        return true;
    case VDC_OP_GET_OPEN_FLAGS:
        if (r->value.cmp == VDC_CMP_EQ && h->flags_known && r->value.v != h->flags)
            BAD("get-open-flags expects 0x%llx, the model has 0x%x", (unsigned long long)r->value.v, h->flags);
        return true;
    case VDC_OP_GET_SIZE:
        if (f != NULL && r->value.cmp == VDC_CMP_EQ && f->cap_known && r->value.v != f->cap)
            BAD("get-size expects %llu, the image was created with %llu", (unsigned long long)r->value.v,
                (unsigned long long)f->cap);
        return true;
    case VDC_OP_SET_UUID:
    case VDC_OP_SET_MOD_UUID: {
        token t = arg_token(m, &r->uuid);
        if (ok_only && ro)
            BAD("%s expects success on a read-only instance", vdc_op_name(r->op));
        if (!admits_success(&r->expect) && rw && !admits_status(&r->expect, VERR_NOT_SUPPORTED))
            BAD("%s expects a failure on a read-write instance", vdc_op_name(r->op));
        if (f != NULL) {
            token *slot = r->op == VDC_OP_SET_UUID ? &f->uuid : &f->mod;
            if (admits_success(&r->expect))
                *slot = admits_failure(&r->expect) && !rw ? 0 : t;
        }
        return true;
    }
    case VDC_OP_GET_UUID:
    case VDC_OP_GET_MOD_UUID: {
        if (f == NULL || !admits_success(&r->expect))
            return true;
        token have = r->op == VDC_OP_GET_UUID ? f->uuid : f->mod;
        const vdc_uuid_ref *u = &r->out_uuid;
        token want = 0;
        if (u->kind == VDC_UUID_VAR) {
            cvar *v = var_of(m, u->var);
            if (v != NULL && v->v == 0) {
                v->v = have != 0 ? have : fresh(m);
                return true;
            }
            want = v != NULL ? v->v : 0;
        } else if (u->kind == VDC_UUID_LIT || u->kind == VDC_UUID_NIL) {
            want = arg_token(m, u);
        } else {
            return true;
        }
        if (want != 0 && have != want)
            BAD("%s expects a UUID the model %s", vdc_op_name(r->op), have == 0 ? "does not know" : "does not hold");
        return true;
    }
    case VDC_OP_SET_COMMENT:
        if (f != NULL && admits_success(&r->expect)) {
            f->comment_known = !admits_failure(&r->expect) || admits_status(&r->expect, VERR_NOT_SUPPORTED);
            f->comment = r->str.null ? NULL : r->str.s;
        }
        return true;
    case VDC_OP_GET_COMMENT:
        if (f != NULL && r->out_str.given && admits_success(&r->expect)) {
            const char *have = f->comment != NULL ? f->comment : "";
            const char *want = r->out_str.null ? "" : r->out_str.s;
            if (!f->comment_known || strcmp(have, want) != 0)
                BAD("get-comment expects \"%.40s\", which the model %s", want,
                    f->comment_known ? "does not hold" : "does not know");
        }
        return true;
    default:
        return true;
    }
}

static bool check_record(cm *m, const vdc_record *r, char *why, size_t cb)
{
    cf *f = r->file != NULL ? file_of(m, r->file) : NULL;
    ch *h = r->handle != NULL ? handle_of(m, r->handle) : NULL;
    if ((r->file != NULL && f == NULL) || (r->handle != NULL && h == NULL))
        return true; /* over a limit the parser already enforces */
    bool ok_only = admits_success(&r->expect) && !admits_failure(&r->expect);
    bool fail_only = !admits_success(&r->expect);
    switch (r->op) {
    case VDC_OP_FILE:
        file_forget(f, F_FOREIGN);
        return true;
    case VDC_OP_EXISTS:
        if (f->state == F_NONE)
            BAD("exists %s: the model has no such file", f->name);
        return true;
    case VDC_OP_GONE:
        if (f->state == F_IMAGE || f->state == F_FOREIGN)
            BAD("gone %s: the model still has it", f->name);
        return true;
    case VDC_OP_PROBE:
        if (ok_only && (f->state == F_NONE || f->state == F_FOREIGN))
            BAD("probe %s expects an image the model does not have", f->name);
        if (fail_only && admits_status(&r->expect, VERR_VD_GEN_INVALID_HEADER) && f->state == F_IMAGE)
            BAD("probe %s expects a foreign file, the model has an image", f->name);
        if (fail_only && !admits_status(&r->expect, VERR_VD_GEN_INVALID_HEADER) && f->state == F_IMAGE)
            BAD("probe %s expects a failure, the model has an image", f->name);
        return true;
    case VDC_OP_CREATE:
        h->file = f;
        h->open = admits_success(&r->expect);
        h->flags_known = ok_only;
        h->flags = r->open_flags;
        if (ok_only) {
            file_forget(f, F_IMAGE);
            f->uuid = arg_token(m, &r->uuid);
            f->comment_known = true;
            f->comment = r->str.given && !r->str.null ? r->str.s : NULL;
            f->cap_known = true;
            f->cap = r->size;
        } else {
            (void)arg_token(m, &r->uuid);
            if (admits_success(&r->expect) || f->state != F_NONE)
                file_forget(f, F_UNKNOWN);
        }
        return true;
    case VDC_OP_OPEN:
        if (ok_only && (f->state == F_NONE || f->state == F_FOREIGN))
            BAD("open %s expects an image the model does not have", f->name);
        if (fail_only && f->state == F_IMAGE)
            BAD("open %s expects a failure, the model has an image", f->name);
        h->file = f;
        h->open = admits_success(&r->expect);
        h->flags_known = ok_only;
        h->flags = r->open_flags;
        return true;
    case VDC_OP_CLOSE:
        h->open = false;
        if (r->del && h->file != NULL) {
            if (ok_only)
                file_forget(h->file, F_NONE);
            else if (admits_success(&r->expect))
                file_forget(h->file, F_UNKNOWN);
        }
        return true;
    case VDC_OP_READ:
    case VDC_OP_VDREAD:
    case VDC_OP_WRITE:
    case VDC_OP_VDWRITE:
    case VDC_OP_DISCARD:
        return h == NULL || check_io(m, r, h, why, cb);
    default:
        return h == NULL || check_meta(m, r, h, why, cb);
    }
}

int vdc_shrink_consistent(const vdc_trace *t, unsigned *bad_call, char *why, size_t cb_why)
{
    if (bad_call != NULL)
        *bad_call = 0;
    if (why != NULL && cb_why > 0)
        why[0] = '\0';
    cm *m = calloc(1, sizeof *m);
    if (m == NULL)
        return VERR_NO_MEMORY;
    int rc = VINF_SUCCESS;
    char local[256];
    for (unsigned i = 0; i < vdc_trace_ncalls(t) && !m->oom; i++) {
        if (!check_record(m, vdc_trace_record(t, i), local, sizeof local)) {
            if (bad_call != NULL)
                *bad_call = i + 1;
            if (why != NULL)
                snprintf(why, cb_why, "%s", local);
            rc = VERR_INVALID_PARAMETER;
            break;
        }
    }
    if (m->oom)
        rc = VERR_NO_MEMORY;
    for (unsigned i = 0; i < m->nf; i++)
        vdc_imap_free(&m->f[i].data);
    free(m);
    return rc;
}
