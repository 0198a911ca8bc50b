/*
 * fuzz/script.c - the operation-script interpreter behind fuzz_ops and
 * fuzz_model (encoding and shadow states: fuzz/script.h).
 *
 * Contract: script.h.  Checks, by clause of spec/contract.md:
 *   READ-1/READ-3/WRITE-2  every hit returns the shadow's DATA bytes and
 *                          never an ABSENT byte (UNKNOWN bytes are not judged)
 *   READ-1/2/4, WRITE-1    result shapes (fuzz_read / fuzz_write)
 *   READ-5                 VD-style loops advance and end
 *   WRITE-3, DISCARD-3     a read-only instance refuses with
 *                          VERR_VD_IMAGE_READ_ONLY and changes nothing
 *   DISCARD-1              a discarded range is ABSENT afterwards
 *   INFO-2/3, INFO-4       open flags read back; set-open-flags takes effect;
 *                          comments round-trip
 *   UUID-1/2/4             modification UUID round-trips, persists over a
 *                          reopen, and a read-only instance keeps it
 *   OPEN-3                 a read-only instance leaves the file as it was
 *   CRASH-1                a copy of the file taken at any point opens or
 *                          fails cleanly and serves no lie
 *   HOST-1/3, PROBE-2      no host misuse, no handle left open, a closed
 *                          image probes as the backend's
 * Model mode (fresh image) also aborts on failures the memory fs cannot
 * excuse: CREATE-1, CLOSE-1, OPEN-1, FLUSH-1, WRITE-4 (aligned writes), and
 * a read failing on the healthy cache (label HEALTHY).
 * Status codes: none returned; violations abort through fuzz_fail.
 */
#include "script.h"

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const uint64_t fuzz_window_base[FUZZ_NWINDOWS] = {
    0,
    (UINT64_C(1) << 30) - FUZZ_WINDOW / 2,
    (UINT64_C(1) << 41) - FUZZ_WINDOW / 2,
    (UINT64_C(1) << 50) - FUZZ_WINDOW / 2,
};

enum { ST_UNKNOWN = 0, ST_ABSENT = 1, ST_DATA = 2 };

#define CRASH_NAME       "crash.vci"
#define MAX_CRASHES      2u
#define MAX_COPY_BYTES   ((uint64_t)16 << 20)

typedef struct run {
    fuzz_env             *env;
    const VDCACHEBACKEND *be;
    bool                  model;
    void                 *bd;      /* the script's instance; NULL once lost */
    unsigned              flags;   /* its open flags */
    bool                  ro_life; /* read-only since it was opened */
    int64_t               stamp;   /* file stamp when ro_life began */
    /* The shadow, one window at a time: a window's arrays (in scratch)
     * are taken when a byte of it first changes state; until then all
     * its bytes are in state `init`. */
    uint8_t               init;
    uint8_t              *st[FUZZ_NWINDOWS];   /* FUZZ_WINDOW states */
    uint8_t              *data[FUZZ_NWINDOWS]; /* ... and DATA bytes */
    uint8_t              *buf;     /* FUZZ_WINDOW scratch for reads */
    uint8_t              *wbuf;    /* FUZZ_WINDOW scratch for writes */
    uint64_t              moved;
    unsigned              crashes;
    unsigned              nop;
    bool                  mod_known;
    RTUUID                mod_uuid;
    const uint8_t        *p, *end;
    bool                  verbose; /* VDCC_FUZZ_VERBOSE set: log each op */
} run;

unsigned fuzz_script_flags(uint8_t f)
{
    static const unsigned map[8] = {
        VD_OPEN_FLAGS_READONLY, VD_OPEN_FLAGS_IGNORE_FLUSH, VD_OPEN_FLAGS_HONOR_ZEROES,
        VD_OPEN_FLAGS_SHAREABLE, VD_OPEN_FLAGS_SEQUENTIAL, VD_OPEN_FLAGS_DISCARD,
        VD_OPEN_FLAGS_SKIP_CONSISTENCY_CHECKS, VD_OPEN_FLAGS_INFORM_ABOUT_ZERO_BLOCKS,
    };
    unsigned out = 0;
    for (unsigned i = 0; i < 8; i++)
        if (f & (1u << i))
            out |= map[i];
    return out;
}

