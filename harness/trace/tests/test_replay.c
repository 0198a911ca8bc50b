/*
 * harness/trace/tests/test_replay.c - the replay engine against a tiny
 * in-test cache backend (spec/trace-format.md sections 6 and 7).
 *
 * The backend ("tb") is a small, correct cache: a 4 KiB-block cache whose
 * data lives in the host file at 4096 + virtual offset, moved with
 * ReadUser/WriteUser, with an in-memory valid-block bitmap (so it forgets
 * everything on close: allowed).  It serves at most 64 KiB per call, so
 * VD-style loops really loop.  g_mode turns it into a faulty variant: wrong
 * data at one offset, zero-length answers, overruns, host misuse, leaked
 * storage, ignored deletes, misses that move data, and a forgetful variant
 * that never hits.  Each test states the verdict and checks the message
 * names the call, the record and, for data, the differing offset.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../tests/check.h"
#include "../replay.h"

/* ---- the in-test backend --------------------------------------------------- */

enum tb_mode {
    TB_GOOD = 0, TB_WRONG, TB_FORGET, TB_ZERO_READ, TB_ZERO_WRITE, TB_OVERRUN, TB_MISS_ZERO, TB_MISUSE,
    TB_LEAK, TB_NODELETE, TB_MISS_MOVES, TB_SHORT_MOVE,
    TB_DECLINE,       /* a write of more than a block keeps its first block, reports the rest processed */
    TB_DECLINE_STALE, /* the same, but the declined blocks keep serving what they held: a lie */
    TB_DECLINE_SHORT, /* reports half of a multi-block write processed and takes one block: WRITE-1 */
    TB_SECTOR         /* refuses unaligned reads and writes with VERR_INVALID_PARAMETER */
};
static enum tb_mode g_mode;

#define TB_BS      4096u
#define TB_HDR     4096u
#define TB_MAX     (64u * 1024u)
#define TB_WRONG_AT 0x1234u /* TB_WRONG corrupts the byte at this virtual offset */

typedef struct tb {
    PVDINTERFACEIOINT io;
    PVDINTERFACEERROR err;
    PVDIOSTORAGE      st;
    char             *name;
    uint64_t          size, nblocks;
    unsigned          open_flags, image_flags;
    RTUUID            uuid, mod;
    char              comment[256];
    uint8_t          *valid;
} tb;

static const uint8_t tb_magic[8] = { 'T', 'B', 'C', 'A', 'C', 'H', 'E', '1' };

static bool tb_valid(const tb *b, uint64_t blk)
{
    return blk < b->nblocks && (b->valid[blk / 8] >> (blk % 8)) & 1;
}

static void tb_set_valid(tb *b, uint64_t blk, bool v)
{
    if (blk >= b->nblocks)
        return;
    if (v)
        b->valid[blk / 8] |= (uint8_t)(1u << (blk % 8));
    else
        b->valid[blk / 8] &= (uint8_t)~(1u << (blk % 8));
}

static void tb_free(tb *b)
{
    free(b->valid);
    free(b->name);
    free(b);
}

static int tb_probe(const char *name, PVDINTERFACE disk, PVDINTERFACE image)
{
    PVDINTERFACEIOINT io = vdc_if_ioint(image);
    PVDIOSTORAGE st;
    uint8_t hdr[16];
    (void)disk;
    if (io == NULL)
        return VERR_INVALID_PARAMETER;
    int rc = io->pfnOpen(io->Core.pvUser, name, RTFILE_O_READ | RTFILE_O_OPEN | RTFILE_O_DENY_NONE, &st);
    if (RT_FAILURE(rc))
        return rc;
    rc = io->pfnReadMeta(io->Core.pvUser, st, 0, hdr, sizeof hdr, NULL, NULL, NULL, NULL);
    io->pfnClose(io->Core.pvUser, st);
    if (rc == VERR_EOF || (RT_SUCCESS(rc) && memcmp(hdr, tb_magic, 8) != 0))
        return VERR_VD_GEN_INVALID_HEADER;
    return rc;
}

static int tb_setup(tb *b, const char *name, PVDINTERFACE disk, PVDINTERFACE image)
{
    b->io = vdc_if_ioint(image);
    b->err = vdc_if_error(disk);
    b->name = strdup(name);
    if (b->io == NULL || b->name == NULL)
        return VERR_NO_MEMORY;
    return VINF_SUCCESS;
}

static int tb_alloc_map(tb *b)
{
    b->nblocks = (b->size + TB_BS - 1) / TB_BS;
    b->valid = calloc(1, (size_t)(b->nblocks / 8 + 1));
    return b->valid != NULL ? VINF_SUCCESS : VERR_NO_MEMORY;
}

static int tb_open(const char *name, unsigned flags, PVDINTERFACE disk, PVDINTERFACE image, void **out)
{
    tb *b = calloc(1, sizeof *b);
    uint8_t hdr[16];
    int rc;
    if (b == NULL)
        return VERR_NO_MEMORY;
    if ((rc = tb_setup(b, name, disk, image)) != VINF_SUCCESS)
        goto out_free;
    rc = b->io->pfnOpen(b->io->Core.pvUser, name, vdc_open_flags_to_file(flags, false), &b->st);
    if (RT_FAILURE(rc))
        goto out_free;
    rc = b->io->pfnReadMeta(b->io->Core.pvUser, b->st, 0, hdr, sizeof hdr, NULL, NULL, NULL, NULL);
    if (rc == VERR_EOF || (RT_SUCCESS(rc) && memcmp(hdr, tb_magic, 8) != 0))
        rc = VERR_VD_GEN_INVALID_HEADER;
    if (RT_FAILURE(rc))
        goto out_close;
    for (unsigned i = 0; i < 8; i++)
        b->size |= (uint64_t)hdr[8 + i] << (8 * i);
    if (b->size > (UINT64_C(1) << 40)) {
        rc = VERR_VD_IMAGE_CORRUPTED;
        goto out_close;
    }
    if ((rc = tb_alloc_map(b)) != VINF_SUCCESS)
        goto out_close;
    b->open_flags = flags;
    *out = b;
    return VINF_SUCCESS;
out_close:
    b->io->pfnClose(b->io->Core.pvUser, b->st);
out_free:
    tb_free(b);
    return rc;
}

