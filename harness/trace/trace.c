/*
 * harness/trace/trace.c - the vdc_trace object: memory, loading, accessors.
 *
 * Contract: trace.h (vdc_trace_parse, _load, _free, accessors, _new,
 * _set_caps, _append, _equal) and trace_int.h (arena, intern, push).
 * Splits input into lines and checks the version line (spec/trace-format.md
 * sections 2 and 3); each body line goes to vdc_trace_parse_line
 * (trace_parse.c).  Statuses: VINF_SUCCESS, VERR_INVALID_PARAMETER (bad
 * trace, err = "name:line: message"), VERR_NO_MEMORY, VERR_TOO_MUCH_DATA
 * (limits of section 8), and for _load VERR_FILE_NOT_FOUND and
 * VERR_FILE_IO_ERROR.
 */
#include "trace_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace_write.h"

/* ---- arena ------------------------------------------------------------- */

struct vdc_arena_chunk {
    vdc_arena_chunk *next;
    size_t           cap; /* bytes of data; also keeps data 16-byte aligned */
    unsigned char    data[];
};

#define ARENA_CHUNK (64u * 1024u)

void *vdc_arena_alloc(vdc_arena *a, size_t cb)
{
    size_t need = (cb + 15u) & ~(size_t)15u;
    if (cb > SIZE_MAX / 2)
        return NULL;
    if (a->head == NULL || a->cap - a->used < need) {
        size_t cap = need > ARENA_CHUNK ? need : ARENA_CHUNK;
        vdc_arena_chunk *c = malloc(sizeof *c + cap);
        if (c == NULL)
            return NULL;
        c->next = a->head;
        c->cap = cap;
        a->head = c;
        a->used = 0;
        a->cap = cap;
    }
    void *p = a->head->data + a->used;
    a->used += need;
    memset(p, 0, need);
    return p;
}