/* The 8 data bytes of seed at positions 8*index .. 8*index+7. */
static uint64_t data_word(uint8_t seed, uint64_t index)
{
    uint64_t x = index * UINT64_C(0x9E3779B97F4A7C15) ^ (uint64_t)seed * UINT64_C(0xD6E8FEB86659FD93);
    x ^= x >> 29;
    x *= UINT64_C(0xBF58476D1CE4E5B9);
    x ^= x >> 32;
    return x;
}

void fuzz_script_fill(uint8_t seed, uint64_t pos, uint8_t *buf, size_t n)
{
    size_t i = 0;
    if (seed == 0) {
        memset(buf, 0, n);
        return;
    }
    /* Byte by byte up to a word boundary of the disk and after the last
     * whole word; whole words in between, eight bytes per store (the
     * sanitizers check each access: fewer accesses, less cost). */
    for (; i < n && ((pos + i) & 7) != 0; i++)
        buf[i] = (uint8_t)(data_word(seed, (pos + i) >> 3) >> (8 * ((pos + i) & 7)));
    for (; n - i >= 8; i += 8) {
        uint64_t le = htole64(data_word(seed, (pos + i) >> 3));
        memcpy(buf + i, &le, 8);
    }
    for (; i < n; i++)
        buf[i] = (uint8_t)(data_word(seed, (pos + i) >> 3) >> (8 * ((pos + i) & 7)));
}

/* How many of the bytes p[0..n) from the start equal v: eight at a time
 * where it can (the shadow is scanned on every read). */
static size_t run_of(const uint8_t *p, size_t n, uint8_t v)
{
    const uint64_t pattern = v * UINT64_C(0x0101010101010101);
    size_t i = 0;
    for (; n - i >= 8; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w != pattern)
            break;
    }
    while (i < n && p[i] == v)
        i++;
    return i;
}

/* Scratch memory for the shadow and the transfers, kept for the life of
 * the process: a run owns it while it lasts (runs do not nest), and no
 * byte of it carries from one run to the next (a window's states are set
 * when the run first marks it, data bytes are read only where the run set
 * state DATA, buf and wbuf are written before they are read).  Allocating
 * these 640 KiB for every input cost more, under AddressSanitizer, than
 * the whole script of a typical input. */
static struct {
    uint8_t st[FUZZ_NWINDOWS][FUZZ_WINDOW];
    uint8_t data[FUZZ_NWINDOWS][FUZZ_WINDOW];
    uint8_t buf[FUZZ_WINDOW], wbuf[FUZZ_WINDOW];
} scratch;

/* --- the shadow ------------------------------------------------------------ */

/* Sets n bytes of window win from off to state st (with their bytes, for
 * DATA). */
static void mark(run *r, unsigned win, uint64_t off, size_t n, uint8_t st, const uint8_t *src)
{
    if (r->st[win] == NULL) {
        r->st[win] = scratch.st[win];
        r->data[win] = scratch.data[win];
        memset(r->st[win], r->init, FUZZ_WINDOW);
    }
    memset(r->st[win] + off, st, n);
    if (src != NULL)
        memcpy(r->data[win] + off, src, n);
}

/* A hit of n bytes at window offset off, read through instance `what`. */
static void check_hit(const run *r, unsigned win, uint64_t off, const uint8_t *got, size_t n,
                      const char *clause, const char *what)
{
    const uint8_t *sts = r->st[win], *data = r->data[win];
    size_t i = 0, j;

    if (sts == NULL && r->init == ST_UNKNOWN)
        return;
    while (i < n) {
        uint8_t st = sts != NULL ? sts[off + i] : r->init;
        /* A run of bytes in one state; DATA runs are compared at once. */
        j = sts != NULL ? i + run_of(sts + off + i, n - i, st) : n;
        if (st == ST_DATA && memcmp(got + i, data + off + i, j - i) == 0)
            st = ST_UNKNOWN;
        if (st == ST_DATA)
            while (got[i] == data[off + i])
                i++;
        if (st == ST_DATA)
            fuzz_fail(r->env, clause,
                      "%s: op %u: a hit at disk offset %llu returned 0x%02x where the last write put 0x%02x "
                      "(window %u, byte %zu of %zu hit)",
                      what, r->nop, (unsigned long long)(fuzz_window_base[win] + off + i), got[i],
                      data[off + i], win, i, n);
        if (st == ST_ABSENT)
            fuzz_fail(r->env, strcmp(clause, "CRASH-1") != 0 ? "READ-3" : clause,
                      "%s: op %u: a hit at disk offset %llu returned 0x%02x for a byte never written since "
                      "create or discarded since (window %u, byte %zu of %zu hit)",
                      what, r->nop, (unsigned long long)(fuzz_window_base[win] + off + i), got[i], win, i, n);
        i = j;
    }
}

