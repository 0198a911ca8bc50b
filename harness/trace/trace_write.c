/*
 * harness/trace/trace_write.c - canonical text of records and traces.
 *
 * Contract: trace_write.h.  Implements spec/trace-format.md section 11 (the
 * canonical form) so that the parser (trace_parse.c) reads back exactly the
 * record that was written.  Statuses: VINF_SUCCESS, VERR_INVALID_PARAMETER
 * (malformed record or header), VERR_INVALID_STATE (call order),
 * VERR_BUFFER_OVERFLOW (line longer than VDC_TRACE_MAX_LINE),
 * VERR_NO_MEMORY, VERR_WRITE_ERROR (the FILE failed).  Writer errors are
 * sticky.
 */
#include "trace_write.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../host/status.h"
#include "trace_int.h"

/* ---- a bounded string builder ------------------------------------------ */
typedef struct sb {
    char  *p;
    size_t cb, len;
    bool   overflow;
} sb;

static void sb_putn(sb *b, const char *s, size_t n)
{
    if (b->overflow || b->len + n + 1 > b->cb) {
        b->overflow = true;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(sb *b, const char *s)
{
    sb_putn(b, s, strlen(s));
}

static void sb_printf(sb *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        b->overflow = true;
        return;
    }
    sb_putn(b, tmp, (size_t)n);
}

static void sb_num(sb *b, uint64_t v)
{
    static const struct { unsigned shift; char suffix; } sfx[] = { { 40, 'T' }, { 30, 'G' }, { 20, 'M' }, { 10, 'K' } };
    if (v != 0) {
        for (unsigned i = 0; i < 4; i++) {
            uint64_t unit = UINT64_C(1) << sfx[i].shift;
            if (v % unit == 0) {
                sb_printf(b, "%llu%c", (unsigned long long)(v / unit), sfx[i].suffix);
                return;
            }
        }
    }
    sb_printf(b, "%llu", (unsigned long long)v);
}

static void sb_flags(sb *b, vdc_flagset fs, uint64_t v)
{
    const char *zero = NULL;
    const vdc_flag_name *names = vdc_flag_names(fs, &zero);
    bool first = true;
    if (v == 0) {
        sb_puts(b, zero != NULL ? zero : "0");
        return;
    }
    for (const vdc_flag_name *f = names; f != NULL && f->name != NULL; f++) {
        if ((v & f->bit) == f->bit) {
            sb_puts(b, first ? "" : "|");
            sb_puts(b, f->name);
            v &= ~f->bit;
            first = false;
        }
    }
    if (v != 0)
        sb_printf(b, "%s0x%llx", first ? "" : "|", (unsigned long long)v);
}

static void sb_string(sb *b, const char *s)
{
    sb_putn(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p != 0; p++) {
        if (*p == '"' || *p == '\\') {
            char e[2] = { '\\', (char)*p };
            sb_putn(b, e, 2);
        } else if (*p < 0x20 || *p > 0x7e) {
            sb_printf(b, "\\x%02x", *p);
        } else {
            sb_putn(b, (const char *)p, 1);
        }
    }
    sb_putn(b, "\"", 1);
}

static void sb_status(sb *b, int rc)
{
    const char *name = rc == VINF_SUCCESS ? "OK" : vdc_status_name(rc);
    if (name != NULL)
        sb_puts(b, name);
    else
        sb_printf(b, "%d", rc);
}

static void sb_alts(sb *b, const vdc_alts *a)
{
    for (unsigned i = 0; i < a->n; i++) {
        const vdc_alt *x = &a->v[i];
        if (i > 0)
            sb_puts(b, "|");
        switch (x->kind) {
        case VDC_ALT_STATUS: sb_status(b, x->status); break;
        case VDC_ALT_SUCCESS: sb_puts(b, "success"); break;
        case VDC_ALT_FAILURE: sb_puts(b, "failure"); break;
        case VDC_ALT_ANY: sb_puts(b, "any"); break;
        case VDC_ALT_HIT: sb_puts(b, "hit"); break;
        case VDC_ALT_MISS:
            if (x->min <= 1) {
                sb_puts(b, "miss");
            } else {
                sb_puts(b, "miss>=");
                sb_num(b, x->min);
            }
            break;
        }
    }
}

static void sb_uuid(sb *b, const vdc_uuid_ref *u)
{
    switch (u->kind) {
    case VDC_UUID_LIT: {
        const uint8_t *x = u->lit.au8;
        sb_printf(b, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-", x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7],
                  x[8], x[9]);
        sb_printf(b, "%02x%02x%02x%02x%02x%02x", x[10], x[11], x[12], x[13], x[14], x[15]);
        break;
    }
    case VDC_UUID_VAR: sb_puts(b, "$"); sb_puts(b, u->var != NULL ? u->var : ""); break;
    case VDC_UUID_NIL: sb_puts(b, "nil"); break;
    case VDC_UUID_NULLPTR: sb_puts(b, "null"); break;
    case VDC_UUID_ANYV: sb_puts(b, "any"); break;
    case VDC_UUID_NONE: break;
    }
}

static void sb_data(sb *b, const vdc_data *d)
{
    for (unsigned i = 0; i < d->nsegs; i++) {
        const vdc_seg *s = &d->segs[i];
        if (i > 0)
            sb_puts(b, ",");
        switch (s->kind) {
        case VDC_GEN_PATTERN: sb_printf(b, "pattern:%llu", (unsigned long long)s->seed); break;
        case VDC_GEN_ZERO: sb_puts(b, "zero"); break;
        case VDC_GEN_FILL: sb_printf(b, "fill:%u", s->fill); break;
        case VDC_GEN_ANY: sb_puts(b, "any"); break;
        case VDC_GEN_HEX:
            sb_puts(b, "hex:");
            for (uint64_t k = 0; k < s->len && !b->overflow; k++)
                sb_printf(b, "%02x", s->hex[k]);
            break;
        }
        if (d->nsegs > 1) {
            sb_puts(b, "@");
            sb_num(b, s->start);
            sb_puts(b, "+");
            sb_num(b, s->len);
        }
    }
}

static void sb_cmp_num(sb *b, const char *key, const vdc_num *n)
{
    if (n->cmp == VDC_CMP_NONE)
        return;
    sb_printf(b, " %s%s", key, n->cmp == VDC_CMP_EQ ? "=" : n->cmp == VDC_CMP_GE ? ">=" : "<=");
    sb_num(b, n->v);
}

const char *vdc_alts_format(const vdc_alts *a, char *buf, size_t cb)
{
    sb b = { buf, cb, 0, false };
    if (cb == 0)
        return buf;
    buf[0] = '\0';
    sb_alts(&b, a);
    if (b.overflow && cb > 4)
        memcpy(buf + (b.len < cb - 4 ? b.len : cb - 4), "...", 4);
    return buf;
}

const char *vdc_data_format(const vdc_data *d, char *buf, size_t cb)
{
    sb b = { buf, cb, 0, false };
    if (cb == 0)
        return buf;
    buf[0] = '\0';
    sb_data(&b, d);
    if (b.overflow && cb > 4)
        memcpy(buf + (b.len < cb - 4 ? b.len : cb - 4), "...", 4);
    return buf;
}

/* ---- validation of what the caller hands in ---------------------------- */

static bool name_ok(bool (*is)(const char *, size_t), const char *s)
{
    return s != NULL && is(s, strlen(s));
}

static bool data_ok(const vdc_data *d, uint64_t off, uint64_t len)
{
    uint64_t pos = off;
    if (d->nsegs == 0)
        return true;
    if (d->nsegs > VDC_TRACE_MAX_SEGS || d->segs == NULL)
        return false;
    for (unsigned i = 0; i < d->nsegs; i++) {
        const vdc_seg *s = &d->segs[i];
        if (s->start != pos || s->len == 0 || s->len > VDC_TRACE_MAX_SIZE)
            return false;
        if (s->kind < VDC_GEN_PATTERN || s->kind > VDC_GEN_ANY)
            return false;
        if (s->kind == VDC_GEN_HEX && (s->hex == NULL || s->len > VDC_TRACE_MAX_HEX))
            return false;
        pos += s->len;
    }
    return pos == off + len;
}

static bool alts_ok(const vdc_alts *a)
{
    if (a->n > VDC_TRACE_MAX_ALTS || (a->n > 0 && a->v == NULL))
        return false;
    for (unsigned i = 0; i < a->n; i++)
        if (a->v[i].kind < VDC_ALT_STATUS || a->v[i].kind > VDC_ALT_MISS)
            return false;
    return true;
}

static bool uuid_ok(const vdc_uuid_ref *u)
{
    return u->kind != VDC_UUID_VAR || name_ok(vdc_lex_is_var, u->var);
}

static bool record_ok(const vdc_record *r, const vdc_op_info *oi)
{
    if (oi->pos == VDC_POS_HANDLE && !name_ok(vdc_lex_is_handle, r->handle))
        return false;
    if (oi->pos == VDC_POS_FILE && !name_ok(vdc_lex_is_file, r->file))
        return false;
    if (oi->pos == VDC_POS_KEY && !name_ok(vdc_lex_is_key, r->key))
        return false;
    if ((oi->args & VDC_A_FILE) && r->file != NULL && !name_ok(vdc_lex_is_file, r->file))
        return false;
    if ((oi->args & VDC_A_SIDECAR) && !name_ok(vdc_lex_is_file, r->sidecar))
        return false;
    if (!data_ok(&r->data, r->op == VDC_OP_FILE ? 0 : r->off, r->len))
        return false;
    if (!alts_ok(&r->expect) || !alts_ok(&r->should) || !uuid_ok(&r->uuid) || !uuid_ok(&r->out_uuid))
        return false;
    if (r->nclauses > VDC_TRACE_MAX_REC_CLAUSES || (r->nclauses > 0 && r->clauses == NULL))
        return false;
    for (unsigned i = 0; i < r->nclauses; i++)
        if (!name_ok(vdc_lex_is_clause, r->clauses[i]))
            return false;
    if (r->str.given && !r->str.null && r->str.s == NULL)
        return false;
    if (r->out_str.given && !r->out_str.null && r->out_str.s == NULL)
        return false;
    return true;
}

/* ---- one record --------------------------------------------------------- */

int vdc_record_format(const vdc_record *r, char *buf, size_t cb)
{
    const vdc_op_info *oi;
    sb b = { buf, cb, 0, false };
    unsigned a;

    if (buf == NULL || cb == 0)
        return VERR_BUFFER_OVERFLOW;
    buf[0] = '\0';
    if (r == NULL || (oi = vdc_op_info_of(r->op)) == NULL || !record_ok(r, oi))
        return VERR_INVALID_PARAMETER;
    a = oi->args;
    sb_puts(&b, oi->name);
    if (oi->pos == VDC_POS_HANDLE) {
        sb_puts(&b, " ");
        sb_puts(&b, r->handle);
    } else if (oi->pos == VDC_POS_FILE) {
        sb_puts(&b, " ");
        sb_puts(&b, r->file);
    } else if (oi->pos == VDC_POS_KEY) {
        sb_puts(&b, " ");
        sb_puts(&b, r->key);
    }
    if ((a & VDC_A_FILE) && r->file != NULL) {
        sb_puts(&b, " file=");
        sb_puts(&b, r->file);
    }
    if (a & VDC_A_OFF) {
        sb_puts(&b, " off=");
        sb_num(&b, r->off);
    }
    if (a & VDC_A_LEN) {
        sb_puts(&b, " len=");
        sb_num(&b, r->len);
    }
    if (a & VDC_A_SIZE) {
        sb_puts(&b, " size=");
        sb_num(&b, r->size);
    }
    if (a & VDC_A_IMAGE) {
        sb_puts(&b, " image=");
        sb_flags(&b, VDC_FS_IMAGE, r->image_flags);
    }
    if (a & VDC_A_FLAGS) {
        sb_puts(&b, " flags=");
        sb_flags(&b, oi->flags_set, r->op == VDC_OP_DISCARD ? r->discard_flags : r->open_flags);
    }
    if ((a & VDC_A_COMMENT) && r->str.given) {
        sb_puts(&b, " comment=");
        if (r->str.null)
            sb_puts(&b, "null");
        else
            sb_string(&b, r->str.s);
    }
    if ((a & VDC_A_UUID) && r->uuid.kind != VDC_UUID_NONE) {
        sb_puts(&b, " uuid=");
        sb_uuid(&b, &r->uuid);
    }
    if (a & VDC_A_START)
        sb_printf(&b, " start=%u span=%u", r->pct_start, r->pct_span);
    if (a & VDC_A_BUF) {
        sb_puts(&b, " buf=");
        sb_num(&b, r->buf);
    }
    if ((a & VDC_A_DATA) && r->data.nsegs > 0) {
        sb_puts(&b, " data=");
        sb_data(&b, &r->data);
    }
    if ((a & VDC_A_VALUE) && r->str.given && !r->str.null) {
        sb_puts(&b, " value=");
        sb_string(&b, r->str.s);
    }
    if ((a & VDC_A_SIDECAR) && r->sidecar != NULL) {
        sb_puts(&b, " sidecar=");
        sb_puts(&b, r->sidecar);
    }
    if ((a & VDC_A_DELETE) && r->del)
        sb_puts(&b, " delete");
    if ((a & VDC_A_FILL) && r->fill)
        sb_puts(&b, " fill");
    if (r->nclauses > 0 && !oi->host) {
        sb_puts(&b, " clause=");
        for (unsigned i = 0; i < r->nclauses; i++) {
            if (i > 0)
                sb_puts(&b, ",");
            sb_puts(&b, r->clauses[i]);
        }
    }

    /* expectations */
    size_t before_arrow = b.len;
    sb_puts(&b, " ->");
    size_t after_arrow = b.len;
    if (oi->def != VDC_DEF_NONE && r->expect.n > 0) {
        sb_puts(&b, " ");
        sb_alts(&b, &r->expect);
    }
    if (oi->outs & VDC_O_COUNT)
        sb_cmp_num(&b, "count", &r->count);
    if ((oi->outs & VDC_O_DATA) && r->data.nsegs > 0) {
        sb_puts(&b, " data=");
        sb_data(&b, &r->data);
    }
    if (oi->outs & VDC_O_VALUE) {
        if (oi->value_set != VDC_FS_NONE && r->value.cmp != VDC_CMP_NONE) {
            sb_puts(&b, " value=");
            sb_flags(&b, oi->value_set, r->value.v);
        } else {
            sb_cmp_num(&b, "value", &r->value);
        }
    }
    if (oi->outs & VDC_O_PRE)
        sb_cmp_num(&b, "pre", &r->pre);
    if (oi->outs & VDC_O_POST)
        sb_cmp_num(&b, "post", &r->post);
    if (oi->outs & VDC_O_DISCARDED)
        sb_cmp_num(&b, "discarded", &r->discarded);
    if ((oi->outs & (VDC_O_COMMENT | VDC_O_STRING)) && r->out_str.given) {
        sb_puts(&b, (oi->outs & VDC_O_COMMENT) ? " comment=" : " string=");
        if (r->out_str.null)
            sb_puts(&b, "null");
        else
            sb_string(&b, r->out_str.s);
    }
    if ((oi->outs & VDC_O_UUID) && r->out_uuid.kind != VDC_UUID_NONE) {
        sb_puts(&b, " uuid=");
        sb_uuid(&b, &r->out_uuid);
    }
    if (oi->outs & VDC_O_PRINTED)
        sb_puts(&b, r->printed_any ? " printed=any" : " printed=yes");
    if (oi->def != VDC_DEF_NONE && r->should.n > 0) {
        sb_puts(&b, " should=");
        sb_alts(&b, &r->should);
    }
    if (oi->def != VDC_DEF_NONE && r->seen_given) {
        sb_puts(&b, " seen=");
        sb_status(&b, r->seen_status);
        if (r->seen_count_given) {
            sb_puts(&b, ":");
            sb_num(&b, r->seen_count);
        }
    }
    if (!b.overflow && b.len == after_arrow) {
        /* nothing to expect: drop the arrow */
        b.len = before_arrow;
        buf[b.len] = '\0';
    }
    return b.overflow ? VERR_BUFFER_OVERFLOW : VINF_SUCCESS;
}

/* ---- the writer --------------------------------------------------------- */

struct vdc_trace_writer {
    FILE  *f;
    char  *text;
    size_t len, cap;
    int    status;
    bool   header_done;
    char   line[VDC_TRACE_MAX_LINE + 2];
};

static vdc_trace_writer *tw_alloc(FILE *f)
{
    vdc_trace_writer *w = calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    w->f = f;
    w->text = malloc(1);
    if (w->text == NULL) {
        free(w);
        return NULL;
    }
    w->text[0] = '\0';
    w->cap = 1;
    return w;
}

vdc_trace_writer *vdc_tw_new(void)
{
    return tw_alloc(NULL);
}

vdc_trace_writer *vdc_tw_new_file(FILE *f)
{
    if (f == NULL)
        return NULL;
    return tw_alloc(f);
}

void vdc_tw_free(vdc_trace_writer *w)
{
    if (w == NULL)
        return;
    free(w->text);
    free(w);
}

int vdc_tw_status(const vdc_trace_writer *w)
{
    return w != NULL ? w->status : VERR_INVALID_PARAMETER;
}

const char *vdc_tw_text(const vdc_trace_writer *w, size_t *len)
{
    if (w == NULL) {
        if (len != NULL)
            *len = 0;
        return "";
    }
    if (len != NULL)
        *len = w->len;
    return w->text;
}

static int tw_fail(vdc_trace_writer *w, int rc)
{
    if (w->status == VINF_SUCCESS)
        w->status = rc;
    return rc;
}

/* Appends s[0..n) and a newline. */
static int tw_emit(vdc_trace_writer *w, const char *s, size_t n)
{
    if (w->f != NULL) {
        if (fwrite(s, 1, n, w->f) != n || fputc('\n', w->f) == EOF)
            return tw_fail(w, VERR_WRITE_ERROR);
        return VINF_SUCCESS;
    }
    if (w->len + n + 2 > w->cap) {
        size_t cap = w->cap;
        while (w->len + n + 2 > cap) {
            if (cap > SIZE_MAX / 2)
                return tw_fail(w, VERR_NO_MEMORY);
            cap *= 2;
        }
        char *p = realloc(w->text, cap);
        if (p == NULL)
            return tw_fail(w, VERR_NO_MEMORY);
        w->text = p;
        w->cap = cap;
    }
    memcpy(w->text + w->len, s, n);
    w->len += n;
    w->text[w->len++] = '\n';
    w->text[w->len] = '\0';
    return VINF_SUCCESS;
}

int vdc_tw_header(vdc_trace_writer *w, const vdc_trace_header *h)
{
    sb b;
    int rc;

    if (w == NULL || h == NULL)
        return VERR_INVALID_PARAMETER;
    if (w->status != VINF_SUCCESS)
        return w->status;
    if (w->header_done)
        return tw_fail(w, VERR_INVALID_STATE);
    if (h->name != NULL && (h->name[0] == '\0' || strlen(h->name) > VDC_TRACE_MAX_STRING))
        return tw_fail(w, VERR_INVALID_PARAMETER);
    if (h->nclauses > VDC_TRACE_MAX_CLAUSES || (h->nclauses > 0 && h->clauses == NULL))
        return tw_fail(w, VERR_INVALID_PARAMETER);
    for (unsigned i = 0; i < h->nclauses; i++)
        if (!name_ok(vdc_lex_is_clause, h->clauses[i]))
            return tw_fail(w, VERR_INVALID_PARAMETER);
    if (h->format != NULL && !name_ok(vdc_lex_is_tracename, h->format))
        return tw_fail(w, VERR_INVALID_PARAMETER);
    w->header_done = true;
    b = (sb){ w->line, sizeof w->line, 0, false };
    sb_printf(&b, "vdcc-trace %u", h->version > VDC_TRACE_VERSION ? h->version : VDC_TRACE_VERSION);
    if ((rc = tw_emit(w, b.p, b.len)) != VINF_SUCCESS)
        return rc;
    if (h->comment != NULL && (rc = vdc_tw_comment(w, h->comment)) != VINF_SUCCESS)
        return rc;
    if (h->name != NULL) {
        b = (sb){ w->line, sizeof w->line, 0, false };
        sb_puts(&b, "name ");
        if (vdc_lex_is_tracename(h->name, strlen(h->name)))
            sb_puts(&b, h->name);
        else
            sb_string(&b, h->name);
        if (b.overflow)
            return tw_fail(w, VERR_BUFFER_OVERFLOW);
        if ((rc = tw_emit(w, b.p, b.len)) != VINF_SUCCESS)
            return rc;
    }
    if (h->format != NULL) {
        b = (sb){ w->line, sizeof w->line, 0, false };
        sb_puts(&b, "format ");
        sb_puts(&b, h->format); /* up to 128 bytes: not through sb_printf's buffer */
        if (b.overflow)
            return tw_fail(w, VERR_BUFFER_OVERFLOW);
        if ((rc = tw_emit(w, b.p, b.len)) != VINF_SUCCESS)
            return rc;
    }
    if (h->caps != 0) {
        const char *zero;
        const vdc_flag_name *names = vdc_flag_names(VDC_FS_CAPS, &zero);
        uint64_t left = h->caps;
        b = (sb){ w->line, sizeof w->line, 0, false };
        sb_puts(&b, "requires");
        for (const vdc_flag_name *f = names; f->name != NULL; f++) {
            if (left & f->bit) {
                sb_puts(&b, " ");
                sb_puts(&b, f->name);
                left &= ~f->bit;
            }
        }
        if (left != 0)
            sb_printf(&b, " 0x%llx", (unsigned long long)left);
        if (b.overflow)
            return tw_fail(w, VERR_BUFFER_OVERFLOW);
        if ((rc = tw_emit(w, b.p, b.len)) != VINF_SUCCESS)
            return rc;
    }
    for (unsigned i = 0; i < h->nclauses; i += 32) {
        b = (sb){ w->line, sizeof w->line, 0, false };
        sb_puts(&b, "clauses");
        for (unsigned k = i; k < h->nclauses && k < i + 32; k++) {
            sb_puts(&b, " ");
            sb_puts(&b, h->clauses[k]);
        }
        if ((rc = tw_emit(w, b.p, b.len)) != VINF_SUCCESS)
            return rc;
    }
    return VINF_SUCCESS;
}

int vdc_tw_comment(vdc_trace_writer *w, const char *text)
{
    if (w == NULL || text == NULL)
        return VERR_INVALID_PARAMETER;
    if (w->status != VINF_SUCCESS)
        return w->status;
    if (!w->header_done)
        return tw_fail(w, VERR_INVALID_STATE);
    const char *p = text;
    for (;;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
        size_t o = 0;
        w->line[o++] = '#';
        w->line[o++] = ' ';
        for (size_t i = 0; i < n && o < VDC_TRACE_MAX_LINE; i++) {
            unsigned char c = (unsigned char)p[i];
            w->line[o++] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
        }
        int rc = tw_emit(w, w->line, o);
        if (rc != VINF_SUCCESS)
            return rc;
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    return VINF_SUCCESS;
}

int vdc_tw_record(vdc_trace_writer *w, const vdc_record *r)
{
    int rc;
    if (w == NULL || r == NULL)
        return VERR_INVALID_PARAMETER;
    if (w->status != VINF_SUCCESS)
        return w->status;
    if (!w->header_done)
        return tw_fail(w, VERR_INVALID_STATE);
    rc = vdc_record_format(r, w->line, VDC_TRACE_MAX_LINE + 1);
    if (rc != VINF_SUCCESS)
        return tw_fail(w, rc);
    return tw_emit(w, w->line, strlen(w->line));
}

int vdc_tw_trace(vdc_trace_writer *w, const vdc_trace *t)
{
    vdc_trace_header h;
    int rc;

    if (w == NULL || t == NULL)
        return VERR_INVALID_PARAMETER;
    memset(&h, 0, sizeof h);
    h.name = t->name;
    h.caps = t->caps;
    for (unsigned i = 0; i < t->nrecs; i++)
        if (t->recs[i].op == VDC_OP_IMAGE)
            h.version = 2; /* the first version with `image` */
    h.format = t->format;
    h.nclauses = t->nclauses;
    h.clauses = t->clauses;
    if ((rc = vdc_tw_header(w, &h)) != VINF_SUCCESS)
        return rc;
    for (unsigned i = 0; i < t->nrecs; i++)
        if ((rc = vdc_tw_record(w, &t->recs[i])) != VINF_SUCCESS)
            return rc;
    return VINF_SUCCESS;
}
