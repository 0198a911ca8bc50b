/*
 * harness/record/record.c - the recording wrapper backend.  Contract: record.h;
 * format: spec/trace-format.md (records in section 4, canonical form in 11).
 *
 * Statuses: vdc_recorder_start / _wrap / _finish return VINF_SUCCESS,
 * VERR_INVALID_PARAMETER, VERR_NO_MEMORY, VERR_WRITE_ERROR or
 * VERR_TOO_MUCH_DATA as listed in record.h.  The wrapped callbacks return
 * exactly what the real backend returned, except VERR_INVALID_PARAMETER for
 * a NULL backend-data pointer and VERR_NO_MEMORY when the wrapper cannot
 * allocate its instance (the real backend is then not called).
 *
 * Layout: emission; the capturing IOINT; recording data calls; images that
 * predate the recording; the wrapped callbacks; the per-slot entry points;
 * the API.  Data descriptions (the per-file model, slicing, compact
 * encoding) are record_desc.c; copying an image into a sidecar is
 * record_image.c.
 */
#include "record.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/trace/trace_write.h"
#include "record_desc.h"
#include "record_image.h"

#define DESC_MAX_SEGS    64u    /* segments one recorded data description may use */
#define HEX_BUDGET       512u   /* hex bytes one recorded record may carry */
#define CAP_SEGS         64u    /* SegArrayCreate segments remembered per call */
#define SYNTH_SEED_BASE  UINT64_C(0x5ec0000000) /* first seed of replacement patterns */

/* ---- state -------------------------------------------------------------- */

typedef struct rec_file {
    char      name[VDC_TRACE_MAX_NAME + 1];
    vdc_model model; /* the data last written to this image, as the recording wrote it */
    bool      known; /* the trace so far makes this file (image or foreign file) */
    bool      generated; /* its cached data replays as a pattern: hits there are `any` */
} rec_file;

struct vdc_recorder {
    FILE                    *out;
    vdc_record_open_fn      *open_out; /* out NULL: opens it at the first record */
    void                    *open_user;
    bool                     own_out;  /* out came from open_out: closed by _free */
    char                     out_path[4096]; /* "" unknown: images cannot be kept */
    vdc_record_images        images;
    unsigned                 nsidecars;
    unsigned                 version;  /* of the version line */
    char                     hdr_name[130], hdr_comment[2048];
    uint64_t                 hdr_caps;
    int                      status;   /* first error */
    const vdc_trace         *script;
    const volatile uint32_t *progress;
    unsigned                 script_next; /* next script record to consider for copying */
    unsigned                 records, notes;
    bool                     handle_used[VDC_TRACE_MAX_HANDLES];
    rec_file                 files[VDC_TRACE_MAX_FILES];
    unsigned                 nfiles;
    uint64_t                 next_seed;
    char                     line[VDC_TRACE_MAX_LINE + 2];
};

typedef struct wrap_slot {
    bool                  used;
    vdc_recorder         *rec;
    const VDCACHEBACKEND *real;
    VDCACHEBACKEND        vt;
} wrap_slot;

typedef struct cap_seg {
    size_t   pos; /* where the segment's bytes go in buf */
    uint8_t *p;
    size_t   cb;
} cap_seg;

typedef struct capture {
    bool     active, reading;
    uint8_t *buf;
    size_t   len, pos;
    cap_seg  seg[CAP_SEGS];
    unsigned nseg;
} capture;

typedef struct rec_inst {
    VDINTERFACEIOINT  io;       /* our IOINT, first in the list the backend gets */
    PVDINTERFACEIOINT real_io;  /* NULL: the list was passed through */
    wrap_slot        *slot;
    void             *real_bd;
    unsigned          handle;
    char              hname[8]; /* "h<handle>" */
    int               file;     /* index in rec->files, -1 none */
    capture           cap;
} rec_inst;

static wrap_slot g_slots[VDC_RECORD_MAX_WRAP];
static pthread_mutex_t g_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

/* ---- emission ------------------------------------------------------------ */

static void write_header(vdc_recorder *rec);

/* The trace is open (opening it and writing the header first, when it
 * comes from open_out).  False: nothing can be written. */
static bool ensure_out(vdc_recorder *rec)
{
    if (rec->out != NULL)
        return rec->status >= 0;
    if (rec->status < 0 || rec->open_out == NULL)
        return false;
    rec->out = rec->open_out(rec->open_user, rec->out_path, sizeof rec->out_path);
    if (rec->out == NULL) {
        rec->out_path[0] = '\0';
        rec->status = VERR_WRITE_ERROR;
        return false;
    }
    rec->own_out = true;
    write_header(rec);
    return rec->status >= 0;
}

