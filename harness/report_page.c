/*
 * harness/report_page.c - the JSON and HTML report of a conformance run.
 * Contract, file layout and how clauses get their verdicts: report_page.h.
 * vdc_report_page_write returns 0 or -1 with errno (ENOMEM, or the errno of
 * mkdir, fopen, a write or fclose).  Serves spec/contract.md as a whole: the
 * clause names are its numbered clauses, as the traces tag them.
 */
#include "report_page.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "trace/trace.h"

/* What one test point contributes to the clause table: ", "-joined lists. */
typedef struct point_clauses {
    char *tags;  /* the clauses its trace tags ("" for hostile images) */
    char *fails; /* the clauses its failure is attributed to ("" when it did not fail) */
    char  warns[256]; /* the clauses its quality warnings name */
} point_clauses;

typedef struct clause_row {
    char     name[32];
    unsigned points, passed, failed, warnings;
} clause_row;

static bool failed_verdict(vdc_verdict v)
{
    return v != VDC_V_PASS && v != VDC_V_SKIP;
}

/* Whether the ", "-joined list holds name as a whole item. */
static bool list_has(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *q = list; (q = strstr(q, name)) != NULL; q += n)
        if ((q == list || q[-1] == ' ') && (q[n] == ',' || q[n] == '\0'))
            return true;
    return false;
}

/* The clause tags of the trace at path, joined; NULL when out of memory
 * ("" when it cannot be read: its point says why). */
static char *trace_tags(const char *path)
{
    vdc_trace *t = NULL;
    char err[256], *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL)
        return NULL;
    if (vdc_trace_load(path, &t, err, sizeof err) >= 0) {
        for (unsigned i = 0; i < vdc_trace_nclauses(t); i++)
            fprintf(f, "%s%s", i ? ", " : "", vdc_trace_clause(t, i));
        vdc_trace_free(t);
    }
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* The clauses a failure is attributed to (report_page.h). */
static char *fail_clauses(const vdc_run_result *r, const char *tags)
{
    if (!failed_verdict(r->verdict))
        return strdup("");
    if (r->clause[0] != '\0')
        return strdup(r->clause);
    const char *c = strstr(r->record, "clause=");
    if (c == NULL)
        return strdup(tags);
    c += strlen("clause=");
    size_t n = strcspn(c, " \t");
    char *s = malloc(2 * n + 1), *o = s;
    if (s == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        *o++ = c[i];
        if (c[i] == ',')
            *o++ = ' ';
    }
    *o = '\0';
    return s;
}

/* Adds every item of a ", "-joined list to rows (unique). */
static bool rows_add(clause_row **rows, unsigned *nrows, unsigned *cap, const char *list)
{
    for (const char *p = list; *p != '\0';) {
        size_t n = strcspn(p, ",");
        bool seen = n == 0 || n >= sizeof(*rows)->name;
        for (unsigned i = 0; i < *nrows && !seen; i++)
            seen = strlen((*rows)[i].name) == n && strncmp((*rows)[i].name, p, n) == 0;
        if (!seen) {
            if (*nrows == *cap) {
                unsigned c = *cap ? *cap * 2 : 64;
                clause_row *g = realloc(*rows, c * sizeof *g);
                if (g == NULL)
                    return false;
                *rows = g;
                *cap = c;
            }
            memset(&(*rows)[*nrows], 0, sizeof **rows);
            snprintf((*rows)[(*nrows)++].name, sizeof(*rows)->name, "%.*s", (int)n, p);
        }
        p += n;
        while (*p == ',' || *p == ' ')
            p++;
    }
    return true;
}

static int cmp_row(const void *a, const void *b)
{
    return strcmp(((const clause_row *)a)->name, ((const clause_row *)b)->name);
}

static const char *row_verdict(const clause_row *r)
{
    return r->failed ? "fail" : r->warnings ? "warn" : r->passed ? "pass" : "skip";
}

/* ---- JSON ------------------------------------------------------------------ */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        if (*p == '"' || *p == '\\') {
            fprintf(f, "\\%c", *p);
        } else if (*p == '\n') {
            fputs("\\n", f);
        } else if (*p < 0x20 || *p == 0x7f) {
            fprintf(f, "\\u%04x", *p);
        } else if (*p >= 0x80) {
            size_t n = vdc_utf8_len(p);
            if (n == 0) {
                fputc('?', f);
            } else {
                fwrite(p, 1, n, f);
                p += n;
                continue;
            }
        } else {
            fputc(*p, f);
        }
        p++;
    }
    fputc('"', f);
}

