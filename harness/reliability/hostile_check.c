/*
 * harness/reliability/hostile_check.c - one hostile VCI image through a
 * backend (hostile_check.h), judged as spec/vci-format.md sections 3-12 and
 * spec/contract.md (PROBE, OPEN, READ, WRITE, CLOSE, HOST) say.
 *
 * Contract: hostile_check.h (the data rule is stated there).  Statuses:
 * VINF_SUCCESS, VERR_INVALID_PARAMETER, VERR_NO_MEMORY.
 */
#include "hostile_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../host/fs.h"
#include "../host/host.h"
#include "../host/ioctx.h"
#include "../host/status.h"
#include "../host/vd.h"
#include "vci_enc.h"

#define READ_SPAN  ((uint64_t)1 << 20)
/* Far reads cover keys 2^55 - 16 .. 2^55 - 2: the last block would end at
 * 2^64, past any disk whose size a uint64_t can hold. */
#define FAR_OFF    ((VE_KEY_LIMIT - 16) * 512)
#define FAR_LEN    (8192u - 512u)
#define XFER_MAX   65536u
#define MAX_WRITES 4u

typedef struct hc {
    const VDCACHEBACKEND   *be;
    const vdc_hostile_case *c;
    const vdc_hcheck_opts  *o;
    vdc_hcheck_result      *r;
    vdc_host               *host;
    uint8_t                *buf;     /* XFER_MAX bytes: reads, writes, file comparison */
    /* Ranges the read-write session wrote (ok) or tried to (failed: maybe). */
    struct { uint64_t off, len; bool ok; } w[MAX_WRITES];
    unsigned                nw;
} hc;

