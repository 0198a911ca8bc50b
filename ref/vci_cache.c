/*
 * ref/vci_cache.c - lifecycle of a VCI cache: probe, open (with the
 * reinitialisation of unclean images), create, the flush protocol, close,
 * reopen with other flags, UUIDs and dump (spec/vci-format.md sections
 * 10-12).  Reads, writes and discards are in vci_data.c.
 * Contract and status codes: vci_cache.h.
 *
 * The flush protocol (section 10) in one place:
 *   hook_begin   - before the first write of an epoch: byte 16 := 1, flush.
 *   state_sync   - nodes, bitmap pages, block-map header, header (flag 1),
 *                  flush, byte 16 := 0, flush.  Read recency waiting in the
 *                  LRU list's ring is applied first when something is
 *                  written anyway, and always at close.
 */
#include "vci_cache_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>
#ifdef VDCC_MSAN
# include <sanitizer/msan_interface.h>
#endif

/* ---- reporting ------------------------------------------------------------ */

/* Reports rc through VD's ERROR interface.  A corruption is reported at
 * the source position of the check that fired (s->io.corrupt, when one
 * did), so that VD's error names it. */
__attribute__((format(printf, 3, 4)))
static int report(const vci_state *s, int rc, const char *fmt, ...)
{
    PVDINTERFACEERROR iferr = s->iferr;
    if (iferr == NULL || iferr->pfnError == NULL)
        return rc;
    const vci_corrupt *at = &s->io.corrupt;
    bool named = rc == VERR_VD_IMAGE_CORRUPTED && at->file != NULL;
    va_list va;
    va_start(va, fmt);
    iferr->pfnError(iferr->Core.pvUser, rc, named ? at->file : __FILE__, named ? at->line : __LINE__, __func__, fmt,
                    va);
    va_end(va);
    return rc;
}

__attribute__((format(printf, 2, 3)))
static void message(PVDINTERFACEERROR iferr, const char *fmt, ...)
{
    if (iferr == NULL || iferr->pfnMessage == NULL)
        return;
    va_list va;
    va_start(va, fmt);
    iferr->pfnMessage(iferr->Core.pvUser, fmt, va);
    va_end(va);
}

/* ---- configuration ----------------------------------------------------------- */

/* An unsigned decimal config value in [min, max], or def when absent. */
static int cfg_get(PVDINTERFACE ifs, const char *key, unsigned def, unsigned min, unsigned max,
                   unsigned *out)
{
    PVDINTERFACECONFIG cfg = vdc_if_config(ifs);
    *out = def;
    if (cfg == NULL || cfg->pfnQuerySize == NULL || cfg->pfnQuery == NULL)
        return VINF_SUCCESS;
    size_t cb = 0;
    int rc = cfg->pfnQuerySize(cfg->Core.pvUser, key, &cb);
    if (rc == VERR_CFGM_VALUE_NOT_FOUND)
        return VINF_SUCCESS;
    if (RT_FAILURE(rc) || cb < 2 || cb > 16)
        return VERR_VD_UNKNOWN_CFG_VALUES;
    char buf[17];
    rc = cfg->pfnQuery(cfg->Core.pvUser, key, buf, sizeof(buf));
    if (RT_FAILURE(rc))
        return VERR_VD_UNKNOWN_CFG_VALUES;
    buf[sizeof(buf) - 1] = '\0';
    unsigned long v = 0;
    size_t i = 0;
    for (; buf[i] != '\0'; i++) {
        if (buf[i] < '0' || buf[i] > '9' || v > 100000000ul)
            return VERR_VD_UNKNOWN_CFG_VALUES;
        v = v * 10 + (unsigned long)(buf[i] - '0');
    }
    if (i == 0 || v < min || v > max)
        return VERR_VD_UNKNOWN_CFG_VALUES;
    *out = (unsigned)v;
    return VINF_SUCCESS;
}

