/*
 * harness/conformance/gen_write.c - writes a generated or shrunk trace with
 * a header comment (gen.h, vdc_gen_write).
 *
 * Contract: gen.h.  Returns VINF_SUCCESS, VERR_NO_MEMORY or
 * VERR_WRITE_ERROR (also VERR_INVALID_PARAMETER for a trace the writer
 * cannot express, which a parsed or appended trace never is).  The text is
 * the canonical form of spec/trace-format.md section 11, so a trace written
 * here parses back vdc_trace_equal to t (its clause header included).
 */
#include "gen.h"

#include <stdlib.h>

#include "../trace/trace_write.h"

int vdc_gen_write(const vdc_trace *t, const char *comment, FILE *f)
{
    vdc_trace_writer *w = vdc_tw_new_file(f);
    if (w == NULL)
        return VERR_NO_MEMORY;
    unsigned nclauses = vdc_trace_nclauses(t);
    const char **clauses = NULL;
    int rc = VINF_SUCCESS;
    if (nclauses > 0) {
        clauses = calloc(nclauses, sizeof *clauses);
        if (clauses == NULL) {
            rc = VERR_NO_MEMORY;
            goto out_free_writer;
        }
        for (unsigned i = 0; i < nclauses; i++)
            clauses[i] = vdc_trace_clause(t, i);
    }
    vdc_trace_header h = { .name = vdc_trace_name(t),
                           .caps = vdc_trace_required_caps(t),
                           .nclauses = nclauses,
                           .clauses = clauses,
                           .comment = comment };
    rc = vdc_tw_header(w, &h);
    for (unsigned i = 0; rc == VINF_SUCCESS && i < vdc_trace_ncalls(t); i++)
        rc = vdc_tw_record(w, vdc_trace_record(t, i));
    if (rc == VINF_SUCCESS)
        rc = vdc_tw_status(w);
    if (rc == VINF_SUCCESS && fflush(f) != 0)
        rc = VERR_WRITE_ERROR;
    free(clauses);
out_free_writer:
    vdc_tw_free(w);
    return rc;
}
