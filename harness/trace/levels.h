/*
 * harness/trace/levels.h - the level of each clause of spec/contract.md
 * (MUST or SHOULD), as replay and the corpus check need it.
 *
 * spec/contract.md, "Levels and verdicts": breaking a SHOULD clause is a
 * quality warning, never a failure.  A record whose clause= list names only
 * SHOULD clauses is "SHOULD-only": replay turns a miss of its expectations
 * into a quality warning and goes on (spec/trace-format.md 6.2), and the
 * corpus check (`vdcc coverage`) refuses such a record when its status list
 * demands more than the MUST clauses do (vdc_record_hard_should).  The
 * table is checked against the contract's markers by `vdcc coverage`.
 * No allocation, no state.
 */
#ifndef VDCC_HARNESS_TRACE_LEVELS_H
#define VDCC_HARNESS_TRACE_LEVELS_H

#include <stdbool.h>
#include <stddef.h>

#include "trace.h"

/* True when clause (e.g. "WRITE-6") is a SHOULD clause of the contract. */
bool vdc_clause_should(const char *clause);

/* The SHOULD clauses, NULL-terminated (for the check against the contract). */
const char *const *vdc_should_clauses(void);

/* True when r names at least one clause and every one is a SHOULD. */
bool vdc_record_should_only(const vdc_record *r);

/*
 * True when r is SHOULD-only and its status list refuses a status the MUST
 * clauses allow: it accepts neither `any` nor `failure` (reads: nor both
 * `hit` and `miss` of any length, every read's floor: a read that neither
 * hits nor misses fails the guest's read).  *why (cb bytes) then says what
 * to write instead.  Outputs (value=, uuid=, printed=...) of a SHOULD-only
 * record are soft by rule and not refused.
 */
bool vdc_record_hard_should(const vdc_record *r, char *why, size_t cb);

#endif /* VDCC_HARNESS_TRACE_LEVELS_H */
