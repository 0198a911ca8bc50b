/*
 * harness/trace/trace_stream.c - streamed traces: read and parsed record by
 * record, in memory bounded by the longest line, with no limit on the
 * number of records (spec/trace-format.md section 8.1).  Contract: trace.h
 * (vdc_trace_open, vdc_trace_open_reader, vdc_trace_next,
 * vdc_trace_is_streamed) and trace_int.h (vdc_stream_*).
 *
 * A streamed trace is a vdc_trace whose records are not kept: the parser
 * (trace_parse.c) runs line by line as for a whole trace, its per-record
 * allocations go to an arena reset before every line (once the header is
 * done), and vdc_trace_push lands here: the record becomes the current one
 * and its canonical text and line join a window of the last STREAM_WINDOW,
 * which is what replay messages show.  Names (handles, files, variables,
 * clauses) stay interned for the trace's life, as their limits bound them.
 *
 * Statuses: VINF_SUCCESS, VINF_EOF (no record left), VERR_INVALID_PARAMETER
 * (a bad line; err = "name:line: message"), VERR_NO_MEMORY,
 * VERR_TOO_MUCH_DATA (more than UINT32_MAX - 1 records), VERR_FILE_NOT_FOUND
 * and VERR_FILE_IO_ERROR (the source), VERR_INVALID_STATE (records asked
 * out of order).
 */
#include "trace_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STREAM_WINDOW 64u
#define STREAM_READ   (64u * 1024u)
#define STREAM_BUF    (STREAM_READ + VDC_TRACE_MAX_LINE + 2u)

typedef struct win_slot {
    char    *text; /* canonical text, capacity VDC_TRACE_MAX_LINE + 1 */
    unsigned line;
} win_slot;

struct vdc_trace_src {
    vdc_trace_read_fn *read;
    void              *user;
    FILE              *f;        /* vdc_trace_open's file (read's user) */
    char              *buf;      /* STREAM_BUF bytes; [start, end) not yet consumed */
    size_t             start, end;
    bool               eof;
    unsigned           lineno;
    bool               pending;  /* the current record was parsed but not handed out */
    vdc_arena          rec_arena;
    win_slot           win[STREAM_WINDOW];
};

static int serr(char *err, size_t cb, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int serr(char *err, size_t cb, int rc, const char *fmt, ...)
{
    if (err != NULL && cb > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cb, fmt, ap);
        va_end(ap);
    }
    return rc;
}

int vdc_stream_push(vdc_trace *t, const vdc_record *r, const char *text)
{
    vdc_trace_src *s = t->src;
    if (t->nrecs >= UINT32_MAX - 1)
        return VERR_TOO_MUCH_DATA;
    win_slot *w = &s->win[t->nrecs % STREAM_WINDOW];
    if (w->text == NULL && (w->text = malloc(VDC_TRACE_MAX_LINE + 1)) == NULL)
        return VERR_NO_MEMORY;
    size_t n = strnlen(text, VDC_TRACE_MAX_LINE);
    memcpy(w->text, text, n);
    w->text[n] = '\0';
    w->line = r->line;
    t->recs[0] = *r;
    t->texts[0] = text;
    t->nrecs++;
    s->pending = true;
    return VINF_SUCCESS;
}

static const win_slot *window(const vdc_trace *t, unsigned i)
{
    if (i >= t->nrecs || t->nrecs - i > STREAM_WINDOW)
        return NULL;
    return &t->src->win[i % STREAM_WINDOW];
}

const char *vdc_stream_text(const vdc_trace *t, unsigned i)
{
    const win_slot *w = window(t, i);
    return w != NULL ? w->text : "";
}

unsigned vdc_stream_line(const vdc_trace *t, unsigned i)
{
    const win_slot *w = window(t, i);
    return w != NULL ? w->line : 0;
}

void vdc_stream_free(vdc_trace *t)
{
    vdc_trace_src *s = t->src;
    if (s == NULL)
        return;
    for (unsigned i = 0; i < STREAM_WINDOW; i++)
        free(s->win[i].text);
    vdc_arena_free(&s->rec_arena);
    if (s->f != NULL)
        fclose(s->f);
    free(s->buf);
    free(s);
    t->src = NULL;
}

/* The next line (without its end) into *line / *len: VINF_SUCCESS,
 * VINF_EOF, or an error. */
static int next_line(vdc_trace *t, const char **line, size_t *len, char *err, size_t cb_err)
{
    vdc_trace_src *s = t->src;
    for (;;) {
        char *nl = s->end > s->start ? memchr(s->buf + s->start, '\n', s->end - s->start) : NULL;
        size_t avail = s->end - s->start;
        if (nl != NULL || (s->eof && avail > 0)) {
            size_t n = nl != NULL ? (size_t)(nl - (s->buf + s->start)) : avail;
            *line = s->buf + s->start;
            s->start += n + (nl != NULL ? 1 : 0);
            s->lineno++;
            if (n > 0 && (*line)[n - 1] == '\r')
                n--;
            *len = n;
            if (n > VDC_TRACE_MAX_LINE)
                return serr(err, cb_err, VERR_INVALID_PARAMETER, "%s:%u: line too long (more than %u bytes)",
                            t->source, s->lineno, VDC_TRACE_MAX_LINE);
            return VINF_SUCCESS;
        }
        if (s->eof)
            return VINF_EOF;
        if (avail > VDC_TRACE_MAX_LINE + 1)
            return serr(err, cb_err, VERR_INVALID_PARAMETER, "%s:%u: line too long (more than %u bytes)",
                        t->source, s->lineno + 1, VDC_TRACE_MAX_LINE);
        memmove(s->buf, s->buf + s->start, avail);
        s->start = 0;
        s->end = avail;
        size_t got = s->read(s->user, s->buf + s->end, STREAM_BUF - s->end);
        if (got == (size_t)-1)
            return serr(err, cb_err, VERR_FILE_IO_ERROR, "%s: read error", t->source);
        if (got == 0)
            s->eof = true;
        s->end += got;
    }
}

