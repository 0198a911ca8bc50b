/*
 * harness/host/tests/test_host_ioint.c - all 23 VDINTERFACEIOINT members of
 * the host (host.h), on the memory fs and the POSIX fs, through the
 * interface exactly as a backend calls them (pfnX(Core.pvUser, ...)).
 * Every misuse case checks both the status and the misuse counter.
 */
#include "harness/host/host.h"
#include "harness/host/tests/fixture.h"

typedef struct env {
    vdc_host *h;
    PVDINTERFACEIOINT io;
    void *u; /* Core.pvUser */
} env;

static bool env_init(env *e, vdc_fs *fs)
{
    e->h = vdc_host_new(fs);
    if (e->h == NULL)
        return false;
    e->io = vdc_if_ioint(vdc_host_image_ifs(e->h));
    e->u = e->io != NULL ? e->io->Core.pvUser : NULL;
    return e->io != NULL;
}

static uint64_t misuse_of(const env *e)
{
    return vdc_host_get_stats(e->h)->misuse;
}

static bool log_has(const env *e, const char *needle)
{
    return strstr(vdc_host_log(e->h), needle) != NULL;
}

static PVDIOSTORAGE xopen(env *e, const char *name, uint32_t fOpen)
{
    PVDIOSTORAGE s = (PVDIOSTORAGE)0x1;
    int rc = e->io->pfnOpen(e->u, name, fOpen, &s);
    if (RT_FAILURE(rc)) {
        fprintf(stderr, "  pfnOpen(%s) failed: %d\n", name, rc);
        return NULL;
    }
    return s;
}

#define CREATE_RW vdc_open_flags_to_file(0, true)
#define OPEN_RW   vdc_open_flags_to_file(0, false)
#define OPEN_RO   vdc_open_flags_to_file(VD_OPEN_FLAGS_READONLY, false)

static bool completion_called;
static int on_complete(void *pBackendData, PVDIOCTX pIoCtx, void *pvUser, int rcReq)
{
    (void)pBackendData, (void)pIoCtx, (void)pvUser, (void)rcReq;
    completion_called = true;
    return VINF_SUCCESS;
}

/* --- members 1-2: Open, Close ------------------------------------------- */

static void open_close(vdc_fs *fs, bool mem)
{
    (void)mem;
    env e;
    REQUIRE(env_init(&e, fs));
    const vdc_host_stats *st = vdc_host_get_stats(e.h);
    PVDIOSTORAGE s = (PVDIOSTORAGE)0x1;

    CHECK_EQ(e.io->pfnOpen(e.u, "img", OPEN_RW, &s), VERR_FILE_NOT_FOUND);
    CHECK(s == NULL);
    CHECK_EQ(e.io->pfnOpen(e.u, "img", CREATE_RW, &s), VINF_SUCCESS);
    CHECK(s != NULL);
    CHECK_EQ(st->opens, 1);
    CHECK_EQ(st->open_storages, 1);
    PVDIOSTORAGE s2 = (PVDIOSTORAGE)0x1;
    CHECK_EQ(e.io->pfnOpen(e.u, "img", CREATE_RW, &s2), VERR_ALREADY_EXISTS);
    CHECK(s2 == NULL);
    /* The flags reach the storage: a second read-write open is denied. */
    CHECK_EQ(e.io->pfnOpen(e.u, "img", OPEN_RW, &s2), VERR_SHARING_VIOLATION);
    CHECK_EQ(e.io->pfnOpen(e.u, "img", OPEN_RO, &s2), VINF_SUCCESS);
    CHECK(s2 != NULL && s2 != s);
    CHECK_EQ(st->open_storages, 2);
    CHECK_EQ(misuse_of(&e), 0);

    CHECK_EQ(e.io->pfnClose(e.u, s2), VINF_SUCCESS);
    CHECK_EQ(e.io->pfnClose(e.u, s), VINF_SUCCESS);
    CHECK_EQ(st->closes, 2);
    CHECK_EQ(st->open_storages, 0);
    CHECK_EQ(misuse_of(&e), 0);

    /* Misuse: no access mode, NULL out pointer, NULL location. */
    CHECK_EQ(e.io->pfnOpen(e.u, "img", RTFILE_O_OPEN | RTFILE_O_DENY_NONE, &s), VERR_INVALID_PARAMETER);
    CHECK_EQ(misuse_of(&e), 1);
    CHECK(log_has(&e, "misuse: pfnOpen('img'): fOpen 0x780 has no access mode"));
    CHECK_EQ(e.io->pfnOpen(e.u, "img", OPEN_RW, NULL), VERR_INVALID_POINTER);
    CHECK_EQ(e.io->pfnOpen(e.u, NULL, OPEN_RW, &s), VERR_INVALID_POINTER);
    CHECK_EQ(misuse_of(&e), 3);
    CHECK_EQ(st->opens, 2);
    /* A pvUser that is not a host is refused without a crash. */
    int not_a_host = 0;
    CHECK_EQ(e.io->pfnOpen(&not_a_host, "img", OPEN_RW, &s), VERR_INVALID_POINTER);
    CHECK_EQ(e.io->pfnOpen(NULL, "img", OPEN_RW, &s), VERR_INVALID_POINTER);
    vdc_host_free(e.h);
}
FOR_EACH_FS(open_close)

