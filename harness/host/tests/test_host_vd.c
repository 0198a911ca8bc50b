/*
 * harness/host/tests/test_host_vd.c - the VD driver (vd.h): how single
 * answers are judged and how the read and cache-write loops advance, on a
 * scripted backend whose every answer the test chooses.
 */
#include "harness/host/ioctx.h"
#include "harness/host/tests/fixture.h"
#include "harness/host/vd.h"

#define NO_SET ((size_t)-1) /* the step leaves the output count alone */

typedef struct step {
    int    rc;
    size_t count; /* reported, or NO_SET */
    size_t move;  /* bytes moved through the context */
} step;

typedef struct script {
    const step *steps;
    unsigned    n, at;
    uint64_t    offs[16]; /* where each call was asked */
    size_t      asks[16];
} script;

static int play(void *bd, uint64_t off, size_t cb, PVDIOCTX ctx, size_t *pcb, bool write)
{
    script *s = bd;
    uint8_t tmp[4096];
    if (s->at >= s->n || s->at >= 16) {
        CHECK(!"more calls than the script has answers");
        return VERR_INTERNAL_ERROR;
    }
    const step *st = &s->steps[s->at];
    s->offs[s->at] = off;
    s->asks[s->at++] = cb;
    memset(tmp, 0x3C, sizeof tmp);
    if (write)
        vdc_ioctx_copy_from(ctx, tmp, st->move);
    else
        vdc_ioctx_copy_to(ctx, tmp, st->move);
    if (st->count != NO_SET)
        *pcb = st->count;
    return st->rc;
}

static int s_read(void *bd, uint64_t off, size_t cb, PVDIOCTX ctx, size_t *pcb)
{
    return play(bd, off, cb, ctx, pcb, false);
}

static int s_write(void *bd, uint64_t off, size_t cb, PVDIOCTX ctx, size_t *pcb)
{
    return play(bd, off, cb, ctx, pcb, true);
}

static vdc_vd_io one(bool write, step st, size_t cb)
{
    static VDCACHEBACKEND be;
    be.pfnRead = s_read;
    be.pfnWrite = s_write;
    script s = { &st, 1, 0, { 0 }, { 0 } };
    vdc_vd vd = { &be, &s, NULL, NULL, NULL, NULL };
    uint8_t buf[4096] = { 0 };
    return write ? vdc_vd_write(&vd, 512, buf, cb) : vdc_vd_read(&vd, 512, buf, cb);
}