char *vdc_arena_strndup(vdc_arena *a, const char *s, size_t n)
{
    char *p = vdc_arena_alloc(a, n + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void vdc_arena_reset(vdc_arena *a)
{
    vdc_arena_chunk *keep = NULL;
    for (vdc_arena_chunk *c = a->head; c != NULL;) {
        vdc_arena_chunk *next = c->next;
        if (keep == NULL && c->cap == ARENA_CHUNK)
            keep = c; /* one standard chunk serves the next record */
        else
            free(c);
        c = next;
    }
    a->head = keep;
    if (keep != NULL)
        keep->next = NULL;
    a->used = 0;
    a->cap = keep != NULL ? keep->cap : 0;
}

void vdc_arena_free(vdc_arena *a)
{
    vdc_arena_chunk *c = a->head;
    while (c != NULL) {
        vdc_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->used = a->cap = 0;
}

/* ---- intern ------------------------------------------------------------ */

int vdc_intern_init(vdc_intern *s, unsigned limit)
{
    unsigned n = 16;
    while (n < 2u * limit)
        n *= 2;
    s->slots = calloc(n, sizeof *s->slots);
    if (s->slots == NULL)
        return VERR_NO_MEMORY;
    s->nslots = n;
    s->count = 0;
    s->limit = limit;
    return VINF_SUCCESS;
}

void vdc_intern_free(vdc_intern *s)
{
    free(s->slots);
    s->slots = NULL;
    s->nslots = s->count = 0;
}

static uint32_t hash_bytes(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

int vdc_intern_get(vdc_intern *set, vdc_arena *a, const char *s, size_t n, const char **out, bool *added)
{
    unsigned mask = set->nslots - 1, i = hash_bytes(s, n) & mask;
    *added = false;
    while (set->slots[i] != NULL) {
        const char *e = set->slots[i];
        if (strlen(e) == n && memcmp(e, s, n) == 0) {
            *out = e;
            return VINF_SUCCESS;
        }
        i = (i + 1) & mask;
    }
    if (set->count >= set->limit)
        return VERR_TOO_MUCH_DATA;
    char *copy = vdc_arena_strndup(a, s, n);
    if (copy == NULL)
        return VERR_NO_MEMORY;
    set->slots[i] = copy;
    set->count++;
    *out = copy;
    *added = true;
    return VINF_SUCCESS;
}

/* ---- trace object ------------------------------------------------------ */

vdc_trace *vdc_trace_alloc(void)
{
    vdc_trace *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    if (vdc_intern_init(&t->handles, VDC_TRACE_MAX_HANDLES) != VINF_SUCCESS
        || vdc_intern_init(&t->files, VDC_TRACE_MAX_FILES) != VINF_SUCCESS
        || vdc_intern_init(&t->vars, VDC_TRACE_MAX_VARS) != VINF_SUCCESS
        || vdc_intern_init(&t->clause_set, VDC_TRACE_MAX_CLAUSES) != VINF_SUCCESS) {
        vdc_trace_free(t);
        return NULL;
    }
    t->version = VDC_TRACE_VERSION_MAX; /* a parsed trace gets its first line's */
    t->ra = &t->arena;
    return t;
}

void vdc_trace_free(vdc_trace *t)
{
    if (t == NULL)
        return;
    vdc_intern_free(&t->handles);
    vdc_intern_free(&t->files);
    vdc_intern_free(&t->vars);
    vdc_intern_free(&t->clause_set);
    free(t->recs);
    free(t->texts);
    free(t->clauses);
    vdc_stream_free(t);
    vdc_arena_free(&t->arena);
    free(t);
}

int vdc_trace_add_clause(vdc_trace *t, const char *s, size_t n, const char **out)
{
    bool added;
    int rc = vdc_intern_get(&t->clause_set, &t->arena, s, n, out, &added);
    if (rc != VINF_SUCCESS || !added)
        return rc;
    if (t->nclauses == t->capclauses) {
        unsigned cap = t->capclauses ? t->capclauses * 2 : 16;
        const char **p = realloc(t->clauses, cap * sizeof *p);
        if (p == NULL)
            return VERR_NO_MEMORY;
        t->clauses = p;
        t->capclauses = cap;
    }
    t->clauses[t->nclauses++] = *out;
    return VINF_SUCCESS;
}

int vdc_trace_push(vdc_trace *t, const vdc_record *r, const char *text)
{
    if (t->src != NULL)
        return vdc_stream_push(t, r, text);
    if (t->nrecs >= VDC_TRACE_MAX_RECORDS)
        return VERR_TOO_MUCH_DATA;
    if (t->nrecs == t->caprecs) {
        unsigned cap = t->caprecs ? t->caprecs * 2 : 64;
        if (cap > VDC_TRACE_MAX_RECORDS)
            cap = VDC_TRACE_MAX_RECORDS;
        vdc_record *nr = realloc(t->recs, (size_t)cap * sizeof *nr);
        if (nr == NULL)
            return VERR_NO_MEMORY;
        t->recs = nr;
        const char **nt = realloc(t->texts, (size_t)cap * sizeof *nt);
        if (nt == NULL)
            return VERR_NO_MEMORY;
        t->texts = nt;
        t->caprecs = cap;
    }
    t->recs[t->nrecs] = *r;
    t->texts[t->nrecs] = text;
    t->nrecs++;
    return VINF_SUCCESS;
}

static int set_err(char *err, size_t cb_err, const char *fmt, ...)
{
    if (err != NULL && cb_err > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cb_err, fmt, ap);
        va_end(ap);
    }
    return VERR_INVALID_PARAMETER;
}

/* Line 1: "vdcc-trace 1", optionally followed by blanks and a comment. */
int vdc_trace_parse_version(vdc_trace *t, const char *line, size_t len, const char *name, char *err, size_t cb_err)
{
    vdc_tok toks[4];
    const char *why = NULL;
    int n = vdc_lex_line(line, len, toks, 4, &why);
    bool digits = n == 2 && toks[1].n > 0 && toks[1].n <= 9;

    for (size_t i = 0; digits && i < toks[1].n; i++)
        digits = toks[1].p[i] >= '0' && toks[1].p[i] <= '9';
    if (n != 2 || toks[0].n != 10 || memcmp(toks[0].p, "vdcc-trace", 10) != 0 || !digits)
        return set_err(err, cb_err, "%s:1: expected \"vdcc-trace %d\" on the first line", name,
                       VDC_TRACE_VERSION);
    if (toks[1].n != 1 || toks[1].p[0] < '1' || toks[1].p[0] > '0' + VDC_TRACE_VERSION_MAX)
        return set_err(err, cb_err, "%s:1: unsupported trace version %.*s (this vdcc reads versions 1 to %d)",
                       name, (int)toks[1].n, toks[1].p, VDC_TRACE_VERSION_MAX);
    t->version = (unsigned)(toks[1].p[0] - '0');
    return VINF_SUCCESS;
}

int vdc_trace_parse(const char *buf, size_t len, const char *name, vdc_trace **out, char *err, size_t cb_err)
{
    vdc_trace *t;
    size_t pos = 0;
    unsigned lineno = 0;
    int rc = VINF_SUCCESS;

    if (err != NULL && cb_err > 0)
        err[0] = '\0';
    if (out == NULL || (buf == NULL && len > 0))
        return set_err(err, cb_err, "vdc_trace_parse: NULL argument");
    *out = NULL;
    if (name == NULL)
        name = "trace";
    t = vdc_trace_alloc();
    if (t == NULL)
        return VERR_NO_MEMORY;
    t->name = vdc_arena_strndup(&t->arena, name, strlen(name));
    if (t->name == NULL) {
        rc = VERR_NO_MEMORY;
        goto out_free_trace;
    }
    t->source = t->name;
    if (len == 0) {
        rc = set_err(err, cb_err, "%s:1: empty trace: expected \"vdcc-trace %d\" on the first line", name,
                     VDC_TRACE_VERSION);
        goto out_free_trace;
    }
    while (pos < len) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - buf) : len;
        size_t llen = end - pos;
        lineno++;
        if (llen > 0 && buf[pos + llen - 1] == '\r')
            llen--;
        if (llen > VDC_TRACE_MAX_LINE) {
            rc = set_err(err, cb_err, "%s:%u: line too long (more than %u bytes)", name, lineno,
                         VDC_TRACE_MAX_LINE);
            goto out_free_trace;
        }
        if (lineno == 1)
            rc = vdc_trace_parse_version(t, buf + pos, llen, name, err, cb_err);
        else
            rc = vdc_trace_parse_line(t, buf + pos, llen, lineno, name, err, cb_err);
        if (rc != VINF_SUCCESS)
            goto out_free_trace;
        pos = nl != NULL ? end + 1 : len;
    }
    *out = t;
    return VINF_SUCCESS;

out_free_trace:
    vdc_trace_free(t);
    return rc;
}

int vdc_trace_load(const char *path, vdc_trace **out, char *err, size_t cb_err)
{
    FILE *f;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc;

    if (err != NULL && cb_err > 0)
        err[0] = '\0';
    if (path == NULL || out == NULL)
        return set_err(err, cb_err, "vdc_trace_load: NULL argument");
    *out = NULL;
    f = fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        set_err(err, cb_err, "%s: cannot open: %s", path, strerror(e));
        return e == ENOENT || e == ENOTDIR ? VERR_FILE_NOT_FOUND : VERR_FILE_IO_ERROR;
    }
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            if (ncap > (size_t)VDC_TRACE_MAX_FILE + 1)
                ncap = (size_t)VDC_TRACE_MAX_FILE + 1;
            if (ncap == cap) {
                set_err(err, cb_err, "%s: larger than %u bytes", path, VDC_TRACE_MAX_FILE);
                rc = VERR_TOO_MUCH_DATA;
                goto out_free_buf;
            }
            char *nb = realloc(buf, ncap);
            if (nb == NULL) {
                rc = VERR_NO_MEMORY;
                goto out_free_buf;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) {
                set_err(err, cb_err, "%s: read error", path);
                rc = VERR_FILE_IO_ERROR;
                goto out_free_buf;
            }
            break;
        }
    }
    if (len > VDC_TRACE_MAX_FILE) {
        set_err(err, cb_err, "%s: larger than %u bytes", path, VDC_TRACE_MAX_FILE);
        rc = VERR_TOO_MUCH_DATA;
        goto out_free_buf;
    }
    rc = vdc_trace_parse(buf, len, path, out, err, cb_err);

