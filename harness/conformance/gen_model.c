/*
 * harness/conformance/gen_model.c - the contract-level cache model behind
 * `vdcc gen`, and the records that state what it allows.
 *
 * Contract, error codes (VINF_SUCCESS, VERR_NO_MEMORY, VERR_TOO_MUCH_DATA,
 * VERR_INVALID_PARAMETER) and the model's rules: gen_model.h.  Clauses are
 * spec/contract.md; record syntax is spec/trace-format.md section 4.
 */
#include "gen_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A record groups at most this many data segments (the format allows 256;
 * 128 keeps the canonical line well under its 16 KiB limit). */
#define GENM_MAX_SEGS 128u

static const vdc_alt alt_ok[] = { { VDC_ALT_STATUS, VINF_SUCCESS, 0 } };
static const vdc_alt alt_hit_miss[] = { { VDC_ALT_HIT, 0, 0 }, { VDC_ALT_MISS, 0, 1 } };
static const vdc_alt alt_miss[] = { { VDC_ALT_MISS, 0, 1 } };
static const vdc_alt alt_ro[] = { { VDC_ALT_STATUS, VERR_VD_IMAGE_READ_ONLY, 0 } };
static const vdc_alt alt_ok_ns[] = { { VDC_ALT_STATUS, VINF_SUCCESS, 0 }, { VDC_ALT_STATUS, VERR_NOT_SUPPORTED, 0 } };
/* For records that rest on SHOULD clauses alone (UUID-3): the contract
 * accepts any answer, and alt_ok_ns is what a good backend says (should=). */
static const vdc_alt alt_any[] = { { VDC_ALT_ANY, 0, 0 } };
static const vdc_alt alt_ro_ns[] = { { VDC_ALT_STATUS, VERR_VD_IMAGE_READ_ONLY, 0 },
                                     { VDC_ALT_STATUS, VERR_NOT_SUPPORTED, 0 } };
static const vdc_alt alt_invhdr[] = { { VDC_ALT_STATUS, VERR_VD_GEN_INVALID_HEADER, 0 } };

#define ALTS(a) ((vdc_alts){ sizeof(a) / sizeof((a)[0]), (a) })

/* Every clause the model names; a record points at one entry. */
static const char *const clause_names[] = {
    "CREATE-1", "OPEN-1", "CLOSE-1", "CLOSE-2", "PROBE-1", "PROBE-2", "READ-1", "READ-3", "READ-5",
    "WRITE-1", "WRITE-2", "WRITE-3", "WRITE-4", "WRITE-5", "WRITE-6", "FLUSH-1", "DISCARD-1",
    "DISCARD-3", "INFO-2", "INFO-3", "INFO-4", "UUID-1", "UUID-2", "UUID-3", "UUID-4",
};

/* Makes the one clause `name` (from clause_names) the record's clause list. */
static void set_clause(vdc_record *r, const char *name)
{
    for (size_t i = 0; i < sizeof clause_names / sizeof clause_names[0]; i++) {
        if (strcmp(clause_names[i], name) == 0) {
            r->nclauses = 1;
            r->clauses = &clause_names[i];
            return;
        }
    }
}

int vdc_genm_init(vdc_genm *g, const char *name, uint64_t caps, unsigned nh, uint64_t first_seed)
{
    memset(g, 0, sizeof *g);
    if (nh == 0 || nh > VDC_GENM_MAX_HANDLES)
        return VERR_INVALID_PARAMETER;
    g->t = vdc_trace_new(name);
    if (g->t == NULL)
        return VERR_NO_MEMORY;
    vdc_trace_set_caps(g->t, caps);
    g->discard = (caps & VD_CAP_DISCARD) != 0;
    g->next_seed = first_seed;
    g->nh = nh;
    for (unsigned i = 0; i < nh; i++) {
        snprintf(g->h[i].name, sizeof g->h[i].name, "c%u", i);
        snprintf(g->h[i].file, sizeof g->h[i].file, "c%u.vci", i);
        vdc_imap_init(&g->h[i].data);
    }
    return VINF_SUCCESS;
}

