/*
 * fuzz/mkseeds.c - writes the seed corpora of corpus/seeds/ (fuzz/README.md).
 *
 * Usage: fuzz_mkseeds OUTDIR [TRACEDIR]
 *   Writes OUTDIR/<target>/<seed> for fuzz_probe, fuzz_open, fuzz_ops,
 *   fuzz_model and fuzz_trace; copies the TRACEDIR *.trace files (the conformance
 *   corpus) into OUTDIR/fuzz_trace/ when given.
 *
 * Images are made by the backend itself (FUZZ_BACKEND, the reference VCI
 * backend by default) on the memory fs, with fixed UUIDs and fixed data, so
 * the output is the same on every run and every machine.  They cover:
 * dynamic and fixed, clean and unclean (a copy taken while open), empty, a
 * full leaf (107 extents), a full internal node (204 leaves), depths 1 to 3,
 * evicted and merged trees, an image without the LRU extension, and block
 * maps at boundary sizes.  Images up to RAW_LIMIT bytes are written raw,
 * bigger ones in the sparse encoding of fuzz.h.  Op scripts (fuzz/script.h)
 * and traces complete the set.
 *
 * Seeds are kept small, because every execution of a fuzz target copies
 * its input and loads the image, and libFuzzer hashes, stores and mutates
 * whole inputs: most of the bytes of a big seed are data or padding that
 * no mutation needs to touch.  So images with much zero space are sparse,
 * and the 204-entry internal node has thin leaves (one extent each, but
 * the last, which stays full) rather than 204 full ones (800 KB).
 *
 * Exit status 0, or 1 with a message when the backend refuses something a
 * seed needs or a file cannot be written.
 */
#include "fuzz.h"
#include "script.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define RAW_LIMIT   (16u << 10)
#define PROBE_LIMIT 4096u

typedef struct gen {
    const char *outdir;
    unsigned    files;
    uint64_t    bytes;
} gen;

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
    va_list va;
    fputs("fuzz_mkseeds: ", stderr);
    va_start(va, fmt);
    vfprintf(stderr, fmt, va);
    va_end(va);
    fputc('\n', stderr);
    exit(1);
}

/* --- output ---------------------------------------------------------------- */

static void emit(gen *g, const char *target, const char *name, const void *data, size_t n)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", g->outdir, target);
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        die("mkdir %s: %s", path, strerror(errno));
    snprintf(path, sizeof(path), "%s/%s/%s", g->outdir, target, name);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, n, f) != n || fclose(f) != 0)
        die("write %s: %s", path, strerror(errno));
    g->files++;
    g->bytes += n;
}

/* An image as a fuzz_open input: raw when small, else sparse. */
static uint8_t *encode_image(const uint8_t *img, size_t n, size_t *out)
{
    uint8_t *enc;
    if (n <= RAW_LIMIT) {
        enc = malloc(n ? n : 1);
        if (enc == NULL)
            die("out of memory");
        memcpy(enc, img, n);
        *out = n;
        return enc;
    }
    enc = fuzz_sparse_encode(img, n, out);
    if (enc == NULL)
        die("out of memory");
    return enc;
}

/* --- driving the backend ---------------------------------------------------- */

static void *create(fuzz_env *env, uint64_t cb, bool fixed)
{
    RTUUID uuid;
    void *bd = NULL;
    int rc;
    for (unsigned i = 0; i < 16; i++)
        uuid.au8[i] = (uint8_t)(0x11 * (i + 1));
    rc = env->be->pfnCreate(FUZZ_IMAGE_NAME, cb, fixed ? VD_IMAGE_FLAGS_FIXED : VD_IMAGE_FLAGS_NONE, NULL,
                            &uuid, VD_OPEN_FLAGS_NORMAL, 0, 99, vdc_host_disk_ifs(env->host),
                            vdc_host_image_ifs(env->host), vdc_host_op_ifs(env->host), &bd);
    if (RT_FAILURE(rc))
        die("create of %llu bytes (%s) failed: %d", (unsigned long long)cb, fixed ? "fixed" : "dynamic", rc);
    return bd;
}

