/*
 * harness/reliability/workload.c - building workloads: the seeded random
 * generator and the conversion from traces.
 *
 * Contract: workload.h.  Statuses: VINF_SUCCESS, VERR_INVALID_PARAMETER,
 * VERR_NOT_SUPPORTED (vdc_workload_from_trace), VERR_NO_MEMORY.  The workloads feed the crash and fault tests of
 * spec/contract.md CRASH-1 and HOST-2.
 */
#include "workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../trace/trace.h"

#define WL_DEFAULT_CAPACITY  (128u * 1024u)
#define WL_DEFAULT_MAX_WRITE (16u * 1024u)
#define WL_MAX_TRACE_XFER    ((uint64_t)16 << 20)
#define WL_IMAGE_NAME        "crash.vci"

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rnd(uint64_t *s)
{
    *s += 0x9e3779b97f4a7c15ull;
    return mix64(*s);
}

uint8_t vdc_wl_byte(uint64_t seed, uint64_t x)
{
    return (uint8_t)(mix64(seed * 0x9e3779b97f4a7c15ull + (x >> 3) + 1) >> (8 * (x & 7)));
}

static vdc_wop *add_op(vdc_workload *w, vdc_wop_kind kind)
{
    if (w->n == w->cap) {
        size_t nc = w->cap != 0 ? w->cap * 2 : 64;
        vdc_wop *np = realloc(w->ops, nc * sizeof *np);
        if (np == NULL)
            return NULL;
        w->ops = np;
        w->cap = nc;
    }
    vdc_wop *op = &w->ops[w->n++];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    return op;
}

static void note_span(vdc_workload *w, uint64_t off, uint64_t len)
{
    if (off + len > w->span)
        w->span = off + len;
}

void vdc_workload_free(vdc_workload *w)
{
    if (w == NULL)
        return;
    for (size_t i = 0; i < w->n; i++)
        free(w->ops[i].data);
    free(w->ops);
    free(w->name);
    free(w);
}

static vdc_workload *wl_new(const char *name)
{
    vdc_workload *w = calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    w->name = strdup(name);
    if (w->name == NULL) {
        free(w);
        return NULL;
    }
    return w;
}

/* A range [*off, *off+*len) inside [0, vsize): aligned unless `odd`. */
static void pick_range(uint64_t *s, uint64_t vsize, uint64_t max_len, bool hot, bool odd_off,
                       bool odd_len, uint64_t *off, uint64_t *len)
{
    uint64_t blocks = vsize / 512;
    uint64_t area = hot ? (blocks / 8 != 0 ? blocks / 8 : 1) : blocks;
    uint64_t o = rnd(s) % area * 512;
    uint64_t l = (1 + rnd(s) % (max_len / 512 != 0 ? max_len / 512 : 1)) * 512;
    if (odd_off)
        o += 1 + rnd(s) % 511;
    if (odd_len && l > 511)
        l -= rnd(s) % 511;
    if (o >= vsize)
        o = vsize - 512;
    if (l > vsize - o)
        l = vsize - o;
    *off = o;
    *len = l;
}

