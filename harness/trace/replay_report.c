/*
 * harness/trace/replay_report.c - verdicts and the messages that explain them.
 *
 * Contract: replay_int.h, "verdicts".  The first verdict of a replay wins;
 * later calls return RP_STOP and change nothing.  A divergence message
 * (spec/trace-format.md section 7, replay.h) reads:
 *
 *   call 7 (line 12): read c0 off=1M len=4K -> hit|miss data=pattern:1
 *     expected: hit|miss
 *     actual:   VERR_READ_ERROR (-111)
 *   previous calls:
 *     call 6 (line 11): write c0 ...
 *
 * and always fits vdc_replay_result.message (2048 bytes): the record texts
 * are cut at 300 (failing call) and 160 (context) bytes, and the body and
 * context give way, in that order, to the header.  Nothing here fails.
 */
#include "replay_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../host/status.h"
#include "levels.h"

const char *rp_st(int rc, char *buf, size_t cb)
{
    const char *name = vdc_status_name(rc);
    if (name != NULL)
        snprintf(buf, cb, "%s (%d)", name, rc);
    else
        snprintf(buf, cb, "status %d", rc);
    return buf;
}

const char *rp_alts_text(const vdc_alts *a, char *buf, size_t cb)
{
    return vdc_alts_format(a, buf, cb);
}

/* Appends printf output to buf[0..cb) at *o, silently truncating. */
static void put(char *buf, size_t cb, size_t *o, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t cb, size_t *o, const char *fmt, ...)
{
    va_list ap;
    if (*o + 1 >= cb)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *o, cb - *o, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    *o += (size_t)n < cb - *o ? (size_t)n : cb - *o - 1;
}

/* Appends body, indenting each of its lines by two spaces. */
static void put_indented(char *buf, size_t cb, size_t *o, const char *body)
{
    const char *s = body;
    while (*s != '\0') {
        const char *nl = strchr(s, '\n');
        size_t n = nl != NULL ? (size_t)(nl - s) : strlen(s);
        put(buf, cb, o, "  %.*s\n", (int)n, s);
        s += n + (nl != NULL ? 1 : 0);
    }
}

static void compose(rp *p, const char *body)
{
    vdc_replay_result *r = p->r;
    size_t cb = sizeof r->message, o = 0;
    unsigned ctx = p->o->context_calls != 0 ? p->o->context_calls : 5;

    r->message[0] = '\0';
    if (p->rec != NULL) {
        put(r->message, cb, &o, "call %u (line %u): %.300s\n", p->cur + 1, p->rec->line,
            vdc_trace_record_text(p->t, p->cur));
    } else {
        put(r->message, cb, &o, "after the last call (%u calls):\n", vdc_trace_ncalls(p->t));
    }
    put_indented(r->message, cb, &o, body);
    unsigned first = p->cur > ctx ? p->cur - ctx : 0;
    if (first < p->cur && p->cur <= vdc_trace_ncalls(p->t)) {
        put(r->message, cb, &o, "previous calls:\n");
        for (unsigned i = first; i < p->cur; i++)
            put(r->message, cb, &o, "  call %u (line %u): %.160s\n", i + 1, vdc_trace_record_line(p->t, i),
                vdc_trace_record_text(p->t, i));
    }
    /* drop a final newline */
    if (o > 0 && r->message[o - 1] == '\n')
        r->message[o - 1] = '\0';
}

static int verdict(rp *p, vdc_outcome oc, const char *fmt, va_list ap)
{
    char body[1400];
    if (p->stopped)
        return RP_STOP;
    p->stopped = true;
    vsnprintf(body, sizeof body, fmt, ap);
    p->r->outcome = oc;
    if (oc == VDC_FAIL || oc == VDC_ERROR) {
        p->r->fail_call = p->rec != NULL ? p->cur + 1 : 0;
        p->r->fail_line = p->rec != NULL ? p->rec->line : 0;
    }
    if (oc == VDC_SKIP) {
        snprintf(p->r->message, sizeof p->r->message, "%s", body);
        return RP_STOP;
    }
    compose(p, body);
    return RP_STOP;
}

