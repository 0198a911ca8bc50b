/*
 * harness/reliability/sweep.c - conform's bounded crash and fault sweeps
 * (sweep.h) over crash.h and faults.h.
 *
 * Contract: sweep.h.  Statuses: VINF_SUCCESS, VERR_INVALID_PARAMETER,
 * VERR_NO_MEMORY, VERR_TOO_MUCH_DATA (crash sweep only).  The options
 * built here and the ones cmd_rel.c parses must stay in step: the rerun
 * line of a failure is only worth something if it reproduces the sweep.
 */
#include "sweep.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../host/status.h"
#include "crash.h"
#include "faults.h"
#include "reliability.h"

#define BIG_WORKLOAD ((uint64_t)128 << 20)

void vdc_sweep_bounds_for(unsigned records, uint64_t bytes, vdc_sweep_bounds *b)
{
    if (records > 1000 || bytes > BIG_WORKLOAD) {
        *b = (vdc_sweep_bounds){ 4, 6, 1, VDC_FMODE_IO | VDC_FMODE_FULL_STUCK | VDC_FMODE_ALLOC, 4, false };
    } else if (records > 300) {
        *b = (vdc_sweep_bounds){ 6, 6, 2, VDC_FMODE_IO | VDC_FMODE_FULL_STUCK | VDC_FMODE_ALLOC, 8, false };
    } else {
        *b = (vdc_sweep_bounds){ 10, 8, 4, VDC_FMODE_ALL, 32, false };
    }
}

uint64_t vdc_sweep_workload_bytes(const vdc_workload *w)
{
    uint64_t n = 0;
    for (size_t i = 0; i < w->n; i++)
        if (w->ops[i].kind == VDC_WOP_READ || w->ops[i].kind == VDC_WOP_WRITE)
            n += w->ops[i].len < UINT64_MAX - n ? w->ops[i].len : UINT64_MAX - n;
    return n;
}

void vdc_sweep_crash_args(const vdc_sweep_bounds *b, char *buf, size_t cb)
{
    snprintf(buf, cb, "--max-points %llu --max-states-per-point %u --allow-open-failure%s",
             (unsigned long long)b->crash_points, b->crash_states, b->deep ? "" : " --no-deep-check");
}

void vdc_sweep_fault_args(const vdc_sweep_bounds *b, char *buf, size_t cb)
{
    char modes[64];
    size_t n = 0;
    modes[0] = '\0';
    for (unsigned m = 1; m <= VDC_FMODE_LAST; m <<= 1) {
        if (!(b->fault_modes & m))
            continue;
        int w = snprintf(modes + n, sizeof modes - n, "%s%s", n ? "," : "", vdc_fmode_name(m));
        if (w > 0 && (size_t)w < sizeof modes - n)
            n += (size_t)w;
    }
    if (b->fault_modes == VDC_FMODE_ALL || b->fault_modes == 0)
        snprintf(buf, cb, "--max-points %llu --max-alloc-points %llu%s", (unsigned long long)b->fault_points,
                 (unsigned long long)b->alloc_points, b->deep ? "" : " --no-deep-check");
    else
        snprintf(buf, cb, "--max-points %llu --max-alloc-points %llu --modes %s%s", (unsigned long long)b->fault_points,
                 (unsigned long long)b->alloc_points, modes, b->deep ? "" : " --no-deep-check");
}

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Length of a clause name (2+ capitals, '-', digits) at p, else 0. */
static size_t clause_at(const char *p)
{
    size_t n = 0;
    while (is_upper(p[n]))
        n++;
    if (n < 2 || p[n] != '-' || !is_digit(p[n + 1]))
        return 0;
    n++;
    while (is_digit(p[n]))
        n++;
    bool alnum_next = is_upper(p[n]) || (p[n] >= 'a' && p[n] <= 'z') || p[n] == '_';
    return alnum_next ? 0 : n;
}

void vdc_sweep_clause(const char *msg, const char *prefer, char *out, size_t cb)
{
    if (cb == 0)
        return;
    out[0] = '\0';
    for (const char *p = msg; *p != '\0'; p++) {
        if (p != msg && (is_upper(p[-1]) || (p[-1] >= 'a' && p[-1] <= 'z') || is_digit(p[-1]) || p[-1] == '-'
                         || p[-1] == '_'))
            continue;
        size_t n = clause_at(p);
        if (n == 0)
            continue;
        snprintf(out, cb, "%.*s", (int)n, p);
        /* The group "A-1/B-2/...": the preferred one, when listed. */
        for (const char *q = p; prefer != NULL;) {
            size_t m = clause_at(q);
            if (m == 0)
                break;
            if (m == strlen(prefer) && strncmp(q, prefer, m) == 0) {
                snprintf(out, cb, "%s", prefer);
                break;
            }
            if (q[m] != '/')
                break;
            q += m + 1;
        }
        return;
    }
}