/* VD's write loop over [off, off+cb) of data(seed). */
static void write_data(fuzz_env *env, void *bd, uint64_t off, size_t cb, uint8_t seed)
{
    uint8_t *buf = malloc(cb);
    size_t done = 0;
    if (buf == NULL)
        die("out of memory");
    fuzz_script_fill(seed, off, buf, cb);
    while (done < cb) {
        fuzz_io io = fuzz_write(env, bd, off + done, buf + done, cb - done);
        if (io.rc != VINF_SUCCESS)
            die("write(%llu, %zu) failed: %d", (unsigned long long)(off + done), cb - done, io.rc);
        done += io.n;
    }
    free(buf);
}

static void discard(fuzz_env *env, void *bd, uint64_t off, size_t cb)
{
    struct VDIOCTX ctx;
    RTSGSEG seg;
    uint8_t none = 0;
    size_t pre = 0, post = 0, done = 0;
    void *bm = NULL;
    int rc;
    if (env->be->pfnDiscard == NULL)
        return;
    vdc_ioctx_init_buf(&ctx, &seg, &none, 0);
    rc = env->be->pfnDiscard(bd, &ctx, off, cb, &pre, &post, &done, &bm, 0);
    free(bm);
    if (RT_FAILURE(rc))
        die("discard(%llu, %zu) failed: %d", (unsigned long long)off, cb, rc);
}

static void flush(fuzz_env *env, void *bd)
{
    struct VDIOCTX ctx;
    RTSGSEG seg;
    uint8_t none = 0;
    int rc;
    vdc_ioctx_init_buf(&ctx, &seg, &none, 0);
    rc = env->be->pfnFlush(bd, &ctx);
    if (RT_FAILURE(rc))
        die("flush failed: %d", rc);
}

static void set_mod_uuid(fuzz_env *env, void *bd, uint8_t b)
{
    RTUUID u;
    memset(&u, b, sizeof(u));
    if (env->be->pfnSetModificationUuid != NULL)
        (void)env->be->pfnSetModificationUuid(bd, &u);
}

static void close_image(fuzz_env *env, void *bd)
{
    int rc = env->be->pfnClose(bd, false);
    if (RT_FAILURE(rc))
        die("close failed: %d", rc);
}

/* The image file's bytes as they are now (open or closed). */
static uint8_t *snapshot(fuzz_env *env, size_t *n)
{
    uint64_t size;
    uint8_t *buf;
    if (!fuzz_file_size(env, FUZZ_IMAGE_NAME, &size) || size > ((uint64_t)64 << 20))
        die("cannot size the image");
    buf = malloc(size ? (size_t)size : 1);
    if (buf == NULL)
        die("out of memory");
    if (size != 0 && RT_FAILURE(vdc_fs_mem_peek(env->fs, FUZZ_IMAGE_NAME, 0, buf, (size_t)size)))
        die("cannot read the image");
    *n = (size_t)size;
    return buf;
}

/* A finished image: written for fuzz_open (and its first bytes for
 * fuzz_probe); returned for further use.  Frees nothing of env. */
static uint8_t *emit_image(gen *g, fuzz_env *env, const char *name, size_t *n)
{
    char file[256];
    size_t elen;
    uint8_t *img = snapshot(env, n), *enc = encode_image(img, *n, &elen);
    snprintf(file, sizeof(file), "%s.vci", name);
    emit(g, "fuzz_open", file, enc, elen);
    emit(g, "fuzz_probe", file, img, *n < PROBE_LIMIT ? *n : PROBE_LIMIT);
    free(enc);
    return img;
}

static void env_new(fuzz_env *env)
{
    if (!fuzz_env_init(env, &FUZZ_BACKEND))
        die("out of memory");
}

/* --- images ----------------------------------------------------------------- */

/* A fuzz_ops input: the image (length bit 31: small caches), open flags, a
 * script. */
