/*
 * harness/report.c - TAP 14 with YAML diagnostics, and JUnit XML.  Contract:
 * report.h.  No status codes; vdc_junit_write returns 0 / -1 with errno.
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

/* key: value, as a block scalar when it has several lines. */
static void yaml_text(FILE *f, const char *key, const char *s)
{
    if (strchr(s, '\n') == NULL) {
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

void vdc_tap_begin(FILE *f, unsigned ntests)
{
    fprintf(f, "TAP version 14\n1..%u\n", ntests);
}

void vdc_tap_item(FILE *f, unsigned num, const vdc_report_item *it)
{
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
        yaml_text(f, "phase", r->phase);
    if (r->verdict != VDC_V_PASS && r->clause[0] != '\0')
        yaml_text(f, "clause", r->clause);
    if (r->verdict == VDC_V_CRASH) {
        const char *abbrev = sigabbrev_np(r->signal);
        fprintf(f, "  signal: %s%s\n", abbrev != NULL ? "SIG" : "", abbrev != NULL ? abbrev : "unknown");
    }
    if (r->call != 0)
        fprintf(f, "  call: %u\n", r->call);
    if (r->line != 0)
        fprintf(f, "  line: %u\n", r->line);
    if (r->record[0] != '\0')
        yaml_text(f, "record", r->record);
    if (r->warnings != 0)
        fprintf(f, "  warnings: %u\n", r->warnings);
    if (r->misuse != 0)
        fprintf(f, "  misuse: %llu\n", (unsigned long long)r->misuse);
    if (r->message[0] != '\0')
        yaml_text(f, "message", r->message);
    if (r->verdict != VDC_V_PASS && it->rerun != NULL)
        yaml_text(f, "rerun", it->rerun);
    if (r->sanitizer[0] != '\0')
        yaml_text(f, "sanitizer", r->sanitizer);
    fprintf(f, "  seconds: %.3f\n", r->seconds);
    fputs("  ...\n", f);
}

/* ---- XML ------------------------------------------------------------------ */

/* Length of a valid UTF-8 sequence at p (2..4), or 0. */
static size_t utf8_len(const unsigned char *p)
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
                size_t n = utf8_len(p);
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

int vdc_junit_write(const char *path, const char *suite, const vdc_report_item *items, unsigned n)
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
    for (unsigned i = 0; i < n; i++) {
        const vdc_run_result *r = items[i].r;
        fputs("    <testcase classname=\"vdcc.conform\" name=\"", f);
        vdc_xml_escape(f, items[i].name);
        fprintf(f, "\" time=\"%.3f\"", r->seconds);
        if (r->verdict == VDC_V_PASS) {
            fputs("/>\n", f);
            continue;
        }
        fputs(">\n", f);
        if (r->verdict == VDC_V_SKIP) {
            fputs("      <skipped message=\"", f);
            vdc_xml_escape(f, r->message);
            fputs("\"/>\n", f);
        } else {
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
