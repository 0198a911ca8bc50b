/*
 * harness/conformance/gen_exhaustive.c - bounded-exhaustive traces
 * (`vdcc gen --exhaustive DEPTH`): every sequence of 1..DEPTH operations
 * over a small alphabet, each on a fresh image.
 *
 * Contract, alphabet and error codes: gen.h (VINF_SUCCESS,
 * VERR_INVALID_PARAMETER, VERR_NO_MEMORY, VERR_TOO_MUCH_DATA).  What each
 * call may answer comes from gen_model.h.  Sequences are emitted by length,
 * then in lexicographic order of their letters, so the trace for given
 * options is always the same bytes.
 *
 * Per sequence: `create c0` (1 MiB, dynamic, a UUID derived from the
 * sequence number), the letters, a VD-style read of [0, 12K) split where
 * the model changes between written and never written, then `close c0
 * delete` and `gone c0.vci`.  Reusing one handle and one file keeps every
 * trace inside the format's 64-handle and 256-file limits.
 */
#include "gen.h"

#include <stdio.h>
#include <string.h>

#include "gen_model.h"

static const char *const letters[] = { "wA", "wB", "rA", "rB", "fl", "ro", "rw", "dA" };
enum { L_WA, L_WB, L_RA, L_RB, L_FL, L_RO, L_RW, L_DA };

#define A_OFF 0u
#define A_LEN (8u << 10)
#define B_OFF (4u << 10)
#define B_LEN (8u << 10)
#define ALL_LEN (12u << 10)

unsigned vdc_gen_alphabet_size(bool discard)
{
    return discard ? 8u : 7u;
}

const char *vdc_gen_letter_name(unsigned i)
{
    return i < sizeof letters / sizeof letters[0] ? letters[i] : NULL;
}

static bool opts_ok(const vdc_gen_exh_opts *o)
{
    unsigned n = vdc_gen_alphabet_size(o->discard);
    return o->depth >= 1 && o->depth <= VDC_GEN_MAX_DEPTH && (o->first < 0 || (unsigned)o->first < n)
        && (o->containing < 0 || (unsigned)o->containing < n);
}

/*
 * Calls fn for every sequence the options select, by length, then in
 * lexicographic order (seq as a base-n counter, most significant letter
 * first).  Stops early when fn returns false.
 */
static void enumerate(const vdc_gen_exh_opts *o, bool (*fn)(void *ctx, const unsigned *seq, unsigned len),
                      void *ctx)
{
    unsigned n = vdc_gen_alphabet_size(o->discard);
    unsigned seq[VDC_GEN_MAX_DEPTH];
    unsigned lowest = o->first >= 0 ? 1 : 0;
    for (unsigned len = 1; len <= o->depth; len++) {
        memset(seq, 0, sizeof seq);
        if (o->first >= 0)
            seq[0] = (unsigned)o->first;
        for (;;) {
            bool wanted = o->containing < 0;
            for (unsigned i = 0; i < len && !wanted; i++)
                wanted = seq[i] == (unsigned)o->containing;
            if (wanted && !fn(ctx, seq, len))
                return;
            unsigned i = len;
            while (i > lowest && ++seq[i - 1] == n)
                seq[--i] = 0;
            if (i == lowest)
                break;
        }
    }
}

static bool count_one(void *ctx, const unsigned *seq, unsigned len)
{
    (void)seq;
    (void)len;
    (*(uint64_t *)ctx)++;
    return true;
}

uint64_t vdc_gen_exhaustive_count(const vdc_gen_exh_opts *o)
{
    uint64_t count = 0;
    if (opts_ok(o))
        enumerate(o, count_one, &count);
    return count;
}