static void emit_ops(gen *g, const char *name, const uint8_t *img, size_t n, bool small, uint8_t flags,
                     const uint8_t *script, size_t slen)
{
    size_t elen, total;
    uint8_t *enc = encode_image(img, n, &elen), *buf;
    total = 4 + elen + 1 + slen;
    buf = malloc(total);
    if (buf == NULL)
        die("out of memory");
    for (unsigned k = 0; k < 4; k++)
        buf[k] = (uint8_t)(elen >> (8 * k));
    if (small)
        buf[3] |= 0x80;
    memcpy(buf + 4, enc, elen);
    buf[4 + elen] = flags;
    memcpy(buf + 5 + elen, script, slen);
    emit(g, "fuzz_ops", name, buf, total);
    free(buf);
    free(enc);
}

/* Single-block extents at every other virtual block from `first`: none
 * adjacent, so each is its own extent.  Zero data: the sparse encoding
 * stores the data blocks for free. */
static void write_spread(fuzz_env *env, void *bd, uint64_t first, unsigned count, bool descending)
{
    for (unsigned i = 0; i < count; i++) {
        unsigned k = descending ? count - 1 - i : i;
        write_data(env, bd, (first + 2u * k) * 512u, 512, 0);
    }
}

typedef struct keep {
    uint8_t *img;
    size_t   n;
} keep;

