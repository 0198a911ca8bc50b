/*
 * harness/conformance/gen_random.c - the seeded random trace generator of
 * `vdcc gen --seed S --ops N`.
 *
 * Contract and error codes: gen.h (VINF_SUCCESS, VERR_INVALID_PARAMETER,
 * VERR_NO_MEMORY, VERR_TOO_MUCH_DATA).  What each call may answer comes
 * from gen_model.h; this file only chooses the calls.  Output depends on
 * the options and VDC_GEN_VERSION alone: the random numbers come from a
 * splitmix64 stream seeded with opts.seed, consumed in a fixed order.
 *
 * The walk: handle c0 is created first and always exists; c1 (fixed or
 * dynamic) is created and deleted now and then, so two images are open at
 * once (OPEN-5).  Each step picks an open handle and an operation by fixed
 * weights, which differ for read-write and read-only instances.  Ranges
 * are mostly inside four times the capacity (so the cache must evict),
 * often overlapping a recent write, sometimes terabytes away (WRITE-5);
 * 60% are 4 KiB-aligned, 25% 512-aligned, 15% of any length at any sector;
 * with opts.unaligned those 15% are byte-granular (WRITE-6).  Either way
 * the random stream is consumed alike: --unaligned changes only where
 * those ranges start and end.
 */
#include "gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_model.h"

#define NHOT 8

typedef struct rg {
    vdc_genm g;
    uint64_t state;
    uint64_t cap;
    bool     discard;
    bool     unaligned;
    uint64_t hot_off[NHOT], hot_len[NHOT];
    unsigned nhot, hot_next;
} rg;