int vdc_workload_gen(uint64_t seed, unsigned nops, const vdc_wl_params *p, vdc_workload **out)
{
    vdc_wl_params dflt = { 0 };
    vdc_workload *w;
    uint64_t s = seed;

    if (out == NULL || nops == 0)
        return VERR_INVALID_PARAMETER;
    *out = NULL;
    if (p == NULL)
        p = &dflt;
    uint64_t cap = p->capacity != 0 ? p->capacity : WL_DEFAULT_CAPACITY;
    uint64_t vsize = p->vsize != 0 ? p->vsize : 2 * cap;
    uint64_t max_write = p->max_write != 0 ? p->max_write : WL_DEFAULT_MAX_WRITE;
    if (cap % 512 != 0 || vsize < 4096 || max_write < 512)
        return VERR_INVALID_PARAMETER;
    vsize -= vsize % 512;

    w = wl_new(WL_IMAGE_NAME);
    if (w == NULL)
        return VERR_NO_MEMORY;
    vdc_wop *op = add_op(w, VDC_WOP_CREATE);
    if (op == NULL)
        goto out_nomem;
    op->len = cap;
    op->image_flags = p->fixed ? VD_IMAGE_FLAGS_FIXED : VD_IMAGE_FLAGS_NONE;
    op->seed = rnd(&s);

    for (unsigned i = 0; i < nops; i++) {
        unsigned r = (unsigned)(rnd(&s) % 100);
        op = NULL;
        if (r < 45 || (r >= 80 && r < 85 && p->no_reopen) || (r >= 85 && r < 90 && p->no_discard) || r >= 94) {
            op = add_op(w, VDC_WOP_WRITE);
            if (op == NULL)
                goto out_nomem;
            bool hot = rnd(&s) % 100 < 30;
            bool odd_off = rnd(&s) % 100 < 8, odd_len = rnd(&s) % 100 < 8;
            pick_range(&s, vsize, max_write, hot, odd_off, odd_len, &op->off, &op->len);
            op->seed = rnd(&s);
        } else if (r < 70) {
            op = add_op(w, VDC_WOP_READ);
            if (op == NULL)
                goto out_nomem;
            /* One draw per statement: the order in which a call's
             * arguments are evaluated is unspecified (gcc and clang
             * differ), and the same seed must give the same workload. */
            bool hot = rnd(&s) % 100 < 30;
            bool odd_off = rnd(&s) % 100 < 15;
            bool odd_len = rnd(&s) % 100 < 15;
            pick_range(&s, vsize, 32768, hot, odd_off, odd_len, &op->off, &op->len);
        } else if (r < 80) {
            if (add_op(w, VDC_WOP_FLUSH) == NULL)
                goto out_nomem;
        } else if (r < 85) {
            if (add_op(w, VDC_WOP_CLOSE) == NULL || add_op(w, VDC_WOP_OPEN) == NULL)
                goto out_nomem;
        } else if (r < 90) {
            op = add_op(w, VDC_WOP_DISCARD);
            if (op == NULL)
                goto out_nomem;
            pick_range(&s, vsize, 8192, rnd(&s) % 100 < 30, false, false, &op->off, &op->len);
        } else {
            op = add_op(w, VDC_WOP_SETUUID);
            if (op == NULL)
                goto out_nomem;
            op->seed = rnd(&s);
        }
        if (op != NULL && (op->kind == VDC_WOP_WRITE || op->kind == VDC_WOP_READ || op->kind == VDC_WOP_DISCARD))
            note_span(w, op->off, op->len);
    }
    if (add_op(w, VDC_WOP_CLOSE) == NULL)
        goto out_nomem;
    *out = w;
    return VINF_SUCCESS;

out_nomem:
    vdc_workload_free(w);
    return VERR_NO_MEMORY;
}

/* Whether a record's MUST expectation lets the call succeed (used to pick
 * the image the workload follows, and to find create/open records that a
 * config key is meant to make fail). */
static bool allows_success(const vdc_record *r)
{
    if (r->expect.n == 0)
        return true;
    for (unsigned i = 0; i < r->expect.n; i++) {
        const vdc_alt *a = &r->expect.v[i];
        if (a->kind != VDC_ALT_FAILURE && (a->kind != VDC_ALT_STATUS || RT_SUCCESS(a->status)))
            return true;
    }
    return false;
}

bool vdc_wl_expect_accepts(const vdc_wl_expect *e, int rc)
{
    if (e == NULL || e->n == 0)
        return RT_SUCCESS(rc);
    for (unsigned i = 0; i < e->n && i < VDC_WL_MAX_ALTS; i++) {
        switch (e->alt[i].kind) {
        case VDC_WL_ALT_STATUS:
            if (rc == e->alt[i].status)
                return true;
            break;
        case VDC_WL_ALT_SUCCESS:
            if (RT_SUCCESS(rc))
                return true;
            break;
        case VDC_WL_ALT_FAILURE:
            if (RT_FAILURE(rc))
                return true;
            break;
        case VDC_WL_ALT_ANY:
            return true;
        }
    }
    return false;
}

/* The record's MUST list as the driver's expectation; hit and miss become
 * "success" (the model judges the data; VD_BLOCK_FREE never ends a loop). */