static void make_images(gen *g, keep *dyn_data, keep *dyn_empty, keep *fixed_empty, keep *unclean,
                        keep *leaf_full, keep *depth2)
{
    fuzz_env env;
    void *bd;
    uint8_t *img;
    size_t n;

    /* Empty caches, dynamic and fixed, at the smallest and a small size. */
    env_new(&env);
    close_image(&env, create(&env, 64u << 10, false));
    dyn_empty->img = emit_image(g, &env, "dyn-empty", &dyn_empty->n);
    fuzz_env_fini(&env);

    env_new(&env);
    close_image(&env, create(&env, 64u << 10, true));
    fixed_empty->img = emit_image(g, &env, "fixed-empty", &fixed_empty->n);
    fuzz_env_fini(&env);

    env_new(&env);
    close_image(&env, create(&env, 10240, true));
    free(emit_image(g, &env, "fixed-min", &n));
    fuzz_env_fini(&env);

    env_new(&env);
    close_image(&env, create(&env, 10240, false));
    free(emit_image(g, &env, "dyn-min", &n));
    fuzz_env_fini(&env);

    /* Some data: patterns, an overwrite, an unaligned write, a discard, a
     * modification UUID; the unclean copy is taken before the close. */
    for (int fixed = 0; fixed < 2; fixed++) {
        env_new(&env);
        bd = create(&env, fixed ? 256u << 10 : 1u << 20, fixed);
        write_data(&env, bd, 0, 8192, 1);
        write_data(&env, bd, 64u << 10, 16384, 2);
        write_data(&env, bd, 1u << 30, 4096, 3);
        write_data(&env, bd, 4096, 8192, 4);
        write_data(&env, bd, 100000, 3000, 5);
        discard(&env, bd, (64u << 10) + 4096, 4096);
        set_mod_uuid(&env, bd, 0x5a);
        flush(&env, bd);
        free(emit_image(g, &env, fixed ? "fixed-flushed-open" : "dyn-flushed-open", &n));
        write_data(&env, bd, 200u << 10, 4096, 6);
        img = emit_image(g, &env, fixed ? "fixed-unclean" : "dyn-unclean", &n);
        if (!fixed) {
            unclean->img = img;
            unclean->n = n;
        } else {
            free(img);
        }
        close_image(&env, bd);
        img = emit_image(g, &env, fixed ? "fixed-data" : "dyn-data", &n);
        if (!fixed) {
            dyn_data->img = img;
            dyn_data->n = n;
            /* The same image without the LRU extension (as VirtualBox's
             * own images are): bytes 73..92 zero. */
            img = malloc(n);
            if (img == NULL)
                die("out of memory");
            memcpy(img, dyn_data->img, n);
            if (n >= 93)
                memset(img + 73, 0, 20);
            emit(g, "fuzz_open", "dyn-data-nolru.vci", img, n);
            emit(g, "fuzz_probe", "dyn-data-nolru.vci", img, n < PROBE_LIMIT ? n : PROBE_LIMIT);
            /* ... and flagged unclean, as VirtualBox leaves every image. */
            img[16] = 1;
            emit(g, "fuzz_open", "dyn-data-vbox-unclean.vci", img, n);
            free(img);
        } else {
            free(img);
        }
        fuzz_env_fini(&env);
    }

    /* One full leaf; then one more extent (depth 2, split at the end); the
     * same 108 inserted from the top (depth 2, even split). */
    env_new(&env);
    bd = create(&env, 256u << 10, false);
    write_spread(&env, bd, 0, 107, false);
    close_image(&env, bd);
    leaf_full->img = emit_image(g, &env, "leaf-full", &leaf_full->n);
    fuzz_env_fini(&env);

    env_new(&env);
    bd = create(&env, 256u << 10, false);
    write_spread(&env, bd, 0, 108, false);
    close_image(&env, bd);
    free(emit_image(g, &env, "depth2-append", &n));
    fuzz_env_fini(&env);

    env_new(&env);
    bd = create(&env, 256u << 10, false);
    write_spread(&env, bd, 0, 108, true);
    close_image(&env, bd);
    depth2->img = emit_image(g, &env, "depth2-even", &depth2->n);
    fuzz_env_fini(&env);

    /* A full internal root: 204 full leaves (sequential fills keep leaves
     * full), then thinned to one extent each but the last: leaf i loses
     * extents 1..106 while leaf i+1 is still full, so no two leaves can
     * merge (vci_tree.c merges only what fits in one node).  One extent
     * more in the last, full leaf splits it and the root: depth 3. */
    env_new(&env);
    bd = create(&env, 12u << 20, false);
    write_spread(&env, bd, 0, 204u * 107u, false);
    for (unsigned leaf = 0; leaf + 1 < 204u; leaf++)
        for (unsigned k = 1; k < 107u; k++)
            discard(&env, bd, (uint64_t)(leaf * 107u + k) * 2u * 512u, 512);
    close_image(&env, bd);
    free(emit_image(g, &env, "internal-full", &n));
    if (RT_FAILURE(env.be->pfnOpen(FUZZ_IMAGE_NAME, VD_OPEN_FLAGS_NORMAL, vdc_host_disk_ifs(env.host),
                                   vdc_host_image_ifs(env.host), &bd)))
        die("reopen of internal-full failed");
    write_spread(&env, bd, 2u * 204u * 107u, 1, false);
    close_image(&env, bd);
    free(emit_image(g, &env, "depth3", &n));
    fuzz_env_fini(&env);

    /* Eviction: a 32 KiB cache (64 blocks) written with 200 blocks. */
    env_new(&env);
    bd = create(&env, 32u << 10, false);
    for (unsigned i = 0; i < 200; i++)
        write_data(&env, bd, (uint64_t)i * 3u * 512u, 512, (uint8_t)(i + 1));
    close_image(&env, bd);
    free(emit_image(g, &env, "evicted", &n));
    fuzz_env_fini(&env);

    /* Merges: three leaves' worth, then most of the middle discarded. */
    env_new(&env);
    bd = create(&env, 512u << 10, false);
    write_spread(&env, bd, 0, 300, true);
    discard(&env, bd, 60u * 1024u, 140u * 1024u);
    close_image(&env, bd);
    free(emit_image(g, &env, "merged", &n));
    fuzz_env_fini(&env);

    /* Block maps at boundary sizes: cBlocks around multiples of 8 and of
     * 4096 (one bitmap block describes 4096 blocks). */
    {
        static const uint32_t sizes[] = { 20, 21, 27, 28, 4095, 4096, 4097, 8192, 8193 };
        for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            char name[64];
            env_new(&env);
            bd = create(&env, (uint64_t)sizes[i] * 512u, false);
            write_data(&env, bd, 0, 512, 7);
            close_image(&env, bd);
            snprintf(name, sizeof(name), "bm-%u", sizes[i]);
            free(emit_image(g, &env, name, &n));
            fuzz_env_fini(&env);
        }
        env_new(&env);
        bd = create(&env, 4097u * 512u, true);
        write_data(&env, bd, 0, 512, 7);
        close_image(&env, bd);
        free(emit_image(g, &env, "bm-4097-fixed", &n));
        fuzz_env_fini(&env);
    }
}

