/*
 * harness/reliability/crash.c - the crash test (crash.h): the workload on a
 * recording fs, then every enumerated crash state opened, read and judged.
 *
 * Contract: crash.h (the rule judged is stated there).  Statuses:
 * VINF_SUCCESS, VERR_INVALID_PARAMETER, VERR_NO_MEMORY, VERR_TOO_MUCH_DATA,
 * VERR_GENERAL_FAILURE (fork).  Implements the checks behind
 * spec/contract.md CRASH-1, OPEN-2, OPEN-3, HOST-1, HOST-3, and the
 * FLUSH-2 quality check (warnings, crash.h).
 */
#include "crash.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../host/host.h"
#include "../host/ioctx.h"
#include "../host/status.h"
#include "../host/vd.h"
#include "fs_fault.h"
#include "../core/isolate.h"
#include "model.h"

#define POST_BLOCK    4096u

/* Byte ranges, ascending and disjoint: the hits of one read-only pass. */
typedef struct hitset {
    struct hrange { uint64_t off, end; } *v;
    size_t n, cap;
    bool   oom;     /* a range could not be kept: the set is incomplete */
} hitset;

typedef struct cchk {
    const vdc_crashtest_opts *o;
    vdc_crashtest_result     *r;
    const vdc_wl_result      *wl;
    vdc_model                *oracle;    /* completed calls applied */
    size_t                    ci;        /* next call to apply */
    uint64_t                  created_at;/* point from which the image must open */
    bool                      deleted;   /* a completed close deleted it */
    uint64_t                  state_no;
    uint64_t                  logged;
    bool                      saved;
    uint8_t                  *fbuf;      /* file bytes for digests */
    uint64_t                  fcap;
    uint8_t                  *orig;      /* the state's image before any open */
    uint64_t                  orig_size;
    uint64_t                  post_off;
    uint8_t                   post[POST_BLOCK];
    unsigned                  rflags;    /* VDC_RC_* for reads of crash states */
    vdc_rc_stats              rst;
    char                      msg[1024]; /* this state's first violation */
    uint64_t                  viol;      /* this state's violations */
    /* FLUSH-2 (crash.h): the flush points, and what the current one's
     * states served. */
    const uint64_t           *fpts;      /* ascending */
    const size_t             *fcall;     /* fpts[i] follows wl->calls[fcall[i]] */
    size_t                    nfpts, fpi;
    bool                      at_flush;  /* the state being checked is at a flush point */
    hitset                    hits;      /* its read-only hits */
    bool                      ro_failed; /* its read-only open failed */
    uint64_t                  fpoint;    /* the flush point the fields below describe */
    hitset                    ref;       /* the all-applied state's hits */
    bool                      ref_set;
    hitset                    none;      /* the none state's, kept until ref is known */
    bool                      none_set, none_failed;
    vdc_crash_state           none_cs;
    uint64_t                  none_no;
    hitset                    cref;      /* the hits after a clean close right after its flush */
    bool                      cref_set;
    bool                      lossy;     /* this point is counted as losing data */
    uint64_t                  wlogged;   /* FLUSH-2 warnings logged */
} cchk;

static void hits_add(void *user, uint64_t off, uint64_t len);

static const char *sname(int rc)
{
    const char *n = vdc_status_name(rc);
    return n != NULL ? n : "?";
}