/* A backend that declares every capacity beyond its limits. */
static int tb_create_refuse_all(const char *name, uint64_t size, unsigned image_flags, const char *comment,
                                PCRTUUID uuid, unsigned flags, unsigned pct_start, unsigned pct_span,
                                PVDINTERFACE disk, PVDINTERFACE image, PVDINTERFACE op, void **out)
{
    (void)name; (void)size; (void)image_flags; (void)comment; (void)uuid; (void)flags;
    (void)pct_start; (void)pct_span; (void)disk; (void)image; (void)op;
    *out = NULL;
    return VERR_VD_INVALID_SIZE;
}

static int tb_create(const char *name, uint64_t size, unsigned image_flags, const char *comment, PCRTUUID uuid,
                     unsigned flags, unsigned pct_start, unsigned pct_span, PVDINTERFACE disk, PVDINTERFACE image,
                     PVDINTERFACE op, void **out)
{
    tb *b = calloc(1, sizeof *b);
    uint8_t hdr[16];
    int rc;
    (void)pct_start; (void)pct_span; (void)op;
    if (b == NULL)
        return VERR_NO_MEMORY;
    if (size == 0 || size > (UINT64_C(1) << 40)) {
        rc = VERR_VD_INVALID_SIZE;
        goto out_free;
    }
    if ((rc = tb_setup(b, name, disk, image)) != VINF_SUCCESS)
        goto out_free;
    rc = b->io->pfnOpen(b->io->Core.pvUser, name, vdc_open_flags_to_file(flags, true), &b->st);
    if (RT_FAILURE(rc))
        goto out_free;
    memcpy(hdr, tb_magic, 8);
    for (unsigned i = 0; i < 8; i++)
        hdr[8 + i] = (uint8_t)(size >> (8 * i));
    rc = b->io->pfnWriteMeta(b->io->Core.pvUser, b->st, 0, hdr, sizeof hdr, NULL, NULL, NULL);
    if (RT_FAILURE(rc))
        goto out_close;
    b->size = size;
    if ((rc = tb_alloc_map(b)) != VINF_SUCCESS)
        goto out_close;
    b->image_flags = image_flags;
    b->open_flags = flags;
    if (uuid != NULL)
        b->uuid = *uuid;
    if (comment != NULL)
        snprintf(b->comment, sizeof b->comment, "%s", comment);
    *out = b;
    return VINF_SUCCESS;
out_close:
    b->io->pfnClose(b->io->Core.pvUser, b->st);
    b->io->pfnDelete(b->io->Core.pvUser, name);
out_free:
    tb_free(b);
    return rc;
}

static int tb_close(void *bd, bool del)
{
    tb *b = bd;
    int rc = VINF_SUCCESS;
    if (g_mode != TB_LEAK)
        rc = b->io->pfnClose(b->io->Core.pvUser, b->st);
    if (del && g_mode != TB_NODELETE && RT_SUCCESS(rc))
        rc = b->io->pfnDelete(b->io->Core.pvUser, b->name);
    tb_free(b);
    return rc;
}

static int tb_read(void *bd, uint64_t off, size_t cb, PVDIOCTX ctx, size_t *pcb)
{
    tb *b = bd;
    size_t limit = cb < TB_MAX ? cb : TB_MAX, n = 0;
    uint64_t pos = off;
    bool v = tb_valid(b, off / TB_BS) && g_mode != TB_FORGET;

    if (g_mode == TB_SECTOR && (off % 512 != 0 || cb % 512 != 0))
        return VERR_INVALID_PARAMETER;
    switch (g_mode) {
    case TB_ZERO_READ: *pcb = 0; return VINF_SUCCESS;
    case TB_OVERRUN: *pcb = cb + 1; return VERR_VD_BLOCK_FREE;
    case TB_MISS_ZERO: *pcb = 0; return VERR_VD_BLOCK_FREE;
    case TB_MISS_MOVES: b->io->pfnIoCtxSet(b->io->Core.pvUser, ctx, 0, 1); *pcb = cb; return VERR_VD_BLOCK_FREE;
    default: break;
    }
    while (n < limit) {
        uint64_t blk = pos / TB_BS;
        if (tb_valid(b, blk) != v && g_mode != TB_FORGET)
            break;
        size_t take = TB_BS - (size_t)(pos % TB_BS);
        if (take > limit - n)
            take = limit - n;
        n += take;
        pos += take;
        if (blk >= b->nblocks)
            break;
    }
    if (n == 0)
        n = limit;
    if (!v) {
        *pcb = n;
        return VERR_VD_BLOCK_FREE;
    }
    if (g_mode == TB_WRONG && off <= TB_WRONG_AT && TB_WRONG_AT < off + n) {
        uint8_t *tmp = malloc(n);
        if (tmp == NULL)
            return VERR_NO_MEMORY;
        int rc = b->io->pfnReadMeta(b->io->Core.pvUser, b->st, TB_HDR + off, tmp, n, NULL, NULL, NULL, NULL);
        if (RT_SUCCESS(rc)) {
            tmp[TB_WRONG_AT - off] ^= 0x40;
            b->io->pfnIoCtxCopyTo(b->io->Core.pvUser, ctx, tmp, n);
            *pcb = n;
        }
        free(tmp);
        return rc;
    }
    int rc = b->io->pfnReadUser(b->io->Core.pvUser, b->st, TB_HDR + off, ctx, g_mode == TB_SHORT_MOVE ? n - 1 : n);
    if (RT_SUCCESS(rc))
        *pcb = n;
    return rc;
}