static int read_config(vci_cache *c)
{
    int rc = cfg_get(c->ifs_image, "NodeCacheSize", VCI_NODE_CACHE_DEFAULT, VCI_NODE_CACHE_MIN,
                     VCI_NODE_CACHE_MAX, &c->node_cache);
    if (RT_SUCCESS(rc))
        rc = cfg_get(c->ifs_image, "BitmapCacheSize", VCI_BM_CACHE_DEFAULT, VCI_BM_CACHE_MIN,
                     VCI_BM_CACHE_MAX, &c->bm_cache);
    return rc;
}

/* ---- the flush protocol -------------------------------------------------------- */

static int hook_begin(void *user)
{
    vci_state *s = user;
    if (s->readonly)
        return VERR_VD_IMAGE_READ_ONLY; /* defence only: every writer checks readonly first */
    const uint8_t one = 1;
    int rc = vci_io_write_meta_raw(&s->io, VCI_HDR_OFF_UNCLEAN, &one, 1);
    if (RT_SUCCESS(rc))
        rc = vci_io_flush(&s->io);
    if (RT_SUCCESS(rc)) {
        s->io.epoch = true;
        s->hdr.unclean = 1;
    }
    return rc;
}

static bool state_modified(const vci_state *s)
{
    return s->io.epoch || s->hdr_dirty || s->lru.dirty || s->tree.root_changed
        || (s->nc != NULL && vci_nodes_any_dirty(s->nc))
        || (s->al != NULL && vci_alloc_dirty(s->al));
}

/* Makes everything durable and the image clean (steps 1-4 of section 10).
 * Read hits not yet in the LRU list (vci_lru.h) are applied when something
 * is written anyway, or when `closing`; a flush after reads alone writes
 * nothing. */
static int state_sync(vci_state *s, bool closing)
{
    if (s->broken_rc != VINF_SUCCESS)
        return s->broken_rc;
    if (s->readonly || s->all_miss)
        return VINF_SUCCESS;
    if (vci_lru_reads_pending(&s->lru) && (closing || state_modified(s)))
        (void)vci_lru_apply_reads(&s->lru);
    if (!state_modified(s))
        return VINF_SUCCESS;
    int rc = vci_io_begin(&s->io);
    if (RT_SUCCESS(rc))
        rc = vci_nodes_flush(s->nc);
    if (RT_SUCCESS(rc))
        rc = vci_alloc_flush(s->al);
    if (RT_FAILURE(rc))
        return rc;

    uint8_t buf[VCI_HDR_SIZE];
    s->hdr.root = s->tree.root;
    s->hdr.lru = s->lru.enabled;
    s->hdr.lru_head = s->lru.enabled ? s->lru.head : VCI_LRU_NONE;
    s->hdr.lru_tail = s->lru.enabled ? s->lru.tail : VCI_LRU_NONE;
    s->hdr.unclean = 1;
    vci_header_encode(&s->hdr, buf);
    rc = vci_io_write_meta(&s->io, 0, buf, sizeof(buf));
    if (RT_SUCCESS(rc))
        rc = vci_io_flush(&s->io);
    if (RT_FAILURE(rc))
        return rc;

    /* From the moment the clean byte is issued, the flag on disk is unknown:
     * a failed write or flush may still have put the 0 there.  Close the
     * epoch first, so the next change sets the flag durably again (step 1)
     * instead of trusting a flag that may read "clean". */
    s->io.epoch = false;
    const uint8_t zero = 0;
    rc = vci_io_write_meta_raw(&s->io, VCI_HDR_OFF_UNCLEAN, &zero, 1);
    if (RT_SUCCESS(rc))
        rc = vci_io_flush(&s->io);
    if (RT_FAILURE(rc))
        return rc;
    s->hdr.unclean = 0;
    s->hdr_dirty = false;
    s->lru.dirty = false;
    s->tree.root_changed = false;
    return VINF_SUCCESS;
}

int vci_state_break(vci_state *s, int rc)
{
    if (s->broken_rc == VINF_SUCCESS) {
        s->broken_rc = RT_FAILURE(rc) ? rc : VERR_INTERNAL_ERROR;
        if (!s->readonly)
            (void)vci_io_begin(&s->io); /* best effort: forget at next open */
    }
    return s->broken_rc;
}