static void sviol(cchk *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sviol(cchk *c, const char *fmt, ...)
{
    c->viol++;
    if (c->msg[0] == '\0') {
        va_list va;
        va_start(va, fmt);
        vsnprintf(c->msg, sizeof c->msg, fmt, va);
        va_end(va);
    }
}

static void apply_call(cchk *c, const vdc_wl_call *call)
{
    const uint8_t *data = call->data_at != UINT64_MAX ? c->wl->arena + call->data_at : NULL;
    switch (call->kind) {
    case VDC_WOP_WRITE:
        if (data == NULL || call->refused)
            break; /* refused as the trace expects: it changed nothing */
        if (RT_SUCCESS(call->rc))
            (void)vdc_model_write(c->oracle, call->off, data, call->done);
        else
            (void)vdc_model_maybe(c->oracle, call->off, data, call->len);
        break;
    case VDC_WOP_DISCARD:
        if (RT_SUCCESS(call->rc))
            vdc_model_discard(c->oracle, call->off, call->done < call->len ? call->done : call->len);
        break;
    case VDC_WOP_CREATE:
        if (RT_FAILURE(call->rc))
            break; /* the old file (if any) and its data may remain */
        vdc_model_reset(c->oracle);
        c->deleted = false;
        break;
    case VDC_WOP_FLUSH:
        if (RT_SUCCESS(call->rc))
            vdc_model_commit_discards(c->oracle);
        break;
    case VDC_WOP_CLOSE:
        if (call->len == 1 && RT_SUCCESS(call->rc)) {
            vdc_model_reset(c->oracle);
            c->deleted = true;
        }
        else if (call->len != 1 && RT_SUCCESS(call->rc))
            vdc_model_commit_discards(c->oracle);
        break;
    default:
        break;
    }
}

/* Describes the calls around point k into buf. */
static void describe_point(const cchk *c, uint64_t k, char *buf, size_t cb)
{
    const vdc_wl_call *in = NULL, *last = NULL;
    if (c->ci < c->wl->ncalls && c->wl->calls[c->ci].ev_start < k)
        in = &c->wl->calls[c->ci];
    if (c->ci > 0)
        last = &c->wl->calls[c->ci - 1];
    const vdc_wl_call *x = in != NULL ? in : last;
    if (x == NULL) {
        snprintf(buf, cb, "before the first call");
        return;
    }
    snprintf(buf, cb, "%s op %u (%s [%llu, +%llu), storage events %llu..%llu)",
             in != NULL ? "during" : "after", x->op + 1, vdc_wop_name(x->kind), (unsigned long long)x->off,
             (unsigned long long)x->len, (unsigned long long)x->ev_start, (unsigned long long)x->ev_end);
}

/* Reads every checked range of an open instance and judges the hits. */
static void read_ranges(cchk *c, void *bd, vdc_host *host, const vdc_model_alt *inflight, const char *when)
{
    char msg[768];
    uint64_t v = 0;
    msg[0] = '\0';
    vdc_wl_read_all(c->o->be, bd, host, c->o->w, c->oracle, inflight, c->rflags, &v, msg, sizeof msg, &c->rst);
    if (v != 0) {
        c->viol += v - 1;
        sviol(c, "%s: %s", when, msg);
    }
}

/* The post-recovery write loop stops at the first protocol break. */
static vdc_vd_next post_answer(void *user, const vdc_vd_io *io, uint8_t *data)
{
    (void)user;
    (void)data;
    return io->rule != VDC_VD_RULE_NONE ? VDC_VD_ABORT : VDC_VD_NEXT;
}

/* The post-recovery block: written, then read back as written or missed. */
static void post_write(cchk *c, void *bd, vdc_host *host)
{
    vdc_vd vd = { c->o->be, bd, host, NULL, NULL, NULL };
    vdc_vd_loop_opts o = { .poison = -1, .answer = post_answer };
    vdc_vd_loop l = vdc_vd_write_loop(&vd, &o, c->post_off, c->post, POST_BLOCK);
    const vdc_vd_io *io = &l.last;
    if (l.end == VDC_VD_END_FAILED)
        sviol(c, "WRITE-4: after recovery, write(%llu, %zu) returned %d (%s)", (unsigned long long)io->off, io->asked,
              io->rc, sname(io->rc));
    else if (l.end != VDC_VD_END_DONE)
        sviol(c, "WRITE-1: after recovery, write(%llu, %zu) reports %zu bytes and took %zu", (unsigned long long)io->off,
              io->asked, io->count == VDC_VD_SENTINEL ? 0 : io->count, io->moved);
}

static void read_post(cchk *c, void *bd, vdc_host *host, const char *when)
{
    vdc_model_alt alt = { c->post_off, POST_BLOCK, c->post };
    char msg[768];
    uint64_t v = 0;
    msg[0] = '\0';
    vdc_wl_read_check(c->o->be, bd, host, c->post_off, POST_BLOCK, c->oracle, &alt, c->rflags, 0, &v, msg,
                      sizeof msg, &c->rst);
    if (v != 0) {
        c->viol += v - 1;
        sviol(c, "%s (block written after recovery): %s", when, msg);
    }
}

static uint64_t fnv(const uint8_t *p, uint64_t cb)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint64_t i = 0; i < cb; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h ^ cb;
}

/* Digest of the image file in fs; false when it does not exist.  The
 * bytes are read into c->fbuf (grown as needed, kept across states). */
static bool file_digest(cchk *c, vdc_fs *fs, const char *name, uint64_t *digest)
{
    vdc_file *f = NULL;
    uint64_t cb = 0;
    bool ok = false;
    if (RT_FAILURE(fs->ops->open(fs, name, RTFILE_O_READ | RTFILE_O_DENY_NONE | RTFILE_O_OPEN, &f)))
        return false;
    if (RT_SUCCESS(fs->ops->get_size(f, &cb)) && cb <= VDC_CRASH_MAX_FILE) {
        if (cb > c->fcap) {
            uint8_t *nb = realloc(c->fbuf, (size_t)cb);
            if (nb != NULL) {
                c->fbuf = nb;
                c->fcap = cb;
            }
        }
        if (cb <= c->fcap && (cb == 0 || RT_SUCCESS(fs->ops->read(f, 0, c->fbuf, (size_t)cb)))) {
            *digest = fnv(c->fbuf, cb);
            ok = true;
        }
    }
    fs->ops->close(f);
    return ok;
}

