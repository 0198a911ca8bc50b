/*
 * harness/conformance/tests/test_conf_gen.c - the run map and the trace
 * generators (imap.h, gen.h): the map agrees with a byte array; generation
 * is deterministic and 512-aligned unless asked otherwise; generated
 * traces parse back equal, pass on four unrelated correct backends (mini,
 * ref, toy; ref with discards) and fail on backends that lie.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../../ref/ref.h"
#include "../../../tests/check.h"
#include "../../tests/backends/tb.h"
#include "../../trace/replay.h"
#include "../gen.h"
#include "../imap.h"
#include "mini.h"

/* ---- the run map against a byte array ------------------------------------------ */

#define DOM 2048u

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Cell ids: 0 EMPTY, 1 ANY, 2+k pattern seed k. */
static vdc_cell cell_of(unsigned id)
{
    vdc_cell c = { .kind = id == 0 ? VDC_CELL_EMPTY : id == 1 ? VDC_CELL_ANY : VDC_CELL_DATA };
    if (id >= 2)
        c.seg = (vdc_seg){ .kind = VDC_GEN_PATTERN, .seed = id - 2 };
    return c;
}

static unsigned id_of(const vdc_cell *c)
{
    return c->kind == VDC_CELL_EMPTY ? 0 : c->kind == VDC_CELL_ANY ? 1 : (unsigned)c->seg.seed + 2;
}

typedef struct walk_check {
    const unsigned char *naive;
    uint64_t next;
    int bad;
} walk_check;

static bool walk_cb(void *ctx, uint64_t a, uint64_t b, const vdc_cell *c)
{
    walk_check *w = ctx;
    if (a != w->next || a >= b)
        w->bad++;
    for (uint64_t x = a; x < b; x++)
        if (w->naive[x] != id_of(c))
            w->bad++;
    w->next = b;
    return true;
}

static void test_imap_matches_bytes(void)
{
    unsigned char naive[DOM];
    memset(naive, 0, sizeof naive);
    vdc_imap m;
    vdc_imap_init(&m);
    uint64_t s = 42;
    for (unsigned op = 0; op < 4000; op++) {
        uint64_t a = rng_next(&s) % DOM, len = 1 + rng_next(&s) % 300;
        uint64_t b = a + len > DOM ? DOM : a + len;
        unsigned id = (unsigned)(rng_next(&s) % 6); /* few ids: runs merge often */
        vdc_cell c = cell_of(id);
        REQUIRE(vdc_imap_set(&m, a, b, &c) == VINF_SUCCESS);
        memset(naive + a, id, (size_t)(b - a));
        /* invariants: sorted, disjoint, non-empty, no EMPTY, touching runs differ */
        for (size_t i = 0; i < m.n; i++) {
            CHECK(m.v[i].start < m.v[i].end);
            CHECK(m.v[i].cell.kind != VDC_CELL_EMPTY);
            if (i > 0) {
                CHECK(m.v[i - 1].end <= m.v[i].start);
                if (m.v[i - 1].end == m.v[i].start)
                    CHECK(!vdc_cell_equal(&m.v[i - 1].cell, &m.v[i].cell));
            }
        }
        if (op % 97 == 0) {
            for (uint64_t x = 0; x < DOM; x++) {
                vdc_cell at = vdc_imap_at(&m, x);
                if (id_of(&at) != naive[x]) {
                    CHECK(id_of(&at) == naive[x]);
                    break;
                }
            }
            uint64_t wa = rng_next(&s) % DOM, wb = wa + 1 + rng_next(&s) % (DOM - wa);
            walk_check w = { naive, wa, 0 };
            vdc_imap_walk(&m, wa, wb, walk_cb, &w);
            CHECK_EQ(w.bad, 0);
            CHECK_EQ(w.next, wb);
        }
    }
    vdc_imap_clear(&m);
    CHECK_EQ(m.n, 0);
    vdc_imap_free(&m);
}

/* ---- generation ------------------------------------------------------------------ */

