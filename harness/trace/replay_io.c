/*
 * harness/trace/replay_io.c - the data path: read, write, vdread, vdwrite,
 * flush, discard.
 *
 * Contract: replay_int.h (rp_do_*: RP_GO or RP_STOP with the verdict set).
 * Semantics: spec/trace-format.md sections 4.2, 6.4 (protocol checks),
 * 7.5 (read/write), 7.6 (VD's read loop) and 7.7 (VD's cache-write loop).
 * Every transfer goes through an I/O context the replay builds with
 * vdc_ioctx_init_buf over a buffer it owns; read buffers start as 0xA5 and
 * output counts as RP_SENTINEL, so "did not set" and "wrote nothing" are
 * told apart from real answers.
 */
#include "replay_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../host/vd.h"

/* Words a protocol break the driver found in one pfnRead/pfnWrite answer
 * (section 6.4; harness/host/vd.h judges it).  RP_GO when none. */
static int report(rp *p, const vdc_vd_io *io)
{
    char s[64];
    const char *fn = io->write ? "pfnWrite" : "pfnRead";
    const char *out = io->write ? "*pcbWriteProcess" : "*pcbActuallyRead";
    unsigned long long pos = (unsigned long long)io->off;

    if (!vdc_vd_counted(io))
        return RP_GO; /* a failure status: judged against the expectation */
    switch (io->rule) {
    case VDC_VD_RULE_UNSET:
        return rp_fail(p, "%s at offset %llu returned %s but did not set %s", fn, pos, rp_st(io->rc, s, sizeof s), out);
    case VDC_VD_RULE_ZERO:
        return rp_fail(p, "%s at offset %llu returned %s with %s = 0: VD would loop forever", fn, pos,
                       rp_st(io->rc, s, sizeof s), out);
    case VDC_VD_RULE_OVERRUN:
        return rp_fail(p, "%s at offset %llu returned %s with %s = %zu for a request of %zu bytes: VD would overrun",
                       fn, pos, rp_st(io->rc, s, sizeof s), out, io->count, io->asked);
    case VDC_VD_RULE_MISS_MOVED:
        return rp_fail(p, "%s at offset %llu reported a miss (VERR_VD_BLOCK_FREE) but moved %zu bytes through the "
                       "I/O context; VD reads the image into that same context, so its cursor would be off",
                       fn, pos, io->moved);
    case VDC_VD_RULE_MOVED:
        return rp_fail(p, "%s at offset %llu reported %zu bytes but moved %zu through the I/O context; "
                       "VD advances by the reported count, so the data would be misplaced",
                       fn, pos, io->count, io->moved);
    default:
        return RP_GO;
    }
}

static void vd_before(void *user, bool write, uint64_t off, size_t cb)
{
    (void)write;
    (void)off;
    (void)cb;
    rp_before_call(user);
}

static bool vd_after(void *user, bool write)
{
    return rp_after_call(user, write ? "pfnWrite" : "pfnRead") != RP_STOP;
}

/* The driver over handle h, with the replay's per-call bookkeeping. */
static vdc_vd vd_of(rp *p, rp_handle *h)
{
    vdc_vd vd = { p->be, h->bd, NULL, p, vd_before, vd_after };
    return vd;
}

/* One pfnRead over buf[0..cb) at pos, or one pfnWrite of it. */
static int one_call(rp *p, rp_handle *h, bool write, uint64_t pos, uint8_t *buf, size_t cb, vdc_vd_io *io)
{
    vdc_vd vd = vd_of(p, h);
    *io = write ? vdc_vd_write(&vd, pos, buf, cb) : vdc_vd_read(&vd, pos, buf, cb);
    if (io->stopped)
        return RP_STOP;
    return report(p, io);
}

/* Every answer of the cache-write loop: a protocol break fails the trace. */
static vdc_vd_next write_answer(void *user, const vdc_vd_io *io, uint8_t *data)
{
    (void)data;
    return report(user, io) == RP_STOP ? VDC_VD_ABORT : VDC_VD_NEXT;
}

/* VD's cache-write loop (section 7.7) over src[0..len) at off.  *rc_out is
 * the ending status, *written the bytes accepted. */
static int write_loop(rp *p, rp_handle *h, uint64_t off, uint8_t *src, size_t len, int *rc_out, uint64_t *written)
{
    vdc_vd vd = vd_of(p, h);
    vdc_vd_loop_opts o = { .poison = -1, .user = p, .answer = write_answer };
    vdc_vd_loop l = vdc_vd_write_loop(&vd, &o, off, src, len);
    if (l.end == VDC_VD_END_STOPPED)
        return RP_STOP;
    *rc_out = l.end == VDC_VD_END_FAILED ? l.rc : VINF_SUCCESS;
    *written = l.done;
    return RP_GO;
}