static int tb_write(void *bd, uint64_t off, size_t cb, PVDIOCTX ctx, size_t *pcb)
{
    tb *b = bd;
    size_t limit = cb < TB_MAX ? cb : TB_MAX, done = 0;
    uint8_t skip[TB_BS];

    if (g_mode == TB_ZERO_WRITE) {
        *pcb = 0;
        return VINF_SUCCESS;
    }
    if (g_mode == TB_SECTOR && (off % 512 != 0 || cb % 512 != 0))
        return VERR_INVALID_PARAMETER;
    bool declines = (g_mode == TB_DECLINE || g_mode == TB_DECLINE_STALE || g_mode == TB_DECLINE_SHORT) && cb > TB_BS;
    if (declines)
        limit = TB_BS - (size_t)(off % TB_BS); /* keeps (at most) the first block */
    while (done < limit) {
        uint64_t pos = off + done, blk = pos / TB_BS;
        size_t take = TB_BS - (size_t)(pos % TB_BS);
        if (take > limit - done)
            take = limit - done;
        if (g_mode != TB_FORGET && blk < b->nblocks && (take == TB_BS || tb_valid(b, blk))) {
            int rc = b->io->pfnWriteUser(b->io->Core.pvUser, b->st, TB_HDR + pos, ctx, take, NULL, NULL);
            if (RT_FAILURE(rc))
                return rc;
            tb_set_valid(b, blk, true);
        } else {
            b->io->pfnIoCtxCopyFrom(b->io->Core.pvUser, ctx, skip, take); /* not cacheable: consume */
        }
        done += take;
    }
    *pcb = done;
    if (declines && g_mode == TB_DECLINE_SHORT)
        *pcb = cb / 2; /* neither what it took nor the whole: misplaces data */
    else if (declines) {
        *pcb = cb; /* the rest declined: forgotten (or, STALE, left as it was) */
        for (uint64_t blk = (off + done) / TB_BS; g_mode == TB_DECLINE && blk * TB_BS < off + cb; blk++)
            tb_set_valid(b, blk, false);
    }
    return VINF_SUCCESS;
}

static int tb_flush(void *bd, PVDIOCTX ctx)
{
    tb *b = bd;
    (void)ctx;
    return b->io->pfnFlush(b->io->Core.pvUser, g_mode == TB_MISUSE ? NULL : b->st, NULL, NULL, NULL);
}

static int tb_discard(void *bd, PVDIOCTX ctx, uint64_t off, size_t cb, size_t *pre, size_t *post, size_t *disc,
                      void **bm, unsigned flags)
{
    tb *b = bd;
    (void)ctx; (void)flags;
    for (uint64_t blk = (off + TB_BS - 1) / TB_BS; (blk + 1) * TB_BS <= off + cb; blk++)
        tb_set_valid(b, blk, false);
    *pre = 0;
    *post = 0;
    *disc = cb;
    *bm = NULL;
    return VINF_SUCCESS;
}

static unsigned tb_get_version(void *bd) { (void)bd; return 1; }
static uint64_t tb_get_size(void *bd) { return ((tb *)bd)->size; }
static uint64_t tb_get_file_size(void *bd)
{
    tb *b = bd;
    uint64_t cb = 0;
    b->io->pfnGetSize(b->io->Core.pvUser, b->st, &cb);
    return cb;
}
static unsigned tb_get_image_flags(void *bd) { return ((tb *)bd)->image_flags; }
static unsigned tb_get_open_flags(void *bd) { return ((tb *)bd)->open_flags; }
static int tb_set_open_flags(void *bd, unsigned f)
{
    if (f & ~VD_OPEN_FLAGS_MASK)
        return VERR_INVALID_PARAMETER;
    ((tb *)bd)->open_flags = f;
    return VINF_SUCCESS;
}
static int tb_get_comment(void *bd, char *s, size_t cb)
{
    tb *b = bd;
    size_t n = strlen(b->comment);
    if (n + 1 > cb)
        return VERR_BUFFER_OVERFLOW;
    memcpy(s, b->comment, n + 1);
    return VINF_SUCCESS;
}
static int tb_set_comment(void *bd, const char *s)
{
    snprintf(((tb *)bd)->comment, sizeof ((tb *)bd)->comment, "%s", s != NULL ? s : "");
    return VINF_SUCCESS;
}
static int tb_get_uuid(void *bd, PRTUUID u) { *u = ((tb *)bd)->uuid; return VINF_SUCCESS; }
static int tb_set_uuid(void *bd, PCRTUUID u)
{
    if (u == NULL)
        return VERR_INVALID_POINTER;
    ((tb *)bd)->uuid = *u;
    return VINF_SUCCESS;
}
static int tb_get_mod(void *bd, PRTUUID u) { *u = ((tb *)bd)->mod; return VINF_SUCCESS; }
static int tb_set_mod(void *bd, PCRTUUID u)
{
    if (u == NULL)
        return VERR_INVALID_POINTER;
    ((tb *)bd)->mod = *u;
    return VINF_SUCCESS;
}

static void tb_msg(tb *b, const char *fmt, ...)
{
    va_list ap;
    if (b->err == NULL || b->err->pfnMessage == NULL)
        return;
    va_start(ap, fmt);
    b->err->pfnMessage(b->err->Core.pvUser, fmt, ap);
    va_end(ap);
}

static void tb_dump(void *bd)
{
    tb *b = bd;
    tb_msg(b, "tb cache %s: %llu bytes, %llu blocks\n", b->name, (unsigned long long)b->size,
           (unsigned long long)b->nblocks);
}

static int tb_compose(PVDINTERFACE cfg, char **out)
{
    (void)cfg;
    *out = NULL;
    return VINF_SUCCESS;
}

static const char *const tb_ext[] = { "tbc", NULL };

static const VDCACHEBACKEND tb_backend = {
    VD_CACHEBACKEND_VERSION, "tb", VD_CAP_FILE | VD_CAP_CREATE_DYNAMIC | VD_CAP_UUID | VD_CAP_DISCARD, tb_ext, NULL,
    tb_probe, tb_open, tb_create, tb_close, tb_read, tb_write, tb_flush, tb_discard, tb_get_version, tb_get_size,
    tb_get_file_size, tb_get_image_flags, tb_get_open_flags, tb_set_open_flags, tb_get_comment, tb_set_comment,
    tb_get_uuid, tb_set_uuid, tb_get_mod, tb_set_mod, tb_dump, tb_compose, tb_compose, VD_CACHEBACKEND_VERSION,
};