static void letter(vdc_genm *g, unsigned l)
{
    vdc_cell c = { .kind = VDC_CELL_DATA, .seg = { .kind = VDC_GEN_PATTERN } };
    switch (l) {
    case L_WA:
        c.seg.seed = vdc_genm_seed(g);
        vdc_genm_vdwrite(g, 0, A_OFF, A_LEN, &c);
        break;
    case L_WB:
        c.seg.seed = vdc_genm_seed(g);
        vdc_genm_vdwrite(g, 0, B_OFF, B_LEN, &c);
        break;
    case L_RA:
        vdc_genm_read(g, 0, A_OFF, A_LEN, VDC_GENM_READ_VD);
        break;
    case L_RB:
        vdc_genm_read(g, 0, B_OFF, B_LEN, VDC_GENM_READ_VD);
        break;
    case L_FL:
        vdc_genm_flush(g, 0);
        break;
    case L_RO:
        vdc_genm_close(g, 0, false);
        vdc_genm_open(g, 0, VD_OPEN_FLAGS_READONLY);
        break;
    case L_RW:
        vdc_genm_close(g, 0, false);
        vdc_genm_open(g, 0, VD_OPEN_FLAGS_NORMAL);
        break;
    case L_DA:
        vdc_genm_discard(g, 0, A_OFF, A_LEN);
        break;
    default:
        break;
    }
}

static void sequence(vdc_genm *g, uint64_t seqno, const unsigned *seq, unsigned len)
{
    RTUUID u;
    uint64_t a = vdc_pattern_word(0x45584855, 2 * seqno), b = vdc_pattern_word(0x45584855, 2 * seqno + 1);
    for (unsigned i = 0; i < 8; i++) {
        u.au8[i] = (uint8_t)(a >> (8 * i));
        u.au8[8 + i] = (uint8_t)(b >> (8 * i));
    }
    u.au8[6] = (uint8_t)((u.au8[6] & 0x0f) | 0x40);
    u.au8[8] = (uint8_t)((u.au8[8] & 0x3f) | 0x80);
    vdc_genm_create(g, 0, UINT64_C(1) << 20, VD_IMAGE_FLAGS_NONE, &u);
    for (unsigned i = 0; i < len; i++)
        letter(g, seq[i]);
    vdc_genm_read(g, 0, 0, ALL_LEN, VDC_GENM_READ_VD);
    vdc_genm_close(g, 0, true);
}

typedef struct gen_ctx {
    vdc_genm *g;
    uint64_t  count;
} gen_ctx;

static bool gen_one(void *ctx, const unsigned *seq, unsigned len)
{
    gen_ctx *c = ctx;
    sequence(c->g, c->count, seq, len);
    c->count++;
    return vdc_genm_status(c->g) == VINF_SUCCESS;
}

int vdc_gen_exhaustive(const vdc_gen_exh_opts *o, vdc_trace **out, uint64_t *nseq, char *err, size_t cb_err)
{
    *out = NULL;
    if (nseq != NULL)
        *nseq = 0;
    if (err != NULL && cb_err > 0)
        err[0] = '\0';
    if (!opts_ok(o)) {
        snprintf(err, cb_err, "--exhaustive takes a depth of 1..%u (--first and --containing a letter of the alphabet)",
                 VDC_GEN_MAX_DEPTH);
        return VERR_INVALID_PARAMETER;
    }
    char name[96];
    snprintf(name, sizeof name, "gen-exhaustive-d%u%s%s%s%s%s", o->depth, o->discard ? "-discard" : "",
             o->containing >= 0 ? "-with-" : "", o->containing >= 0 ? letters[o->containing] : "",
             o->first >= 0 ? "-" : "", o->first >= 0 ? letters[o->first] : "");
    uint64_t caps = VD_CAP_CREATE_DYNAMIC | (o->discard ? VD_CAP_DISCARD : 0);
    vdc_genm g;
    int rc = vdc_genm_init(&g, name, caps, 1, 1);
    if (rc != VINF_SUCCESS)
        return rc;

    gen_ctx c = { &g, 0 };
    enumerate(o, gen_one, &c);
    uint64_t count = c.count;
    if (vdc_genm_status(&g) != VINF_SUCCESS && err != NULL)
        snprintf(err, cb_err, "%s", g.err);
    rc = vdc_genm_take(&g, out);
    if (rc == VINF_SUCCESS && nseq != NULL)
        *nseq = count;
    return rc;
}
