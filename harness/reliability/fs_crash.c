/*
 * harness/reliability/fs_crash.c - the recording fs and the crash-state
 * enumerator.
 *
 * Contract: fs_crash.h (the disk model and the state classes are stated
 * there); forwarded operations keep the inner fs's contract (fs.h).  It
 * serves spec/contract.md CRASH-1 and spec/vci-format.md section 10.
 * Statuses: whatever the inner fs returns, VERR_NO_MEMORY,
 * VERR_INVALID_PARAMETER (NULL handle or arguments), VERR_TOO_MUCH_DATA
 * (record overflow, at enumeration or rebase).
 */
#include "fs_crash.h"

#include <stdlib.h>
#include <string.h>

/* ---- the record --------------------------------------------------------- */

typedef enum ev_kind { EV_WRITE = 1, EV_SIZE, EV_FLUSH, EV_CREATE, EV_REMOVE, EV_RENAME } ev_kind;

typedef struct cev {
    ev_kind  kind;
    uint32_t file;     /* file id */
    uint32_t file2;    /* RENAME: id of the file the destination replaced, or NO_FILE */
    uint64_t off;      /* WRITE: offset; SIZE: new size */
    uint64_t len;      /* WRITE: bytes */
    uint64_t data;     /* WRITE: offset into the arena */
    char    *name;     /* RENAME: new name (owned) */
} cev;

#define NO_FILE UINT32_MAX

typedef struct cfile_rec {
    char    *name;      /* current name in the recording, NULL once removed */
    char    *first_name; /* the name at the baseline, or when created */
    uint8_t *base;      /* contents when first seen (or at rebase) */
    uint64_t base_size;
    bool     base_exists; /* existed at the baseline (else created by an event) */
} cfile_rec;

typedef struct crash_file {
    vdc_file  base;
    vdc_file *inner;
    uint32_t  id;
    struct crash_file *prev, *next;
} crash_file;

typedef struct crash_fs {
    vdc_fs      base;
    vdc_fs     *inner;
    cev        *ev;
    uint64_t    nev, capev;
    uint8_t    *arena;
    uint64_t    narena, caparena;
    cfile_rec  *files;
    uint32_t    nfiles, capfiles;
    crash_file *live;
    vdc_crash_rec_stats st;
} crash_fs;

static const vdc_fs_ops crash_ops;

static crash_fs *as_crash(const vdc_fs *fs)
{
    return fs != NULL && fs->ops == &crash_ops ? (crash_fs *)(uintptr_t)fs : NULL;
}

static bool grow(void **p, uint64_t *cap, uint64_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    uint64_t nc = *cap != 0 ? *cap : 16;
    while (nc < need)
        nc *= 2;
    if (nc > SIZE_MAX / elem)
        return false;
    void *np = realloc(*p, (size_t)(nc * elem));
    if (np == NULL)
        return false;
    *p = np;
    *cap = nc;
    return true;
}

static cev *ev_add(crash_fs *fs, ev_kind kind, uint32_t file)
{
    if (!grow((void **)&fs->ev, &fs->capev, fs->nev + 1, sizeof(cev))) {
        fs->st.overflow = true;
        return NULL;
    }
    cev *e = &fs->ev[fs->nev++];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->file = file;
    e->file2 = NO_FILE;
    switch (kind) {
    case EV_WRITE: fs->st.writes++; break;
    case EV_SIZE: fs->st.sizes++; break;
    case EV_FLUSH: fs->st.flushes++; break;
    default: fs->st.names++; break;
    }
    return e;
}

static int32_t file_find(const crash_fs *fs, const char *name)
{
    for (uint32_t i = 0; i < fs->nfiles; i++)
        if (fs->files[i].name != NULL && strcmp(fs->files[i].name, name) == 0)
            return (int32_t)i;
    return -1;
}

static uint32_t file_new(crash_fs *fs, const char *name)
{
    uint64_t cap = fs->capfiles;
    if (fs->nfiles == NO_FILE - 1 || !grow((void **)&fs->files, &cap, (uint64_t)fs->nfiles + 1, sizeof(cfile_rec)))
        return NO_FILE;
    fs->capfiles = (uint32_t)cap;
    cfile_rec *f = &fs->files[fs->nfiles];
    memset(f, 0, sizeof *f);
    f->name = strdup(name);
    f->first_name = strdup(name);
    if (f->name == NULL || f->first_name == NULL) {
        free(f->name);
        free(f->first_name);
        return NO_FILE;
    }
    return fs->nfiles++;
}