void vdc_genm_free(vdc_genm *g)
{
    for (unsigned i = 0; i < g->nh; i++)
        vdc_imap_free(&g->h[i].data);
    vdc_trace_free(g->t);
    g->t = NULL;
    g->nh = 0;
}

int vdc_genm_status(const vdc_genm *g)
{
    return g->rc;
}

unsigned vdc_genm_nrecords(const vdc_genm *g)
{
    return g->t != NULL ? vdc_trace_ncalls(g->t) : 0;
}

int vdc_genm_take(vdc_genm *g, vdc_trace **out)
{
    *out = NULL;
    int rc = g->rc;
    if (rc == VINF_SUCCESS) {
        *out = g->t;
        g->t = NULL;
    }
    vdc_genm_free(g);
    return rc;
}

uint64_t vdc_genm_seed(vdc_genm *g)
{
    return g->next_seed++;
}

/* ---- emitting ----------------------------------------------------------- */

static void fail(vdc_genm *g, int rc, const char *what)
{
    if (g->rc != VINF_SUCCESS)
        return;
    g->rc = rc;
    if (g->err[0] == '\0')
        snprintf(g->err, sizeof g->err, "%s", what);
}

static void emit(vdc_genm *g, const vdc_record *r)
{
    if (g->rc != VINF_SUCCESS)
        return;
    int rc = vdc_trace_append(g->t, r, g->err, sizeof g->err);
    if (rc != VINF_SUCCESS)
        g->rc = rc;
}

/* The handle, when hi is valid and its state allows the call (else a sticky
 * VERR_INVALID_PARAMETER: a generator bug). */
static vdc_genm_handle *want(vdc_genm *g, unsigned hi, bool open, const char *what)
{
    if (g->rc != VINF_SUCCESS)
        return NULL;
    if (hi >= g->nh || g->h[hi].open != open) {
        char msg[128];
        snprintf(msg, sizeof msg, "gen_model: %s on handle %u in the wrong state", what, hi);
        fail(g, VERR_INVALID_PARAMETER, msg);
        return NULL;
    }
    return &g->h[hi];
}

static vdc_record rec(vdc_op op, const vdc_genm_handle *h)
{
    vdc_record r;
    memset(&r, 0, sizeof r);
    r.op = op;
    r.handle = h != NULL ? h->name : NULL;
    return r;
}

static void set_model(vdc_genm *g, vdc_genm_handle *h, uint64_t a, uint64_t b, const vdc_cell *c)
{
    if (g->rc == VINF_SUCCESS && vdc_imap_set(&h->data, a, b, c) != VINF_SUCCESS)
        fail(g, VERR_NO_MEMORY, "gen_model: out of memory");
}

/* ---- lifecycle ---------------------------------------------------------- */

void vdc_genm_create(vdc_genm *g, unsigned hi, uint64_t capacity, unsigned image_flags, const RTUUID *uuid)
{
    vdc_genm_handle *h = want(g, hi, false, "create");
    if (h == NULL)
        return;
    vdc_record r = rec(VDC_OP_CREATE, h);
    r.file = h->file;
    r.size = capacity;
    r.image_flags = image_flags;
    r.open_flags = VD_OPEN_FLAGS_NORMAL;
    r.pct_start = 0;
    r.pct_span = 99;
    r.uuid.kind = VDC_UUID_LIT;
    r.uuid.lit = *uuid;
    r.expect = ALTS(alt_ok);
    set_clause(&r, "CREATE-1");
    emit(g, &r);
    vdc_imap_clear(&h->data);
    h->exists = h->open = true;
    h->ro = false;
    h->open_flags = VD_OPEN_FLAGS_NORMAL;
    h->capacity = capacity;
    h->image_flags = image_flags;
    h->uuid_known = true;
    h->uuid = *uuid;
    h->mod_known = false;
}

static void get_open_flags(vdc_genm *g, vdc_genm_handle *h, const char *clause)
{
    vdc_record r = rec(VDC_OP_GET_OPEN_FLAGS, h);
    r.value.cmp = VDC_CMP_EQ;
    r.value.v = h->open_flags;
    set_clause(&r, clause);
    emit(g, &r);
}