static void test_single_answers(void)
{
    vdc_vd_io io = one(false, (step){ VINF_SUCCESS, 512, 512 }, 1024);
    CHECK(io.rule == VDC_VD_RULE_NONE && io.clause == NULL && vdc_vd_is_hit(&io) && io.count == 512);
    io = one(false, (step){ VERR_VD_BLOCK_FREE, 1024, 0 }, 1024);
    CHECK(io.rule == VDC_VD_RULE_NONE && vdc_vd_is_miss(&io) && vdc_vd_usable(&io));
    io = one(false, (step){ VINF_SUCCESS, NO_SET, 0 }, 1024);
    CHECK(io.rule == VDC_VD_RULE_UNSET && strcmp(io.clause, "READ-1") == 0 && !vdc_vd_usable(&io));
    io = one(false, (step){ VERR_VD_BLOCK_FREE, 0, 0 }, 1024);
    CHECK(io.rule == VDC_VD_RULE_ZERO && strcmp(io.clause, "READ-2") == 0);
    io = one(false, (step){ VINF_SUCCESS, 2048, 1024 }, 1024);
    CHECK(io.rule == VDC_VD_RULE_OVERRUN && strcmp(io.clause, "READ-1") == 0);
    io = one(false, (step){ VINF_SUCCESS, 1024, 512 }, 1024);
    CHECK(io.rule == VDC_VD_RULE_MOVED && io.moved == 512 && vdc_vd_usable(&io));
    io = one(false, (step){ VERR_VD_BLOCK_FREE, 1024, 512 }, 1024);
    CHECK(io.rule == VDC_VD_RULE_MISS_MOVED && strcmp(io.clause, "READ-2") == 0);
    io = one(false, (step){ VERR_VD_ASYNC_IO_IN_PROGRESS, 1024, 0 }, 1024);
    CHECK(io.rule == VDC_VD_RULE_ASYNC && strcmp(io.clause, "READ-4") == 0 && !vdc_vd_counted(&io));
    io = one(false, (step){ VERR_READ_ERROR, NO_SET, 0 }, 1024);
    CHECK(io.rule == VDC_VD_RULE_NONE && !vdc_vd_counted(&io));
    io = one(true, (step){ VERR_VD_BLOCK_FREE, 1024, 0 }, 1024);
    CHECK(!vdc_vd_counted(&io)); /* a write cannot miss */
    io = one(true, (step){ VINF_SUCCESS, 0, 0 }, 1024);
    CHECK(io.rule == VDC_VD_RULE_ZERO && strcmp(io.clause, "WRITE-1") == 0);
    io = one(true, (step){ VERR_VD_ASYNC_IO_IN_PROGRESS, NO_SET, 0 }, 1024);
    CHECK(io.rule == VDC_VD_RULE_ASYNC && strcmp(io.clause, "WRITE-1") == 0);
    io = one(true, (step){ VINF_SUCCESS, 512, 1024 }, 1024);
    CHECK(io.rule == VDC_VD_RULE_MOVED && !io.declined);
    io = one(true, (step){ VINF_SUCCESS, 512, 0 }, 1024);
    CHECK(io.rule == VDC_VD_RULE_MOVED && strcmp(io.clause, "WRITE-1") == 0 && !io.declined);
    /* the whole rest reported, fewer bytes taken: declined, not misplaced */
    io = one(true, (step){ VINF_SUCCESS, 1024, 512 }, 1024);
    CHECK(io.rule == VDC_VD_RULE_NONE && io.clause == NULL && io.declined && io.moved == 512);
    io = one(true, (step){ VINF_SUCCESS, 1024, 0 }, 1024);
    CHECK(io.rule == VDC_VD_RULE_NONE && io.declined && vdc_vd_usable(&io));
    io = one(true, (step){ VINF_SUCCESS, 1024, 1024 }, 1024);
    CHECK(io.rule == VDC_VD_RULE_NONE && !io.declined);
}

static const uint8_t *fill_src(void *user, uint64_t off, uint8_t *window, size_t cb)
{
    (void)off;
    (void)user;
    memset(window, 0x77, cb);
    return window;
}

static vdc_vd_next skip_failures(void *user, const vdc_vd_io *io, uint8_t *data)
{
    (void)user;
    (void)data;
    return vdc_vd_counted(io) ? VDC_VD_NEXT : VDC_VD_SKIP;
}