/* ---- helpers ------------------------------------------------------------ */

static vdc_trace *parse(const char *text)
{
    char err[512];
    vdc_trace *t = NULL;
    if (vdc_trace_parse(text, strlen(text), "test.trace", &t, err, sizeof err) != VINF_SUCCESS)
        fprintf(stderr, "  parse: %s\n", err);
    return t;
}

/* Replays text with mode on the memory fs (or dir); returns the outcome. */
static vdc_outcome run(const char *text, enum tb_mode mode, const VDCACHEBACKEND *be, const char *dir, bool strict,
                       vdc_replay_result *r)
{
    vdc_trace *t = parse(text);
    vdc_replay_opts o;
    if (t == NULL)
        return (vdc_outcome)-1;
    memset(&o, 0, sizeof o);
    o.backend = be != NULL ? be : &tb_backend;
    o.scratch_dir = dir;
    o.strict = strict;
    g_mode = mode;
    int rc = vdc_replay(t, &o, r);
    g_mode = TB_GOOD;
    vdc_trace_free(t);
    if (rc != VINF_SUCCESS)
        fprintf(stderr, "  vdc_replay returned %d\n", rc);
    return r->outcome;
}

static bool has(const vdc_replay_result *r, const char *s)
{
    if (strstr(r->message, s) != NULL)
        return true;
    fprintf(stderr, "  message lacks \"%s\":\n%s\n", s, r->message);
    return false;
}

#define CREATE "vdcc-trace 1\ncreate c0 file=c0.tbc size=16M -> OK\n"

static const char basic[] =
    "vdcc-trace 1\n"
    "name basic\n"
    "requires CREATE_DYNAMIC\n"
    "file junk.bin len=4K data=pattern:3\n"
    "probe junk.bin -> VERR_VD_GEN_INVALID_HEADER clause=PROBE-1\n"
    "create c0 file=c0.tbc size=16M comment=\"hello\" uuid=$u -> OK\n"
    "probe c0.tbc -> OK\n"
    "get-uuid c0 -> OK uuid=$u\n"
    "get-comment c0 -> OK comment=\"hello\"\n"
    "get-comment c0 buf=3 -> VERR_BUFFER_OVERFLOW\n"
    "set-mod-uuid c0 uuid=$m -> OK\n"
    "get-mod-uuid c0 -> OK uuid=$m\n"
    "write c0 off=0 len=64K data=pattern:1 -> OK count=64K\n"
    "read c0 off=0 len=4K -> hit data=pattern:1 count=4K\n"
    "read c0 off=100 len=9000 -> hit|miss data=pattern:1 should=hit\n"
    "vdwrite c0 off=1M len=200K data=pattern:2@1M+100K,zero@1124K+100K\n"
    "vdread c0 off=1M len=200K -> hit data=pattern:2@1M+100K,zero@1124K+100K\n"
    "read c0 off=8M len=4K -> miss>=4K\n"
    "flush c0 -> OK\n"
    "get-size c0 -> value=16M\n"
    "get-file-size c0 -> value>=64K\n"
    "get-version c0 -> value=1\n"
    "get-image-flags c0 -> value=NONE\n"
    "set-open-flags c0 flags=INFO -> OK\n"
    "get-open-flags c0 -> value=INFO\n"
    "dump c0 -> printed=yes\n"
    "discard c0 off=0 len=8K -> OK discarded=8K pre=0\n"
    "read c0 off=0 len=8K -> miss\n"
    "compose-location -> OK string=null\n"
    "close c0 -> OK\n"
    "exists c0.tbc -> value>=64K\n"
    "open c0 -> OK\n"
    "read c0 off=64K len=4K -> hit|miss data=pattern:1 should=hit\n"
    "close c0 delete -> OK\n"
    "gone c0.tbc\n";

/* ---- tests ---------------------------------------------------------------- */

static void test_basic_passes(void)
{
    vdc_replay_result r;
    vdc_outcome oc = run(basic, TB_GOOD, NULL, NULL, false, &r);
    if (oc != VDC_PASS)
        fprintf(stderr, "%s\n", r.message);
    CHECK_EQ(oc, VDC_PASS);
    CHECK_EQ(r.calls_run, 32);
    CHECK_EQ(r.fail_call, 0);
    CHECK_EQ(r.misuse, 0);
    /* reads inside 4 KiB blocks that were written whole are served; the
     * reopened cache has forgotten everything: one SHOULD warning */
    CHECK_EQ(r.warnings, 1);
    CHECK(has(&r, "warning: untagged SHOULD: call 30 (line 33): should: hit, actual VERR_VD_BLOCK_FREE (-3207)"));
}

static void test_basic_passes_on_disk(void)
{
    char dir[] = "/tmp/vdcc-replay-XXXXXX";
    vdc_replay_result r;
    REQUIRE(mkdtemp(dir) != NULL);
    CHECK_EQ(run(basic, TB_GOOD, NULL, dir, false, &r), VDC_PASS);
    /* what is left: junk.bin only (c0.tbc was deleted by the backend) */
    char path[256];
    snprintf(path, sizeof path, "%s/junk.bin", dir);
    CHECK(access(path, F_OK) == 0);
    snprintf(path, sizeof path, "%s/c0.tbc", dir);
    CHECK(access(path, F_OK) != 0);
    snprintf(path, sizeof path, "%s/junk.bin", dir);
    unlink(path);
    CHECK(rmdir(dir) == 0);
    /* a scratch directory that does not exist */
    vdc_trace *t = parse(basic);
    vdc_replay_opts o = { &tb_backend, "/nonexistent/vdcc", false, NULL, 0, NULL };
    REQUIRE(t != NULL);
    CHECK_EQ(vdc_replay(t, &o, &r), VERR_PATH_NOT_FOUND);
    CHECK_EQ(r.outcome, VDC_ERROR);
    vdc_trace_free(t);
}