static void note(vdc_recorder *rec, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(vdc_recorder *rec, const char *fmt, ...)
{
    char buf[2200]; /* the provenance comment names two paths */
    va_list va;
    va_start(va, fmt);
    vsnprintf(buf, sizeof buf, fmt, va);
    va_end(va);
    for (char *c = buf; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
            *c = '?';
    rec->notes++;
    if (ensure_out(rec) && fprintf(rec->out, "# %s\n", buf) < 0)
        rec->status = VERR_WRITE_ERROR;
}

/* Writes r; returns vdc_record_format's status (the record is not written
 * when it fails, so the caller may retry with less data). */
static int emit(vdc_recorder *rec, const vdc_record *r)
{
    if (!ensure_out(rec))
        return rec->status < 0 ? rec->status : VERR_WRITE_ERROR;
    int rc = vdc_record_format(r, rec->line, sizeof rec->line);
    if (rc < 0)
        return rc;
    if (fputs(rec->line, rec->out) < 0 || fputc('\n', rec->out) < 0 || fflush(rec->out) != 0)
        rec->status = VERR_WRITE_ERROR;
    rec->records++;
    return rec->status < 0 ? rec->status : VINF_SUCCESS;
}

static void emit_or_note(vdc_recorder *rec, const vdc_record *r)
{
    int rc = emit(rec, r);
    if (rc < 0 && rc != VERR_WRITE_ERROR)
        note(rec, "a %s call could not be written as a record (status %d)", vdc_op_name(r->op), rc);
}

/* Copies the script's host-side records that ran before the current one
 * (all that ran, when final). */
static void script_sync(vdc_recorder *rec, bool final)
{
    if (rec->script == NULL)
        return;
    unsigned p = *rec->progress;
    unsigned upto = final ? p : (p > 0 ? p - 1 : 0);
    unsigned n = vdc_trace_ncalls(rec->script);
    for (unsigned i = rec->script_next; i < upto && i < n; i++) {
        const vdc_record *r = vdc_trace_record(rec->script, i);
        if (r->op != VDC_OP_FILE && r->op != VDC_OP_EXISTS && r->op != VDC_OP_GONE && r->op != VDC_OP_CONFIG
            && r->op != VDC_OP_INTERFACES)
            continue;
        emit_or_note(rec, r);
        if (r->op == VDC_OP_FILE)
            for (unsigned f = 0; f < rec->nfiles; f++)
                if (strcmp(rec->files[f].name, r->file) == 0) {
                    vdc_model_clear(&rec->files[f].model);
                    rec->files[f].known = true;
                }
    }
    if (upto > rec->script_next)
        rec->script_next = upto;
}

/* The script record running now, when it is a backend call. */
static const vdc_record *script_current(const vdc_recorder *rec)
{
    if (rec->script == NULL || *rec->progress == 0)
        return NULL;
    return vdc_trace_record(rec->script, *rec->progress - 1);
}


static bool is_host_op(vdc_op op)
{
    return op == VDC_OP_FILE || op == VDC_OP_EXISTS || op == VDC_OP_GONE || op == VDC_OP_CONFIG
           || op == VDC_OP_INTERFACES;
}

/* A record of op with the observed status as its only expectation and as
 * `seen`, and the clauses of the script record being run. */
static void base_record(const vdc_recorder *rec, vdc_record *r, vdc_alt *alt, vdc_op op, const rec_inst *in, int rc)
{
    memset(r, 0, sizeof *r);
    r->op = op;
    r->handle = in != NULL ? in->hname : NULL;
    r->seen_given = true;
    r->seen_status = rc;
    *alt = (vdc_alt){ .kind = VDC_ALT_STATUS, .status = rc };
    r->expect.n = 1;
    r->expect.v = alt;
    const vdc_record *cur = script_current(rec);
    if (cur != NULL && !is_host_op(cur->op)) {
        r->nclauses = cur->nclauses;
        r->clauses = cur->clauses;
    }
}

/* A getter has no status: it is checked by value only. */
static void getter_record(const vdc_recorder *rec, vdc_record *r, vdc_alt *alt, vdc_op op, const rec_inst *in,
                          uint64_t v)
{
    base_record(rec, r, alt, op, in, VINF_SUCCESS);
    r->expect.n = 0;
    r->seen_given = false;
    r->value = (vdc_num){ VDC_CMP_EQ, v };
}

/* The trace's file name for a path: its base name, in FILE's alphabet. */
static int file_index(vdc_recorder *rec, const char *path)
{
    char name[VDC_TRACE_MAX_NAME + 1];
    const char *b = path != NULL ? strrchr(path, '/') : NULL;
    b = b != NULL ? b + 1 : (path != NULL ? path : "");
    size_t n = 0;
    if (*b == '\0' || *b == '.' || *b == '-')
        name[n++] = 'f';
    for (; *b && n < VDC_TRACE_MAX_NAME; b++) {
        char c = *b;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
               || c == '-';
        name[n++] = ok ? c : '_';
    }
    name[n] = '\0';
    for (unsigned i = 0; i < rec->nfiles; i++)
        if (strcmp(rec->files[i].name, name) == 0)
            return (int)i;
    if (rec->nfiles == VDC_TRACE_MAX_FILES) {
        note(rec, "more than %u files: %s not recorded", VDC_TRACE_MAX_FILES, name);
        return -1;
    }
    rec_file *f = &rec->files[rec->nfiles];
    memset(f, 0, sizeof *f);
    memcpy(f->name, name, n + 1);
    return (int)rec->nfiles++;
}

static const char *file_name(const vdc_recorder *rec, int idx)
{
    return idx >= 0 ? rec->files[idx].name : NULL;
}

/* ---- the capturing IOINT --------------------------------------------------- */

#define INST(pv)  ((rec_inst *)(pv))
#define RIO(pv)   (INST(pv)->real_io)
#define RUSER(pv) (RIO(pv)->Core.pvUser)

static void cap_put(capture *c, const void *src, size_t cb)
{
    if (!c->active)
        return;
    if (c->pos < c->len) {
        size_t n = cb < c->len - c->pos ? cb : c->len - c->pos;
        if (src != NULL)
            memcpy(c->buf + c->pos, src, n);
        else
            memset(c->buf + c->pos, 0, n);
    }
    c->pos += cb;
}

/* Bytes a backend moved between storage and the context: read them back. */
static void cap_storage(rec_inst *in, PVDIOSTORAGE stor, uint64_t off, size_t cb)
{
    capture *c = &in->cap;
    if (!c->active)
        return;
    if (c->pos < c->len) {
        size_t n = cb < c->len - c->pos ? cb : c->len - c->pos;
        if (in->real_io->pfnReadMeta == NULL
            || in->real_io->pfnReadMeta(in->real_io->Core.pvUser, stor, off, c->buf + c->pos, n, NULL, NULL, NULL,
                                        NULL)
                   < 0)
            memset(c->buf + c->pos, 0, n);
    }
    c->pos += cb;
}

static int w_io_open(void *pv, const char *loc, uint32_t f, PPVDIOSTORAGE pp)
{
    return RIO(pv)->pfnOpen(RUSER(pv), loc, f, pp);
}
static int w_io_close(void *pv, PVDIOSTORAGE s)
{
    return RIO(pv)->pfnClose(RUSER(pv), s);
}
static int w_io_delete(void *pv, const char *f)
{
    return RIO(pv)->pfnDelete(RUSER(pv), f);
}
static int w_io_move(void *pv, const char *a, const char *b, unsigned f)
{
    return RIO(pv)->pfnMove(RUSER(pv), a, b, f);
}
static int w_io_free_space(void *pv, const char *f, int64_t *pcb)
{
    return RIO(pv)->pfnGetFreeSpace(RUSER(pv), f, pcb);
}
static int w_io_mtime(void *pv, const char *f, PRTTIMESPEC t)
{
    return RIO(pv)->pfnGetModificationTime(RUSER(pv), f, t);
}
static int w_io_get_size(void *pv, PVDIOSTORAGE s, uint64_t *pcb)
{
    return RIO(pv)->pfnGetSize(RUSER(pv), s, pcb);
}
static int w_io_set_size(void *pv, PVDIOSTORAGE s, uint64_t cb)
{
    return RIO(pv)->pfnSetSize(RUSER(pv), s, cb);
}
static int w_io_set_alloc(void *pv, PVDIOSTORAGE s, uint64_t cb, uint32_t fl, PVDINTERFACEPROGRESS p, unsigned a,
                          unsigned b)
{
    return RIO(pv)->pfnSetAllocationSize(RUSER(pv), s, cb, fl, p, a, b);
}
static int w_io_read_user(void *pv, PVDIOSTORAGE s, uint64_t off, PVDIOCTX ctx, size_t cb)
{
    int rc = RIO(pv)->pfnReadUser(RUSER(pv), s, off, ctx, cb);
    if (RT_SUCCESS(rc))
        cap_storage(INST(pv), s, off, cb);
    return rc;
}
static int w_io_write_user(void *pv, PVDIOSTORAGE s, uint64_t off, PVDIOCTX ctx, size_t cb, PFNVDXFERCOMPLETED fn,
                           void *u)
{
    int rc = RIO(pv)->pfnWriteUser(RUSER(pv), s, off, ctx, cb, fn, u);
    if (RT_SUCCESS(rc))
        cap_storage(INST(pv), s, off, cb);
    return rc;
}
static int w_io_read_meta(void *pv, PVDIOSTORAGE s, uint64_t off, void *buf, size_t cb, PVDIOCTX ctx,
                          PPVDMETAXFER mx, PFNVDXFERCOMPLETED fn, void *u)
{
    return RIO(pv)->pfnReadMeta(RUSER(pv), s, off, buf, cb, ctx, mx, fn, u);
}
static int w_io_write_meta(void *pv, PVDIOSTORAGE s, uint64_t off, const void *buf, size_t cb, PVDIOCTX ctx,
                           PFNVDXFERCOMPLETED fn, void *u)
{
    return RIO(pv)->pfnWriteMeta(RUSER(pv), s, off, buf, cb, ctx, fn, u);
}
static void w_io_meta_release(void *pv, PVDMETAXFER mx)
{
    RIO(pv)->pfnMetaXferRelease(RUSER(pv), mx);
}
static int w_io_flush(void *pv, PVDIOSTORAGE s, PVDIOCTX ctx, PFNVDXFERCOMPLETED fn, void *u)
{
    return RIO(pv)->pfnFlush(RUSER(pv), s, ctx, fn, u);
}
static size_t w_io_copy_to(void *pv, PVDIOCTX ctx, const void *buf, size_t cb)
{
    size_t n = RIO(pv)->pfnIoCtxCopyTo(RUSER(pv), ctx, buf, cb);
    cap_put(&INST(pv)->cap, buf, n <= cb ? n : cb);
    return n;
}
static size_t w_io_copy_from(void *pv, PVDIOCTX ctx, void *buf, size_t cb)
{
    size_t n = RIO(pv)->pfnIoCtxCopyFrom(RUSER(pv), ctx, buf, cb);
    cap_put(&INST(pv)->cap, buf, n <= cb ? n : cb);
    return n;
}
static size_t w_io_set(void *pv, PVDIOCTX ctx, int ch, size_t cb)
{
    size_t n = RIO(pv)->pfnIoCtxSet(RUSER(pv), ctx, ch, cb);
    capture *c = &INST(pv)->cap;
    if (c->active && c->pos < c->len) {
        size_t k = n < c->len - c->pos ? n : c->len - c->pos;
        memset(c->buf + c->pos, ch, k);
    }
    if (c->active)
        c->pos += n;
    return n;
}
static size_t w_io_seg_array(void *pv, PVDIOCTX ctx, PRTSGSEG segs, unsigned *pcSeg, size_t cb)
{
    size_t n = RIO(pv)->pfnIoCtxSegArrayCreate(RUSER(pv), ctx, segs, pcSeg, cb);
    capture *c = &INST(pv)->cap;
    if (!c->active || segs == NULL || pcSeg == NULL)
        return n;
    for (unsigned i = 0; i < *pcSeg; i++) {
        if (c->reading) {
            /* The backend fills these after this call: gather them at the end. */
            if (c->nseg < CAP_SEGS)
                c->seg[c->nseg++] = (cap_seg){ c->pos, segs[i].pvSeg, segs[i].cbSeg };
            c->pos += segs[i].cbSeg;
        } else {
            cap_put(c, segs[i].pvSeg, segs[i].cbSeg);
        }
    }
    return n;
}
static void w_io_completed(void *pv, PVDIOCTX ctx, int rc, size_t cb)
{
    RIO(pv)->pfnIoCtxCompleted(RUSER(pv), ctx, rc, cb);
}
static bool w_io_is_sync(void *pv, PVDIOCTX ctx)
{
    return RIO(pv)->pfnIoCtxIsSynchronous(RUSER(pv), ctx);
}
static bool w_io_is_zero(void *pv, PVDIOCTX ctx, size_t cb, bool adv)
{
    bool z = RIO(pv)->pfnIoCtxIsZero(RUSER(pv), ctx, cb, adv);
    if (z && adv)
        cap_put(&INST(pv)->cap, NULL, cb);
    return z;
}
static size_t w_io_unit(void *pv, PVDIOCTX ctx)
{
    return RIO(pv)->pfnIoCtxGetDataUnitSize(RUSER(pv), ctx);
}

/* The image list the backend gets: our IOINT in front of the caller's. */
static PVDINTERFACE wrap_image_list(rec_inst *in, PVDINTERFACE image)
{
    PVDINTERFACEIOINT real = vdc_if_ioint(image);
    if (real == NULL)
        return image;
    in->real_io = real;
    in->io = *real;
    in->io.Core.pvUser = in;
    in->io.Core.pNext = image;
#define W(member, fn) in->io.member = real->member != NULL ? fn : NULL
    W(pfnOpen, w_io_open);
    W(pfnClose, w_io_close);
    W(pfnDelete, w_io_delete);
    W(pfnMove, w_io_move);
    W(pfnGetFreeSpace, w_io_free_space);
    W(pfnGetModificationTime, w_io_mtime);
    W(pfnGetSize, w_io_get_size);
    W(pfnSetSize, w_io_set_size);
    W(pfnSetAllocationSize, w_io_set_alloc);
    W(pfnReadUser, w_io_read_user);
    W(pfnWriteUser, w_io_write_user);
    W(pfnReadMeta, w_io_read_meta);
    W(pfnWriteMeta, w_io_write_meta);
    W(pfnMetaXferRelease, w_io_meta_release);
    W(pfnFlush, w_io_flush);
    W(pfnIoCtxCopyTo, w_io_copy_to);
    W(pfnIoCtxCopyFrom, w_io_copy_from);
    W(pfnIoCtxSet, w_io_set);
    W(pfnIoCtxSegArrayCreate, w_io_seg_array);
    W(pfnIoCtxCompleted, w_io_completed);
    W(pfnIoCtxIsSynchronous, w_io_is_sync);
    W(pfnIoCtxIsZero, w_io_is_zero);
    W(pfnIoCtxGetDataUnitSize, w_io_unit);
#undef W
    return &in->io.Core;
}

static bool cap_begin(rec_inst *in, size_t cb, bool reading)
{
    capture *c = &in->cap;
    memset(c, 0, sizeof *c);
    if (in->real_io == NULL || cb == 0 || cb > VDC_TRACE_MAX_XFER)
        return false;
    c->buf = malloc(cb);
    if (c->buf == NULL)
        return false;
    memset(c->buf, 0, cb);
    c->len = cb;
    c->reading = reading;
    c->active = true;
    return true;
}

static void cap_end(rec_inst *in)
{
    capture *c = &in->cap;
    for (unsigned i = 0; i < c->nseg; i++) {
        if (c->seg[i].pos >= c->len)
            continue;
        size_t n = c->seg[i].cb < c->len - c->seg[i].pos ? c->seg[i].cb : c->len - c->seg[i].pos;
        memcpy(c->buf + c->seg[i].pos, c->seg[i].p, n);
    }
    c->active = false;
}

static void cap_free(rec_inst *in)
{
    free(in->cap.buf);
    memset(&in->cap, 0, sizeof in->cap);
}

/* ---- recording data calls ------------------------------------------------ */

static bool io_representable(vdc_recorder *rec, const char *what, uint64_t off, size_t cb)
{
    if (cb >= 1 && cb <= VDC_TRACE_MAX_XFER && off <= VDC_TRACE_MAX_SIZE && cb <= VDC_TRACE_MAX_SIZE - off)
        return true;
    note(rec, "%s off=%llu len=%zu is outside the trace format's limits; not recorded", what,
         (unsigned long long)off, cb);
    return false;
}

static void record_write(vdc_recorder *rec, rec_inst *in, uint64_t off, size_t cb, int rc, size_t done)
{
    if (!io_representable(rec, "write", off, cb))
        return;
    vdc_record r;
    vdc_alt alt;
    base_record(rec, &r, &alt, VDC_OP_WRITE, in, rc);
    r.off = off;
    r.len = cb;
    /* Counts mean something only on success (the replay checks no other). */
    if (RT_SUCCESS(rc)) {
        r.count = (vdc_num){ VDC_CMP_EQ, done };
        r.seen_count_given = true;
        r.seen_count = done;
    }
    size_t got = RT_SUCCESS(rc) ? (done <= cb ? done : cb) : 0;
    bool captured = in->cap.buf != NULL && in->cap.pos >= got;
    vdc_seg segs[DESC_MAX_SEGS + 1];
    unsigned ns = 0;

    /* 1. The script's own description, when it covers the call and matches. */
    const vdc_record *cur = script_current(rec);
    if (cur != NULL && cur->data.nsegs > 0 && cur->off <= off && off + cb <= cur->off + cur->len) {
        ns = vdc_data_slice(&cur->data, off, cb, segs, DESC_MAX_SEGS);
        vdc_data d = { ns, segs };
        size_t diff;
        if (ns > 0 && got > 0 && (!captured || !vdc_data_match(&d, off, in->cap.buf, got, &diff)))
            ns = 0;
    }
    /* 2. The captured bytes, compactly; the unprocessed tail as zeros. */
    if (ns == 0 && captured) {
        ns = got > 0 ? vdc_encode_bytes(in->cap.buf, got, off, segs, DESC_MAX_SEGS, HEX_BUDGET) : 0;
        if (ns > 0 && got < cb)
            segs[ns++] = (vdc_seg){ .kind = VDC_GEN_ZERO, .start = off + got, .len = cb - got };
        else if (got == 0)
            segs[ns++] = (vdc_seg){ .kind = VDC_GEN_ZERO, .start = off, .len = cb };
    }
    r.data = (vdc_data){ ns, segs };
    int erc = ns > 0 ? emit(rec, &r) : VERR_BUFFER_OVERFLOW;
    /* 3. A fresh pattern: the replay writes other bytes, consistently. */
    if (erc == VERR_BUFFER_OVERFLOW || erc == VERR_INVALID_PARAMETER) {
        segs[0] = (vdc_seg){ .kind = VDC_GEN_PATTERN, .start = off, .len = cb, .seed = rec->next_seed++ };
        ns = 1;
        r.data = (vdc_data){ 1, segs };
        if (rec->script != NULL)
            note(rec, "write off=%llu len=%zu: its bytes are replaced by pattern:%llu", (unsigned long long)off, cb,
                 (unsigned long long)segs[0].seed);
        emit_or_note(rec, &r);
    }
    if (RT_SUCCESS(rc) && got > 0 && in->file >= 0) {
        /* The model learns the processed range, as the recording wrote it. */
        vdc_seg part[DESC_MAX_SEGS + 1];
        vdc_data d = { ns, segs };
        unsigned np = vdc_data_slice(&d, off, got, part, DESC_MAX_SEGS + 1);
        if (np > 0)
            vdc_model_set(&rec->files[in->file].model, part, np, off, got);
        else
            vdc_model_drop(&rec->files[in->file].model);
    }
}

static void record_read(vdc_recorder *rec, rec_inst *in, uint64_t off, size_t cb, int rc, size_t done)
{
    if (!io_representable(rec, "read", off, cb))
        return;
    vdc_record r;
    vdc_alt alt;
    base_record(rec, &r, &alt, VDC_OP_READ, in, rc);
    r.off = off;
    r.len = cb;
    /* Counts mean something on a hit and on a miss (the replay checks both). */
    if (rc == VINF_SUCCESS || rc == VERR_VD_BLOCK_FREE) {
        r.count = (vdc_num){ VDC_CMP_EQ, done };
        r.seen_count_given = true;
        r.seen_count = done;
    }
    vdc_seg segs[DESC_MAX_SEGS + 2];
    unsigned ns = 0;
    size_t got = rc == VINF_SUCCESS ? (done <= cb ? done : cb) : 0;
    if (rc == VINF_SUCCESS) {
        alt = (vdc_alt){ .kind = VDC_ALT_HIT };
        bool captured = in->cap.buf != NULL && in->cap.pos >= got;
        const rec_file *f = in->file >= 0 ? &rec->files[in->file] : NULL;
        unsigned nm = got > 0 && f != NULL ? vdc_model_get(&f->model, off, got, segs, DESC_MAX_SEGS) : 0;
        size_t diff = 0;
        vdc_data md = { nm, segs };
        bool model_ok = nm > 0 && captured && vdc_data_match(&md, off, in->cap.buf, got, &diff);
        if (rec->script == NULL && nm > 0) {
            ns = nm; /* plugin form: the model is what the recording wrote */
        } else if (model_ok) {
            ns = nm;
        } else if (captured && got > 0 && (f == NULL || !f->generated)
                   && (ns = vdc_encode_bytes(in->cap.buf, got, off, segs, DESC_MAX_SEGS, HEX_BUDGET)) > 0) {
            if (nm > 0)
                note(rec, "read off=%llu len=%zu: the backend served bytes that differ from the last data written "
                          "(first at +%zu); recorded as observed",
                     (unsigned long long)off, cb, diff);
        } else if (nm > 0) {
            ns = vdc_model_get(&f->model, off, got, segs, DESC_MAX_SEGS);
            note(rec, "read off=%llu len=%zu: the backend served bytes that differ from the last data written "
                      "(first at +%zu); recorded as the data written",
                 (unsigned long long)off, cb, diff);
        }
        if (got > 0 && ns == 0)
            segs[ns++] = (vdc_seg){ .kind = VDC_GEN_ANY, .start = off, .len = got };
        if (got < cb)
            segs[ns++] = (vdc_seg){ .kind = VDC_GEN_ANY, .start = off + got, .len = cb - got };
        r.data = (vdc_data){ ns, segs };
    }
    int erc = emit(rec, &r);
    if (erc == VERR_BUFFER_OVERFLOW || erc == VERR_INVALID_PARAMETER) {
        segs[0] = (vdc_seg){ .kind = VDC_GEN_ANY, .start = off, .len = cb };
        r.data = (vdc_data){ rc == VINF_SUCCESS ? 1u : 0u, segs };
        note(rec, "read off=%llu len=%zu: hit data not recorded (too long for one record)", (unsigned long long)off,
             cb);
        emit_or_note(rec, &r);
    }
}

/* ---- wrapped callbacks ---------------------------------------------------- */

static int handle_alloc(vdc_recorder *rec, rec_inst *in)
{
    for (unsigned h = 0; h < VDC_TRACE_MAX_HANDLES; h++) {
        if (!rec->handle_used[h]) {
            rec->handle_used[h] = true;
            in->handle = h;
            snprintf(in->hname, sizeof in->hname, "h%u", h);
            return 0;
        }
    }
    return -1;
}

static void inst_free(vdc_recorder *rec, rec_inst *in)
{
    if (in->hname[0] != '\0')
        rec->handle_used[in->handle] = false;
    cap_free(in);
    free(in);
}

/* A new instance with a handle and the file's index, or NULL (noted). */
static rec_inst *inst_new(wrap_slot *ws, const char *path)
{
    vdc_recorder *rec = ws->rec;
    rec_inst *in = calloc(1, sizeof *in);
    if (in == NULL)
        return NULL;
    in->slot = ws;
    in->file = file_index(rec, path);
    if (handle_alloc(rec, in) < 0) {
        note(rec, "more than %u images open at once; this one is not recorded", VDC_TRACE_MAX_HANDLES);
        in->hname[0] = '\0';
    }
    return in;
}

static void uuid_arg(vdc_uuid_ref *u, PCRTUUID p)
{
    if (p == NULL) {
        u->kind = VDC_UUID_NULLPTR;
    } else {
        u->kind = VDC_UUID_LIT;
        u->lit = *p;
    }
}

static void str_arg(vdc_recorder *rec, vdc_str *s, const char *p, const char *what)
{
    s->given = true;
    s->null = p == NULL;
    s->s = p;
    if (p != NULL && strnlen(p, VDC_TRACE_MAX_STRING + 1) > VDC_TRACE_MAX_STRING) {
        note(rec, "%s longer than %u bytes: not recorded", what, VDC_TRACE_MAX_STRING);
        s->given = false;
        s->s = NULL;
    }
}

/* Plugin form, images NONE: a file probed before the recording made it is
 * copied into the trace as a `file` record (its bytes compactly, else a
 * pattern of the same length), so the replay probes the same kind of file.
 * True when the record holds its bytes exactly. */
static bool snapshot_file(vdc_recorder *rec, int fi, const char *path, PVDINTERFACE image)
{
    bool exact = false;
    PVDINTERFACEIOINT io = vdc_if_ioint(image);
    rec_file *f = &rec->files[fi];
    if (io == NULL || io->pfnOpen == NULL || io->pfnClose == NULL || io->pfnGetSize == NULL
        || io->pfnReadMeta == NULL)
        return false;
    PVDIOSTORAGE st = NULL;
    if (io->pfnOpen(io->Core.pvUser, path, RTFILE_O_READ | RTFILE_O_DENY_NONE | RTFILE_O_OPEN, &st) < 0)
        return true; /* missing: the probe will say so, and so will the replay */
    uint64_t size = 0;
    uint8_t *buf = NULL;
    if (io->pfnGetSize(io->Core.pvUser, st, &size) < 0 || size > VDC_TRACE_MAX_XFER) {
        note(rec, "probe of %s: the file could not be copied into the trace", f->name);
        goto out_close;
    }
    buf = malloc(size > 0 ? (size_t)size : 1);
    if (buf == NULL)
        goto out_close;
    for (uint64_t off = 0; off < size;) {
        size_t n = size - off < (1u << 20) ? (size_t)(size - off) : (1u << 20);
        if (io->pfnReadMeta(io->Core.pvUser, st, off, buf + off, n, NULL, NULL, NULL, NULL) < 0) {
            note(rec, "probe of %s: the file could not be read to copy it into the trace", f->name);
            goto out_free;
        }
        off += n;
    }
    vdc_seg segs[DESC_MAX_SEGS];
    vdc_record r;
    memset(&r, 0, sizeof r);
    r.op = VDC_OP_FILE;
    r.file = f->name;
    r.len = size;
    unsigned ns = size > 0 ? vdc_encode_bytes(buf, (size_t)size, 0, segs, DESC_MAX_SEGS, HEX_BUDGET) : 0;
    r.data = (vdc_data){ ns, segs };
    if (size > 0 && (ns == 0 || emit(rec, &r) < 0)) {
        segs[0] = (vdc_seg){ .kind = VDC_GEN_PATTERN, .start = 0, .len = size, .seed = rec->next_seed++ };
        r.data = (vdc_data){ 1, segs };
        note(rec, "probe of %s: its %llu bytes are replaced by pattern:%llu", f->name, (unsigned long long)size,
             (unsigned long long)segs[0].seed);
        emit_or_note(rec, &r);
    } else {
        if (size == 0)
            emit_or_note(rec, &r);
        exact = true;
    }
    f->known = true;
out_free:
    free(buf);
out_close:
    io->pfnClose(io->Core.pvUser, st);
    return exact;
}

/* The sidecar's name for the next image: the trace's base name (FILE
 * alphabet, at most 48 bytes, without ".trace") plus ".imgN"; and its path
 * beside the trace. */
static bool sidecar_name(vdc_recorder *rec, char *name, size_t cbname, char *path, size_t cbpath)
{
    const char *slash = strrchr(rec->out_path, '/');
    const char *base = slash != NULL ? slash + 1 : rec->out_path;
    size_t bl = strlen(base), n = 0;
    if (bl > 6 && strcmp(base + bl - 6, ".trace") == 0)
        bl -= 6;
    char b[49];
    for (size_t i = 0; i < bl && n < sizeof b - 1; i++) {
        char c = base[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
               || ((c == '.' || c == '-') && n > 0);
        b[n++] = ok ? c : '_';
    }
    b[n] = '\0';
    int k = snprintf(name, cbname, "%s.img%u", n > 0 ? b : "trace", ++rec->nsidecars);
    int d = slash != NULL ? (int)(slash - rec->out_path) : 0;
    int m = slash != NULL ? snprintf(path, cbpath, "%.*s/%s", d, rec->out_path, name) : snprintf(path, cbpath, "%s", name);
    return k > 0 && (size_t)k < cbname && m > 0 && (size_t)m < cbpath;
}

/* Plugin form, images META or FULL: copies the file into a new sidecar and
 * writes its `image` record.  False when that could not be done (noted,
 * except for a file that does not exist: nothing to keep). */
static bool keep_sidecar(vdc_recorder *rec, int fi, const char *path, PVDINTERFACE image, bool *missing)
{
    rec_file *f = &rec->files[fi];
    char name[VDC_TRACE_MAX_NAME + 1], scpath[sizeof rec->out_path + 80];
    *missing = false;
    if (!ensure_out(rec) || rec->out_path[0] == '\0')
        return false;
    /* A sidecar is never overwritten: left over from an older recording, the name is skipped. */
    int fd = -1;
    for (unsigned tries = 0; fd < 0 && tries < 1000; tries++) {
        if (!sidecar_name(rec, name, sizeof name, scpath, sizeof scpath))
            break;
        fd = open(scpath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    FILE *out = fd >= 0 ? fdopen(fd, "w+") : NULL;
    if (out == NULL) {
        note(rec, "%s existed before the recording, but its sidecar %s cannot be created: %s", f->name, name,
             strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    vdc_image_copy res;
    int rc = vdc_record_image_copy(vdc_if_ioint(image), path, rec->images, rec->next_seed++, out, &res);
    if (fclose(out) != 0 && rc >= 0)
        rc = VERR_WRITE_ERROR;
    if (rc < 0) {
        unlink(scpath);
        *missing = rc == VERR_FILE_NOT_FOUND;
        if (!*missing)
            note(rec, "%s existed before the recording, but it could not be copied into %s (status %d%s%s)",
                 f->name, name, rc, res.why[0] ? ": " : "", res.why);
        return false;
    }
    char gen[64] = "";
    if (res.generated > 0)
        snprintf(gen, sizeof gen, ", %llu as pattern:%llu", (unsigned long long)res.generated,
                 (unsigned long long)(rec->next_seed - 1));
    note(rec, "%s existed before the recording: %s keeps %s (%llu bytes: %llu kept%s%s%s)", f->name, name,
         res.vci ? "its VCI image" : "the file", (unsigned long long)res.size, (unsigned long long)res.stored, gen,
         res.why[0] ? "; kept whole: " : "", res.why);
    vdc_record r;
    memset(&r, 0, sizeof r);
    r.op = VDC_OP_IMAGE;
    r.file = f->name;
    r.sidecar = name;
    if (emit(rec, &r) < 0)
        return false;
    vdc_model_clear(&f->model);
    f->generated = res.generated > 0;
    f->known = true;
    return true;
}

/* Plugin form: the first probe or open of a file the trace has not made. */
static void keep_file(vdc_recorder *rec, int fi, const char *path, PVDINTERFACE image, bool probing)
{
    bool missing = false;
    if (rec->images != VDC_RECORD_IMAGES_NONE && keep_sidecar(rec, fi, path, image, &missing))
        return;
    if (missing || (probing && snapshot_file(rec, fi, path, image)))
        return;
    note(rec, "%s existed before the recording and is not kept (VDCC_RECORD_IMAGES=%s): a replay of what "
                  "follows will differ",
             rec->files[fi].name, vdc_record_images_name(rec->images));
}

static int w_probe(wrap_slot *ws, const char *file, PVDINTERFACE disk, PVDINTERFACE image)
{
    pthread_mutex_lock(&g_lock);
    vdc_recorder *rec = ws->rec;
    script_sync(rec, false);
    int fi = file_index(rec, file);
    if (fi >= 0 && rec->script == NULL && !rec->files[fi].known)
        keep_file(rec, fi, file, image, true);
    int rc = ws->real->pfnProbe(file, disk, image);
    if (fi >= 0) {
        vdc_record r;
        vdc_alt alt;
        base_record(rec, &r, &alt, VDC_OP_PROBE, NULL, rc);
        r.file = file_name(rec, fi);
        emit_or_note(rec, &r);
    }
    pthread_mutex_unlock(&g_lock);
    return rc;
}

static int w_open(wrap_slot *ws, const char *file, unsigned flags, PVDINTERFACE disk, PVDINTERFACE image, void **pp)
{
    pthread_mutex_lock(&g_lock);
    vdc_recorder *rec = ws->rec;
    script_sync(rec, false);
    int rc;
    rec_inst *in = inst_new(ws, file);
    if (in == NULL) {
        rc = VERR_NO_MEMORY;
        goto out_unlock;
    }
    if (in->file >= 0 && rec->script == NULL && !rec->files[in->file].known)
        keep_file(rec, in->file, file, image, false);
    void *bd = NULL;
    rc = ws->real->pfnOpen(file, flags, disk, wrap_image_list(in, image), pp != NULL ? &bd : NULL);
    if (in->hname[0] != '\0' && in->file >= 0) {
        vdc_record r;
        vdc_alt alt;
        base_record(rec, &r, &alt, VDC_OP_OPEN, in, rc);
        r.file = file_name(rec, in->file);
        r.open_flags = flags;
        emit_or_note(rec, &r);
        if (RT_SUCCESS(rc))
            rec->files[in->file].known = true;
    }
    if (RT_SUCCESS(rc) && pp != NULL && bd != NULL) {
        in->real_bd = bd;
        *pp = in;
    } else {
        if (RT_SUCCESS(rc) && pp != NULL)
            *pp = NULL; /* the backend's own answer: success without data */
        inst_free(rec, in);
    }
out_unlock:
    pthread_mutex_unlock(&g_lock);
    return rc;
}

static int w_create(wrap_slot *ws, const char *file, uint64_t cb, unsigned img, const char *comment, PCRTUUID uuid,
                    unsigned flags, unsigned start, unsigned span, PVDINTERFACE disk, PVDINTERFACE image,
                    PVDINTERFACE op, void **pp)
{
    pthread_mutex_lock(&g_lock);
    vdc_recorder *rec = ws->rec;
    script_sync(rec, false);
    int rc;
    rec_inst *in = inst_new(ws, file);
    if (in == NULL) {
        rc = VERR_NO_MEMORY;
        goto out_unlock;
    }
    void *bd = NULL;
    rc = ws->real->pfnCreate(file, cb, img, comment, uuid, flags, start, span, disk, wrap_image_list(in, image), op,
                             pp != NULL ? &bd : NULL);
    if (in->hname[0] != '\0' && in->file >= 0) {
        vdc_record r;
        vdc_alt alt;
        base_record(rec, &r, &alt, VDC_OP_CREATE, in, rc);
        r.file = file_name(rec, in->file);
        r.size = cb <= VDC_TRACE_MAX_SIZE ? cb : VDC_TRACE_MAX_SIZE;
        r.image_flags = img;
        r.open_flags = flags;
        str_arg(rec, &r.str, comment, "create comment");
        if (!r.str.given)
            r.str = (vdc_str){ .given = true, .null = true };
        uuid_arg(&r.uuid, uuid);
        r.pct_start = start <= 100 ? start : 100;
        r.pct_span = span <= 100 - r.pct_start ? span : 100 - r.pct_start;
        if (r.size != cb || r.pct_start != start || r.pct_span != span)
            note(rec, "create: size or progress range outside the format's limits, recorded clamped");
        emit_or_note(rec, &r);
        if (RT_SUCCESS(rc)) {
            vdc_model_clear(&rec->files[in->file].model);
            rec->files[in->file].known = true;
        }
    }
    if (RT_SUCCESS(rc) && pp != NULL && bd != NULL) {
        in->real_bd = bd;
        *pp = in;
    } else {
        if (RT_SUCCESS(rc) && pp != NULL)
            *pp = NULL;
        inst_free(rec, in);
    }
out_unlock:
    pthread_mutex_unlock(&g_lock);
    return rc;
}

/* Common start of the callbacks taking backend data. */
#define ENTER(bd)                                                  \
    rec_inst *in = (bd);                                           \
    if (in == NULL)                                                \
        return VERR_INVALID_PARAMETER;                             \
    pthread_mutex_lock(&g_lock);                                   \
    vdc_recorder *rec = in->slot->rec;                             \
    const VDCACHEBACKEND *real = in->slot->real;                   \
    script_sync(rec, false);                                       \
    bool recorded = in->hname[0] != '\0'
#define LEAVE() pthread_mutex_unlock(&g_lock)

static int w_close(void *bd, bool del)
{
    ENTER(bd);
    int rc = real->pfnClose(in->real_bd, del);
    if (recorded) {
        vdc_record r;
        vdc_alt alt;
        base_record(rec, &r, &alt, VDC_OP_CLOSE, in, rc);
        r.del = del;
        emit_or_note(rec, &r);
        if (del && RT_SUCCESS(rc) && in->file >= 0) {
            vdc_model_clear(&rec->files[in->file].model);
            rec->files[in->file].known = false;
        }
    }
    inst_free(rec, in);
    LEAVE();
    return rc;
}

static int w_read(void *bd, uint64_t off, size_t cb, PVDIOCTX ctx, size_t *pcb)
{
    ENTER(bd);
    size_t local = 0;
    cap_begin(in, cb, true);
    int rc = real->pfnRead(in->real_bd, off, cb, ctx, pcb);
    cap_end(in);
    if (recorded)
        record_read(rec, in, off, cb, rc, pcb != NULL ? *pcb : local);
    cap_free(in);
    LEAVE();
    return rc;
}

static int w_write(void *bd, uint64_t off, size_t cb, PVDIOCTX ctx, size_t *pcb)
{
    ENTER(bd);
    size_t local = 0;
    cap_begin(in, cb, false);
    int rc = real->pfnWrite(in->real_bd, off, cb, ctx, pcb);
    cap_end(in);
    if (recorded)
        record_write(rec, in, off, cb, rc, pcb != NULL ? *pcb : local);
    cap_free(in);
    LEAVE();
    return rc;
}

static int w_flush(void *bd, PVDIOCTX ctx)
{
    ENTER(bd);
    int rc = real->pfnFlush(in->real_bd, ctx);
    if (recorded) {
        vdc_record r;
        vdc_alt alt;
        base_record(rec, &r, &alt, VDC_OP_FLUSH, in, rc);
        emit_or_note(rec, &r);
    }
    LEAVE();
    return rc;
}

static int w_discard(void *bd, PVDIOCTX ctx, uint64_t off, size_t cb, size_t *pre, size_t *post, size_t *done,
                     void **bm, unsigned fl)
{
    ENTER(bd);
    int rc = real->pfnDiscard(in->real_bd, ctx, off, cb, pre, post, done, bm, fl);
    if (recorded && io_representable(rec, "discard", off, cb)) {
        vdc_record r;
        vdc_alt alt;
        base_record(rec, &r, &alt, VDC_OP_DISCARD, in, rc);
        r.off = off;
        r.len = cb;
        r.discard_flags = fl;
        if (RT_SUCCESS(rc)) {
            if (pre != NULL)
                r.pre = (vdc_num){ VDC_CMP_EQ, *pre };
            if (post != NULL)
                r.post = (vdc_num){ VDC_CMP_EQ, *post };
            if (done != NULL)
                r.discarded = (vdc_num){ VDC_CMP_EQ, *done };
        }
        emit_or_note(rec, &r);
        /* Discarded data must not be served again: forget what the model knew. */
        if (RT_SUCCESS(rc) && in->file >= 0)
            vdc_model_drop(&rec->files[in->file].model);
    }
    LEAVE();
    return rc;
}

#define GETTER(fn, type, member, op)                         \
    static type fn(void *bd)                                 \
    {                                                        \
        rec_inst *in_ = bd;                                  \
        if (in_ == NULL)                                     \
            return 0;                                        \
        pthread_mutex_lock(&g_lock);                         \
        vdc_recorder *rec = in_->slot->rec;                  \
        script_sync(rec, false);                             \
        type v = in_->slot->real->member(in_->real_bd);      \
        if (in_->hname[0] != '\0') {                         \
            vdc_record r;                                    \
            vdc_alt alt;                                     \
            getter_record(rec, &r, &alt, op, in_, (uint64_t)v); \
            emit_or_note(rec, &r);                           \
        }                                                    \
        pthread_mutex_unlock(&g_lock);                       \
        return v;                                            \
    }
GETTER(w_get_version, unsigned, pfnGetVersion, VDC_OP_GET_VERSION)
GETTER(w_get_size, uint64_t, pfnGetSize, VDC_OP_GET_SIZE)
GETTER(w_get_file_size, uint64_t, pfnGetFileSize, VDC_OP_GET_FILE_SIZE)
GETTER(w_get_image_flags, unsigned, pfnGetImageFlags, VDC_OP_GET_IMAGE_FLAGS)
GETTER(w_get_open_flags, unsigned, pfnGetOpenFlags, VDC_OP_GET_OPEN_FLAGS)
#undef GETTER

static int w_set_open_flags(void *bd, unsigned flags)
{
    ENTER(bd);
    int rc = real->pfnSetOpenFlags(in->real_bd, flags);
    if (recorded) {
        vdc_record r;
        vdc_alt alt;
        base_record(rec, &r, &alt, VDC_OP_SET_OPEN_FLAGS, in, rc);
        r.open_flags = flags;
        emit_or_note(rec, &r);
    }
    LEAVE();
    return rc;
}

static int w_get_comment(void *bd, char *buf, size_t cb)
{
    ENTER(bd);
    int rc = real->pfnGetComment(in->real_bd, buf, cb);
    if (recorded) {
        vdc_record r;
        vdc_alt alt;
        base_record(rec, &r, &alt, VDC_OP_GET_COMMENT, in, rc);
        r.buf = cb <= 65536 ? cb : 65536;
        if (r.buf != cb)
            note(rec, "get-comment with a %zu-byte buffer recorded as 64K", cb);
        if (RT_SUCCESS(rc) && buf != NULL && memchr(buf, '\0', cb) != NULL)
            str_arg(rec, &r.out_str, buf, "comment");
        emit_or_note(rec, &r);
    }
    LEAVE();
    return rc;
}

static int w_set_comment(void *bd, const char *comment)
{
    ENTER(bd);
    int rc = real->pfnSetComment(in->real_bd, comment);
    if (recorded) {
        vdc_record r;
        vdc_alt alt;
        base_record(rec, &r, &alt, VDC_OP_SET_COMMENT, in, rc);
        str_arg(rec, &r.str, comment, "set-comment");
        if (r.str.given)
            emit_or_note(rec, &r);
    }
    LEAVE();
    return rc;
}

static int uuid_get(void *bd, PRTUUID u, bool mod)
{
    ENTER(bd);
    int rc = mod ? real->pfnGetModificationUuid(in->real_bd, u) : real->pfnGetUuid(in->real_bd, u);
    if (recorded) {
        vdc_record r;
        vdc_alt alt;
        base_record(rec, &r, &alt, mod ? VDC_OP_GET_MOD_UUID : VDC_OP_GET_UUID, in, rc);
        if (RT_SUCCESS(rc) && u != NULL)
            uuid_arg(&r.out_uuid, u);
        emit_or_note(rec, &r);
    }
    LEAVE();
    return rc;
}

static int uuid_set(void *bd, PCRTUUID u, bool mod)
{
    ENTER(bd);
    int rc = mod ? real->pfnSetModificationUuid(in->real_bd, u) : real->pfnSetUuid(in->real_bd, u);
    if (recorded) {
        vdc_record r;
        vdc_alt alt;
        base_record(rec, &r, &alt, mod ? VDC_OP_SET_MOD_UUID : VDC_OP_SET_UUID, in, rc);
        uuid_arg(&r.uuid, u);
        emit_or_note(rec, &r);
    }
    LEAVE();
    return rc;
}

static int w_get_uuid(void *bd, PRTUUID u)
{
    return uuid_get(bd, u, false);
}
static int w_set_uuid(void *bd, PCRTUUID u)
{
    return uuid_set(bd, u, false);
}
static int w_get_mod_uuid(void *bd, PRTUUID u)
{
    return uuid_get(bd, u, true);
}
static int w_set_mod_uuid(void *bd, PCRTUUID u)
{
    return uuid_set(bd, u, true);
}

static void w_dump(void *bd)
{
    rec_inst *in = bd;
    if (in == NULL)
        return;
    pthread_mutex_lock(&g_lock);
    vdc_recorder *rec = in->slot->rec;
    script_sync(rec, false);
    in->slot->real->pfnDump(in->real_bd);
    if (in->hname[0] != '\0') {
        vdc_record r;
        vdc_alt alt;
        getter_record(rec, &r, &alt, VDC_OP_DUMP, in, 0);
        r.value = (vdc_num){ VDC_CMP_NONE, 0 };
        r.printed_any = true; /* whether it printed is not observed */
        emit_or_note(rec, &r);
    }
    pthread_mutex_unlock(&g_lock);
}

static int w_compose(wrap_slot *ws, PVDINTERFACE cfg, char **pp, bool location)
{
    pthread_mutex_lock(&g_lock);
    vdc_recorder *rec = ws->rec;
    script_sync(rec, false);
    int rc = location ? ws->real->pfnComposeLocation(cfg, pp) : ws->real->pfnComposeName(cfg, pp);
    vdc_record r;
    vdc_alt alt;
    base_record(rec, &r, &alt, location ? VDC_OP_COMPOSE_LOCATION : VDC_OP_COMPOSE_NAME, NULL, rc);
    if (RT_SUCCESS(rc) && pp != NULL)
        str_arg(rec, &r.out_str, *pp, "composed string");
    emit_or_note(rec, &r);
    pthread_mutex_unlock(&g_lock);
    return rc;
}

/* ---- per-slot entry points ------------------------------------------------ */

#define SLOT_ENTRIES(k)                                                                                       \
    static int probe_##k(const char *f, PVDINTERFACE d, PVDINTERFACE i)                                       \
    {                                                                                                         \
        return w_probe(&g_slots[k], f, d, i);                                                                 \
    }                                                                                                         \
    static int open_##k(const char *f, unsigned fl, PVDINTERFACE d, PVDINTERFACE i, void **pp)                \
    {                                                                                                         \
        return w_open(&g_slots[k], f, fl, d, i, pp);                                                          \
    }                                                                                                         \
    static int create_##k(const char *f, uint64_t cb, unsigned img, const char *c, PCRTUUID u, unsigned fl,   \
                          unsigned s, unsigned sp, PVDINTERFACE d, PVDINTERFACE i, PVDINTERFACE o, void **pp) \
    {                                                                                                         \
        return w_create(&g_slots[k], f, cb, img, c, u, fl, s, sp, d, i, o, pp);                               \
    }                                                                                                         \
    static int location_##k(PVDINTERFACE c, char **pp)                                                        \
    {                                                                                                         \
        return w_compose(&g_slots[k], c, pp, true);                                                           \
    }                                                                                                         \
    static int name_##k(PVDINTERFACE c, char **pp)                                                            \
    {                                                                                                         \
        return w_compose(&g_slots[k], c, pp, false);                                                          \
    }
SLOT_ENTRIES(0)
SLOT_ENTRIES(1)
SLOT_ENTRIES(2)
SLOT_ENTRIES(3)
SLOT_ENTRIES(4)
SLOT_ENTRIES(5)
SLOT_ENTRIES(6)
SLOT_ENTRIES(7)
#undef SLOT_ENTRIES

typedef struct slot_entries {
    int (*probe)(const char *, PVDINTERFACE, PVDINTERFACE);
    int (*open)(const char *, unsigned, PVDINTERFACE, PVDINTERFACE, void **);
    int (*create)(const char *, uint64_t, unsigned, const char *, PCRTUUID, unsigned, unsigned, unsigned,
                  PVDINTERFACE, PVDINTERFACE, PVDINTERFACE, void **);
    int (*location)(PVDINTERFACE, char **);
    int (*name)(PVDINTERFACE, char **);
} slot_entries;

#define E(k) { probe_##k, open_##k, create_##k, location_##k, name_##k }
static const slot_entries g_entries[VDC_RECORD_MAX_WRAP] = { E(0), E(1), E(2), E(3), E(4), E(5), E(6), E(7) };
#undef E

/* ---- API ------------------------------------------------------------------ */

static void write_header(vdc_recorder *rec)
{
    static const char *const cap_names[] = { "UUID", "CREATE_FIXED", "CREATE_DYNAMIC", "CREATE_SPLIT_2G",
                                             "DIFF", "ASYNC", "FILE", "CONFIG", "TCPNET", "VFS", "DISCARD",
                                             "PREFERRED" };
    int bad = fprintf(rec->out, "vdcc-trace %u\n", rec->version) < 0;
    if (rec->hdr_name[0] != '\0')
        bad |= fprintf(rec->out, "name %s\n", rec->hdr_name) < 0;
    if (rec->hdr_caps != 0) {
        bad |= fputs("requires", rec->out) < 0;
        for (unsigned i = 0; i < 64; i++) {
            if (!(rec->hdr_caps & (UINT64_C(1) << i)))
                continue;
            if (i < sizeof cap_names / sizeof cap_names[0])
                bad |= fprintf(rec->out, " %s", cap_names[i]) < 0;
            else
                bad |= fprintf(rec->out, " 0x%llx", (unsigned long long)(UINT64_C(1) << i)) < 0;
        }
        bad |= fputc('\n', rec->out) < 0;
    }
    if (bad)
        rec->status = VERR_WRITE_ERROR;
    if (rec->hdr_comment[0] != '\0')
        note(rec, "%s", rec->hdr_comment);
    rec->notes = 0;
}

int vdc_record_images_parse(const char *s, vdc_record_images *out)
{
    for (int m = VDC_RECORD_IMAGES_NONE; m <= VDC_RECORD_IMAGES_FULL; m++)
        if (s != NULL && strcmp(s, vdc_record_images_name((vdc_record_images)m)) == 0) {
            *out = (vdc_record_images)m;
            return VINF_SUCCESS;
        }
    return VERR_INVALID_PARAMETER;
}

const char *vdc_record_images_name(vdc_record_images m)
{
    switch (m) {
    case VDC_RECORD_IMAGES_NONE: return "none";
    case VDC_RECORD_IMAGES_META: return "meta";
    case VDC_RECORD_IMAGES_FULL: return "full";
    }
    return "?";
}

int vdc_recorder_start(const vdc_recorder_opts *o, vdc_recorder **out)
{
    if (o == NULL || out == NULL || (o->out == NULL && o->open_out == NULL)
        || (o->script != NULL && o->progress == NULL))
        return VERR_INVALID_PARAMETER;
    vdc_recorder *rec = calloc(1, sizeof *rec);
    if (rec == NULL)
        return VERR_NO_MEMORY;
    rec->out = o->out;
    rec->open_out = o->open_out;
    rec->open_user = o->open_user;
    rec->images = o->images;
    if (o->out != NULL && o->out_path != NULL)
        snprintf(rec->out_path, sizeof rec->out_path, "%s", o->out_path);
    rec->script = o->script;
    rec->progress = o->progress;
    rec->next_seed = SYNTH_SEED_BASE;
    /* `image` records (plugin form only) need version 2 (trace-format 12). */
    rec->version = o->script == NULL && o->images != VDC_RECORD_IMAGES_NONE ? 2 : 1;
    rec->hdr_caps = o->caps;
    if (o->comment != NULL)
        snprintf(rec->hdr_comment, sizeof rec->hdr_comment, "%s", o->comment);
    size_t n = 0;
    for (const char *p = o->name != NULL ? o->name : ""; *p && n < 128; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
               || strchr("_.:/+-", c) != NULL;
        rec->hdr_name[n++] = ok ? c : '_';
    }
    rec->hdr_name[n] = '\0';
    if (rec->out != NULL)
        write_header(rec);
    if (rec->status < 0) {
        int rc = rec->status;
        free(rec);
        return rc;
    }
    *out = rec;
    return VINF_SUCCESS;
}

int vdc_recorder_wrap(vdc_recorder *rec, const VDCACHEBACKEND *real, const VDCACHEBACKEND **out)
{
    if (rec == NULL || real == NULL || out == NULL)
        return VERR_INVALID_PARAMETER;
    pthread_mutex_lock(&g_lock);
    int rc = VERR_TOO_MUCH_DATA;
    for (unsigned k = 0; k < VDC_RECORD_MAX_WRAP; k++) {
        wrap_slot *ws = &g_slots[k];
        if (ws->used)
            continue;
        ws->used = true;
        ws->rec = rec;
        ws->real = real;
        ws->vt = *real; /* name, caps, extensions, config, versions */
#define W(member, fn) ws->vt.member = real->member != NULL ? (fn) : NULL
        W(pfnProbe, g_entries[k].probe);
        W(pfnOpen, g_entries[k].open);
        W(pfnCreate, g_entries[k].create);
        W(pfnClose, w_close);
        W(pfnRead, w_read);
        W(pfnWrite, w_write);
        W(pfnFlush, w_flush);
        W(pfnDiscard, w_discard);
        W(pfnGetVersion, w_get_version);
        W(pfnGetSize, w_get_size);
        W(pfnGetFileSize, w_get_file_size);
        W(pfnGetImageFlags, w_get_image_flags);
        W(pfnGetOpenFlags, w_get_open_flags);
        W(pfnSetOpenFlags, w_set_open_flags);
        W(pfnGetComment, w_get_comment);
        W(pfnSetComment, w_set_comment);
        W(pfnGetUuid, w_get_uuid);
        W(pfnSetUuid, w_set_uuid);
        W(pfnGetModificationUuid, w_get_mod_uuid);
        W(pfnSetModificationUuid, w_set_mod_uuid);
        W(pfnDump, w_dump);
        W(pfnComposeLocation, g_entries[k].location);
        W(pfnComposeName, g_entries[k].name);
#undef W
        *out = &ws->vt;
        rc = VINF_SUCCESS;
        break;
    }
    pthread_mutex_unlock(&g_lock);
    return rc;
}

int vdc_recorder_finish(vdc_recorder *rec)
{
    if (rec == NULL)
        return VERR_INVALID_PARAMETER;
    pthread_mutex_lock(&g_lock);
    script_sync(rec, true);
    if (rec->out != NULL && rec->status >= 0 && fflush(rec->out) != 0)
        rec->status = VERR_WRITE_ERROR;
    int rc = rec->status;
    pthread_mutex_unlock(&g_lock);
    return rc;
}

unsigned vdc_recorder_records(const vdc_recorder *rec)
{
    return rec != NULL ? rec->records : 0;
}

unsigned vdc_recorder_notes(const vdc_recorder *rec)
{
    return rec != NULL ? rec->notes : 0;
}

void vdc_recorder_free(vdc_recorder *rec)
{
    if (rec == NULL)
        return;
    pthread_mutex_lock(&g_lock);
    for (unsigned k = 0; k < VDC_RECORD_MAX_WRAP; k++)
        if (g_slots[k].used && g_slots[k].rec == rec)
            memset(&g_slots[k], 0, sizeof g_slots[k]);
    for (unsigned i = 0; i < rec->nfiles; i++)
        vdc_model_clear(&rec->files[i].model);
    pthread_mutex_unlock(&g_lock);
    if (rec->own_out && rec->out != NULL)
        fclose(rec->out);
    free(rec);
}