/* Reads the whole of an inner file into a new buffer (dense). */
static int slurp(vdc_fs *inner, const char *name, uint8_t **out, uint64_t *size)
{
    vdc_file *f = NULL;
    uint64_t cb = 0;
    int rc = inner->ops->open(inner, name, RTFILE_O_READ | RTFILE_O_DENY_NONE | RTFILE_O_OPEN, &f);
    *out = NULL;
    *size = 0;
    if (RT_FAILURE(rc))
        return rc;
    rc = inner->ops->get_size(f, &cb);
    if (RT_FAILURE(rc))
        goto out_close;
    if (cb > VDC_CRASH_MAX_FILE) {
        rc = VERR_TOO_MUCH_DATA;
        goto out_close;
    }
    *out = malloc(cb != 0 ? (size_t)cb : 1);
    if (*out == NULL) {
        rc = VERR_NO_MEMORY;
        goto out_close;
    }
    if (cb != 0)
        rc = inner->ops->read(f, 0, *out, (size_t)cb);
    if (RT_FAILURE(rc)) {
        free(*out);
        *out = NULL;
        goto out_close;
    }
    *size = cb;
out_close:
    inner->ops->close(f);
    return rc;
}

/* The id of the existing file `name`, adding it (with its current inner
 * contents as the baseline) when the record has not seen it yet.  A file
 * that does not exist gives NO_FILE with *existed false; NO_FILE with
 * *existed true means it could not be read back (overflow is then set). */
static uint32_t file_lookup(crash_fs *fs, const char *name, bool *existed)
{
    int32_t i = file_find(fs, name);
    if (i >= 0) {
        *existed = true;
        return (uint32_t)i;
    }
    uint8_t *data = NULL;
    uint64_t size = 0;
    int rc = slurp(fs->inner, name, &data, &size);
    *existed = rc != VERR_FILE_NOT_FOUND;
    if (rc == VERR_FILE_NOT_FOUND)
        return NO_FILE;
    if (RT_FAILURE(rc)) {
        fs->st.overflow = true;
        return NO_FILE;
    }
    uint32_t id = file_new(fs, name);
    if (id == NO_FILE) {
        free(data);
        fs->st.overflow = true;
        return NO_FILE;
    }
    fs->files[id].base = data;
    fs->files[id].base_size = size;
    fs->files[id].base_exists = true;
    return id;
}

/* ---- forwarded operations ---------------------------------------------- */

static int crash_open(vdc_fs *fsp, const char *name, uint32_t fOpen, vdc_file **out)
{
    crash_fs *fs = (crash_fs *)fsp;
    crash_file *f;
    vdc_file *inner = NULL;
    bool existed = false;
    uint32_t id;
    int rc;

    if (out == NULL)
        return VERR_INVALID_PARAMETER;
    *out = NULL;
    if (name == NULL || name[0] == '\0')
        return VERR_INVALID_PARAMETER; /* as every vdc_fs answers (fs.h) */
    f = calloc(1, sizeof *f);
    if (f == NULL)
        return VERR_NO_MEMORY;
    /* Look before opening, so that a create is told from an open. */
    id = file_lookup(fs, name, &existed);
    rc = fs->inner->ops->open(fs->inner, name, fOpen, &inner);
    if (RT_FAILURE(rc))
        goto out_free_handle;
    if (!existed) {
        /* The open created it. */
        id = file_new(fs, name);
        if (id == NO_FILE || ev_add(fs, EV_CREATE, id) == NULL) {
            fs->st.overflow = true;
            id = NO_FILE;
        }
    } else if (id != NO_FILE && ((fOpen & RTFILE_O_TRUNCATE) != 0
                                 || (fOpen & RTFILE_O_ACTION_MASK) == RTFILE_O_CREATE_REPLACE)) {
        cev *e = ev_add(fs, EV_SIZE, id);
        if (e != NULL)
            e->off = 0;
    }
    f->base.fs = fsp;
    f->inner = inner;
    f->id = id;
    f->next = fs->live;
    if (fs->live != NULL)
        fs->live->prev = f;
    fs->live = f;
    *out = &f->base;
    return rc;

out_free_handle:
    free(f);
    return rc;
}

static int crash_close(vdc_file *fp)
{
    if (fp == NULL)
        return VERR_INVALID_PARAMETER;
    crash_fs *fs = (crash_fs *)fp->fs;
    crash_file *f = (crash_file *)fp;
    int rc = f->inner->fs->ops->close(f->inner);
    if (f->prev != NULL)
        f->prev->next = f->next;
    else
        fs->live = f->next;
    if (f->next != NULL)
        f->next->prev = f->prev;
    free(f);
    return rc;
}

