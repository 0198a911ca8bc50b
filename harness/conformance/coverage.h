/*
 * harness/conformance/coverage.h - which contract clauses the traces test
 * (`vdcc coverage`).
 *
 * The clauses are read from spec/contract.md itself, so the list cannot
 * drift from the document: every bold marker `**AREA-N MUST.**` or
 * `**AREA-N SHOULD.**` (AREA capital letters and digits, N a number with an
 * optional lower-case letter) is one clause, in document order; a name
 * marked twice is an error.  A trace names a clause in its `clauses` header
 * line or in a record's `clause=` (vdc_trace_clause lists both).
 *
 * A few clauses cannot be tested by any trace yet (the format has no way to
 * express them); they are covered by a named tool instead, listed in ONE
 * table (vdc_cover_exempt) with the reason, kept explicit and short.  A
 * clause is covered when a trace names it or the table names a tool for it.
 *
 * Errors: VINF_SUCCESS, VERR_INVALID_PARAMETER (no marker at all, or a
 * duplicate; err says which), VERR_NO_MEMORY, VERR_TOO_MUCH_DATA (more than
 * VDC_COVER_MAX_CLAUSES).  No global state.
 */
#ifndef VDCC_HARNESS_CONFORMANCE_COVERAGE_H
#define VDCC_HARNESS_CONFORMANCE_COVERAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "../../spec/vdcache.h"

#define VDC_COVER_MAX_CLAUSES 512u

typedef struct vdc_clause {
    char      name[24];     /* "READ-3" */
    bool      must;         /* MUST (else SHOULD) */
    unsigned  ntraces;      /* traces naming it */
    unsigned  first_traces[4]; /* indices (into the caller's trace list) of the first few */
} vdc_clause;

typedef struct vdc_clause_list {
    vdc_clause *v;
    unsigned    n;
} vdc_clause_list;

/* Parses the clause markers of a contract text.  Free with vdc_clauses_free. */
int  vdc_contract_parse(const char *text, size_t len, vdc_clause_list *out, char *err, size_t cb_err);
void vdc_clauses_free(vdc_clause_list *l);

/* The clause called name, or NULL. */
vdc_clause *vdc_clause_find(vdc_clause_list *l, const char *name);

/* Records that trace number `trace` names clause `name`; returns false when
 * the contract has no such clause (the caller reports it).  A trace naming a
 * clause twice counts once only if the caller passes each name once. */
bool vdc_clause_note(vdc_clause_list *l, const char *name, unsigned trace);

/* The exemption table: clauses covered by a tool instead of a trace. */
typedef struct vdc_cover_exempt {
    const char *clause;
    const char *by;      /* the tool or test that covers it */
    const char *why;     /* why no trace can */
} vdc_cover_exempt;

/* Entry for clause, or NULL when it has none. */
const vdc_cover_exempt *vdc_cover_exempt_find(const char *clause);
/* Entry i (0-based), or NULL past the end. */
const vdc_cover_exempt *vdc_cover_exempt_at(unsigned i);

#endif /* VDCC_HARNESS_CONFORMANCE_COVERAGE_H */
