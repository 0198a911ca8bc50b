/*
 * harness/reliability/conform_hooks.c - conform's crash and fault sweeps
 * per trace and its hostile-image task (conform_hooks.h), run by the
 * runner in the child of a trace or case (harness/runner.h).
 *
 * Contract: conform_hooks.h.  Statuses: vdc_hostile_set_load returns
 * VINF_SUCCESS or VERR_NO_MEMORY; the hooks report through vdc_run_out.
 * Judges spec/contract.md CRASH-1 (and what the crash and fault tests
 * check with it, crash.h and faults.h; FLUSH-2 as quality warnings) and,
 * for VCI backends, the
 * verdicts spec/vci-format.md gives each hostile image.
 */
#include "conform_hooks.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../host/status.h"
#include "../trace/trace.h"
#include "hostile_check.h"
#include "reliability.h"
#include "sweep.h"
#include "workload.h"

static const char *sname(int rc)
{
    const char *n = vdc_status_name(rc);
    return n != NULL ? n : "unknown status";
}

static void say(char *dst, size_t cb, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *dst, size_t cb, const char *fmt, ...)
{
    va_list va;
    va_start(va, fmt);
    vsnprintf(dst, cb, fmt, va);
    va_end(va);
}

/* Appends "; " and the text to a note (notes are short remarks). */
static void add_note(vdc_run_out *out, const char *what)
{
    size_t n = strlen(out->note);
    snprintf(out->note + n, sizeof out->note - n, "%s%s", n ? "; " : "", what);
}

/* ---- the sweeps ------------------------------------------------------------ */

/* Reports a sweep's outcome; returns true when it failed the trace. */
static bool judge(vdc_run_out *out, const char *what, int rc, const vdc_sweep_result *r)
{
    char why[300];
    if (rc == VERR_TOO_MUCH_DATA) {
        say(why, sizeof why, "no %s: the workload writes more than the crash recorder holds (%s)", what, sname(rc));
        add_note(out, why);
        out->count[VDC_CC_SKIPPED] = 1;
        return false;
    }
    if (RT_FAILURE(rc)) {
        out->verdict = VDC_V_ERROR;
        say(out->message, sizeof out->message, "%s: could not run (%s)", what, sname(rc));
        return true;
    }
    if (r->violations == 0)
        return false;
    out->verdict = VDC_V_FAIL;
    snprintf(out->clause, sizeof out->clause, "%s", r->clause);
    say(out->message, sizeof out->message, "%s: %s", what, r->first);
    return true;
}

void vdc_conform_after(void *user, const struct vdc_trace *t, const VDCACHEBACKEND *be, vdc_run_out *out)
{
    const vdc_conform_sweeps *want = user;
    vdc_workload *w = NULL;
    vdc_sweep_bounds b;
    vdc_sweep_result r;
    char err[200];
    int rc;

    if (want == NULL || (!want->crash && !want->faults))
        return;
    snprintf(out->phase, sizeof out->phase, "sweep set-up");
    err[0] = '\0';
    rc = vdc_workload_from_trace(t, &w, err, sizeof err);
    if (rc == VERR_NO_MEMORY) {
        out->verdict = VDC_V_ERROR;
        say(out->message, sizeof out->message, "the crash and fault sweeps could not run (%s)", sname(rc));
        return;
    }
    if (RT_FAILURE(rc)) {
        /* Not the backend's fault: the trace says something a workload
         * cannot (or has no image to crash). */
        say(out->note, sizeof out->note, "no sweeps: the workload converter cannot express it: %s",
            err[0] != '\0' ? err : sname(rc));
        out->count[VDC_CC_SKIPPED] = 1;
        return;
    }
    vdc_sweep_bounds_for(vdc_trace_ncalls(t), vdc_sweep_workload_bytes(w), &b);
    b.deep = vdc_rel_deep_check_for(be) != NULL; /* VCI-1 */

    if (want->crash) {
        snprintf(out->phase, sizeof out->phase, "crash sweep");
        out->rerun[0] = '\0';
        size_t n = (size_t)snprintf(out->rerun, sizeof out->rerun, "crashtest ");
        vdc_sweep_crash_args(&b, out->rerun + n, sizeof out->rerun - n);
        rc = vdc_sweep_crash(be, w, &b, &out->heartbeat, &r);
        out->count[VDC_CC_CRASH_STATES] = RT_SUCCESS(rc) ? r.checked : 0;
        if (judge(out, "crash sweep", rc, &r))
            goto out_free;
        if (r.warnings != 0) {
            /* FLUSH-2 is a SHOULD: warnings on a pass, as the replay's
             * should= misses. */
            out->warnings += r.warnings > 1000000u ? 1000000u : (unsigned)r.warnings;
            say(out->message, sizeof out->message, "warning: crash sweep: %s\n(vdcc crashtest %s TRACE shows them)",
                r.warning, out->rerun + strlen("crashtest "));
        }
    }
    if (want->faults) {
        snprintf(out->phase, sizeof out->phase, "fault sweep");
        size_t n = (size_t)snprintf(out->rerun, sizeof out->rerun, "faults ");
        vdc_sweep_fault_args(&b, out->rerun + n, sizeof out->rerun - n);
        rc = vdc_sweep_faults(be, w, &b, &out->heartbeat, &r);
        out->count[VDC_CC_FAULT_POINTS] = RT_SUCCESS(rc) ? r.checked : 0;
        if (judge(out, "fault sweep", rc, &r))
            goto out_free;
        if (r.warnings != 0) {
            /* INFO-6 is a SHOULD: warnings on a pass; the first sweep
             * that warned explains. */
            out->warnings += r.warnings > 1000000u ? 1000000u : (unsigned)r.warnings;
            if (strncmp(out->message, "warning: ", 9) != 0)
                say(out->message, sizeof out->message, "warning: fault sweep: %s\n(vdcc faults %s TRACE shows them)",
                    r.warning, out->rerun + strlen("faults "));
        }
    }
    out->rerun[0] = '\0';
out_free:
    vdc_workload_free(w);
}