static int crash_remove(vdc_fs *fsp, const char *name)
{
    crash_fs *fs = (crash_fs *)fsp;
    bool existed;
    uint32_t id = name != NULL && name[0] != '\0' ? file_lookup(fs, name, &existed) : NO_FILE;
    int rc = fs->inner->ops->remove(fs->inner, name);
    if (RT_SUCCESS(rc) && id != NO_FILE) {
        if (ev_add(fs, EV_REMOVE, id) == NULL)
            return rc;
        free(fs->files[id].name);
        fs->files[id].name = NULL;
    }
    return rc;
}

static int crash_rename(vdc_fs *fsp, const char *src, const char *dst, unsigned fMove)
{
    crash_fs *fs = (crash_fs *)fsp;
    bool e1 = false, e2 = false;
    uint32_t ids = NO_FILE, idd = NO_FILE;
    if (src != NULL && src[0] != '\0' && dst != NULL && dst[0] != '\0') {
        ids = file_lookup(fs, src, &e1);
        idd = file_lookup(fs, dst, &e2);
    }
    int rc = fs->inner->ops->rename(fs->inner, src, dst, fMove);
    if (RT_FAILURE(rc) || ids == idd)
        return rc;
    if (ids == NO_FILE || (e2 && idd == NO_FILE)) {
        fs->st.overflow = true;
        return rc;
    }
    char *nn = strdup(dst);
    cev *e = nn != NULL ? ev_add(fs, EV_RENAME, ids) : NULL;
    if (e == NULL) {
        free(nn);
        fs->st.overflow = true;
        return rc;
    }
    e->file2 = idd;
    e->name = nn;
    if (idd != NO_FILE) {
        free(fs->files[idd].name);
        fs->files[idd].name = NULL;
    }
    free(fs->files[ids].name);
    fs->files[ids].name = strdup(dst);
    if (fs->files[ids].name == NULL)
        fs->st.overflow = true;
    return rc;
}

static int crash_free_space(vdc_fs *fsp, const char *name, int64_t *pcb)
{
    crash_fs *fs = (crash_fs *)fsp;
    return fs->inner->ops->free_space(fs->inner, name, pcb);
}

static int crash_mtime(vdc_fs *fsp, const char *name, int64_t *pns)
{
    crash_fs *fs = (crash_fs *)fsp;
    return fs->inner->ops->mtime(fs->inner, name, pns);
}

static int crash_get_size(vdc_file *fp, uint64_t *pcb)
{
    if (fp == NULL)
        return VERR_INVALID_PARAMETER;
    vdc_file *in = ((crash_file *)fp)->inner;
    return in->fs->ops->get_size(in, pcb);
}

static int record_size(vdc_file *fp, uint64_t cb, bool allocate)
{
    if (fp == NULL)
        return VERR_INVALID_PARAMETER;
    crash_fs *fs = (crash_fs *)fp->fs;
    crash_file *f = (crash_file *)fp;
    int rc = allocate ? f->inner->fs->ops->allocate(f->inner, cb) : f->inner->fs->ops->set_size(f->inner, cb);
    if (RT_SUCCESS(rc) && f->id != NO_FILE) {
        cev *e = ev_add(fs, EV_SIZE, f->id);
        if (e != NULL)
            e->off = cb;
        if (cb > VDC_CRASH_MAX_FILE)
            fs->st.overflow = true;
    }
    return rc;
}

static int crash_set_size(vdc_file *fp, uint64_t cb)
{
    return record_size(fp, cb, false);
}

static int crash_allocate(vdc_file *fp, uint64_t cb)
{
    return record_size(fp, cb, true);
}

static int crash_read(vdc_file *fp, uint64_t off, void *buf, size_t cb)
{
    if (fp == NULL)
        return VERR_INVALID_PARAMETER;
    vdc_file *in = ((crash_file *)fp)->inner;
    return in->fs->ops->read(in, off, buf, cb);
}