static void test_wrong_data_fails_precisely(void)
{
    vdc_replay_result r;
    CHECK_EQ(run(basic, TB_WRONG, NULL, NULL, false, &r), VDC_FAIL);
    /* call 11 reads [0, 4K), which does not reach 0x1234 = 4660; the first
     * divergence is the second read, call 12, of [100, 9100) */
    CHECK_EQ(r.fail_call, 12);
    CHECK_EQ(r.fail_line, 15);
    CHECK(has(&r, "call 12 (line 15): read c0 off=100 len=9000"));
    CHECK(has(&r, "virtual offset 0x1234"));
    CHECK(has(&r, "byte 4560 of the"));
    CHECK(has(&r, "expected data: pattern:1"));
    char want[64];
    snprintf(want, sizeof want, "[%02x]", vdc_pattern_byte(1, 0x1234));
    CHECK(has(&r, want));
    snprintf(want, sizeof want, "[%02x]", vdc_pattern_byte(1, 0x1234) ^ 0x40);
    CHECK(has(&r, want));
    CHECK(has(&r, "previous calls:"));
    CHECK(has(&r, "call 11 (line 14): read c0 off=0 len=4K"));
    CHECK(has(&r, "call 7 (line 10)")); /* five calls of context */
    CHECK(strstr(r.message, "call 6 (line 9)") == NULL);
}

static void test_wrong_data_in_loop(void)
{
    static const char tr[] = CREATE
        "vdwrite c0 off=0 len=256K data=pattern:9\n"
        "vdread c0 off=0 len=256K -> hit|miss data=pattern:9\n";
    vdc_replay_result r;
    CHECK_EQ(run(tr, TB_WRONG, NULL, NULL, false, &r), VDC_FAIL);
    CHECK_EQ(r.fail_call, 3);
    CHECK(has(&r, "virtual offset 0x1234"));
    CHECK(has(&r, "piece 1 of the loop"));
    CHECK_EQ(run(tr, TB_GOOD, NULL, NULL, false, &r), VDC_PASS);
}

static void test_zero_length_answers(void)
{
    static const char rd[] = CREATE "read c0 off=0 len=4K\n";
    static const char wr[] = CREATE "write c0 off=0 len=4K data=zero\n";
    static const char vw[] = CREATE "vdwrite c0 off=0 len=4K data=zero\n";
    vdc_replay_result r;
    CHECK_EQ(run(rd, TB_ZERO_READ, NULL, NULL, false, &r), VDC_FAIL);
    CHECK(has(&r, "VD would loop forever"));
    CHECK(has(&r, "*pcbActuallyRead = 0"));
    CHECK_EQ(r.fail_call, 2);
    CHECK_EQ(run(rd, TB_MISS_ZERO, NULL, NULL, false, &r), VDC_FAIL);
    CHECK(has(&r, "VERR_VD_BLOCK_FREE (-3207) with *pcbActuallyRead = 0: VD would loop forever"));
    CHECK_EQ(run(wr, TB_ZERO_WRITE, NULL, NULL, false, &r), VDC_FAIL);
    CHECK(has(&r, "*pcbWriteProcess = 0: VD would loop forever"));
    CHECK_EQ(run(vw, TB_ZERO_WRITE, NULL, NULL, false, &r), VDC_FAIL);
    CHECK(has(&r, "VD would loop forever"));
    /* and the good backend passes all of them */
    CHECK_EQ(run(rd, TB_GOOD, NULL, NULL, false, &r), VDC_PASS);
    CHECK_EQ(run(wr, TB_GOOD, NULL, NULL, false, &r), VDC_PASS);
}

static void test_overrun_and_moves(void)
{
    static const char rd[] = CREATE "read c0 off=0 len=4K\n";
    static const char hit[] = CREATE "write c0 off=0 len=4K data=zero\nread c0 off=0 len=4K\n";
    vdc_replay_result r;
    CHECK_EQ(run(rd, TB_OVERRUN, NULL, NULL, false, &r), VDC_FAIL);
    CHECK(has(&r, "= 4097 for a request of 4096 bytes: VD would overrun"));
    CHECK_EQ(run(rd, TB_MISS_MOVES, NULL, NULL, false, &r), VDC_FAIL);
    CHECK(has(&r, "reported a miss (VERR_VD_BLOCK_FREE) but moved 1 bytes"));
    CHECK_EQ(run(hit, TB_SHORT_MOVE, NULL, NULL, false, &r), VDC_FAIL);
    CHECK(has(&r, "reported 4096 bytes but moved 4095"));
}

static void test_data_or_miss_both_ways(void)
{
    static const char either[] = CREATE
        "write c0 off=0 len=8K data=pattern:4\n"
        "read c0 off=0 len=8K -> hit|miss data=pattern:4\n"
        "vdread c0 off=0 len=8K -> hit|miss data=pattern:4\n";
    static const char hit_only[] = CREATE
        "write c0 off=0 len=8K data=pattern:4\n"
        "read c0 off=0 len=8K -> hit data=pattern:4\n";
    static const char long_miss[] = CREATE "read c0 off=0 len=128K -> miss>=128K\n";
    vdc_replay_result r;
    CHECK_EQ(run(either, TB_GOOD, NULL, NULL, false, &r), VDC_PASS);   /* served */
    CHECK_EQ(run(either, TB_FORGET, NULL, NULL, false, &r), VDC_PASS); /* forgotten */
    CHECK_EQ(run(hit_only, TB_GOOD, NULL, NULL, false, &r), VDC_PASS);
    CHECK_EQ(run(hit_only, TB_FORGET, NULL, NULL, false, &r), VDC_FAIL);
    CHECK(has(&r, "expected: hit\n"));
    CHECK(has(&r, "actual:   VERR_VD_BLOCK_FREE (-3207), a miss of 8192 bytes"));
    /* tb misses at most 64 KiB per call */
    CHECK_EQ(run(long_miss, TB_GOOD, NULL, NULL, false, &r), VDC_FAIL);
    CHECK(has(&r, "a miss of 65536 bytes"));
}