/* --- foreign files for probe ------------------------------------------------ */

static void make_probe_extras(gen *g, const keep *dyn_empty)
{
    uint8_t buf[1024];
    static const char *const magics[][2] = {
        { "vdi", "<<< Oracle VM VirtualBox Disk Image >>>\n" },
        { "vmdk", "KDMV" },
        { "vhd", "conectix" },
        { "qcow2", "QFI\xfb" },
        { "vblk", "VBLK" },
    };

    emit(g, "fuzz_probe", "empty", "", 0);
    emit(g, "fuzz_probe", "sig-only", "VCI", 4);
    for (unsigned i = 0; i < sizeof(magics) / sizeof(magics[0]); i++) {
        char name[64];
        memset(buf, 0, sizeof(buf));
        memcpy(buf, magics[i][1], strlen(magics[i][1]));
        snprintf(name, sizeof(name), "foreign-%s", magics[i][0]);
        emit(g, "fuzz_probe", name, buf, sizeof(buf));
    }
    memset(buf, 0xff, sizeof(buf));
    emit(g, "fuzz_probe", "all-ff", buf, sizeof(buf));
    if (dyn_empty->n >= 1024) {
        /* A valid header one byte short, and with a bad version. */
        emit(g, "fuzz_probe", "header-1023", dyn_empty->img, 1023);
        memcpy(buf, dyn_empty->img, 1024);
        buf[4] = 2;
        emit(g, "fuzz_probe", "header-v2", buf, 1024);
    }
}

/* --- scripts ----------------------------------------------------------------- */

typedef struct sbuf {
    uint8_t  b[4096];
    size_t   n;
} sbuf;

static void put(sbuf *s, unsigned byte)
{
    if (s->n >= sizeof(s->b))
        die("script too long");
    s->b[s->n++] = (uint8_t)byte;
}

/* A range op: kind | modifiers, off16, len16 (as script.h decodes them). */
static void rng(sbuf *s, unsigned op, unsigned off, unsigned len16)
{
    put(s, op);
    put(s, off & 0xff);
    put(s, off >> 8);
    put(s, len16 & 0xff);
    put(s, len16 >> 8);
}

/* Aligned write of (blocks) 512-byte blocks at off. */
static void w(sbuf *s, unsigned win, unsigned off, unsigned blocks, unsigned seed)
{
    rng(s, FUZZ_OP_WRITE | FUZZ_MOD_WIN(win) | FUZZ_MOD_ALIGNED | FUZZ_MOD_ALT, off, blocks - 1);
    put(s, seed);
}

static void r(sbuf *s, unsigned win, unsigned off, unsigned blocks)
{
    rng(s, FUZZ_OP_VDREAD | FUZZ_MOD_WIN(win) | FUZZ_MOD_ALIGNED, off, blocks - 1);
}

static void script_basic(sbuf *s)
{
    w(s, 0, 0, 8, 1);
    r(s, 0, 0, 16);
    rng(s, FUZZ_OP_READ, 100, 300);
    put(s, FUZZ_OP_FLUSH);
    put(s, FUZZ_OP_CRASH);
    put(s, FUZZ_OP_REOPEN);
    put(s, 0x01); /* read-only */
    r(s, 0, 0, 16);
    w(s, 0, 0, 1, 9); /* refused: read-only */
    put(s, FUZZ_OP_SETFLAGS);
    put(s, 0x00);
    w(s, 0, 2048, 4, 2);
    r(s, 0, 0, 32);
    put(s, FUZZ_OP_INFO | FUZZ_MOD_ALT);
}