static void snapshot(cchk *c, vdc_fs *fs, const char *name)
{
    vdc_file *f = NULL;
    uint64_t cb = 0;
    free(c->orig);
    c->orig = NULL;
    c->orig_size = 0;
    if (RT_FAILURE(fs->ops->open(fs, name, RTFILE_O_READ | RTFILE_O_DENY_NONE | RTFILE_O_OPEN, &f)))
        return;
    if (RT_SUCCESS(fs->ops->get_size(f, &cb)) && cb <= VDC_CRASH_MAX_FILE) {
        c->orig = malloc(cb != 0 ? (size_t)cb : 1);
        if (c->orig != NULL && cb != 0 && RT_FAILURE(fs->ops->read(f, 0, c->orig, (size_t)cb))) {
            free(c->orig);
            c->orig = NULL;
        }
        c->orig_size = c->orig != NULL ? cb : 0;
    }
    fs->ops->close(f);
}

static void check_storages(cchk *c, vdc_host *host, const char *when)
{
    unsigned n = vdc_host_get_stats(host)->open_storages;
    if (n != 0)
        sviol(c, "HOST-3: %u storage handle(s) open after %s", n, when);
}

/* One crash state: the checks listed in crash.h. */
static void check_state(cchk *c, const vdc_crash_state *cs, vdc_fs *fs)
{
    const vdc_crashtest_opts *o = c->o;
    const char *name = o->w->name;
    vdc_model_alt inflight = { 0, 0, NULL };
    const vdc_model_alt *pin = NULL;
    uint64_t d0 = 0, d1 = 0;
    void *bd = NULL;
    int rc;

    if (c->ci < c->wl->ncalls) {
        const vdc_wl_call *in = &c->wl->calls[c->ci];
        if (in->ev_start < cs->point && in->kind == VDC_WOP_WRITE && in->data_at != UINT64_MAX) {
            inflight = (vdc_model_alt){ in->off, in->len, c->wl->arena + in->data_at };
            pin = &inflight;
        }
    }
    bool existed = file_digest(c, fs, name, &d0);
    /* An image that exists after its create returned must open (VCI's
     * promise); one a close deleted may be gone. */
    bool must_open = o->require_open && cs->point >= c->created_at && !c->deleted && existed;
    if (o->save_path != NULL && !c->saved)
        snapshot(c, fs, name);
    vdc_host *host = vdc_host_new(fs);
    if (host == NULL) {
        sviol(c, "out of memory");
        return;
    }
    PVDINTERFACE disk = vdc_host_disk_ifs(host), img = vdc_host_image_ifs(host);

    /* 1. read-only (at a flush point, its hits are kept for FLUSH-2) */
    rc = o->be->pfnOpen(name, VD_OPEN_FLAGS_READONLY, disk, img, &bd);
    c->ro_failed = RT_FAILURE(rc);
    if (RT_SUCCESS(rc)) {
        c->r->open_ok_ro++;
        if (c->at_flush) {
            c->rst.on_hit = hits_add;
            c->rst.hit_user = &c->hits;
        }
        read_ranges(c, bd, host, pin, "read-only open");
        c->rst.on_hit = NULL;
        rc = o->be->pfnClose(bd, false);
        if (RT_FAILURE(rc))
            sviol(c, "CLOSE-1: close of the read-only instance returned %d (%s)", rc, sname(rc));
        check_storages(c, host, "the read-only close");
        if (existed && (!file_digest(c, fs, name, &d1) || d1 != d0))
            sviol(c, "OPEN-3: a read-only open and close changed the file");
    } else {
        c->r->open_failed_ro++;
        check_storages(c, host, "a failed read-only open");
        if (must_open)
            sviol(c, "CRASH-1: the read-only open failed with %d (%s)", rc, sname(rc));
    }

    /* 2. read-write, recovery, deep check, read-only again */
    bd = NULL;
    rc = o->be->pfnOpen(name, VD_OPEN_FLAGS_NORMAL, disk, img, &bd);
    if (RT_SUCCESS(rc)) {
        c->r->open_ok_rw++;
        read_ranges(c, bd, host, pin, "read-write open");
        post_write(c, bd, host);
        read_post(c, bd, host, "read-write open");
        rc = o->be->pfnClose(bd, false);
        if (RT_FAILURE(rc))
            sviol(c, "CLOSE-1: close after recovery returned %d (%s)", rc, sname(rc));
        check_storages(c, host, "the read-write close");
        if (o->deep_check != NULL) {
            char dmsg[512];
            dmsg[0] = '\0';
            rc = o->deep_check(o->deep_user, fs, name, dmsg, sizeof dmsg);
            if (RT_FAILURE(rc))
                sviol(c, "VCI-1: after recovery and close the deep check rejects the image: %s", dmsg);
        }
        bd = NULL;
        rc = o->be->pfnOpen(name, VD_OPEN_FLAGS_READONLY, disk, img, &bd);
        if (RT_SUCCESS(rc)) {
            read_ranges(c, bd, host, pin, "reopen after recovery");
            read_post(c, bd, host, "reopen after recovery");
            (void)o->be->pfnClose(bd, false);
            check_storages(c, host, "the last close");
        } else {
            sviol(c, "CLOSE-3/OPEN-1: the image closed after recovery does not reopen: %d (%s)", rc, sname(rc));
            check_storages(c, host, "a failed reopen");
        }
    } else {
        c->r->open_failed_rw++;
        check_storages(c, host, "a failed read-write open");
        if (must_open)
            sviol(c, "CRASH-1: the read-write open failed with %d (%s)", rc, sname(rc));
    }

    uint64_t misuse = vdc_host_get_stats(host)->misuse;
    if (misuse != 0)
        sviol(c, "HOST-1: %llu misuse(s) of the host; log:\n%.500s", (unsigned long long)misuse, vdc_host_log(host));
    vdc_host_free(host);
}

