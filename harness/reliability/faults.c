/*
 * harness/reliability/faults.c - the fault sweep (faults.h).
 *
 * Contract: faults.h.  Statuses: VINF_SUCCESS, VERR_INVALID_PARAMETER,
 * VERR_NO_MEMORY, VERR_GENERAL_FAILURE (fork, isolated only).  Checks
 * spec/contract.md HOST-1, HOST-2, HOST-3, HOST-4, READ-1..5, WRITE-1,
 * CLOSE-1 and the "last data written" rule under storage and allocation
 * failures.
 */
#include "faults.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../host/alloc_hook.h"
#include "../host/host.h"
#include "../host/status.h"
#include "../core/isolate.h"

static const char *sname(int rc)
{
    const char *n = vdc_status_name(rc);
    return n != NULL ? n : "?";
}

const char *vdc_fmode_name(unsigned mode)
{
    switch (mode) {
    case VDC_FMODE_IO: return "io";
    case VDC_FMODE_IO_STUCK: return "io-stuck";
    case VDC_FMODE_FULL: return "full";
    case VDC_FMODE_FULL_STUCK: return "full-stuck";
    case VDC_FMODE_NOMEM: return "nomem";
    case VDC_FMODE_NOMEM_STUCK: return "nomem-stuck";
    }
    return "?";
}

void vdc_fmode_arm(unsigned mode, int *status, unsigned *flags)
{
    *status = (mode == VDC_FMODE_FULL || mode == VDC_FMODE_FULL_STUCK) ? VERR_DISK_FULL : VERR_DISK_IO_ERROR;
    *flags = 0;
    if (mode == VDC_FMODE_IO || mode == VDC_FMODE_IO_STUCK)
        *flags |= VDC_FAULT_TORN;
    if (mode == VDC_FMODE_IO_STUCK || mode == VDC_FMODE_FULL_STUCK)
        *flags |= VDC_FAULT_PERSISTENT;
}

typedef struct point_out {
    uint64_t viol;
    char     msg[1024];
} point_out;