int rp_fail(rp *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = verdict(p, VDC_FAIL, fmt, ap);
    va_end(ap);
    return rc;
}

int rp_error(rp *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = verdict(p, VDC_ERROR, fmt, ap);
    va_end(ap);
    return rc;
}

int rp_skip(rp *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = verdict(p, VDC_SKIP, fmt, ap);
    va_end(ap);
    return rc;
}

int rp_oom(rp *p)
{
    if (p->fatal_rc == VINF_SUCCESS)
        p->fatal_rc = VERR_NO_MEMORY;
    return rp_error(p, "out of memory");
}

void rp_note(rp *p, const char *fmt, ...)
{
    va_list ap;
    if (p->nnotes + 2 >= sizeof p->notes)
        return;
    if (p->nnotes > 0)
        p->notes[p->nnotes++] = '\n';
    va_start(ap, fmt);
    int n = vsnprintf(p->notes + p->nnotes, sizeof p->notes - p->nnotes, fmt, ap);
    va_end(ap);
    if (n > 0)
        p->nnotes += (size_t)n < sizeof p->notes - p->nnotes ? (size_t)n : sizeof p->notes - p->nnotes - 1;
    p->notes[p->nnotes] = '\0';
}

int rp_expect(rp *p, const char *fmt, ...)
{
    char body[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    if (vdc_record_should_only(p->rec))
        return rp_should(p, "%s (every clause of the record is a SHOULD)", body);
    return rp_fail(p, "%s", body);
}

int rp_should(rp *p, const char *fmt, ...)
{
    char body[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    if (p->o->strict)
        return rp_fail(p, "strict: a SHOULD expectation failed: %s", body);
    if (p->warned)
        return RP_GO;
    p->warned = true;
    p->r->warnings++;
    if (p->r->warnings <= 3) {
        /* Named by the clauses its record tags (the SHOULD it misses is
         * among them). */
        char clauses[160];
        size_t o = 0;
        clauses[0] = '\0';
        for (unsigned i = 0; p->rec != NULL && i < p->rec->nclauses && o < sizeof clauses; i++)
            o += (size_t)snprintf(clauses + o, sizeof clauses - o, "%s%s", i ? "," : "", p->rec->clauses[i]);
        rp_note(p, "warning: %s: call %u (line %u): %s", clauses[0] != '\0' ? clauses : "untagged SHOULD", p->cur + 1,
                p->rec != NULL ? p->rec->line : 0, body);
    }
    return RP_GO;
}

/* One line of hex: bytes [from, to) of b, the byte at mark in brackets. */
static void hex_line(char *buf, size_t cb, size_t *o, const char *label, uint64_t vstart, const uint8_t *b,
                     size_t n, size_t mark)
{
    put(buf, cb, o, "%s @0x%llx:", label, (unsigned long long)vstart);
    for (size_t i = 0; i < n; i++)
        put(buf, cb, o, i == mark ? " [%02x]" : " %02x", b[i]);
    put(buf, cb, o, "\n");
}

int rp_fail_data(rp *p, const vdc_data *d, uint64_t off, const uint8_t *got, size_t cb, size_t diff, const char *what)
{
    char body[1400], dtext[200];
    uint8_t exp[33];
    size_t o = 0;
    size_t from = diff > 16 ? diff - 16 : 0;
    size_t to = diff + 17 < cb ? diff + 17 : cb;

    vdc_data_fill(d, off + from, exp, to - from);
    put(body, sizeof body, &o, "data differs at virtual offset 0x%llx (%llu), byte %zu of the %zu bytes delivered%s%s\n",
        (unsigned long long)(off + diff), (unsigned long long)(off + diff), diff, cb, what[0] ? " by " : "", what);
    put(body, sizeof body, &o, "expected data: %s\n", vdc_data_format(d, dtext, sizeof dtext));
    hex_line(body, sizeof body, &o, "expected", off + from, exp, to - from, diff - from);
    hex_line(body, sizeof body, &o, "actual  ", off + from, got + from, to - from, diff - from);
    if (o > 0 && body[o - 1] == '\n')
        body[o - 1] = '\0';
    return rp_fail(p, "%s", body);
}