out_free_buf:
    free(buf);
    fclose(f);
    return rc;
}

/* ---- accessors --------------------------------------------------------- */

unsigned vdc_trace_ncalls(const vdc_trace *t)
{
    return t != NULL ? t->nrecs : 0;
}

const char *vdc_trace_name(const vdc_trace *t)
{
    return t != NULL && t->name != NULL ? t->name : "";
}

const char *vdc_trace_source(const vdc_trace *t)
{
    return t != NULL && t->source != NULL ? t->source : "";
}

unsigned vdc_trace_version(const vdc_trace *t)
{
    return t != NULL ? t->version : 0;
}

const char *vdc_trace_format(const vdc_trace *t)
{
    return t != NULL ? t->format : NULL;
}

uint64_t vdc_trace_required_caps(const vdc_trace *t)
{
    return t != NULL ? t->caps : 0;
}

unsigned vdc_trace_nclauses(const vdc_trace *t)
{
    return t != NULL ? t->nclauses : 0;
}

const char *vdc_trace_clause(const vdc_trace *t, unsigned i)
{
    return t != NULL && i < t->nclauses ? t->clauses[i] : "";
}

const char *vdc_trace_record_text(const vdc_trace *t, unsigned i)
{
    if (t != NULL && t->src != NULL)
        return vdc_stream_text(t, i);
    return t != NULL && i < t->nrecs ? t->texts[i] : "";
}

