/*
 * harness/conformance/shrink.c - delta debugging over trace records
 * (`vdcc shrink`).
 *
 * Contract, failure signatures and statuses: shrink.h (VINF_SUCCESS,
 * VERR_INVALID_PARAMETER, VERR_NO_MEMORY, VERR_NOT_FOUND,
 * VERR_GENERAL_FAILURE).  Replays run through vdc_replay
 * (harness/trace/replay.h) in a forked child (harness/core/isolate.h); the candidate is
 * built in the parent with vdc_trace_append, which validates it exactly as
 * the parser validates a file (spec/trace-format.md section 4.1 handle
 * rules), so an invalid candidate is never run.
 */
#include "shrink.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../trace/replay.h"
#include "../core/isolate.h"

const char *vdc_fkind_name(vdc_fkind k)
{
    switch (k) {
    case VDC_F_NONE: return "none";
    case VDC_F_FAIL: return "FAIL";
    case VDC_F_ERROR: return "ERROR";
    case VDC_F_CRASH: return "CRASH";
    case VDC_F_TIMEOUT: return "TIMEOUT";
    }
    return "?";
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- one run in a child ------------------------------------------------- */

typedef struct run_shared {
    volatile uint32_t progress;
    volatile int      done;
    vdc_replay_result r;
} run_shared;

typedef struct run_ctx {
    const vdc_trace      *t;
    const VDCACHEBACKEND *be;
    const char           *scratch;
    run_shared           *sh;
} run_ctx;

static int run_child(void *p)
{
    run_ctx *c = p;
    vdc_replay_opts o = { .backend = c->be, .scratch_dir = c->scratch, .progress = &c->sh->progress };
    vdc_replay_result r;
    memset(&r, 0, sizeof r);
    int rc = vdc_replay(c->t, &o, &r);
    c->sh->r = r;
    c->sh->done = rc == VINF_SUCCESS ? 1 : 2;
    return 0;
}

/* Removes the flat directory made for a posix run. */
static void remove_scratch(const char *dir)
{
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *e;
        char path[4200];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* Appends s to the signature, digits and 0x-hex numbers as '#'. */
static void put_normalised(char *out, size_t cb, const char *s, size_t n)
{
    size_t o = strlen(out);
    for (size_t i = 0; i < n && o + 1 < cb;) {
        if (s[i] == '0' && i + 1 < n && s[i + 1] == 'x') {
            i += 2;
            while (i < n && isxdigit((unsigned char)s[i]))
                i++;
            out[o++] = '#';
        } else if (isdigit((unsigned char)s[i])) {
            while (i < n && isdigit((unsigned char)s[i]))
                i++;
            out[o++] = '#';
        } else {
            out[o++] = s[i++];
        }
    }
    out[o] = '\0';
}

/* The first line of the explanation (after the "call N" line) that is not
 * an expectation: what actually went wrong. */
static void detail_line(const char *msg, char *out, size_t cb)
{
    const char *s = strchr(msg, '\n');
    while (s != NULL) {
        s++;
        const char *e = strchr(s, '\n');
        size_t n = e != NULL ? (size_t)(e - s) : strlen(s);
        const char *p = s;
        while (n > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            n--;
        }
        if (n >= 15 && strncmp(p, "previous calls:", 15) == 0)
            return;
        if (n > 0 && strncmp(p, "expected", 8) != 0) {
            put_normalised(out, cb, p, n > 240 ? 240 : n);
            return;
        }
        s = e;
    }
}

static void make_sig(const vdc_trace *t, vdc_failure *f, const char *what)
{
    const vdc_record *r = f->call >= 1 ? vdc_trace_record(t, f->call - 1) : NULL;
    snprintf(f->sig, sizeof f->sig, "%s %s: ", vdc_fkind_name(f->kind), r != NULL ? vdc_op_name(r->op) : "end");
    if (what != NULL)
        put_normalised(f->sig, sizeof f->sig, what, strlen(what));
    else
        detail_line(f->message, f->sig, sizeof f->sig);
}

static int probe_in(const vdc_trace *t, const vdc_shrink_opts *o, bool posix, vdc_failure *f)
{
    memset(f, 0, sizeof *f);
    run_shared *sh = vdc_iso_shared_new(sizeof *sh);
    if (sh == NULL)
        return VERR_NO_MEMORY;
    char dir[64] = "";
    if (posix) {
        snprintf(dir, sizeof dir, "/tmp/vdcc-shrink.XXXXXX");
        if (mkdtemp(dir) == NULL) {
            vdc_iso_shared_free(sh, sizeof *sh);
            return VERR_GENERAL_FAILURE;
        }
    }
    run_ctx c = { t, o->backend, posix ? dir : NULL, sh };
    vdc_iso_result cr;
    vdc_iso_opts io = { .flags = VDC_ISO_QUIET, .deadline_ms = o->timeout_ms };
    int rc = vdc_iso_run(run_child, &c, &io, &cr);
    if (posix)
        remove_scratch(dir);
    if (rc != VINF_SUCCESS) {
        vdc_iso_shared_free(sh, sizeof *sh);
        return rc;
    }
    f->seconds = cr.seconds;
    char what[64];
    if (cr.end == VDC_ISO_TIMEOUT) {
        f->kind = VDC_F_TIMEOUT;
        f->call = sh->progress;
        snprintf(f->message, sizeof f->message, "timed out after %.1f s at call %u", cr.seconds, f->call);
        make_sig(t, f, "");
    } else if (sh->done == 1) {
        vdc_replay_result *r = &sh->r;
        f->kind = r->outcome == VDC_FAIL ? VDC_F_FAIL : r->outcome == VDC_ERROR ? VDC_F_ERROR : VDC_F_NONE;
        f->call = r->fail_call;
        snprintf(f->message, sizeof f->message, "%s", r->message);
        if (f->kind != VDC_F_NONE)
            make_sig(t, f, NULL);
    } else if (sh->done == 2) {
        f->kind = VDC_F_ERROR;
        f->call = 0;
        snprintf(f->message, sizeof f->message, "the replay could not run: %.1900s", sh->r.message);
        make_sig(t, f, "could not run");
    } else {
        f->kind = VDC_F_CRASH;
        f->call = sh->progress;
        if (cr.end == VDC_ISO_SIGNAL)
            snprintf(what, sizeof what, "signal %d", cr.code);
        else
            snprintf(what, sizeof what, "exit %d without a verdict", cr.code);
        snprintf(f->message, sizeof f->message, "the backend died at call %u: %s", f->call, what);
        /* keep the signal number: it is the kind of crash */
        snprintf(f->sig, sizeof f->sig, "CRASH %s: %s",
                 f->call >= 1 && vdc_trace_record(t, f->call - 1) != NULL
                     ? vdc_op_name(vdc_trace_record(t, f->call - 1)->op) : "end",
                 what);
    }
    vdc_iso_shared_free(sh, sizeof *sh);
    return VINF_SUCCESS;
}

int vdc_failure_probe(const vdc_trace *t, const vdc_shrink_opts *o, vdc_failure *f)
{
    if (t == NULL || o == NULL || o->backend == NULL || o->timeout_ms == 0 || f == NULL)
        return VERR_INVALID_PARAMETER;
    return probe_in(t, o, o->posix, f);
}

/* ---- dependencies -------------------------------------------------------- */

typedef struct deps {
    unsigned n;
    int     *hid;        /* handle index of record i, -1 none */
    bool    *opener;     /* create/open */
    bool    *closer;     /* close */
    bool    *admits;     /* create/open whose status list admits a success */
    long    *open_of;    /* non-opener handle record: its session's opener, -1 none */
    long    *close_of;   /* opener: the close ending its session, -1 none */
    long    *prev_close; /* opener: the handle's last close before it, -1 none */
} deps;

static bool admits_success(const vdc_record *r)
{
    if (r->expect.n == 0)
        return true;
    for (unsigned i = 0; i < r->expect.n; i++) {
        const vdc_alt *a = &r->expect.v[i];
        if (a->kind == VDC_ALT_SUCCESS || a->kind == VDC_ALT_ANY || a->kind == VDC_ALT_HIT
            || (a->kind == VDC_ALT_STATUS && a->status >= 0))
            return true;
    }
    return false;
}

static void deps_free(deps *d)
{
    free(d->hid);
    free(d->opener);
    free(d->closer);
    free(d->admits);
    free(d->open_of);
    free(d->close_of);
    free(d->prev_close);
    memset(d, 0, sizeof *d);
}

static int deps_init(deps *d, const vdc_trace *t)
{
    memset(d, 0, sizeof *d);
    unsigned n = vdc_trace_ncalls(t);
    d->n = n;
    size_t m = n > 0 ? n : 1;
    d->hid = calloc(m, sizeof *d->hid);
    d->opener = calloc(m, sizeof *d->opener);
    d->closer = calloc(m, sizeof *d->closer);
    d->admits = calloc(m, sizeof *d->admits);
    d->open_of = calloc(m, sizeof *d->open_of);
    d->close_of = calloc(m, sizeof *d->close_of);
    d->prev_close = calloc(m, sizeof *d->prev_close);
    if (!d->hid || !d->opener || !d->closer || !d->admits || !d->open_of || !d->close_of || !d->prev_close) {
        deps_free(d);
        return VERR_NO_MEMORY;
    }
    const char *names[VDC_TRACE_MAX_HANDLES];
    long cur_open[VDC_TRACE_MAX_HANDLES], last_close[VDC_TRACE_MAX_HANDLES];
    unsigned nnames = 0;
    for (unsigned i = 0; i < n; i++) {
        const vdc_record *r = vdc_trace_record(t, i);
        d->hid[i] = -1;
        d->open_of[i] = d->close_of[i] = d->prev_close[i] = -1;
        if (r->handle == NULL)
            continue;
        unsigned h = 0;
        while (h < nnames && strcmp(names[h], r->handle) != 0)
            h++;
        if (h == nnames) {
            if (nnames == VDC_TRACE_MAX_HANDLES)
                continue; /* cannot happen in a parsed trace */
            names[nnames] = r->handle;
            cur_open[nnames] = last_close[nnames] = -1;
            nnames++;
        }
        d->hid[i] = (int)h;
        if (r->op == VDC_OP_CREATE || r->op == VDC_OP_OPEN) {
            d->opener[i] = true;
            d->admits[i] = admits_success(r);
            d->prev_close[i] = last_close[h];
            cur_open[h] = d->admits[i] ? (long)i : -1;
        } else {
            d->open_of[i] = cur_open[h];
            if (r->op == VDC_OP_CLOSE) {
                d->closer[i] = true;
                if (cur_open[h] >= 0)
                    d->close_of[cur_open[h]] = (long)i;
                cur_open[h] = -1;
                last_close[h] = (long)i;
            }
        }
    }
    return VINF_SUCCESS;
}

/*
 * Closes keep[] under the handle rules, following the handle states of the
 * candidate itself (so two sessions whose close and reopen both went merge
 * into one): a record on a handle the candidate has closed keeps the opener
 * of its own session; an opener on a handle the candidate has open keeps
 * the handle's last close before it.  Repeats until nothing is added.
 */
static void close_deps(const deps *d, bool *keep)
{
    long open_by[VDC_TRACE_MAX_HANDLES];
    bool changed = true;
    while (changed) {
        changed = false;
        for (unsigned h = 0; h < VDC_TRACE_MAX_HANDLES; h++)
            open_by[h] = -1;
        for (unsigned i = 0; i < d->n; i++) {
            int h = d->hid[i];
            if (!keep[i] || h < 0)
                continue;
            if (d->opener[i]) {
                long c = d->prev_close[i];
                if (open_by[h] >= 0 && c >= 0 && !keep[c]) {
                    keep[c] = true;
                    changed = true;
                }
                open_by[h] = d->admits[i] ? (long)i : -1;
                continue;
            }
            long o = d->open_of[i];
            if (open_by[h] < 0 && o >= 0 && !keep[o]) {
                keep[o] = true;
                changed = true;
            }
            if (d->closer[i])
                open_by[h] = -1;
        }
    }
}

static int build(const vdc_trace *t, const bool *keep, vdc_trace **out)
{
    *out = NULL;
    vdc_trace *c = vdc_trace_new(vdc_trace_name(t));
    if (c == NULL)
        return VERR_NO_MEMORY;
    vdc_trace_set_caps(c, vdc_trace_required_caps(t));
    if (vdc_trace_set_format(c, vdc_trace_format(t)) != VINF_SUCCESS) {
        vdc_trace_free(c);
        return VERR_NO_MEMORY; /* the format came from a parsed trace, so it is well-formed */
    }
    char err[256];
    for (unsigned i = 0; i < vdc_trace_ncalls(t); i++) {
        if (!keep[i])
            continue;
        int rc = vdc_trace_append(c, vdc_trace_record(t, i), err, sizeof err);
        if (rc != VINF_SUCCESS) {
            vdc_trace_free(c);
            return rc;
        }
    }
    *out = c;
    return VINF_SUCCESS;
}

int vdc_shrink_candidate(const vdc_trace *t, bool *keep, vdc_trace **out)
{
    deps d;
    int rc = deps_init(&d, t);
    if (rc != VINF_SUCCESS)
        return rc;
    close_deps(&d, keep);
    deps_free(&d);
    return build(t, keep, out);
}

/* ---- delta debugging ------------------------------------------------------ */

typedef struct shrinker {
    const vdc_trace       *t;
    const vdc_shrink_opts *o;
    vdc_shrink_result     *r;
    deps                   d;
    unsigned              *cur;   /* kept record indices, ascending */
    unsigned               ncur;
    bool                  *keep;
    bool                  *drop;  /* positions of cur to leave out */
    double                 deadline; /* 0: none */
    bool                   timed_out;
} shrinker;

static bool out_of_time(shrinker *s)
{
    if (s->deadline > 0 && now_s() > s->deadline)
        s->timed_out = true;
    return s->timed_out;
}

/* Drops the records of cur after the 1-based call `call` of the trace cur
 * stands for (0: keeps all). */
static void truncate_after(shrinker *s, unsigned call)
{
    if (call >= 1 && call < s->ncur)
        s->ncur = call;
}

/* Tries cur without the positions marked in drop[]: returns 1 when the
 * candidate fails the same way (cur is then replaced), 0 when not, or a
 * failure status. */
static int try_drop(shrinker *s)
{
    unsigned n = s->d.n;
    memset(s->keep, 0, n * sizeof *s->keep);
    for (unsigned i = 0; i < s->ncur; i++)
        if (!s->drop[i])
            s->keep[s->cur[i]] = true;
    close_deps(&s->d, s->keep);
    unsigned kept = 0;
    for (unsigned i = 0; i < n; i++)
        kept += s->keep[i];
    if (kept >= s->ncur)
        return 0; /* the dependencies put everything back */
    vdc_trace *c = NULL;
    int rc = build(s->t, s->keep, &c);
    if (rc == VERR_INVALID_PARAMETER) {
        s->r->invalid++;
        return 0;
    }
    if (rc != VINF_SUCCESS)
        return rc;
    if (s->r->checked) {
        rc = vdc_shrink_consistent(c, NULL, NULL, 0);
        if (rc != VINF_SUCCESS) {
            vdc_trace_free(c);
            if (rc != VERR_INVALID_PARAMETER)
                return rc;
            s->r->invalid++;
            return 0;
        }
    }
    vdc_failure f;
    rc = probe_in(c, s->o, s->r->posix, &f);
    s->r->tests++;
    if (rc != VINF_SUCCESS) {
        vdc_trace_free(c);
        return rc;
    }
    if (f.kind == VDC_F_NONE || strcmp(f.sig, s->r->orig.sig) != 0) {
        vdc_trace_free(c);
        return 0;
    }
    s->ncur = 0;
    for (unsigned i = 0; i < n; i++)
        if (s->keep[i])
            s->cur[s->ncur++] = i;
    truncate_after(s, f.call);
    s->r->final = f;
    vdc_trace_free(s->r->min);
    s->r->min = c;
    if (s->o->progress != NULL)
        s->o->progress(s->o->progress_ctx, s->ncur, s->r->tests);
    return 1;
}

static int try_without(shrinker *s, unsigned from, unsigned len)
{
    for (unsigned i = 0; i < s->ncur; i++)
        s->drop[i] = i >= from && i < from + len;
    return try_drop(s);
}

static int ddmin(shrinker *s)
{
    unsigned gran = 2;
    while (s->ncur >= 2) {
        unsigned chunk = (s->ncur + gran - 1) / gran;
        bool progress = false;
        unsigned from = 0;
        while (from < s->ncur) {
            if (out_of_time(s))
                return VINF_SUCCESS;
            unsigned len = chunk < s->ncur - from ? chunk : s->ncur - from;
            int rc = try_without(s, from, len);
            if (rc < 0)
                return rc;
            if (rc == 1)
                progress = true; /* the next chunk now starts at `from` */
            else
                from += len;
        }
        if (progress) {
            gran = gran > 2 ? gran - 1 : 2;
            continue;
        }
        if (chunk == 1)
            break;
        gran = gran * 2 < s->ncur ? gran * 2 : s->ncur;
    }
    return VINF_SUCCESS;
}

/*
 * Handle sessions resist chunk removal: a session's opener and its close
 * only go together (removed alone, the dependencies put them back).  So
 * after ddmin this pass tries, for each position, (1) at an opener, the
 * whole session: the opener and every record of the handle up to its
 * close; (2) at a close, the close with the handle's next opener, which
 * merges two sessions into one.  Returns 1 when something went, 0 when
 * nothing could, or a failure status.
 */
static int session_pass(shrinker *s)
{
    int any = 0;
    unsigned p = 0;
    while (p < s->ncur) {
        if (out_of_time(s))
            return any;
        unsigned i = s->cur[p];
        int h = s->d.hid[i];
        unsigned marked = 0;
        memset(s->drop, 0, s->ncur * sizeof *s->drop);
        if (h >= 0 && s->d.opener[i]) {
            long end = s->d.close_of[i];
            for (unsigned q = p; q < s->ncur; q++) {
                unsigned j = s->cur[q];
                if (end >= 0 && j > (unsigned long)end)
                    break;
                if (s->d.hid[j] != h)
                    continue;
                if (q != p && s->d.opener[j])
                    break;
                s->drop[q] = true;
                marked++;
            }
        } else if (h >= 0 && vdc_trace_record(s->t, i)->op == VDC_OP_CLOSE) {
            s->drop[p] = true;
            for (unsigned q = p + 1; q < s->ncur; q++) {
                unsigned j = s->cur[q];
                if (s->d.hid[j] != h)
                    continue;
                if (s->d.opener[j]) {
                    s->drop[q] = true;
                    marked = 2;
                }
                break;
            }
        }
        int rc = marked >= 1 && (marked >= 2 || s->d.opener[i]) ? try_drop(s) : 0;
        if (rc < 0)
            return rc;
        if (rc == 1)
            any = 1; /* position p now holds the next record */
        else
            p++;
    }
    return any;
}

int vdc_shrink(const vdc_trace *t, const vdc_shrink_opts *o, vdc_shrink_result *r)
{
    if (t == NULL || o == NULL || o->backend == NULL || o->timeout_ms == 0 || r == NULL)
        return VERR_INVALID_PARAMETER;
    memset(r, 0, sizeof *r);
    double t0 = now_s();
    r->orig_records = vdc_trace_ncalls(t);

    /* How does it fail?  In memory first, unless told otherwise. */
    r->posix = o->posix;
    int rc = probe_in(t, o, r->posix, &r->orig);
    if (rc == VINF_SUCCESS && r->orig.kind == VDC_F_NONE && !r->posix) {
        r->posix = true;
        rc = probe_in(t, o, true, &r->orig);
    }
    if (rc != VINF_SUCCESS)
        return rc;
    if (r->orig.kind == VDC_F_NONE)
        return VERR_NOT_FOUND;

    rc = vdc_shrink_consistent(t, &r->inconsistent_call, r->inconsistent_why, sizeof r->inconsistent_why);
    if (rc == VERR_NO_MEMORY)
        return rc;
    r->checked = rc == VINF_SUCCESS;

    shrinker s = { .t = t, .o = o, .r = r };
    s.deadline = o->budget_ms > 0 ? t0 + (double)o->budget_ms / 1000.0 : 0;
    rc = deps_init(&s.d, t);
    if (rc != VINF_SUCCESS)
        return rc;
    unsigned n = s.d.n;
    s.cur = calloc(n > 0 ? n : 1, sizeof *s.cur);
    s.keep = calloc(n > 0 ? n : 1, sizeof *s.keep);
    s.drop = calloc(n > 0 ? n : 1, sizeof *s.drop);
    if (s.cur == NULL || s.keep == NULL || s.drop == NULL) {
        rc = VERR_NO_MEMORY;
        goto out_free;
    }
    for (unsigned i = 0; i < n; i++)
        s.cur[i] = i;
    s.ncur = n;
    r->final = r->orig;
    truncate_after(&s, r->orig.call);

    /* The truncated trace is the first candidate (and the answer when
     * nothing else can go). */
    memset(s.keep, 0, n * sizeof *s.keep);
    for (unsigned i = 0; i < s.ncur; i++)
        s.keep[s.cur[i]] = true;
    rc = build(t, s.keep, &r->min);
    if (rc != VINF_SUCCESS)
        goto out_free;
    rc = ddmin(&s);
    while (rc == VINF_SUCCESS && !s.timed_out) {
        int k = session_pass(&s);
        if (k <= 0) {
            rc = k < 0 ? k : VINF_SUCCESS;
            break;
        }
        rc = ddmin(&s);
    }
    r->complete = rc == VINF_SUCCESS && !s.timed_out;

out_free:
    free(s.cur);
    free(s.keep);
    free(s.drop);
    deps_free(&s.d);
    if (rc != VINF_SUCCESS) {
        vdc_trace_free(r->min);
        r->min = NULL;
    } else {
        r->final_records = vdc_trace_ncalls(r->min);
    }
    r->seconds = now_s() - t0;
    return rc;
}