static void script_overwrite(sbuf *s)
{
    w(s, 0, 0, 16, 1);
    rng(s, FUZZ_OP_WRITE | FUZZ_MOD_ALT, 700, 2000);
    put(s, 2);
    rng(s, FUZZ_OP_WRITE, 4096, 511);
    put(s, 3);
    w(s, 0, 1024, 2, 4);
    r(s, 0, 0, 32);
    rng(s, FUZZ_OP_READ | FUZZ_MOD_ALT, 1, 9000);
}

static void script_evict(sbuf *s)
{
    for (unsigned i = 0; i < 32; i++)
        w(s, 0, (i * 4096u) % 65536u, 8, i + 1);
    r(s, 0, 0, 128);
    put(s, FUZZ_OP_FLUSH);
    for (unsigned i = 0; i < 16; i++)
        w(s, 0, (i * 3u * 1024u) % 65536u, 2, i + 40);
    r(s, 0, 0, 128);
}

static void script_discard(sbuf *s)
{
    w(s, 0, 0, 32, 5);
    rng(s, FUZZ_OP_DISCARD | FUZZ_MOD_ALIGNED, 4096, 3);
    rng(s, FUZZ_OP_DISCARD | FUZZ_MOD_ALT, 9000, 1000);
    r(s, 0, 0, 32);
    w(s, 0, 4096, 1, 6);
    r(s, 0, 0, 32);
}

static void script_far(sbuf *s)
{
    for (unsigned win = 1; win < FUZZ_NWINDOWS; win++) {
        w(s, win, 30u * 1024u, 8, win + 10);
        r(s, win, 28u * 1024u, 16);
    }
    put(s, FUZZ_OP_REOPEN);
    put(s, 0x00);
    for (unsigned win = 0; win < FUZZ_NWINDOWS; win++)
        r(s, win, 28u * 1024u, 16);
}

static void script_uuid(sbuf *s)
{
    put(s, FUZZ_OP_UUID);
    put(s, 0x33);
    put(s, FUZZ_OP_UUID | FUZZ_MOD_ALT);
    put(s, 0x44);
    put(s, FUZZ_OP_REOPEN);
    put(s, 0x00);
    put(s, FUZZ_OP_REOPEN);
    put(s, 0x01);
    put(s, FUZZ_OP_UUID);
    put(s, 0x55);
    put(s, FUZZ_OP_COMMENT);
    put(s, 5);
    for (unsigned i = 0; i < 5; i++)
        put(s, 'a' + i);
}

static void script_fill(sbuf *s)
{
    rng(s, FUZZ_OP_FILL | FUZZ_MOD_ALIGNED, 0, 31);
    put(s, 7);
    rng(s, FUZZ_OP_FILL, 1000, 20000);
    put(s, 7);
    r(s, 0, 0, 64);
}

static void script_flags(sbuf *s)
{
    static const uint8_t f[] = { 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x01, 0x00 };
    for (unsigned i = 0; i < sizeof(f); i++) {
        put(s, FUZZ_OP_SETFLAGS);
        put(s, f[i]);
        w(s, 0, i * 1024u, 2, i + 1);
        put(s, FUZZ_OP_FLUSH);
    }
    r(s, 0, 0, 32);
    put(s, FUZZ_OP_INFO);
}

static void script_crash(sbuf *s)
{
    w(s, 0, 0, 8, 1);
    put(s, FUZZ_OP_FLUSH);
    put(s, FUZZ_OP_CRASH);
    w(s, 0, 0, 8, 2);
    w(s, 0, 8192, 8, 3);
    put(s, FUZZ_OP_CRASH);
    r(s, 0, 0, 32);
}

typedef struct script_def {
    const char *name;
    void (*make)(sbuf *);
    uint8_t     kind, step; /* fuzz_model's first two bytes */
} script_def;