void vdc_genm_open(vdc_genm *g, unsigned hi, unsigned open_flags)
{
    vdc_genm_handle *h = want(g, hi, false, "open");
    if (h == NULL)
        return;
    if (!h->exists) {
        fail(g, VERR_INVALID_PARAMETER, "gen_model: open of a handle without an image");
        return;
    }
    vdc_record r = rec(VDC_OP_OPEN, h);
    r.file = h->file;
    r.open_flags = open_flags;
    r.expect = ALTS(alt_ok);
    set_clause(&r, "OPEN-1");
    emit(g, &r);
    h->open = true;
    h->open_flags = open_flags;
    h->ro = (open_flags & VD_OPEN_FLAGS_READONLY) != 0;
    get_open_flags(g, h, "INFO-2");
}

void vdc_genm_close(vdc_genm *g, unsigned hi, bool del)
{
    vdc_genm_handle *h = want(g, hi, true, "close");
    if (h == NULL)
        return;
    vdc_record r = rec(VDC_OP_CLOSE, h);
    r.del = del;
    r.expect = ALTS(alt_ok);
    if (del)
        set_clause(&r, "CLOSE-2");
    else
        set_clause(&r, "CLOSE-1");
    emit(g, &r);
    h->open = false;
    if (del) {
        vdc_record gone = rec(VDC_OP_GONE, NULL);
        gone.file = h->file;
        emit(g, &gone);
        h->exists = false;
        vdc_imap_clear(&h->data);
        h->mod_known = h->uuid_known = false;
    }
}

void vdc_genm_probe(vdc_genm *g, unsigned hi)
{
    vdc_genm_handle *h = want(g, hi, false, "probe");
    if (h == NULL)
        return;
    if (!h->exists) {
        fail(g, VERR_INVALID_PARAMETER, "gen_model: probe of a handle without an image");
        return;
    }
    vdc_record r = rec(VDC_OP_PROBE, NULL);
    r.file = h->file;
    r.expect = ALTS(alt_ok);
    set_clause(&r, "PROBE-2");
    emit(g, &r);
}

void vdc_genm_probe_foreign(vdc_genm *g, uint64_t len, uint64_t seed)
{
    vdc_seg s = { .kind = VDC_GEN_PATTERN, .start = 0, .len = len, .seed = seed };
    vdc_record f = rec(VDC_OP_FILE, NULL);
    f.file = "foreign.bin";
    f.len = len;
    if (len > 0)
        f.data = (vdc_data){ 1, &s };
    emit(g, &f);
    vdc_record r = rec(VDC_OP_PROBE, NULL);
    r.file = "foreign.bin";
    r.expect = ALTS(alt_invhdr);
    set_clause(&r, "PROBE-1");
    emit(g, &r);
}

/* ---- data path ---------------------------------------------------------- */

static vdc_seg cell_seg(const vdc_cell *c, uint64_t off, uint64_t len)
{
    vdc_seg s = c->seg;
    s.start = off;
    s.len = len;
    if (s.kind == VDC_GEN_HEX)   /* the model's writes never use hex; keep it safe anyway */
        s.kind = VDC_GEN_ZERO;
    return s;
}

static bool cell_ok(vdc_genm *g, const vdc_cell *c)
{
    if (c->kind == VDC_CELL_DATA
        && (c->seg.kind == VDC_GEN_PATTERN || c->seg.kind == VDC_GEN_ZERO || c->seg.kind == VDC_GEN_FILL))
        return true;
    fail(g, VERR_INVALID_PARAMETER, "gen_model: a write needs a pattern, zero or fill cell");
    return false;
}

static const char *write_clause(uint64_t off, uint64_t len, bool vd)
{
    if (off >= (UINT64_C(1) << 40))
        return "WRITE-5";
    if ((off | len) % 512 != 0)
        return "WRITE-6";
    return vd ? "WRITE-2" : "WRITE-1";
}

