/*
 * harness/trace/trace_parse.c - one line of a trace body: header or record.
 *
 * Contract: trace_int.h, vdc_trace_parse_line.  Implements the grammar and
 * the per-record rules of spec/trace-format.md sections 3, 4, 5 and 6:
 * which arguments and outputs each record takes, their defaults, data
 * coverage, status alternatives, handle state, and the limits of section 8.
 * Returns VINF_SUCCESS, VERR_INVALID_PARAMETER (err = "name:line: message"),
 * VERR_NO_MEMORY, or VERR_TOO_MUCH_DATA (record or name-table limits; err
 * filled too).  Everything a record keeps is copied into the trace's arena;
 * the handle state changes only once the record has been stored.
 */
#include "trace_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "trace_write.h"

#define MAX_TOKS 64
#define TOKFMT "%.*s"
#define TOKARG(p, n) (int)((n) > 48 ? 48 : (n)), (p)

typedef struct pctx {
    vdc_trace         *t;
    const char        *errname;
    unsigned           line;
    char              *err;
    size_t             cb_err;
    const vdc_op_info *oi; /* NULL for header lines */
} pctx;

static int perr_rc(pctx *c, int rc, const char *fmt, ...)
{
    if (c->err != NULL && c->cb_err > 0) {
        int n = snprintf(c->err, c->cb_err, "%s:%u: %s%s", c->errname, c->line, c->oi ? c->oi->name : "",
                         c->oi ? ": " : "");
        if (n >= 0 && (size_t)n < c->cb_err) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(c->err + n, c->cb_err - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return rc;
}

#define PERR(c, ...) perr_rc((c), VERR_INVALID_PARAMETER, __VA_ARGS__)

static bool tok_is(const vdc_tok *t, const char *s)
{
    size_t n = strlen(s);
    return t->n == n && memcmp(t->p, s, n) == 0;
}

/* A key=value token: key [a-z][a-z0-9-]*, then "=", ">=" or "<=". */
typedef struct kv {
    const char *key;
    size_t      nkey;
    vdc_cmp     cmp;
    const char *val;
    size_t      nval;
} kv;

static bool split_kv(const vdc_tok *t, kv *out)
{
    size_t i = 0;
    if (t->n == 0 || !(t->p[0] >= 'a' && t->p[0] <= 'z'))
        return false;
    while (i < t->n && ((t->p[i] >= 'a' && t->p[i] <= 'z') || (t->p[i] >= '0' && t->p[i] <= '9') || t->p[i] == '-'))
        i++;
    if (i >= t->n)
        return false;
    out->key = t->p;
    out->nkey = i;
    if (t->p[i] == '=') {
        out->cmp = VDC_CMP_EQ;
        i += 1;
    } else if ((t->p[i] == '>' || t->p[i] == '<') && i + 1 < t->n && t->p[i + 1] == '=') {
        out->cmp = t->p[i] == '>' ? VDC_CMP_GE : VDC_CMP_LE;
        i += 2;
    } else {
        return false;
    }
    out->val = t->p + i;
    out->nval = t->n - i;
    return true;
}

static bool key_is(const kv *k, const char *s)
{
    size_t n = strlen(s);
    return k->nkey == n && memcmp(k->key, s, n) == 0;
}

typedef struct keydef {
    const char *name;
    unsigned    bit;
} keydef;

static const keydef arg_keys[] = {
    { "file", VDC_A_FILE }, { "off", VDC_A_OFF }, { "len", VDC_A_LEN }, { "size", VDC_A_SIZE },
    { "image", VDC_A_IMAGE }, { "flags", VDC_A_FLAGS }, { "comment", VDC_A_COMMENT }, { "uuid", VDC_A_UUID },
    { "start", VDC_A_START }, { "span", VDC_A_SPAN }, { "buf", VDC_A_BUF }, { "data", VDC_A_DATA },
    { "value", VDC_A_VALUE }, { "sidecar", VDC_A_SIDECAR }, { NULL, 0 },
};

static const keydef out_keys[] = {
    { "count", VDC_O_COUNT }, { "data", VDC_O_DATA }, { "value", VDC_O_VALUE }, { "pre", VDC_O_PRE },
    { "post", VDC_O_POST }, { "discarded", VDC_O_DISCARDED }, { "comment", VDC_O_COMMENT },
    { "uuid", VDC_O_UUID }, { "string", VDC_O_STRING }, { "printed", VDC_O_PRINTED }, { NULL, 0 },
};

static unsigned key_bit(const keydef *defs, const kv *k)
{
    for (const keydef *d = defs; d->name != NULL; d++)
        if (key_is(k, d->name))
            return d->bit;
    return 0;
}

/* ---- values ------------------------------------------------------------ */

static int parse_num(pctx *c, const kv *k, uint64_t *out)
{
    if (!vdc_lex_u64(k->val, k->nval, out))
        return PERR(c, "bad number \"" TOKFMT "\" for %.*s", TOKARG(k->val, k->nval), (int)k->nkey, k->key);
    return VINF_SUCCESS;
}

static int need_eq(pctx *c, const kv *k)
{
    if (k->cmp != VDC_CMP_EQ)
        return PERR(c, "%.*s takes '=', not a comparison", (int)k->nkey, k->key);
    return VINF_SUCCESS;
}

static int parse_str(pctx *c, const kv *k, bool allow_null, vdc_str *out)
{
    char buf[VDC_TRACE_MAX_STRING + 1];
    size_t n = 0;
    bool is_null = false;
    const char *why = "bad string";

    if (!vdc_lex_string(k->val, k->nval, buf, sizeof buf, &n, &is_null, &why))
        return PERR(c, "%.*s: %s", (int)k->nkey, k->key, why);
    if (is_null && !allow_null)
        return PERR(c, "%.*s cannot be null here", (int)k->nkey, k->key);
    out->given = true;
    out->null = is_null;
    out->s = NULL;
    if (!is_null && (out->s = vdc_arena_strndup(c->t->ra, buf, n)) == NULL)
        return VERR_NO_MEMORY;
    return VINF_SUCCESS;
}

static int intern_var(pctx *c, const char *s, size_t n, const char **out)
{
    bool added;
    int rc = vdc_intern_get(&c->t->vars, &c->t->arena, s, n, out, &added);
    if (rc == VERR_TOO_MUCH_DATA)
        return perr_rc(c, rc, "too many UUID variables (more than %u)", VDC_TRACE_MAX_VARS);
    return rc;
}

/* UUIDREF (section 2.7). */
static int parse_uuid(pctx *c, const char *s, size_t n, bool is_arg, vdc_uuid_ref *out)
{
    memset(out, 0, sizeof *out);
    if (n == 3 && memcmp(s, "nil", 3) == 0) {
        out->kind = VDC_UUID_NIL;
    } else if (n == 4 && memcmp(s, "null", 4) == 0) {
        if (!is_arg)
            return PERR(c, "uuid=null is only allowed as an argument");
        out->kind = VDC_UUID_NULLPTR;
    } else if (n == 3 && memcmp(s, "any", 3) == 0) {
        if (is_arg)
            return PERR(c, "uuid=any is only allowed as an expectation");
        out->kind = VDC_UUID_ANYV;
    } else if (n > 0 && s[0] == '$') {
        if (!vdc_lex_is_var(s + 1, n - 1))
            return PERR(c, "bad UUID variable \"" TOKFMT "\"", TOKARG(s, n));
        out->kind = VDC_UUID_VAR;
        return intern_var(c, s + 1, n - 1, &out->var);
    } else if (vdc_lex_uuid(s, n, &out->lit)) {
        out->kind = VDC_UUID_LIT;
    } else {
        return PERR(c, "bad UUID \"" TOKFMT "\"", TOKARG(s, n));
    }
    return VINF_SUCCESS;
}

static int parse_flags(pctx *c, const kv *k, vdc_flagset fs, unsigned *out)
{
    uint64_t v;
    if (!vdc_lex_flags(fs, k->val, k->nval, &v))
        return PERR(c, "bad flags \"" TOKFMT "\" for %.*s", TOKARG(k->val, k->nval), (int)k->nkey, k->key);
    *out = (unsigned)v;
    return VINF_SUCCESS;
}

/* ALTS (section 6.1) into out[0..*n). */
static int parse_alts(pctx *c, const char *s, size_t n, vdc_alt *out, unsigned *nout)
{
    size_t i = 0;
    unsigned cnt = 0;

    if (n == 0)
        return PERR(c, "empty status list");
    while (i <= n) {
        size_t j = i;
        while (j < n && s[j] != '|')
            j++;
        const char *w = s + i;
        size_t wn = j - i;
        vdc_alt a = { 0, 0, 0 };
        if (cnt >= VDC_TRACE_MAX_ALTS)
            return PERR(c, "more than %u status alternatives", VDC_TRACE_MAX_ALTS);
        if (wn == 0)
            return PERR(c, "empty status alternative in \"" TOKFMT "\"", TOKARG(s, n));
        if (wn == 7 && memcmp(w, "success", 7) == 0) {
            a.kind = VDC_ALT_SUCCESS;
        } else if (wn == 7 && memcmp(w, "failure", 7) == 0) {
            a.kind = VDC_ALT_FAILURE;
        } else if (wn == 3 && memcmp(w, "any", 3) == 0) {
            a.kind = VDC_ALT_ANY;
        } else if (wn == 3 && memcmp(w, "hit", 3) == 0) {
            a.kind = VDC_ALT_HIT;
        } else if (wn == 4 && memcmp(w, "miss", 4) == 0) {
            a.kind = VDC_ALT_MISS;
            a.min = 1;
        } else if (wn > 6 && memcmp(w, "miss>=", 6) == 0) {
            a.kind = VDC_ALT_MISS;
            if (!vdc_lex_u64(w + 6, wn - 6, &a.min) || a.min == 0 || a.min > VDC_TRACE_MAX_XFER)
                return PERR(c, "bad miss length in \"" TOKFMT "\" (1..64M)", TOKARG(w, wn));
        } else if (vdc_lex_status(w, wn, &a.status)) {
            a.kind = VDC_ALT_STATUS;
        } else {
            return PERR(c, "unknown status \"" TOKFMT "\"", TOKARG(w, wn));
        }
        /* On read-like records a plain success is a hit and BLOCK_FREE a miss. */
        if (c->oi->readlike && a.kind == VDC_ALT_STATUS && a.status == VINF_SUCCESS)
            a.kind = VDC_ALT_HIT;
        else if (c->oi->readlike && a.kind == VDC_ALT_STATUS && a.status == VERR_VD_BLOCK_FREE) {
            a.kind = VDC_ALT_MISS;
            a.min = 1;
        }
        if ((a.kind == VDC_ALT_HIT || a.kind == VDC_ALT_MISS) && !c->oi->readlike)
            return PERR(c, "hit and miss are only for read and vdread");
        if (a.kind != VDC_ALT_STATUS)
            a.status = 0;
        if (a.kind != VDC_ALT_MISS)
            a.min = 0;
        out[cnt++] = a;
        i = j + 1;
    }
    *nout = cnt;
    return VINF_SUCCESS;
}

static int store_alts(pctx *c, const vdc_alt *v, unsigned n, vdc_alts *out)
{
    vdc_alt *p = vdc_arena_alloc(c->t->ra, n * sizeof *p);
    if (p == NULL)
        return VERR_NO_MEMORY;
    memcpy(p, v, n * sizeof *p);
    out->n = n;
    out->v = p;
    return VINF_SUCCESS;
}

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* One generator (section 5) into *s; start/len are set by the caller. */
static int parse_gen(pctx *c, const char *w, size_t n, bool allow_any, vdc_seg *s)
{
    if (n > 8 && memcmp(w, "pattern:", 8) == 0) {
        s->kind = VDC_GEN_PATTERN;
        if (!vdc_lex_u64(w + 8, n - 8, &s->seed))
            return PERR(c, "bad pattern seed in \"" TOKFMT "\"", TOKARG(w, n));
    } else if (n > 2 && memcmp(w, "p:", 2) == 0) {
        s->kind = VDC_GEN_PATTERN;
        if (!vdc_lex_u64(w + 2, n - 2, &s->seed))
            return PERR(c, "bad pattern seed in \"" TOKFMT "\"", TOKARG(w, n));
    } else if (n == 4 && memcmp(w, "zero", 4) == 0) {
        s->kind = VDC_GEN_ZERO;
    } else if (n > 5 && memcmp(w, "fill:", 5) == 0) {
        uint64_t b;
        s->kind = VDC_GEN_FILL;
        if (!vdc_lex_u64(w + 5, n - 5, &b) || b > 255)
            return PERR(c, "bad fill byte in \"" TOKFMT "\" (0..255)", TOKARG(w, n));
        s->fill = (uint8_t)b;
    } else if (n >= 4 && memcmp(w, "hex:", 4) == 0) {
        size_t nh = n - 4;
        s->kind = VDC_GEN_HEX;
        if (nh == 0 || nh % 2 != 0)
            return PERR(c, "hex data needs an even, non-zero number of digits");
        if (nh / 2 > VDC_TRACE_MAX_HEX)
            return PERR(c, "hex data longer than %u bytes", VDC_TRACE_MAX_HEX);
        uint8_t *bytes = vdc_arena_alloc(c->t->ra, nh / 2);
        if (bytes == NULL)
            return VERR_NO_MEMORY;
        for (size_t i = 0; i < nh / 2; i++) {
            int hi = hex_digit(w[4 + 2 * i]), lo = hex_digit(w[5 + 2 * i]);
            if (hi < 0 || lo < 0)
                return PERR(c, "bad hex digit in data");
            bytes[i] = (uint8_t)(hi * 16 + lo);
        }
        s->hex = bytes;
        s->len = nh / 2; /* checked against the segment length by the caller */
    } else if (n == 3 && memcmp(w, "any", 3) == 0) {
        if (!allow_any)
            return PERR(c, "\"any\" data is only allowed in expectations");
        s->kind = VDC_GEN_ANY;
    } else {
        return PERR(c, "unknown data generator \"" TOKFMT "\"", TOKARG(w, n));
    }
    return VINF_SUCCESS;
}

/* DATA over [off, off+len) (section 5). */
static int parse_data(pctx *c, const char *s, size_t n, uint64_t off, uint64_t len, bool allow_any, vdc_data *out)
{
    unsigned nsegs = 1;
    vdc_seg *segs;
    size_t i = 0;
    uint64_t expect_start = off;

    if (len == 0)
        return PERR(c, "data given for an empty range");
    for (size_t k = 0; k < n; k++)
        if (s[k] == ',' && ++nsegs > VDC_TRACE_MAX_SEGS)
            return PERR(c, "more than %u data segments", VDC_TRACE_MAX_SEGS);
    segs = vdc_arena_alloc(c->t->ra, nsegs * sizeof *segs);
    if (segs == NULL)
        return VERR_NO_MEMORY;
    for (unsigned si = 0; si < nsegs; si++) {
        size_t j = i;
        while (j < n && s[j] != ',')
            j++;
        const char *w = s + i;
        size_t wn = j - i;
        const char *at = memchr(w, '@', wn);
        size_t gn = at != NULL ? (size_t)(at - w) : wn;
        vdc_seg *sg = &segs[si];
        uint64_t hexlen;
        int rc = parse_gen(c, w, gn, allow_any, sg);
        if (rc != VINF_SUCCESS)
            return rc;
        hexlen = sg->len;
        if (at == NULL) {
            if (nsegs != 1)
                return PERR(c, "with several data segments each needs @start+len");
            sg->start = off;
            sg->len = len;
        } else {
            const char *r = at + 1;
            size_t rn = wn - gn - 1;
            const char *plus = memchr(r, '+', rn);
            if (plus == NULL || !vdc_lex_u64(r, (size_t)(plus - r), &sg->start)
                || !vdc_lex_u64(plus + 1, rn - (size_t)(plus - r) - 1, &sg->len))
                return PERR(c, "bad segment range \"" TOKFMT "\" (expected @start+len)", TOKARG(w, wn));
            if (sg->len == 0)
                return PERR(c, "empty data segment \"" TOKFMT "\"", TOKARG(w, wn));
            if (sg->start > VDC_TRACE_MAX_SIZE || sg->len > VDC_TRACE_MAX_SIZE - sg->start)
                return PERR(c, "data segment out of range");
            if (sg->start != expect_start)
                return PERR(c, "data segment %u starts at %llu, expected %llu (segments must be in order and adjacent)",
                            si + 1, (unsigned long long)sg->start, (unsigned long long)expect_start);
        }
        if (sg->kind == VDC_GEN_HEX && hexlen != sg->len)
            return PERR(c, "hex data has %llu bytes but its segment covers %llu", (unsigned long long)hexlen,
                        (unsigned long long)sg->len);
        expect_start = sg->start + sg->len;
        i = j + 1;
    }
    if (expect_start != off + len)
        return PERR(c, "data covers [%llu, %llu) but the record covers [%llu, %llu)", (unsigned long long)off,
                    (unsigned long long)expect_start, (unsigned long long)off, (unsigned long long)(off + len));
    out->nsegs = nsegs;
    out->segs = segs;
    return VINF_SUCCESS;
}

static int parse_clauses(pctx *c, const kv *k, vdc_record *r)
{
    const char *tmp[VDC_TRACE_MAX_REC_CLAUSES];
    unsigned cnt = 0;
    size_t i = 0;

    if (k->cmp != VDC_CMP_EQ)
        return PERR(c, "clause takes '='");
    while (i <= k->nval) {
        size_t j = i;
        while (j < k->nval && k->val[j] != ',')
            j++;
        if (!vdc_lex_is_clause(k->val + i, j - i))
            return PERR(c, "bad clause name \"" TOKFMT "\"", TOKARG(k->val + i, j - i));
        if (cnt >= VDC_TRACE_MAX_REC_CLAUSES)
            return PERR(c, "more than %u clauses on one record", VDC_TRACE_MAX_REC_CLAUSES);
        int rc = vdc_trace_add_clause(c->t, k->val + i, j - i, &tmp[cnt]);
        if (rc == VERR_TOO_MUCH_DATA)
            return perr_rc(c, rc, "too many distinct clauses (more than %u)", VDC_TRACE_MAX_CLAUSES);
        if (rc != VINF_SUCCESS)
            return rc;
        cnt++;
        i = j + 1;
    }
    const char **p = vdc_arena_alloc(c->t->ra, cnt * sizeof *p);
    if (p == NULL)
        return VERR_NO_MEMORY;
    memcpy(p, tmp, cnt * sizeof *p);
    r->nclauses = cnt;
    r->clauses = p;
    return VINF_SUCCESS;
}

static int parse_num_expect(pctx *c, const kv *k, vdc_num *out)
{
    out->cmp = k->cmp;
    return parse_num(c, k, &out->v);
}

/* ---- header lines ------------------------------------------------------ */

static int parse_header(pctx *c, const vdc_tok *toks, int n)
{
    vdc_trace *t = c->t;

    if (t->seen_record)
        return PERR(c, "header line \"" TOKFMT "\" after the first record", TOKARG(toks[0].p, toks[0].n));
    if (tok_is(&toks[0], "name")) {
        if (t->have_name)
            return PERR(c, "second name line");
        if (n != 2)
            return PERR(c, "name takes one value");
        if (toks[1].p[0] == '"') {
            kv k = { "name", 4, VDC_CMP_EQ, toks[1].p, toks[1].n };
            vdc_str s;
            int rc = parse_str(c, &k, false, &s);
            if (rc != VINF_SUCCESS)
                return rc;
            if (s.s[0] == '\0')
                return PERR(c, "empty trace name");
            t->name = vdc_arena_strndup(&t->arena, s.s, strlen(s.s)); /* s.s is the record arena's */
            if (t->name == NULL)
                return VERR_NO_MEMORY;
        } else {
            if (!vdc_lex_is_tracename(toks[1].p, toks[1].n))
                return PERR(c, "bad trace name \"" TOKFMT "\"", TOKARG(toks[1].p, toks[1].n));
            t->name = vdc_arena_strndup(&t->arena, toks[1].p, toks[1].n);
            if (t->name == NULL)
                return VERR_NO_MEMORY;
        }
        t->have_name = true;
        return VINF_SUCCESS;
    }
    if (tok_is(&toks[0], "format")) {
        if (t->format != NULL)
            return PERR(c, "second format line");
        if (n != 2 || !vdc_lex_is_tracename(toks[1].p, toks[1].n))
            return PERR(c, "format takes one backend name (letters, digits and _.:/+-)");
        t->format = vdc_arena_strndup(&t->arena, toks[1].p, toks[1].n);
        return t->format != NULL ? VINF_SUCCESS : VERR_NO_MEMORY;
    }
    if (tok_is(&toks[0], "requires")) {
        for (int i = 1; i < n; i++) {
            uint64_t v;
            if (!vdc_lex_flags(VDC_FS_CAPS, toks[i].p, toks[i].n, &v))
                return PERR(c, "unknown capability \"" TOKFMT "\"", TOKARG(toks[i].p, toks[i].n));
            t->caps |= v;
        }
        return VINF_SUCCESS;
    }
    /* clauses */
    for (int i = 1; i < n; i++) {
        const char *out;
        if (!vdc_lex_is_clause(toks[i].p, toks[i].n))
            return PERR(c, "bad clause name \"" TOKFMT "\"", TOKARG(toks[i].p, toks[i].n));
        int rc = vdc_trace_add_clause(t, toks[i].p, toks[i].n, &out);
        if (rc == VERR_TOO_MUCH_DATA)
            return perr_rc(c, rc, "too many distinct clauses (more than %u)", VDC_TRACE_MAX_CLAUSES);
        if (rc != VINF_SUCCESS)
            return rc;
    }
    return VINF_SUCCESS;
}

/* ---- records ----------------------------------------------------------- */

static vdc_handle_state *hstate_find(vdc_trace *t, const char *name)
{
    for (unsigned i = 0; i < t->nhstate; i++)
        if (t->hstate[i].name == name) /* interned */
            return &t->hstate[i];
    return NULL;
}

static bool alts_admit_success(const vdc_alts *a)
{
    for (unsigned i = 0; i < a->n; i++) {
        switch (a->v[i].kind) {
        case VDC_ALT_SUCCESS:
        case VDC_ALT_ANY:
        case VDC_ALT_HIT:
            return true;
        case VDC_ALT_STATUS:
            if (RT_SUCCESS(a->v[i].status))
                return true;
            break;
        default:
            break;
        }
    }
    return false;
}

/* What the loop collects before the record is finished. */
typedef struct pending {
    unsigned args, outs;
    bool     have_alts, have_should, have_seen, have_clause, have_arrow;
    vdc_alt  alts[VDC_TRACE_MAX_ALTS], should[VDC_TRACE_MAX_ALTS];
    unsigned nalts, nshould;
    kv       data_arg, data_out, value_out;
} pending;

static const char *arg_name(unsigned bit)
{
    for (const keydef *d = arg_keys; d->name != NULL; d++)
        if (d->bit == bit)
            return d->name;
    return bit == VDC_A_DELETE ? "delete" : bit == VDC_A_FILL ? "fill" : "?";
}

static int parse_arg(pctx *c, const kv *k, unsigned bit, vdc_record *r, pending *pd)
{
    vdc_op op = r->op;
    int rc = VINF_SUCCESS;
    uint64_t v;

    if (bit != VDC_A_DATA && bit != VDC_A_VALUE && (rc = need_eq(c, k)) != VINF_SUCCESS)
        return rc;
    switch (bit) {
    case VDC_A_FILE: {
        bool added;
        if (!vdc_lex_is_file(k->val, k->nval))
            return PERR(c, "bad file name \"" TOKFMT "\"", TOKARG(k->val, k->nval));
        rc = vdc_intern_get(&c->t->files, &c->t->arena, k->val, k->nval, &r->file, &added);
        if (rc == VERR_TOO_MUCH_DATA)
            return perr_rc(c, rc, "too many file names (more than %u)", VDC_TRACE_MAX_FILES);
        return rc;
    }
    case VDC_A_OFF:
        return parse_num(c, k, &r->off);
    case VDC_A_LEN:
        return parse_num(c, k, &r->len);
    case VDC_A_SIZE:
        return parse_num(c, k, &r->size);
    case VDC_A_BUF:
        return parse_num(c, k, &r->buf);
    case VDC_A_START:
    case VDC_A_SPAN:
        if ((rc = parse_num(c, k, &v)) != VINF_SUCCESS)
            return rc;
        if (v > 100)
            return PERR(c, "%s must be 0..100", arg_name(bit));
        if (bit == VDC_A_START)
            r->pct_start = (unsigned)v;
        else
            r->pct_span = (unsigned)v;
        return VINF_SUCCESS;
    case VDC_A_IMAGE:
        return parse_flags(c, k, VDC_FS_IMAGE, &r->image_flags);
    case VDC_A_FLAGS:
        return parse_flags(c, k, c->oi->flags_set, op == VDC_OP_DISCARD ? &r->discard_flags : &r->open_flags);
    case VDC_A_COMMENT:
        return parse_str(c, k, true, &r->str);
    case VDC_A_UUID:
        return parse_uuid(c, k->val, k->nval, true, &r->uuid);
    case VDC_A_DATA:
        if ((rc = need_eq(c, k)) != VINF_SUCCESS)
            return rc;
        pd->data_arg = *k;
        return VINF_SUCCESS;
    case VDC_A_VALUE:
        if ((rc = need_eq(c, k)) != VINF_SUCCESS)
            return rc;
        return parse_str(c, k, false, &r->str);
    case VDC_A_SIDECAR:
        /* A FILE name: no '/', never "." or "..", so it stays beside the trace. */
        if (c->t->version < 2)
            return PERR(c, "image records need \"vdcc-trace 2\" on the first line");
        if (!vdc_lex_is_file(k->val, k->nval))
            return PERR(c, "bad sidecar name \"" TOKFMT "\"", TOKARG(k->val, k->nval));
        r->sidecar = vdc_arena_strndup(c->t->ra, k->val, k->nval);
        return r->sidecar != NULL ? VINF_SUCCESS : VERR_NO_MEMORY;
    default:
        return PERR(c, "internal: unhandled argument");
    }
}

static int parse_out(pctx *c, const kv *k, unsigned bit, vdc_record *r, pending *pd)
{
    int rc;
    switch (bit) {
    case VDC_O_COUNT:
        return parse_num_expect(c, k, &r->count);
    case VDC_O_PRE:
        return parse_num_expect(c, k, &r->pre);
    case VDC_O_POST:
        return parse_num_expect(c, k, &r->post);
    case VDC_O_DISCARDED:
        return parse_num_expect(c, k, &r->discarded);
    case VDC_O_VALUE:
        if (c->oi->value_set != VDC_FS_NONE) {
            unsigned f;
            if ((rc = need_eq(c, k)) != VINF_SUCCESS)
                return rc;
            if ((rc = parse_flags(c, k, c->oi->value_set, &f)) != VINF_SUCCESS)
                return rc;
            r->value.cmp = VDC_CMP_EQ;
            r->value.v = f;
            return VINF_SUCCESS;
        }
        return parse_num_expect(c, k, &r->value);
    case VDC_O_DATA:
        if ((rc = need_eq(c, k)) != VINF_SUCCESS)
            return rc;
        pd->data_out = *k;
        return VINF_SUCCESS;
    case VDC_O_COMMENT:
        if ((rc = need_eq(c, k)) != VINF_SUCCESS)
            return rc;
        return parse_str(c, k, false, &r->out_str);
    case VDC_O_STRING:
        if ((rc = need_eq(c, k)) != VINF_SUCCESS)
            return rc;
        return parse_str(c, k, true, &r->out_str);
    case VDC_O_UUID:
        if ((rc = need_eq(c, k)) != VINF_SUCCESS)
            return rc;
        return parse_uuid(c, k->val, k->nval, false, &r->out_uuid);
    case VDC_O_PRINTED:
        if ((rc = need_eq(c, k)) != VINF_SUCCESS)
            return rc;
        if (k->nval == 3 && memcmp(k->val, "yes", 3) == 0)
            r->printed_any = false;
        else if (k->nval == 3 && memcmp(k->val, "any", 3) == 0)
            r->printed_any = true;
        else
            return PERR(c, "printed takes yes or any");
        return VINF_SUCCESS;
    default:
        return PERR(c, "internal: unhandled output");
    }
}

static int parse_seen(pctx *c, const kv *k, vdc_record *r)
{
    const char *colon = memchr(k->val, ':', k->nval);
    size_t sn = colon != NULL ? (size_t)(colon - k->val) : k->nval;
    if (k->cmp != VDC_CMP_EQ)
        return PERR(c, "seen takes '='");
    if (!vdc_lex_status(k->val, sn, &r->seen_status))
        return PERR(c, "bad status in seen=\"" TOKFMT "\"", TOKARG(k->val, k->nval));
    r->seen_given = true;
    if (colon != NULL) {
        if (!vdc_lex_u64(colon + 1, k->nval - sn - 1, &r->seen_count))
            return PERR(c, "bad count in seen=\"" TOKFMT "\"", TOKARG(k->val, k->nval));
        r->seen_count_given = true;
    }
    return VINF_SUCCESS;
}

/* Checks and defaults once every token is read. */
static int finish_record(pctx *c, vdc_record *r, pending *pd)
{
    const vdc_op_info *oi = c->oi;
    vdc_trace *t = c->t;
    unsigned missing = oi->req & ~pd->args;
    int rc;

    if (missing != 0) {
        for (unsigned b = 1; b != 0; b <<= 1)
            if (missing & b)
                return PERR(c, "missing argument %s=", arg_name(b));
    }
    /* ranges */
    if (oi->args & VDC_A_LEN) {
        uint64_t max = r->op == VDC_OP_DISCARD ? VDC_TRACE_MAX_SIZE : VDC_TRACE_MAX_XFER;
        if (r->len > max)
            return PERR(c, "len exceeds %s", max == VDC_TRACE_MAX_XFER ? "64M" : "2^62");
        if (r->op != VDC_OP_FILE && r->len == 0)
            return PERR(c, "len must be at least 1");
        if (r->off > VDC_TRACE_MAX_SIZE || r->len > VDC_TRACE_MAX_SIZE - r->off)
            return PERR(c, "off+len out of range (max 2^62)");
    }
    if (r->op == VDC_OP_CREATE) {
        if (r->size > VDC_TRACE_MAX_SIZE)
            return PERR(c, "size out of range (max 2^62)");
        if (!(pd->args & VDC_A_SPAN))
            r->pct_span = 99;
        if (r->pct_start + r->pct_span > 100)
            return PERR(c, "start+span must be at most 100");
        if (!(pd->args & VDC_A_COMMENT)) {
            r->str.given = true;
            r->str.null = true;
        }
        if (!(pd->args & VDC_A_UUID)) {
            r->uuid.kind = VDC_UUID_VAR;
            if ((rc = intern_var(c, r->handle, strlen(r->handle), &r->uuid.var)) != VINF_SUCCESS)
                return rc;
        }
    }
    if (r->op == VDC_OP_GET_COMMENT) {
        if (!(pd->args & VDC_A_BUF))
            r->buf = 1024;
        if (r->buf > 65536)
            return PERR(c, "buf must be at most 65536");
    }
    /* data */
    if (pd->args & VDC_A_DATA) {
        uint64_t off = r->op == VDC_OP_FILE ? 0 : r->off;
        if ((rc = parse_data(c, pd->data_arg.val, pd->data_arg.nval, off, r->len, false, &r->data)) != VINF_SUCCESS)
            return rc;
    } else if (pd->outs & VDC_O_DATA) {
        if ((rc = parse_data(c, pd->data_out.val, pd->data_out.nval, r->off, r->len, !r->fill, &r->data))
            != VINF_SUCCESS)
            return rc;
    } else if (r->op == VDC_OP_FILE && r->len > 0) {
        vdc_seg *s = vdc_arena_alloc(t->ra, sizeof *s);
        if (s == NULL)
            return VERR_NO_MEMORY;
        s->kind = VDC_GEN_ZERO;
        s->start = 0;
        s->len = r->len;
        r->data.nsegs = 1;
        r->data.segs = s;
    }
    if (r->fill && r->data.nsegs == 0)
        return PERR(c, "fill needs data= (the bytes VD would read from the image)");
    /* statuses */
    if (!pd->have_alts && oi->def != VDC_DEF_NONE) {
        if (oi->def == VDC_DEF_OK) {
            pd->alts[0] = (vdc_alt){ VDC_ALT_STATUS, VINF_SUCCESS, 0 };
            pd->nalts = 1;
        } else {
            pd->alts[0] = (vdc_alt){ VDC_ALT_HIT, 0, 0 };
            pd->alts[1] = (vdc_alt){ VDC_ALT_MISS, 0, 1 };
            pd->nalts = 2;
        }
    }
    for (unsigned i = 0; i < pd->nalts; i++)
        if (pd->alts[i].kind == VDC_ALT_MISS && pd->alts[i].min > r->len)
            return PERR(c, "miss>=%llu is longer than len", (unsigned long long)pd->alts[i].min);
    for (unsigned i = 0; i < pd->nshould; i++)
        if (pd->should[i].kind == VDC_ALT_MISS && pd->should[i].min > r->len)
            return PERR(c, "miss>=%llu is longer than len", (unsigned long long)pd->should[i].min);
    if (pd->nalts > 0 && (rc = store_alts(c, pd->alts, pd->nalts, &r->expect)) != VINF_SUCCESS)
        return rc;
    if (pd->nshould > 0 && (rc = store_alts(c, pd->should, pd->nshould, &r->should)) != VINF_SUCCESS)
        return rc;
    return VINF_SUCCESS;
}

/* Handle state rules (section 4.1): checks only; applied after storing. */
static int check_handle(pctx *c, vdc_record *r, vdc_handle_state **hs_out)
{
    vdc_trace *t = c->t;
    vdc_handle_state *hs;

    if (c->oi->pos != VDC_POS_HANDLE)
        return VINF_SUCCESS;
    hs = hstate_find(t, r->handle);
    if (hs == NULL) {
        if (t->nhstate >= VDC_TRACE_MAX_HANDLES)
            return perr_rc(c, VERR_TOO_MUCH_DATA, "too many handles (more than %u)", VDC_TRACE_MAX_HANDLES);
        hs = &t->hstate[t->nhstate];
        hs->name = r->handle;
        hs->file = NULL;
        hs->open = false;
        /* counted only when the record is stored (see apply) */
    }
    if (r->op == VDC_OP_CREATE || r->op == VDC_OP_OPEN) {
        if (hs->open)
            return PERR(c, "handle %s is already open", r->handle);
        if (r->file == NULL) {
            if (hs->file == NULL)
                return PERR(c, "handle %s has no file yet: give file=", r->handle);
            r->file = hs->file;
        }
    } else if (!hs->open) {
        return PERR(c, "handle %s is not open", r->handle);
    }
    *hs_out = hs;
    return VINF_SUCCESS;
}

static void apply_handle(vdc_trace *t, const vdc_record *r, vdc_handle_state *hs)
{
    if (hs == NULL)
        return;
    if (hs == &t->hstate[t->nhstate])
        t->nhstate++;
    if (r->op == VDC_OP_CREATE || r->op == VDC_OP_OPEN) {
        hs->file = r->file;
        hs->open = alts_admit_success(&r->expect);
    } else if (r->op == VDC_OP_CLOSE) {
        hs->open = false;
    }
}

static int parse_record(pctx *c, const vdc_tok *toks, int n, vdc_op op)
{
    const vdc_op_info *oi = c->oi;
    vdc_trace *t = c->t;
    vdc_record r;
    pending pd;
    vdc_handle_state *hs = NULL;
    char text[VDC_TRACE_MAX_LINE + 1];
    int i = 1, rc;

    memset(&r, 0, sizeof r);
    memset(&pd, 0, sizeof pd);
    r.op = op;
    r.line = c->line;

    /* positional */
    if (oi->pos != VDC_POS_NONE) {
        bool added;
        if (n < 2 || tok_is(&toks[1], "->"))
            return PERR(c, "missing %s", oi->pos == VDC_POS_HANDLE ? "handle" : oi->pos == VDC_POS_FILE ? "file name"
                        : op == VDC_OP_INTERFACES ? "mode" : "key");
        const vdc_tok *p = &toks[1];
        i = 2;
        switch (oi->pos) {
        case VDC_POS_HANDLE:
            if (!vdc_lex_is_handle(p->p, p->n))
                return PERR(c, "bad handle name \"" TOKFMT "\"", TOKARG(p->p, p->n));
            rc = vdc_intern_get(&t->handles, &t->arena, p->p, p->n, &r.handle, &added);
            if (rc == VERR_TOO_MUCH_DATA)
                return perr_rc(c, rc, "too many handles (more than %u)", VDC_TRACE_MAX_HANDLES);
            if (rc != VINF_SUCCESS)
                return rc;
            break;
        case VDC_POS_FILE:
            if (!vdc_lex_is_file(p->p, p->n))
                return PERR(c, "bad file name \"" TOKFMT "\"", TOKARG(p->p, p->n));
            rc = vdc_intern_get(&t->files, &t->arena, p->p, p->n, &r.file, &added);
            if (rc == VERR_TOO_MUCH_DATA)
                return perr_rc(c, rc, "too many file names (more than %u)", VDC_TRACE_MAX_FILES);
            if (rc != VINF_SUCCESS)
                return rc;
            break;
        case VDC_POS_KEY:
            if (r.op == VDC_OP_INTERFACES && vdc_interfaces_mode(p->p, p->n) < 0)
                return PERR(c, "unknown interfaces mode \"" TOKFMT "\" (full, bare, nomessage or noprealloc)",
                            TOKARG(p->p, p->n));
            if (!vdc_lex_is_key(p->p, p->n))
                return PERR(c, "bad config key \"" TOKFMT "\"", TOKARG(p->p, p->n));
            r.key = vdc_arena_strndup(t->ra, p->p, p->n);
            if (r.key == NULL)
                return VERR_NO_MEMORY;
            break;
        case VDC_POS_NONE:
            break;
        }
    }

    for (; i < n; i++) {
        const vdc_tok *tk = &toks[i];
        kv k;
        bool is_kv = split_kv(tk, &k);
        if (tok_is(tk, "->")) {
            if (pd.have_arrow)
                return PERR(c, "second \"->\"");
            pd.have_arrow = true;
            continue;
        }
        if (!pd.have_arrow && (tok_is(tk, "delete") || tok_is(tk, "fill"))) {
            unsigned bit = tok_is(tk, "delete") ? VDC_A_DELETE : VDC_A_FILL;
            if (!(oi->args & bit))
                return PERR(c, "unknown argument \"" TOKFMT "\"", TOKARG(tk->p, tk->n));
            if (pd.args & bit)
                return PERR(c, "repeated argument \"" TOKFMT "\"", TOKARG(tk->p, tk->n));
            pd.args |= bit;
            if (bit == VDC_A_DELETE)
                r.del = true;
            else
                r.fill = true;
            continue;
        }
        if (is_kv && key_is(&k, "clause")) {
            if (oi->host)
                return PERR(c, "host-side records take no clauses");
            if (pd.have_clause)
                return PERR(c, "repeated clause=");
            pd.have_clause = true;
            if ((rc = parse_clauses(c, &k, &r)) != VINF_SUCCESS)
                return rc;
            continue;
        }
        if (!pd.have_arrow) {
            unsigned bit = is_kv ? key_bit(arg_keys, &k) : 0;
            if (bit == 0 || !(oi->args & bit))
                return PERR(c, "unknown argument \"" TOKFMT "\"", TOKARG(tk->p, tk->n));
            if (pd.args & bit)
                return PERR(c, "repeated argument %s=", arg_name(bit));
            pd.args |= bit;
            if ((rc = parse_arg(c, &k, bit, &r, &pd)) != VINF_SUCCESS)
                return rc;
            continue;
        }
        /* expectation part */
        if (is_kv && (key_is(&k, "should") || key_is(&k, "seen"))) {
            bool should = key_is(&k, "should");
            if (oi->def == VDC_DEF_NONE)
                return PERR(c, "%s takes no status, so no %s=", oi->name, should ? "should" : "seen");
            if (should ? pd.have_should : pd.have_seen)
                return PERR(c, "repeated %s=", should ? "should" : "seen");
            if (should) {
                pd.have_should = true;
                if (k.cmp != VDC_CMP_EQ)
                    return PERR(c, "should takes '='");
                rc = parse_alts(c, k.val, k.nval, pd.should, &pd.nshould);
            } else {
                pd.have_seen = true;
                rc = parse_seen(c, &k, &r);
            }
            if (rc != VINF_SUCCESS)
                return rc;
            continue;
        }
        unsigned obit = is_kv ? key_bit(out_keys, &k) : 0;
        if (obit != 0) {
            if (!(oi->outs & obit))
                return PERR(c, "unknown expectation \"" TOKFMT "\"", TOKARG(tk->p, tk->n));
            if (pd.outs & obit)
                return PERR(c, "repeated expectation %.*s", (int)k.nkey, k.key);
            pd.outs |= obit;
            if ((rc = parse_out(c, &k, obit, &r, &pd)) != VINF_SUCCESS)
                return rc;
            continue;
        }
        if (oi->def == VDC_DEF_NONE)
            return PERR(c, "unknown expectation \"" TOKFMT "\" (%s takes no status)", TOKARG(tk->p, tk->n), oi->name);
        if (pd.have_alts)
            return PERR(c, "unknown expectation \"" TOKFMT "\" (the status list was already given)",
                        TOKARG(tk->p, tk->n));
        pd.have_alts = true;
        if ((rc = parse_alts(c, tk->p, tk->n, pd.alts, &pd.nalts)) != VINF_SUCCESS)
            return rc;
    }

    if ((rc = check_handle(c, &r, &hs)) != VINF_SUCCESS)
        return rc;
    if ((rc = finish_record(c, &r, &pd)) != VINF_SUCCESS)
        return rc;

    /* canonical text; refusing what the writer could not write keeps the round trip exact */
    rc = vdc_record_format(&r, text, sizeof text);
    if (rc == VERR_BUFFER_OVERFLOW)
        return PERR(c, "record too long in canonical form (more than %u bytes)", VDC_TRACE_MAX_LINE);
    if (rc != VINF_SUCCESS)
        return PERR(c, "internal: record cannot be formatted");
    const char *stored = vdc_arena_strndup(t->ra, text, strlen(text));
    if (stored == NULL)
        return VERR_NO_MEMORY;
    rc = vdc_trace_push(t, &r, stored);
    if (rc == VERR_TOO_MUCH_DATA)
        return perr_rc(c, rc, "more than %u records", VDC_TRACE_MAX_RECORDS);
    if (rc == VINF_SUCCESS) {
        apply_handle(t, &r, hs);
        t->seen_record = true;
    }
    return rc;
}

int vdc_trace_parse_line(vdc_trace *t, const char *line, size_t len, unsigned lineno, const char *errname,
                         char *err, size_t cb_err)
{
    vdc_tok toks[MAX_TOKS];
    const char *why = "bad line";
    pctx c = { t, errname, lineno, err, cb_err, NULL };
    vdc_op op;
    int n;

    if (len > VDC_TRACE_MAX_LINE)
        return PERR(&c, "line too long (more than %u bytes)", VDC_TRACE_MAX_LINE);
    n = vdc_lex_line(line, len, toks, MAX_TOKS, &why);
    if (n < 0)
        return PERR(&c, "%s", why);
    if (n == 0)
        return VINF_SUCCESS;
    if (tok_is(&toks[0], "name") || tok_is(&toks[0], "requires") || tok_is(&toks[0], "clauses")
        || tok_is(&toks[0], "format"))
        return parse_header(&c, toks, n);
    if (tok_is(&toks[0], "vdcc-trace"))
        return PERR(&c, "the version line must be line 1");
    c.oi = vdc_op_lookup(toks[0].p, toks[0].n, &op);
    if (c.oi == NULL)
        return PERR(&c, "unknown record \"" TOKFMT "\"", TOKARG(toks[0].p, toks[0].n));
    return parse_record(&c, toks, n, op);
}
