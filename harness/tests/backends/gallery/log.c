/*
 * harness/tests/backends/gallery/log.c - "glog": a write-once log cache.
 * Contract: spec/contract.md; plumbing: gal.h.
 *
 * Layout: the header (gal.h), then records appended from offset 512, never
 * overwritten in place.  A record is a 32-byte head and its data:
 *   0 u32 magic "GLR1", 4 u32 length (1..65536), 8 u64 disk offset,
 *   16 u64 sequence number, 24 u32 CRC-32 of the data, 28 u32 CRC-32 of
 *   bytes 0..27; then `length` bytes of data.
 * Open rebuilds the index by scanning from 512 and stops at the first record
 * that is not whole and correct; the newest record covering a byte wins.
 * Requests of any alignment are taken, up to 64 KiB per call.
 *
 * When the log would grow past 512 + capacity bytes, it is cut back to the
 * header (everything forgotten) and starts again.  A read-write instance
 * first cuts the file at the end of the last good record, so nothing left
 * over from a crash can follow a new record.
 *
 * Crash safety: a record is served only when whole (both CRCs).  A record
 * that overlaps an older one is flushed before its write returns, so the
 * older data can never come back alone; records over fresh ranges are made
 * durable by pfnFlush.
 *
 * Status codes: VINF_SUCCESS, VERR_VD_BLOCK_FREE, VERR_NO_MEMORY, and the
 * IOINT's.
 *
 * Defects: GAL_DEFECT_REOPENSTALE (the index is rebuilt oldest-wins, so an
 * overwritten range serves its old data after a reopen: READ-1),
 * GAL_DEFECT_NOSYNC (overlapping records are not flushed: CRASH-1).
 */
#include "gal.h"

#include <stdlib.h>
#include <string.h>

#define LOG_HEAD   32u
#define LOG_MAXREC 65536u
#define LOG_MAGIC  0x31524c47u /* "GLR1" */

typedef struct lrec {
    uint64_t off, len, pos; /* disk range, file offset of the data */
} lrec;

typedef struct glog {
    lrec    *rec;           /* oldest first */
    size_t   n, cap;
    uint64_t tail, seq;     /* where the next record goes, its number */
    uint8_t  buf[LOG_HEAD + LOG_MAXREC];
} glog;