static void bad_handles(vdc_fs *fs, bool mem)
{
    (void)mem;
    env e;
    REQUIRE(env_init(&e, fs));
    uint8_t buf[16] = { 0 };
    uint64_t cb;
    RTSGSEG seg;
    struct VDIOCTX ctx;
    vdc_ioctx_init_buf(&ctx, &seg, buf, sizeof buf);
    struct { uint64_t junk[8]; } fake = { { 0 } };
    PVDIOSTORAGE unknown = (PVDIOSTORAGE)&fake;

    PVDIOSTORAGE handles[2] = { NULL, unknown };
    uint64_t expect = 0;
    for (int i = 0; i < 2; i++) {
        PVDIOSTORAGE s = handles[i];
        CHECK_EQ(e.io->pfnClose(e.u, s), VERR_INVALID_HANDLE);
        CHECK_EQ(e.io->pfnGetSize(e.u, s, &cb), VERR_INVALID_HANDLE);
        CHECK_EQ(e.io->pfnSetSize(e.u, s, 0), VERR_INVALID_HANDLE);
        CHECK_EQ(e.io->pfnSetAllocationSize(e.u, s, 0, 0, NULL, 0, 0), VERR_INVALID_HANDLE);
        CHECK_EQ(e.io->pfnReadUser(e.u, s, 0, &ctx, 1), VERR_INVALID_HANDLE);
        CHECK_EQ(e.io->pfnWriteUser(e.u, s, 0, &ctx, 1, NULL, NULL), VERR_INVALID_HANDLE);
        CHECK_EQ(e.io->pfnReadMeta(e.u, s, 0, buf, 1, NULL, NULL, NULL, NULL), VERR_INVALID_HANDLE);
        CHECK_EQ(e.io->pfnWriteMeta(e.u, s, 0, buf, 1, NULL, NULL, NULL), VERR_INVALID_HANDLE);
        CHECK_EQ(e.io->pfnFlush(e.u, s, NULL, NULL, NULL), VERR_INVALID_HANDLE);
        expect += 9;
        CHECK_EQ(misuse_of(&e), expect);
    }
    CHECK(log_has(&e, "misuse: pfnGetSize: NULL storage handle"));
    CHECK(log_has(&e, "misuse: pfnFlush: unknown storage handle"));
    CHECK_EQ(fake.junk[0], 0); /* the fake was never written */
    CHECK_EQ(ctx.left, sizeof buf);

    /* A closed handle is recognised as such, also after many more opens. */
    PVDIOSTORAGE s = xopen(&e, "f", CREATE_RW);
    REQUIRE(s != NULL);
    CHECK_EQ(e.io->pfnClose(e.u, s), VINF_SUCCESS);
    for (int i = 0; i < 31; i++) {
        PVDIOSTORAGE t = xopen(&e, "f", OPEN_RW);
        REQUIRE(t != NULL);
        CHECK(t != s);
        CHECK_EQ(e.io->pfnClose(e.u, t), VINF_SUCCESS);
    }
    vdc_host_log_clear(e.h);
    CHECK_EQ(e.io->pfnClose(e.u, s), VERR_INVALID_HANDLE);
    CHECK_EQ(e.io->pfnGetSize(e.u, s, &cb), VERR_INVALID_HANDLE);
    CHECK(log_has(&e, "misuse: pfnClose: storage handle"));
    CHECK(log_has(&e, "('f') was closed"));
    CHECK_EQ(misuse_of(&e), expect + 2);
    CHECK_EQ(vdc_host_get_stats(e.h)->open_storages, 0);
    vdc_host_free(e.h);
}
FOR_EACH_FS(bad_handles)

/* --- members 3-6: Delete, Move, GetFreeSpace, GetModificationTime --------- */