/* A ", "-joined list as a JSON array of strings. */
static void json_list(FILE *f, const char *list)
{
    fputc('[', f);
    for (const char *p = list; *p != '\0';) {
        size_t n = strcspn(p, ",");
        char item[64];
        snprintf(item, sizeof item, "%.*s", (int)(n < sizeof item ? n : sizeof item - 1), p);
        if (p != list)
            fputs(", ", f);
        json_str(f, item);
        p += n;
        while (*p == ',' || *p == ' ')
            p++;
    }
    fputc(']', f);
}

static void json_point(FILE *f, const vdc_report_item *it, const point_clauses *pc)
{
    const vdc_run_result *r = it->r;
    fputs("    {\"name\": ", f);
    json_str(f, it->name);
    fprintf(f, ", \"verdict\": \"%s\", \"clause\": ", vdc_verdict_name(r->verdict));
    json_str(f, pc->fails);
    fprintf(f, ", \"call\": %u, \"line\": %u, \"phase\": ", r->call, r->line);
    json_str(f, r->phase);
    fputs(", \"message\": ", f);
    json_str(f, r->message);
    fprintf(f, ", \"warnings\": %u, \"warning_clauses\": ", r->warnings);
    json_list(f, pc->warns);
    fputs(", \"rerun\": ", f);
    json_str(f, it->rerun != NULL ? it->rerun : "");
    fprintf(f, ", \"seconds\": %.3f}", r->seconds);
}

typedef struct page {
    const vdc_page_info   *pi;
    const vdc_report_item *items;
    unsigned               n;
    point_clauses         *pc;
    clause_row            *rows;
    unsigned               nrows;
    unsigned               passed, failed, skipped, warnings;
    char                   date[32], caps[256];
} page;

static void write_json(FILE *f, const page *pg)
{
    fputs("{\n  \"vdcc_version\": ", f);
    json_str(f, pg->pi->vdcc);
    fprintf(f, ",\n  \"date\": \"%s\",\n  \"backend\": {\"spec\": ", pg->date);
    json_str(f, pg->pi->spec);
    fputs(", \"name\": ", f);
    json_str(f, pg->pi->name);
    fprintf(f, ", \"interface_version\": \"0x%08x\", \"capabilities\": [", (unsigned)pg->pi->version);
    for (const char *p = pg->caps; *p != '\0';) {
        size_t n = strcspn(p, " ");
        fprintf(f, "%s\"%.*s\"", p != pg->caps ? ", " : "", (int)n, p);
        p += n + (p[n] == ' ');
    }
    fprintf(f,
            "]},\n  \"summary\": {\"passed\": %u, \"failed\": %u, \"skipped\": %u, \"warnings\": %u, "
            "\"verdict\": \"%s\"},\n  \"clauses\": [\n",
            pg->passed, pg->failed, pg->skipped, pg->warnings, pg->failed ? "fail" : "pass");
    for (unsigned i = 0; i < pg->nrows; i++) {
        const clause_row *r = &pg->rows[i];
        fputs("    {\"clause\": ", f);
        json_str(f, r->name);
        fprintf(f, ", \"verdict\": \"%s\", \"points\": %u, \"failed\": %u, \"warnings\": %u}%s\n", row_verdict(r),
                r->points, r->failed, r->warnings, i + 1 < pg->nrows ? "," : "");
    }
    fputs("  ],\n  \"warnings_by_clause\": [\n", f);
    bool first = true;
    for (unsigned i = 0; i < pg->nrows; i++) {
        const clause_row *r = &pg->rows[i];
        if (r->warnings == 0)
            continue;
        fprintf(f, "%s    {\"clause\": ", first ? "" : ",\n");
        json_str(f, r->name);
        fprintf(f, ", \"count\": %u, \"points\": [", r->warnings);
        first = false;
        bool one = true;
        for (unsigned k = 0; k < pg->n; k++) {
            if (!list_has(pg->pc[k].warns, r->name))
                continue;
            fputs(one ? "" : ", ", f);
            one = false;
            json_str(f, pg->items[k].name);
        }
        fputs("]}", f);
    }
    fputs(first ? "  ],\n" : "\n  ],\n", f);
    for (int part = 0; part < 2; part++) {
        unsigned from = part == 0 ? 0 : pg->pi->ntraces, to = part == 0 ? pg->pi->ntraces : pg->n;
        fprintf(f, "  \"%s\": [\n", part == 0 ? "traces" : "hostile");
        for (unsigned k = from; k < to; k++) {
            json_point(f, &pg->items[k], &pg->pc[k]);
            fputs(k + 1 < to ? ",\n" : "\n", f);
        }
        fputs(part == 0 ? "  ],\n" : "  ]\n", f);
    }
    fputs("}\n", f);
}

