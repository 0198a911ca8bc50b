/*
 * harness/conformance/cmd_gen.c - `vdcc gen`: writes a generated
 * conformance trace (gen.h).
 *
 * Contract: commands_conf.h.  Exit statuses: 0 written, 1 generation or
 * writing failed (out of memory, a format limit, an I/O error), 2 usage
 * error.  Output goes to -o FILE (replaced) or stdout; --outdir writes one
 * exhaustive trace per first letter.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cli.h"
#include "../host/status.h"
#include "commands_conf.h"
#include "gen.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vdcc gen --seed S --ops N [--capacity C] [--discard] [--unaligned] [-o FILE]\n"
            "       vdcc gen --exhaustive DEPTH [--discard] [--first L] [--containing L] [-o FILE]\n"
            "       vdcc gen --exhaustive DEPTH [--discard] [--containing L] --outdir DIR\n"
            "\n"
            "Writes a conformance trace whose expectations come from a contract-level\n"
            "model of a cache: a read may hit with exactly the last data written or\n"
            "miss, a never-written or discarded range must miss, a read-only instance\n"
            "refuses changes, UUIDs round-trip.  Any correct backend passes it.  The\n"
            "output depends only on the options and the generator version (%u), which\n"
            "the header comment records with the command that regenerates it.\n"
            "\n"
            "Random (--seed): about N records over the whole call vocabulary (4K- and\n"
            "512-aligned, overlapping and far writes, raw and VD-style reads and fills,\n"
            "flush, reopen read-write and read-only, SetOpenFlags, UUIDs, comments,\n"
            "probes, delete and re-create, a second image).\n"
            "Exhaustive (--exhaustive): every sequence of 1..DEPTH letters of\n"
            "  wA wB rA rB fl ro rw [dA]\n"
            "(write A=[0,8K), write B=[4K,12K), read A, read B, flush, reopen\n"
            "read-only, reopen read-write, discard A) on a fresh image each.\n"
            "\n"
            "Options:\n"
            "  --seed S          random seed (0..2^64-1)\n"
            "  --ops N           records wanted (%u..%u); a few more end the trace\n"
            "  --capacity C      cache size for create, suffix K/M/G allowed (default 1M)\n"
            "  --discard         also emit discards; the trace then requires DISCARD\n"
            "  --unaligned       random: also offsets and lengths that are not multiples\n"
            "                    of 512 (VD never issues them; without this every range\n"
            "                    is whole 512-byte sectors)\n"
            "  --exhaustive D    bounded-exhaustive generation up to D letters (1..%u)\n"
            "  --first LETTER    exhaustive: only sequences starting with LETTER\n"
            "  --containing LETTER  exhaustive: only sequences holding LETTER\n"
            "  --outdir DIR      exhaustive: write DIR/NAME.trace per first letter\n"
            "  -o, --output FILE write the trace to FILE (default: stdout)\n"
            "  -h, --help        this text\n",
            VDC_GEN_VERSION, VDC_GEN_MIN_OPS, VDC_GEN_MAX_OPS, VDC_GEN_MAX_DEPTH);
}

enum { O_SEED = 1, O_OPS, O_CAP, O_DISCARD, O_UNALIGNED, O_EXH, O_FIRST, O_CONTAINING, O_OUTDIR, O_OUT, O_HELP };
static const vdc_opt opts[] = {
    { O_SEED, "seed", 0, true },       { O_OPS, "ops", 0, true },        { O_CAP, "capacity", 0, true },
    { O_DISCARD, "discard", 0, false }, { O_EXH, "exhaustive", 0, true }, { O_FIRST, "first", 0, true },
    { O_CONTAINING, "containing", 0, true }, { O_UNALIGNED, "unaligned", 0, false },
    { O_OUTDIR, "outdir", 0, true },   { O_OUT, "output", 'o', true },   { O_HELP, "help", 'h', false },
    { 0, NULL, 0, false },
};

/* A size with an optional K/M/G/T suffix, strictly parsed. */
static bool parse_size(const char *s, uint64_t *out)
{
    size_t n = strlen(s);
    unsigned shift = 0;
    if (n > 0) {
        switch (s[n - 1]) {
        case 'K': shift = 10; break;
        case 'M': shift = 20; break;
        case 'G': shift = 30; break;
        case 'T': shift = 40; break;
        default: break;
        }
    }
    if (shift != 0)
        n--;
    if (n == 0 || n > 19)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (shift != 0 && v > (UINT64_MAX >> shift))
        return false;
    *out = v << shift;
    return true;
}