static uint64_t rnd(rg *r)
{
    uint64_t z = (r->state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static uint64_t below(rg *r, uint64_t n)
{
    return n != 0 ? rnd(r) % n : 0;
}

static bool chance(rg *r, unsigned pct)
{
    return below(r, 100) < pct;
}

static void rnd_uuid(rg *r, RTUUID *u)
{
    uint64_t a = rnd(r), b = rnd(r);
    for (unsigned i = 0; i < 8; i++) {
        u->au8[i] = (uint8_t)(a >> (8 * i));
        u->au8[8 + i] = (uint8_t)(b >> (8 * i));
    }
    u->au8[6] = (uint8_t)((u->au8[6] & 0x0f) | 0x40);
    u->au8[8] = (uint8_t)((u->au8[8] & 0x3f) | 0x80);
}

/* Offsets far beyond any capacity; the last is near the format's 2^62 limit. */
static const uint64_t far_bases[] = {
    UINT64_C(1) << 40, (UINT64_C(3) << 40) + (UINT64_C(5) << 20), UINT64_C(1) << 46,
    UINT64_C(1000) << 40, (UINT64_C(1) << 62) - (UINT64_C(16) << 20),
};

static void pick_range(rg *r, bool for_read, uint64_t *off, uint64_t *len)
{
    unsigned mode = (unsigned)below(r, 100);
    uint64_t o;
    if (mode < 5) {
        o = far_bases[below(r, sizeof far_bases / sizeof far_bases[0])] + below(r, 16) * 4096;
        *off = o;
        *len = 4096 * (1 + below(r, 16));
        return;
    }
    if (mode < 45 && r->nhot > 0) {
        unsigned k = (unsigned)below(r, r->nhot);
        uint64_t ho = r->hot_off[k], hl = r->hot_len[k];
        o = ho >= hl / 2 ? ho - hl / 2 + below(r, 2 * hl) : below(r, ho + 2 * hl);
    } else {
        o = below(r, 4 * r->cap);
    }
    unsigned align = (unsigned)below(r, 100);
    if (align < 60) {
        *off = o & ~UINT64_C(4095);
        *len = 4096 * (1 + below(r, for_read ? 32 : 16));
    } else if (align < 85) {
        *off = o & ~UINT64_C(511);
        *len = 512 * (1 + below(r, for_read ? 256 : 128));
    } else {
        *off = o;
        *len = 1 + below(r, for_read ? 40000 : 20000);
        if (!r->unaligned) { /* whole sectors, as VD asks for */
            *off &= ~UINT64_C(511);
            *len = (*len + 511) & ~UINT64_C(511);
        }
    }
}

static void remember(rg *r, uint64_t off, uint64_t len)
{
    r->hot_off[r->hot_next] = off;
    r->hot_len[r->hot_next] = len;
    r->hot_next = (r->hot_next + 1) % NHOT;
    if (r->nhot < NHOT)
        r->nhot++;
}

static vdc_cell pick_cell(rg *r)
{
    vdc_cell c = { .kind = VDC_CELL_DATA };
    unsigned k = (unsigned)below(r, 100);
    if (k < 90)
        c.seg = (vdc_seg){ .kind = VDC_GEN_PATTERN, .seed = vdc_genm_seed(&r->g) };
    else if (k < 95)
        c.seg = (vdc_seg){ .kind = VDC_GEN_ZERO };
    else
        c.seg = (vdc_seg){ .kind = VDC_GEN_FILL, .fill = (uint8_t)below(r, 256) };
    return c;
}

static unsigned pick_rw_flags(rg *r)
{
    static const unsigned extra[] = { VD_OPEN_FLAGS_HONOR_ZEROES, VD_OPEN_FLAGS_SHAREABLE,
                                      VD_OPEN_FLAGS_IGNORE_FLUSH, VD_OPEN_FLAGS_SEQUENTIAL,
                                      VD_OPEN_FLAGS_DISCARD };
    if (!chance(r, 20))
        return VD_OPEN_FLAGS_NORMAL;
    return extra[below(r, sizeof extra / sizeof extra[0])];
}

static unsigned pick_ro_flags(rg *r)
{
    return VD_OPEN_FLAGS_READONLY | (chance(r, 20) ? VD_OPEN_FLAGS_SHAREABLE : 0);
}

static void create(rg *r, unsigned hi)
{
    RTUUID u;
    rnd_uuid(r, &u);
    unsigned image = hi == 1 && chance(r, 50) ? VD_IMAGE_FLAGS_FIXED : VD_IMAGE_FLAGS_NONE;
    vdc_genm_create(&r->g, hi, r->cap, image, &u);
}

/* Weighted choice: w[i] is the weight of choice i. */
static unsigned pick(rg *r, const unsigned *w, unsigned n)
{
    unsigned total = 0;
    for (unsigned i = 0; i < n; i++)
        total += w[i];
    unsigned x = (unsigned)below(r, total);
    for (unsigned i = 0; i < n; i++) {
        if (x < w[i])
            return i;
        x -= w[i];
    }
    return n - 1;
}

enum {
    OP_VDWRITE, OP_WRITE, OP_VDREAD, OP_READ, OP_FILL, OP_FLUSH, OP_REOPEN_RW, OP_REOPEN_RO,
    OP_SETFLAGS, OP_MODUUID, OP_UUID, OP_COMMENT, OP_DISCARD, OP_RECREATE, OP_PROBE, OP_FOREIGN,
    OP_COUNT_
};

static void step(rg *r, unsigned hi)
{
    vdc_genm *g = &r->g;
    bool ro = g->h[hi].ro;
    /*                             vdw  w  vdr rd fil fl rrw rro flg mod uu cm dis rec prb frn */
    static const unsigned w_rw[] = { 20, 7, 18, 10, 5, 5, 3, 3, 3, 3, 2, 1, 4, 1, 1, 1 };
    static const unsigned w_ro[] = { 4, 3, 18, 10, 0, 3, 6, 1, 4, 3, 1, 0, 2, 0, 1, 0 };
    unsigned w[OP_COUNT_];
    memcpy(w, ro ? w_ro : w_rw, sizeof w);
    if (!r->discard)
        w[OP_DISCARD] = 0;
    uint64_t off, len;
    unsigned op = pick(r, w, OP_COUNT_);
    switch (op) {
    case OP_VDWRITE:
    case OP_WRITE: {
        bool vd = op == OP_VDWRITE;
        pick_range(r, false, &off, &len);
        vdc_cell c = pick_cell(r);
        if (vd)
            vdc_genm_vdwrite(g, hi, off, len, &c);
        else
            vdc_genm_write(g, hi, off, len, &c);
        if (!ro)
            remember(r, off, len);
        /* Half the single writes are completed by VD's loop, making the
         * model exact again. */
        if (!vd && !ro && chance(r, 50))
            vdc_genm_vdwrite(g, hi, off, len, &c);
        break;
    }
    case OP_VDREAD:
        pick_range(r, true, &off, &len);
        vdc_genm_read(g, hi, off, len, VDC_GENM_READ_VD);
        break;
    case OP_READ:
        pick_range(r, true, &off, &len);
        vdc_genm_read(g, hi, off, len, VDC_GENM_READ_RAW);
        break;
    case OP_FILL:
        pick_range(r, true, &off, &len);
        vdc_genm_read(g, hi, off, len, VDC_GENM_READ_FILL);
        break;
    case OP_FLUSH:
        vdc_genm_flush(g, hi);
        break;
    case OP_REOPEN_RW:
        vdc_genm_close(g, hi, false);
        vdc_genm_open(g, hi, pick_rw_flags(r));
        break;
    case OP_REOPEN_RO:
        vdc_genm_close(g, hi, false);
        vdc_genm_open(g, hi, pick_ro_flags(r));
        break;
    case OP_SETFLAGS:
        vdc_genm_set_open_flags(g, hi, ro ? VD_OPEN_FLAGS_NORMAL : VD_OPEN_FLAGS_READONLY);
        break;
    case OP_MODUUID: {
        RTUUID u;
        rnd_uuid(r, &u);
        if (chance(r, 70))
            vdc_genm_set_mod_uuid(g, hi, &u);
        vdc_genm_get_mod_uuid(g, hi);
        break;
    }
    case OP_UUID: {
        RTUUID u;
        rnd_uuid(r, &u);
        if (chance(r, 50))
            vdc_genm_set_uuid(g, hi, &u);
        vdc_genm_get_uuid(g, hi);
        break;
    }
    case OP_COMMENT: {
        char text[64];
        snprintf(text, sizeof text, "vdcc gen comment %llx", (unsigned long long)below(r, UINT64_C(1) << 48));
        vdc_genm_comment(g, hi, text);
        break;
    }
    case OP_DISCARD:
        off = below(r, 4 * r->cap) & ~UINT64_C(0xffff);
        len = (UINT64_C(64) << 10) * (1 + below(r, 4));
        vdc_genm_discard(g, hi, off, len);
        break;
    case OP_RECREATE:
        vdc_genm_close(g, hi, true);
        create(r, hi);
        break;
    case OP_PROBE:
        vdc_genm_close(g, hi, false);
        vdc_genm_probe(g, hi);
        vdc_genm_open(g, hi, ro ? pick_ro_flags(r) : pick_rw_flags(r));
        break;
    case OP_FOREIGN:
        vdc_genm_probe_foreign(g, below(r, 3) == 0 ? below(r, 600) : 512 * (1 + below(r, 64)),
                               vdc_genm_seed(g));
        break;
    default:
        break;
    }
}

int vdc_gen_random(const vdc_gen_opts *o, vdc_trace **out, char *err, size_t cb_err)
{
    *out = NULL;
    if (err != NULL && cb_err > 0)
        err[0] = '\0';
    uint64_t cap = o->capacity != 0 ? o->capacity : VDC_GEN_DEFAULT_CAPACITY;
    if (o->ops < VDC_GEN_MIN_OPS || o->ops > VDC_GEN_MAX_OPS) {
        snprintf(err, cb_err, "--ops must be in %u..%u", VDC_GEN_MIN_OPS, VDC_GEN_MAX_OPS);
        return VERR_INVALID_PARAMETER;
    }
    if (cap < VDC_GEN_MIN_CAPACITY || cap > VDC_GEN_MAX_CAPACITY) {
        snprintf(err, cb_err, "--capacity must be in 64K..1T");
        return VERR_INVALID_PARAMETER;
    }

    rg *r = calloc(1, sizeof *r);
    if (r == NULL)
        return VERR_NO_MEMORY;
    char name[96];
    snprintf(name, sizeof name, "gen-random-s%llu-n%u%s%s", (unsigned long long)o->seed, o->ops,
             o->discard ? "-discard" : "", o->unaligned ? "-unaligned" : "");
    uint64_t caps = VD_CAP_CREATE_DYNAMIC | VD_CAP_CREATE_FIXED | (o->discard ? VD_CAP_DISCARD : 0);
    int rc = vdc_genm_init(&r->g, name, caps, 2, 1 + (o->seed % 1000) * 1000000);
    if (rc != VINF_SUCCESS) {
        free(r);
        return rc;
    }
    r->state = o->seed;
    r->cap = cap;
    r->discard = o->discard;
    r->unaligned = o->unaligned;

    vdc_genm *g = &r->g;
    create(r, 0);
    while (vdc_genm_status(g) == VINF_SUCCESS && vdc_genm_nrecords(g) < o->ops) {
        /* The second image comes and goes. */
        if (!g->h[1].exists && chance(r, 2)) {
            create(r, 1);
            continue;
        }
        if (g->h[1].open && chance(r, 1)) {
            vdc_genm_close(g, 1, true);
            continue;
        }
        unsigned hi = g->h[1].open && chance(r, 25) ? 1 : 0;
        step(r, hi);
    }
    for (unsigned i = 0; i < g->nh; i++)
        if (g->h[i].open)
            vdc_genm_close(g, i, false);
    if (vdc_genm_status(g) != VINF_SUCCESS && err != NULL)
        snprintf(err, cb_err, "%s", g->err);
    rc = vdc_genm_take(g, out);
    free(r);
    return rc;
}
