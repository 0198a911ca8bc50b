/*
 * fuzz/fuzz_trace.c - fuzz target: any bytes into the trace parser.
 *
 * vdc_trace_parse must turn every input into a parsed trace or an error
 * with a "name:line: message" (harness/trace/trace.h), never crash, hang or
 * allocate without bound.  On success every accessor is walked; on failure
 * the message must be a terminated string and no trace handed out.  A
 * parsed trace is then written back in canonical form (trace_write.h) and
 * parsed again: the result must be vdc_trace_equal to the first (the
 * writer's round-trip promise).
 * Input: at most FUZZ_TRACE_MAX bytes (fuzz_trace.options).
 */
#include "fuzz.h"
#include "../harness/trace/trace.h"
#include "../harness/trace/trace_write.h"

#include <stdio.h>
#include <string.h>

#define FUZZ_TRACE_MAX 65536u

/* Writes t back out and parses the text again; aborts unless the two agree.
 * A trace the writer cannot express (a line over the limit) is skipped. */
static void round_trip(const vdc_trace *t)
{
    vdc_trace_writer *w = vdc_tw_new();
    vdc_trace *again = NULL;
    const char *text;
    char err[512];
    size_t len;
    int rc;

    if (w == NULL)
        return;
    rc = vdc_tw_trace(w, t);
    if (rc == VERR_BUFFER_OVERFLOW || rc == VERR_NO_MEMORY)
        goto out_free_writer;
    if (RT_FAILURE(rc))
        fuzz_fail(NULL, "TRACE", "the writer refused a parsed trace (%d)", rc);
    text = vdc_tw_text(w, &len);
    rc = vdc_trace_parse(text, len, "fuzz", &again, err, sizeof(err));
    if (rc == VERR_NO_MEMORY)
        goto out_free_writer;
    if (RT_FAILURE(rc))
        fuzz_fail(NULL, "TRACE", "the canonical form of a parsed trace does not parse (%d): %s\n%s", rc,
                  err, text);
    if (!vdc_trace_equal(t, again))
        fuzz_fail(NULL, "TRACE", "the canonical form parses to a different trace:\n%s", text);
    vdc_trace_free(again);
out_free_writer:
    vdc_tw_free(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vdc_trace *t = NULL;
    char err[512];
    int rc;

    if (size > FUZZ_TRACE_MAX)
        return 0;
    memset(err, 0x7f, sizeof(err));
    rc = vdc_trace_parse((const char *)data, size, "fuzz", &t, err, sizeof(err));
    if (RT_FAILURE(rc)) {
        if (memchr(err, '\0', sizeof(err)) == NULL)
            fuzz_fail(NULL, "TRACE", "vdc_trace_parse failed (%d) without a terminated message", rc);
        if (t != NULL)
            fuzz_fail(NULL, "TRACE", "vdc_trace_parse failed (%d) but handed out a trace", rc);
        return 0;
    }
    if (t == NULL)
        fuzz_fail(NULL, "TRACE", "vdc_trace_parse succeeded without a trace");
    (void)vdc_trace_name(t);
    (void)vdc_trace_required_caps(t);
    for (unsigned i = 0; i < vdc_trace_nclauses(t); i++)
        if (vdc_trace_clause(t, i) == NULL)
            fuzz_fail(NULL, "TRACE", "clause %u of %u is NULL", i, vdc_trace_nclauses(t));
    for (unsigned i = 0; i < vdc_trace_ncalls(t); i++) {
        const char *text = vdc_trace_record_text(t, i);
        if (text == NULL || vdc_trace_record(t, i) == NULL)
            fuzz_fail(NULL, "TRACE", "record %u of %u has no text or no record", i, vdc_trace_ncalls(t));
        (void)vdc_trace_record_line(t, i);
    }
    round_trip(t);
    vdc_trace_free(t);
    return 0;
}