/* ---- state lifetime --------------------------------------------------------------- */

static void state_free(vci_state *s)
{
    if (s == NULL)
        return;
    vci_nodes_destroy(s->nc);
    vci_alloc_destroy(s->al);
    vci_lru_fini(&s->lru);
    free(s);
}

static void state_close_storage(vci_state *s)
{
    if (s->io.stor != NULL) {
        s->ioint->pfnClose(s->ioint->Core.pvUser, s->io.stor);
        s->io.stor = NULL;
    }
}

static int state_new(vci_cache *c, unsigned open_flags, vci_state **out)
{
    vci_state *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return VERR_NO_MEMORY;
    s->open_flags = open_flags;
    s->readonly = (open_flags & (VD_OPEN_FLAGS_READONLY | VD_OPEN_FLAGS_INFO)) != 0;
    s->ignore_flush = (open_flags & VD_OPEN_FLAGS_IGNORE_FLUSH) != 0;
    s->broken_rc = VINF_SUCCESS;
    s->ioint = vdc_if_ioint(c->ifs_image);
    s->iferr = vdc_if_error(c->ifs_disk);
    if (s->ioint == NULL) {
        free(s);
        return VERR_INVALID_PARAMETER;
    }
    s->node_cache = c->node_cache;
    s->bm_cache = c->bm_cache;
    s->io.ioint = s->ioint;
    s->io.before_write = hook_begin;
    s->io.user = s;
    *out = s;
    return VINF_SUCCESS;
}

/* Sets up the allocator, node cache, tree and LRU list over s->hdr. */
static int state_build(vci_state *s, const vci_bmhdr *bm)
{
    vci_layout lay = vci_header_layout(&s->hdr);
    s->last_gen = 0; /* a new node cache: generations restart */
    int rc = vci_alloc_new(&s->io, &s->hdr, bm, s->bm_cache, &s->al);
    if (RT_SUCCESS(rc))
        rc = vci_nodes_new(&s->io, &lay, s->node_cache, &s->nc);
    if (RT_FAILURE(rc))
        return rc;
    vci_tree_init(&s->tree, s->nc, s->al, s->hdr.root);
    vci_lru_init(&s->lru, &s->tree, s->hdr.lru, s->hdr.lru_head, s->hdr.lru_tail);
    return VINF_SUCCESS;
}

/* Forgets everything in an unclean image opened read-write (section 10). */
static int state_reinit(vci_state *s)
{
    vci_header *h = &s->hdr;
    uint64_t bm_end = h->bm_addr + h->bm_blocks, root;
    if (bm_end + VCI_NODE_BLOCKS <= h->cblocks)
        root = bm_end;
    else if (h->bm_addr >= VCI_HDR_BLOCKS + VCI_NODE_BLOCKS)
        root = VCI_HDR_BLOCKS;
    else
        return VCI_CORRUPT(&s->io.corrupt, "no room for a root beside the block map");
    s->io.epoch = true; /* the flag is on disk already */
    h->root = root;
    h->lru = true;
    h->lru_head = h->lru_tail = VCI_LRU_NONE;
    s->hdr_dirty = true;

    vci_bmhdr bm = { .managed = h->cblocks, .free = h->cblocks, .meta = 0, .data = 0 };
    int rc = state_build(s, &bm);
    if (RT_FAILURE(rc))
        return rc;
    const uint64_t ranges[3][2] = {
        { 0, VCI_HDR_BLOCKS }, { h->bm_addr, h->bm_blocks }, { root, VCI_NODE_BLOCKS },
    };
    rc = vci_alloc_reset(s->al, ranges, 3);
    if (RT_FAILURE(rc))
        return rc;
    vci_node *n;
    rc = vci_nodes_create(s->nc, root, VCI_NODE_LEAF, &n);
    if (RT_FAILURE(rc))
        return rc;
    vci_nodes_unpin(s->nc, n);
    s->tree.height = 1;
    s->verified = true;
    return state_sync(s, false);
}