/* --- operations -------------------------------------------------------------- */

/* Reads [off, off+len) of window win through bd; with loop, like VD (advance
 * by the count, hit or miss, until covered).  Returns false when a read
 * failed (after aborting in model mode when `strict`). */
static bool read_range(run *r, void *bd, unsigned win, uint64_t off, size_t len, bool loop,
                       bool strict, const char *clause, const char *what)
{
    uint64_t base = fuzz_window_base[win];
    size_t done = 0;
    do {
        fuzz_io io = fuzz_read(r->env, bd, base + off + done, r->buf + done, len - done);
        if (io.rc == VINF_SUCCESS) {
            check_hit(r, win, off + done, r->buf + done, io.n, clause, what);
        } else if (io.rc != VERR_VD_BLOCK_FREE) {
            if (strict && r->model)
                fuzz_fail(r->env, "HEALTHY", "%s: op %u: read(%llu, %zu) failed with %d", what, r->nop,
                          (unsigned long long)(base + off + done), len - done, io.rc);
            return false;
        }
        done += io.n;
    } while (loop && done < len);
    return true;
}

/* One write, or VD's write loop, of data(seed) over [off, off+len).  Returns
 * the bytes processed. */
static size_t write_range(run *r, unsigned win, uint64_t off, size_t len, uint8_t seed, bool loop)
{
    uint64_t base = fuzz_window_base[win];
    size_t done = 0;

    fuzz_script_fill(seed, base + off, r->wbuf, len);
    do {
        uint64_t at = base + off + done;
        fuzz_io io = fuzz_write(r->env, r->bd, at, r->wbuf + done, len - done);
        if (r->flags & VD_OPEN_FLAGS_READONLY) {
            if (io.rc != VERR_VD_IMAGE_READ_ONLY)
                fuzz_fail(r->env, "WRITE-3", "op %u: write(%llu, %zu) on a read-only instance returned %d",
                          r->nop, (unsigned long long)at, len - done, io.rc);
            return done;
        }
        if (io.rc != VINF_SUCCESS) {
            if (r->model && at % 512 == 0 && (len - done) % 512 == 0)
                fuzz_fail(r->env, "WRITE-4", "op %u: aligned write(%llu, %zu) to a healthy cache failed with %d",
                          r->nop, (unsigned long long)at, len - done, io.rc);
            return done;
        }
        mark(r, win, off + done, io.n, ST_DATA, r->wbuf + done);
        done += io.n;
    } while (loop && done < len);
    return done;
}

static void op_fill(run *r, unsigned win, uint64_t off, size_t len, uint8_t seed)
{
    uint64_t base = fuzz_window_base[win];
    size_t done = 0;
    while (done < len) {
        fuzz_io io = fuzz_read(r->env, r->bd, base + off + done, r->buf + done, len - done);
        if (io.rc == VINF_SUCCESS) {
            check_hit(r, win, off + done, r->buf + done, io.n, "READ-1", "fill");
        } else if (io.rc == VERR_VD_BLOCK_FREE) {
            /* VD read the missed bytes from the image; put them in. */
            if (write_range(r, win, off + done, io.n, seed, true) != io.n)
                return;
        } else {
            if (r->model)
                fuzz_fail(r->env, "HEALTHY", "op %u: read(%llu, %zu) failed with %d", r->nop,
                          (unsigned long long)(base + off + done), len - done, io.rc);
            return;
        }
        done += io.n;
    }
}