static void copy_expect(const vdc_record *r, vdc_wl_expect *e)
{
    e->n = 0;
    for (unsigned i = 0; i < r->expect.n && e->n < VDC_WL_MAX_ALTS; i++) {
        const vdc_alt *a = &r->expect.v[i];
        vdc_wl_alt_kind k;
        switch (a->kind) {
        case VDC_ALT_STATUS: k = VDC_WL_ALT_STATUS; break;
        case VDC_ALT_FAILURE: k = VDC_WL_ALT_FAILURE; break;
        case VDC_ALT_ANY: k = VDC_WL_ALT_ANY; break;
        default: k = VDC_WL_ALT_SUCCESS; break;
        }
        e->alt[e->n].kind = k;
        e->alt[e->n].status = a->status;
        e->n++;
    }
}

/* Whether d describes every byte (no `any` segment), so it can be written. */
static bool data_concrete(const vdc_data *d)
{
    if (d->nsegs == 0)
        return false;
    for (unsigned i = 0; i < d->nsegs; i++)
        if (d->segs[i].kind == VDC_GEN_ANY)
            return false;
    return true;
}

int vdc_workload_from_trace(const struct vdc_trace *t, vdc_workload **out, char *err, size_t cb_err)
{
    vdc_workload *w = NULL;
    const char *handle = NULL;
    bool ro = false; /* whether the followed handle is read-only now */
    unsigned n;
    int rc = VERR_NO_MEMORY;

    if (err != NULL && cb_err != 0)
        err[0] = '\0';
    if (t == NULL || out == NULL)
        return VERR_INVALID_PARAMETER;
    *out = NULL;
    n = vdc_trace_ncalls(t);
    for (unsigned i = 0; i < n; i++) {
        const vdc_record *r = vdc_trace_record(t, i);
        if (r == NULL || (r->op != VDC_OP_CREATE && r->op != VDC_OP_OPEN) || r->handle == NULL || r->file == NULL
            || !allows_success(r))
            continue;
        handle = r->handle;
        w = wl_new(r->file);
        if (w == NULL)
            return VERR_NO_MEMORY;
        break;
    }
    if (w == NULL) {
        snprintf(err, cb_err, "the trace never creates or opens an image");
        return VERR_INVALID_PARAMETER;
    }
    /* The workload runs without the host-side records, so without the
     * trace's config keys: a create or open the trace expects to fail
     * (because of a key) would succeed there. */
    bool configured = false;
    for (unsigned i = 0; i < n && !configured; i++) {
        const vdc_record *r = vdc_trace_record(t, i);
        configured = r != NULL && r->op == VDC_OP_CONFIG;
    }
    for (unsigned i = 0; i < n; i++) {
        const vdc_record *r = vdc_trace_record(t, i);
        vdc_wop *op = NULL;
        if (r == NULL || r->handle == NULL || strcmp(r->handle, handle) != 0)
            continue;
        if (configured && (r->op == VDC_OP_CREATE || r->op == VDC_OP_OPEN) && !allows_success(r)) {
            snprintf(err, cb_err,
                     "record %u (line %u): a %s the trace expects to fail, after config keys the workload does "
                     "not pass", i + 1, r->line, r->op == VDC_OP_CREATE ? "create" : "open");
            rc = VERR_NOT_SUPPORTED;
            goto out_free;
        }
        switch (r->op) {
        case VDC_OP_CREATE:
            if (r->file == NULL || strcmp(r->file, w->name) != 0)
                continue;
            op = add_op(w, VDC_WOP_CREATE);
            if (op == NULL)
                goto out_free;
            op->len = r->size;
            op->image_flags = r->image_flags;
            op->open_flags = r->open_flags;
            ro = false;
            break;
        case VDC_OP_OPEN:
            if (r->file == NULL || strcmp(r->file, w->name) != 0)
                continue;
            op = add_op(w, VDC_WOP_OPEN);
            if (op == NULL)
                goto out_free;
            op->open_flags = r->open_flags;
            ro = (r->open_flags & VD_OPEN_FLAGS_READONLY) != 0;
            break;
        case VDC_OP_SET_OPEN_FLAGS:
            /* Bits outside VD_OPEN_FLAGS_MASK are no flags at all (OPEN-4:
             * refused, or ignored): passed as they are. */
            if ((r->open_flags & (unsigned)VD_OPEN_FLAGS_MASK & ~(unsigned)VD_OPEN_FLAGS_READONLY) != 0) {
                snprintf(err, cb_err,
                         "record %u (line %u): set-open-flags 0x%x: of VD's flags only NORMAL and READONLY are "
                         "supported", i + 1, r->line, r->open_flags);
                rc = VERR_NOT_SUPPORTED;
                goto out_free;
            }
            op = add_op(w, VDC_WOP_SETFLAGS);
            if (op == NULL)
                goto out_free;
            op->open_flags = r->open_flags;
            /* Where the trace lets the call fail, whether it took effect is
             * unknown here; the driver follows what the backend answered. */
            ro = (r->open_flags & VD_OPEN_FLAGS_READONLY) != 0;
            break;
        case VDC_OP_CLOSE:
            op = add_op(w, VDC_WOP_CLOSE);
            if (op == NULL)
                goto out_free;
            op->del = r->del;
            break;
        case VDC_OP_FLUSH:
            op = add_op(w, VDC_WOP_FLUSH);
            if (op == NULL)
                goto out_free;
            break;
        case VDC_OP_READ:
        case VDC_OP_VDREAD:
        case VDC_OP_DISCARD:
        case VDC_OP_WRITE:
        case VDC_OP_VDWRITE:
            if (r->len == 0 || r->len > WL_MAX_TRACE_XFER) {
                snprintf(err, cb_err, "record %u: transfer of %llu bytes (1..%llu supported)", i + 1,
                         (unsigned long long)r->len, (unsigned long long)WL_MAX_TRACE_XFER);
                rc = VERR_INVALID_PARAMETER;
                goto out_free;
            }
            op = add_op(w, r->op == VDC_OP_DISCARD ? VDC_WOP_DISCARD
                         : (r->op == VDC_OP_WRITE || r->op == VDC_OP_VDWRITE) ? VDC_WOP_WRITE : VDC_WOP_READ);
            if (op == NULL)
                goto out_free;
            op->off = r->off;
            op->len = r->len;
            if (op->kind == VDC_WOP_WRITE) {
                op->data = malloc((size_t)r->len);
                if (op->data == NULL)
                    goto out_free;
                vdc_data_fill(&r->data, r->off, op->data, (size_t)r->len);
            }
            note_span(w, op->off, op->len);
            copy_expect(r, &op->expect);
            /* A filling vdread (VD writes what it fetched into the cache
             * after a miss): the bytes are the expected data, so writing
             * them over the whole range stores what VD would.  Not on a
             * read-only handle (VD's write fails there and nothing lands),
             * and not when the data is not fully described. */
            if (r->op == VDC_OP_VDREAD && r->fill && !ro && data_concrete(&r->data)) {
                op = add_op(w, VDC_WOP_WRITE);
                if (op == NULL)
                    goto out_free;
                op->off = r->off;
                op->len = r->len;
                op->data = malloc((size_t)r->len);
                if (op->data == NULL)
                    goto out_free;
                vdc_data_fill(&r->data, r->off, op->data, (size_t)r->len);
                op = NULL;
            }
            op = NULL;
            continue;
        case VDC_OP_SET_MOD_UUID:
            if (r->uuid.kind != VDC_UUID_LIT)
                continue;
            op = add_op(w, VDC_WOP_SETUUID);
            if (op == NULL)
                goto out_free;
            memcpy(&op->seed, r->uuid.lit.au8, sizeof op->seed);
            break;
        default:
            break;
        }
        if (op != NULL)
            copy_expect(r, &op->expect);
    }
    *out = w;
    return VINF_SUCCESS;

out_free:
    vdc_workload_free(w);
    return rc;
}

const char *vdc_wop_name(vdc_wop_kind k)
{
    switch (k) {
    case VDC_WOP_CREATE: return "create";
    case VDC_WOP_OPEN: return "open";
    case VDC_WOP_CLOSE: return "close";
    case VDC_WOP_WRITE: return "write";
    case VDC_WOP_READ: return "read";
    case VDC_WOP_FLUSH: return "flush";
    case VDC_WOP_DISCARD: return "discard";
    case VDC_WOP_SETUUID: return "set-mod-uuid";
    case VDC_WOP_SETFLAGS: return "set-open-flags";
    }
    return "?";
}