int vci_state_forget(vci_state *s)
{
    /* The flag first: from here on the old contents are never trusted. */
    int rc = vci_io_begin(&s->io);
    if (RT_FAILURE(rc))
        return rc;
    vci_nodes_destroy(s->nc);
    vci_alloc_destroy(s->al);
    s->nc = NULL;
    s->al = NULL;
    memset(&s->tree, 0, sizeof(s->tree));
    return state_reinit(s);
}

/* Opens the file and validates header, block map and root (section 11). */
static int state_open(vci_cache *c, unsigned open_flags, vci_state **out)
{
    vci_state *s;
    char why[160] = "";
    int rc = state_new(c, open_flags, &s);
    if (RT_FAILURE(rc))
        return rc;
    unsigned fflags = s->readonly ? (open_flags | VD_OPEN_FLAGS_READONLY) : open_flags;
    rc = s->ioint->pfnOpen(s->ioint->Core.pvUser, c->filename, vdc_open_flags_to_file(fflags, false),
                           &s->io.stor);
    if (RT_FAILURE(rc)) {
        s->io.stor = NULL;
        goto out_free; /* not reported: VD may retry read-only */
    }
    rc = vci_io_refresh_size(&s->io);
    if (RT_FAILURE(rc))
        goto out_close;
    if (s->io.file_size < VCI_HDR_SIZE) {
        rc = report(s, VERR_VD_GEN_INVALID_HEADER, "VCI: '%s' is shorter than a header", c->filename);
        goto out_close;
    }
    uint8_t hbuf[VCI_HDR_SIZE];
    rc = vci_io_read_meta(&s->io, 0, hbuf, sizeof(hbuf));
    if (RT_FAILURE(rc))
        goto out_close;
    rc = vci_header_decode(hbuf, &s->hdr, why, sizeof(why));
    if (RT_FAILURE(rc)) {
        report(s, rc, "VCI: '%s': %s", c->filename, why);
        goto out_close;
    }
    const vci_header *h = &s->hdr;
    uint64_t need = (h->bm_addr + h->bm_blocks) * VCI_BLOCK_SIZE;
    if ((h->root + VCI_NODE_BLOCKS) * VCI_BLOCK_SIZE > need)
        need = (h->root + VCI_NODE_BLOCKS) * VCI_BLOCK_SIZE;
    if (s->io.file_size < need) {
        rc = report(s, VCI_CORRUPT(&s->io.corrupt, "file shorter than its metadata"),
                    "VCI: '%s' is %llu bytes, its metadata needs %llu", c->filename,
                    (unsigned long long)s->io.file_size, (unsigned long long)need);
        goto out_close;
    }

    if (h->unclean) {
        if (s->readonly)
            s->all_miss = true;
        else
            rc = state_reinit(s);
        if (RT_FAILURE(rc)) {
            report(s, rc, "VCI: '%s': cannot reinitialise after an unclean shutdown", c->filename);
            goto out_close;
        }
        *out = s;
        return VINF_SUCCESS;
    }

    uint8_t bbuf[VCI_BMHDR_SIZE];
    vci_bmhdr bm;
    rc = vci_io_read_meta(&s->io, h->bm_addr * VCI_BLOCK_SIZE, bbuf, sizeof(bbuf));
    if (RT_FAILURE(rc))
        goto out_close;
    rc = vci_bmhdr_decode(bbuf, h, &bm, &s->io.corrupt, why, sizeof(why));
    if (RT_FAILURE(rc)) {
        report(s, rc, "VCI: '%s': %s", c->filename, why);
        goto out_close;
    }
    rc = state_build(s, &bm);
    if (RT_FAILURE(rc))
        goto out_close;

    vci_node *root;
    rc = vci_nodes_get(s->nc, h->root, &root);
    if (RT_FAILURE(rc)) {
        report(s, rc, "VCI: '%s': bad root node", c->filename);
        goto out_close;
    }
    bool empty = root->type == VCI_NODE_LEAF && root->n == 0;
    if (root->type == VCI_NODE_LEAF)
        s->tree.height = 1;
    vci_nodes_unpin(s->nc, root);
    if (h->lru && empty != (h->lru_head == VCI_LRU_NONE)) {
        rc = report(s, VCI_CORRUPT(&s->io.corrupt, "LRU head disagrees with the tree"),
                    "VCI: '%s': LRU head disagrees with the tree", c->filename);
        goto out_close;
    }
    if (!h->lru && empty && !s->readonly) {
        /* Adopt the LRU list: the marker is written at the next flush. */
        vci_lru_init(&s->lru, &s->tree, true, VCI_LRU_NONE, VCI_LRU_NONE);
        s->lru.dirty = true;
    }
    *out = s;
    return VINF_SUCCESS;

out_close:
    state_close_storage(s);
out_free:
    state_free(s);
    return rc;
}