/* Writes t to path (or stdout when NULL). */
static int write_to(const vdc_trace *t, const char *comment, const char *path)
{
    FILE *f = stdout;
    if (path != NULL) {
        f = fopen(path, "w");
        if (f == NULL) {
            vdc_error("gen", "%s: %s", path, strerror(errno));
            return VDCC_EXIT_FAIL;
        }
    }
    int rc = vdc_gen_write(t, comment, f);
    if (path != NULL && fclose(f) != 0 && rc == VINF_SUCCESS)
        rc = VERR_WRITE_ERROR;
    if (rc != VINF_SUCCESS) {
        vdc_error("gen", "writing %s failed: %s", path != NULL ? path : "stdout", vdc_status_name(rc));
        return VDCC_EXIT_FAIL;
    }
    return VDCC_EXIT_OK;
}

typedef struct gen_args {
    bool        have_seed, have_ops, discard, unaligned;
    uint64_t    seed, ops, capacity, depth;
    int         first, containing;
    const char *out, *outdir;
} gen_args;

static int gen_random(const gen_args *a)
{
    vdc_gen_opts o = { .seed = a->seed, .ops = (unsigned)a->ops, .capacity = a->capacity, .discard = a->discard,
                       .unaligned = a->unaligned };
    char err[512], comment[1024];
    vdc_trace *t = NULL;
    int rc = vdc_gen_random(&o, &t, err, sizeof err);
    if (rc != VINF_SUCCESS) {
        vdc_error("gen", "%s", err[0] ? err : vdc_status_name(rc));
        return rc == VERR_INVALID_PARAMETER ? VDCC_EXIT_USAGE : VDCC_EXIT_FAIL;
    }
    snprintf(comment, sizeof comment,
             "generated by vdcc gen, generator version %u (harness/conformance/gen.h)\n"
             "regenerate: vdcc gen --seed %llu --ops %u --capacity %llu%s%s\n"
             "contract-level expectations: a read hits with the last data written or misses",
             VDC_GEN_VERSION, (unsigned long long)a->seed, o.ops,
             (unsigned long long)(a->capacity ? a->capacity : VDC_GEN_DEFAULT_CAPACITY),
             a->discard ? " --discard" : "", a->unaligned ? " --unaligned" : "");
    int ex = write_to(t, comment, a->out);
    vdc_trace_free(t);
    return ex;
}

/* The letter called name (usage error when there is none). */
static bool parse_letter(bool discard, const char *what, const char *name, int *out)
{
    unsigned n = vdc_gen_alphabet_size(discard);
    for (unsigned l = 0; l < n; l++) {
        if (strcmp(name, vdc_gen_letter_name(l)) == 0) {
            *out = (int)l;
            return true;
        }
    }
    vdc_usage_error("gen", "%s wants one of the letters (wA wB rA rB fl ro rw%s), got '%s'", what,
                    discard ? " dA" : "", name);
    return false;
}

static int gen_exhaustive_one(const gen_args *a, int first, const char *path)
{
    vdc_gen_exh_opts o = { .depth = (unsigned)a->depth, .discard = a->discard, .first = first,
                           .containing = a->containing };
    char err[512], comment[1024];
    vdc_trace *t = NULL;
    uint64_t nseq = 0;
    int rc = vdc_gen_exhaustive(&o, &t, &nseq, err, sizeof err);
    if (rc != VINF_SUCCESS) {
        vdc_error("gen", "%s", err[0] ? err : vdc_status_name(rc));
        return rc == VERR_INVALID_PARAMETER ? VDCC_EXIT_USAGE : VDCC_EXIT_FAIL;
    }
    snprintf(comment, sizeof comment,
             "generated by vdcc gen, generator version %u (harness/conformance/gen.h)\n"
             "regenerate: vdcc gen --exhaustive %llu%s%s%s%s%s\n"
             "%llu sequences of 1..%llu letters, each on a fresh image",
             VDC_GEN_VERSION, (unsigned long long)a->depth, a->discard ? " --discard" : "",
             first >= 0 ? " --first " : "", first >= 0 ? vdc_gen_letter_name((unsigned)first) : "",
             a->containing >= 0 ? " --containing " : "",
             a->containing >= 0 ? vdc_gen_letter_name((unsigned)a->containing) : "",
             (unsigned long long)nseq, (unsigned long long)a->depth);
    int ex = write_to(t, comment, path);
    vdc_trace_free(t);
    return ex;
}

