/*
 * harness/reliability/wl_driver.c - runs a workload against a backend and
 * judges every call (the checks are listed in workload.h).
 *
 * Contract: workload.h.  Statuses: VINF_SUCCESS, VERR_INVALID_PARAMETER,
 * VERR_NO_MEMORY; vdc_wl_read_check returns the backend's last status.
 * Clauses judged: spec/contract.md READ-1..5, WRITE-1/2, HOST-1, HOST-3,
 * UUID-1, and (through the model) the "last data written" rule.
 */
#include "workload.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../host/alloc_hook.h"
#include "../host/host.h"
#include "../host/ioctx.h"
#include "../host/status.h"
#include "../host/vd.h"
#include "fs_crash.h"

#define CHUNK_READ ((uint64_t)VDC_RC_SCRATCH) /* one VD read request at most */

static const char *sname(int rc)
{
    const char *n = vdc_status_name(rc);
    return n != NULL ? n : "?";
}

static void violation(uint64_t *count, char *msg, size_t cb, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void violation(uint64_t *count, char *msg, size_t cb, const char *fmt, ...)
{
    (*count)++;
    if (msg != NULL && cb != 0 && msg[0] == '\0') {
        va_list va;
        va_start(va, fmt);
        vsnprintf(msg, cb, fmt, va);
        va_end(va);
    }
}

/* The state of one read check, for the driver's answer hook. */
typedef struct rc_ctx {
    const vdc_model     *m;
    const vdc_model_alt *inflight;
    unsigned             flags;
    uint64_t            *violations;
    char                *msg;
    size_t               cb_msg;
    vdc_rc_stats        *st;
} rc_ctx;

/* A count as the messages show it: an unset one reads as 0. */
static size_t shown(size_t count)
{
    return count == VDC_VD_SENTINEL ? 0 : count;
}

static vdc_vd_next rc_answer(void *user, const vdc_vd_io *io, uint8_t *buf)
{
    rc_ctx *c = user;
    unsigned long long pos = io->off, cb = io->asked;
    if (!vdc_vd_counted(io)) {
        if (vdc_vd_unaligned(io) && io->rule != VDC_VD_RULE_ASYNC)
            return VDC_VD_SKIP; /* what VD never asks may be refused */
        if (!(c->flags & VDC_RC_TOLERATE) || io->rule == VDC_VD_RULE_ASYNC) {
            violation(c->violations, c->msg, c->cb_msg, "%sread(%llu, %llu) returned %d (%s)",
                      io->rule == VDC_VD_RULE_ASYNC ? "READ-4: " : "", pos, cb, io->rc, sname(io->rc));
            return VDC_VD_ABORT;
        }
        if (c->st != NULL)
            c->st->errors++;
        return VDC_VD_SKIP; /* tolerated: skip the request, read on */
    }
    bool hit = vdc_vd_is_hit(io);
    if (io->rule != VDC_VD_RULE_NONE) {
        violation(c->violations, c->msg, c->cb_msg, "%s: read(%llu, %llu) %s reports %zu bytes and moved %zu",
                  io->clause, pos, cb, hit ? "hit" : "miss", shown(io->count), io->moved);
        return VDC_VD_ABORT;
    }
    if (!hit) {
        if (c->st != NULL)
            c->st->misses++;
        return VDC_VD_NEXT;
    }
    uint64_t bad;
    uint8_t want;
    bool has;
    if (c->st != NULL)
        c->st->hits++;
    if (c->st != NULL && c->st->on_hit != NULL)
        c->st->on_hit(c->st->hit_user, io->off, io->count);
    if (!vdc_model_check_hit(c->m, io->off, buf, io->count, c->inflight, (c->flags & VDC_RC_AFTER_CRASH) != 0, &bad,
                             &want, &has)) {
        if (has)
            violation(c->violations, c->msg, c->cb_msg,
                      "READ-1/CRASH-1: read(%llu, %llu) hit served byte 0x%02x at %llu; the last data written there is 0x%02x",
                      pos, cb, buf[bad], (unsigned long long)(io->off + bad), want);
        else
            violation(c->violations, c->msg, c->cb_msg,
                      "READ-3/CRASH-1: read(%llu, %llu) hit served byte 0x%02x at %llu, which was never written (or was discarded)",
                      pos, cb, buf[bad], (unsigned long long)(io->off + bad));
    }
    return VDC_VD_NEXT;
}

int vdc_wl_read_check(const VDCACHEBACKEND *be, void *bd, vdc_host *host, uint64_t off,
                      uint64_t len, const vdc_model *m, const vdc_model_alt *inflight, unsigned flags,
                      uint64_t max_calls, uint64_t *violations, char *msg, size_t cb_msg,
                      vdc_rc_stats *st)
{
    uint8_t *buf;

    if (max_calls == 0) /* two pieces per sector touched, and two more (an unaligned range touches an extra one) */
        max_calls = 2 + 2 * ((off % 512 + len + 511) / 512);
    buf = st != NULL && st->scratch != NULL ? st->scratch
        : malloc((size_t)(len < CHUNK_READ ? (len != 0 ? len : 1) : CHUNK_READ));
    if (buf == NULL)
        return VERR_NO_MEMORY;
    rc_ctx c = { m, inflight, flags, violations, msg, cb_msg, st };
    vdc_vd vd = { be, bd, host, NULL, NULL, NULL };
    vdc_vd_loop_opts o = { .max_xfer = (size_t)CHUNK_READ, .max_calls = max_calls, .poison = -1, .user = &c,
                           .answer = rc_answer };
    vdc_vd_loop l = vdc_vd_read_loop(&vd, &o, off, buf, len);
    if (l.end == VDC_VD_END_LIMIT)
        violation(violations, msg, cb_msg,
                  "READ-5: the read loop over [%llu, %llu) needed more than %llu calls (stuck at %llu)",
                  (unsigned long long)off, (unsigned long long)(off + len), (unsigned long long)max_calls,
                  (unsigned long long)(off + l.done));
    if (st == NULL || buf != st->scratch)
        free(buf);
    return l.last.rc;
}

#define SPAN_READ_ALL ((uint64_t)4 << 20)

int vdc_wl_read_all(const VDCACHEBACKEND *be, void *bd, vdc_host *host, const vdc_workload *w,
                    const vdc_model *m, const vdc_model_alt *inflight, unsigned flags, uint64_t *violations,
                    char *msg, size_t cb_msg, vdc_rc_stats *st)
{
    int rc = VINF_SUCCESS;
    if (w->span <= SPAN_READ_ALL) {
        if (w->span != 0)
            rc = vdc_wl_read_check(be, bd, host, 0, w->span, m, inflight, flags, 0, violations, msg, cb_msg, st);
        return rc;
    }
    uint64_t from = 0, lo, hi;
    while (vdc_model_next_run(m, from, &lo, &hi)) {
        rc = vdc_wl_read_check(be, bd, host, lo, hi - lo, m, inflight, flags, 0, violations, msg, cb_msg, st);
        from = hi;
    }
    return rc;
}

/* ---- the run ------------------------------------------------------------ */

typedef struct drv {
    const vdc_workload *w;
    const vdc_wl_opts  *o;
    vdc_wl_result      *r;
    vdc_host           *host;
    void               *bd;
    bool                open_ro;
    unsigned            want_flags; /* open flags the workload last asked for (implicit reopens use them) */
    uint8_t            *buf;      /* a write's data */
    size_t              capbuf;
    uint8_t            *scratch;  /* for reads, VDC_RC_SCRATCH bytes */
} drv;

static void viol(drv *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void viol(drv *d, const char *fmt, ...)
{
    d->r->violations++;
    if (d->r->first[0] == '\0') {
        va_list va;
        va_start(va, fmt);
        vsnprintf(d->r->first, sizeof d->r->first, fmt, va);
        va_end(va);
    }
}

static uint64_t events(const drv *d)
{
    return d->o->rec != NULL ? vdc_fs_crash_nevents(d->o->rec) : 0;
}

/* Starts a call record; returns its index (or SIZE_MAX when not kept). */
static size_t call_begin(drv *d, vdc_wop_kind kind, uint32_t op, uint64_t off, uint64_t len)
{
    d->r->total_calls++;
    if (d->o->heartbeat != NULL)
        (*d->o->heartbeat)++;
    if (!d->o->keep_calls)
        return SIZE_MAX;
    vdc_wl_result *r = d->r;
    if (r->ncalls == r->capcalls) {
        size_t nc = r->capcalls != 0 ? r->capcalls * 2 : 256;
        vdc_wl_call *np = realloc(r->calls, nc * sizeof *np);
        if (np == NULL)
            return SIZE_MAX;
        r->calls = np;
        r->capcalls = nc;
    }
    vdc_wl_call *c = &r->calls[r->ncalls];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->op = op;
    c->off = off;
    c->len = len;
    c->ev_start = events(d);
    c->data_at = UINT64_MAX;
    return r->ncalls++;
}

static void call_end(drv *d, size_t ci, int rc, uint64_t done)
{
    if (RT_FAILURE(rc) && rc != VERR_VD_BLOCK_FREE)
        d->r->failed_calls++;
    if (ci == SIZE_MAX)
        return;
    vdc_wl_call *c = &d->r->calls[ci];
    c->rc = rc;
    c->done = done;
    c->ev_end = events(d);
}

/* Keeps a write's bytes for the crash test; returns their arena offset. */
static uint64_t keep_data(drv *d, const uint8_t *p, uint64_t cb)
{
    vdc_wl_result *r = d->r;
    if (!d->o->keep_calls)
        return UINT64_MAX;
    if (r->narena + cb > r->caparena) {
        size_t nc = r->caparena != 0 ? r->caparena : 65536;
        while (nc < r->narena + cb)
            nc *= 2;
        uint8_t *np = realloc(r->arena, nc);
        if (np == NULL)
            return UINT64_MAX;
        r->arena = np;
        r->caparena = nc;
    }
    memcpy(r->arena + r->narena, p, (size_t)cb);
    r->narena += (size_t)cb;
    return r->narena - cb;
}

/* A failure the driver tolerates in fault mode, else a violation. */
static void failed(drv *d, uint32_t opi, const char *what, int rc)
{
    if (!d->o->tolerate_errors || RT_SUCCESS(rc) || rc == VERR_VD_ASYNC_IO_IN_PROGRESS)
        viol(d, "op %u: %s returned %d (%s)", opi + 1, what, rc, sname(rc));
}

/*
 * Judges a call's status against the op's expectation (workload.h).
 * Returns true when rc is a failure the expectation accepts (a refusal:
 * the call is marked so and changed nothing); otherwise a failure goes to
 * failed() and an unexpected success is a violation.
 */
static bool judge(drv *d, uint32_t opi, const vdc_wop *op, const char *what, int rc, size_t ci)
{
    bool ok = vdc_wl_expect_accepts(&op->expect, rc);
    if (RT_SUCCESS(rc)) {
        /* In fault mode an implicit reopen may have left the instance in
         * another state than the trace's (e.g. read-write where a failed
         * set-open-flags should have made it read-only): not judged. */
        if (!ok && !d->o->tolerate_errors)
            viol(d, "op %u: %s returned %d (%s); the trace expects a failure", opi + 1, what, rc, sname(rc));
        return false;
    }
    if (op->expect.n != 0 && ok) {
        if (ci != SIZE_MAX)
            d->r->calls[ci].refused = true;
        return true;
    }
    failed(d, opi, what, rc);
    return false;
}

/* Whether rc is a failure op's expectation accepts (marks the call refused). */
static bool judge_quiet(drv *d, const vdc_wop *op, int rc, size_t ci)
{
    if (RT_SUCCESS(rc) || op->expect.n == 0 || !vdc_wl_expect_accepts(&op->expect, rc))
        return false;
    if (ci != SIZE_MAX)
        d->r->calls[ci].refused = true;
    return true;
}

static void check_storages(drv *d, uint32_t opi, const char *when)
{
    const vdc_host_stats *st = vdc_host_get_stats(d->host);
    if (st->open_storages != 0)
        viol(d, "HOST-3: op %u: %u storage handle(s) still open after %s", opi + 1, st->open_storages, when);
}

/* VCI-1: after a successful flush (one the instance's open flags do not
 * tell it to ignore) or close, the image on storage is a valid, clean
 * image of the backend's format (o->deep_check, when set). */
static void deep_check(drv *d, uint32_t opi, const char *after)
{
    if (d->o->deep_check == NULL)
        return;
    char msg[512];
    msg[0] = '\0';
    vdc_alloc_hook_pause(); /* the checker's allocations are not the backend's */
    int rc = d->o->deep_check(d->o->deep_user, d->o->deep_fs != NULL ? d->o->deep_fs : d->o->fs, d->w->name, msg,
                              sizeof msg);
    vdc_alloc_hook_resume();
    if (RT_FAILURE(rc))
        viol(d, "VCI-1: op %u: after a successful %s the image fails the deep check: %s", opi + 1, after, msg);
}

static int do_close(drv *d, uint32_t opi, const vdc_wop *op, bool del)
{
    size_t ci = call_begin(d, VDC_WOP_CLOSE, opi, 0, del ? 1 : 0);
    int rc = d->o->be->pfnClose(d->bd, del);
    call_end(d, ci, rc, 0);
    d->bd = NULL;
    if (op != NULL)
        judge(d, opi, op, "close", rc, ci);
    else if (RT_FAILURE(rc))
        failed(d, opi, "close", rc);
    if (RT_SUCCESS(rc) && !del)
        vdc_model_commit_discards(d->r->model);
    check_storages(d, opi, "close");
    if (RT_SUCCESS(rc) && !del)
        deep_check(d, opi, "close");
    return rc;
}

static int do_open(drv *d, uint32_t opi, const vdc_wop *op, unsigned flags)
{
    size_t ci = call_begin(d, VDC_WOP_OPEN, opi, 0, 0);
    void *bd = NULL;
    int rc = d->o->be->pfnOpen(d->w->name, flags, vdc_host_disk_ifs(d->host), vdc_host_image_ifs(d->host), &bd);
    call_end(d, ci, rc, 0);
    if (op != NULL)
        judge(d, opi, op, "open", rc, ci);
    if (RT_SUCCESS(rc)) {
        d->bd = bd;
        d->open_ro = (flags & VD_OPEN_FLAGS_READONLY) != 0;
    } else {
        if (op == NULL)
            failed(d, opi, "open", rc);
        check_storages(d, opi, "a failed open");
    }
    return rc;
}

/* Makes sure an instance is open (fault mode reopens after failures). */
static bool ensure_open(drv *d, uint32_t opi)
{
    if (d->bd != NULL)
        return true;
    if (!d->o->tolerate_errors)
        return false;
    return RT_SUCCESS(do_open(d, opi, NULL, d->want_flags));
}

static void do_create(drv *d, uint32_t opi, const vdc_wop *op)
{
    RTUUID uuid;
    void *bd = NULL;
    if (d->bd != NULL)
        do_close(d, opi, NULL, false);
    for (unsigned i = 0; i < 16; i++)
        uuid.au8[i] = vdc_wl_byte(op->seed, i);
    size_t ci = call_begin(d, VDC_WOP_CREATE, opi, 0, op->len);
    int rc = d->o->be->pfnCreate(d->w->name, op->len, op->image_flags, NULL, &uuid, op->open_flags, 0, 99,
                                 vdc_host_disk_ifs(d->host), vdc_host_image_ifs(d->host),
                                 vdc_host_op_ifs(d->host), &bd);
    call_end(d, ci, rc, 0);
    judge(d, opi, op, "create", rc, ci);
    if (RT_SUCCESS(rc)) {
        /* A new image: nothing written yet.  A failed create (fault mode)
         * may have left the old file and its data, which stay acceptable. */
        vdc_model_reset(d->r->model);
        d->bd = bd;
        d->open_ro = false;
    } else {
        check_storages(d, opi, "a failed create");
    }
}

static int fill_buf(drv *d, const vdc_wop *op)
{
    if (op->len > d->capbuf) {
        uint8_t *nb = realloc(d->buf, (size_t)op->len);
        if (nb == NULL)
            return VERR_NO_MEMORY;
        d->buf = nb;
        d->capbuf = (size_t)op->len;
    }
    if (op->data != NULL)
        memcpy(d->buf, op->data, (size_t)op->len);
    else
        for (uint64_t i = 0; i < op->len; i++)
            d->buf[i] = vdc_wl_byte(op->seed, op->off + i);
    return VINF_SUCCESS;
}

/* The state of one write op, for the driver's hooks. */
typedef struct wr_ctx {
    drv            *d;
    uint32_t        opi;
    const vdc_wop  *op;
    size_t          ci;    /* the call record of the call in flight */
    bool            nomem;
} wr_ctx;

static void wr_before(void *user, bool write, uint64_t off, size_t cb)
{
    wr_ctx *c = user;
    (void)write;
    c->ci = call_begin(c->d, VDC_WOP_WRITE, c->opi, off, cb);
}

static vdc_vd_next wr_answer(void *user, const vdc_vd_io *io, uint8_t *p)
{
    wr_ctx *c = user;
    drv *d = c->d;
    const vdc_wop *op = c->op;
    int rc = io->rc;
    call_end(d, c->ci, rc, RT_SUCCESS(rc) ? shown(io->count) : 0);
    if (c->ci != SIZE_MAX)
        d->r->calls[c->ci].data_at = keep_data(d, p, io->asked);
    if (RT_SUCCESS(rc)) {
        if (io->off == op->off)
            judge(d, c->opi, op, "write", rc, c->ci);
        if (io->rule != VDC_VD_RULE_NONE) {
            viol(d, "%s: op %u: write(%llu, %llu) reports %zu bytes processed and took %zu", io->clause, c->opi + 1,
                 (unsigned long long)io->off, (unsigned long long)io->asked, shown(io->count), io->moved);
            return VDC_VD_ABORT;
        }
        /* What it declined (vd.h) reads as a miss from now on. */
        size_t kept = io->declined ? io->moved : io->count;
        c->nomem = RT_FAILURE(vdc_model_write(d->r->model, io->off, p, kept));
        if (kept < io->count)
            vdc_model_discard(d->r->model, io->off + kept, io->count - kept);
        return c->nomem ? VDC_VD_ABORT : VDC_VD_NEXT;
    }
    if (op->expect.n == 0 && d->open_ro && rc == VERR_VD_IMAGE_READ_ONLY)
        return VDC_VD_NEXT;
    bool refusable = vdc_vd_unaligned(io) && rc != VERR_VD_ASYNC_IO_IN_PROGRESS; /* VD never asks it */
    if (!refusable && judge(d, c->opi, op, "write", rc, c->ci))
        return VDC_VD_NEXT; /* refused as the trace expects: nothing was written */
    /* What the failed call may have stored stays acceptable. */
    c->nomem = RT_FAILURE(vdc_model_maybe(d->r->model, io->off, p, io->asked));
    return c->nomem ? VDC_VD_ABORT : VDC_VD_NEXT;
}

static int do_write(drv *d, uint32_t opi, const vdc_wop *op)
{
    int rc = fill_buf(d, op);
    if (RT_FAILURE(rc))
        return rc;
    uint64_t max_calls = d->o->max_calls_per_op != 0 ? d->o->max_calls_per_op : 16 + 2 * (op->len / 512);
    wr_ctx c = { d, opi, op, SIZE_MAX, false };
    vdc_vd vd = { d->o->be, d->bd, d->host, &c, wr_before, NULL };
    vdc_vd_loop_opts o = { .max_calls = max_calls, .poison = -1, .user = &c, .answer = wr_answer };
    vdc_vd_loop l = vdc_vd_write_loop(&vd, &o, op->off, d->buf, op->len);
    if (c.nomem)
        return VERR_NO_MEMORY;
    if (l.end == VDC_VD_END_LIMIT)
        viol(d, "WRITE-1: op %u: the write loop over [%llu, %llu) needed more than %llu calls", opi + 1,
             (unsigned long long)op->off, (unsigned long long)(op->off + op->len), (unsigned long long)max_calls);
    return VINF_SUCCESS;
}

/* VD's read loop over the op's range, judged; returns the last status. */
static int do_read(drv *d, uint32_t opi, const vdc_wop *op)
{
    char msg[sizeof d->r->first];
    uint64_t v = 0;
    msg[0] = '\0';
    size_t ci = call_begin(d, VDC_WOP_READ, opi, op->off, op->len);
    vdc_rc_stats st = { .scratch = d->scratch };
    bool may_fail = false;
    for (unsigned i = 0; i < op->expect.n && i < VDC_WL_MAX_ALTS; i++)
        may_fail |= op->expect.alt[i].kind != VDC_WL_ALT_SUCCESS;
    int rc = vdc_wl_read_check(d->o->be, d->bd, d->host, op->off, op->len, d->r->model, NULL,
                               d->o->tolerate_errors || may_fail ? VDC_RC_TOLERATE : 0, d->o->max_calls_per_op,
                               &v, msg, sizeof msg, &st);
    if (may_fail && !d->o->tolerate_errors && RT_FAILURE(rc) && rc != VERR_VD_BLOCK_FREE
        && !vdc_wl_expect_accepts(&op->expect, rc))
        viol(d, "op %u: read returned %d (%s)", opi + 1, rc, sname(rc));
    d->r->hits += st.hits;
    d->r->misses += st.misses;
    call_end(d, ci, rc == VERR_VD_BLOCK_FREE ? VINF_SUCCESS : rc, 0);
    if (v != 0) {
        d->r->violations += v - 1;
        viol(d, "op %u: %s", opi + 1, msg);
    }
    return rc;
}

static void do_flush(drv *d, uint32_t opi, const vdc_wop *op)
{
    struct VDIOCTX ctx;
    vdc_host_ioctx_init(d->host, &ctx, NULL, 0);
    size_t ci = call_begin(d, VDC_WOP_FLUSH, opi, 0, 0);
    int rc = d->o->be->pfnFlush(d->bd, &ctx);
    call_end(d, ci, rc, 0);
    judge(d, opi, op, "flush", rc, ci);
    if (RT_SUCCESS(rc)) {
        vdc_model_commit_discards(d->r->model);
        if (!(d->want_flags & VD_OPEN_FLAGS_IGNORE_FLUSH)) /* such a flush may leave the image unclean */
            deep_check(d, opi, "flush");
    }
}

static void do_discard(drv *d, uint32_t opi, const vdc_wop *op)
{
    struct VDIOCTX ctx;
    size_t pre = 0, post = 0, done = 0;
    void *bm = NULL;
    if (d->o->be->pfnDiscard == NULL || !(d->o->be->uBackendCaps & VD_CAP_DISCARD))
        return;
    vdc_host_ioctx_init(d->host, &ctx, NULL, 0);
    size_t ci = call_begin(d, VDC_WOP_DISCARD, opi, op->off, op->len);
    int rc = d->o->be->pfnDiscard(d->bd, &ctx, op->off, (size_t)op->len, &pre, &post, &done, &bm, 0);
    call_end(d, ci, rc, RT_SUCCESS(rc) ? done : 0);
    free(bm); /* VD releases it; ref never allocates one */
    bool refused = judge_quiet(d, op, rc, ci);
    if (RT_SUCCESS(rc)) {
        judge(d, opi, op, "discard", rc, ci);
        /* The range reported discarded reads as a miss from now on; a
         * count beyond the request is not trusted further than cb. */
        vdc_model_discard(d->r->model, op->off, done < op->len ? done : op->len);
    } else if (!refused && !(op->expect.n == 0 && d->open_ro && rc == VERR_VD_IMAGE_READ_ONLY)
               && rc != VERR_VD_DISCARD_ALIGNMENT_NOT_MET) {
        judge(d, opi, op, "discard", rc, ci);
    }
}

static void do_setuuid(drv *d, uint32_t opi, const vdc_wop *op)
{
    RTUUID u, back;
    for (unsigned i = 0; i < 16; i++)
        u.au8[i] = vdc_wl_byte(op->seed, i);
    size_t ci = call_begin(d, VDC_WOP_SETUUID, opi, 0, 0);
    int rc = d->o->be->pfnSetModificationUuid(d->bd, &u);
    call_end(d, ci, rc, 0);
    if (rc == VERR_NOT_SUPPORTED)
        return;
    if (judge(d, opi, op, "set-mod-uuid", rc, ci))
        return; /* refused, as expected (e.g. read-only) */
    memset(&back, 0, sizeof back);
    int rc_get = d->o->be->pfnGetModificationUuid(d->bd, &back);
    if (RT_FAILURE(rc))
        return; /* the set failed (a fault): the get only had to come back (HOST-2) */
    if (RT_SUCCESS(rc_get) && memcmp(back.au8, u.au8, 16) != 0)
        viol(d, "UUID-1: op %u: the modification UUID set does not read back", opi + 1);
    else if (rc_get == VERR_NOT_SUPPORTED || rc_get == VERR_VD_NOT_OPENED)
        /* Whatever a fault did, these contradict the set just accepted. */
        viol(d, "UUID-1: op %u: set-mod-uuid succeeded, then get-mod-uuid returned %d (%s)", opi + 1, rc_get,
             sname(rc_get));
    else if (RT_FAILURE(rc_get))
        failed(d, opi, "get-mod-uuid", rc_get);
}

/* INFO-6: after a failed set-open-flags (a fault that fired once), does
 * the instance keep its previous flags (not the refused ones), and does it
 * still serve?  One read of [0, 512), judged as any read. */
static void after_failed_setflags(drv *d, uint32_t opi, int rc_set, unsigned asked)
{
    /* VD keeps the flags it had when the call fails; an instance that runs
     * with the ones it refused (read-only where VD writes, or the reverse)
     * fails VD's cache writes or takes writes VD does not expect. */
    unsigned now = d->o->be->pfnGetOpenFlags != NULL ? d->o->be->pfnGetOpenFlags(d->bd) : d->want_flags;
    if (now == asked && asked != d->want_flags && d->r->warnings++ == 0)
        snprintf(d->r->warning, sizeof d->r->warning,
                 "INFO-6: op %u: set-open-flags to %#x failed with %d (%s), yet the instance now reports those flags "
                 "instead of its previous %#x",
                 opi + 1, asked, rc_set, sname(rc_set), d->want_flags);
    const vdc_wop probe = { .kind = VDC_WOP_READ, .off = 0, .len = 512 };
    int rc = do_read(d, opi, &probe);
    if (RT_FAILURE(rc) && rc != VERR_VD_BLOCK_FREE && d->r->warnings++ == 0)
        snprintf(d->r->warning, sizeof d->r->warning,
                 "INFO-6: op %u: set-open-flags failed with %d (%s), and then a read of [0, 512) failed with %d (%s): "
                 "the instance no longer serves, so VD's reads through this cache would fail",
                 opi + 1, rc_set, sname(rc_set), rc, sname(rc));
}

static void do_setflags(drv *d, uint32_t opi, const vdc_wop *op)
{
    size_t ci = call_begin(d, VDC_WOP_SETFLAGS, opi, 0, 0);
    int rc = d->o->be->pfnSetOpenFlags != NULL ? d->o->be->pfnSetOpenFlags(d->bd, op->open_flags)
                                               : VERR_NOT_SUPPORTED;
    call_end(d, ci, rc, 0);
    bool refused = judge(d, opi, op, "set-open-flags", rc, ci);
    if (RT_SUCCESS(rc)) {
        d->open_ro = (op->open_flags & VD_OPEN_FLAGS_READONLY) != 0;
        d->want_flags = op->open_flags;
    } else if (!refused && rc != VERR_NOT_SUPPORTED && d->o->tolerate_errors && d->o->transient) {
        after_failed_setflags(d, opi, rc, op->open_flags);
    }
}

int vdc_wl_run(const vdc_workload *w, const vdc_wl_opts *o, vdc_wl_result *r)
{
    drv d;
    int rc = VINF_SUCCESS;

    if (r == NULL)
        return VERR_INVALID_PARAMETER;
    memset(r, 0, sizeof *r);
    if (w == NULL || o == NULL || o->be == NULL || o->fs == NULL || w->name == NULL)
        return VERR_INVALID_PARAMETER;
    r->model = vdc_model_new();
    if (r->model == NULL)
        return VERR_NO_MEMORY;
    memset(&d, 0, sizeof d);
    d.w = w;
    d.o = o;
    d.r = r;
    d.host = vdc_host_new(o->fs);
    d.scratch = calloc(1, VDC_RC_SCRATCH);
    if (d.host == NULL || d.scratch == NULL) {
        rc = VERR_NO_MEMORY;
        goto out;
    }
    for (size_t i = 0; i < w->n && RT_SUCCESS(rc); i++) {
        const vdc_wop *op = &w->ops[i];
        uint32_t opi = (uint32_t)i;
        if (o->stop != NULL && o->stop(o->stop_user)) {
            r->stopped = true;
            break;
        }
        switch (op->kind) {
        case VDC_WOP_CREATE:
            d.want_flags = VD_OPEN_FLAGS_NORMAL;
            do_create(&d, opi, op);
            break;
        case VDC_WOP_OPEN:
            if (d.bd != NULL)
                do_close(&d, opi, NULL, false);
            d.want_flags = op->open_flags;
            do_open(&d, opi, op, op->open_flags);
            break;
        case VDC_WOP_CLOSE:
            /* A delete that failed (fault mode) may have left the file
             * with its data: the model forgets only after a success. */
            if (d.bd != NULL && RT_SUCCESS(do_close(&d, opi, op, op->del)) && op->del)
                vdc_model_reset(r->model);
            break;
        case VDC_WOP_WRITE:
            if (ensure_open(&d, opi))
                rc = do_write(&d, opi, op);
            break;
        case VDC_WOP_READ:
            if (ensure_open(&d, opi))
                do_read(&d, opi, op);
            break;
        case VDC_WOP_FLUSH:
            if (ensure_open(&d, opi))
                do_flush(&d, opi, op);
            break;
        case VDC_WOP_DISCARD:
            if (ensure_open(&d, opi))
                do_discard(&d, opi, op);
            break;
        case VDC_WOP_SETUUID:
            if (ensure_open(&d, opi))
                do_setuuid(&d, opi, op);
            break;
        case VDC_WOP_SETFLAGS:
            if (ensure_open(&d, opi))
                do_setflags(&d, opi, op);
            break;
        }
    }
    if (d.bd != NULL) {
        r->open_at_end = true;
        do_close(&d, (uint32_t)w->n, NULL, false);
    }
    r->misuse = vdc_host_get_stats(d.host)->misuse;
    if (r->misuse != 0)
        viol(&d, "HOST-1: the backend misused the host %llu time(s); host log:\n%.600s",
             (unsigned long long)r->misuse, vdc_host_log(d.host));
out:
    vdc_host_free(d.host);
    free(d.scratch);
    free(d.buf);
    return rc;
}

void vdc_wl_result_free(vdc_wl_result *r)
{
    if (r == NULL)
        return;
    vdc_model_free(r->model);
    free(r->calls);
    free(r->arena);
    memset(r, 0, sizeof *r);
}