/* ---- FLUSH-2 --------------------------------------------------------------- */

/* vdc_rc_stats.on_hit: adds [off, off + len) to the hitset user. */
static void hits_add(void *user, uint64_t off, uint64_t len)
{
    hitset *h = user;
    uint64_t end = off + len;
    if (len == 0 || end < off)
        return;
    if (h->n > 0 && off <= h->v[h->n - 1].end && off >= h->v[h->n - 1].off) {
        if (end > h->v[h->n - 1].end)
            h->v[h->n - 1].end = end;
        return;
    }
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        struct hrange *v = realloc(h->v, cap * sizeof *v);
        if (v == NULL) {
            h->oom = true;
            return;
        }
        h->v = v;
        h->cap = cap;
    }
    h->v[h->n].off = off;
    h->v[h->n++].end = end;
}

static void hits_swap(hitset *a, hitset *b)
{
    hitset t = *a;
    *a = *b;
    *b = t;
}

/* Bytes of r that s lacks (both ascending); the first such range in
 * *first_off / *first_len (0 when none). */
static uint64_t hits_lost(const hitset *r, const hitset *s, uint64_t *first_off, uint64_t *first_len)
{
    uint64_t lost = 0;
    size_t j = 0;
    *first_off = *first_len = 0;
    for (size_t i = 0; i < r->n; i++) {
        uint64_t a = r->v[i].off, b = r->v[i].end;
        while (a < b) {
            while (j < s->n && s->v[j].end <= a)
                j++;
            if (j < s->n && s->v[j].off <= a) {
                a = s->v[j].end < b ? s->v[j].end : b; /* covered */
                continue;
            }
            uint64_t gap = j < s->n && s->v[j].off < b ? s->v[j].off : b;
            if (*first_len == 0) {
                *first_off = a;
                *first_len = gap - a;
            }
            lost += gap - a;
            a = gap;
        }
    }
    return lost;
}

/* Whether crash point k is a flush point (visited in ascending order). */
static bool flush_point(cchk *c, uint64_t k)
{
    while (c->fpi < c->nfpts && c->fpts[c->fpi] < k)
        c->fpi++;
    return c->fpi < c->nfpts && c->fpts[c->fpi] == k;
}

/*
 * FLUSH-2's second reference (crash.h): the hits of the image that a clean
 * close right after the current flush point's flush leaves.  The
 * workload's ops up to and including that flush run again on fresh
 * storage, the instance is closed, and the image is opened read-only and
 * read back.  Not set with an injected fault (the rerun would not fail the
 * same way) or when the rerun fails.  A lie in that image is a violation
 * of the state being checked (READ-1; nothing else would see it).
 */
