/*
 * harness/report.c - TAP 14 (or 13) with YAML diagnostics, and JUnit XML.
 * Contract: report.h.  No status codes; vdc_junit_write returns 0 / -1
 * with errno.
 */
#include "report.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

/* ---- TAP ----------------------------------------------------------------- */

static void tap_name(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '#' || *s == '\\')
            fputc('\\', f);
        fputc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
    }
}

/* A YAML double-quoted scalar. */
static void yaml_quoted(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p == '\t')
            fputs("\\t", f);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\x%02x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* key: value, as a block scalar when it has several lines (TAP 14; TAP
 * 13's YAMLish readers only get quoted scalars). */
static void yaml_text(const vdc_tap *t, const char *key, const char *s)
{
    FILE *f = t->f;
    if (strchr(s, '\n') == NULL || t->version == 13) {
        fprintf(f, "  %s: ", key);
        yaml_quoted(f, s);
        fputc('\n', f);
        return;
    }
    fprintf(f, "  %s: |-\n    ", key);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\n') {
            /* A trailing newline would end the block with an empty line. */
            if (p[1] != '\0')
                fputs("\n    ", f);
        } else if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
            fputc('?', f);
        } else {
            fputc(*p, f);
        }
    }
    fputc('\n', f);
}

void vdc_tap_begin(const vdc_tap *t, unsigned ntests)
{
    fprintf(t->f, "TAP version %u\n1..%u\n", t->version == 13 ? 13u : 14u, ntests);
}

void vdc_tap_summary(const vdc_tap *t, unsigned passed, unsigned failed, unsigned skipped, unsigned not_run)
{
    fprintf(t->f, "%s%u passed, %u failed", t->version == 13 ? "# " : "", passed, failed);
    if (skipped)
        fprintf(t->f, ", %u skipped", skipped);
    if (not_run)
        fprintf(t->f, ", %u not run", not_run);
    fputc('\n', t->f);
}

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Length of a clause name ("READ-7") at line[i], 0 when there is none. */
static size_t clause_at(const char *line, size_t i, size_t len)
{
    if (i > 0 && (is_upper(line[i - 1]) || is_digit(line[i - 1]) || line[i - 1] == '-'))
        return 0;
    size_t j = i;
    while (j < len && is_upper(line[j]))
        j++;
    if (j - i < 2 || j >= len || line[j] != '-')
        return 0;
    size_t d = ++j;
    while (j < len && is_digit(line[j]))
        j++;
    if (j == d || (j < len && (is_upper(line[j]) || (line[j] >= 'a' && line[j] <= 'z') || line[j] == '-')))
        return 0;
    return j - i;
}

void vdc_warning_clauses(const char *text, char *buf, size_t cb)
{
    size_t n = 0;
    if (cb == 0)
        return;
    buf[0] = '\0';
    for (const char *line = text; line != NULL && *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
        for (size_t i = 0; strncmp(line, "warning", 7) == 0 && i < len; i++) {
            size_t k = clause_at(line, i, len);
            if (k == 0 || k >= 32)
                continue;
            char tok[34];
            snprintf(tok, sizeof tok, ",%.*s,", (int)k, line + i);
            /* Once each: compare ",NAME," against ",LIST," without spaces. */
            char have[512];
            snprintf(have, sizeof have, ",%s,", buf);
            for (char *q = have; *q; q++)
                if (*q == ' ')
                    memmove(q, q + 1, strlen(q));
            if (strstr(have, tok) == NULL && n + k + 3 < cb)
                n += (size_t)snprintf(buf + n, cb - n, "%s%.*s", n ? ", " : "", (int)k, line + i);
            i += k - 1;
        }
        line = end != NULL ? end + 1 : NULL;
    }
}