/* ---- hostile images ---------------------------------------------------------- */

bool vdc_conform_is_vci(const VDCACHEBACKEND *be)
{
    return vdc_rel_is_vci(be);
}

typedef struct load_ctx {
    vdc_hostile_set *s;
    bool           (*want)(void *user, unsigned number);
    void            *user;
} load_ctx;

static int keep(void *user, const vdc_hostile_case *c)
{
    load_ctx *l = user;
    vdc_hostile_set *s = l->s;
    s->total++;
    if (l->want != NULL && !l->want(l->user, c->number))
        return 0;
    if (s->n == s->cap) {
        unsigned cap = s->cap ? s->cap * 2 : 64;
        vdc_hostile_case *v = realloc(s->v, (size_t)cap * sizeof *v);
        if (v == NULL)
            return VERR_NO_MEMORY;
        s->v = v;
        s->cap = cap;
    }
    uint8_t *img = malloc(c->size != 0 ? c->size : 1);
    if (img == NULL)
        return VERR_NO_MEMORY;
    if (c->size != 0)
        memcpy(img, c->img, c->size);
    s->v[s->n] = *c;
    s->v[s->n].img = img;
    s->n++;
    return 0;
}

int vdc_hostile_set_load(vdc_hostile_set *s, bool (*want)(void *user, unsigned number), void *user)
{
    load_ctx l = { s, want, user };
    memset(s, 0, sizeof *s);
    int rc = vdc_hostile_each(keep, &l);
    return rc == 0 ? VINF_SUCCESS : VERR_NO_MEMORY;
}

void vdc_hostile_set_free(vdc_hostile_set *s)
{
    for (unsigned i = 0; i < s->n; i++)
        free((void *)s->v[i].img);
    free(s->v);
    memset(s, 0, sizeof *s);
}

void vdc_conform_hostile(void *user, unsigned k, const VDCACHEBACKEND *be, vdc_run_out *out)
{
    const vdc_hostile_set *s = user;
    snprintf(out->phase, sizeof out->phase, "hostile image");
    if (s == NULL || k >= s->n) {
        out->verdict = VDC_V_ERROR;
        say(out->message, sizeof out->message, "no hostile case #%u", k);
        return;
    }
    const vdc_hostile_case *c = &s->v[k];
    vdc_hcheck_opts o = { .heartbeat = &out->heartbeat };
    vdc_hcheck_result r;
    int rc = vdc_hostile_check(be, c, &o, &r);
    if (RT_FAILURE(rc)) {
        out->verdict = VDC_V_ERROR;
        say(out->message, sizeof out->message, "the check could not run (%s): %s", sname(rc), r.first);
        return;
    }
    if (r.fails == 0)
        return;
    out->verdict = VDC_V_FAIL;
    vdc_sweep_clause(r.first, NULL, out->clause, sizeof out->clause);
    char more[48] = "";
    if (r.fails > 1)
        snprintf(more, sizeof more, " (and %u more)", r.fails - 1);
    say(out->message, sizeof out->message,
        "%s%s\nthe image: %s; probe %s, read-write open %s, read-only open %s, data %s (spec/vci-format.md)\n"
        "the same bytes: corpus/hostile/%s.vci",
        r.first, more, c->desc, vdc_hx_name(c->probe), vdc_hx_name(c->open_rw), vdc_hx_name(c->open_ro),
        c->deep == VDC_HX_VALID ? "exactly as stored" : c->deep == VDC_HX_UNCLEAN ? "all misses" : "never foreign bytes",
        c->name);
}