/* ---- probe ------------------------------------------------------------------------ */

int vci_probe(const char *filename, PVDINTERFACE ifs_disk, PVDINTERFACE ifs_image)
{
    (void)ifs_disk;
    PVDINTERFACEIOINT ioint = vdc_if_ioint(ifs_image);
    if (ioint == NULL || filename == NULL || *filename == '\0')
        return VERR_INVALID_PARAMETER;
    PVDIOSTORAGE stor = NULL;
    int rc = ioint->pfnOpen(ioint->Core.pvUser, filename,
                            vdc_open_flags_to_file(VD_OPEN_FLAGS_READONLY, false), &stor);
    if (RT_FAILURE(rc))
        return rc;
    uint64_t cb = 0;
    rc = ioint->pfnGetSize(ioint->Core.pvUser, stor, &cb);
    if (RT_SUCCESS(rc)) {
        if (cb < VCI_HDR_SIZE) {
            rc = VERR_VD_GEN_INVALID_HEADER;
        } else {
            uint8_t buf[VCI_HDR_SIZE];
            vci_header h;
            rc = ioint->pfnReadMeta(ioint->Core.pvUser, stor, 0, buf, sizeof(buf), NULL, NULL, NULL, NULL);
            if (RT_SUCCESS(rc))
                rc = vci_header_decode(buf, &h, NULL, 0);
        }
    }
    ioint->pfnClose(ioint->Core.pvUser, stor);
    return rc;
}

/* ---- open, create, close ------------------------------------------------------------ */

static int cache_new(const char *filename, PVDINTERFACE ifs_disk, PVDINTERFACE ifs_image, vci_cache **out)
{
    if (filename == NULL || *filename == '\0')
        return VERR_INVALID_PARAMETER;
    vci_cache *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return VERR_NO_MEMORY;
    c->filename = strdup(filename);
    if (c->filename == NULL) {
        free(c);
        return VERR_NO_MEMORY;
    }
    c->ifs_disk = ifs_disk;
    c->ifs_image = ifs_image;
    int rc = read_config(c);
    if (RT_FAILURE(rc)) {
        free(c->filename);
        free(c);
        return rc;
    }
    *out = c;
    return VINF_SUCCESS;
}

static void cache_free(vci_cache *c)
{
    free(c->filename);
    free(c);
}

int vci_cache_open(const char *filename, unsigned open_flags, PVDINTERFACE ifs_disk,
                   PVDINTERFACE ifs_image, vci_cache **out)
{
    if (open_flags & ~VD_OPEN_FLAGS_MASK)
        return VERR_INVALID_PARAMETER;
    vci_cache *c;
    int rc = cache_new(filename, ifs_disk, ifs_image, &c);
    if (RT_FAILURE(rc))
        return rc;
    rc = state_open(c, open_flags, &c->s);
    if (RT_FAILURE(rc)) {
        cache_free(c);
        return rc;
    }
    *out = c;
    return VINF_SUCCESS;
}

/* An IPRT-order random UUID: libuuid's RFC 4122 bytes with the first three
 * fields stored little-endian, as RTUuidCreate produces them. */