static void close_ref(cchk *c)
{
    c->cref.n = 0;
    c->cref.oom = false;
    c->cref_set = false;
    if (c->o->fault_nth != 0 || c->fpi >= c->nfpts)
        return;
    const vdc_wl_call *fl = &c->wl->calls[c->fcall[c->fpi]];
    vdc_workload pw = *c->o->w;
    pw.n = (size_t)fl->op + 1 < pw.n ? (size_t)fl->op + 1 : pw.n;
    vdc_wl_result res;
    memset(&res, 0, sizeof res);
    vdc_fs *mem = vdc_fs_mem_new((uint64_t)1 << 30, 0);
    if (mem == NULL)
        return;
    vdc_wl_opts wo = { .be = c->o->be, .fs = mem, .heartbeat = c->o->heartbeat };
    int rc = vdc_wl_run(&pw, &wo, &res);
    if (RT_FAILURE(rc) || res.violations != 0 || res.model == NULL)
        goto out_free_run;
    vdc_host *host = vdc_host_new(mem);
    if (host == NULL)
        goto out_free_run;
    void *bd = NULL;
    rc = c->o->be->pfnOpen(pw.name, VD_OPEN_FLAGS_READONLY, vdc_host_disk_ifs(host), vdc_host_image_ifs(host),
                           &bd);
    if (RT_SUCCESS(rc)) {
        char msg[512];
        uint64_t v = 0;
        msg[0] = '\0';
        vdc_rc_stats st = { .scratch = c->rst.scratch, .on_hit = hits_add, .hit_user = &c->cref };
        vdc_wl_read_all(c->o->be, bd, host, &pw, res.model, NULL, VDC_RC_TOLERATE, &v, msg, sizeof msg, &st);
        (void)c->o->be->pfnClose(bd, false);
        if (v != 0)
            sviol(c, "READ-1: the image closed cleanly right after op %u (flush), reopened read-only: %s",
                  fl->op + 1, msg);
        else
            c->cref_set = true;
    }
    vdc_host_free(host);
out_free_run:
    vdc_wl_result_free(&res);
    vdc_fs_destroy(mem);
}

/* Judges state `no` of the current flush point (its hits s, failed: its
 * read-only open failed) against both references: the all-applied state's
 * hits and those after a clean close right after the flush. */
static void flush2_judge(cchk *c, const vdc_crash_state *cs, uint64_t no, const hitset *s, bool failed)
{
    uint64_t off = 0, len = 0, lost = 0;
    const char *against = "the state with every pending write applied";
    if (s->oom)
        return;
    if (c->ref.n != 0 && !c->ref.oom)
        lost = hits_lost(&c->ref, s, &off, &len);
    if (c->cref_set && c->cref.n != 0 && !c->cref.oom) {
        uint64_t off2, len2, lost2 = hits_lost(&c->cref, s, &off2, &len2);
        if (lost2 > lost) {
            lost = lost2;
            off = off2;
            len = len2;
            against = "the image a clean close right after the flush leaves";
        }
    }
    if (lost == 0)
        return;
    c->r->flush_loss_states++;
    if (!c->lossy) {
        c->lossy = true;
        c->r->flush_lossy++;
    }
    char where[160], msg[1024];
    const vdc_wl_call *fl = c->fpi < c->nfpts ? &c->wl->calls[c->fcall[c->fpi]] : NULL;
    if (fl != NULL)
        snprintf(where, sizeof where, "right after op %u (flush, storage events %llu..%llu)", fl->op + 1,
                 (unsigned long long)fl->ev_start, (unsigned long long)fl->ev_end);
    else
        describe_point(c, cs->point, where, sizeof where);
    if (failed)
        snprintf(msg, sizeof msg,
                 "FLUSH-2: state %llu: point %llu %s, %s state (%u pending): the read-only open fails, while "
                 "%s serves %llu byte(s) of hits (first [%llu, +%llu))",
                 (unsigned long long)no, (unsigned long long)cs->point, where, vdc_crash_kind_name(cs->kind),
                 cs->pending, against, (unsigned long long)lost, (unsigned long long)off, (unsigned long long)len);
    else
        snprintf(msg, sizeof msg,
                 "FLUSH-2: state %llu: point %llu %s, %s state (%u pending): [%llu, +%llu) misses here but hits "
                 "in %s (%llu byte(s) lost in all)",
                 (unsigned long long)no, (unsigned long long)cs->point, where, vdc_crash_kind_name(cs->kind),
                 cs->pending, (unsigned long long)off, (unsigned long long)len, against, (unsigned long long)lost);
    if (c->r->flush_first[0] == '\0')
        snprintf(c->r->flush_first, sizeof c->r->flush_first, "%s", msg);
    unsigned max = c->o->max_logged != 0 ? c->o->max_logged : 10;
    if (c->o->log != NULL && c->wlogged++ < max)
        fprintf(c->o->log, "warning: %s\n", msg);
}

/* After checking state `no` at a flush point: the none state waits for the
 * all-applied one (visited next unless identical, crash.h); every other
 * state is judged at once. */
