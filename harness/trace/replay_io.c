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

#include <stdlib.h>
#include <string.h>

/* Protocol checks of one pfnRead/pfnWrite answer (section 6.4).  moved is
 * what went through the context; asked what the call was asked for. */
static int check_count(rp *p, const char *fn, int rc, size_t cb, size_t asked, size_t moved, uint64_t pos)
{
    bool miss = rc == VERR_VD_BLOCK_FREE;
    char s[64];
    const char *out = strcmp(fn, "pfnRead") == 0 ? "*pcbActuallyRead" : "*pcbWriteProcess";

    if (cb == RP_SENTINEL)
        return rp_fail(p, "%s at offset %llu returned %s but did not set %s", fn, (unsigned long long)pos,
                       rp_st(rc, s, sizeof s), out);
    if (cb == 0)
        return rp_fail(p, "%s at offset %llu returned %s with %s = 0: VD would loop forever", fn,
                       (unsigned long long)pos, rp_st(rc, s, sizeof s), out);
    if (cb > asked)
        return rp_fail(p, "%s at offset %llu returned %s with %s = %zu for a request of %zu bytes: VD would overrun",
                       fn, (unsigned long long)pos, rp_st(rc, s, sizeof s), out, cb, asked);
    if (miss && moved != 0)
        return rp_fail(p, "%s at offset %llu reported a miss (VERR_VD_BLOCK_FREE) but moved %zu bytes through the "
                       "I/O context; VD reads the image into that same context, so its cursor would be off",
                       fn, (unsigned long long)pos, moved);
    if (!miss && moved != cb)
        return rp_fail(p, "%s at offset %llu reported %zu bytes but moved %zu through the I/O context; "
                       "VD advances by the reported count, so the data would be misplaced",
                       fn, (unsigned long long)pos, cb, moved);
    return RP_GO;
}

/* One pfnRead over buf[0..cb) at pos. */
static int one_read(rp *p, rp_handle *h, uint64_t pos, uint8_t *buf, size_t cb, int *rc_out, size_t *got)
{
    struct VDIOCTX ctx;
    RTSGSEG seg;
    size_t n = RP_SENTINEL;

    vdc_ioctx_init_buf(&ctx, &seg, buf, cb);
    rp_before_call(p);
    int rc = p->be->pfnRead(h->bd, pos, cb, &ctx, &n);
    if (rp_after_call(p, "pfnRead") == RP_STOP)
        return RP_STOP;
    *rc_out = rc;
    *got = n;
    if (RT_SUCCESS(rc) || rc == VERR_VD_BLOCK_FREE)
        return check_count(p, "pfnRead", rc, n, cb, ctx.total - ctx.left, pos);
    return RP_GO;
}

/* One pfnWrite of src[0..cb) at pos. */
static int one_write(rp *p, rp_handle *h, uint64_t pos, uint8_t *src, size_t cb, int *rc_out, size_t *done)
{
    struct VDIOCTX ctx;
    RTSGSEG seg;
    size_t n = RP_SENTINEL;

    vdc_ioctx_init_buf(&ctx, &seg, src, cb);
    rp_before_call(p);
    int rc = p->be->pfnWrite(h->bd, pos, cb, &ctx, &n);
    if (rp_after_call(p, "pfnWrite") == RP_STOP)
        return RP_STOP;
    *rc_out = rc;
    *done = n;
    if (RT_SUCCESS(rc))
        return check_count(p, "pfnWrite", rc, n, cb, ctx.total - ctx.left, pos);
    return RP_GO;
}

/* VD's cache-write loop (section 7.7) over src[0..len) at off.  *rc_out is
 * the ending status, *written the bytes accepted. */
static int write_loop(rp *p, rp_handle *h, uint64_t off, uint8_t *src, size_t len, int *rc_out, uint64_t *written)
{
    size_t done = 0;
    int rc = VINF_SUCCESS;
    while (done < len) {
        size_t n;
        if (one_write(p, h, off + done, src + done, len - done, &rc, &n) == RP_STOP)
            return RP_STOP;
        if (RT_FAILURE(rc))
            break;
        done += n;
    }
    *rc_out = rc;
    *written = done;
    return RP_GO;
}

int rp_do_read(rp *p)
{
    const vdc_record *r = p->rec;
    rp_handle *h;
    int rc;
    size_t got, diff, len = (size_t)r->len;
    char a[64], b[64];

    if (rp_need_open(p, &h) == RP_STOP || rp_buf(p, len) == RP_STOP)
        return RP_STOP;
    memset(p->buf, RP_POISON, len);
    if (one_read(p, h, r->off, p->buf, len, &rc, &got) == RP_STOP)
        return RP_STOP;
    bool counted = RT_SUCCESS(rc) || rc == VERR_VD_BLOCK_FREE;
    if (rp_check_status(p, rc, counted ? got : 0, len, counted) == RP_STOP)
        return RP_STOP;
    if (!counted)
        return RP_GO;
    if (!rp_num_match(&r->count, got))
        return rp_fail(p, "expected count %s\nactual:   %s, count %zu", rp_num_text(&r->count, a, sizeof a),
                       rp_st(rc, b, sizeof b), got);
    if (RT_SUCCESS(rc) && r->data.nsegs > 0 && !vdc_data_match(&r->data, r->off, p->buf, got, &diff))
        return rp_fail_data(p, &r->data, r->off, p->buf, got, diff, "");
    return RP_GO;
}