/* A write's expectation: OK, except that an unaligned one rests on WRITE-6
 * alone, a SHOULD (VD never sends it: spec/contract.md), so any answer is
 * accepted and OK is what a good backend says. */
static void set_write_expect(vdc_record *r, uint64_t off, uint64_t len, bool vd)
{
    const char *clause = write_clause(off, len, vd);
    if (strcmp(clause, "WRITE-6") == 0) {
        r->expect = ALTS(alt_any);
        r->should = ALTS(alt_ok);
    } else {
        r->expect = ALTS(alt_ok);
    }
    set_clause(r, clause);
}

void vdc_genm_vdwrite(vdc_genm *g, unsigned hi, uint64_t off, uint64_t len, const vdc_cell *cell)
{
    vdc_genm_handle *h = want(g, hi, true, "vdwrite");
    if (h == NULL || !cell_ok(g, cell))
        return;
    vdc_seg s = cell_seg(cell, off, len);
    vdc_record r = rec(VDC_OP_VDWRITE, h);
    r.off = off;
    r.len = len;
    r.data = (vdc_data){ 1, &s };
    if (h->ro) {
        r.expect = ALTS(alt_ro);
        set_clause(&r, h->open_flags & VD_OPEN_FLAGS_READONLY ? "WRITE-3" : "INFO-3");
        emit(g, &r);
        return;
    }
    set_write_expect(&r, off, len, true);
    emit(g, &r);
    vdc_cell c = { .kind = VDC_CELL_DATA, .seg = s };
    set_model(g, h, off, off + len, &c);
}

void vdc_genm_write(vdc_genm *g, unsigned hi, uint64_t off, uint64_t len, const vdc_cell *cell)
{
    vdc_genm_handle *h = want(g, hi, true, "write");
    if (h == NULL || !cell_ok(g, cell))
        return;
    vdc_seg s = cell_seg(cell, off, len);
    vdc_record r = rec(VDC_OP_WRITE, h);
    r.off = off;
    r.len = len;
    r.data = (vdc_data){ 1, &s };
    if (h->ro) {
        r.expect = ALTS(alt_ro);
        set_clause(&r, "WRITE-3");
        emit(g, &r);
        return;
    }
    set_write_expect(&r, off, len, false);
    emit(g, &r);
    /* WRITE-1: at least the first byte was processed; the rest may not be. */
    vdc_cell c = { .kind = VDC_CELL_DATA, .seg = s };
    vdc_cell any = { .kind = VDC_CELL_ANY };
    set_model(g, h, off, off + 1, &c);
    set_model(g, h, off + 1, off + len, &any);
}

void vdc_genm_flush(vdc_genm *g, unsigned hi)
{
    vdc_genm_handle *h = want(g, hi, true, "flush");
    if (h == NULL)
        return;
    vdc_record r = rec(VDC_OP_FLUSH, h);
    r.expect = ALTS(alt_ok);
    set_clause(&r, "FLUSH-1");
    emit(g, &r);
}

void vdc_genm_discard(vdc_genm *g, unsigned hi, uint64_t off, uint64_t len)
{
    vdc_genm_handle *h = want(g, hi, true, "discard");
    if (h == NULL)
        return;
    if (!g->discard) {
        fail(g, VERR_INVALID_PARAMETER, "gen_model: discard in a trace that does not require DISCARD");
        return;
    }
    vdc_record r = rec(VDC_OP_DISCARD, h);
    r.off = off;
    r.len = len;
    r.discard_flags = 0;
    if (h->ro) {
        r.expect = ALTS(alt_ro);
        set_clause(&r, "DISCARD-3");
        emit(g, &r);
        return;
    }
    r.expect = ALTS(alt_ok);
    set_clause(&r, "DISCARD-1");
    emit(g, &r);
    vdc_cell empty = { .kind = VDC_CELL_EMPTY };
    set_model(g, h, off, off + len, &empty);
}

/* Reads: the walk collects pieces into groups of one class (EMPTY or
 * written), each group becoming one record. */