void vdc_tap_item(const vdc_tap *t, unsigned num, const vdc_report_item *it)
{
    FILE *f = t->f;
    const vdc_run_result *r = it->r;
    bool ok = r->verdict == VDC_V_PASS || r->verdict == VDC_V_SKIP;
    fprintf(f, "%sok %u - ", ok ? "" : "not ", num);
    tap_name(f, it->name);
    if (r->verdict == VDC_V_SKIP) {
        fputs(" # SKIP ", f);
        tap_name(f, r->message);
    } else if (r->verdict == VDC_V_PASS && r->note[0] != '\0') {
        fputs(" # ", f);
        tap_name(f, r->note);
    }
    fputc('\n', f);
    if (r->verdict == VDC_V_SKIP || (r->verdict == VDC_V_PASS && r->warnings == 0))
        return;
    fputs("  ---\n", f);
    fprintf(f, "  outcome: %s\n", vdc_verdict_name(r->verdict));
    if (r->verdict != VDC_V_PASS && r->phase[0] != '\0')
        yaml_text(t, "phase", r->phase);
    if (r->verdict != VDC_V_PASS && r->clause[0] != '\0')
        yaml_text(t, "clause", r->clause);
    if (r->verdict == VDC_V_CRASH) {
        const char *abbrev = sigabbrev_np(r->signal);
        fprintf(f, "  signal: %s%s\n", abbrev != NULL ? "SIG" : "", abbrev != NULL ? abbrev : "unknown");
    }
    if (r->call != 0)
        fprintf(f, "  call: %u\n", r->call);
    if (r->line != 0)
        fprintf(f, "  line: %u\n", r->line);
    if (r->record[0] != '\0')
        yaml_text(t, "record", r->record);
    if (r->warnings != 0) {
        char clauses[256];
        fprintf(f, "  warnings: %u\n", r->warnings);
        vdc_warning_clauses(r->message, clauses, sizeof clauses);
        if (clauses[0] != '\0')
            yaml_text(t, "clauses", clauses);
    }
    if (r->misuse != 0)
        fprintf(f, "  misuse: %llu\n", (unsigned long long)r->misuse);
    if (r->message[0] != '\0')
        yaml_text(t, "message", r->message);
    if (r->verdict != VDC_V_PASS && it->rerun != NULL)
        yaml_text(t, "rerun", it->rerun);
    if (r->sanitizer[0] != '\0')
        yaml_text(t, "sanitizer", r->sanitizer);
    fprintf(f, "  seconds: %.3f\n", r->seconds);
    fputs("  ...\n", f);
}

/* ---- XML ------------------------------------------------------------------ */

size_t vdc_utf8_len(const unsigned char *p)
{
    size_t n;
    unsigned min;
    uint32_t cp;
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        n = 2, cp = p[0] & 0x1fu, min = 0x80;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        n = 3, cp = p[0] & 0x0fu, min = 0x800;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4, cp = p[0] & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
        return 0;
    return n;
}

void vdc_xml_escape(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        case '\n': fputs("&#10;", f); break;
        case '\t': fputs("&#9;", f); break;
        default:
            if (*p >= 0x80) {
                size_t n = vdc_utf8_len(p);
                if (n == 0) {
                    fputc('?', f);
                } else {
                    fwrite(p, 1, n, f);
                    p += n;
                    continue;
                }
            } else if (*p < 0x20 || *p == 0x7f) {
                fputc('?', f);
            } else {
                fputc(*p, f);
            }
        }
        p++;
    }
}

/* <system-out> of a test point with quality warnings: their count and
 * clauses, then the text that explains them. */
static void junit_warnings(FILE *f, const vdc_run_result *r)
{
    char clauses[256];
    vdc_warning_clauses(r->message, clauses, sizeof clauses);
    fprintf(f, "      <system-out>quality warnings: %u (clauses: ", r->warnings);
    vdc_xml_escape(f, clauses[0] != '\0' ? clauses : "not named");
    fputs(")&#10;", f);
    vdc_xml_escape(f, r->message);
    fputs("</system-out>\n", f);
}