static int crash_write(vdc_file *fp, uint64_t off, const void *buf, size_t cb)
{
    if (fp == NULL)
        return VERR_INVALID_PARAMETER;
    crash_fs *fs = (crash_fs *)fp->fs;
    crash_file *f = (crash_file *)fp;
    int rc = f->inner->fs->ops->write(f->inner, off, buf, cb);
    if (RT_FAILURE(rc) || cb == 0 || f->id == NO_FILE)
        return rc;
    if (fs->narena + cb > VDC_CRASH_MAX_DATA || off > VDC_CRASH_MAX_FILE || cb > VDC_CRASH_MAX_FILE - off
        || !grow((void **)&fs->arena, &fs->caparena, fs->narena + cb, 1)) {
        fs->st.overflow = true;
        return rc;
    }
    cev *e = ev_add(fs, EV_WRITE, f->id);
    if (e == NULL)
        return rc;
    memcpy(fs->arena + fs->narena, buf, cb);
    e->off = off;
    e->len = cb;
    e->data = fs->narena;
    fs->narena += cb;
    fs->st.bytes += cb;
    return rc;
}

static int crash_flush(vdc_file *fp)
{
    if (fp == NULL)
        return VERR_INVALID_PARAMETER;
    crash_fs *fs = (crash_fs *)fp->fs;
    crash_file *f = (crash_file *)fp;
    int rc = f->inner->fs->ops->flush(f->inner);
    if (RT_SUCCESS(rc) && f->id != NO_FILE)
        ev_add(fs, EV_FLUSH, f->id);
    return rc;
}

static void forget_events(crash_fs *fs)
{
    for (uint64_t i = 0; i < fs->nev; i++)
        free(fs->ev[i].name);
    fs->nev = 0;
    fs->narena = 0;
}

static void crash_destroy(vdc_fs *fsp)
{
    crash_fs *fs = (crash_fs *)fsp;
    while (fs->live != NULL)
        crash_close(&fs->live->base);
    forget_events(fs);
    for (uint32_t i = 0; i < fs->nfiles; i++) {
        free(fs->files[i].name);
        free(fs->files[i].first_name);
        free(fs->files[i].base);
    }
    free(fs->files);
    free(fs->ev);
    free(fs->arena);
    free(fs);
}

static const vdc_fs_ops crash_ops = {
    .open = crash_open,
    .close = crash_close,
    .remove = crash_remove,
    .rename = crash_rename,
    .free_space = crash_free_space,
    .mtime = crash_mtime,
    .get_size = crash_get_size,
    .set_size = crash_set_size,
    .allocate = crash_allocate,
    .read = crash_read,
    .write = crash_write,
    .flush = crash_flush,
    .destroy = crash_destroy,
};

vdc_fs *vdc_fs_crash_new(vdc_fs *inner)
{
    if (inner == NULL)
        return NULL;
    crash_fs *fs = calloc(1, sizeof *fs);
    if (fs == NULL)
        return NULL;
    fs->base.ops = &crash_ops;
    fs->inner = inner;
    return &fs->base;
}

uint64_t vdc_fs_crash_nevents(const vdc_fs *fsp)
{
    crash_fs *fs = as_crash(fsp);
    return fs != NULL ? fs->nev : 0;
}

void vdc_fs_crash_rec_stats(const vdc_fs *fsp, vdc_crash_rec_stats *st)
{
    crash_fs *fs = as_crash(fsp);
    if (fs != NULL)
        *st = fs->st;
    else
        memset(st, 0, sizeof *st);
}

int vdc_fs_crash_rebase(vdc_fs *fsp)
{
    crash_fs *fs = as_crash(fsp);
    if (fs == NULL)
        return VERR_INVALID_PARAMETER;
    forget_events(fs);
    memset(&fs->st, 0, sizeof fs->st);
    for (uint32_t i = 0; i < fs->nfiles; i++) {
        cfile_rec *f = &fs->files[i];
        free(f->base);
        f->base = NULL;
        f->base_size = 0;
        f->base_exists = false;
        if (f->name == NULL)
            continue;
        int rc = slurp(fs->inner, f->name, &f->base, &f->base_size);
        if (rc == VERR_FILE_NOT_FOUND) {
            free(f->name);
            f->name = NULL;
            continue;
        }
        if (RT_FAILURE(rc)) {
            fs->st.overflow = true;
            return rc;
        }
        char *fn = strdup(f->name);
        if (fn == NULL) {
            fs->st.overflow = true;
            return VERR_NO_MEMORY;
        }
        free(f->first_name);
        f->first_name = fn;
        f->base_exists = true;
    }
    return VINF_SUCCESS;
}

/* ---- enumeration -------------------------------------------------------- */

/* One file as the enumerator tracks it: its durable contents, and a scratch
 * buffer a state is built in. */