static void pviol(point_out *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pviol(point_out *p, const char *fmt, ...)
{
    p->viol++;
    if (p->msg[0] == '\0') {
        va_list va;
        va_start(va, fmt);
        vsnprintf(p->msg, sizeof p->msg, fmt, va);
        va_end(va);
    }
}

/* The reopen after the fault is cleared. */
static void reopen_check(const vdc_faults_opts *o, vdc_faults_result *r, vdc_fs *mem, const vdc_model *m,
                         uint8_t *scratch, point_out *p)
{
    vdc_host *host = vdc_host_new(mem);
    void *bd = NULL;
    if (host == NULL) {
        pviol(p, "out of memory");
        return;
    }
    int rc = o->be->pfnOpen(o->w->name, VD_OPEN_FLAGS_NORMAL, vdc_host_disk_ifs(host), vdc_host_image_ifs(host), &bd);
    if (RT_SUCCESS(rc)) {
        char msg[768];
        uint64_t v = 0;
        msg[0] = '\0';
        r->reopen_ok++;
        /* A failed flush may have lost a discard: after_crash rules. */
        vdc_rc_stats st = { .scratch = scratch };
        vdc_wl_read_all(o->be, bd, host, o->w, m, NULL, VDC_RC_AFTER_CRASH, &v, msg, sizeof msg, &st);
        if (v != 0) {
            p->viol += v - 1;
            pviol(p, "after the fault was cleared, reopened: %s", msg);
        }
        rc = o->be->pfnClose(bd, false);
        if (RT_FAILURE(rc))
            pviol(p, "CLOSE-1: after the fault was cleared, close returned %d (%s)", rc, sname(rc));
        if (vdc_host_get_stats(host)->open_storages != 0)
            pviol(p, "HOST-3: storage left open after the reopened instance closed");
        if (o->deep_check != NULL) {
            char dmsg[512];
            dmsg[0] = '\0';
            rc = o->deep_check(o->deep_user, mem, o->w->name, dmsg, sizeof dmsg);
            if (RT_FAILURE(rc))
                pviol(p, "VCI-1: after the fault was cleared, open and close leave an image the deep check rejects: %s",
                      dmsg);
        }
    } else {
        r->reopen_failed++;
        if (vdc_host_get_stats(host)->open_storages != 0)
            pviol(p, "OPEN-2: a failed reopen left storage open");
    }
    if (vdc_host_get_stats(host)->misuse != 0)
        pviol(p, "HOST-1: misuse of the host during the reopen; log:\n%.500s", vdc_host_log(host));
    vdc_host_free(host);
}

/* HOST-3 through the allocator's balance (alloc_hook.h): zero for a
 * backend whose allocations are not visible. */
static void leak_check(int64_t live0, const char *when, point_out *p)
{
    int64_t d = vdc_alloc_hook_live() - live0;
    if (d != 0)
        pviol(p, "HOST-3: %lld backend allocation(s) %s %s", (long long)(d < 0 ? -d : d),
              d > 0 ? "still live" : "freed twice or not its own", when);
}

/* Runs one fault point; returns VINF_SUCCESS or VERR_NO_MEMORY. */
static int run_point(const vdc_faults_opts *o, vdc_faults_result *r, uint64_t n, unsigned mode, uint8_t *scratch,
                     point_out *p)
{
    vdc_wl_result wl;
    int status, rc;
    unsigned flags;
    bool nomem = (mode & VDC_FMODE_ALLOC) != 0;
    int64_t live0 = vdc_alloc_hook_live();
    vdc_fs *mem = vdc_fs_mem_new((uint64_t)1 << 30, 0);
    if (mem == NULL)
        return VERR_NO_MEMORY;
    vdc_fs *fault = vdc_fs_fault_new(mem);
    if (fault == NULL) {
        vdc_fs_destroy(mem);
        return VERR_NO_MEMORY;
    }
    if (nomem) {
        vdc_alloc_hook_arm(n, mode == VDC_FMODE_NOMEM_STUCK);
    } else {
        vdc_fmode_arm(mode, &status, &flags);
        vdc_fs_fault_arm(fault, o->kind, n, status, flags);
    }
    vdc_wl_opts wo = { .be = o->be, .fs = fault, .tolerate_errors = true, .heartbeat = o->heartbeat,
                       .transient = mode == VDC_FMODE_IO || mode == VDC_FMODE_FULL || mode == VDC_FMODE_NOMEM };
    rc = vdc_wl_run(o->w, &wo, &wl);
    vdc_alloc_hook_disarm();
    if (RT_SUCCESS(rc)) {
        r->points++;
        r->fired += (nomem ? vdc_alloc_hook_fired() : vdc_fs_fault_fired(fault)) != 0;
        r->failed_calls += wl.failed_calls;
        if (wl.warnings != 0 && r->warnings++ == 0)
            snprintf(r->warning, sizeof r->warning, "fault mode %s at %llu: %s", vdc_fmode_name(mode),
                     (unsigned long long)n, wl.warning);
        if (wl.violations != 0) {
            p->viol += wl.violations - 1;
            pviol(p, "%s", wl.first);
        }
        vdc_fs_fault_clear(fault);
        reopen_check(o, r, mem, wl.model, scratch, p);
        leak_check(live0, "after the workload and the reopen closed every instance", p);
    }
    vdc_wl_result_free(&wl);
    vdc_fs_destroy(fault);
    vdc_fs_destroy(mem);
    return rc;
}

/* The clean run: counts operations and allocations (and notes the first
 * allocation of each call site: sites[0..*nsites)), and judges the
 * workload itself. */
static int clean_run(const vdc_faults_opts *o, vdc_faults_result *r, uint64_t *sites, size_t *nsites)
{
    vdc_wl_result wl;
    int64_t live0 = vdc_alloc_hook_live();
    vdc_fs *mem = vdc_fs_mem_new((uint64_t)1 << 30, 0);
    if (mem == NULL)
        return VERR_NO_MEMORY;
    vdc_fs *fault = vdc_fs_fault_new(mem);
    if (fault == NULL) {
        vdc_fs_destroy(mem);
        return VERR_NO_MEMORY;
    }
    vdc_wl_opts wo = { .be = o->be, .fs = fault, .heartbeat = o->heartbeat, .deep_check = o->deep_check,
                       .deep_user = o->deep_user, .deep_fs = mem };
    vdc_alloc_hook_arm(0, false);
    int rc = vdc_wl_run(o->w, &wo, &wl);
    vdc_alloc_hook_disarm();
    if (RT_SUCCESS(rc)) {
        point_out p;
        memset(&p, 0, sizeof p);
        r->ops = vdc_fs_fault_count(fault, o->kind);
        r->allocs = vdc_alloc_hook_count();
        *nsites = vdc_alloc_hook_sites(sites, VDC_ALLOC_HOOK_MAX_SITES); /* at most the maximum */
        r->alloc_sites = *nsites;
        if (wl.violations != 0) {
            p.viol += wl.violations - 1;
            pviol(&p, "%s", wl.first);
        }
        leak_check(live0, "after the workload closed every instance", &p);
        r->clean_violations = p.viol;
        if (p.viol != 0) {
            snprintf(r->first, sizeof r->first, "the workload without faults: %s", p.msg);
            if (o->log != NULL)
                fprintf(o->log, "violation: without faults: %s\n", p.msg);
        }
    }
    vdc_wl_result_free(&wl);
    vdc_fs_destroy(fault);
    vdc_fs_destroy(mem);
    return rc;
}

/* The VDC_FMODE_* bits of `modes` (0: all) within `group`, in order. */
static unsigned mode_list(unsigned modes, unsigned group, unsigned out[6])
{
    unsigned n = 0;
    if (modes == 0)
        modes = VDC_FMODE_ALL;
    for (unsigned b = 1; b <= VDC_FMODE_LAST; b <<= 1)
        if (modes & group & b)
            out[n++] = b;
    return n;
}

/* What one sweep over a numbering (storage operations or allocations)
 * shares with the next. */
typedef struct sweep_ctx {
    uint8_t *scratch;
    uint64_t item, logged;
    uint64_t sites[VDC_ALLOC_HOOK_MAX_SITES]; /* first allocation of each call site, ascending */
    size_t   nsites;
} sweep_ctx;

/* Is allocation n the first one of its call site? */
static bool site_first(const sweep_ctx *sc, uint64_t n)
{
    for (size_t i = 0; i < sc->nsites; i++)
        if (sc->sites[i] == n)
            return true;
    return false;
}

/* The points of the modes of `group` over numbers 1..total. */
static int sweep_group(const vdc_faults_opts *o, vdc_faults_result *r, sweep_ctx *sc, unsigned group,
                       uint64_t total)
{
    unsigned modes[6], nmodes = mode_list(o->modes, group, modes);
    const char *what = group == VDC_FMODE_ALLOC ? "backend allocation" : vdc_fault_kind_name(o->kind);
    const char *unit = group == VDC_FMODE_ALLOC ? "" : " operation";
    uint64_t first = o->first != 0 ? o->first : 1;
    uint64_t last = o->last != 0 && o->last < total ? o->last : total;
    uint64_t stride = o->stride > 1 ? o->stride : 1;
    uint64_t nsel = last >= first ? (last - first) / stride + 1 : 0;
    uint64_t maxp = group == VDC_FMODE_ALLOC && o->max_alloc_points != 0 ? o->max_alloc_points : o->max_points;

    if (nmodes == 0)
        return VINF_SUCCESS;
    for (uint64_t n = first; n <= last; n += stride) {
        uint64_t si = (n - first) / stride;
        if (maxp != 0 && nsel > maxp && (si * maxp) / nsel == ((si + 1) * maxp) / nsel
            && !(group == VDC_FMODE_ALLOC && site_first(sc, n)))
            continue; /* neither among the evenly spread sample nor a site's first allocation */
        for (unsigned m = 0; m < nmodes; m++, sc->item++) {
            point_out p;
            if (sc->item < o->skip_points)
                continue;
            if (o->progress != NULL)
                *o->progress = sc->item + 1;
            if (o->heartbeat != NULL)
                (*o->heartbeat)++;
            memset(&p, 0, sizeof p);
            int rc = run_point(o, r, n, modes[m], sc->scratch, &p);
            if (RT_FAILURE(rc))
                return rc;
            if (p.viol == 0)
                continue;
            r->violations += p.viol;
            if (r->first[0] == '\0')
                snprintf(r->first, sizeof r->first, "fault at %s%s %llu, mode %s: %s", what, unit,
                         (unsigned long long)n, vdc_fmode_name(modes[m]), p.msg);
            if (o->log != NULL && sc->logged++ < (o->max_logged != 0 ? o->max_logged : 10))
                fprintf(o->log, "violation: fault at %s%s %llu, mode %s: %s\n", what, unit,
                        (unsigned long long)n, vdc_fmode_name(modes[m]), p.msg);
        }
    }
    return VINF_SUCCESS;
}

int vdc_faults_run(const vdc_faults_opts *o, vdc_faults_result *r)
{
    int rc;

    if (r == NULL)
        return VERR_INVALID_PARAMETER;
    memset(r, 0, sizeof *r);
    if (o == NULL || o->be == NULL || o->w == NULL || (unsigned)o->kind >= VDC_FAULT_KINDS_
        || (o->modes & ~VDC_FMODE_ALL) != 0)
        return VERR_INVALID_PARAMETER;
    sweep_ctx *sc = calloc(1, sizeof *sc);
    if (sc == NULL)
        return VERR_NO_MEMORY;
    rc = clean_run(o, r, sc->sites, &sc->nsites);
    if (RT_FAILURE(rc))
        goto out_free_ctx;
    sc->scratch = malloc(VDC_RC_SCRATCH);
    if (sc->scratch == NULL) {
        rc = VERR_NO_MEMORY;
        goto out_free_ctx;
    }
    rc = sweep_group(o, r, sc, VDC_FMODE_STORAGE, r->ops);
    if (RT_SUCCESS(rc))
        rc = sweep_group(o, r, sc, VDC_FMODE_ALLOC, r->allocs);
    free(sc->scratch);
out_free_ctx:
    free(sc);
    return rc;
}

/* ---- isolation ----------------------------------------------------------- */

typedef struct iso_job {
    const vdc_faults_opts *o;
    vdc_faults_result     *r; /* the parent's sum */
} iso_job;

/* In the child: the sweep from point skip on. */
static int iso_work(void *user, uint64_t skip, vdc_iso_progress *pr, void *result)
{
    iso_job *j = user;
    vdc_faults_opts opts = *j->o;
    opts.skip_points = skip;
    opts.progress = &pr->progress;
    opts.heartbeat = &pr->heartbeat;
    return vdc_faults_run(&opts, result);
}

static void iso_merge(void *user, const void *result, bool first)
{
    iso_job *j = user;
    vdc_faults_result *r = j->r;
    const vdc_faults_result *fr = result;
    if (first) {
        r->ops = fr->ops;
        r->allocs = fr->allocs;
        r->alloc_sites = fr->alloc_sites;
        r->clean_violations = fr->clean_violations;
    }
    r->points += fr->points;
    r->fired += fr->fired;
    r->failed_calls += fr->failed_calls;
    r->reopen_ok += fr->reopen_ok;
    r->reopen_failed += fr->reopen_failed;
    r->violations += fr->violations;
    r->warnings += fr->warnings;
    if (r->warning[0] == '\0' && fr->warning[0] != '\0')
        memcpy(r->warning, fr->warning, sizeof r->warning);
    if (r->first[0] == '\0' && fr->first[0] != '\0')
        memcpy(r->first, fr->first, sizeof r->first);
}

static void iso_died(void *user, uint64_t at, bool finished, const char *what)
{
    iso_job *j = user;
    vdc_faults_result *r = j->r;
    r->crashed++;
    r->violations++;
    if (at != 0 && !finished)
        r->points++; /* the point that died counts as tried */
    const char *where = at != 0 ? "fault point #" : "before the first point, at #";
    unsigned long long n = at != 0 ? at - 1 : 0;
    if (j->o->log != NULL)
        fprintf(j->o->log, "violation: %s%llu: the sweep process %s\n", where, n, what);
    if (r->first[0] == '\0')
        snprintf(r->first, sizeof r->first, "%s%llu: the sweep process %s", where, n, what);
}

int vdc_faults_run_isolated(const vdc_faults_opts *o, unsigned timeout_ms, vdc_faults_result *r)
{
    if (r == NULL)
        return VERR_INVALID_PARAMETER;
    memset(r, 0, sizeof *r);
    if (o == NULL || o->be == NULL || o->w == NULL)
        return VERR_INVALID_PARAMETER;
    static const vdc_iso_sweep sweep = { "point", sizeof(vdc_faults_result), iso_work, iso_merge, iso_died };
    iso_job job = { o, r };
    return vdc_iso_resume(&sweep, &job, timeout_ms);
}