int vdc_junit_write(const char *path, const char *suite, const vdc_report_prop *props, unsigned nprops,
                    const vdc_report_item *items, unsigned n)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    unsigned failures = 0, errors = 0, skipped = 0;
    double total = 0;
    for (unsigned i = 0; i < n; i++) {
        vdc_verdict v = items[i].r->verdict;
        failures += v == VDC_V_FAIL || v == VDC_V_CRASH || v == VDC_V_TIMEOUT;
        errors += v == VDC_V_ERROR;
        skipped += v == VDC_V_SKIP;
        total += items[i].r->seconds;
    }
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"", f);
    vdc_xml_escape(f, suite);
    fprintf(f, "\" tests=\"%u\" failures=\"%u\" errors=\"%u\" skipped=\"%u\" time=\"%.3f\">\n", n, failures, errors,
            skipped, total);
    fputs("  <testsuite name=\"", f);
    vdc_xml_escape(f, suite);
    fprintf(f, "\" tests=\"%u\" failures=\"%u\" errors=\"%u\" skipped=\"%u\" time=\"%.3f\">\n", n, failures, errors,
            skipped, total);
    if (nprops > 0) {
        fputs("    <properties>\n", f);
        for (unsigned i = 0; i < nprops; i++) {
            fputs("      <property name=\"", f);
            vdc_xml_escape(f, props[i].name);
            fputs("\" value=\"", f);
            vdc_xml_escape(f, props[i].value);
            fputs("\"/>\n", f);
        }
        fputs("    </properties>\n", f);
    }
    for (unsigned i = 0; i < n; i++) {
        const vdc_run_result *r = items[i].r;
        fputs("    <testcase classname=\"vdcc.conform\" name=\"", f);
        vdc_xml_escape(f, items[i].name);
        fprintf(f, "\" time=\"%.3f\"", r->seconds);
        if (r->verdict == VDC_V_PASS && r->warnings == 0) {
            fputs("/>\n", f);
            continue;
        }
        fputs(">\n", f);
        if (r->verdict == VDC_V_SKIP) {
            fputs("      <skipped message=\"", f);
            vdc_xml_escape(f, r->message);
            fputs("\"/>\n", f);
        } else if (r->verdict != VDC_V_PASS) {
            const char *tag = r->verdict == VDC_V_ERROR ? "error" : "failure";
            fprintf(f, "      <%s type=\"%s\" message=\"", tag, vdc_verdict_name(r->verdict));
            vdc_xml_escape(f, r->message);
            fputs("\">", f);
            if (r->phase[0] != '\0') {
                fputs("phase: ", f);
                vdc_xml_escape(f, r->phase);
                fputs("&#10;", f);
            }
            if (r->clause[0] != '\0') {
                fputs("clause: ", f);
                vdc_xml_escape(f, r->clause);
                fputs("&#10;", f);
            }
            if (r->call != 0)
                fprintf(f, "call %u, line %u&#10;", r->call, r->line);
            if (r->record[0] != '\0') {
                vdc_xml_escape(f, r->record);
                fputs("&#10;", f);
            }
            vdc_xml_escape(f, r->message);
            if (items[i].rerun != NULL) {
                fputs("&#10;rerun: ", f);
                vdc_xml_escape(f, items[i].rerun);
            }
            if (r->sanitizer[0] != '\0') {
                fputs("&#10;", f);
                vdc_xml_escape(f, r->sanitizer);
            }
            fprintf(f, "</%s>\n", tag);
        }
        if (r->warnings != 0)
            junit_warnings(f, r);
        fputs("    </testcase>\n", f);
    }
    fputs("  </testsuite>\n</testsuites>\n", f);
    int werr = ferror(f);
    if (fclose(f) != 0 || werr) {
        if (errno == 0)
            errno = EIO;
        return -1;
    }
    return 0;
}