static void names(vdc_fs *fs, bool mem)
{
    env e;
    REQUIRE(env_init(&e, fs));
    PVDIOSTORAGE s = xopen(&e, "a", CREATE_RW);
    REQUIRE(s != NULL);
    CHECK_EQ(e.io->pfnWriteMeta(e.u, s, 0, "AAAA", 4, NULL, NULL, NULL), VINF_SUCCESS);
    CHECK_EQ(e.io->pfnClose(e.u, s), VINF_SUCCESS);
    s = xopen(&e, "b", CREATE_RW);
    REQUIRE(s != NULL);
    CHECK_EQ(e.io->pfnClose(e.u, s), VINF_SUCCESS);

    /* GetModificationTime agrees with the storage. */
    RTTIMESPEC t = { -1 };
    int64_t ns = 0;
    CHECK_EQ(e.io->pfnGetModificationTime(e.u, "a", &t), VINF_SUCCESS);
    CHECK_EQ(fs->ops->mtime(fs, "a", &ns), VINF_SUCCESS);
    CHECK_EQ(t.i64NanosecondsRelativeToUnixEpoch, ns);
    if (mem)
        CHECK(ns > INT64_C(1577836800000000000));
    CHECK_EQ(e.io->pfnGetModificationTime(e.u, "zz", &t), VERR_FILE_NOT_FOUND);

    /* GetFreeSpace. */
    int64_t space = -1;
    CHECK_EQ(e.io->pfnGetFreeSpace(e.u, "a", &space), VINF_SUCCESS);
    CHECK(space > 0);
    if (mem)
        CHECK_EQ(space, (256 << 20) - 65536);

    /* Move: refuses to replace without the flag, replaces with it. */
    CHECK_EQ(e.io->pfnMove(e.u, "a", "b", 0), VERR_ALREADY_EXISTS);
    CHECK_EQ(e.io->pfnMove(e.u, "a", "b", RTFILEMOVE_FLAGS_REPLACE), VINF_SUCCESS);
    CHECK_EQ(e.io->pfnGetModificationTime(e.u, "a", &t), VERR_FILE_NOT_FOUND);
    s = xopen(&e, "b", OPEN_RO);
    REQUIRE(s != NULL);
    uint64_t cb = 0;
    CHECK_EQ(e.io->pfnGetSize(e.u, s, &cb), VINF_SUCCESS);
    CHECK_EQ(cb, 4);
    CHECK_EQ(e.io->pfnClose(e.u, s), VINF_SUCCESS);
    CHECK_EQ(e.io->pfnMove(e.u, "b", "c", 0), VINF_SUCCESS);
    CHECK_EQ(e.io->pfnMove(e.u, "b", "c", 0), VERR_FILE_NOT_FOUND);

    /* Delete. */
    CHECK_EQ(e.io->pfnDelete(e.u, "c"), VINF_SUCCESS);
    CHECK_EQ(e.io->pfnDelete(e.u, "c"), VERR_FILE_NOT_FOUND);
    CHECK_EQ(e.io->pfnGetModificationTime(e.u, "c", &t), VERR_FILE_NOT_FOUND);
    CHECK_EQ(misuse_of(&e), 0);

    /* NULL arguments are misuse. */
    CHECK_EQ(e.io->pfnDelete(e.u, NULL), VERR_INVALID_POINTER);
    CHECK_EQ(e.io->pfnMove(e.u, NULL, "x", 0), VERR_INVALID_POINTER);
    CHECK_EQ(e.io->pfnMove(e.u, "x", NULL, 0), VERR_INVALID_POINTER);
    CHECK_EQ(e.io->pfnGetFreeSpace(e.u, NULL, &space), VERR_INVALID_POINTER);
    CHECK_EQ(e.io->pfnGetFreeSpace(e.u, "a", NULL), VERR_INVALID_POINTER);
    CHECK_EQ(e.io->pfnGetModificationTime(e.u, NULL, &t), VERR_INVALID_POINTER);
    CHECK_EQ(e.io->pfnGetModificationTime(e.u, "a", NULL), VERR_INVALID_POINTER);
    CHECK_EQ(misuse_of(&e), 7);
    vdc_host_free(e.h);
}
FOR_EACH_FS(names)

/* --- members 7-9: GetSize, SetSize, SetAllocationSize ------------------- */

static unsigned seen_pct[8], nseen;
static int seen_rc;
static int record_progress(void *pvUser, unsigned pct)
{
    (void)pvUser;
    if (nseen < 8)
        seen_pct[nseen++] = pct;
    return seen_rc;
}