/* ---- HTML ------------------------------------------------------------------ */

static const char page_css[] =
    "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin-bottom:2em}"
    "td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}"
    "th{background:#eee}.pass{background:#dfd}.fail{background:#fdd}.warn{background:#ffd}"
    ".skip{background:#eee}pre{white-space:pre-wrap;margin:0;font-size:90%}";

static const char *css_class(vdc_verdict v)
{
    return v == VDC_V_PASS ? "pass" : v == VDC_V_SKIP ? "skip" : "fail";
}

static void html_points(FILE *f, const page *pg, const char *title, unsigned from, unsigned to)
{
    fprintf(f, "<h2>%s (%u)</h2>\n<table><tr><th>#</th><th>test point</th><th>verdict</th><th>clause</th>"
               "<th>details</th></tr>\n", title, to - from);
    for (unsigned k = from; k < to; k++) {
        const vdc_run_result *r = pg->items[k].r;
        fprintf(f, "<tr class=\"%s\"><td>%u</td><td>", r->warnings && r->verdict == VDC_V_PASS ? "warn"
                                                                                                : css_class(r->verdict), k + 1);
        vdc_xml_escape(f, pg->items[k].name);
        fprintf(f, "</td><td>%s</td><td>", vdc_verdict_name(r->verdict));
        vdc_xml_escape(f, pg->pc[k].fails[0] != '\0' ? pg->pc[k].fails : pg->pc[k].warns);
        fputs("</td><td><pre>", f);
        vdc_xml_escape(f, r->message[0] != '\0' ? r->message : r->note);
        if (pg->items[k].rerun != NULL) {
            fputs("\nrerun: ", f);
            vdc_xml_escape(f, pg->items[k].rerun);
        }
        fputs("</pre></td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

static void write_html(FILE *f, const page *pg)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>vdcc conform: ", f);
    vdc_xml_escape(f, pg->pi->name);
    fprintf(f, "</title><style>%s</style></head><body>\n<h1>vdcc conform: ", page_css);
    vdc_xml_escape(f, pg->pi->name);
    fprintf(f, " &mdash; <span class=\"%s\">%s</span></h1>\n<table>\n<tr><th>backend</th><td>", pg->failed ? "fail" : "pass",
            pg->failed ? "FAILED" : "PASSED");
    vdc_xml_escape(f, pg->pi->name);
    fputs(" (", f);
    vdc_xml_escape(f, pg->pi->spec);
    fprintf(f, ")</td></tr>\n<tr><th>interface version</th><td>0x%08x</td></tr>\n<tr><th>capabilities</th><td>",
            (unsigned)pg->pi->version);
    vdc_xml_escape(f, pg->caps);
    fputs("</td></tr>\n<tr><th>vdcc version</th><td>", f);
    vdc_xml_escape(f, pg->pi->vdcc);
    fprintf(f, "</td></tr>\n<tr><th>date</th><td>%s</td></tr>\n<tr><th>result</th><td>%u passed, %u failed, "
               "%u skipped, %u quality warning(s)</td></tr>\n</table>\n", pg->date, pg->passed, pg->failed,
            pg->skipped, pg->warnings);
    fputs("<h2>Clauses of spec/contract.md</h2>\n<table><tr><th>clause</th><th>verdict</th><th>test points</th>"
          "<th>failures</th><th>quality warnings</th></tr>\n", f);
    for (unsigned i = 0; i < pg->nrows; i++) {
        const clause_row *r = &pg->rows[i];
        fprintf(f, "<tr class=\"%s\"><td>", row_verdict(r));
        vdc_xml_escape(f, r->name);
        fprintf(f, "</td><td>%s</td><td>%u</td><td>%u</td><td>%u</td></tr>\n", row_verdict(r), r->points, r->failed,
                r->warnings);
    }
    fputs("</table>\n<h2>Quality warnings by clause</h2>\n<table><tr><th>clause</th><th>test points</th></tr>\n", f);
    for (unsigned i = 0; i < pg->nrows; i++) {
        if (pg->rows[i].warnings == 0)
            continue;
        fputs("<tr class=\"warn\"><td>", f);
        vdc_xml_escape(f, pg->rows[i].name);
        fputs("</td><td>", f);
        for (unsigned k = 0; k < pg->n; k++) {
            if (list_has(pg->pc[k].warns, pg->rows[i].name)) {
                vdc_xml_escape(f, pg->items[k].name);
                fputs("<br>", f);
            }
        }
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
    html_points(f, pg, "Traces", 0, pg->pi->ntraces);
    html_points(f, pg, "Hostile images", pg->pi->ntraces, pg->n);
    fputs("</body></html>\n", f);
}

/* ---- the files -------------------------------------------------------------- */

static int write_file(const char *dir, const char *leaf, void (*fn)(FILE *, const page *), const page *pg)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, leaf) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    fn(f, pg);
    int werr = ferror(f);
    if (fclose(f) != 0 || werr) {
        if (errno == 0)
            errno = EIO;
        return -1;
    }
    return 0;
}

/* Per point: its clause lists; then one row per clause with its counts. */
static bool tally(page *pg)
{
    unsigned cap = 0;
    for (unsigned k = 0; k < pg->n; k++) {
        const vdc_run_result *r = pg->items[k].r;
        point_clauses *pc = &pg->pc[k];
        pc->tags = k < pg->pi->ntraces ? trace_tags(pg->items[k].name) : strdup("");
        pc->fails = pc->tags != NULL ? fail_clauses(r, pc->tags) : NULL;
        if (pc->fails == NULL)
            return false;
        vdc_warning_clauses(r->message, pc->warns, sizeof pc->warns);
        if (!rows_add(&pg->rows, &pg->nrows, &cap, pc->tags) || !rows_add(&pg->rows, &pg->nrows, &cap, pc->fails)
            || !rows_add(&pg->rows, &pg->nrows, &cap, pc->warns))
            return false;
        pg->passed += r->verdict == VDC_V_PASS;
        pg->skipped += r->verdict == VDC_V_SKIP;
        pg->failed += failed_verdict(r->verdict);
        pg->warnings += r->warnings;
    }
    if (pg->nrows > 1)
        qsort(pg->rows, pg->nrows, sizeof *pg->rows, cmp_row);
    for (unsigned i = 0; i < pg->nrows; i++) {
        clause_row *row = &pg->rows[i];
        for (unsigned k = 0; k < pg->n; k++) {
            const point_clauses *pc = &pg->pc[k];
            bool tagged = list_has(pc->tags, row->name), failed = list_has(pc->fails, row->name);
            row->points += tagged || failed;
            row->passed += tagged && pg->items[k].r->verdict == VDC_V_PASS;
            row->failed += failed;
            row->warnings += list_has(pc->warns, row->name);
        }
    }
    return true;
}

int vdc_report_page_write(const char *dir, const vdc_page_info *pi, const vdc_report_item *items, unsigned n)
{
    page pg = { .pi = pi, .items = items, .n = n };
    int rc = -1, saved = 0;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return -1;
    pg.pc = calloc(n ? n : 1, sizeof *pg.pc);
    if (pg.pc == NULL || !tally(&pg)) {
        errno = ENOMEM;
        goto out_free;
    }
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(pg.date, sizeof pg.date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    vdc_caps_text(pi->caps, "", pg.caps, sizeof pg.caps);
    if (write_file(dir, "report.json", write_json, &pg) == 0 && write_file(dir, "index.html", write_html, &pg) == 0)
        rc = 0;
out_free:
    saved = errno;
    for (unsigned k = 0; pg.pc != NULL && k < n; k++) {
        free(pg.pc[k].tags);
        free(pg.pc[k].fails);
    }
    free(pg.pc);
    free(pg.rows);
    errno = saved;
    return rc;
}
