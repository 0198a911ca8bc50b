/*
 * harness/trace/levels.c - the level of each clause of spec/contract.md.
 *
 * Contract: levels.h (spec/contract.md "Levels and verdicts"; the clause
 * list is the contract's **AREA-N SHOULD.** markers).  No statuses.
 */
#include "levels.h"

#include <stdio.h>
#include <string.h>

static const char *const should_clauses[] = {
    "OPEN-4", "CREATE-3", "CREATE-4", "CLOSE-3", "READ-6", "READ-7", "WRITE-6",
    "FLUSH-2", "DISCARD-2", "UUID-3", "INFO-1", "INFO-5", "INFO-6", NULL,
};

bool vdc_clause_should(const char *clause)
{
    for (unsigned i = 0; clause != NULL && should_clauses[i] != NULL; i++)
        if (strcmp(should_clauses[i], clause) == 0)
            return true;
    return false;
}

const char *const *vdc_should_clauses(void)
{
    return should_clauses;
}

bool vdc_record_should_only(const vdc_record *r)
{
    if (r == NULL || r->nclauses == 0)
        return false;
    for (unsigned i = 0; i < r->nclauses; i++)
        if (!vdc_clause_should(r->clauses[i]))
            return false;
    return true;
}

bool vdc_record_hard_should(const vdc_record *r, char *why, size_t cb)
{
    bool hit = false, miss = false;
    if (!vdc_record_should_only(r) || r->expect.n == 0)
        return false;
    for (unsigned i = 0; i < r->expect.n; i++) {
        const vdc_alt *a = &r->expect.v[i];
        if (a->kind == VDC_ALT_ANY || a->kind == VDC_ALT_FAILURE)
            return false;
        hit |= a->kind == VDC_ALT_HIT;
        miss |= a->kind == VDC_ALT_MISS && a->min <= 1;
    }
    bool read = r->op == VDC_OP_READ || r->op == VDC_OP_VDREAD;
    if (read && hit && miss)
        return false;
    if (why != NULL && cb > 0)
        snprintf(why, cb, "its clauses (%s%s) are SHOULD only, yet its status list refuses what the MUST clauses "
                 "allow; write `-> %s should=...`, or name the MUST clause the expectation rests on",
                 r->clauses[0], r->nclauses > 1 ? ", ..." : "", read ? "hit|miss|failure" : "any");
    return true;
}