/* VD never sends a request whose offset or length is not a multiple of 512
 * (spec/vbox-behaviour.md section 7, "Alignment"). */
static bool unaligned(const vdc_record *r)
{
    return r->off % 512 != 0 || r->len % 512 != 0;
}

/* From now on the data of [off, off + len) in file is unknown: what a
 * refused write stored there is the backend's business.  Past the table's
 * size every file's data is. */
static void mark_unknown(rp *p, const char *file, uint64_t off, uint64_t len)
{
    unsigned i = p->nunknown < RP_MAX_UNKNOWN ? p->nunknown++ : RP_MAX_UNKNOWN - 1;
    bool full = p->nunknown == RP_MAX_UNKNOWN;
    p->unknown[i].file = full ? NULL : file;
    p->unknown[i].off = full ? 0 : off;
    p->unknown[i].end = full || len > UINT64_MAX - off ? UINT64_MAX : off + len;
}

/*
 * A record whose request VD would never send (unaligned) that failed: the
 * data of a failed write (or fill) there is unknown from now on.  When its
 * expectation does not accept the status, the backend refused what VD never
 * asks (WRITE-6 is a SHOULD): a quality warning, and true: the record is
 * skipped and replay goes on.  false otherwise (judged as usual).
 */
static bool refused_unaligned(rp *p, rp_handle *h, int rc, size_t done)
{
    const vdc_record *r = p->rec;
    char s[64];
    if (!unaligned(r) || RT_SUCCESS(rc) || rc == VERR_VD_BLOCK_FREE)
        return false;
    if (r->op == VDC_OP_WRITE || r->op == VDC_OP_VDWRITE || r->fill)
        mark_unknown(p, h->file, r->off, r->len);
    if (rp_alts_match(&r->expect, rc, 0, r->len - done))
        return false;
    rp_should(p, "refused an unaligned request (offset %llu, %llu bytes) with %s: VD never sends one "
              "(WRITE-6, a SHOULD); record skipped", (unsigned long long)r->off, (unsigned long long)r->len,
              rp_st(rc, s, sizeof s));
    return true;
}

/* Whether an unknown range of file holds virtual byte x (*end: where it
 * ends); *next is lowered to the start of the first one after x. */
static bool in_unknown(const rp *p, const char *file, uint64_t x, uint64_t *end, uint64_t *next)
{
    for (unsigned i = 0; i < p->nunknown; i++) {
        const char *f = p->unknown[i].file;
        if (f != NULL && (file == NULL || strcmp(f, file) != 0))
            continue;
        if (p->unknown[i].off <= x && x < p->unknown[i].end) {
            *end = p->unknown[i].end;
            return true;
        }
        if (p->unknown[i].off > x && p->unknown[i].off < *next)
            *next = p->unknown[i].off;
    }
    return false;
}

/* vdc_data_match over the hit buf[0..cb) at off, leaving out the bytes whose
 * data is unknown (mark_unknown). */
static bool known_match(const rp *p, const rp_handle *h, const vdc_data *d, uint64_t off, const uint8_t *buf,
                        size_t cb, size_t *diff)
{
    size_t a = 0;
    while (a < cb) {
        uint64_t end = 0, next = off + cb;
        if (in_unknown(p, h->file, off + a, &end, &next)) {
            a = end - off >= cb ? cb : (size_t)(end - off);
            continue;
        }
        size_t b = (size_t)(next - off), sd;
        if (!vdc_data_match(d, off + a, buf + a, b - a, &sd)) {
            *diff = a + sd;
            return false;
        }
        a = b;
    }
    return true;
}

int rp_do_read(rp *p)
{
    const vdc_record *r = p->rec;
    rp_handle *h;
    vdc_vd_io io;
    size_t diff, len = (size_t)r->len;
    char a[64], b[64];

    if (rp_need_open(p, &h) == RP_STOP || rp_buf(p, len) == RP_STOP)
        return RP_STOP;
    memset(p->buf, RP_POISON, len);
    if (one_call(p, h, false, r->off, p->buf, len, &io) == RP_STOP)
        return RP_STOP;
    int rc = io.rc;
    size_t got = io.count;
    bool counted = RT_SUCCESS(rc) || rc == VERR_VD_BLOCK_FREE;
    if (refused_unaligned(p, h, rc, 0))
        return RP_GO;
    if (rp_check_status(p, rc, counted ? got : 0, len, counted) == RP_STOP)
        return RP_STOP;
    if (!counted)
        return RP_GO;
    if (!rp_num_match(&r->count, got))
        return rp_expect(p, "expected count %s\nactual:   %s, count %zu", rp_num_text(&r->count, a, sizeof a),
                         rp_st(rc, b, sizeof b), got);
    if (RT_SUCCESS(rc) && r->data.nsegs > 0 && !known_match(p, h, &r->data, r->off, p->buf, got, &diff))
        return rp_fail_data(p, &r->data, r->off, p->buf, got, diff, "");
    return RP_GO;
}