static void sizes(vdc_fs *fs, bool mem)
{
    (void)mem;
    env e;
    REQUIRE(env_init(&e, fs));
    const vdc_host_stats *st = vdc_host_get_stats(e.h);
    PVDIOSTORAGE s = xopen(&e, "s", CREATE_RW);
    REQUIRE(s != NULL);
    uint64_t cb = 99;
    CHECK_EQ(e.io->pfnGetSize(e.u, s, &cb), VINF_SUCCESS);
    CHECK_EQ(cb, 0);
    CHECK_EQ(e.io->pfnSetSize(e.u, s, 123456), VINF_SUCCESS);
    CHECK_EQ(e.io->pfnGetSize(e.u, s, &cb), VINF_SUCCESS);
    CHECK_EQ(cb, 123456);
    CHECK_EQ(e.io->pfnGetSize(e.u, s, NULL), VERR_INVALID_POINTER);
    CHECK_EQ(misuse_of(&e), 1);

    /* SetAllocationSize with the host's own progress interface. */
    PVDINTERFACEPROGRESS prog = vdc_if_progress(vdc_host_op_ifs(e.h));
    REQUIRE(prog != NULL);
    CHECK_EQ(e.io->pfnSetAllocationSize(e.u, s, 1 << 20, 0, prog, 10, 80), VINF_SUCCESS);
    CHECK_EQ(e.io->pfnGetSize(e.u, s, &cb), VINF_SUCCESS);
    CHECK_EQ(cb, 1 << 20);
    CHECK_EQ(st->progress_calls, 2);
    CHECK_EQ(st->last_progress, 90);
    /* Without progress. */
    CHECK_EQ(e.io->pfnSetAllocationSize(e.u, s, 4096, 0, NULL, 0, 0), VINF_SUCCESS);
    CHECK_EQ(e.io->pfnGetSize(e.u, s, &cb), VINF_SUCCESS);
    CHECK_EQ(cb, 4096);
    CHECK_EQ(st->progress_calls, 2);
    CHECK_EQ(misuse_of(&e), 1);

    /* A backend's own progress interface sees start and end; its failure
     * (cancel) is passed back. */
    VDINTERFACEPROGRESS mine = { { VDINTERFACE_MAGIC, "mine", NULL, VDINTERFACETYPE_PROGRESS,
                                   sizeof(VDINTERFACEPROGRESS), NULL },
                                 record_progress };
    nseen = 0;
    seen_rc = VINF_SUCCESS;
    CHECK_EQ(e.io->pfnSetAllocationSize(e.u, s, 8192, 0, &mine, 20, 30), VINF_SUCCESS);
    CHECK_EQ(nseen, 2);
    CHECK_EQ(seen_pct[0], 20);
    CHECK_EQ(seen_pct[1], 50);
    nseen = 0;
    seen_rc = VERR_GENERAL_FAILURE;
    CHECK_EQ(e.io->pfnSetAllocationSize(e.u, s, 9000, 0, &mine, 0, 100), VERR_GENERAL_FAILURE);
    CHECK_EQ(nseen, 1);
    CHECK_EQ(e.io->pfnGetSize(e.u, s, &cb), VINF_SUCCESS);
    CHECK_EQ(cb, 8192); /* cancelled before allocating */

    /* Misuse: flags, range past 100, a broken progress interface. */
    CHECK_EQ(e.io->pfnSetAllocationSize(e.u, s, 1, 1, NULL, 0, 0), VERR_INVALID_PARAMETER);
    CHECK(log_has(&e, "misuse: pfnSetAllocationSize: fFlags 0x1, must be 0"));
    CHECK_EQ(e.io->pfnSetAllocationSize(e.u, s, 1, 0, prog, 60, 50), VERR_INVALID_PARAMETER);
    CHECK_EQ(e.io->pfnSetAllocationSize(e.u, s, 1, 0, NULL, UINT32_MAX, 2), VERR_INVALID_PARAMETER);
    mine.Core.u32Magic = 0xdeadbeef;
    CHECK_EQ(e.io->pfnSetAllocationSize(e.u, s, 1, 0, &mine, 0, 0), VERR_INVALID_PARAMETER);
    mine.Core.u32Magic = VDINTERFACE_MAGIC;
    mine.Core.cbSize = 48;
    CHECK_EQ(e.io->pfnSetAllocationSize(e.u, s, 1, 0, &mine, 0, 0), VERR_INVALID_PARAMETER);
    CHECK_EQ(misuse_of(&e), 6);
    CHECK_EQ(e.io->pfnGetSize(e.u, s, &cb), VINF_SUCCESS);
    CHECK_EQ(cb, 8192); /* none of them changed the size */
    CHECK_EQ(e.io->pfnClose(e.u, s), VINF_SUCCESS);

    /* Through a read-only handle: the storage refuses, no misuse. */
    s = xopen(&e, "s", OPEN_RO);
    REQUIRE(s != NULL);
    CHECK_EQ(e.io->pfnSetSize(e.u, s, 1), VERR_ACCESS_DENIED);
    CHECK_EQ(e.io->pfnSetAllocationSize(e.u, s, 1, 0, NULL, 0, 0), VERR_ACCESS_DENIED);
    CHECK_EQ(misuse_of(&e), 6);
    CHECK_EQ(e.io->pfnClose(e.u, s), VINF_SUCCESS);
    vdc_host_free(e.h);
}
FOR_EACH_FS(sizes)

/* --- members 10-11: ReadUser, WriteUser ----------------------------------- */