typedef struct efile {
    const char *name;   /* current name (points into the record), NULL: none */
    bool        exists;
    uint8_t    *dur;
    uint64_t    dur_size, dur_cap;
    uint8_t    *tmp;
    uint64_t    tmp_size, tmp_cap;
} efile;

/* One unit a crash may keep or lose: a sector piece of a write, or a
 * set_size. */
typedef struct unit {
    uint64_t ev;        /* event index */
    uint32_t file;
    bool     is_size;
    uint64_t off, len;  /* piece of the write; is_size: off = new size */
    const uint8_t *data;
} unit;

typedef struct enumer {
    const crash_fs *rec;
    efile          *files;
    uint64_t       *pending;   /* event indices, issue order */
    uint64_t        npending, cappending;
    unit           *units;
    uint64_t        nunits, capunits;
    uint8_t        *mask;
    uint64_t       *seen;      /* digests of states visited at this point */
    uint64_t        nseen, capseen;
} enumer;

static int buf_resize(uint8_t **p, uint64_t *size, uint64_t *cap, uint64_t want)
{
    if (want > VDC_CRASH_MAX_FILE)
        return VERR_TOO_MUCH_DATA;
    if (want > *cap) {
        uint64_t nc = *cap != 0 ? *cap : 4096;
        while (nc < want)
            nc *= 2;
        if (nc > VDC_CRASH_MAX_FILE)
            nc = VDC_CRASH_MAX_FILE;
        uint8_t *np = realloc(*p, (size_t)nc);
        if (np == NULL)
            return VERR_NO_MEMORY;
        *p = np;
        *cap = nc;
    }
    if (want > *size)
        memset(*p + *size, 0, (size_t)(want - *size));
    *size = want;
    return VINF_SUCCESS;
}

static int buf_write(uint8_t **p, uint64_t *size, uint64_t *cap, uint64_t off, const uint8_t *src, uint64_t len)
{
    if (off + len > *size) {
        int rc = buf_resize(p, size, cap, off + len);
        if (RT_FAILURE(rc))
            return rc;
    }
    memcpy(*p + off, src, (size_t)len);
    return VINF_SUCCESS;
}

/* Applies event e to the durable state of its file. */
static int apply_durable(enumer *en, const cev *e)
{
    efile *f = &en->files[e->file];
    if (e->kind == EV_WRITE)
        return buf_write(&f->dur, &f->dur_size, &f->dur_cap, e->off, en->rec->arena + e->data, e->len);
    if (e->kind == EV_SIZE)
        return buf_resize(&f->dur, &f->dur_size, &f->dur_cap, e->off);
    return VINF_SUCCESS;
}

/* Makes the pending changes of `file` durable, in order. */
static int settle(enumer *en, uint32_t file)
{
    uint64_t w = 0;
    for (uint64_t i = 0; i < en->npending; i++) {
        const cev *e = &en->rec->ev[en->pending[i]];
        if (e->file == file) {
            int rc = apply_durable(en, e);
            if (RT_FAILURE(rc))
                return rc;
        } else {
            en->pending[w++] = en->pending[i];
        }
    }
    en->npending = w;
    return VINF_SUCCESS;
}

/* Advances the durable/pending split over event index i. */
static int step(enumer *en, uint64_t i)
{
    const cev *e = &en->rec->ev[i];
    efile *f = &en->files[e->file];
    int rc = VINF_SUCCESS;
    switch (e->kind) {
    case EV_WRITE:
    case EV_SIZE:
        if (!grow((void **)&en->pending, &en->cappending, en->npending + 1, sizeof(uint64_t)))
            return VERR_NO_MEMORY;
        en->pending[en->npending++] = i;
        break;
    case EV_FLUSH:
        rc = settle(en, e->file);
        break;
    case EV_CREATE:
        rc = settle(en, e->file);
        f->exists = true;
        f->dur_size = 0;
        f->name = en->rec->files[e->file].first_name;
        break;
    case EV_REMOVE:
        rc = settle(en, e->file);
        f->exists = false;
        f->name = NULL;
        break;
    case EV_RENAME:
        rc = settle(en, e->file);
        if (RT_SUCCESS(rc) && e->file2 != NO_FILE) {
            rc = settle(en, e->file2);
            en->files[e->file2].exists = false;
            en->files[e->file2].name = NULL;
        }
        f->name = e->name;
        break;
    }
    return rc;
}