/* The canonical text of t with comment, in memory (caller frees). */
static char *text_of(const vdc_trace *t, const char *comment, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (f == NULL)
        return NULL;
    int rc = vdc_gen_write(t, comment, f);
    fclose(f);
    if (rc != VINF_SUCCESS) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static vdc_trace *gen_opts(const vdc_gen_opts *o)
{
    vdc_trace *t = NULL;
    char err[256];
    int rc = vdc_gen_random(o, &t, err, sizeof err);
    if (rc != VINF_SUCCESS)
        fprintf(stderr, "  vdc_gen_random: %d %s\n", rc, err);
    return t;
}

static vdc_trace *gen(uint64_t seed, unsigned ops, uint64_t cap, bool discard)
{
    vdc_gen_opts o = { .seed = seed, .ops = ops, .capacity = cap, .discard = discard };
    return gen_opts(&o);
}

/* Data ranges (reads, writes, discards) whose offset or length is not a multiple of 512. */
static unsigned unaligned_ranges(const vdc_trace *t)
{
    unsigned n = 0;
    for (unsigned i = 0; i < vdc_trace_ncalls(t); i++) {
        const vdc_record *r = vdc_trace_record(t, i);
        bool ranged = r->op == VDC_OP_READ || r->op == VDC_OP_WRITE || r->op == VDC_OP_VDREAD
                   || r->op == VDC_OP_VDWRITE || r->op == VDC_OP_DISCARD;
        n += ranged && (r->off % 512 != 0 || r->len % 512 != 0);
    }
    return n;
}

static void test_gen_deterministic(void)
{
    vdc_trace *a = gen(7, 1500, 0, false), *b = gen(7, 1500, 0, false), *c = gen(8, 1500, 0, false);
    REQUIRE(a != NULL && b != NULL && c != NULL);
    size_t la = 0, lb = 0, lc = 0;
    char *ta = text_of(a, "x", &la), *tb = text_of(b, "x", &lb), *tc = text_of(c, "x", &lc);
    REQUIRE(ta != NULL && tb != NULL && tc != NULL);
    CHECK(la == lb && memcmp(ta, tb, la) == 0);
    CHECK(la != lc || memcmp(ta, tc, la) != 0);
    unsigned n = vdc_trace_ncalls(a);
    CHECK(n >= 1500 && n <= 1600);
    free(ta);
    free(tb);
    free(tc);
    vdc_trace_free(a);
    vdc_trace_free(b);
    vdc_trace_free(c);
}

static void test_gen_round_trip(void)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        vdc_trace *t = gen(seed, 800, 0, seed == 3);
        REQUIRE(t != NULL);
        size_t len = 0;
        char *text = text_of(t, "round trip", &len);
        REQUIRE(text != NULL);
        vdc_trace *back = NULL;
        char err[256];
        int rc = vdc_trace_parse(text, len, "gen", &back, err, sizeof err);
        if (rc != VINF_SUCCESS)
            fprintf(stderr, "  parse: %s\n", err);
        CHECK_EQ(rc, VINF_SUCCESS);
        if (back != NULL)
            CHECK(vdc_trace_equal(t, back));
        vdc_trace_free(back);
        free(text);
        vdc_trace_free(t);
    }
}

static vdc_outcome replay_on(const vdc_trace *t, const VDCACHEBACKEND *be, char *msg, size_t cb)
{
    vdc_replay_opts o = { .backend = be };
    vdc_replay_result *r = calloc(1, sizeof *r);
    if (r == NULL)
        return VDC_ERROR;
    int rc = vdc_replay(t, &o, r);
    vdc_outcome oc = rc == VINF_SUCCESS ? r->outcome : VDC_ERROR;
    if (msg != NULL)
        snprintf(msg, cb, "%s", r->message);
    free(r);
    return oc;
}

static void expect_pass(const vdc_trace *t, const VDCACHEBACKEND *be, const char *what)
{
    char msg[2048];
    vdc_outcome oc = replay_on(t, be, msg, sizeof msg);
    if (oc != VDC_PASS)
        fprintf(stderr, "  %s on %s: %s\n%s\n", what, be->pszBackendName, vdc_outcome_name(oc), msg);
    CHECK(oc == VDC_PASS);
}

static void test_gen_passes_correct_backends(void)
{
    const VDCACHEBACKEND *bes[] = { &conf_mini_backend, &vdcc_ref_backend, &vdcc_toy_backend,
                                    &conf_forget_backend };
    for (uint64_t seed = 1; seed <= 4; seed++) {
        /* a small capacity makes the caches evict and the hot spots collide */
        vdc_trace *t = gen(seed, 1200, seed % 2 ? UINT64_C(64) << 10 : 0, false);
        REQUIRE(t != NULL);
        for (size_t i = 0; i < sizeof bes / sizeof bes[0]; i++)
            expect_pass(t, bes[i], "random");
        vdc_trace_free(t);
    }
    vdc_trace *d = gen(5, 1500, 0, true);
    REQUIRE(d != NULL);
    expect_pass(d, &vdcc_ref_backend, "random with discards");
    /* mini has no discard: the trace needs a capability it lacks */
    CHECK(replay_on(d, &conf_mini_backend, NULL, 0) == VDC_SKIP);
    vdc_trace_free(d);
}

static void test_gen_catches_liars(void)
{
    unsigned lying = 0, planted = 0;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        vdc_trace *t = gen(seed, 1500, UINT64_C(64) << 10, false);
        REQUIRE(t != NULL);
        lying += replay_on(t, &conf_lying_backend, NULL, 0) == VDC_FAIL;
        planted += replay_on(t, &conf_planted_backend, NULL, 0) == VDC_FAIL;
        vdc_trace_free(t);
    }
    printf("# random traces failing on the lying backend: %u of 4, on the planted one: %u of 4\n", lying, planted);
    CHECK(lying >= 3);
    CHECK(planted >= 3);
}