static void user_io(vdc_fs *fs, bool mem)
{
    (void)mem;
    env e;
    REQUIRE(env_init(&e, fs));
    const vdc_host_stats *st = vdc_host_get_stats(e.h);
    PVDIOSTORAGE s = xopen(&e, "u", CREATE_RW);
    REQUIRE(s != NULL);

    /* Write 3000 bytes from three segments (one empty) at offset 70000. */
    uint8_t src[3000], a[1000], b[2000];
    pattern_fill(src, sizeof src, 30, 0);
    memcpy(a, src, 1000);
    memcpy(b, src + 1000, 2000);
    RTSGSEG wsegs[3] = { { a, 1000 }, { NULL, 0 }, { b, 2000 } };
    struct VDIOCTX w;
    vdc_ioctx_init(&w, wsegs, 3);
    completion_called = false;
    CHECK_EQ(e.io->pfnWriteUser(e.u, s, 70000, &w, 1200, on_complete, &w), VINF_SUCCESS);
    CHECK_EQ(w.left, 1800);
    CHECK_EQ(e.io->pfnWriteUser(e.u, s, 71200, &w, 1800, NULL, NULL), VINF_SUCCESS);
    CHECK_EQ(w.left, 0);
    CHECK(!completion_called); /* synchronous: never called */
    CHECK_EQ(st->user_writes, 2);
    CHECK_EQ(st->bytes_written, 3000);
    uint8_t back[3000];
    CHECK_EQ(e.io->pfnReadMeta(e.u, s, 70000, back, 3000, NULL, NULL, NULL, NULL), VINF_SUCCESS);
    CHECK(memcmp(back, src, 3000) == 0);
    uint8_t gap[16];
    CHECK_EQ(e.io->pfnReadMeta(e.u, s, 69990, gap, 10, NULL, NULL, NULL, NULL), VINF_SUCCESS);
    CHECK_EQ(gap[0] | gap[9], 0);

    /* Read it back into four segments. */
    uint8_t r1[7], r2[993], r3[1500], r4[600];
    memset(r4, 0x55, sizeof r4);
    RTSGSEG rsegs[4] = { { r1, 7 }, { r2, 993 }, { r3, 1500 }, { r4, 600 } };
    struct VDIOCTX r;
    vdc_ioctx_init(&r, rsegs, 4);
    CHECK_EQ(e.io->pfnReadUser(e.u, s, 70000, &r, 3000), VINF_SUCCESS);
    CHECK_EQ(r.left, 100);
    CHECK(memcmp(r1, src, 7) == 0);
    CHECK(memcmp(r2, src + 7, 993) == 0);
    CHECK(memcmp(r3, src + 1000, 1500) == 0);
    CHECK(memcmp(r4, src + 2500, 500) == 0);
    CHECK_EQ(r4[500], 0x55);
    CHECK_EQ(st->user_reads, 1);
    CHECK_EQ(misuse_of(&e), 0);

    /* More than the context allows: misuse, nothing moved. */
    CHECK_EQ(e.io->pfnReadUser(e.u, s, 70000, &r, 101), VERR_INVALID_PARAMETER);
    CHECK_EQ(r.left, 100);
    CHECK_EQ(r4[500], 0x55);
    CHECK_EQ(misuse_of(&e), 1);
    CHECK(log_has(&e, "misuse: pfnReadUser: 101 bytes, but the I/O context allows only 100"));
    vdc_ioctx_init(&w, wsegs, 3);
    CHECK_EQ(e.io->pfnWriteUser(e.u, s, 0, &w, 3001, NULL, NULL), VERR_INVALID_PARAMETER);
    CHECK_EQ(w.left, 3000);
    CHECK_EQ(misuse_of(&e), 2);
    uint64_t cb = 0;
    CHECK_EQ(e.io->pfnGetSize(e.u, s, &cb), VINF_SUCCESS);
    CHECK_EQ(cb, 73000); /* the refused write at 0 did not happen... */
    CHECK_EQ(e.io->pfnReadMeta(e.u, s, 0, gap, 4, NULL, NULL, NULL, NULL), VINF_SUCCESS);
    CHECK_EQ(gap[0] | gap[1] | gap[2] | gap[3], 0);

    /* Past the end: VERR_EOF, not misuse, and the context is not advanced
     * (the bytes before the end may already be in its buffer). */
    CHECK_EQ(e.io->pfnReadUser(e.u, s, 72950, &r, 51), VERR_EOF);
    CHECK_EQ(r.left, 100);
    CHECK_EQ(e.io->pfnReadUser(e.u, s, 72950, &r, 50), VINF_SUCCESS);
    CHECK_EQ(r.left, 50);
    CHECK_EQ(r4[500], src[2950]);
    CHECK_EQ(misuse_of(&e), 2);

    /* Zero bytes: fine. */
    CHECK_EQ(e.io->pfnReadUser(e.u, s, 0, &r, 0), VINF_SUCCESS);
    CHECK_EQ(r.left, 50);

    /* Invalid contexts. */
    CHECK_EQ(e.io->pfnReadUser(e.u, s, 0, NULL, 1), VERR_INVALID_POINTER);
    CHECK_EQ(e.io->pfnWriteUser(e.u, s, 0, NULL, 1, NULL, NULL), VERR_INVALID_POINTER);
    struct VDIOCTX bad = r;
    bad.magic = 0;
    CHECK_EQ(e.io->pfnReadUser(e.u, s, 0, &bad, 1), VERR_INVALID_POINTER);
    CHECK_EQ(misuse_of(&e), 5);
    CHECK(log_has(&e, "misuse: pfnReadUser: NULL I/O context"));
    CHECK(log_has(&e, "misuse: pfnReadUser: invalid I/O context"));
    CHECK_EQ(e.io->pfnClose(e.u, s), VINF_SUCCESS);

    /* Writing through a read-only handle: the storage says no. */
    s = xopen(&e, "u", OPEN_RO);
    REQUIRE(s != NULL);
    vdc_ioctx_init(&w, wsegs, 3);
    CHECK_EQ(e.io->pfnWriteUser(e.u, s, 0, &w, 10, NULL, NULL), VERR_ACCESS_DENIED);
    CHECK_EQ(w.left, 3000); /* cursor put back */
    CHECK_EQ(misuse_of(&e), 5);
    CHECK_EQ(e.io->pfnClose(e.u, s), VINF_SUCCESS);
    vdc_host_free(e.h);
}
FOR_EACH_FS(user_io)

/* --- members 12-15: ReadMeta, WriteMeta, MetaXferRelease, Flush ------------ */