unsigned vdc_trace_record_line(const vdc_trace *t, unsigned i)
{
    if (t != NULL && t->src != NULL)
        return vdc_stream_line(t, i);
    return t != NULL && i < t->nrecs ? t->recs[i].line : 0;
}

const vdc_record *vdc_trace_record(const vdc_trace *t, unsigned i)
{
    if (t != NULL && t->src != NULL) /* streamed: only the current record */
        return t->nrecs > 0 && i == t->nrecs - 1 ? &t->recs[0] : NULL;
    return t != NULL && i < t->nrecs ? &t->recs[i] : NULL;
}

/* ---- building in memory ------------------------------------------------ */

vdc_trace *vdc_trace_new(const char *name)
{
    vdc_trace *t = vdc_trace_alloc();
    if (t == NULL)
        return NULL;
    if (name == NULL)
        name = "memory";
    t->name = vdc_arena_strndup(&t->arena, name, strlen(name));
    if (t->name == NULL) {
        vdc_trace_free(t);
        return NULL;
    }
    t->source = t->name;
    return t;
}

void vdc_trace_set_caps(vdc_trace *t, uint64_t caps)
{
    if (t != NULL)
        t->caps = caps;
}

int vdc_trace_set_format(vdc_trace *t, const char *format)
{
    if (t == NULL || (format != NULL && !vdc_lex_is_tracename(format, strlen(format))))
        return VERR_INVALID_PARAMETER;
    if (format == NULL) {
        t->format = NULL;
        return VINF_SUCCESS;
    }
    t->format = vdc_arena_strndup(&t->arena, format, strlen(format));
    return t->format != NULL ? VINF_SUCCESS : VERR_NO_MEMORY;
}

int vdc_trace_append(vdc_trace *t, const vdc_record *r, char *err, size_t cb_err)
{
    char *line;
    int rc;

    if (err != NULL && cb_err > 0)
        err[0] = '\0';
    if (t == NULL || r == NULL)
        return set_err(err, cb_err, "vdc_trace_append: NULL argument");
    if (t->nrecs >= VDC_TRACE_MAX_RECORDS)
        return VERR_TOO_MUCH_DATA;
    line = malloc(VDC_TRACE_MAX_LINE + 1);
    if (line == NULL)
        return VERR_NO_MEMORY;
    rc = vdc_record_format(r, line, VDC_TRACE_MAX_LINE + 1);
    if (rc != VINF_SUCCESS) {
        set_err(err, cb_err, "%s: record %u (%s) cannot be written: %s", t->name, t->nrecs + 1,
                vdc_op_name(r->op), rc == VERR_BUFFER_OVERFLOW ? "too long" : "malformed");
        rc = VERR_INVALID_PARAMETER;
        goto out_free_line;
    }
    rc = vdc_trace_parse_line(t, line, strlen(line), 0, t->name, err, cb_err);
    if (rc == VINF_SUCCESS && t->nrecs > 0)
        t->recs[t->nrecs - 1].line = r->line;

out_free_line:
    free(line);
    return rc;
}

/* ---- equality ---------------------------------------------------------- */

static bool str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

static bool vstr_eq(const vdc_str *a, const vdc_str *b)
{
    if (a->given != b->given)
        return false;
    if (!a->given)
        return true;
    if (a->null != b->null)
        return false;
    return a->null || str_eq(a->s, b->s);
}