static const script_def scripts[] = {
    { "basic", script_basic, 0x06, 0 },       /* dynamic, 64 KiB */
    { "overwrite", script_overwrite, 0x09, 0 }, /* fixed, 32 KiB */
    { "evict", script_evict, 0x00, 2 },       /* dynamic, 18 KiB: evicts */
    { "evict-fixed", script_evict, 0x03, 4 }, /* fixed, 32 KiB */
    { "discard", script_discard, 0x06, 0 },
    { "far", script_far, 0x08, 0 },           /* dynamic, 128 KiB */
    { "uuid", script_uuid, 0x06, 0 },
    { "fill", script_fill, 0x14, 0 },         /* ignore-flush */
    { "flags", script_flags, 0x26, 0 },       /* honor-zeroes */
    { "crash", script_crash, 0x06, 0 },
    { "evict-small-caches", script_evict, 0x40, 2 }, /* fuzz_small_caches */
};

static void make_scripts(gen *g, const keep *images, const char *const *image_names, unsigned nimages)
{
    for (unsigned i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
        sbuf s;
        uint8_t model[sizeof(s.b) + 2];
        char name[128];

        s.n = 0;
        scripts[i].make(&s);
        model[0] = scripts[i].kind;
        model[1] = scripts[i].step;
        memcpy(model + 2, s.b, s.n);
        emit(g, "fuzz_model", scripts[i].name, model, s.n + 2);
        /* Each script on one image (they rotate), read-write. */
        snprintf(name, sizeof(name), "%s-on-%s", scripts[i].name, image_names[i % nimages]);
        emit_ops(g, name, images[i % nimages].img, images[i % nimages].n, false, 0x00, s.b, s.n);
    }
    /* The basic script on every image read-only first. */
    for (unsigned k = 0; k < nimages; k++) {
        sbuf s;
        char name[128];
        s.n = 0;
        script_basic(&s);
        snprintf(name, sizeof(name), "basic-ro-on-%s", image_names[k]);
        emit_ops(g, name, images[k].img, images[k].n, false, 0x01, s.b, s.n);
    }
    /* Eviction with the smallest node and bitmap caches, on the full leaf. */
    {
        sbuf s;
        s.n = 0;
        script_evict(&s);
        emit_ops(g, "evict-small-caches-on-leaf-full", images[nimages - 1].img, images[nimages - 1].n, true,
                 0x00, s.b, s.n);
    }
}

/* --- traces ------------------------------------------------------------------ */

static const char trace_small[] =
    "vdcc-trace 1\n"
    "name fuzz-seed-small\n"
    "requires CREATE_DYNAMIC\n"
    "file junk.bin len=4K data=pattern:3\n"
    "probe junk.bin -> VERR_VD_GEN_INVALID_HEADER clause=PROBE-1\n"
    "create c0 file=c0.vci size=1M -> OK\n"
    "write c0 off=64K len=8K data=pattern:7@64K+4K,zero@68K+4K -> OK\n"
    "read c0 off=64K len=4K -> hit|miss data=pattern:7 should=hit clause=READ-1\n"
    "vdread c0 off=0 len=128K -> hit|miss data=zero@0+64K,pattern:7@64K+4K,zero@68K+60K\n"
    "read c0 off=0 len=4K -> miss>=512\n"
    "discard c0 off=64K len=4K flags=MARK_UNUSED -> OK|VERR_VD_IMAGE_READ_ONLY\n"
    "set-mod-uuid c0 uuid=00112233-4455-6677-8899-aabbccddeeff -> OK\n"
    "get-mod-uuid c0 -> OK uuid=00112233-4455-6677-8899-aabbccddeeff\n"
    "get-open-flags c0 -> value=NORMAL\n"
    "flush c0 -> OK\n"
    "close c0 -> OK\n"
    "open c0 flags=READONLY|SKIP_CONSISTENCY_CHECKS -> OK\n"
    "write c0 off=0 len=512 data=fill:1 -> VERR_VD_IMAGE_READ_ONLY clause=WRITE-3\n"
    "close c0 delete -> OK\n"
    "gone c0.vci\n";