static void test_vdread_fill(void)
{
    static const char tr[] = CREATE
        "vdread c0 off=4K len=200K fill -> hit|miss data=pattern:6\n"
        "vdread c0 off=4K len=200K -> hit data=pattern:6\n"
        "read c0 off=0 len=4K -> miss\n";
    vdc_replay_result r;
    CHECK_EQ(run(tr, TB_GOOD, NULL, NULL, false, &r), VDC_PASS);
    CHECK_EQ(r.warnings, 0);
    /* without fill nothing is cached, so "hit" fails */
    static const char nofill[] = CREATE
        "vdread c0 off=4K len=200K -> hit|miss data=pattern:6\n"
        "vdread c0 off=4K len=200K -> hit data=pattern:6\n";
    CHECK_EQ(run(nofill, TB_GOOD, NULL, NULL, false, &r), VDC_FAIL);
    CHECK(has(&r, "piece 1 at offset 4096: VERR_VD_BLOCK_FREE"));
}

static void test_delete_and_leaks(void)
{
    static const char del[] = CREATE "close c0 delete\n";
    static const char plain[] = CREATE "close c0\n";
    vdc_replay_result r;
    CHECK_EQ(run(del, TB_GOOD, NULL, NULL, false, &r), VDC_PASS);
    CHECK_EQ(run(del, TB_NODELETE, NULL, NULL, false, &r), VDC_FAIL);
    CHECK(has(&r, "fDelete=true succeeded, but c0.tbc still exists"));
    CHECK_EQ(run(plain, TB_LEAK, NULL, NULL, false, &r), VDC_FAIL);
    CHECK(has(&r, "after the last call (2 calls)"));
    CHECK(has(&r, "left 1 storage handle open"));
    /* The leak names the call that opened the storage, and its clause. */
    CHECK(has(&r, "(HOST-3): opened by call 1 (line 2: create c0 file=c0.tbc size=16M "));
    CHECK(has(&r, "-> OK), clause HOST-3"));
    CHECK_EQ(r.fail_call, 0);
    static const char tagged[] = "vdcc-trace 1\ncreate c0 file=c0.tbc size=16M clause=CREATE-1,OPEN-1 -> OK\nclose c0\n";
    CHECK_EQ(run(tagged, TB_LEAK, NULL, NULL, false, &r), VDC_FAIL);
    CHECK(has(&r, "), clause CREATE-1,OPEN-1"));
}

static void test_misuse_fails(void)
{
    static const char tr[] = CREATE "flush c0 -> any\n";
    vdc_replay_result r;
    CHECK_EQ(run(tr, TB_MISUSE, NULL, NULL, false, &r), VDC_FAIL);
    CHECK_EQ(r.fail_call, 2);
    CHECK(r.misuse >= 1);
    CHECK(has(&r, "misused the host during pfnFlush"));
    CHECK(has(&r, "misuse: "));
    /* o->report gets the verdict, the message and the host log */
    vdc_trace *t = parse(tr);
    FILE *f = tmpfile();
    char text[4096];
    REQUIRE(t != NULL && f != NULL);
    vdc_replay_opts o = { &tb_backend, NULL, false, f, 0, NULL };
    g_mode = TB_MISUSE;
    CHECK_EQ(vdc_replay(t, &o, &r), VINF_SUCCESS);
    g_mode = TB_GOOD;
    rewind(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    CHECK(strstr(text, "test.trace: FAIL\ncall 2 (line 3): flush c0 -> any") != NULL);
    CHECK(strstr(text, "host log:\nmisuse: pfnFlush") != NULL);
    fclose(f);
    vdc_trace_free(t);
}

static void test_left_open_is_noted(void)
{
    static const char tr[] = CREATE "flush c0\n";
    vdc_replay_result r;
    CHECK_EQ(run(tr, TB_GOOD, NULL, NULL, false, &r), VDC_PASS);
    CHECK(has(&r, "left 1 handle open"));
}

static void test_skip_and_null_callbacks(void)
{
    VDCACHEBACKEND be = tb_backend;
    vdc_replay_result r;
    static const char disc[] = CREATE "discard c0 off=0 len=4K\n";
    static const char needs[] = "vdcc-trace 1\nrequires TCPNET DISCARD\nfile f len=1\n";
    be.pfnDiscard = NULL;
    CHECK_EQ(run(disc, TB_GOOD, &be, NULL, false, &r), VDC_SKIP);
    CHECK(has(&r, "no pfnDiscard"));
    CHECK_EQ(run(needs, TB_GOOD, NULL, NULL, false, &r), VDC_SKIP);
    CHECK(has(&r, "lacks capabilities the trace requires: TCPNET"));
    CHECK_EQ(r.calls_run, 0);
    be = tb_backend;
    be.pfnFlush = NULL;
    CHECK_EQ(run(CREATE "flush c0\n", TB_GOOD, &be, NULL, false, &r), VDC_FAIL);
    CHECK(has(&r, "pfnFlush is NULL"));
    /* A capacity the backend refuses (tb: above 1 TiB) is a declared limit:
     * SKIP, unless the trace tests the refusal itself. */
    static const char big[] = "vdcc-trace 1\ncreate c0 file=c.tb size=2T -> OK\nflush c0 -> OK\n";
    CHECK_EQ(run(big, TB_GOOD, NULL, NULL, false, &r), VDC_SKIP);
    CHECK(has(&r, "refused a capacity of 2199023255552 bytes with VERR_VD_INVALID_SIZE"));
    CHECK_EQ(run("vdcc-trace 1\ncreate c0 file=c.tb size=2T -> VERR_VD_INVALID_SIZE\n", TB_GOOD, NULL, NULL, false, &r),
             VDC_PASS);
    CHECK_EQ(run("vdcc-trace 1\ncreate c0 file=c.tb size=2T -> failure\n", TB_GOOD, NULL, NULL, false, &r), VDC_PASS);
    /* ... but a limit lies outside the capacities every cache takes
     * (CREATE-1: multiples of 64 KiB from 1 MiB to 1 GiB). */
    be = tb_backend;
    be.pfnCreate = tb_create_refuse_all;
    static const struct { const char *size; vdc_outcome want; } caps[] = {
        { "1M", VDC_FAIL }, { "1G", VDC_FAIL }, { "1088K", VDC_FAIL },
        { "1048064", VDC_SKIP }, { "1049088", VDC_SKIP }, { "1073807360", VDC_SKIP }, { "2T", VDC_SKIP },
    };
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        char tr[128];
        snprintf(tr, sizeof tr, "vdcc-trace 1\ncreate c0 file=c.tb size=%s -> OK\n", caps[i].size);
        CHECK_EQ(run(tr, TB_GOOD, &be, NULL, false, &r), caps[i].want);
        CHECK(caps[i].want != VDC_FAIL || has(&r, "CREATE-1: pfnCreate refused a capacity"));
    }
}