typedef struct read_walk {
    vdc_genm          *g;
    vdc_genm_handle   *h;
    vdc_genm_read_kind kind;
    bool               have;       /* a group is open */
    bool               empty;      /* its class */
    bool               has_any;    /* it holds ANY bytes */
    uint64_t           start, end;
    unsigned           nsegs;
    vdc_seg            segs[GENM_MAX_SEGS];
    /* EMPTY groups a fill turned into data, applied after the walk */
    uint64_t           filled_start[64], filled_end[64], filled_seed[64];
    unsigned           nfilled;
} read_walk;

static void flush_group(read_walk *w)
{
    vdc_genm *g = w->g;
    if (!w->have)
        return;
    w->have = false;
    bool vd = w->kind != VDC_GENM_READ_RAW;
    bool fill = w->kind == VDC_GENM_READ_FILL && !w->has_any && !w->h->ro;
    vdc_record r = rec(vd ? VDC_OP_VDREAD : VDC_OP_READ, w->h);
    r.off = w->start;
    r.len = w->end - w->start;
    vdc_seg fresh;
    if (w->empty) {
        r.expect = ALTS(alt_miss);
        if (fill && w->nfilled < sizeof w->filled_start / sizeof w->filled_start[0]) {
            fresh = (vdc_seg){ .kind = VDC_GEN_PATTERN, .start = r.off, .len = r.len, .seed = vdc_genm_seed(g) };
            r.fill = true;
            r.data = (vdc_data){ 1, &fresh };
            w->filled_start[w->nfilled] = w->start;
            w->filled_end[w->nfilled] = w->end;
            w->filled_seed[w->nfilled] = fresh.seed;
            w->nfilled++;
            set_clause(&r, "WRITE-4");
        } else {
            set_clause(&r, "READ-3");
        }
    } else {
        r.expect = ALTS(alt_hit_miss);
        r.data = (vdc_data){ w->nsegs, w->segs };
        r.fill = fill;
        if (vd)
            set_clause(&r, "READ-5");
        else
            set_clause(&r, "READ-1");
    }
    emit(g, &r);
}

static bool read_piece(void *ctx, uint64_t a, uint64_t b, const vdc_cell *c)
{
    read_walk *w = ctx;
    bool empty = c->kind == VDC_CELL_EMPTY;
    if (w->have && (w->empty != empty || (!empty && w->nsegs == GENM_MAX_SEGS)))
        flush_group(w);
    if (!w->have) {
        w->have = true;
        w->empty = empty;
        w->has_any = false;
        w->start = a;
        w->nsegs = 0;
    }
    w->end = b;
    if (!empty) {
        vdc_seg s;
        if (c->kind == VDC_CELL_ANY) {
            s = (vdc_seg){ .kind = VDC_GEN_ANY, .start = a, .len = b - a };
            w->has_any = true;
        } else {
            s = c->seg;
            if (s.kind == VDC_GEN_HEX && s.hex != NULL)
                s.hex += a - s.start;
            s.start = a;
            s.len = b - a;
        }
        w->segs[w->nsegs++] = s;
    }
    return w->g->rc == VINF_SUCCESS;
}

void vdc_genm_read(vdc_genm *g, unsigned hi, uint64_t off, uint64_t len, vdc_genm_read_kind kind)
{
    vdc_genm_handle *h = want(g, hi, true, "read");
    if (h == NULL)
        return;
    read_walk *w = calloc(1, sizeof *w);
    if (w == NULL) {
        fail(g, VERR_NO_MEMORY, "gen_model: out of memory");
        return;
    }
    w->g = g;
    w->h = h;
    w->kind = kind;
    vdc_imap_walk(&h->data, off, off + len, read_piece, w);
    flush_group(w);
    for (unsigned i = 0; i < w->nfilled; i++) {
        vdc_cell c = { .kind = VDC_CELL_DATA,
                       .seg = { .kind = VDC_GEN_PATTERN, .start = w->filled_start[i],
                                .len = w->filled_end[i] - w->filled_start[i], .seed = w->filled_seed[i] } };
        set_model(g, h, w->filled_start[i], w->filled_end[i], &c);
    }
    free(w);
}

