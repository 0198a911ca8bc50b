/*
 * harness/tests/backends/gallery/log.c - "glog": a write-once log cache.
 * Contract: spec/contract.md; plumbing: gal.h.
 *
 * Layout (integers little-endian): the header (gal.h); two epoch slots at
 * 512 and 1024, each {u32 magic "GLE1", u32 0, u64 epoch, u64 first epoch,
 * u32 CRC-32 of bytes 0..23}; then records appended from offset 1536,
 * never overwritten in place until the log starts again.  A record is a
 * 40-byte head and its data:
 *   0 u32 magic "GLR2", 4 u32 length (1..65536), 8 u64 disk offset,
 *   16 u64 sequence number, 24 u64 epoch, 32 u32 check of the data
 *   (gal_sum32), 36 u32 CRC-32 of bytes 0..35; then `length` bytes.
 * The valid slot with the higher epoch is current.  Open rebuilds the index
 * by scanning from 1536 and stops at the first record that is not whole and
 * correct, whose sequence number does not follow, or whose epoch is below
 * the previous record's or outside [first epoch, epoch]; the newest record
 * covering a byte wins.  Requests of any alignment are taken, up to 64 KiB
 * per call.  Fixed images are preallocated to 1536 + capacity bytes.
 *
 * Epochs cut off what a crash left behind: each time an instance becomes
 * writable the epoch goes up (written to the older slot, then flushed), so
 * records of an earlier session lying past the end of the log can never
 * follow a new one.  When the log would grow past 1536 + capacity, the
 * epoch goes up and the first epoch with it: everything is forgotten and
 * the log starts again at 1536.
 *
 * Crash safety: a record is served only when whole (both checks).  A record
 * that overlaps an older one is flushed before its write returns, so the
 * older data can never come back alone; records over fresh ranges are made
 * durable by pfnFlush.
 *
 * Status codes: VINF_SUCCESS, VERR_VD_BLOCK_FREE, VERR_NO_MEMORY,
 * VERR_VD_IMAGE_CORRUPTED (no valid epoch slot), and the IOINT's.
 *
 * Defects: GAL_DEFECT_REOPENSTALE (the index is rebuilt oldest-wins, so an
 * overwritten range serves its old data after a reopen: READ-1/READ-5),
 * GAL_DEFECT_NOSYNC (overlapping records are not flushed: CRASH-1).
 */
#include "gal.h"

#include <stdlib.h>
#include <string.h>

#define LOG_HEAD   40u
#define LOG_MAXREC 65536u
#define LOG_MAGIC  0x32524c47u /* "GLR2" */
#define LOG_EMAGIC 0x31454c47u /* "GLE1" */
#define LOG_SLOT0  512u
#define LOG_START  1536u

typedef struct lrec {
    uint64_t off, len, pos; /* disk range, file offset of the data */
} lrec;

typedef struct glog {
    lrec    *rec;           /* oldest first */
    size_t   n, cap;
    uint64_t tail, seq;     /* where the next record goes, its number */
    uint64_t epoch, first;  /* the current slot's */
    unsigned slot;          /* which slot holds them */
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
    e->tail = LOG_START;
    e->seq = 1;
    return VINF_SUCCESS;
}

/* Writes epoch and first epoch to the slot not in use, flushed; it becomes current. */
static int log_new_epoch(gal_img *g, uint64_t epoch, uint64_t first)
{
    glog *e = g->eng;
    uint8_t b[28] = { 0 };
    put(b, LOG_EMAGIC, 4);
    put(b + 8, epoch, 8);
    put(b + 16, first, 8);
    put(b + 24, gal_crc32(0, b, 24), 4);
    unsigned slot = e->slot ^ 1u;
    int rc = gal_wr(g, LOG_SLOT0 + GAL_SECTOR * slot, b, sizeof b);
    if (RT_SUCCESS(rc))
        rc = gal_sync(g);
    if (RT_SUCCESS(rc)) {
        e->slot = slot;
        e->epoch = epoch;
        e->first = first;
    }
    return rc;
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
    int rc = log_setup(g);
    glog *e = g->eng;
    if (RT_SUCCESS(rc))
        rc = g->image_flags & VD_IMAGE_FLAGS_FIXED ? gal_prealloc(g, LOG_START + g->capacity)
                                                   : gal_set_size(g, LOG_START);
    if (RT_SUCCESS(rc)) {
        e->slot = 1; /* so that epoch 1 goes to slot 0 */
        rc = log_new_epoch(g, 1, 1);
    }
    return rc;
}