/* Parses lines until one makes a record current (VINF_SUCCESS) or the
 * source ends (VINF_EOF). */
static int advance(vdc_trace *t, char *err, size_t cb_err)
{
    vdc_trace_src *s = t->src;
    unsigned before = t->nrecs;
    while (t->nrecs == before) {
        const char *line = NULL;
        size_t len = 0;
        int rc = next_line(t, &line, &len, err, cb_err);
        if (rc != VINF_SUCCESS)
            return rc;
        if (t->seen_record)
            vdc_arena_reset(&s->rec_arena); /* the previous record is done with */
        if (s->lineno == 1)
            rc = vdc_trace_parse_version(t, line, len, t->source, err, cb_err);
        else
            rc = vdc_trace_parse_line(t, line, len, s->lineno, t->source, err, cb_err);
        if (rc != VINF_SUCCESS)
            return rc;
    }
    return VINF_SUCCESS;
}

static size_t file_read(void *user, void *buf, size_t cb)
{
    FILE *f = user;
    size_t n = fread(buf, 1, cb, f);
    return n == 0 && ferror(f) ? (size_t)-1 : n;
}

int vdc_trace_open_reader(const char *name, vdc_trace_read_fn *read, void *user, vdc_trace **out, char *err,
                          size_t cb_err)
{
    if (err != NULL && cb_err > 0)
        err[0] = '\0';
    if (out == NULL || read == NULL)
        return serr(err, cb_err, VERR_INVALID_PARAMETER, "vdc_trace_open_reader: NULL argument");
    *out = NULL;
    vdc_trace *t = vdc_trace_new(name != NULL ? name : "trace");
    if (t == NULL)
        return VERR_NO_MEMORY;
    int rc = VERR_NO_MEMORY;
    t->src = calloc(1, sizeof *t->src);
    t->recs = calloc(1, sizeof *t->recs);
    t->texts = calloc(1, sizeof *t->texts);
    if (t->src == NULL || t->recs == NULL || t->texts == NULL || (t->src->buf = malloc(STREAM_BUF)) == NULL)
        goto out_free;
    t->caprecs = 1;
    t->src->read = read;
    t->src->user = user;
    t->ra = &t->src->rec_arena;
    /* The version line and the header: stop at the first record. */
    rc = advance(t, err, cb_err);
    if (rc == VINF_EOF && t->src->lineno == 0)
        rc = serr(err, cb_err, VERR_INVALID_PARAMETER,
                  "%s:1: empty trace: expected \"vdcc-trace %d\" on the first line", t->source, VDC_TRACE_VERSION);
    if (rc != VINF_SUCCESS && rc != VINF_EOF)
        goto out_free;
    *out = t;
    return VINF_SUCCESS;

out_free:
    vdc_trace_free(t);
    return rc;
}

int vdc_trace_open(const char *path, vdc_trace **out, char *err, size_t cb_err)
{
    if (path == NULL || out == NULL)
        return serr(err, cb_err, VERR_INVALID_PARAMETER, "vdc_trace_open: NULL argument");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        return serr(err, cb_err, e == ENOENT || e == ENOTDIR ? VERR_FILE_NOT_FOUND : VERR_FILE_IO_ERROR,
                    "%s: cannot open: %s", path, strerror(e));
    }
    int rc = vdc_trace_open_reader(path, file_read, f, out, err, cb_err);
    if (rc != VINF_SUCCESS) {
        fclose(f);
        return rc;
    }
    (*out)->src->f = f;
    return VINF_SUCCESS;
}

bool vdc_trace_is_streamed(const vdc_trace *t)
{
    return t != NULL && t->src != NULL;
}

int vdc_trace_next(const vdc_trace *tc, unsigned i, const vdc_record **rec, char *err, size_t cb_err)
{
    if (tc == NULL || rec == NULL)
        return serr(err, cb_err, VERR_INVALID_PARAMETER, "vdc_trace_next: NULL argument");
    *rec = NULL;
    if (tc->src == NULL) {
        if (i >= tc->nrecs)
            return VINF_EOF;
        *rec = &tc->recs[i];
        return VINF_SUCCESS;
    }
    /* A streamed trace is consumed as it is read: the parse state changes,
     * the records already handed out do not. */
    vdc_trace *t = (vdc_trace *)(uintptr_t)tc;
    vdc_trace_src *s = t->src;
    if (s->pending && i + 1 == t->nrecs) {
        s->pending = false;
        *rec = &t->recs[0];
        return VINF_SUCCESS;
    }
    if (s->pending || i != t->nrecs)
        return serr(err, cb_err, VERR_INVALID_STATE, "%s: record %u asked for out of order", t->source, i + 1);
    int rc = advance(t, err, cb_err);
    if (rc != VINF_SUCCESS)
        return rc;
    s->pending = false;
    *rec = &t->recs[0];
    return VINF_SUCCESS;
}