static void fail(hc *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(hc *x, const char *fmt, ...)
{
    va_list va;
    if (x->r->fails++ == 0) {
        va_start(va, fmt);
        vsnprintf(x->r->first, sizeof x->r->first, fmt, va);
        va_end(va);
    }
}

static const char *sn(int rc)
{
    const char *n = vdc_status_name(rc);
    return n != NULL ? n : "?";
}

static void beat(hc *x)
{
    if (x->o->heartbeat != NULL)
        (*x->o->heartbeat)++;
}

/* The bytes the read-write session writes at virtual offset x. */
static uint8_t wbyte(uint64_t x)
{
    return (uint8_t)(0xA0 ^ (x * 131) ^ (x >> 9));
}

static bool must_work(const hc *x)
{
    return x->c->deep == VDC_HX_VALID || x->c->deep == VDC_HX_UNCLEAN;
}

/* Whether a hit may return byte b at virtual offset off (the data rule of
 * hostile_check.h); *why names the rule broken when not. */
static bool acceptable(const hc *x, uint64_t off, uint8_t b, const char **why)
{
    const vdc_hostile_case *c = x->c;
    bool maybe_old = true;
    for (unsigned i = 0; i < x->nw; i++) {
        if (off < x->w[i].off || off - x->w[i].off >= x->w[i].len)
            continue;
        if (b == wbyte(off))
            return true;
        if (x->w[i].ok)
            maybe_old = false; /* written over: the old bytes are gone */
    }
    if (!maybe_old) {
        *why = "the bytes written there in this session";
        return false;
    }
    if (c->deep == VDC_HX_UNCLEAN) {
        *why = "nothing (an unclean image misses everything, section 10)";
        return false;
    }
    if (b == ve_data_byte(off))
        return true;
    for (unsigned i = 0; i < c->nalias; i++) {
        const vdc_hostile_alias *a = &c->alias[i];
        if (off < a->voff || off - a->voff >= a->len)
            continue;
        /* Only bytes the file held: data mapped past its end must never
         * read as the zeros the file later grows with. */
        uint64_t f = a->foff + (off - a->voff);
        if (f < c->size && b == c->img[f])
            return true;
    }
    *why = "the encoder's byte for that offset";
    return false;
}

/* The state of one read range or write block, for the driver's hooks. */
typedef struct hc_call {
    hc         *x;
    const char *when;
} hc_call;

static void hc_before(void *user, bool write, uint64_t off, size_t cb)
{
    (void)write;
    (void)off;
    (void)cb;
    beat(((hc_call *)user)->x);
}

static vdc_vd_next read_answer(void *user, const vdc_vd_io *io, uint8_t *buf)
{
    hc *x = ((hc_call *)user)->x;
    const char *when = ((hc_call *)user)->when;
    unsigned long long pos = io->off;
    size_t n = io->count == VDC_VD_SENTINEL ? 0 : io->count;
    if (!vdc_vd_counted(io)) {
        /* A failure is clean behaviour on a damaged image, not on one
         * the spec calls valid or unclean. */
        if (io->rule == VDC_VD_RULE_ASYNC || must_work(x))
            fail(x, "%s%s: read at %llu returned %d (%s)", io->rule == VDC_VD_RULE_ASYNC ? "READ-4: " : "", when, pos,
                 io->rc, sn(io->rc));
        return VDC_VD_SKIP;
    }
    bool hit = vdc_vd_is_hit(io);
    if (io->rule != VDC_VD_RULE_NONE) {
        fail(x, "%s: %s: %s at %llu reports %zu of %zu bytes and moved %zu", io->clause, when, hit ? "hit" : "miss",
             pos, n, io->asked, io->moved);
        return VDC_VD_ABORT;
    }
    if (!hit) {
        x->r->misses++;
        return VDC_VD_NEXT;
    }
    x->r->hits++;
    for (size_t i = 0; i < n; i++) {
        const char *why = NULL;
        if (!acceptable(x, io->off + i, buf[i], &why)) {
            fail(x, "READ-1: %s: a hit at virtual byte %llu served 0x%02x; the only bytes allowed there are %s", when,
                 (unsigned long long)(io->off + i), buf[i], why);
            break;
        }
    }
    return VDC_VD_NEXT;
}

/* VD's read loop over [off, off + len), judging every hit. */
static void read_range(hc *x, void *bd, uint64_t off, uint64_t len, const char *when)
{
    uint64_t max_calls = 2 + 2 * (len / 512);
    hc_call c = { x, when };
    vdc_vd vd = { x->be, bd, x->host, &c, hc_before, NULL };
    vdc_vd_loop_opts o = { .max_xfer = XFER_MAX, .max_calls = max_calls, .poison = 0x5C, .user = &c,
                           .answer = read_answer };
    vdc_vd_loop l = vdc_vd_read_loop(&vd, &o, off, x->buf, len);
    if (l.end == VDC_VD_END_LIMIT)
        fail(x, "READ-5: %s: reading [%llu, +%llu) took more than %llu calls", when, (unsigned long long)off,
             (unsigned long long)len, (unsigned long long)max_calls);
}

static void reads(hc *x, void *bd, const char *when)
{
    uint64_t span = x->c->cblocks * 512;
    if (span > READ_SPAN || span == 0 || x->c->cblocks > READ_SPAN)
        span = READ_SPAN;
    read_range(x, bd, 0, span, when);
    read_range(x, bd, FAR_OFF, FAR_LEN, when);
}

static void getters(hc *x, void *bd, unsigned flags)
{
    const VDCACHEBACKEND *be = x->be;
    RTUUID u;
    char comment[64];
    beat(x);
    (void)be->pfnGetVersion(bd);
    uint64_t size = be->pfnGetSize(bd);
    (void)be->pfnGetFileSize(bd);
    (void)be->pfnGetImageFlags(bd);
    unsigned got = be->pfnGetOpenFlags(bd);
    if (got != flags)
        fail(x, "INFO-2: GetOpenFlags answers 0x%x, opened with 0x%x", got, flags);
    (void)be->pfnGetComment(bd, comment, sizeof comment);
    if (x->c->deep == VDC_HX_VALID) {
        if (size != x->c->cblocks * 512)
            fail(x, "GetSize %llu, expected 512 * cBlocks = %llu (spec/vci-format.md section 12)", (unsigned long long)size,
                 (unsigned long long)(x->c->cblocks * 512));
        if (RT_SUCCESS(be->pfnGetUuid(bd, &u)) && memcmp(u.au8, x->c->img + VE_H_UUID, 16) != 0)
            fail(x, "GetUuid differs from the header's bytes 41..56 (spec/vci-format.md section 12)");
        if (RT_SUCCESS(be->pfnGetModificationUuid(bd, &u)) && memcmp(u.au8, x->c->img + VE_H_MODUUID, 16) != 0)
            fail(x, "GetModificationUuid differs from the header's bytes 57..72 (spec/vci-format.md section 12)");
    } else {
        (void)be->pfnGetUuid(bd, &u);
        (void)be->pfnGetModificationUuid(bd, &u);
    }
    be->pfnDump(bd);
}

static void check_open(hc *x, const char *what, uint8_t want, int rc)
{
    bool ok = want == VDC_HX_ANY || (want == VDC_HX_OK && RT_SUCCESS(rc))
           || (want == VDC_HX_HDR && rc == VERR_VD_GEN_INVALID_HEADER)
           || (want == VDC_HX_CORRUPT && rc == VERR_VD_IMAGE_CORRUPTED) || (want == VDC_HX_FAIL && RT_FAILURE(rc));
    if (!ok)
        fail(x, "%s: %s returned %d (%s), spec/vci-format.md says %s", want == VDC_HX_OK ? "OPEN-1" : "OPEN-2", what,
             rc, sn(rc), vdc_hx_name(want));
}

/* Whether file `name` still holds exactly the case's bytes. */
static bool same_file(hc *x, vdc_fs *fs, const char *name)
{
    const vdc_hostile_case *c = x->c;
    for (size_t off = 0; off < c->size; off += XFER_MAX) {
        size_t cb = c->size - off < XFER_MAX ? c->size - off : XFER_MAX;
        if (RT_FAILURE(vdc_fs_mem_peek(fs, name, off, x->buf, cb)) || memcmp(x->buf, c->img + off, cb) != 0)
            return false;
    }
    return RT_FAILURE(vdc_fs_mem_peek(fs, name, c->size, x->buf, 1)); /* not grown */
}

static void storages(hc *x, const char *when)
{
    unsigned n = vdc_host_get_stats(x->host)->open_storages;
    if (n != 0)
        fail(x, "HOST-3: %u storage handle(s) open after %s", n, when);
}

static vdc_vd_next write_answer(void *user, const vdc_vd_io *io, uint8_t *data)
{
    hc *x = ((hc_call *)user)->x;
    (void)data;
    if (RT_FAILURE(io->rc)) {
        if (must_work(x))
            fail(x, "WRITE-4: write at %llu returned %d (%s)", (unsigned long long)io->off, io->rc, sn(io->rc));
        return VDC_VD_NEXT; /* what it stored is unknown: either bytes may be read back */
    }
    if (io->rule != VDC_VD_RULE_NONE) {
        fail(x, "WRITE-1: write at %llu reports %zu of %zu bytes and took %zu", (unsigned long long)io->off,
             io->count == VDC_VD_SENTINEL ? 0 : io->count, io->asked, io->moved);
        return VDC_VD_ABORT;
    }
    return VDC_VD_NEXT;
}

/* VD's write loop over [off, off + len) with the session's pattern. */
static void write_block(hc *x, void *bd, uint64_t off, uint64_t len)
{
    for (uint64_t i = 0; i < len; i++)
        x->buf[i] = wbyte(off + i);
    hc_call c = { x, "write" };
    vdc_vd vd = { x->be, bd, x->host, &c, hc_before, NULL };
    vdc_vd_loop_opts o = { .poison = -1, .user = &c, .answer = write_answer };
    vdc_vd_loop l = vdc_vd_write_loop(&vd, &o, off, x->buf, len);
    if (x->nw < MAX_WRITES) {
        x->w[x->nw].off = off;
        x->w[x->nw].len = len;
        x->w[x->nw++].ok = l.end == VDC_VD_END_DONE;
    }
}

static void read_write_session(hc *x, vdc_fs *fs, PVDINTERFACE disk, PVDINTERFACE img)
{
    const VDCACHEBACKEND *be = x->be;
    void *bd = NULL;
    beat(x);
    int rc = be->pfnOpen("rw.vci", VD_OPEN_FLAGS_NORMAL, disk, img, &bd);
    x->r->rw_rc = rc;
    check_open(x, "read-write open", x->c->open_rw, rc);
    if (RT_FAILURE(rc)) {
        storages(x, "a failed read-write open");
        return;
    }
    getters(x, bd, VD_OPEN_FLAGS_NORMAL);
    reads(x, bd, "read-write session");
    write_block(x, bd, 0, 4096);
    write_block(x, bd, 65536, 8192);
    write_block(x, bd, FAR_OFF, 512);
    reads(x, bd, "read-write session, after writing");
    struct VDIOCTX io;
    vdc_host_ioctx_init(x->host, &io, NULL, 0);
    beat(x);
    (void)be->pfnFlush(bd, &io);
    beat(x);
    rc = be->pfnClose(bd, false);
    if (RT_FAILURE(rc) && must_work(x))
        fail(x, "CLOSE-1: read-write close returned %d (%s)", rc, sn(rc));
    storages(x, "the read-write close");
    if (RT_SUCCESS(rc) && must_work(x) && x->o->deep_after_rw != NULL) {
        char dmsg[256];
        dmsg[0] = '\0';
        if (RT_FAILURE(x->o->deep_after_rw(x->o->deep_user, fs, "rw.vci", dmsg, sizeof dmsg)))
            fail(x, "after a read-write session the image fails the deep check: %s", dmsg);
    }
}

int vdc_hostile_check(const VDCACHEBACKEND *be, const vdc_hostile_case *c, const vdc_hcheck_opts *o,
                      vdc_hcheck_result *r)
{
    static const vdc_hcheck_opts none = { 0 };
    if (r == NULL)
        return VERR_INVALID_PARAMETER;
    memset(r, 0, sizeof *r);
    if (be == NULL || c == NULL || (c->img == NULL && c->size != 0))
        return VERR_INVALID_PARAMETER;
    hc x = { .be = be, .c = c, .o = o != NULL ? o : &none, .r = r };
    int rc = VERR_NO_MEMORY;
    vdc_fs *fs = vdc_fs_mem_new(0, 0);
    x.buf = malloc(XFER_MAX);
    if (fs == NULL || x.buf == NULL || vdc_fs_mem_put(fs, "h.vci", c->img, c->size) != VINF_SUCCESS
        || vdc_fs_mem_put(fs, "rw.vci", c->img, c->size) != VINF_SUCCESS) {
        snprintf(r->first, sizeof r->first, "out of memory setting up the case");
        goto out_free;
    }
    x.host = vdc_host_new(fs);
    if (x.host == NULL) {
        snprintf(r->first, sizeof r->first, "out of memory setting up the host");
        goto out_free;
    }
    PVDINTERFACE disk = vdc_host_disk_ifs(x.host), img = vdc_host_image_ifs(x.host);
    void *bd = NULL;

    /* 1. Probe (PROBE-1, PROBE-2, PROBE-4). */
    beat(&x);
    rc = be->pfnProbe("h.vci", disk, vdc_host_probe_ifs(x.host));
    r->probe_rc = rc;
    if (c->probe == VDC_HX_HDR && rc != VERR_VD_GEN_INVALID_HEADER)
        fail(&x, "PROBE-1: probe returned %d (%s), not VERR_VD_GEN_INVALID_HEADER", rc, sn(rc));
    if (c->probe == VDC_HX_OK && rc != VINF_SUCCESS)
        fail(&x, "PROBE-2: probe returned %d (%s) for a valid header", rc, sn(rc));
    storages(&x, "probe");

    /* 2. Read-only: everything read, nothing written (OPEN-3). */
    beat(&x);
    rc = be->pfnOpen("h.vci", VD_OPEN_FLAGS_READONLY, disk, img, &bd);
    r->ro_rc = rc;
    check_open(&x, "read-only open", c->open_ro, rc);
    if (RT_SUCCESS(rc)) {
        getters(&x, bd, VD_OPEN_FLAGS_READONLY);
        reads(&x, bd, "read-only session");
        beat(&x);
        rc = be->pfnClose(bd, false);
        if (RT_FAILURE(rc))
            fail(&x, "CLOSE-1: read-only close returned %d (%s)", rc, sn(rc));
    }
    storages(&x, "the read-only session");
    if (!same_file(&x, fs, "h.vci"))
        fail(&x, "OPEN-3/PROBE-4: probe or the read-only session changed the file");

    /* 3. Read-write on the copy. */
    read_write_session(&x, fs, disk, img);

    /* 4. The host's account. */
    uint64_t misuse = vdc_host_get_stats(x.host)->misuse;
    if (misuse != 0)
        fail(&x, "HOST-1: %llu misuse(s) of the host; log: %.300s", (unsigned long long)misuse, vdc_host_log(x.host));
    vdc_host_free(x.host);
    rc = VINF_SUCCESS;
out_free:
    free(x.buf);
    vdc_fs_destroy(fs);
    return rc;
}