/* The current epoch slot, or VERR_VD_IMAGE_CORRUPTED when neither is valid. */
static int log_read_slots(gal_img *g)
{
    glog *e = g->eng;
    bool found = false;
    for (unsigned i = 0; i < 2; i++) {
        uint8_t b[28];
        int rc = gal_rd(g, LOG_SLOT0 + GAL_SECTOR * i, b, sizeof b);
        if (RT_FAILURE(rc))
            return rc;
        if (get(b, 4) != LOG_EMAGIC || get(b + 24, 4) != gal_crc32(0, b, 24) || get(b + 16, 8) > get(b + 8, 8))
            continue;
        if (!found || get(b + 8, 8) > e->epoch) {
            e->slot = i;
            e->epoch = get(b + 8, 8);
            e->first = get(b + 16, 8);
            found = true;
        }
    }
    return found ? VINF_SUCCESS : VERR_VD_IMAGE_CORRUPTED;
}

static int log_load(gal_img *g)
{
    int rc = log_setup(g);
    if (RT_FAILURE(rc))
        return rc;
    glog *e = g->eng;
    uint64_t cb = 0, last = 0;
    rc = gal_file_size(g, &cb);
    if (RT_SUCCESS(rc))
        rc = cb >= LOG_START ? log_read_slots(g) : VERR_VD_IMAGE_CORRUPTED;
    last = e->first;
    while (RT_SUCCESS(rc) && cb - e->tail >= LOG_HEAD) {
        uint8_t *h = e->buf;
        rc = gal_rd(g, e->tail, h, LOG_HEAD);
        if (RT_FAILURE(rc))
            break;
        uint64_t len = get(h + 4, 4), ep = get(h + 24, 8);
        if (get(h, 4) != LOG_MAGIC || get(h + 36, 4) != gal_crc32(0, h, 36) || len == 0 || len > LOG_MAXREC
            || cb - e->tail - LOG_HEAD < len || get(h + 16, 8) != e->seq || ep < last || ep > e->epoch)
            break;
        uint32_t dcrc = (uint32_t)get(h + 32, 4);
        uint64_t off = get(h + 8, 8);
        rc = gal_rd(g, e->tail + LOG_HEAD, e->buf, (size_t)len);
        if (RT_FAILURE(rc) || gal_sum32(e->buf, (size_t)len) != dcrc)
            break;
        rc = log_index_add(e, off, len, e->tail + LOG_HEAD);
        e->tail += LOG_HEAD + len;
        e->seq++;
        last = ep;
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

/* A new session: records left past the end of the log by an earlier one
 * (a crash) carry a lower epoch, so they can never follow the new ones. */
static int log_writable(gal_img *g)
{
    glog *e = g->eng;
    return log_new_epoch(g, e->epoch + 1, e->first);
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

/* Forgets everything: the log starts again at LOG_START in a new epoch. */
static int log_restart(gal_img *g)
{
    glog *e = g->eng;
    int rc = log_new_epoch(g, e->epoch + 1, e->epoch + 1);
    if (RT_FAILURE(rc))
        return rc;
    e->n = 0;
    e->tail = LOG_START;
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
    if (e->tail + LOG_HEAD + len > LOG_START + g->capacity) {
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
    put(h + 24, e->epoch, 8);
    put(h + 32, gal_sum32(h + LOG_HEAD, (size_t)len), 4);
    put(h + 36, gal_crc32(0, h, 36), 4);
    rc = gal_wr(g, e->tail, h, (size_t)(LOG_HEAD + len));
#ifndef GAL_DEFECT_NOSYNC
    if (RT_SUCCESS(rc) && over)
        rc = gal_sync(g);
#endif
    if (RT_FAILURE(rc)) { /* the record may be whole on disk: best effort, break its head */
        static const uint8_t zero[LOG_HEAD];
        if (RT_SUCCESS(gal_wr(g, e->tail, zero, sizeof zero)))
            gal_sync(g);
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
const VDCACHEBACKEND gal_backend = GAL_VTABLE("glog", VD_CAP_UUID | VD_CAP_CREATE_DYNAMIC | VD_CAP_CREATE_FIXED | VD_CAP_FILE, log_exts);