int rp_do_write(rp *p)
{
    const vdc_record *r = p->rec;
    rp_handle *h;
    vdc_vd_io io;
    size_t len = (size_t)r->len;
    char a[64], b[64];

    if (rp_need_open(p, &h) == RP_STOP || rp_buf(p, len) == RP_STOP)
        return RP_STOP;
    vdc_data_fill(&r->data, r->off, p->buf, len);
    if (one_call(p, h, true, r->off, p->buf, len, &io) == RP_STOP)
        return RP_STOP;
    int rc = io.rc;
    size_t done = io.count;
    if (refused_unaligned(p, h, rc, 0))
        return RP_GO;
    if (rp_check_status(p, rc, RT_SUCCESS(rc) ? done : 0, len, RT_SUCCESS(rc)) == RP_STOP)
        return RP_STOP;
    if (RT_SUCCESS(rc) && !rp_num_match(&r->count, done))
        return rp_expect(p, "expected count %s\nactual:   %s, count %zu", rp_num_text(&r->count, a, sizeof a),
                         rp_st(rc, b, sizeof b), done);
    return RP_GO;
}

/* The state of one vdread record's loop, for its hooks. */
typedef struct vdread_ctx {
    rp               *p;
    rp_handle        *h;
    const vdc_record *r;
    unsigned          piece;
} vdread_ctx;

/* Every piece of the read loop against the record's expectations (and the
 * cache writes of its fill against the protocol). */
static vdc_vd_next vdread_answer(void *user, const vdc_vd_io *io, uint8_t *data)
{
    vdread_ctx *c = user;
    rp *p = c->p;
    const vdc_record *r = c->r;
    unsigned long long pos = (unsigned long long)io->off;
    size_t diff, got = io->count, left = io->asked;
    char a[160], s[64], what[96];

    if (io->write)
        return write_answer(p, io, data);
    c->piece++;
    if (!vdc_vd_counted(io))
        return VDC_VD_NEXT; /* the failure ends the loop */
    if (report(p, io) == RP_STOP)
        return VDC_VD_ABORT;
    if (!rp_alts_match(&r->expect, io->rc, got, left)
        && rp_expect(p, "expected: %s (for every piece of the loop)\nactual:   piece %u at offset %llu: %s, %zu bytes",
                     rp_alts_text(&r->expect, a, sizeof a), c->piece, pos, rp_st(io->rc, s, sizeof s), got) == RP_STOP)
        return VDC_VD_ABORT;
    if (vdc_vd_is_hit(io) && r->data.nsegs > 0 && !known_match(p, c->h, &r->data, io->off, data, got, &diff)) {
        snprintf(what, sizeof what, "piece %u of the loop (pfnRead at offset %llu)", c->piece, pos);
        rp_fail_data(p, &r->data, io->off, data, got, diff, what);
        return VDC_VD_ABORT;
    }
    if (r->should.n > 0 && !rp_alts_match(&r->should, io->rc, got, left)
        && rp_should(p, "should: %s, actual piece %u at offset %llu: %s, %zu bytes",
                     rp_alts_text(&r->should, a, sizeof a), c->piece, pos, rp_st(io->rc, s, sizeof s), got) == RP_STOP)
        return VDC_VD_ABORT;
    return VDC_VD_NEXT;
}

/* A miss with `fill`: VD writes what it read from the image chain. */
static const uint8_t *vdread_fill(void *user, uint64_t off, uint8_t *window, size_t cb)
{
    const vdread_ctx *c = user;
    vdc_data_fill(&c->r->data, off, window, cb);
    return window;
}