static void flush2_state(cchk *c, const vdc_crash_state *cs, uint64_t no)
{
    if (c->fpoint != cs->point) {
        c->fpoint = cs->point;
        c->ref_set = c->none_set = c->lossy = false;
        close_ref(c);
    }
    switch (cs->kind) {
    case VDC_CRASH_NONE:
        hits_swap(&c->none, &c->hits);
        c->none_set = true;
        c->none_failed = c->ro_failed;
        c->none_cs = *cs;
        c->none_no = no;
        c->r->flush_points++;
        break;
    case VDC_CRASH_ALL:
        hits_swap(&c->ref, &c->hits);
        c->ref_set = true;
        if (c->none_set)
            flush2_judge(c, &c->none_cs, c->none_no, &c->none, c->none_failed);
        break;
    default:
        if (!c->ref_set) {
            if (!c->none_set)
                return; /* a resumed child: this point's first states were not checked here */
            /* No all-applied state was visited: it was identical to none. */
            hits_swap(&c->ref, &c->none);
            c->ref_set = true;
        }
        flush2_judge(c, cs, no, &c->hits, c->ro_failed);
        break;
    }
}

static void save_image(cchk *c)
{
    if (c->o->save_path == NULL || c->saved || c->orig == NULL)
        return;
    FILE *f = fopen(c->o->save_path, "wb");
    if (f == NULL)
        return;
    if (c->orig_size != 0)
        fwrite(c->orig, 1, (size_t)c->orig_size, f);
    if (fclose(f) == 0)
        c->saved = true;
}

static int visit(void *user, const vdc_crash_state *cs, vdc_fs *fs)
{
    cchk *c = user;
    uint64_t no = c->state_no++;

    while (c->ci < c->wl->ncalls && c->wl->calls[c->ci].ev_end <= cs->point)
        apply_call(c, &c->wl->calls[c->ci++]);
    if (c->o->heartbeat != NULL)
        (*c->o->heartbeat)++;
    if (no < c->o->skip_states)
        return 0;
    if (c->o->progress != NULL)
        *c->o->progress = no + 1;
    c->r->checked++;
    c->msg[0] = '\0';
    c->viol = 0;
    for (unsigned i = 0; i < POST_BLOCK; i++)
        c->post[i] = vdc_wl_byte(0xC0FFEEull ^ cs->point ^ ((uint64_t)no << 20), i);
    c->at_flush = flush_point(c, cs->point);
    c->hits.n = 0;
    c->hits.oom = false;
    check_state(c, cs, fs);
    if (c->at_flush)
        flush2_state(c, cs, no);
    if (c->viol != 0) {
        char where[256];
        c->r->violations += c->viol;
        describe_point(c, cs->point, where, sizeof where);
        if (c->r->first[0] == '\0') {
            snprintf(c->r->first, sizeof c->r->first, "state %llu: point %llu %s, %s state (event %lld, %u sector(s) kept, %u pending): %s",
                     (unsigned long long)no, (unsigned long long)cs->point, where, vdc_crash_kind_name(cs->kind),
                     cs->event == UINT64_MAX ? -1LL : (long long)cs->event, cs->sectors, cs->pending, c->msg);
            save_image(c);
        }
        unsigned max = c->o->max_logged != 0 ? c->o->max_logged : 10;
        if (c->o->log != NULL && c->logged++ < max)
            fprintf(c->o->log, "violation: state %llu: point %llu %s, %s state (event %lld, %u sector(s), %u pending): %s\n",
                    (unsigned long long)no, (unsigned long long)cs->point, where, vdc_crash_kind_name(cs->kind),
                    cs->event == UINT64_MAX ? -1LL : (long long)cs->event, cs->sectors, cs->pending, c->msg);
    }
    return 0;
}

/* The flush points of a workload run (crash.h): the point after every
 * successful flush, at most max (0: no bound) of them spread evenly, in
 * *out, and the index of each one's flush call in *calls (both owned by
 * the caller; NULL when there are none).  VINF_SUCCESS or VERR_NO_MEMORY. */