static bool uuid_eq(const vdc_uuid_ref *a, const vdc_uuid_ref *b)
{
    if (a->kind != b->kind)
        return false;
    if (a->kind == VDC_UUID_LIT)
        return memcmp(a->lit.au8, b->lit.au8, 16) == 0;
    if (a->kind == VDC_UUID_VAR)
        return str_eq(a->var, b->var);
    return true;
}

static bool num_eq(const vdc_num *a, const vdc_num *b)
{
    return a->cmp == b->cmp && (a->cmp == VDC_CMP_NONE || a->v == b->v);
}

static bool alts_eq(const vdc_alts *a, const vdc_alts *b)
{
    if (a->n != b->n)
        return false;
    for (unsigned i = 0; i < a->n; i++) {
        const vdc_alt *x = &a->v[i], *y = &b->v[i];
        if (x->kind != y->kind)
            return false;
        if (x->kind == VDC_ALT_STATUS && x->status != y->status)
            return false;
        if (x->kind == VDC_ALT_MISS && x->min != y->min)
            return false;
    }
    return true;
}

static bool data_eq(const vdc_data *a, const vdc_data *b)
{
    if (a->nsegs != b->nsegs)
        return false;
    for (unsigned i = 0; i < a->nsegs; i++) {
        const vdc_seg *x = &a->segs[i], *y = &b->segs[i];
        if (x->kind != y->kind || x->start != y->start || x->len != y->len)
            return false;
        if (x->kind == VDC_GEN_PATTERN && x->seed != y->seed)
            return false;
        if (x->kind == VDC_GEN_FILL && x->fill != y->fill)
            return false;
        if (x->kind == VDC_GEN_HEX && memcmp(x->hex, y->hex, (size_t)x->len) != 0)
            return false;
    }
    return true;
}

static bool record_eq(const vdc_record *a, const vdc_record *b)
{
    if (a->op != b->op || !str_eq(a->handle, b->handle) || !str_eq(a->file, b->file))
        return false;
    if (a->off != b->off || a->len != b->len || a->size != b->size || a->open_flags != b->open_flags
        || a->image_flags != b->image_flags || a->discard_flags != b->discard_flags
        || a->pct_start != b->pct_start || a->pct_span != b->pct_span || a->del != b->del
        || a->fill != b->fill || a->buf != b->buf)
        return false;
    if (!vstr_eq(&a->str, &b->str) || !str_eq(a->key, b->key) || !str_eq(a->sidecar, b->sidecar)
        || !uuid_eq(&a->uuid, &b->uuid)
        || !data_eq(&a->data, &b->data))
        return false;
    if (!alts_eq(&a->expect, &b->expect) || !alts_eq(&a->should, &b->should))
        return false;
    if (!num_eq(&a->count, &b->count) || !num_eq(&a->value, &b->value) || !num_eq(&a->pre, &b->pre)
        || !num_eq(&a->post, &b->post) || !num_eq(&a->discarded, &b->discarded))
        return false;
    if (!vstr_eq(&a->out_str, &b->out_str) || !uuid_eq(&a->out_uuid, &b->out_uuid)
        || a->printed_any != b->printed_any)
        return false;
    if (a->seen_given != b->seen_given || (a->seen_given && a->seen_status != b->seen_status))
        return false;
    if (a->seen_count_given != b->seen_count_given || (a->seen_count_given && a->seen_count != b->seen_count))
        return false;
    if (a->nclauses != b->nclauses)
        return false;
    for (unsigned i = 0; i < a->nclauses; i++)
        if (!str_eq(a->clauses[i], b->clauses[i]))
            return false;
    return true;
}

bool vdc_trace_equal(const vdc_trace *a, const vdc_trace *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    if (!str_eq(a->name, b->name) || !str_eq(a->format, b->format) || a->caps != b->caps
        || a->nclauses != b->nclauses || a->nrecs != b->nrecs)
        return false;
    for (unsigned i = 0; i < a->nclauses; i++)
        if (!str_eq(a->clauses[i], b->clauses[i]))
            return false;
    for (unsigned i = 0; i < a->nrecs; i++)
        if (!record_eq(&a->recs[i], &b->recs[i]))
            return false;
    return true;
}