static void test_strict_mode(void)
{
    static const char tr[] = CREATE
        "write c0 off=0 len=4K data=zero -> OK seen=OK:4K\n"
        "read c0 off=0 len=4K -> hit|miss seen=VERR_VD_BLOCK_FREE:4K\n";
    static const char should[] = CREATE "read c0 off=0 len=4K -> hit|miss should=hit\n";
    vdc_replay_result r;
    CHECK_EQ(run(tr, TB_GOOD, NULL, NULL, false, &r), VDC_PASS);
    CHECK_EQ(run(tr, TB_GOOD, NULL, NULL, true, &r), VDC_FAIL);
    CHECK(has(&r, "strict: the recording saw VERR_VD_BLOCK_FREE (-3207)"));
    CHECK_EQ(r.fail_call, 3);
    CHECK_EQ(run(tr, TB_FORGET, NULL, NULL, true, &r), VDC_PASS);
    CHECK_EQ(run(should, TB_GOOD, NULL, NULL, false, &r), VDC_PASS);
    CHECK_EQ(r.warnings, 1);
    CHECK_EQ(run(should, TB_GOOD, NULL, NULL, true, &r), VDC_FAIL);
    CHECK(has(&r, "strict: a SHOULD expectation failed"));
}

static void test_expectation_mismatches(void)
{
    vdc_replay_result r;
    CHECK_EQ(run(CREATE "get-size c0 -> value=8M\n", TB_GOOD, NULL, NULL, false, &r), VDC_FAIL);
    CHECK(has(&r, "expected: pfnGetSize returns = 8388608\n  actual:   16777216"));
    CHECK_EQ(run(CREATE "get-uuid c0 -> uuid=nil\n", TB_GOOD, NULL, NULL, false, &r), VDC_FAIL);
    CHECK(has(&r, "expected UUID 00000000-0000-0000-0000-000000000000"));
    CHECK_EQ(run(CREATE "get-comment c0 -> comment=\"x\"\n", TB_GOOD, NULL, NULL, false, &r), VDC_FAIL);
    CHECK(has(&r, "expected comment: \"x\""));
    CHECK_EQ(run(CREATE "flush c0 -> VERR_DISK_FULL|VERR_EOF\n", TB_GOOD, NULL, NULL, false, &r), VDC_FAIL);
    CHECK(has(&r, "expected: VERR_DISK_FULL|VERR_EOF\n"));
    CHECK(has(&r, "actual:   VINF_SUCCESS (0)"));
    CHECK_EQ(run("vdcc-trace 1\nfile f len=1\nprobe f -> OK\n", TB_GOOD, NULL, NULL, false, &r), VDC_FAIL);
    CHECK(has(&r, "actual:   VERR_VD_GEN_INVALID_HEADER (-3220)"));
    CHECK_EQ(run("vdcc-trace 1\ngone f\nfile f len=1\ngone f\n", TB_GOOD, NULL, NULL, false, &r), VDC_FAIL);
    CHECK_EQ(r.fail_call, 3);
    CHECK(has(&r, "f still exists"));
    CHECK_EQ(run(CREATE "dump c0 -> printed=yes\n", TB_GOOD, NULL, NULL, false, &r), VDC_PASS);
}

/* spec/contract.md WRITE-1: a write that reports the whole request while
 * taking less declines the rest; only a shorter count with other bytes
 * taken misplaces data.  A declined range must miss afterwards. */
static void test_declined_writes(void)
{
    static const char tr[] = CREATE
        "write c0 off=8K len=4K data=pattern:1 -> OK\n"
        "write c0 off=4K len=16K data=pattern:2 -> OK count=16K\n"
        "read c0 off=4K len=4K -> hit|miss data=pattern:2\n"
        "vdread c0 off=8K len=4K -> hit|miss data=pattern:2\n"
        "vdwrite c0 off=64K len=64K data=pattern:3\n"
        "vdread c0 off=64K len=64K -> hit|miss data=pattern:3\n"
        "vdread c0 off=256K len=64K fill -> hit|miss data=pattern:4\n"
        "vdread c0 off=256K len=64K -> hit|miss data=pattern:4\n";
    vdc_replay_result r;
    CHECK_EQ(run(tr, TB_GOOD, NULL, NULL, false, &r), VDC_PASS);
    CHECK_EQ(run(tr, TB_DECLINE, NULL, NULL, false, &r), VDC_PASS);
    CHECK_EQ(run(tr, TB_DECLINE_STALE, NULL, NULL, false, &r), VDC_FAIL);
    CHECK(has(&r, "data differs at virtual offset 0x2000"));
    CHECK_EQ(run(tr, TB_DECLINE_SHORT, NULL, NULL, false, &r), VDC_FAIL);
    CHECK(has(&r, "reported 8192 bytes but moved 4096 through the I/O context"));
}

/* spec/contract.md "What VD never asks": refusing an unaligned request is a
 * quality warning, the record is skipped, and the reads after a refused
 * write do not compare its range; served bytes are still judged. */