static void put(uint8_t *p, uint64_t v, unsigned nb)
{
    for (unsigned i = 0; i < nb; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get(const uint8_t *p, unsigned nb)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < nb; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static int log_setup(gal_img *g)
{
    glog *e = calloc(1, sizeof *e);
    if (e == NULL)
        return VERR_NO_MEMORY;
    g->eng = e;
    e->tail = GAL_HDR_SIZE;
    e->seq = 1;
    return VINF_SUCCESS;
}

/* Room for one more index entry. */
static int log_index_reserve(glog *e)
{
    if (e->n < e->cap)
        return VINF_SUCCESS;
    size_t cap = e->cap ? e->cap * 2 : 64;
    lrec *r = realloc(e->rec, cap * sizeof *r);
    if (r == NULL)
        return VERR_NO_MEMORY;
    e->rec = r;
    e->cap = cap;
    return VINF_SUCCESS;
}

static int log_index_add(glog *e, uint64_t off, uint64_t len, uint64_t pos)
{
    int rc = log_index_reserve(e);
    if (RT_SUCCESS(rc))
        e->rec[e->n++] = (lrec){ off, len, pos };
    return rc;
}

static int log_create(gal_img *g)
{
    return log_setup(g);
}

static int log_load(gal_img *g)
{
    int rc = log_setup(g);
    if (RT_FAILURE(rc))
        return rc;
    glog *e = g->eng;
    uint64_t cb = 0;
    rc = gal_file_size(g, &cb);
    while (RT_SUCCESS(rc) && cb - e->tail >= LOG_HEAD) {
        uint8_t *h = e->buf;
        rc = gal_rd(g, e->tail, h, LOG_HEAD);
        if (RT_FAILURE(rc))
            break;
        uint64_t len = get(h + 4, 4);
        if (get(h, 4) != LOG_MAGIC || get(h + 28, 4) != gal_crc32(0, h, 28) || len == 0 || len > LOG_MAXREC
            || cb - e->tail - LOG_HEAD < len || get(h + 16, 8) != e->seq)
            break;
        uint32_t dcrc = (uint32_t)get(h + 24, 4);
        uint64_t off = get(h + 8, 8);
        rc = gal_rd(g, e->tail + LOG_HEAD, e->buf, (size_t)len);
        if (RT_FAILURE(rc) || gal_crc32(0, e->buf, (size_t)len) != dcrc)
            break;
        rc = log_index_add(e, off, len, e->tail + LOG_HEAD);
        e->tail += LOG_HEAD + len;
        e->seq++;
    }
#ifdef GAL_DEFECT_REOPENSTALE
    for (size_t i = 0; i < e->n / 2; i++) { /* oldest last: the oldest wins */
        lrec t = e->rec[i];
        e->rec[i] = e->rec[e->n - 1 - i];
        e->rec[e->n - 1 - i] = t;
    }
#endif
    return rc;
}

/* A writable log ends at its last good record: nothing stale may follow it. */
static int log_writable(gal_img *g)
{
    glog *e = g->eng;
    uint64_t cb = 0;
    int rc = gal_file_size(g, &cb);
    if (RT_SUCCESS(rc) && cb != e->tail) {
        rc = gal_set_size(g, e->tail);
        if (RT_SUCCESS(rc))
            rc = gal_sync(g);
    }
    return rc;
}

static int log_flush(gal_img *g)
{
    return gal_sync(g);
}

static void log_release(gal_img *g)
{
    glog *e = g->eng;
    free(e->rec);
    free(e);
    g->eng = NULL;
}

static bool overlaps(const lrec *r, uint64_t off, uint64_t len)
{
    return r->off < off + len && off < r->off + r->len;
}

static int log_read(gal_img *g, uint64_t off, size_t cb, PVDIOCTX ctx, size_t *pcb)
{
    glog *e = g->eng;
    uint64_t end = off + cb;
    size_t i = e->n;
    while (i > 0 && !(e->rec[i - 1].off <= off && off < e->rec[i - 1].off + e->rec[i - 1].len))
        i--;
    if (i == 0) { /* a miss up to the first record that starts inside */
        for (size_t j = 0; j < e->n; j++)
            if (e->rec[j].off > off && e->rec[j].off < end)
                end = e->rec[j].off;
        *pcb = (size_t)(end - off);
        return VERR_VD_BLOCK_FREE;
    }
    const lrec *r = &e->rec[i - 1];
    if (r->off + r->len < end)
        end = r->off + r->len;
    for (size_t j = i; j < e->n; j++) /* newer records cut the hit short */
        if (e->rec[j].off > off && e->rec[j].off < end)
            end = e->rec[j].off;
    int rc = gal_user_read(g, r->pos + (off - r->off), ctx, (size_t)(end - off));
    if (RT_FAILURE(rc))
        return rc;
    *pcb = (size_t)(end - off);
    return VINF_SUCCESS;
}

/* Forgets everything: the file is cut back to its header. */
static int log_restart(gal_img *g)
{
    glog *e = g->eng;
    int rc = gal_set_size(g, GAL_HDR_SIZE);
    if (RT_SUCCESS(rc))
        rc = gal_sync(g);
    if (RT_FAILURE(rc))
        return rc;
    e->n = 0;
    e->tail = GAL_HDR_SIZE;
    e->seq = 1;
    return VINF_SUCCESS;
}

static int log_write(gal_img *g, uint64_t off, size_t cb, PVDIOCTX ctx, size_t *pcb)
{
    glog *e = g->eng;
    uint64_t room = g->capacity - LOG_HEAD;
    uint64_t len = cb < LOG_MAXREC ? cb : LOG_MAXREC;
    len = len < room ? len : room;
    int rc;
    if (e->tail + LOG_HEAD + len > GAL_HDR_SIZE + g->capacity) {
        rc = log_restart(g);
        if (RT_FAILURE(rc))
            return rc;
    }
    bool over = false;
    for (size_t i = 0; i < e->n && !over; i++)
        over = overlaps(&e->rec[i], off, len);
    rc = log_index_reserve(e); /* before anything is written */
    if (RT_FAILURE(rc))
        return rc;
    uint8_t *h = e->buf;
    rc = gal_ctx_take(g, ctx, h + LOG_HEAD, (size_t)len);
    if (RT_FAILURE(rc))
        return rc;
    put(h, LOG_MAGIC, 4);
    put(h + 4, len, 4);
    put(h + 8, off, 8);
    put(h + 16, e->seq, 8);
    put(h + 24, gal_crc32(0, h + LOG_HEAD, (size_t)len), 4);
    put(h + 28, gal_crc32(0, h, 28), 4);
    rc = gal_wr(g, e->tail, h, (size_t)(LOG_HEAD + len));
#ifndef GAL_DEFECT_NOSYNC
    if (RT_SUCCESS(rc) && over)
        rc = gal_sync(g);
#endif
    if (RT_FAILURE(rc)) {
        gal_set_size(g, e->tail); /* best effort: a failed write must not be found later */
        return rc;
    }
    rc = log_index_add(e, off, len, e->tail + LOG_HEAD);
    if (RT_FAILURE(rc))
        return rc;
    e->tail += LOG_HEAD + len;
    e->seq++;
    *pcb = (size_t)len;
    return VINF_SUCCESS;
}

const gal_engine gal_this_engine = {
    .name = "glog",
    .magic = { 'G', 'A', 'L', 'L', 'O', 'G', '0', '1' },
    .max_capacity = 1ull << 50,
    .create = log_create,
    .load = log_load,
    .writable = log_writable,
    .flush = log_flush,
    .release = log_release,
    .read = log_read,
    .write = log_write,
};

static const char *const log_exts[] = { "glog", NULL };
const VDCACHEBACKEND gal_backend = GAL_VTABLE("glog", VD_CAP_UUID | VD_CAP_CREATE_DYNAMIC | VD_CAP_FILE, log_exts);