int vdc_sweep_crash(const VDCACHEBACKEND *be, const vdc_workload *w, const vdc_sweep_bounds *b,
                    volatile uint64_t *heartbeat, vdc_sweep_result *r)
{
    if (r == NULL)
        return VERR_INVALID_PARAMETER;
    memset(r, 0, sizeof *r);
    if (be == NULL || w == NULL || b == NULL)
        return VERR_INVALID_PARAMETER;
    vdc_crashtest_opts co = {
        .be = be,
        .w = w,
        .crash = { .seed = VDC_CT_SEED, .random_states = VDC_CT_RANDOM, .max_single = VDC_CT_MAX_SINGLE,
                   .max_tears = VDC_CT_MAX_TEARS, .first_point = 0, .last_point = UINT64_MAX, .stride = 1,
                   .max_points = b->crash_points, .max_states = b->crash_states },
        .require_open = false,
        .deep_check = b->deep ? vdc_rel_deep_check_for(be) : NULL,
        .heartbeat = heartbeat,
    };
    vdc_crashtest_result cr;
    int rc = vdc_crashtest_run(&co, &cr);
    if (RT_FAILURE(rc))
        return rc;
    r->violations = cr.violations + cr.workload_violations;
    r->checked = cr.checked;
    r->warnings = cr.flush_lossy;
    if (cr.flush_lossy != 0)
        snprintf(r->warning, sizeof r->warning,
                 "%llu of %llu flush point(s) lose data in a crash right after the flush (%llu crash state(s)); "
                 "first: %.1100s",
                 (unsigned long long)cr.flush_lossy, (unsigned long long)cr.flush_points,
                 (unsigned long long)cr.flush_loss_states, cr.flush_first);
    if (r->violations != 0) {
        char own[24];
        vdc_sweep_clause(cr.first, "CRASH-1", own, sizeof own);
        snprintf(r->clause, sizeof r->clause, "%s", own[0] != '\0' ? own : "CRASH-1");
        snprintf(r->first, sizeof r->first, "%llu violation(s) in %llu crash state(s) at %llu point(s); first: %.1900s",
                 (unsigned long long)r->violations, (unsigned long long)cr.checked, (unsigned long long)cr.points,
                 cr.first);
    }
    return VINF_SUCCESS;
}

int vdc_sweep_faults(const VDCACHEBACKEND *be, const vdc_workload *w, const vdc_sweep_bounds *b,
                     volatile uint64_t *heartbeat, vdc_sweep_result *r)
{
    if (r == NULL)
        return VERR_INVALID_PARAMETER;
    memset(r, 0, sizeof *r);
    if (be == NULL || w == NULL || b == NULL)
        return VERR_INVALID_PARAMETER;
    vdc_faults_opts fo = {
        .be = be,
        .w = w,
        .modes = b->fault_modes,
        .kind = VDC_FAULT_ANY,
        .max_points = b->fault_points,
        .max_alloc_points = b->alloc_points,
        .deep_check = b->deep ? vdc_rel_deep_check_for(be) : NULL,
        .heartbeat = heartbeat,
    };
    vdc_faults_result fr;
    int rc = vdc_faults_run(&fo, &fr);
    if (RT_FAILURE(rc))
        return rc;
    r->violations = fr.violations + fr.clean_violations;
    r->checked = fr.points;
    r->warnings = fr.warnings;
    if (fr.warnings != 0)
        snprintf(r->warning, sizeof r->warning, "%llu fault point(s) with a warning; first: %.1300s",
                 (unsigned long long)fr.warnings, fr.warning);
    if (r->violations != 0) {
        vdc_sweep_clause(fr.first, NULL, r->clause, sizeof r->clause);
        snprintf(r->first, sizeof r->first, "%llu violation(s) in %llu fault point(s); first: %.1900s",
                 (unsigned long long)r->violations, (unsigned long long)fr.points, fr.first);
    }
    return VINF_SUCCESS;
}