static void test_read_loop(void)
{
    static VDCACHEBACKEND be;
    be.pfnRead = s_read;
    be.pfnWrite = s_write;
    /* hit 512, miss 1024 (filled by two writes), failure ends it */
    const step steps[] = {
        { VINF_SUCCESS, 512, 512 },        { VERR_VD_BLOCK_FREE, 1024, 0 }, { VINF_SUCCESS, 512, 512 },
        { VINF_SUCCESS, 512, 512 },        { VERR_READ_ERROR, NO_SET, 0 },
    };
    script s = { steps, 5, 0, { 0 }, { 0 } };
    vdc_vd vd = { &be, &s, NULL, NULL, NULL, NULL };
    uint8_t buf[4096] = { 0 };
    vdc_vd_loop_opts o = { .poison = 0xA5, .fill = true, .fill_data = fill_src };
    vdc_vd_loop l = vdc_vd_read_loop(&vd, &o, 1000, buf, 4096);
    CHECK_EQ(l.end, VDC_VD_END_FAILED);
    CHECK_EQ(l.rc, VERR_READ_ERROR);
    CHECK_EQ(l.done, 1536);
    CHECK_EQ(l.hit, 512);
    CHECK_EQ(l.miss, 1024);
    CHECK_EQ(l.calls, 5);
    CHECK(s.offs[1] == 1512 && s.asks[1] == 3584);  /* the rest, after the hit */
    CHECK(s.offs[2] == 1512 && s.asks[2] == 1024);  /* the fill: the miss's count */
    CHECK(s.offs[3] == 2024 && s.asks[3] == 512);   /* the rest of the fill */
    CHECK(s.offs[4] == 2536 && s.asks[4] == 2560);
    CHECK(buf[512] == 0x77 && buf[1536] == 0xA5);

    /* windows of max_xfer, a skipped failure, then a count it cannot advance by */
    const step more[] = { { VERR_READ_ERROR, NO_SET, 0 }, { VERR_VD_BLOCK_FREE, 100, 0 }, { VINF_SUCCESS, 0, 0 } };
    script t = { more, 3, 0, { 0 }, { 0 } };
    vd.bd = &t;
    o = (vdc_vd_loop_opts){ .max_xfer = 1000, .poison = -1 };
    o.answer = skip_failures;
    l = vdc_vd_read_loop(&vd, &o, 0, buf, 4096);
    CHECK_EQ(l.end, VDC_VD_END_BROKE);
    CHECK_EQ(l.done, 1100);
    CHECK(t.asks[0] == 1000 && t.asks[1] == 1000 && t.offs[2] == 1100);
    CHECK_EQ(l.last.rule, VDC_VD_RULE_ZERO);

    /* the call limit */
    const step hits[] = { { VINF_SUCCESS, 1, 1 }, { VINF_SUCCESS, 1, 1 }, { VINF_SUCCESS, 1, 1 } };
    script u = { hits, 3, 0, { 0 }, { 0 } };
    vd.bd = &u;
    o = (vdc_vd_loop_opts){ .max_calls = 2, .poison = -1 };
    l = vdc_vd_read_loop(&vd, &o, 0, buf, 4096);
    CHECK_EQ(l.end, VDC_VD_END_LIMIT);
    CHECK_EQ(l.calls, 2);
}

static void test_write_loop(void)
{
    static VDCACHEBACKEND be;
    be.pfnWrite = s_write;
    const step steps[] = { { VINF_SUCCESS, 1000, 1000 }, { VINF_SUCCESS, 3096, 3096 } };
    script s = { steps, 2, 0, { 0 }, { 0 } };
    vdc_vd vd = { &be, &s, NULL, NULL, NULL, NULL };
    uint8_t buf[4096] = { 0 };
    vdc_vd_loop_opts o = { .poison = -1 };
    vdc_vd_loop l = vdc_vd_write_loop(&vd, &o, 0, buf, 4096);
    CHECK_EQ(l.end, VDC_VD_END_DONE);
    CHECK_EQ(l.rc, VINF_SUCCESS);
    CHECK_EQ(l.done, 4096);
    CHECK(s.offs[1] == 1000 && s.asks[1] == 3096);

    const step fails[] = { { VINF_SUCCESS, 512, 512 }, { VERR_DISK_FULL, NO_SET, 0 } };
    script t = { fails, 2, 0, { 0 }, { 0 } };
    vd.bd = &t;
    l = vdc_vd_write_loop(&vd, &o, 0, buf, 4096);
    CHECK_EQ(l.end, VDC_VD_END_FAILED);
    CHECK_EQ(l.rc, VERR_DISK_FULL);
    CHECK_EQ(l.done, 512);
}

CHECK_MAIN(CHECK_CASE(test_single_answers), CHECK_CASE(test_read_loop), CHECK_CASE(test_write_loop))