/* ---- getters and setters ------------------------------------------------ */

void vdc_genm_set_open_flags(vdc_genm *g, unsigned hi, unsigned open_flags)
{
    vdc_genm_handle *h = want(g, hi, true, "set-open-flags");
    if (h == NULL)
        return;
    vdc_record r = rec(VDC_OP_SET_OPEN_FLAGS, h);
    r.open_flags = open_flags;
    r.expect = ALTS(alt_ok);
    set_clause(&r, "INFO-3");
    emit(g, &r);
    h->open_flags = open_flags;
    h->ro = (open_flags & VD_OPEN_FLAGS_READONLY) != 0;
    get_open_flags(g, h, "INFO-2");
}

static void set_uuid(vdc_genm *g, unsigned hi, const RTUUID *u, bool mod)
{
    vdc_genm_handle *h = want(g, hi, true, "set-uuid");
    if (h == NULL)
        return;
    vdc_record r = rec(mod ? VDC_OP_SET_MOD_UUID : VDC_OP_SET_UUID, h);
    r.uuid.kind = VDC_UUID_LIT;
    r.uuid.lit = *u;
    if (h->ro) {
        r.expect = ALTS(alt_ro_ns);
        set_clause(&r, "UUID-4");
        emit(g, &r);
        return;
    }
    if (mod) {
        r.expect = ALTS(alt_ok_ns);
        set_clause(&r, "UUID-1");
    } else {
        r.expect = ALTS(alt_any);
        r.should = ALTS(alt_ok_ns);
        set_clause(&r, "UUID-3");
    }
    emit(g, &r);
    if (mod) {
        h->mod_known = true;
        h->mod = *u;
    } else {
        h->uuid_known = true;
        h->uuid = *u;
    }
}

static void get_uuid(vdc_genm *g, unsigned hi, bool mod)
{
    vdc_genm_handle *h = want(g, hi, true, "get-uuid");
    if (h == NULL)
        return;
    vdc_record r = rec(mod ? VDC_OP_GET_MOD_UUID : VDC_OP_GET_UUID, h);
    r.expect = mod ? ALTS(alt_ok_ns) : ALTS(alt_any);
    if (!mod)
        r.should = ALTS(alt_ok_ns);
    bool known = mod ? h->mod_known : h->uuid_known;
    if (known) {
        r.out_uuid.kind = VDC_UUID_LIT;
        r.out_uuid.lit = mod ? h->mod : h->uuid;
    }
    if (mod)
        set_clause(&r, "UUID-2");
    else
        set_clause(&r, "UUID-3");
    emit(g, &r);
}

void vdc_genm_set_mod_uuid(vdc_genm *g, unsigned hi, const RTUUID *u)
{
    set_uuid(g, hi, u, true);
}

void vdc_genm_get_mod_uuid(vdc_genm *g, unsigned hi)
{
    get_uuid(g, hi, true);
}

void vdc_genm_set_uuid(vdc_genm *g, unsigned hi, const RTUUID *u)
{
    set_uuid(g, hi, u, false);
}

void vdc_genm_get_uuid(vdc_genm *g, unsigned hi)
{
    get_uuid(g, hi, false);
}

void vdc_genm_comment(vdc_genm *g, unsigned hi, const char *comment)
{
    vdc_genm_handle *h = want(g, hi, true, "comment");
    if (h == NULL)
        return;
    if (h->ro) {
        fail(g, VERR_INVALID_PARAMETER, "gen_model: comment on a read-only handle");
        return;
    }
    vdc_record r = rec(VDC_OP_SET_COMMENT, h);
    r.str = (vdc_str){ .given = true, .null = false, .s = comment };
    r.expect = ALTS(alt_ok_ns);
    set_clause(&r, "INFO-4");
    emit(g, &r);
    vdc_record q = rec(VDC_OP_GET_COMMENT, h);
    q.buf = 1024;
    q.out_str = (vdc_str){ .given = true, .null = false, .s = comment };
    q.expect = ALTS(alt_ok_ns);
    set_clause(&q, "INFO-4");
    emit(g, &q);
}