static void make_uuid(uint8_t out[16])
{
    uuid_t u;
    uuid_generate_random(u);
#ifdef VDCC_MSAN
    __msan_unpoison(u, sizeof(u));
#endif
    const uint8_t order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
    for (unsigned i = 0; i < 16; i++)
        out[i] = u[order[i]];
}

static int create_image(vci_cache *c, vci_state *s, uint64_t cb, unsigned image_flags, PCRTUUID uuid,
                        unsigned pct_start, unsigned pct_span, PVDINTERFACE ifs_op)
{
    vci_header *h = &s->hdr;
    memset(h, 0, sizeof(*h));
    h->cblocks = cb / VCI_BLOCK_SIZE;
    h->type = (image_flags & VD_IMAGE_FLAGS_FIXED) ? VCI_TYPE_FIXED : VCI_TYPE_DYNAMIC;
    h->bm_addr = VCI_HDR_BLOCKS;
    h->bm_blocks = vci_bm_blocks_for(h->cblocks);
    h->root = h->bm_addr + h->bm_blocks;
    h->unclean = 1;
    h->lru = true;
    h->lru_head = h->lru_tail = VCI_LRU_NONE;
    if (uuid != NULL)
        memcpy(h->uuid, uuid->au8, 16);
    else
        make_uuid(h->uuid);
    s->hdr_dirty = true;
    s->io.epoch = true; /* a new file: nothing on it is trusted yet */

    PVDINTERFACEPROGRESS prog = vdc_if_progress(ifs_op);
    if (pct_start > 100)
        pct_start = 100;
    if (pct_span > 100 - pct_start)
        pct_span = 100 - pct_start;
    int rc;
    if (h->type == VCI_TYPE_FIXED) {
        rc = s->ioint->pfnSetAllocationSize(s->ioint->Core.pvUser, s->io.stor, cb, 0, prog, pct_start, pct_span);
        if (rc == VERR_NOT_SUPPORTED)
            rc = s->ioint->pfnSetSize(s->ioint->Core.pvUser, s->io.stor, cb);
        if (RT_SUCCESS(rc))
            s->io.file_size = cb;
    } else {
        rc = vci_io_set_size(&s->io, (h->root + VCI_NODE_BLOCKS) * VCI_BLOCK_SIZE);
    }
    if (RT_FAILURE(rc))
        return report(s, rc, "VCI: cannot size '%s'", c->filename);

    vci_bmhdr bm = { .managed = h->cblocks, .free = h->cblocks, .meta = 0, .data = 0 };
    rc = state_build(s, &bm);
    if (RT_SUCCESS(rc))
        rc = vci_alloc_mark(s->al, 0, VCI_HDR_BLOCKS, VCI_KIND_META);
    if (RT_SUCCESS(rc))
        rc = vci_alloc_mark(s->al, h->bm_addr, h->bm_blocks, VCI_KIND_META);
    if (RT_SUCCESS(rc))
        rc = vci_alloc_mark(s->al, h->root, VCI_NODE_BLOCKS, VCI_KIND_META);
    vci_node *n;
    if (RT_SUCCESS(rc))
        rc = vci_nodes_create(s->nc, h->root, VCI_NODE_LEAF, &n);
    if (RT_FAILURE(rc))
        return rc;
    vci_nodes_unpin(s->nc, n);
    s->tree.height = 1;
    s->verified = true;
    rc = state_sync(s, false);
    if (RT_FAILURE(rc))
        return report(s, rc, "VCI: cannot write '%s'", c->filename);
    if (prog != NULL && prog->pfnProgress != NULL)
        prog->pfnProgress(prog->Core.pvUser, pct_start + pct_span);
    return VINF_SUCCESS;
}