static void op_discard(run *r, unsigned win, uint64_t off, size_t len, bool mark_unused)
{
    struct VDIOCTX ctx;
    RTSGSEG seg;
    uint8_t none = 0;
    size_t pre = 0, post = 0, discarded = 0;
    void *bm = NULL;
    uint64_t at = fuzz_window_base[win] + off;
    int rc;

    if (r->be->pfnDiscard == NULL)
        return;
    vdc_ioctx_init_buf(&ctx, &seg, &none, 0);
    rc = r->be->pfnDiscard(r->bd, &ctx, at, len, &pre, &post, &discarded, &bm,
                           mark_unused ? VD_DISCARD_MARK_UNUSED : 0);
    /* The allocation bitmap is the caller's to free (VD frees it too). */
    free(bm);
    if (r->flags & VD_OPEN_FLAGS_READONLY) {
        if (rc != VERR_VD_IMAGE_READ_ONLY)
            fuzz_fail(r->env, "DISCARD-3", "op %u: discard(%llu, %zu) on a read-only instance returned %d",
                      r->nop, (unsigned long long)at, len, rc);
        return;
    }
    if (rc == VINF_SUCCESS && discarded > 0)
        mark(r, win, off, discarded < len ? discarded : len, ST_ABSENT, NULL);
}

static void op_flush(run *r)
{
    struct VDIOCTX ctx;
    RTSGSEG seg;
    uint8_t none = 0;
    int rc;

    vdc_ioctx_init_buf(&ctx, &seg, &none, 0);
    rc = r->be->pfnFlush(r->bd, &ctx);
    if (RT_FAILURE(rc) && r->model)
        fuzz_fail(r->env, "FLUSH-1", "op %u: flush of a healthy cache failed with %d", r->nop, rc);
    if (rc == VERR_VD_ASYNC_IO_IN_PROGRESS)
        fuzz_fail(r->env, "FLUSH-1", "op %u: flush went asynchronous on a synchronous context", r->nop);
}

static void check_flags(const run *r)
{
    if (r->be->pfnGetOpenFlags != NULL) {
        unsigned got = r->be->pfnGetOpenFlags(r->bd);
        if (got != r->flags)
            fuzz_fail(r->env, "INFO-2", "op %u: GetOpenFlags returned %#x, expected %#x", r->nop, got,
                      r->flags);
    }
}

static void op_setflags(run *r, unsigned flags)
{
    int rc;
    if (r->be->pfnSetOpenFlags == NULL)
        return;
    rc = r->be->pfnSetOpenFlags(r->bd, flags);
    if (rc == VINF_SUCCESS) {
        r->flags = flags;
        if (!(flags & VD_OPEN_FLAGS_READONLY))
            r->ro_life = false;
    }
    check_flags(r);
}

static void began_instance(run *r)
{
    r->ro_life = (r->flags & VD_OPEN_FLAGS_READONLY) != 0
              && fuzz_file_stamp(r->env, FUZZ_IMAGE_NAME, &r->stamp);
}

/* Closes the script's instance; checks CLOSE-1 (model), HOST-3, OPEN-3. */
static void close_instance(run *r, const char *what)
{
    int rc = r->be->pfnClose(r->bd, false);
    int64_t stamp;

    r->bd = NULL;
    if (RT_FAILURE(rc) && r->model)
        fuzz_fail(r->env, "CLOSE-1", "%s: close of a healthy cache failed with %d", what, rc);
    fuzz_check_no_storage(r->env, what);
    fuzz_check_misuse(r->env, what);
    if (r->ro_life && (!fuzz_file_stamp(r->env, FUZZ_IMAGE_NAME, &stamp) || stamp != r->stamp))
        fuzz_fail(r->env, "OPEN-3", "%s: a read-only instance wrote to or resized the file", what);
}

/* Opens FUZZ_IMAGE_NAME with flags into r->bd; model mode probes first and
 * insists the open succeeds (falling back to the plain read-only or
 * read-write open when extra flags were refused).  Returns false when no
 * instance could be opened. */