static void meta_and_flush(vdc_fs *fs, bool mem)
{
    (void)mem;
    env e;
    REQUIRE(env_init(&e, fs));
    const vdc_host_stats *st = vdc_host_get_stats(e.h);
    PVDIOSTORAGE s = xopen(&e, "m", CREATE_RW);
    REQUIRE(s != NULL);
    uint8_t hdr[1024], back[1024];
    pattern_fill(hdr, sizeof hdr, 40, 0);
    uint8_t cbuf[8];
    RTSGSEG cseg;
    struct VDIOCTX ctx;
    vdc_ioctx_init_buf(&ctx, &cseg, cbuf, sizeof cbuf);

    /* Synchronous (NULL context) and with a context. */
    CHECK_EQ(e.io->pfnWriteMeta(e.u, s, 0, hdr, 512, NULL, NULL, NULL), VINF_SUCCESS);
    CHECK_EQ(e.io->pfnWriteMeta(e.u, s, 512, hdr + 512, 512, &ctx, on_complete, &ctx), VINF_SUCCESS);
    PVDMETAXFER xfer = (PVDMETAXFER)0x1;
    CHECK_EQ(e.io->pfnReadMeta(e.u, s, 0, back, 1024, &ctx, &xfer, on_complete, NULL), VINF_SUCCESS);
    CHECK(xfer == NULL);
    CHECK(memcmp(back, hdr, 1024) == 0);
    CHECK_EQ(ctx.left, 8); /* meta transfers leave the context alone */
    memset(back, 0, sizeof back);
    CHECK_EQ(e.io->pfnReadMeta(e.u, s, 100, back, 10, NULL, NULL, NULL, NULL), VINF_SUCCESS);
    CHECK(memcmp(back, hdr + 100, 10) == 0);
    CHECK_EQ(st->meta_writes, 2);
    CHECK_EQ(st->meta_reads, 2);
    CHECK_EQ(st->bytes_read, 1034);
    CHECK_EQ(st->bytes_written, 1024);
    CHECK_EQ(e.io->pfnFlush(e.u, s, NULL, NULL, NULL), VINF_SUCCESS);
    CHECK_EQ(e.io->pfnFlush(e.u, s, &ctx, on_complete, NULL), VINF_SUCCESS);
    CHECK_EQ(st->flushes, 2);
    CHECK(!completion_called);
    CHECK_EQ(misuse_of(&e), 0);

    /* Past the end: VERR_EOF, not misuse. */
    memset(back, 0x66, sizeof back);
    CHECK_EQ(e.io->pfnReadMeta(e.u, s, 1000, back, 25, NULL, NULL, NULL, NULL), VERR_EOF);
    CHECK_EQ(misuse_of(&e), 0);

    /* NULL context with completion arguments: VERR_INVALID_POINTER. */
    xfer = (PVDMETAXFER)0x1;
    CHECK_EQ(e.io->pfnReadMeta(e.u, s, 0, back, 4, NULL, &xfer, NULL, NULL), VERR_INVALID_POINTER);
    CHECK(xfer == NULL);
    CHECK_EQ(e.io->pfnReadMeta(e.u, s, 0, back, 4, NULL, NULL, on_complete, NULL), VERR_INVALID_POINTER);
    CHECK_EQ(e.io->pfnReadMeta(e.u, s, 0, back, 4, NULL, NULL, NULL, &ctx), VERR_INVALID_POINTER);
    CHECK_EQ(e.io->pfnWriteMeta(e.u, s, 0, hdr, 4, NULL, on_complete, NULL), VERR_INVALID_POINTER);
    CHECK_EQ(e.io->pfnWriteMeta(e.u, s, 0, hdr, 4, NULL, NULL, &ctx), VERR_INVALID_POINTER);
    CHECK_EQ(e.io->pfnFlush(e.u, s, NULL, on_complete, NULL), VERR_INVALID_POINTER);
    CHECK_EQ(e.io->pfnFlush(e.u, s, NULL, NULL, &ctx), VERR_INVALID_POINTER);
    CHECK_EQ(misuse_of(&e), 7);
    CHECK(log_has(&e, "misuse: pfnWriteMeta: NULL pIoCtx (synchronous) with non-NULL completion arguments"));
    /* An invalid context, NULL buffers. */
    struct VDIOCTX bad = ctx;
    bad.magic = 1;
    CHECK_EQ(e.io->pfnReadMeta(e.u, s, 0, back, 4, &bad, NULL, NULL, NULL), VERR_INVALID_POINTER);
    CHECK_EQ(e.io->pfnWriteMeta(e.u, s, 0, hdr, 4, &bad, NULL, NULL), VERR_INVALID_POINTER);
    CHECK_EQ(e.io->pfnFlush(e.u, s, &bad, NULL, NULL), VERR_INVALID_POINTER);
    CHECK_EQ(e.io->pfnReadMeta(e.u, s, 0, NULL, 4, NULL, NULL, NULL, NULL), VERR_INVALID_POINTER);
    CHECK_EQ(e.io->pfnWriteMeta(e.u, s, 0, NULL, 4, NULL, NULL, NULL), VERR_INVALID_POINTER);
    CHECK_EQ(misuse_of(&e), 12);
    CHECK_EQ(st->meta_writes, 2);
    CHECK_EQ(st->flushes, 2);
    /* The file is unchanged by all of it. */
    CHECK_EQ(e.io->pfnReadMeta(e.u, s, 0, back, 1024, NULL, NULL, NULL, NULL), VINF_SUCCESS);
    CHECK(memcmp(back, hdr, 1024) == 0);

    /* MetaXferRelease: NULL is what the host hands out; anything else is not. */
    e.io->pfnMetaXferRelease(e.u, NULL);
    CHECK_EQ(misuse_of(&e), 12);
    e.io->pfnMetaXferRelease(e.u, (PVDMETAXFER)&ctx);
    CHECK_EQ(misuse_of(&e), 13);
    CHECK(log_has(&e, "misuse: pfnMetaXferRelease:"));
    CHECK_EQ(e.io->pfnClose(e.u, s), VINF_SUCCESS);

    /* Read-only handle: WriteMeta refused by the storage, Flush fine. */
    s = xopen(&e, "m", OPEN_RO);
    REQUIRE(s != NULL);
    CHECK_EQ(e.io->pfnWriteMeta(e.u, s, 0, hdr, 4, NULL, NULL, NULL), VERR_ACCESS_DENIED);
    CHECK_EQ(e.io->pfnFlush(e.u, s, NULL, NULL, NULL), VINF_SUCCESS);
    CHECK_EQ(misuse_of(&e), 13);
    CHECK_EQ(e.io->pfnClose(e.u, s), VINF_SUCCESS);
    vdc_host_free(e.h);
}
FOR_EACH_FS(meta_and_flush)