static int flush_points(const vdc_wl_result *wl, uint64_t max, uint64_t **out, size_t **calls, size_t *n)
{
    size_t total = 0, my = 0;
    *out = NULL;
    *calls = NULL;
    *n = 0;
    for (size_t i = 0; i < wl->ncalls; i++)
        total += wl->calls[i].kind == VDC_WOP_FLUSH && RT_SUCCESS(wl->calls[i].rc) && !wl->calls[i].refused;
    if (total == 0)
        return VINF_SUCCESS;
    uint64_t *v = malloc(total * sizeof *v);
    size_t *ci = malloc(total * sizeof *ci);
    if (v == NULL || ci == NULL) {
        free(v);
        free(ci);
        return VERR_NO_MEMORY;
    }
    for (size_t i = 0; i < wl->ncalls; i++) {
        const vdc_wl_call *call = &wl->calls[i];
        if (call->kind != VDC_WOP_FLUSH || RT_FAILURE(call->rc) || call->refused)
            continue;
        uint64_t k = my++;
        if (max != 0 && total > max && (k * max) / total == ((k + 1) * max) / total)
            continue; /* not among the evenly spread sample */
        ci[*n] = i;
        v[(*n)++] = call->ev_end;
    }
    *out = v;
    *calls = ci;
    return VINF_SUCCESS;
}

/* Ends the workload once the recorder has overflowed: its states could
 * not be enumerated anyway (VERR_TOO_MUCH_DATA). */
static bool rec_overflowed(void *user)
{
    vdc_crash_rec_stats st;
    vdc_fs_crash_rec_stats(user, &st);
    return st.overflow;
}

int vdc_crashtest_run(const vdc_crashtest_opts *o, vdc_crashtest_result *r)
{
    vdc_wl_result wl;
    vdc_crash_enum_stats est;
    vdc_crash_rec_stats rst;
    vdc_fs *fault = NULL;
    cchk c;
    int rc;

    if (r == NULL)
        return VERR_INVALID_PARAMETER;
    memset(r, 0, sizeof *r);
    memset(&wl, 0, sizeof wl);
    if (o == NULL || o->be == NULL || o->w == NULL)
        return VERR_INVALID_PARAMETER;

    vdc_fs *mem = vdc_fs_mem_new((uint64_t)1 << 30, 0);
    if (mem == NULL)
        return VERR_NO_MEMORY;
    vdc_fs *rec = vdc_fs_crash_new(mem);
    if (rec == NULL) {
        rc = VERR_NO_MEMORY;
        goto out_destroy_mem;
    }
    vdc_fs *top = rec;
    if (o->fault_nth != 0) {
        fault = vdc_fs_fault_new(rec);
        if (fault == NULL) {
            rc = VERR_NO_MEMORY;
            goto out_free_wl;
        }
        rc = vdc_fs_fault_arm(fault, (vdc_fault_kind)o->fault_kind, o->fault_nth, o->fault_status, o->fault_flags);
        if (RT_FAILURE(rc))
            goto out_free_wl;
        top = fault;
    }
    vdc_wl_opts wo = { .be = o->be, .fs = top, .rec = rec, .keep_calls = true, .heartbeat = o->heartbeat,
                       .tolerate_errors = fault != NULL, .stop = rec_overflowed, .stop_user = rec };
    rc = vdc_wl_run(o->w, &wo, &wl);
    vdc_fs_destroy(fault);
    fault = NULL;
    if (RT_SUCCESS(rc) && wl.stopped)
        rc = VERR_TOO_MUCH_DATA;
    if (RT_FAILURE(rc))
        goto out_free_wl;
    r->workload_calls = wl.total_calls;
    r->workload_violations = wl.violations;
    if (wl.violations != 0) {
        snprintf(r->first, sizeof r->first, "the workload itself (no crash): %s", wl.first);
        if (o->log != NULL)
            fprintf(o->log, "violation: workload: %s\n", wl.first);
    }
    vdc_fs_crash_rec_stats(rec, &rst);
    r->events = vdc_fs_crash_nevents(rec);
    r->write_points = rst.writes;
    r->flushes = rst.flushes;

    memset(&c, 0, sizeof c);
    c.o = o;
    c.r = r;
    c.wl = &wl;
    c.oracle = vdc_model_new();
    if (c.oracle == NULL) {
        rc = VERR_NO_MEMORY;
        goto out_free_wl;
    }
    c.created_at = UINT64_MAX;
    for (size_t i = 0; i < wl.ncalls; i++) {
        if (wl.calls[i].kind == VDC_WOP_CREATE && RT_SUCCESS(wl.calls[i].rc)) {
            c.created_at = wl.calls[i].ev_end;
            break;
        }
    }
    c.rst.scratch = malloc(VDC_RC_SCRATCH);
    if (c.rst.scratch == NULL) {
        vdc_model_free(c.oracle);
        rc = VERR_NO_MEMORY;
        goto out_free_wl;
    }
    c.rflags = VDC_RC_AFTER_CRASH | (o->require_open ? 0 : VDC_RC_TOLERATE);
    c.post_off = ((o->w->span + POST_BLOCK - 1) / POST_BLOCK + 1) * POST_BLOCK;
    c.fpoint = UINT64_MAX;
    vdc_crash_opts copts = o->crash;
    uint64_t *fpts = NULL;
    size_t *fcall = NULL;
    if (!o->no_flush_check) {
        rc = flush_points(&wl, o->crash.max_points, &fpts, &fcall, &c.nfpts);
        if (RT_FAILURE(rc)) {
            vdc_model_free(c.oracle);
            free(c.rst.scratch);
            goto out_free_wl;
        }
        c.fpts = fpts;
        c.fcall = fcall;
        copts.extra = fpts;
        copts.nextra = c.nfpts;
    }
    rc = vdc_crash_enumerate(rec, &copts, visit, &c, &est);
    free(fpts);
    free(fcall);
    free(c.hits.v);
    free(c.ref.v);
    free(c.none.v);
    free(c.cref.v);
    r->hits = c.rst.hits;
    r->misses = c.rst.misses;
    r->read_errors = c.rst.errors;
    r->points = est.points;
    r->states = est.states;
    r->duplicates = est.duplicates;
    vdc_model_free(c.oracle);
    free(c.rst.scratch);
    free(c.fbuf);
    free(c.orig);
out_free_wl:
    vdc_fs_destroy(fault);
    vdc_wl_result_free(&wl);
    vdc_fs_destroy(rec);
out_destroy_mem:
    vdc_fs_destroy(mem);
    return rc;
}