static bool open_instance(run *r, unsigned flags, const char *what)
{
    fuzz_env *env = r->env;
    int rc;

    if (r->model) {
        rc = r->be->pfnProbe(FUZZ_IMAGE_NAME, vdc_host_disk_ifs(env->host), vdc_host_probe_ifs(env->host));
        if (rc != VINF_SUCCESS)
            fuzz_fail(env, "PROBE-2", "%s: probe of an image the backend created returned %d", what, rc);
        fuzz_check_no_storage(env, what);
        fuzz_check_misuse(env, what);
    }
    rc = r->be->pfnOpen(FUZZ_IMAGE_NAME, flags, vdc_host_disk_ifs(env->host),
                        vdc_host_image_ifs(env->host), &r->bd);
    if (RT_FAILURE(rc) && r->model && (flags & ~VD_OPEN_FLAGS_READONLY) != 0) {
        fuzz_check_no_storage(env, what);
        flags &= VD_OPEN_FLAGS_READONLY;
        rc = r->be->pfnOpen(FUZZ_IMAGE_NAME, flags, vdc_host_disk_ifs(env->host),
                            vdc_host_image_ifs(env->host), &r->bd);
    }
    if (RT_FAILURE(rc)) {
        r->bd = NULL;
        if (r->model)
            fuzz_fail(env, "OPEN-1", "%s: open(%#x) of an image the backend created failed with %d", what,
                      flags, rc);
        fuzz_check_no_storage(env, what);
        fuzz_check_misuse(env, what);
        return false;
    }
    if (r->bd == NULL)
        fuzz_fail(env, "OPEN-1", "%s: open succeeded without an instance", what);
    r->flags = flags;
    began_instance(r);
    check_flags(r);
    if (r->mod_known && r->be->pfnGetModificationUuid != NULL) {
        RTUUID u;
        rc = r->be->pfnGetModificationUuid(r->bd, &u);
        if (rc != VINF_SUCCESS || memcmp(&u, &r->mod_uuid, sizeof(u)) != 0)
            fuzz_fail(env, "UUID-2", "%s: the modification UUID did not survive close and reopen (rc %d)",
                      what, rc);
    }
    return true;
}

static void op_uuid(run *r, uint8_t seed, bool image)
{
    int (*set)(void *, PCRTUUID) = image ? r->be->pfnSetUuid : r->be->pfnSetModificationUuid;
    int (*get)(void *, PRTUUID) = image ? r->be->pfnGetUuid : r->be->pfnGetModificationUuid;
    RTUUID u, got;
    int rc, rc2;

    if (set == NULL || get == NULL)
        return;
    for (unsigned i = 0; i < 16; i++)
        u.au8[i] = (uint8_t)(seed * 31u + i * 7u + r->nop);
    rc = set(r->bd, &u);
    if (r->flags & VD_OPEN_FLAGS_READONLY) {
        if (rc != VERR_VD_IMAGE_READ_ONLY && rc != VERR_NOT_SUPPORTED)
            fuzz_fail(r->env, "UUID-4", "op %u: a UUID setter on a read-only instance returned %d", r->nop, rc);
        if (!image && r->mod_known) {
            rc2 = get(r->bd, &got);
            if (rc2 != VINF_SUCCESS || memcmp(&got, &r->mod_uuid, sizeof(got)) != 0)
                fuzz_fail(r->env, "UUID-4", "op %u: a refused set changed the modification UUID", r->nop);
        }
        return;
    }
    if (image)
        return; /* UUID-3 is a SHOULD: exercised, not judged */
    if (rc == VINF_SUCCESS) {
        rc2 = get(r->bd, &got);
        if (rc2 != VINF_SUCCESS || memcmp(&got, &u, sizeof(got)) != 0)
            fuzz_fail(r->env, "UUID-1", "op %u: the modification UUID set did not read back (rc %d)", r->nop,
                      rc2);
        r->mod_uuid = u;
        r->mod_known = true;
    } else if (rc == VERR_NOT_SUPPORTED) {
        rc2 = get(r->bd, &got);
        if (rc2 != VERR_NOT_SUPPORTED)
            fuzz_fail(r->env, "UUID-1", "op %u: set answered VERR_NOT_SUPPORTED but get %d", r->nop, rc2);
    } else {
        if (r->model)
            fuzz_fail(r->env, "UUID-1", "op %u: SetModificationUuid on a healthy cache failed with %d",
                      r->nop, rc);
        r->mod_known = false;
    }
}