int rp_do_write(rp *p)
{
    const vdc_record *r = p->rec;
    rp_handle *h;
    int rc;
    size_t done, len = (size_t)r->len;
    char a[64], b[64];

    if (rp_need_open(p, &h) == RP_STOP || rp_buf(p, len) == RP_STOP)
        return RP_STOP;
    vdc_data_fill(&r->data, r->off, p->buf, len);
    if (one_write(p, h, r->off, p->buf, len, &rc, &done) == RP_STOP)
        return RP_STOP;
    if (rp_check_status(p, rc, RT_SUCCESS(rc) ? done : 0, len, RT_SUCCESS(rc)) == RP_STOP)
        return RP_STOP;
    if (RT_SUCCESS(rc) && !rp_num_match(&r->count, done))
        return rp_fail(p, "expected count %s\nactual:   %s, count %zu", rp_num_text(&r->count, a, sizeof a),
                       rp_st(rc, b, sizeof b), done);
    return RP_GO;
}

int rp_do_vdread(rp *p)
{
    const vdc_record *r = p->rec;
    rp_handle *h;
    size_t len = (size_t)r->len, done = 0;
    uint64_t hits = 0;
    bool any_miss = false;
    int final = VINF_SUCCESS;
    unsigned piece = 0;
    char a[160], s[64], what[96];

    if (rp_need_open(p, &h) == RP_STOP || rp_buf(p, len) == RP_STOP)
        return RP_STOP;
    memset(p->buf, RP_POISON, len);
    while (done < len) {
        uint64_t pos = r->off + done;
        size_t got, diff, left = len - done;
        int rc;
        piece++;
        if (one_read(p, h, pos, p->buf + done, left, &rc, &got) == RP_STOP)
            return RP_STOP;
        if (!(RT_SUCCESS(rc) || rc == VERR_VD_BLOCK_FREE)) {
            final = rc;
            break;
        }
        bool miss = rc == VERR_VD_BLOCK_FREE;
        if (!rp_alts_match(&r->expect, rc, got, left))
            return rp_fail(p, "expected: %s (for every piece of the loop)\nactual:   piece %u at offset %llu: %s, "
                           "%zu bytes", rp_alts_text(&r->expect, a, sizeof a), piece, (unsigned long long)pos,
                           rp_st(rc, s, sizeof s), got);
        if (!miss && r->data.nsegs > 0 && !vdc_data_match(&r->data, pos, p->buf + done, got, &diff)) {
            snprintf(what, sizeof what, "piece %u of the loop (pfnRead at offset %llu)", piece, (unsigned long long)pos);
            return rp_fail_data(p, &r->data, pos, p->buf + done, got, diff, what);
        }
        if (r->should.n > 0 && !rp_alts_match(&r->should, rc, got, left)
            && rp_should(p, "should: %s, actual piece %u at offset %llu: %s, %zu bytes",
                         rp_alts_text(&r->should, a, sizeof a), piece, (unsigned long long)pos, rp_st(rc, s, sizeof s),
                         got) == RP_STOP)
            return RP_STOP;
        if (miss && r->fill) {
            /* VD writes what it read from the image chain into the cache. */
            int wrc;
            uint64_t written;
            vdc_data_fill(&r->data, pos, p->buf + done, got);
            if (write_loop(p, h, pos, p->buf + done, got, &wrc, &written) == RP_STOP)
                return RP_STOP;
            if (RT_FAILURE(wrc)) {
                final = wrc;
                break;
            }
        }
        if (miss)
            any_miss = true;
        else
            hits += got;
        done += got;
    }
    if (RT_FAILURE(final) && final != VERR_VD_BLOCK_FREE) {
        if (!rp_alts_match(&r->expect, final, 0, len - done))
            return rp_fail(p, "expected: %s\nactual:   the loop ended with %s after %zu of %zu bytes",
                           rp_alts_text(&r->expect, a, sizeof a), rp_st(final, s, sizeof s), done, len);
        if (r->should.n > 0 && !rp_alts_match(&r->should, final, 0, len - done)
            && rp_should(p, "should: %s, actual: the loop ended with %s", rp_alts_text(&r->should, a, sizeof a),
                         rp_st(final, s, sizeof s)) == RP_STOP)
            return RP_STOP;
    }
    if (p->o->strict && r->seen_given) {
        int obs = RT_FAILURE(final) ? final : any_miss ? VERR_VD_BLOCK_FREE : VINF_SUCCESS;
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
            return rp_fail(p, "expected %s %s\nactual:   %zu", outs[i].name, rp_num_text(outs[i].want, a, sizeof a),
                           outs[i].got);
    }
    return RP_GO;
}