/* ---- isolation ----------------------------------------------------------- */

typedef struct iso_job {
    const vdc_crashtest_opts *o;
    vdc_crashtest_result     *r; /* the parent's sum */
} iso_job;

/* In the child: the run from state skip on. */
static int iso_work(void *user, uint64_t skip, vdc_iso_progress *pr, void *result)
{
    iso_job *j = user;
    vdc_crashtest_opts opts = *j->o;
    opts.skip_states = skip;
    opts.progress = &pr->progress;
    opts.heartbeat = &pr->heartbeat;
    opts.save_path = j->r->violations == 0 ? j->o->save_path : NULL;
    return vdc_crashtest_run(&opts, result);
}

static void iso_merge(void *user, const void *result, bool first)
{
    iso_job *j = user;
    vdc_crashtest_result *r = j->r;
    const vdc_crashtest_result *cr = result;
    if (first) {
        r->events = cr->events;
        r->write_points = cr->write_points;
        r->flushes = cr->flushes;
        r->workload_calls = cr->workload_calls;
        r->workload_violations = cr->workload_violations;
    }
    if (cr->points > r->points)
        r->points = cr->points;
    if (cr->states > r->states)
        r->states = cr->states;
    if (cr->duplicates > r->duplicates)
        r->duplicates = cr->duplicates;
    r->checked += cr->checked;
    r->open_ok_ro += cr->open_ok_ro;
    r->open_failed_ro += cr->open_failed_ro;
    r->open_ok_rw += cr->open_ok_rw;
    r->open_failed_rw += cr->open_failed_rw;
    r->hits += cr->hits;
    r->misses += cr->misses;
    r->read_errors += cr->read_errors;
    r->violations += cr->violations;
    if (r->first[0] == '\0' && cr->first[0] != '\0')
        memcpy(r->first, cr->first, sizeof r->first);
    r->flush_points += cr->flush_points;
    r->flush_lossy += cr->flush_lossy;
    r->flush_loss_states += cr->flush_loss_states;
    if (r->flush_first[0] == '\0' && cr->flush_first[0] != '\0')
        memcpy(r->flush_first, cr->flush_first, sizeof r->flush_first);
}

static void iso_died(void *user, uint64_t at, bool finished, const char *what)
{
    iso_job *j = user;
    vdc_crashtest_result *r = j->r;
    (void)finished;
    r->crashed++;
    r->violations++;
    const char *where = at != 0 ? "state " : "before the first state, at ";
    unsigned long long n = at != 0 ? at - 1 : 0;
    if (j->o->log != NULL)
        fprintf(j->o->log, "violation: %s%llu: the checking process %s\n", where, n, what);
    if (r->first[0] == '\0')
        snprintf(r->first, sizeof r->first, "%s%llu: the checking process %s", where, n, what);
}

int vdc_crashtest_run_isolated(const vdc_crashtest_opts *o, unsigned timeout_ms, vdc_crashtest_result *r)
{
    if (r == NULL)
        return VERR_INVALID_PARAMETER;
    memset(r, 0, sizeof *r);
    if (o == NULL || o->be == NULL || o->w == NULL)
        return VERR_INVALID_PARAMETER;
    static const vdc_iso_sweep sweep = { "state", sizeof(vdc_crashtest_result), iso_work, iso_merge, iso_died };
    iso_job job = { o, r };
    return vdc_iso_resume(&sweep, &job, timeout_ms);
}