int vci_cache_create(const char *filename, uint64_t cb, unsigned image_flags, PCRTUUID uuid,
                     unsigned open_flags, unsigned pct_start, unsigned pct_span,
                     PVDINTERFACE ifs_disk, PVDINTERFACE ifs_image, PVDINTERFACE ifs_op,
                     vci_cache **out)
{
    if ((open_flags & ~VD_OPEN_FLAGS_MASK) || (open_flags & (VD_OPEN_FLAGS_READONLY | VD_OPEN_FLAGS_INFO))
        || (image_flags & ~VD_IMAGE_FLAGS_FIXED))
        return VERR_INVALID_PARAMETER;
    if (cb % VCI_BLOCK_SIZE != 0 || cb / VCI_BLOCK_SIZE < VCI_MIN_BLOCKS
        || cb / VCI_BLOCK_SIZE > VCI_MAX_BLOCKS)
        return VERR_VD_INVALID_SIZE;
    vci_cache *c;
    int rc = cache_new(filename, ifs_disk, ifs_image, &c);
    if (RT_FAILURE(rc))
        return rc;
    vci_state *s;
    rc = state_new(c, open_flags, &s);
    if (RT_FAILURE(rc)) {
        cache_free(c);
        return rc;
    }
    rc = s->ioint->pfnOpen(s->ioint->Core.pvUser, c->filename, vdc_open_flags_to_file(open_flags, true),
                           &s->io.stor);
    if (RT_FAILURE(rc)) {
        s->io.stor = NULL;
        report(s, rc, "VCI: cannot create '%s'", c->filename);
        goto out_free;
    }
    rc = create_image(c, s, cb, image_flags, uuid, pct_start, pct_span, ifs_op);
    if (RT_FAILURE(rc))
        goto out_delete;
    c->s = s;
    *out = c;
    return VINF_SUCCESS;

out_delete:
    state_close_storage(s);
    s->ioint->pfnDelete(s->ioint->Core.pvUser, c->filename);
out_free:
    state_free(s);
    cache_free(c);
    return rc;
}

int vci_cache_close(vci_cache *c, bool fdelete)
{
    if (c == NULL)
        return VINF_SUCCESS;
    int rc = VINF_SUCCESS;
    vci_state *s = c->s;
    if (s != NULL) {
        if (!fdelete)
            rc = state_sync(s, true);
        state_close_storage(s);
        if (fdelete) {
            int rc2 = s->ioint->pfnDelete(s->ioint->Core.pvUser, c->filename);
            if (RT_SUCCESS(rc))
                rc = rc2;
        }
        state_free(s);
    }
    cache_free(c);
    return rc;
}

int vci_cache_flush(vci_cache *c)
{
    vci_state *s = c->s;
    if (s == NULL)
        return VERR_VD_NOT_OPENED;
    if (s->broken_rc != VINF_SUCCESS)
        return s->broken_rc;
    if (s->ignore_flush)
        return VINF_SUCCESS;
    return state_sync(s, false);
}

int vci_cache_set_open_flags(vci_cache *c, unsigned open_flags)
{
    if (open_flags & ~VD_OPEN_FLAGS_MASK)
        return VERR_INVALID_PARAMETER;
    vci_state *old = c->s;
    unsigned old_flags = old != NULL ? old->open_flags : open_flags;
    if (old != NULL) {
        if (old->broken_rc == VINF_SUCCESS) {
            int rc = state_sync(old, true);
            if (RT_FAILURE(rc))
                return rc;
        }
        state_close_storage(old);
        state_free(old);
        c->s = NULL;
    }
    int rc = state_open(c, open_flags, &c->s);
    if (RT_SUCCESS(rc))
        return rc;
    c->s = NULL;
    if (old != NULL && RT_FAILURE(state_open(c, old_flags, &c->s)))
        c->s = NULL;
    return rc;
}

/* ---- getters and setters ---------------------------------------------------------------- */

uint64_t vci_cache_capacity(const vci_cache *c)
{
    return c->s != NULL ? c->s->hdr.cblocks * VCI_BLOCK_SIZE : 0;
}