static int gen_exhaustive(const gen_args *a)
{
    if (a->outdir == NULL)
        return gen_exhaustive_one(a, a->first, a->out);
    unsigned n = vdc_gen_alphabet_size(a->discard);
    for (unsigned l = 0; l < n; l++) {
        if (a->first >= 0 && (unsigned)a->first != l)
            continue;
        char path[4096];
        int len = snprintf(path, sizeof path, "%s/gen-exhaustive-d%llu%s%s%s-%s.trace", a->outdir,
                           (unsigned long long)a->depth, a->discard ? "-discard" : "",
                           a->containing >= 0 ? "-with-" : "",
                           a->containing >= 0 ? vdc_gen_letter_name((unsigned)a->containing) : "",
                           vdc_gen_letter_name(l));
        if (len < 0 || (size_t)len >= sizeof path) {
            vdc_usage_error("gen", "--outdir is too long");
            return VDCC_EXIT_USAGE;
        }
        int ex = gen_exhaustive_one(a, (int)l, path);
        if (ex != VDCC_EXIT_OK)
            return ex;
        printf("%s\n", path);
    }
    return VDCC_EXIT_OK;
}

int vdc_cmd_gen(const char *prog, int argc, char **argv)
{
    (void)prog;
    gen_args a = { .first = -1, .containing = -1 };
    bool exhaustive = false;
    const char *first_name = NULL, *containing_name = NULL;
    vdc_optstate st;
    vdc_opt_init(&st, "gen", argc, argv);
    const char *val;
    int id;
    while ((id = vdc_opt_next(&st, opts, &val)) != VDC_OPT_END) {
        switch (id) {
        case VDC_OPT_ERROR:
            return VDCC_EXIT_USAGE;
        case VDC_OPT_OPERAND:
            vdc_usage_error("gen", "unexpected argument '%s'", val);
            return VDCC_EXIT_USAGE;
        case O_HELP:
            usage(stdout);
            return VDCC_EXIT_OK;
        case O_SEED:
            if (!vdc_parse_uint("gen", "--seed", val, 0, UINT64_MAX, &a.seed))
                return VDCC_EXIT_USAGE;
            a.have_seed = true;
            break;
        case O_OPS:
            if (!vdc_parse_uint("gen", "--ops", val, VDC_GEN_MIN_OPS, VDC_GEN_MAX_OPS, &a.ops))
                return VDCC_EXIT_USAGE;
            a.have_ops = true;
            break;
        case O_CAP:
            if (!parse_size(val, &a.capacity) || a.capacity < VDC_GEN_MIN_CAPACITY
                || a.capacity > VDC_GEN_MAX_CAPACITY) {
                vdc_usage_error("gen", "--capacity wants a size in 64K..1T, got '%s'", val);
                return VDCC_EXIT_USAGE;
            }
            break;
        case O_DISCARD:
            a.discard = true;
            break;
        case O_UNALIGNED:
            a.unaligned = true;
            break;
        case O_EXH:
            if (!vdc_parse_uint("gen", "--exhaustive", val, 1, VDC_GEN_MAX_DEPTH, &a.depth))
                return VDCC_EXIT_USAGE;
            exhaustive = true;
            break;
        case O_FIRST:
            first_name = val;
            break;
        case O_CONTAINING:
            containing_name = val;
            break;
        case O_OUTDIR:
            a.outdir = val;
            break;
        case O_OUT:
            a.out = val;
            break;
        default:
            break;
        }
    }
    if (exhaustive) {
        if (a.have_seed || a.have_ops || a.capacity != 0 || a.unaligned) {
            vdc_usage_error("gen", "--exhaustive does not take --seed, --ops, --capacity or --unaligned"
                                   " (its ranges are whole 4 KiB blocks)");
            return VDCC_EXIT_USAGE;
        }
        if (a.outdir != NULL && a.out != NULL) {
            vdc_usage_error("gen", "give either -o or --outdir");
            return VDCC_EXIT_USAGE;
        }
        if ((first_name != NULL && !parse_letter(a.discard, "--first", first_name, &a.first))
            || (containing_name != NULL && !parse_letter(a.discard, "--containing", containing_name, &a.containing)))
            return VDCC_EXIT_USAGE;
        return gen_exhaustive(&a);
    }
    if (!a.have_seed || !a.have_ops) {
        vdc_usage_error("gen", "give --seed and --ops (or --exhaustive DEPTH)");
        return VDCC_EXIT_USAGE;
    }
    if (first_name != NULL || containing_name != NULL || a.outdir != NULL) {
        vdc_usage_error("gen", "--first, --containing and --outdir go with --exhaustive");
        return VDCC_EXIT_USAGE;
    }
    return gen_random(&a);
}