/* --- members 16-23: the I/O context helpers ------------------------------ */

static void ctx_helpers(vdc_fs *fs, bool mem)
{
    (void)mem;
    env e;
    REQUIRE(env_init(&e, fs));
    uint8_t a[5], b[20];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    RTSGSEG segs[2] = { { a, 5 }, { b, 20 } };
    struct VDIOCTX ctx;
    vdc_ioctx_init(&ctx, segs, 2);

    /* 16 CopyTo, 17 CopyFrom, 18 Set */
    CHECK_EQ(e.io->pfnIoCtxCopyTo(e.u, &ctx, "0123456", 7), 7);
    CHECK(memcmp(a, "01234", 5) == 0 && memcmp(b, "56", 2) == 0);
    CHECK_EQ(e.io->pfnIoCtxSet(e.u, &ctx, 'x', 3), 3);
    CHECK_EQ(b[4], 'x');
    CHECK_EQ(ctx.left, 15);
    char out[32];
    struct VDIOCTX rd;
    vdc_ioctx_init(&rd, segs, 2);
    CHECK_EQ(e.io->pfnIoCtxCopyFrom(e.u, &rd, out, 10), 10);
    CHECK(memcmp(out, "0123456xxx", 10) == 0);
    CHECK_EQ(misuse_of(&e), 0);
    /* Asking for more than is left: misuse, and what is left moves. */
    CHECK_EQ(e.io->pfnIoCtxCopyFrom(e.u, &rd, out, 30), 15);
    CHECK_EQ(misuse_of(&e), 1);
    CHECK_EQ(e.io->pfnIoCtxSet(e.u, &ctx, 'y', 16), 15);
    CHECK_EQ(misuse_of(&e), 2);
    CHECK_EQ(b[19], 'y');
    CHECK_EQ(e.io->pfnIoCtxCopyTo(e.u, &ctx, "z", 1), 0);
    CHECK_EQ(misuse_of(&e), 3);

    /* 19 SegArrayCreate */
    struct VDIOCTX sg;
    vdc_ioctx_init(&sg, segs, 2);
    RTSGSEG arr[4];
    unsigned n = 0;
    CHECK_EQ(e.io->pfnIoCtxSegArrayCreate(e.u, &sg, NULL, &n, 25), 25);
    CHECK_EQ(n, 2);
    n = 4;
    CHECK_EQ(e.io->pfnIoCtxSegArrayCreate(e.u, &sg, arr, &n, 8), 8);
    CHECK_EQ(n, 2);
    CHECK(arr[0].pvSeg == a && arr[0].cbSeg == 5);
    CHECK(arr[1].pvSeg == b && arr[1].cbSeg == 3);
    CHECK_EQ(sg.left, 17);
    CHECK_EQ(misuse_of(&e), 3);
    CHECK_EQ(e.io->pfnIoCtxSegArrayCreate(e.u, &sg, arr, NULL, 1), 0);
    CHECK_EQ(misuse_of(&e), 4);

    /* 20 Completed: records. */
    e.io->pfnIoCtxCompleted(e.u, &sg, VINF_SUCCESS, 100);
    e.io->pfnIoCtxCompleted(e.u, &sg, VERR_DISK_FULL, 5);
    e.io->pfnIoCtxCompleted(e.u, &sg, VERR_EOF, 1);
    CHECK_EQ(sg.completions, 3);
    CHECK_EQ(sg.rc_completed, VERR_DISK_FULL);
    CHECK_EQ(sg.cb_completed, 106);

    /* 21 IsSynchronous */
    CHECK(e.io->pfnIoCtxIsSynchronous(e.u, &sg));
    sg.sync = false;
    CHECK(!e.io->pfnIoCtxIsSynchronous(e.u, &sg));

    /* 22 IsZero: b[3..] is zero in a fresh buffer. */
    uint8_t z[10] = { 0 };
    z[6] = 1;
    RTSGSEG zs;
    struct VDIOCTX zc;
    vdc_ioctx_init_buf(&zc, &zs, z, sizeof z);
    CHECK(e.io->pfnIoCtxIsZero(e.u, &zc, 6, false));
    CHECK_EQ(zc.left, 10);
    CHECK(!e.io->pfnIoCtxIsZero(e.u, &zc, 7, true));
    CHECK(e.io->pfnIoCtxIsZero(e.u, &zc, 6, true));
    CHECK_EQ(zc.left, 4);

    /* 23 GetDataUnitSize */
    CHECK_EQ(e.io->pfnIoCtxGetDataUnitSize(e.u, &zc), 512);
    vdc_host_set_data_unit(e.h, 4096);
    CHECK_EQ(e.io->pfnIoCtxGetDataUnitSize(e.u, &zc), 512);
    vdc_host_ioctx_init(e.h, &zc, &zs, 1);
    CHECK_EQ(e.io->pfnIoCtxGetDataUnitSize(e.u, &zc), 4096);
    CHECK_EQ(misuse_of(&e), 4);

    /* Every helper refuses a NULL and a corrupt context, counting each. */
    struct VDIOCTX bad = zc;
    bad.magic = 0xbad;
    PVDIOCTX wrong[2] = { NULL, &bad };
    for (int i = 0; i < 2; i++) {
        PVDIOCTX c = wrong[i];
        n = 4;
        CHECK_EQ(e.io->pfnIoCtxCopyTo(e.u, c, "a", 1), 0);
        CHECK_EQ(e.io->pfnIoCtxCopyFrom(e.u, c, out, 1), 0);
        CHECK_EQ(e.io->pfnIoCtxSet(e.u, c, 0, 1), 0);
        CHECK_EQ(e.io->pfnIoCtxSegArrayCreate(e.u, c, arr, &n, 1), 0);
        e.io->pfnIoCtxCompleted(e.u, c, VINF_SUCCESS, 1);
        CHECK(e.io->pfnIoCtxIsSynchronous(e.u, c));
        CHECK(!e.io->pfnIoCtxIsZero(e.u, c, 1, true));
        CHECK_EQ(e.io->pfnIoCtxGetDataUnitSize(e.u, c), 0);
    }
    CHECK_EQ(misuse_of(&e), 4 + 16);
    CHECK_EQ(bad.completions, 0);
    CHECK_EQ(bad.left, zc.left);
    CHECK(log_has(&e, "misuse: pfnIoCtxCompleted: NULL I/O context"));
    CHECK(log_has(&e, "misuse: pfnIoCtxGetDataUnitSize: invalid I/O context"));
    /* NULL buffers are misuse too. */
    CHECK_EQ(e.io->pfnIoCtxCopyTo(e.u, &zc, NULL, 1), 0);
    CHECK_EQ(e.io->pfnIoCtxCopyFrom(e.u, &zc, NULL, 1), 0);
    CHECK_EQ(misuse_of(&e), 22);
    CHECK_EQ(zc.left, 10);
    vdc_host_free(e.h);
}
FOR_EACH_FS(ctx_helpers)