static void test_gen_bad_options(void)
{
    vdc_trace *t = (vdc_trace *)1;
    char err[256];
    vdc_gen_opts o = { .seed = 1, .ops = 3 };
    CHECK_EQ(vdc_gen_random(&o, &t, err, sizeof err), VERR_INVALID_PARAMETER);
    CHECK(t == NULL);
    CHECK(strstr(err, "--ops") != NULL);
    o.ops = 100;
    o.capacity = 100;
    CHECK_EQ(vdc_gen_random(&o, &t, err, sizeof err), VERR_INVALID_PARAMETER);
    vdc_gen_exh_opts e = { .depth = 0, .first = -1, .containing = -1 };
    CHECK_EQ(vdc_gen_exhaustive(&e, &t, NULL, err, sizeof err), VERR_INVALID_PARAMETER);
    CHECK_EQ(vdc_gen_exhaustive_count(&e), 0);
    e.depth = 2;
    e.first = 7; /* dA needs discard */
    CHECK_EQ(vdc_gen_exhaustive(&e, &t, NULL, err, sizeof err), VERR_INVALID_PARAMETER);
}

static void test_exhaustive(void)
{
    vdc_gen_exh_opts all3 = { .depth = 3, .first = -1, .containing = -1 };
    CHECK_EQ(vdc_gen_exhaustive_count(&all3), 7 + 49 + 343);
    vdc_gen_exh_opts first = { .depth = 3, .first = 0, .containing = -1 };
    CHECK_EQ(vdc_gen_exhaustive_count(&first), 1 + 7 + 49);
    vdc_gen_exh_opts with = { .depth = 3, .discard = true, .first = -1, .containing = 7 };
    CHECK_EQ(vdc_gen_exhaustive_count(&with), (8 + 64 + 512) - (7 + 49 + 343));
    CHECK_EQ(vdc_gen_alphabet_size(false), 7);
    CHECK(vdc_gen_letter_name(7) != NULL && strcmp(vdc_gen_letter_name(7), "dA") == 0);
    CHECK(vdc_gen_letter_name(8) == NULL);

    vdc_trace *t = NULL;
    uint64_t nseq = 0;
    char err[256];
    vdc_gen_exh_opts d2 = { .depth = 2, .first = -1, .containing = -1 };
    REQUIRE(vdc_gen_exhaustive(&d2, &t, &nseq, err, sizeof err) == VINF_SUCCESS);
    CHECK_EQ(nseq, 7 + 49);
    /* one create per sequence */
    unsigned creates = 0;
    for (unsigned i = 0; i < vdc_trace_ncalls(t); i++)
        creates += vdc_trace_record(t, i)->op == VDC_OP_CREATE;
    CHECK_EQ(creates, nseq);
    expect_pass(t, &conf_mini_backend, "exhaustive d2");
    expect_pass(t, &vdcc_ref_backend, "exhaustive d2");
    expect_pass(t, &vdcc_toy_backend, "exhaustive d2");
    CHECK(replay_on(t, &conf_lying_backend, NULL, 0) == VDC_FAIL);
    vdc_trace_free(t);

    vdc_gen_exh_opts dd = { .depth = 3, .discard = true, .first = -1, .containing = 7 };
    REQUIRE(vdc_gen_exhaustive(&dd, &t, &nseq, err, sizeof err) == VINF_SUCCESS);
    CHECK_EQ(nseq, 185);
    CHECK((vdc_trace_required_caps(t) & VD_CAP_DISCARD) != 0);
    expect_pass(t, &vdcc_ref_backend, "exhaustive d3 with discards");
    vdc_trace_free(t);
}

/* VD only ever asks for whole sectors: so does a generated trace, unless
 * told otherwise; --unaligned takes the same steps at byte granularity. */
static void test_gen_aligned_by_default(void)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        vdc_gen_opts o = { .seed = seed, .ops = 1500 };
        vdc_trace *a = gen_opts(&o);
        o.unaligned = true;
        vdc_trace *u = gen_opts(&o);
        REQUIRE(a != NULL && u != NULL);
        CHECK_EQ(unaligned_ranges(a), 0);
        CHECK(unaligned_ranges(u) >= 50);
        CHECK(strstr(vdc_trace_name(u), "-unaligned") != NULL && strstr(vdc_trace_name(a), "-unaligned") == NULL);
        unsigned na = vdc_trace_ncalls(a), nu = vdc_trace_ncalls(u);
        CHECK(na + 20 >= nu && nu + 20 >= na); /* the same walk, the same size */
        expect_pass(u, &vdcc_ref_backend, "random unaligned");
        vdc_trace_free(a);
        vdc_trace_free(u);
    }
}

CHECK_MAIN(CHECK_CASE(test_imap_matches_bytes), CHECK_CASE(test_gen_deterministic), CHECK_CASE(test_gen_round_trip),
           CHECK_CASE(test_gen_passes_correct_backends), CHECK_CASE(test_gen_catches_liars),
           CHECK_CASE(test_gen_bad_options), CHECK_CASE(test_exhaustive),
           CHECK_CASE(test_gen_aligned_by_default))