/* Builds the units of the pending changes. */
static int make_units(enumer *en)
{
    en->nunits = 0;
    for (uint64_t i = 0; i < en->npending; i++) {
        const cev *e = &en->rec->ev[en->pending[i]];
        if (e->kind == EV_SIZE) {
            if (!grow((void **)&en->units, &en->capunits, en->nunits + 1, sizeof(unit)))
                return VERR_NO_MEMORY;
            en->units[en->nunits++] = (unit){ en->pending[i], e->file, true, e->off, 0, NULL };
            continue;
        }
        uint64_t pos = e->off, end = e->off + e->len;
        while (pos < end) {
            uint64_t next = (pos / VDC_CRASH_SECTOR + 1) * VDC_CRASH_SECTOR;
            if (next > end)
                next = end;
            if (!grow((void **)&en->units, &en->capunits, en->nunits + 1, sizeof(unit)))
                return VERR_NO_MEMORY;
            en->units[en->nunits++] = (unit){ en->pending[i], e->file, false, pos, next - pos,
                                              en->rec->arena + e->data + (pos - e->off) };
            pos = next;
        }
    }
    free(en->mask);
    en->mask = malloc(en->nunits != 0 ? (size_t)en->nunits : 1);
    return en->mask != NULL ? VINF_SUCCESS : VERR_NO_MEMORY;
}

static uint64_t fnv(uint64_t h, const void *p, size_t cb)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < cb; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* Builds the state selected by en->mask into each file's tmp buffer and
 * returns its digest in *digest. */
static int build(enumer *en, uint64_t *digest)
{
    uint64_t h = 0xcbf29ce484222325ull;
    int rc;
    for (uint32_t i = 0; i < en->rec->nfiles; i++) {
        efile *f = &en->files[i];
        if (!f->exists)
            continue;
        f->tmp_size = 0;
        rc = buf_resize(&f->tmp, &f->tmp_size, &f->tmp_cap, f->dur_size);
        if (RT_FAILURE(rc))
            return rc;
        if (f->dur_size != 0)
            memcpy(f->tmp, f->dur, (size_t)f->dur_size);
    }
    for (uint64_t u = 0; u < en->nunits; u++) {
        const unit *un = &en->units[u];
        efile *f = &en->files[un->file];
        if (!en->mask[u] || !f->exists)
            continue;
        if (un->is_size) {
            if (un->off < f->tmp_size)
                f->tmp_size = un->off;
            else
                rc = buf_resize(&f->tmp, &f->tmp_size, &f->tmp_cap, un->off);
        } else {
            rc = buf_write(&f->tmp, &f->tmp_size, &f->tmp_cap, un->off, un->data, un->len);
        }
        if (RT_FAILURE(rc))
            return rc;
    }
    for (uint32_t i = 0; i < en->rec->nfiles; i++) {
        efile *f = &en->files[i];
        if (!f->exists || f->name == NULL)
            continue;
        h = fnv(h, f->name, strlen(f->name) + 1);
        h = fnv(h, &f->tmp_size, sizeof f->tmp_size);
        h = fnv(h, f->tmp, (size_t)f->tmp_size);
    }
    *digest = h;
    return VINF_SUCCESS;
}

typedef struct visit_ctx {
    vdc_crash_visit_fn    fn;
    void                 *user;
    vdc_crash_enum_stats *st;
    unsigned              max_states;  /* per point; 0: no bound */
    unsigned              rand_keep;   /* of them, kept for the random states */
} visit_ctx;

/* Builds the state of en->mask and visits it unless already seen at this
 * point.  Returns the visitor's status (0 to go on). */
