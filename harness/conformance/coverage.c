/*
 * harness/conformance/coverage.c - the clauses of spec/contract.md and who
 * tests them (coverage.h).
 *
 * Contract and statuses: coverage.h (VINF_SUCCESS, VERR_INVALID_PARAMETER,
 * VERR_NO_MEMORY, VERR_TOO_MUCH_DATA).  The marker grammar is that of
 * spec/contract.md ("**AREA-N MUST.**"); the clause-name shape is the
 * trace format's CLAUSE (spec/trace-format.md section 2.4).
 */
#include "coverage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../spec/vdcache.h"

/*
 * THE exemption table.  Keep it short: every entry is a clause that no trace
 * can test today, and the tool that does.  Every entry is checked on every
 * run of `vdcc conform`: after each trace passes, its crash sweep
 * (harness/reliability/sweep.h, crash.h) judges CRASH-1 on sampled crash
 * states (a violation fails the trace) and FLUSH-2 at the point right
 * after each successful flush (a loss is a quality warning, as a SHOULD
 * is), and its fault sweep judges HOST-4 on sampled failing allocations
 * and INFO-6 after each set-open-flags a fault made fail; for a VCI
 * backend both check VCI-1 with the deep checker;
 * `vdcc crashtest` and `vdcc faults` run the same checks without the
 * bounds.
 */
static const vdc_cover_exempt exempt[] = {
    { "CRASH-1", "vdcc conform's crash sweep after every trace; vdcc crashtest unbounded "
                 "(harness/reliability/sweep.h, crash.h)",
      "needs the storage states a crash leaves behind (unflushed writes lost, torn, reordered); "
      "the trace format has no crash record" },
    { "FLUSH-2", "vdcc conform's crash sweep after every trace (quality warnings at each flush point); "
                 "vdcc crashtest unbounded (harness/reliability/crash.h)",
      "durability across a crash right after a flush: same reason as CRASH-1" },
    { "HOST-4", "vdcc conform's fault sweep after every trace (sampled backend allocations failing); "
                "vdcc faults --modes nomem,nomem-stuck unbounded (harness/reliability/faults.h)",
      "needs an allocation that fails; the trace format has no such record, and only a backend "
      "built into vdcc shows its allocations (harness/host/alloc_hook.h)" },
    { "INFO-6", "vdcc conform's fault sweep after every trace (a read right after a set-open-flags that a "
                "fault made fail: quality warnings); vdcc faults unbounded (harness/reliability/workload.h)",
      "needs a set-open-flags that fails on a healthy file; only injected faults make one" },
    { "VCI-1", "vdcc conform's crash and fault sweeps after every trace, for backends named VCI (the deep "
               "check after every flush and close, and after recovery); vdcc crashtest and vdcc faults unbounded "
               "(harness/reliability/sweep.h, workload.h)",
      "a property of the file the backend writes, in one format: the trace format states calls and answers, "
      "not bytes on disk" },
};

const vdc_cover_exempt *vdc_cover_exempt_find(const char *clause)
{
    for (size_t i = 0; i < sizeof exempt / sizeof exempt[0]; i++)
        if (strcmp(exempt[i].clause, clause) == 0)
            return &exempt[i];
    return NULL;
}

const vdc_cover_exempt *vdc_cover_exempt_at(unsigned i)
{
    return i < sizeof exempt / sizeof exempt[0] ? &exempt[i] : NULL;
}

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Matches "**NAME MUST.**" / "**NAME SHOULD.**" at s[0..n); fills name and
 * must and returns the marker's length, or 0. */
static size_t marker(const char *s, size_t n, char *name, size_t cb_name, bool *must)
{
    size_t i = 2;
    if (n < 2 || s[0] != '*' || s[1] != '*' || i >= n || !is_upper(s[i]))
        return 0;
    while (i < n && (is_upper(s[i]) || is_digit(s[i])))
        i++;
    if (i >= n || s[i] != '-')
        return 0;
    i++;
    size_t digits = i;
    while (i < n && is_digit(s[i]))
        i++;
    if (i == digits)
        return 0;
    if (i < n && s[i] >= 'a' && s[i] <= 'z')
        i++;
    size_t name_len = i - 2;
    if (name_len + 1 > cb_name)
        return 0;
    static const char m[] = " MUST.**", sh[] = " SHOULD.**";
    size_t l;
    if (n - i >= sizeof m - 1 && memcmp(s + i, m, sizeof m - 1) == 0) {
        *must = true;
        l = sizeof m - 1;
    } else if (n - i >= sizeof sh - 1 && memcmp(s + i, sh, sizeof sh - 1) == 0) {
        *must = false;
        l = sizeof sh - 1;
    } else {
        return 0;
    }
    memcpy(name, s + 2, name_len);
    name[name_len] = '\0';
    return i + l;
}

int vdc_contract_parse(const char *text, size_t len, vdc_clause_list *out, char *err, size_t cb_err)
{
    out->v = NULL;
    out->n = 0;
    if (err != NULL && cb_err > 0)
        err[0] = '\0';
    unsigned cap = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        if (text[i] != '*' || text[i + 1] != '*')
            continue;
        char name[sizeof out->v[0].name];
        bool must;
        size_t m = marker(text + i, len - i, name, sizeof name, &must);
        if (m == 0)
            continue;
        if (vdc_clause_find(out, name) != NULL) {
            snprintf(err, cb_err, "clause %s is marked twice", name);
            vdc_clauses_free(out);
            return VERR_INVALID_PARAMETER;
        }
        if (out->n == VDC_COVER_MAX_CLAUSES) {
            vdc_clauses_free(out);
            return VERR_TOO_MUCH_DATA;
        }
        if (out->n == cap) {
            unsigned ncap = cap ? cap * 2 : 64;
            vdc_clause *v = realloc(out->v, ncap * sizeof *v);
            if (v == NULL) {
                vdc_clauses_free(out);
                return VERR_NO_MEMORY;
            }
            out->v = v;
            cap = ncap;
        }
        vdc_clause *c = &out->v[out->n++];
        memset(c, 0, sizeof *c);
        snprintf(c->name, sizeof c->name, "%s", name);
        c->must = must;
        i += m - 1;
    }
    if (out->n == 0) {
        snprintf(err, cb_err, "no clause markers (**AREA-N MUST.** or **AREA-N SHOULD.**) found");
        return VERR_INVALID_PARAMETER;
    }
    return VINF_SUCCESS;
}

void vdc_clauses_free(vdc_clause_list *l)
{
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

vdc_clause *vdc_clause_find(vdc_clause_list *l, const char *name)
{
    for (unsigned i = 0; i < l->n; i++)
        if (strcmp(l->v[i].name, name) == 0)
            return &l->v[i];
    return NULL;
}

bool vdc_clause_note(vdc_clause_list *l, const char *name, unsigned trace)
{
    vdc_clause *c = vdc_clause_find(l, name);
    if (c == NULL)
        return false;
    if (c->ntraces < sizeof c->first_traces / sizeof c->first_traces[0])
        c->first_traces[c->ntraces] = trace;
    c->ntraces++;
    return true;
}