uint64_t vci_cache_file_size(vci_cache *c)
{
    if (c->s == NULL)
        return 0;
    uint64_t cb = 0;
    if (RT_FAILURE(c->s->ioint->pfnGetSize(c->s->ioint->Core.pvUser, c->s->io.stor, &cb)))
        return 0;
    return cb;
}

unsigned vci_cache_image_flags(const vci_cache *c)
{
    return c->s != NULL && c->s->hdr.type == VCI_TYPE_FIXED ? VD_IMAGE_FLAGS_FIXED : VD_IMAGE_FLAGS_NONE;
}

unsigned vci_cache_open_flags(const vci_cache *c)
{
    return c->s != NULL ? c->s->open_flags : 0;
}

bool vci_cache_read_only(const vci_cache *c)
{
    return c->s == NULL || c->s->readonly;
}

int vci_cache_get_uuid(const vci_cache *c, bool modification, PRTUUID uuid)
{
    if (c->s == NULL)
        return VERR_VD_NOT_OPENED;
    memcpy(uuid->au8, modification ? c->s->hdr.mod_uuid : c->s->hdr.uuid, 16);
    return VINF_SUCCESS;
}

int vci_cache_set_uuid(vci_cache *c, bool modification, PCRTUUID uuid)
{
    vci_state *s = c->s;
    if (s == NULL)
        return VERR_VD_NOT_OPENED;
    if (s->readonly)
        return VERR_VD_IMAGE_READ_ONLY;
    memcpy(modification ? s->hdr.mod_uuid : s->hdr.uuid, uuid->au8, 16);
    s->hdr_dirty = true;
    return VINF_SUCCESS;
}

bool vci_cache_all_miss(const vci_cache *c)
{
    return c->s != NULL && c->s->all_miss;
}

const vci_corrupt *vci_cache_corrupt(const vci_cache *c)
{
    return c->s != NULL ? &c->s->io.corrupt : NULL;
}

static void uuid_str(const uint8_t u[16], char out[37])
{
    /* IPRT order: the first three fields are little-endian. */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             u[3], u[2], u[1], u[0], u[5], u[4], u[7], u[6], u[8], u[9], u[10], u[11], u[12], u[13],
             u[14], u[15]);
}

void vci_cache_dump(vci_cache *c)
{
    vci_state *s = c->s;
    PVDINTERFACEERROR iferr = vdc_if_error(c->ifs_disk);
    if (s == NULL) {
        message(iferr, "VCI cache '%s': not open\n", c->filename);
        return;
    }
    char u1[37], u2[37];
    uuid_str(s->hdr.uuid, u1);
    uuid_str(s->hdr.mod_uuid, u2);
    message(iferr, "VCI cache '%s': %s, %llu blocks (%llu bytes), open flags %#x%s%s\n", c->filename,
            s->hdr.type == VCI_TYPE_FIXED ? "fixed" : "dynamic", (unsigned long long)s->hdr.cblocks,
            (unsigned long long)s->hdr.cblocks * VCI_BLOCK_SIZE, s->open_flags,
            s->all_miss ? ", unclean (every read misses)" : "",
            s->broken_rc != VINF_SUCCESS ? ", broken" : "");
    message(iferr, "  uuid %s, modification uuid %s\n", u1, u2);
    message(iferr, "  root node at block %llu, block map at %llu (%u blocks), LRU %s\n",
            (unsigned long long)s->tree.root, (unsigned long long)s->hdr.bm_addr, s->hdr.bm_blocks,
            s->lru.enabled ? "kept" : "off (key-order eviction)");
    if (s->al != NULL) {
        const vci_bmhdr *b = vci_alloc_counts(s->al);
        message(iferr, "  blocks: %llu free, %llu metadata, %llu data\n", (unsigned long long)b->free,
                (unsigned long long)b->meta, (unsigned long long)b->data);
    }
    if (s->nc != NULL) {
        vci_nodes_stats st = vci_nodes_get_stats(s->nc);
        message(iferr, "  node cache: %u nodes cached, %llu read, %llu written\n", st.cached,
                (unsigned long long)st.reads, (unsigned long long)st.writes);
    }
}