int rp_do_vdread(rp *p)
{
    const vdc_record *r = p->rec;
    rp_handle *h;
    size_t len = (size_t)r->len;
    char a[160], s[64];

    if (rp_need_open(p, &h) == RP_STOP || rp_buf(p, len) == RP_STOP)
        return RP_STOP;
    vdread_ctx c = { p, h, r, 0 };
    vdc_vd vd = vd_of(p, h);
    vdc_vd_loop_opts o = { .poison = RP_POISON, .fill = r->fill, .user = &c, .answer = vdread_answer,
                           .fill_data = vdread_fill };
    vdc_vd_loop l = vdc_vd_read_loop(&vd, &o, r->off, p->buf, len);
    if (l.end == VDC_VD_END_STOPPED)
        return RP_STOP;
    int final = l.end == VDC_VD_END_FAILED ? l.rc : VINF_SUCCESS;
    size_t done = (size_t)l.done;
    uint64_t hits = l.hit;
    if (refused_unaligned(p, h, final, done))
        return RP_GO;
    if (RT_FAILURE(final) && final != VERR_VD_BLOCK_FREE) {
        if (!rp_alts_match(&r->expect, final, 0, len - done))
            return rp_expect(p, "expected: %s\nactual:   the loop ended with %s after %zu of %zu bytes",
                             rp_alts_text(&r->expect, a, sizeof a), rp_st(final, s, sizeof s), done, len);
        if (r->should.n > 0 && !rp_alts_match(&r->should, final, 0, len - done)
            && rp_should(p, "should: %s, actual: the loop ended with %s", rp_alts_text(&r->should, a, sizeof a),
                         rp_st(final, s, sizeof s)) == RP_STOP)
            return RP_STOP;
    }
    if (p->o->strict && r->seen_given) {
        int obs = RT_FAILURE(final) ? final : l.miss > 0 ? VERR_VD_BLOCK_FREE : VINF_SUCCESS;
        char s2[64];
        if (obs != r->seen_status)
            return rp_fail(p, "strict: the recording saw %s\nactual:   %s (%llu bytes hit)",
                           rp_st(r->seen_status, s2, sizeof s2), rp_st(obs, s, sizeof s), (unsigned long long)hits);
        if (r->seen_count_given && hits != r->seen_count)
            return rp_fail(p, "strict: the recording saw %llu bytes hit, actual %llu",
                           (unsigned long long)r->seen_count, (unsigned long long)hits);
    }
    return RP_GO;
}

int rp_do_vdwrite(rp *p)
{
    const vdc_record *r = p->rec;
    rp_handle *h;
    size_t len = (size_t)r->len;
    uint64_t written;
    int rc;

    if (rp_need_open(p, &h) == RP_STOP || rp_buf(p, len) == RP_STOP)
        return RP_STOP;
    vdc_data_fill(&r->data, r->off, p->buf, len);
    if (write_loop(p, h, r->off, p->buf, len, &rc, &written) == RP_STOP)
        return RP_STOP;
    if (refused_unaligned(p, h, rc, (size_t)written))
        return RP_GO;
    return rp_check_status(p, rc, written, len, true);
}

int rp_do_flush(rp *p)
{
    rp_handle *h;
    struct VDIOCTX ctx;
    RTSGSEG seg;
    uint8_t dummy = 0;

    if (rp_need_open(p, &h) == RP_STOP)
        return RP_STOP;
    vdc_ioctx_init_buf(&ctx, &seg, &dummy, 0);
    rp_before_call(p);
    int rc = p->be->pfnFlush(h->bd, &ctx);
    if (rp_after_call(p, "pfnFlush") == RP_STOP)
        return RP_STOP;
    return rp_check_status(p, rc, 0, 0, false);
}

int rp_do_discard(rp *p)
{
    const vdc_record *r = p->rec;
    rp_handle *h;
    struct VDIOCTX ctx;
    RTSGSEG seg;
    uint8_t dummy = 0;
    size_t pre = RP_SENTINEL, post = RP_SENTINEL, disc = RP_SENTINEL;
    void *bitmap = NULL;
    char a[64];

    if (rp_need_open(p, &h) == RP_STOP)
        return RP_STOP;
    vdc_ioctx_init_buf(&ctx, &seg, &dummy, 0);
    rp_before_call(p);
    int rc = p->be->pfnDiscard(h->bd, &ctx, r->off, (size_t)r->len, &pre, &post, &disc, &bitmap, r->discard_flags);
    int after = rp_after_call(p, "pfnDiscard");
    free(bitmap); /* the backend's allocation (RTMemAlloc is malloc in vdcc's world) */
    if (after == RP_STOP)
        return RP_STOP;
    if (rp_check_status(p, rc, 0, 0, false) == RP_STOP)
        return RP_STOP;
    if (RT_FAILURE(rc))
        return RP_GO;
    if (disc != RP_SENTINEL && disc > r->len)
        return rp_fail(p, "pfnDiscard reported %zu bytes discarded for a request of %llu: VD would overrun", disc,
                       (unsigned long long)r->len);
    const struct { const char *name; const vdc_num *want; size_t got; } outs[] = {
        { "pre", &r->pre, pre }, { "post", &r->post, post }, { "discarded", &r->discarded, disc },
    };
    for (unsigned i = 0; i < 3; i++) {
        if (outs[i].want->cmp == VDC_CMP_NONE)
            continue;
        if (outs[i].got == RP_SENTINEL)
            return rp_fail(p, "pfnDiscard did not set its %s output", outs[i].name);
        if (!rp_num_match(outs[i].want, outs[i].got))
            return rp_expect(p, "expected %s %s\nactual:   %zu", outs[i].name, rp_num_text(outs[i].want, a, sizeof a),
                             outs[i].got);
    }
    return RP_GO;
}