static int emit(enumer *en, visit_ctx *vc, vdc_crash_state *cs)
{
    uint64_t digest;
    if (vc->max_states != 0) {
        uint64_t cap = cs->kind == VDC_CRASH_RANDOM ? vc->max_states : vc->max_states - vc->rand_keep;
        if (en->nseen >= cap)
            return 0; /* this point's budget is spent */
    }
    int rc = build(en, &digest);
    if (RT_FAILURE(rc))
        return rc;
    for (uint64_t i = 0; i < en->nseen; i++) {
        if (en->seen[i] == digest) {
            vc->st->duplicates++;
            return 0;
        }
    }
    if (!grow((void **)&en->seen, &en->capseen, en->nseen + 1, sizeof(uint64_t)))
        return VERR_NO_MEMORY;
    en->seen[en->nseen++] = digest;
    cs->digest = digest;

    vdc_fs *mem = vdc_fs_mem_new((uint64_t)1 << 30, 0);
    if (mem == NULL)
        return VERR_NO_MEMORY;
    for (uint32_t i = 0; i < en->rec->nfiles; i++) {
        efile *f = &en->files[i];
        if (!f->exists || f->name == NULL)
            continue;
        rc = vdc_fs_mem_put(mem, f->name, f->tmp, (size_t)f->tmp_size);
        if (RT_FAILURE(rc))
            goto out_destroy_mem;
    }
    vc->st->states++;
    rc = vc->fn(vc->user, cs, mem);
out_destroy_mem:
    vdc_fs_destroy(mem);
    return rc;
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Sets the mask: units of events before ev_lo all kept, of ev itself the
 * first `keep` pieces, later ones lost. */
static void mask_prefix(enumer *en, uint64_t ev, uint64_t keep)
{
    uint64_t seen = 0;
    for (uint64_t u = 0; u < en->nunits; u++) {
        if (en->units[u].ev < ev)
            en->mask[u] = 1;
        else if (en->units[u].ev == ev)
            en->mask[u] = seen++ < keep;
        else
            en->mask[u] = 0;
    }
}

/* Every state class of one point. */
static int visit_point(enumer *en, const vdc_crash_opts *o, visit_ctx *vc, uint64_t k)
{
    vdc_crash_state cs = { .point = k, .event = UINT64_MAX };
    int rc = make_units(en);
    if (RT_FAILURE(rc))
        return rc;
    en->nseen = 0;
    cs.pending = en->nunits > UINT32_MAX ? UINT32_MAX : (unsigned)en->nunits;
    if (cs.pending > vc->st->max_pending)
        vc->st->max_pending = cs.pending;
    vc->st->points++;

    /* (a) and (b) */
    memset(en->mask, 0, (size_t)en->nunits);
    cs.kind = VDC_CRASH_NONE;
    if ((rc = emit(en, vc, &cs)) != 0)
        return rc;
    if (en->nunits == 0)
        return 0;
    memset(en->mask, 1, (size_t)en->nunits);
    cs.kind = VDC_CRASH_ALL;
    if ((rc = emit(en, vc, &cs)) != 0)
        return rc;

    /* (c) over at most max_single pending writes, spread evenly. */
    unsigned max_single = o->max_single != 0 ? o->max_single : 64;
    unsigned max_tears = o->max_tears != 0 ? o->max_tears : 8;
    if (vc->max_states != 0) {
        unsigned per = (vc->max_states - vc->rand_keep) / (2 + max_tears);
        if (per < 1)
            per = 1;
        if (per < max_single)
            max_single = per;
    }
    uint64_t nwrites = 0;
    for (uint64_t i = 0; i < en->npending; i++)
        nwrites += en->rec->ev[en->pending[i]].kind == EV_WRITE;
    uint64_t wi = 0;
    for (uint64_t i = 0; i < en->npending; i++) {
        uint64_t ev = en->pending[i];
        const cev *e = &en->rec->ev[ev];
        if (e->kind != EV_WRITE)
            continue;
        uint64_t my = wi++;
        if (nwrites > max_single && (my * max_single) / nwrites == ((my + 1) * max_single) / nwrites)
            continue; /* not among the evenly spread sample */
        uint64_t pieces = 0;
        for (uint64_t u = 0; u < en->nunits; u++)
            pieces += en->units[u].ev == ev;
        /* drop w alone */
        for (uint64_t u = 0; u < en->nunits; u++)
            en->mask[u] = en->units[u].ev != ev;
        cs.kind = VDC_CRASH_DROP;
        cs.event = ev;
        cs.sectors = 0;
        if ((rc = emit(en, vc, &cs)) != 0)
            return rc;
        /* crash just before w */
        mask_prefix(en, ev, 0);
        cs.kind = VDC_CRASH_PREFIX;
        if ((rc = emit(en, vc, &cs)) != 0)
            return rc;
        /* tears at boundaries 1..pieces-1 */
        uint64_t nb = pieces > 1 ? pieces - 1 : 0;
        for (uint64_t b = 0; b < nb; b++) {
            if (nb > max_tears && (b * max_tears) / nb == ((b + 1) * max_tears) / nb)
                continue;
            mask_prefix(en, ev, b + 1);
            cs.kind = VDC_CRASH_TEAR;
            cs.sectors = (unsigned)(b + 1);
            if ((rc = emit(en, vc, &cs)) != 0)
                return rc;
        }
    }

    /* (d) */
    unsigned nrand = o->no_random ? 0 : (o->random_states != 0 ? o->random_states : 16);
    uint64_t s = o->seed ^ (k * 0xd1342543de82ef95ull) ^ 0x5eed;
    cs.event = UINT64_MAX;
    for (unsigned r = 0; r < nrand; r++) {
        uint64_t bits = 0;
        for (uint64_t u = 0; u < en->nunits; u++) {
            if (u % 64 == 0)
                bits = splitmix(&s);
            en->mask[u] = (bits >> (u % 64)) & 1;
        }
        cs.kind = VDC_CRASH_RANDOM;
        cs.sectors = r;
        if ((rc = emit(en, vc, &cs)) != 0)
            return rc;
    }
    return 0;
}

int vdc_crash_enumerate(const vdc_fs *recp, const vdc_crash_opts *o, vdc_crash_visit_fn visit,
                        void *user, vdc_crash_enum_stats *st)
{
    const crash_fs *rec = as_crash(recp);
    vdc_crash_opts dflt = { 0 };
    vdc_crash_enum_stats dummy;
    enumer en = { 0 };
    visit_ctx vc;
    int rc = VINF_SUCCESS;

    if (rec == NULL || visit == NULL)
        return VERR_INVALID_PARAMETER;
    if (o == NULL)
        o = &dflt;
    if (st == NULL)
        st = &dummy;
    memset(st, 0, sizeof *st);
    if (rec->st.overflow)
        return VERR_TOO_MUCH_DATA;
    vc = (visit_ctx){ visit, user, st, o->max_states, 0 };
    if (o->max_states != 0) {
        unsigned nrand = o->no_random ? 0 : (o->random_states != 0 ? o->random_states : 16);
        unsigned keep = o->max_states / 4 != 0 ? o->max_states / 4 : 1;
        vc.rand_keep = nrand < keep ? nrand : keep;
        if (vc.rand_keep >= o->max_states)
            vc.rand_keep = o->max_states - 1;
    }
    en.rec = rec;
    en.files = calloc(rec->nfiles != 0 ? rec->nfiles : 1, sizeof(efile));
    if (en.files == NULL)
        return VERR_NO_MEMORY;
    /* The baseline: files present before the first event, under the
     * names they had then. */
    for (uint32_t i = 0; i < rec->nfiles; i++) {
        efile *f = &en.files[i];
        f->exists = rec->files[i].base_exists;
        f->name = f->exists ? rec->files[i].first_name : NULL;
        if (f->exists && rec->files[i].base_size != 0) {
            rc = buf_write(&f->dur, &f->dur_size, &f->dur_cap, 0, rec->files[i].base, rec->files[i].base_size);
            if (RT_FAILURE(rc))
                goto out_free;
        }
    }
    uint64_t first = o->first_point, last = o->last_point;
    if (last == 0 && first == 0)
        last = UINT64_MAX;
    if (last > rec->nev)
        last = rec->nev;
    uint64_t stride = o->stride > 1 ? o->stride : 1;
    uint64_t nsel = last >= first ? (last - first) / stride + 1 : 0;
    uint64_t maxp = o->max_points;
    size_t xi = 0;
    for (uint64_t k = 0; k <= last; k++) {
        if (k > 0) {
            rc = step(&en, k - 1);
            if (RT_FAILURE(rc))
                goto out_free;
        }
        while (o->extra != NULL && xi < o->nextra && o->extra[xi] < k)
            xi++;
        bool extra = o->extra != NULL && xi < o->nextra && o->extra[xi] == k;
        if (k < first)
            continue;
        if (!extra) {
            if ((k - first) % stride != 0)
                continue;
            uint64_t si = (k - first) / stride;
            if (maxp != 0 && nsel > maxp && (si * maxp) / nsel == ((si + 1) * maxp) / nsel)
                continue; /* not among the evenly spread sample */
        }
        rc = visit_point(&en, o, &vc, k);
        if (rc != 0)
            goto out_free;
    }

out_free:
    for (uint32_t i = 0; i < rec->nfiles; i++) {
        free(en.files[i].dur);
        free(en.files[i].tmp);
    }
    free(en.files);
    free(en.pending);
    free(en.units);
    free(en.mask);
    free(en.seen);
    return rc;
}

const char *vdc_crash_kind_name(vdc_crash_kind k)
{
    switch (k) {
    case VDC_CRASH_NONE: return "none";
    case VDC_CRASH_ALL: return "all";
    case VDC_CRASH_DROP: return "drop";
    case VDC_CRASH_PREFIX: return "prefix";
    case VDC_CRASH_TEAR: return "tear";
    case VDC_CRASH_RANDOM: return "random";
    }
    return "?";
}