static void test_refused_unaligned(void)
{
    static const char tr[] = CREATE
        "vdwrite c0 off=0 len=8K data=pattern:1\n"
        "vdwrite c0 off=100 len=1000 data=pattern:2 -> OK\n"
        "write c0 off=2000 len=7 data=pattern:3 -> OK count=7\n"
        "vdread c0 off=0 len=8K -> hit|miss data=pattern:1@0+100,pattern:2@100+1000,pattern:1@1100+900,"
        "pattern:3@2000+7,pattern:1@2007+6185\n"
        "read c0 off=10 len=5 -> hit|miss data=pattern:1\n"
        "vdread c0 off=4K len=4K -> hit|miss data=pattern:1\n";
    static const char lie[] = CREATE
        "vdwrite c0 off=0 len=8K data=pattern:1\n"
        "vdwrite c0 off=100 len=1000 data=pattern:2 -> OK\n"
        "vdread c0 off=4K len=4K -> hit|miss data=pattern:7\n";
    vdc_replay_result r;
    CHECK_EQ(run(tr, TB_SECTOR, NULL, NULL, false, &r), VDC_PASS);
    CHECK_EQ(r.warnings, 3);
    CHECK(has(&r, "refused an unaligned request (offset 100, 1000 bytes) with VERR_INVALID_PARAMETER"));
    /* an aligned hit outside the refused range is still compared */
    CHECK_EQ(run(lie, TB_SECTOR, NULL, NULL, false, &r), VDC_FAIL);
    CHECK(has(&r, "data differs at virtual offset 0x1000"));
    /* a backend that takes byte granularity is judged on every byte */
    CHECK_EQ(run(tr, TB_GOOD, NULL, NULL, false, &r), VDC_PASS);
    CHECK_EQ(r.warnings, 0);
}

/* spec/contract.md "Levels and verdicts": a record that names only SHOULD
 * clauses has no hard expectation; a MUST clause keeps it hard. */
static void test_should_only_records(void)
{
    vdc_replay_result r;
    CHECK_EQ(run(CREATE "get-size c0 -> value=8M clause=INFO-1\nget-version c0 -> value=9 clause=INFO-1\n", TB_GOOD,
                 NULL, NULL, false, &r), VDC_PASS);
    CHECK_EQ(r.warnings, 2);
    CHECK(has(&r, "expected: pfnGetSize returns = 8388608"));
    CHECK(has(&r, "every clause of the record is a SHOULD"));
    CHECK_EQ(run(CREATE "flush c0 -> VERR_DISK_FULL clause=FLUSH-2,FLUSH-1\n", TB_GOOD, NULL, NULL, false, &r),
             VDC_FAIL);
    CHECK_EQ(run(CREATE "flush c0 -> VERR_DISK_FULL clause=FLUSH-2\n", TB_GOOD, NULL, NULL, false, &r), VDC_PASS);
    CHECK_EQ(r.warnings, 1);
    CHECK_EQ(run(CREATE "get-size c0 -> value=8M clause=INFO-1\n", TB_GOOD, NULL, NULL, true, &r), VDC_FAIL);
    /* protocol checks stay failures on a SHOULD-only record */
    CHECK_EQ(run(CREATE "write c0 off=0 len=4K data=zero -> OK clause=WRITE-6\n", TB_ZERO_WRITE, NULL, NULL, false,
                 &r), VDC_FAIL);
    CHECK(has(&r, "VD would loop forever"));
}

static void test_failed_open_then_use_is_error(void)
{
    static const char tr[] = "vdcc-trace 1\nfile f len=16\nopen c0 file=f -> OK|failure\nflush c0\n";
    vdc_replay_result r;
    CHECK_EQ(run(tr, TB_GOOD, NULL, NULL, false, &r), VDC_ERROR);
    CHECK_EQ(r.fail_call, 3);
    CHECK(has(&r, "handle c0 is not open: its create/open at call 2 returned VERR_VD_GEN_INVALID_HEADER"));
}

static void test_progress_word(void)
{
    vdc_trace *t = parse(basic);
    volatile uint32_t progress = 0;
    vdc_replay_opts o = { &tb_backend, NULL, false, NULL, 2, &progress };
    vdc_replay_result r;
    REQUIRE(t != NULL);
    CHECK_EQ(vdc_replay(t, &o, &r), VINF_SUCCESS);
    CHECK_EQ(progress, vdc_trace_ncalls(t));
    vdc_trace_free(t);
    /* context_calls = 2 */
    t = parse(basic);
    REQUIRE(t != NULL);
    g_mode = TB_WRONG;
    CHECK_EQ(vdc_replay(t, &o, &r), VINF_SUCCESS);
    g_mode = TB_GOOD;
    CHECK_EQ(r.outcome, VDC_FAIL);
    CHECK_EQ(progress, r.fail_call);
    CHECK(has(&r, "call 11 (line 14)"));
    CHECK(strstr(r.message, "call 9 (line 12)") == NULL);
    vdc_trace_free(t);
    CHECK(strcmp(vdc_outcome_name(VDC_SKIP), "SKIP") == 0);
}

CHECK_MAIN(CHECK_CASE(test_basic_passes), CHECK_CASE(test_basic_passes_on_disk),
           CHECK_CASE(test_wrong_data_fails_precisely), CHECK_CASE(test_wrong_data_in_loop),
           CHECK_CASE(test_zero_length_answers), CHECK_CASE(test_overrun_and_moves),
           CHECK_CASE(test_data_or_miss_both_ways), CHECK_CASE(test_vdread_fill), CHECK_CASE(test_delete_and_leaks),
           CHECK_CASE(test_misuse_fails), CHECK_CASE(test_left_open_is_noted), CHECK_CASE(test_skip_and_null_callbacks),
           CHECK_CASE(test_strict_mode), CHECK_CASE(test_expectation_mismatches),
           CHECK_CASE(test_failed_open_then_use_is_error), CHECK_CASE(test_progress_word),
           CHECK_CASE(test_declined_writes), CHECK_CASE(test_refused_unaligned), CHECK_CASE(test_should_only_records))