static void op_comment(run *r, const uint8_t *chars, size_t n)
{
    char s[65], got[130];
    int rc;

    if (r->be->pfnSetComment == NULL || r->be->pfnGetComment == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        s[i] = (char)(' ' + chars[i] % 95);
    s[n] = '\0';
    rc = r->be->pfnSetComment(r->bd, s);
    if (rc != VINF_SUCCESS)
        return;
    memset(got, 0x7f, sizeof(got));
    rc = r->be->pfnGetComment(r->bd, got, sizeof(got));
    if (rc != VINF_SUCCESS || memchr(got, '\0', sizeof(got)) == NULL || strcmp(got, s) != 0)
        fuzz_fail(r->env, "INFO-4", "op %u: the comment set did not read back (rc %d)", r->nop, rc);
    if (n > 0) {
        rc = r->be->pfnGetComment(r->bd, got, n);
        if (rc != VERR_BUFFER_OVERFLOW)
            fuzz_fail(r->env, "INFO-4", "op %u: GetComment into %zu bytes for %zu characters returned %d",
                      r->nop, n, n, rc);
    }
}

/* Reads every window through bd with VD's loop, judging each hit. */
static void check_all(run *r, void *bd, bool strict, const char *clause, const char *what)
{
    for (unsigned w = 0; w < FUZZ_NWINDOWS; w++) {
        const uint8_t *st = r->st[w];
        bool any = st == NULL ? r->init != ST_UNKNOWN : run_of(st, FUZZ_WINDOW, ST_UNKNOWN) < FUZZ_WINDOW;
        if (any && !read_range(r, bd, w, 0, FUZZ_WINDOW, true, strict, clause, what))
            return;
    }
}

/* Copies the image file as it is now (size bytes) to CRASH_NAME, a window
 * at a time through buf: the memory fs keeps the zero stretches of a
 * sparse image for free, so the copy costs what the original does.  On
 * failure no copy is left.  Returns the fs's status. */
static int copy_image(fuzz_env *env, uint64_t size, uint8_t *buf)
{
    vdc_file *f;
    int rc = env->fs->ops->open(env->fs, CRASH_NAME,
                                RTFILE_O_READWRITE | RTFILE_O_CREATE_REPLACE | RTFILE_O_DENY_NONE, &f);
    if (RT_FAILURE(rc))
        return rc;
    for (uint64_t off = 0; off < size && RT_SUCCESS(rc); off += FUZZ_WINDOW) {
        size_t n = size - off < FUZZ_WINDOW ? (size_t)(size - off) : FUZZ_WINDOW;
        rc = vdc_fs_mem_peek(env->fs, FUZZ_IMAGE_NAME, off, buf, n);
        if (RT_SUCCESS(rc))
            rc = f->fs->ops->write(f, off, buf, n);
    }
    if (RT_SUCCESS(rc))
        rc = f->fs->ops->set_size(f, size);
    int rc2 = f->fs->ops->close(f);
    if (RT_SUCCESS(rc))
        rc = rc2;
    if (RT_FAILURE(rc))
        env->fs->ops->remove(env->fs, CRASH_NAME);
    return rc;
}

static void op_crash(run *r)
{
    fuzz_env *env = r->env;
    const vdc_host_stats *stats = vdc_host_get_stats(env->host);
    unsigned before;
    uint64_t size;
    void *cbd = NULL;
    int rc;

    if (r->crashes >= MAX_CRASHES || !fuzz_file_size(env, FUZZ_IMAGE_NAME, &size) || size > MAX_COPY_BYTES)
        return;
    r->crashes++;
    if (RT_FAILURE(copy_image(env, size, r->buf)))
        return;

    before = stats->open_storages;
    rc = r->be->pfnOpen(CRASH_NAME, VD_OPEN_FLAGS_NORMAL, vdc_host_disk_ifs(env->host),
                        vdc_host_image_ifs(env->host), &cbd);
    if (RT_SUCCESS(rc)) {
        if (cbd == NULL)
            fuzz_fail(env, "OPEN-1", "crash copy: open succeeded without an instance");
        check_all(r, cbd, false, "CRASH-1", "crash copy");
        rc = r->be->pfnClose(cbd, false);
        if (RT_FAILURE(rc) && r->model)
            fuzz_fail(env, "CLOSE-1", "crash copy: close after a successful open failed with %d", rc);
    }
    if (stats->open_storages != before)
        fuzz_fail(env, RT_SUCCESS(rc) ? "HOST-3" : "OPEN-2",
                  "crash copy: %u storage handle(s) open before, %u after", before, stats->open_storages);
    fuzz_check_misuse(env, "crash copy");
    env->fs->ops->remove(env->fs, CRASH_NAME);
}

/* --- the interpreter ---------------------------------------------------------- */

static bool take(run *r, size_t n, const uint8_t **out)
{
    if ((size_t)(r->end - r->p) < n)
        return false;
    *out = r->p;
    r->p += n;
    return true;
}

/* Decodes off16 len16 into a window offset and a length (script.h). */
static bool take_range(run *r, uint8_t op, uint64_t *off, size_t *len)
{
    const uint8_t *a;
    size_t n;
    if (!take(r, 4, &a))
        return false;
    *off = fuzz_le16(a);
    if (op & FUZZ_MOD_ALIGNED) {
        *off &= ~(uint64_t)511;
        n = ((size_t)fuzz_le16(a + 2) % 128 + 1) * 512;
    } else {
        n = 1 + (size_t)fuzz_le16(a + 2) % 16384;
    }
    if (n > FUZZ_WINDOW - *off)
        n = (size_t)(FUZZ_WINDOW - *off);
    *len = n;
    r->moved += n;
    return true;
}

/* With VDCC_FUZZ_VERBOSE set, one line per op on stderr, to follow a
 * failing input (fuzz/README.md, "Reproducing a crash"). */
static void say(const run *r, const char *what, unsigned win, uint64_t off, size_t len, unsigned arg)
{
    if (r->verbose)
        fprintf(stderr, "op %u: %s win %u off %llu len %zu (disk %llu) arg %#x flags %#x\n", r->nop, what,
                win, (unsigned long long)off, len, (unsigned long long)(fuzz_window_base[win] + off), arg,
                r->flags);
}

/* Runs ops until the script ends or the instance is lost. */
static void interpret(run *r)
{
    const uint8_t *a;

    while (r->bd != NULL && r->p < r->end && r->nop < FUZZ_SCRIPT_MAX_OPS
           && r->moved < FUZZ_SCRIPT_MAX_BYTES) {
        uint8_t op = *r->p++;
        unsigned win = (op >> 4) & 3u;
        bool alt = (op & FUZZ_MOD_ALT) != 0;
        uint64_t off;
        size_t len;

        r->nop++;
        switch (op & 0x0f) {
        case FUZZ_OP_WRITE:
        case FUZZ_OP_WRITE2:
        case FUZZ_OP_WRITE3:
            if (!take_range(r, op, &off, &len) || !take(r, 1, &a))
                return;
            say(r, alt ? "vdwrite" : "write", win, off, len, a[0]);
            write_range(r, win, off, len, a[0], alt);
            break;
        case FUZZ_OP_READ:
        case FUZZ_OP_READ2:
        case FUZZ_OP_READ3:
        case FUZZ_OP_VDREAD:
            if (!take_range(r, op, &off, &len))
                return;
            say(r, alt || (op & 0x0f) == FUZZ_OP_VDREAD ? "vdread" : "read", win, off, len, 0);
            read_range(r, r->bd, win, off, len, alt || (op & 0x0f) == FUZZ_OP_VDREAD, true, "READ-1", "read");
            break;
        case FUZZ_OP_DISCARD:
            if (!take_range(r, op, &off, &len))
                return;
            say(r, "discard", win, off, len, alt);
            op_discard(r, win, off, len, alt);
            break;
        case FUZZ_OP_FLUSH:
            say(r, "flush", 0, 0, 0, 0);
            op_flush(r);
            break;
        case FUZZ_OP_SETFLAGS:
            if (!take(r, 1, &a))
                return;
            say(r, "set-open-flags", 0, 0, 0, fuzz_script_flags(a[0]));
            op_setflags(r, fuzz_script_flags(a[0]));
            break;
        case FUZZ_OP_REOPEN:
            if (!take(r, 1, &a))
                return;
            say(r, "reopen", 0, 0, 0, fuzz_script_flags(a[0]));
            close_instance(r, "reopen");
            if (!open_instance(r, fuzz_script_flags(a[0]), "reopen"))
                return;
            break;
        case FUZZ_OP_INFO:
            say(r, "info", 0, 0, 0, alt);
            fuzz_call_getters(r->env, r->bd, r->flags, alt);
            break;
        case FUZZ_OP_UUID:
            if (!take(r, 1, &a))
                return;
            say(r, alt ? "image-uuid" : "mod-uuid", 0, 0, 0, a[0]);
            op_uuid(r, a[0], alt);
            break;
        case FUZZ_OP_COMMENT: {
            size_t n;
            if (!take(r, 1, &a))
                return;
            n = a[0] % 64u;
            if (!take(r, n, &a))
                return;
            say(r, "comment", 0, 0, n, 0);
            op_comment(r, a, n);
            break;
        }
        case FUZZ_OP_CRASH:
            say(r, "crash-copy", 0, 0, 0, 0);
            op_crash(r);
            break;
        case FUZZ_OP_FILL:
            if (!take_range(r, op, &off, &len) || !take(r, 1, &a))
                return;
            say(r, "fill", win, off, len, a[0]);
            op_fill(r, win, off, len, a[0]);
            break;
        default:
            break;
        }
    }
}

/* A run's memory is the scratch above: nothing to allocate or free. */
static void run_init(run *r, fuzz_env *env, bool model, const uint8_t *script, size_t len)
{
    memset(r, 0, sizeof(*r));
    r->env = env;
    r->be = env->be;
    r->model = model;
    r->p = script;
    r->end = script + len;
    r->init = model ? ST_ABSENT : ST_UNKNOWN;
    r->verbose = getenv("VDCC_FUZZ_VERBOSE") != NULL;
    r->buf = scratch.buf;
    r->wbuf = scratch.wbuf;
}


/* After the script: close, reopen read-only, judge every window, close. */
static void finish(run *r)
{
    if (r->bd == NULL)
        return;
    close_instance(r, "final close");
    if (!open_instance(r, VD_OPEN_FLAGS_READONLY, "final read-only open"))
        return;
    check_all(r, r->bd, true, "READ-1", "after close, read-only reopen");
    close_instance(r, "final read-only close");
}

void fuzz_script_run_ops(fuzz_env *env, unsigned open_flags, const uint8_t *script, size_t len)
{
    run r;
    run_init(&r, env, false, script, len);
    if (!open_instance(&r, open_flags, "open"))
        return;
    interpret(&r);
    finish(&r);
}

void fuzz_script_run_model(fuzz_env *env, uint64_t cb, unsigned image_flags, unsigned open_flags,
                           const uint8_t *script, size_t len)
{
    const VDCACHEBACKEND *be = env->be;
    RTUUID uuid;
    run r;
    int rc;

    if (!(be->uBackendCaps & ((image_flags & VD_IMAGE_FLAGS_FIXED) ? VD_CAP_CREATE_FIXED
                                                                   : VD_CAP_CREATE_DYNAMIC)))
        return;
    run_init(&r, env, true, script, len);
    for (unsigned i = 0; i < 16; i++)
        uuid.au8[i] = (uint8_t)(0xc0 + i);
    rc = be->pfnCreate(FUZZ_IMAGE_NAME, cb, image_flags, NULL, &uuid, open_flags, 0, 99,
                       vdc_host_disk_ifs(env->host), vdc_host_image_ifs(env->host),
                       vdc_host_op_ifs(env->host), &r.bd);
    if (rc == VERR_VD_INVALID_SIZE) {
        /* A capacity the backend declares it cannot hold: skip. */
        r.bd = NULL;
        fuzz_check_no_storage(env, "refused create");
        fuzz_check_misuse(env, "refused create");
        return;
    }
    if (RT_FAILURE(rc) || r.bd == NULL)
        fuzz_fail(env, "CREATE-1", "create(%llu bytes, image flags %#x, open flags %#x) failed with %d",
                  (unsigned long long)cb, image_flags, open_flags, rc);
    r.flags = open_flags;
    check_flags(&r);
    interpret(&r);
    finish(&r);
}