static const char trace_example[] =
    "vdcc-trace 1\n"
    "name example-annotated\n"
    "requires CREATE_DYNAMIC UUID\n"
    "clauses PROBE-1 READ-1\n"
    "# A foreign file, 4 KiB of pattern 3.\n"
    "file junk.bin len=4K data=pattern:3\n"
    "probe junk.bin -> VERR_VD_GEN_INVALID_HEADER clause=PROBE-1\n"
    "create c0 file=c0.vci size=1G image=NONE flags=NORMAL comment=\"test\" uuid=$u -> OK clause=CREATE-1\n"
    "get-uuid c0 -> OK uuid=$u\n"
    "get-comment c0 buf=64 -> OK comment=\"te\\x73t\"\n"
    "write c0 off=1M len=64K data=pattern:1@1M+32K,pattern:2@1056K+32K -> OK count=64K\n"
    "vdread c0 off=1M len=64K fill -> hit|miss data=pattern:1@1M+32K,pattern:2@1056K+32K\n"
    "get-size c0 -> value>=1M\n"
    "dump c0 -> printed=any\n"
    "config NodeCacheSize value=\"64\"\n"
    "exists c0.vci -> value>=4K\n"
    "close c0 -> OK seen=VINF_SUCCESS\n";

static void copy_traces(gen *g, const char *dir)
{
    struct dirent **list;
    int n = scandir(dir, &list, NULL, alphasort);
    if (n < 0)
        return; /* no conformance corpus yet */
    for (int i = 0; i < n; i++) {
        const char *name = list[i]->d_name;
        size_t len = strlen(name);
        if (len > 6 && strcmp(name + len - 6, ".trace") == 0) {
            char path[4096];
            FILE *f;
            snprintf(path, sizeof(path), "%s/%s", dir, name);
            f = fopen(path, "rb");
            if (f != NULL) {
                static uint8_t buf[65536];
                size_t got = fread(buf, 1, sizeof(buf), f);
                fclose(f);
                /* Bigger traces than the target takes are left out. */
                if (got < sizeof(buf))
                    emit(g, "fuzz_trace", name, buf, got);
            }
        }
        free(list[i]);
    }
    free(list);
}

int main(int argc, char **argv)
{
    gen g = { NULL, 0, 0 };
    keep dyn_data = { 0 }, dyn_empty = { 0 }, fixed_empty = { 0 }, unclean = { 0 }, leaf_full = { 0 };
    keep depth2 = { 0 };

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s OUTDIR [TRACEDIR]\n", argv[0]);
        return 2;
    }
    g.outdir = argv[1];
    if (mkdir(g.outdir, 0777) != 0 && errno != EEXIST)
        die("mkdir %s: %s", g.outdir, strerror(errno));

    make_images(&g, &dyn_data, &dyn_empty, &fixed_empty, &unclean, &leaf_full, &depth2);
    make_probe_extras(&g, &dyn_empty);
    {
        const keep images[] = { dyn_empty, dyn_data, fixed_empty, unclean, depth2, leaf_full };
        static const char *const names[] = { "dyn-empty", "dyn-data", "fixed-empty", "dyn-unclean",
                                             "depth2-even", "leaf-full" };
        make_scripts(&g, images, names, 6);
    }
    emit(&g, "fuzz_trace", "seed-small.trace", trace_small, sizeof(trace_small) - 1);
    emit(&g, "fuzz_trace", "seed-example.trace", trace_example, sizeof(trace_example) - 1);
    if (argc == 3)
        copy_traces(&g, argv[2]);

    free(dyn_data.img);
    free(dyn_empty.img);
    free(fixed_empty.img);
    free(unclean.img);
    free(leaf_full.img);
    free(depth2.img);
    printf("fuzz_mkseeds: %u files, %llu bytes in %s\n", g.files, (unsigned long long)g.bytes, g.outdir);
    return 0;
}