/* A failed user write puts the cursor back (memory fs: full after one chunk). */
static void test_write_user_failure_rewinds(void)
{
    vdc_fs *fs = vdc_fs_mem_new(65536, 0);
    REQUIRE(fs != NULL);
    env e;
    if (!env_init(&e, fs)) {
        vdc_fs_destroy(fs);
        REQUIRE(false);
    }
    PVDIOSTORAGE s = xopen(&e, "full", CREATE_RW);
    if (s != NULL) {
        uint8_t one[100], two[100];
        pattern_fill(one, sizeof one, 50, 0);
        pattern_fill(two, sizeof two, 51, 0);
        RTSGSEG segs[2] = { { one, 100 }, { two, 100 } };
        struct VDIOCTX ctx;
        vdc_ioctx_init(&ctx, segs, 2);
        /* Segment one lands in chunk 0, segment two in chunk 1: no room. */
        CHECK_EQ(e.io->pfnWriteUser(e.u, s, 65536 - 100, &ctx, 200, NULL, NULL), VERR_DISK_FULL);
        CHECK_EQ(ctx.left, 200);
        CHECK_EQ(ctx.iseg, 0);
        CHECK_EQ(ctx.segoff, 0);
        CHECK_EQ(vdc_host_get_stats(e.h)->user_writes, 0);
        CHECK_EQ(misuse_of(&e), 0);
        CHECK_EQ(e.io->pfnClose(e.u, s), VINF_SUCCESS);
    }
    vdc_host_free(e.h);
    vdc_fs_destroy(fs);
}

/* The host closes storages a backend leaked, and the lists are right. */
static void test_free_closes_leftovers(void)
{
    vdc_fs *fs = vdc_fs_mem_new(0, 0);
    REQUIRE(fs != NULL);
    env e;
    if (!env_init(&e, fs)) {
        vdc_fs_destroy(fs);
        REQUIRE(false);
    }
    CHECK(vdc_host_fs(e.h) == fs);
    CHECK(e.io == vdc_host_ioint(e.h));
    CHECK(e.u == (void *)e.h);
    PVDIOSTORAGE s = xopen(&e, "leak", CREATE_RW);
    CHECK(s != NULL);
    CHECK_EQ(vdc_host_get_stats(e.h)->open_storages, 1);
    vdc_host_free(e.h);
    /* The deny-write handle is gone: a second writer may open now. */
    vdc_file *f = NULL;
    CHECK_EQ(fs->ops->open(fs, "leak", OPEN_RW, &f), VINF_SUCCESS);
    if (f != NULL)
        fs->ops->close(f);
    vdc_fs_destroy(fs);
    vdc_host_free(NULL);
    CHECK(vdc_host_new(NULL) == NULL);
}

CHECK_MAIN(FS_CASES(open_close), FS_CASES(bad_handles), FS_CASES(names), FS_CASES(sizes), FS_CASES(user_io),
           FS_CASES(meta_and_flush), FS_CASES(ctx_helpers), CHECK_CASE(test_write_user_failure_rewinds),
           CHECK_CASE(test_free_closes_leftovers))
