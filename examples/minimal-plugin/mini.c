/*
 * mini.c - a small, complete VirtualBox cache backend ("MINI"), written the
 * way someone outside vdcc would write one: against the installed ABI
 * header only, as a VirtualBox plugin.  Build and judge it:
 *
 *     make                                   # VDPluginMini.so, via pkg-config
 *     vdcc conform --backend ./VDPluginMini.so
 *
 * What a cache backend is.  VirtualBox's disk layer ("VD") can put a cache
 * in front of a slow disk image.  On every guest read it first asks the
 * cache (pfnRead): a *hit* delivers the bytes, a *miss* (VERR_VD_BLOCK_FREE)
 * tells VD how many bytes to fetch from the image instead, after which VD
 * writes them into the cache (pfnWrite) for next time.  Guest writes never
 * reach the cache, and VD never asks for its size: any disk offset can come.
 * The one rule that cannot bend: a hit must return the last bytes written
 * for that range.  Forgetting is always allowed; returning stale or
 * invented bytes (a "lie") never is, not even after a crash.  The full
 * contract is <prefix>/share/vdcc/spec/contract.md; the clause names in the
 * comments below (READ-1, CRASH-1, ...) refer to it.
 *
 * The backend never touches files itself: VD hands it an "internal I/O
 * interface" (VDINTERFACEIOINT) in the image interface list, and every
 * open, read, write, flush and close of storage goes through it.  Guest data
 * travels in an opaque I/O context (PVDIOCTX) that the backend reads from
 * or writes into with pfnWriteUser / pfnReadUser.
 *
 * This design: the disk is cut into 64 KiB blocks; the file holds a fixed
 * number of 64 KiB *slots*, each caching one disk block, and a table saying
 * which block each slot holds and which of its 128 sectors (512 bytes) are
 * valid.  When all slots are taken, the least recently used is reused.
 *
 *   offset 0       header, one 512-byte sector (all integers little-endian)
 *                    0  8  magic "MINICACH"
 *                    8  4  version, 1
 *                   12  4  flags: bit 0 fixed (space reserved at create)
 *                   16  8  capacity in bytes, as given to create
 *                   24  4  number of slots
 *                   28 16  image UUID
 *                   44 16  modification UUID (VD compares it on open)
 *   offset 512     the table: one 32-byte entry per slot
 *                    0  8  disk block number + 1 (0: the slot is empty)
 *                    8 16  valid-sector bitmap, bit s = sector s of the block
 *                   24  8  zero
 *   data_off       the slots, 64 KiB each (data_off: the table's end
 *                  rounded up to 64 KiB)
 *
 * Crash safety (CRASH-1): the table on disk only ever claims data that is
 * already on disk.  New data is written first; the table entries saying it
 * is valid are written at the next flush, after a storage flush made the
 * data durable.  Before data claimed on disk is overwritten (or its slot
 * reused), the claim is withdrawn on disk and flushed first.  Entries never
 * straddle a sector, so a torn write cannot leave half an entry.
 *
 * Not done, on purpose: discard (optional; VD never calls it), comments
 * (VERR_NOT_SUPPORTED is allowed), configuration keys, asynchronous
 * metadata I/O (the table is read and written synchronously).
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <vdcc/vdcache.h>

#define MINI_MAGIC      "MINICACH"
#define MINI_VERSION    1u
#define MINI_FIXED      0x1u
#define SECTOR          512u
#define BLOCK           65536u              /* bytes per slot and per disk block */
#define SECTORS         (BLOCK / SECTOR)    /* 128: two 64-bit words of bitmap */
#define ENTRY           32u
#define MAX_SLOTS       (1u << 18)          /* 16 GiB of slots, 8 MiB of table */
#define EXPORT          __attribute__((visibility("default")))

typedef struct entry {
    uint64_t tag;        /* disk block + 1; 0 = empty */
    uint64_t valid[2];   /* valid sectors */
} entry;

typedef struct mini {
    PVDINTERFACEIOINT io;     /* the host's storage interface */
    PVDINTERFACEERROR err;    /* may be NULL (HOST-5) */
    PVDIOSTORAGE      stor;
    char             *path;
    unsigned          open_flags;
    uint8_t           header[SECTOR];
    uint32_t          nslots;
    uint64_t          data_off;
    entry            *mem;    /* the truth, in memory */
    entry            *disk;   /* what the table on disk says */
    uint64_t         *used;   /* last-use stamp per slot (LRU) */
    uint64_t          clock;
    int32_t          *bucket; /* hash of tag -> first slot, chained by next */
    int32_t          *next;
    uint32_t          hash_bits;
} mini;

/* --- little-endian fields (never cast the buffer to a struct) ----------- */
static uint64_t get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    while (n-- > 0)
        v = (v << 8) | p[n];
    return v;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

/* --- storage, always synchronous (NULL context, NULL completion) ------- */
static int rd(mini *m, uint64_t off, void *buf, size_t cb)
{
    return m->io->pfnReadMeta(m->io->Core.pvUser, m->stor, off, buf, cb, NULL, NULL, NULL, NULL);
}

static int wr(mini *m, uint64_t off, const void *buf, size_t cb)
{
    return m->io->pfnWriteMeta(m->io->Core.pvUser, m->stor, off, buf, cb, NULL, NULL, NULL);
}

static int sync_storage(mini *m)
{
    return m->io->pfnFlush(m->io->Core.pvUser, m->stor, NULL, NULL, NULL);
}

static uint64_t table_bytes(uint32_t nslots)
{
    return (uint64_t)nslots * ENTRY;
}

/* Writes entries [first, last] of the on-disk copy to the table. */
static int write_entries(mini *m, uint32_t first, uint32_t last)
{
    uint8_t buf[16 * ENTRY];
    while (first <= last) {
        uint32_t n = last - first + 1 < 16 ? last - first + 1 : 16;
        memset(buf, 0, sizeof buf);
        for (uint32_t i = 0; i < n; i++) {
            put_le(buf + i * ENTRY, m->disk[first + i].tag, 8);
            put_le(buf + i * ENTRY + 8, m->disk[first + i].valid[0], 8);
            put_le(buf + i * ENTRY + 16, m->disk[first + i].valid[1], 8);
        }
        int rc = wr(m, SECTOR + (uint64_t)first * ENTRY, buf, n * ENTRY);
        if (RT_FAILURE(rc))
            return rc;
        first += n;
    }
    return VINF_SUCCESS;
}

/* What the table on disk may say for a slot after a failed write or flush,
 * or for an entry load_table refused: any block, any sector.  The next
 * withdraw for that slot rewrites it claiming nothing, the next commit with
 * the truth.  (Its tag is beyond every disk block, so load_table drops
 * it if it ever reaches the disk.) */
static const entry unknown = { UINT64_MAX, { UINT64_MAX, UINT64_MAX } };

/* Withdraws, durably, whatever the disk table claims for slot s beyond
 * `keep` (the sectors of block `tag` that stay valid), before they are
 * overwritten or the slot takes another block. */
static int withdraw(mini *m, uint32_t s, uint64_t tag, const uint64_t keep[2])
{
    entry *d = &m->disk[s];
    if (d->valid[0] == 0 && d->valid[1] == 0)
        return VINF_SUCCESS; /* claims nothing: nothing to withdraw */
    if (d->tag == tag && (d->valid[0] & ~keep[0]) == 0 && (d->valid[1] & ~keep[1]) == 0)
        return VINF_SUCCESS;
    if (d->tag == tag) {
        d->valid[0] &= keep[0];
        d->valid[1] &= keep[1];
    } else {
        d->valid[0] = d->valid[1] = 0;
    }
    int rc = write_entries(m, s, s);
    if (RT_SUCCESS(rc))
        rc = sync_storage(m);
    if (RT_FAILURE(rc))
        *d = unknown; /* the old claim may have stayed */
    return rc;
}

/* Flush: data first, then the table entries that changed, then again.  On
 * a failure any entry may hold its old or its new claim. */
static int commit(mini *m)
{
    if (m->open_flags & VD_OPEN_FLAGS_READONLY)
        return VINF_SUCCESS;
    int rc = sync_storage(m);
    for (uint32_t s = 0; RT_SUCCESS(rc) && s < m->nslots; s++) {
        if (memcmp(&m->mem[s], &m->disk[s], sizeof(entry)) == 0)
            continue;
        uint32_t e = s;
        while (e + 1 < m->nslots && memcmp(&m->mem[e + 1], &m->disk[e + 1], sizeof(entry)) != 0)
            e++;
        memcpy(&m->disk[s], &m->mem[s], (size_t)(e - s + 1) * sizeof(entry));
        rc = write_entries(m, s, e);
        s = e;
    }
    if (RT_SUCCESS(rc))
        rc = sync_storage(m);
    for (uint32_t s = 0; RT_FAILURE(rc) && s < m->nslots; s++)
        m->disk[s] = unknown;
    return rc;
}

/* --- the block -> slot map: a chained hash over the slots ---------------- */
static uint32_t hash(const mini *m, uint64_t tag)
{
    return (uint32_t)((tag * 0x9e3779b97f4a7c15ull) >> (64 - m->hash_bits));
}

static int32_t lookup(const mini *m, uint64_t tag)
{
    for (int32_t s = m->bucket[hash(m, tag)]; s >= 0; s = m->next[s])
        if (m->mem[s].tag == tag)
            return s;
    return -1;
}

static void link_slot(mini *m, uint32_t s)
{
    uint32_t h = hash(m, m->mem[s].tag);
    m->next[s] = m->bucket[h];
    m->bucket[h] = (int32_t)s;
}

static void unlink_slot(mini *m, uint32_t s)
{
    int32_t *p = &m->bucket[hash(m, m->mem[s].tag)];
    while (*p != (int32_t)s)
        p = &m->next[*p];
    *p = m->next[s];
}

/* A slot for a block not cached: an empty one, else the least recently used. */
static uint32_t victim(const mini *m)
{
    uint32_t best = 0;
    for (uint32_t s = 0; s < m->nslots; s++) {
        if (m->mem[s].tag == 0)
            return s;
        if (m->used[s] < m->used[best])
            best = s;
    }
    return best;
}

/* --- instances ------------------------------------------------------------ */
static void destroy(mini *m)
{
    if (m == NULL)
        return;
    if (m->stor != NULL)
        m->io->pfnClose(m->io->Core.pvUser, m->stor);
    free(m->path);
    free(m->mem);
    free(m->disk);
    free(m->used);
    free(m->bucket);
    free(m->next);
    free(m);
}

/* Allocates an instance for nslots slots and finds its interfaces. */
static int alloc_instance(const char *path, PVDINTERFACE disk_ifs, PVDINTERFACE image_ifs, uint32_t nslots,
                          mini **out)
{
    PVDINTERFACEIOINT io = vdc_if_ioint(image_ifs);
    if (io == NULL || path == NULL || nslots == 0 || nslots > MAX_SLOTS)
        return VERR_INVALID_PARAMETER;
    mini *m = calloc(1, sizeof *m);
    if (m == NULL)
        return VERR_NO_MEMORY;
    m->io = io;
    m->err = vdc_if_error(disk_ifs);
    m->nslots = nslots;
    m->data_off = (SECTOR + table_bytes(nslots) + BLOCK - 1) / BLOCK * BLOCK;
    while ((1u << m->hash_bits) < nslots)
        m->hash_bits++;
    m->hash_bits = m->hash_bits < 1 ? 1 : m->hash_bits;
    m->path = strdup(path);
    m->mem = calloc(nslots, sizeof(entry));
    m->disk = calloc(nslots, sizeof(entry));
    m->used = calloc(nslots, sizeof(uint64_t));
    m->bucket = malloc(sizeof(int32_t) << m->hash_bits);
    m->next = malloc(sizeof(int32_t) * nslots);
    if (m->path == NULL || m->mem == NULL || m->disk == NULL || m->used == NULL || m->bucket == NULL ||
        m->next == NULL) {
        destroy(m);
        return VERR_NO_MEMORY;
    }
    memset(m->bucket, 0xff, sizeof(int32_t) << m->hash_bits); /* every chain empty (-1) */
    *out = m;
    return VINF_SUCCESS;
}

static bool header_ok(const uint8_t *h)
{
    uint32_t n = (uint32_t)get_le(h + 24, 4);
    return memcmp(h, MINI_MAGIC, 8) == 0 && get_le(h + 8, 4) == MINI_VERSION && n >= 1 && n <= MAX_SLOTS;
}

static int mini_probe(const char *pszFilename, PVDINTERFACE pVDIfsDisk, PVDINTERFACE pVDIfsImage)
{
    (void)pVDIfsDisk;
    PVDINTERFACEIOINT io = vdc_if_ioint(pVDIfsImage);
    if (io == NULL || pszFilename == NULL)
        return VERR_INVALID_PARAMETER;
    PVDIOSTORAGE stor;
    int rc = io->pfnOpen(io->Core.pvUser, pszFilename, vdc_open_flags_to_file(VD_OPEN_FLAGS_READONLY, false),
                         &stor);
    if (RT_FAILURE(rc))
        return rc;
    uint64_t size = 0;
    uint8_t h[SECTOR];
    rc = io->pfnGetSize(io->Core.pvUser, stor, &size);
    if (RT_SUCCESS(rc) && size >= SECTOR)
        rc = io->pfnReadMeta(io->Core.pvUser, stor, 0, h, sizeof h, NULL, NULL, NULL, NULL);
    io->pfnClose(io->Core.pvUser, stor);
    /* Anything but our header is "not mine": VD takes any other status as
     * a claim on the file (PROBE-1). */
    return RT_SUCCESS(rc) && size >= SECTOR && header_ok(h) ? VINF_SUCCESS : VERR_VD_GEN_INVALID_HEADER;
}

/* Reads the table and builds the map.  An entry claiming nothing leaves
 * its slot free; a damaged one (a tag beyond the disk, a block claimed
 * twice) is never trusted: its slot starts free and its claim is withdrawn
 * before the slot is used. */
static int load_table(mini *m)
{
    uint8_t buf[16 * ENTRY];
    for (uint32_t s = 0; s < m->nslots; s += 16) {
        uint32_t n = m->nslots - s < 16 ? m->nslots - s : 16;
        int rc = rd(m, SECTOR + (uint64_t)s * ENTRY, buf, n * ENTRY);
        if (RT_FAILURE(rc))
            return rc;
        for (uint32_t i = 0; i < n; i++) {
            const uint8_t *p = buf + i * ENTRY;
            entry e = { get_le(p, 8), { get_le(p + 8, 8), get_le(p + 16, 8) } };
            bool claims = (e.valid[0] | e.valid[1]) != 0;
            m->disk[s + i] = e;
            if (e.tag != 0 && e.tag <= UINT64_MAX / BLOCK && claims && lookup(m, e.tag) < 0) {
                m->mem[s + i] = e;
                link_slot(m, s + i);
            } else if (claims) {
                m->disk[s + i] = unknown; /* refused: withdrawn before the slot is used */
            }
        }
    }
    return VINF_SUCCESS;
}

static int mini_open(const char *pszFilename, unsigned uOpenFlags, PVDINTERFACE pVDIfsDisk,
                     PVDINTERFACE pVDIfsImage, void **ppBackendData)
{
    if ((uOpenFlags & ~VD_OPEN_FLAGS_MASK) || ppBackendData == NULL)
        return VERR_INVALID_PARAMETER;
    PVDINTERFACEIOINT io = vdc_if_ioint(pVDIfsImage);
    if (io == NULL || pszFilename == NULL)
        return VERR_INVALID_PARAMETER;
    PVDIOSTORAGE stor;
    int rc = io->pfnOpen(io->Core.pvUser, pszFilename, vdc_open_flags_to_file(uOpenFlags, false), &stor);
    if (RT_FAILURE(rc))
        return rc;
    uint8_t h[SECTOR];
    uint64_t size = 0;
    rc = io->pfnGetSize(io->Core.pvUser, stor, &size);
    if (RT_SUCCESS(rc) && size < SECTOR)
        rc = VERR_VD_GEN_INVALID_HEADER;
    if (RT_SUCCESS(rc))
        rc = io->pfnReadMeta(io->Core.pvUser, stor, 0, h, sizeof h, NULL, NULL, NULL, NULL);
    if (RT_SUCCESS(rc) && !header_ok(h))
        rc = VERR_VD_GEN_INVALID_HEADER;
    mini *m = NULL;
    if (RT_SUCCESS(rc))
        rc = alloc_instance(pszFilename, pVDIfsDisk, pVDIfsImage, (uint32_t)get_le(h + 24, 4), &m);
    if (RT_FAILURE(rc)) {
        io->pfnClose(io->Core.pvUser, stor);
        return rc;
    }
    m->stor = stor;
    m->open_flags = uOpenFlags;
    memcpy(m->header, h, SECTOR);
    rc = load_table(m);
    if (RT_FAILURE(rc)) {
        destroy(m);
        return rc;
    }
    *ppBackendData = m;
    return VINF_SUCCESS;
}

static int mini_create(const char *pszFilename, uint64_t cbSize, unsigned uImageFlags, const char *pszComment,
                       PCRTUUID pUuid, unsigned uOpenFlags, unsigned uPercentStart, unsigned uPercentSpan,
                       PVDINTERFACE pVDIfsDisk, PVDINTERFACE pVDIfsImage, PVDINTERFACE pVDIfsOperation,
                       void **ppBackendData)
{
    (void)pszComment, (void)uPercentStart, (void)uPercentSpan, (void)pVDIfsOperation;
    if ((uImageFlags & ~VD_IMAGE_FLAGS_FIXED) || (uOpenFlags & ~VD_OPEN_FLAGS_MASK) ||
        (uOpenFlags & VD_OPEN_FLAGS_READONLY) || ppBackendData == NULL)
        return VERR_INVALID_PARAMETER;
    /* 0 and caches below one slot are refused, and so is reserving more
     * than MAX_SLOTS slots; a larger dynamic cache gets MAX_SLOTS slots
     * (it forgets more, which a cache may). */
    bool fixed = (uImageFlags & VD_IMAGE_FLAGS_FIXED) != 0;
    if (cbSize < BLOCK || (fixed && cbSize / BLOCK > MAX_SLOTS))
        return VERR_VD_INVALID_SIZE;
    uint32_t nslots = cbSize / BLOCK > MAX_SLOTS ? MAX_SLOTS : (uint32_t)(cbSize / BLOCK);
    mini *m;
    int rc = alloc_instance(pszFilename, pVDIfsDisk, pVDIfsImage, nslots, &m);
    if (RT_FAILURE(rc))
        return rc;
    m->open_flags = uOpenFlags;
    rc = m->io->pfnOpen(m->io->Core.pvUser, pszFilename, vdc_open_flags_to_file(uOpenFlags, true), &m->stor);
    if (RT_FAILURE(rc)) {
        destroy(m);
        return rc;
    }
    uint8_t *h = m->header;
    memcpy(h, MINI_MAGIC, 8);
    put_le(h + 8, MINI_VERSION, 4);
    put_le(h + 12, fixed ? MINI_FIXED : 0, 4);
    put_le(h + 16, cbSize, 8);
    put_le(h + 24, m->nslots, 4);
    if (pUuid != NULL)
        memcpy(h + 28, pUuid->au8, 16);
    /* An empty table is all zeros: extending the file writes it. */
    uint64_t end = fixed ? m->data_off + (uint64_t)m->nslots * BLOCK : m->data_off;
    rc = m->io->pfnSetSize(m->io->Core.pvUser, m->stor, end);
    if (RT_SUCCESS(rc) && fixed) {
        /* Reserve the space; file systems that cannot keep the plain size. */
        int rc2 = m->io->pfnSetAllocationSize(m->io->Core.pvUser, m->stor, end, 0, NULL, 0, 0);
        rc = rc2 == VERR_NOT_SUPPORTED ? VINF_SUCCESS : rc2;
    }
    if (RT_SUCCESS(rc))
        rc = wr(m, 0, h, SECTOR);
    if (RT_SUCCESS(rc))
        rc = sync_storage(m);
    if (RT_FAILURE(rc)) {
        m->io->pfnClose(m->io->Core.pvUser, m->stor);
        m->stor = NULL;
        m->io->pfnDelete(m->io->Core.pvUser, pszFilename); /* leave no file behind (CREATE-4) */
        destroy(m);
        return rc;
    }
    *ppBackendData = m;
    return VINF_SUCCESS;
}

static int mini_close(void *pBackendData, bool fDelete)
{
    mini *m = pBackendData;
    if (m == NULL)
        return VERR_INVALID_PARAMETER;
    int rc = fDelete ? VINF_SUCCESS : commit(m);
    m->io->pfnClose(m->io->Core.pvUser, m->stor);
    m->stor = NULL;
    if (fDelete) {
        int rc2 = m->io->pfnDelete(m->io->Core.pvUser, m->path);
        rc = RT_FAILURE(rc2) ? rc2 : rc;
    }
    destroy(m);
    return rc;
}

/* The run of sectors of slot s (or of a block not cached: s < 0) from byte
 * `within`, all valid or all invalid like the first, clipped to `n` bytes. */
static size_t run(const mini *m, int32_t s, uint32_t within, size_t n, bool *valid)
{
    uint32_t sec = within / SECTOR;
#define VALID(k) (s >= 0 && ((m->mem[s].valid[(k) / 64] >> ((k) % 64)) & 1u))
    *valid = VALID(sec);
    while (sec + 1 < SECTORS && (uint64_t)(sec + 1) * SECTOR < within + n && VALID(sec + 1) == *valid)
        sec++;
#undef VALID
    size_t len = (size_t)(sec + 1) * SECTOR - within;
    return len < n ? len : n;
}

static int mini_read(void *pBackendData, uint64_t uOffset, size_t cbToRead, PVDIOCTX pIoCtx,
                     size_t *pcbActuallyRead)
{
    mini *m = pBackendData;
    if (m == NULL || cbToRead == 0 || pcbActuallyRead == NULL)
        return VERR_INVALID_PARAMETER;
    uint32_t within = (uint32_t)(uOffset % BLOCK);
    size_t n = cbToRead < BLOCK - within ? cbToRead : BLOCK - within;
    int32_t s = lookup(m, uOffset / BLOCK + 1);
    bool valid;
    n = run(m, s, within, n, &valid);
    *pcbActuallyRead = n; /* never 0: VD advances by it, hit or miss (READ-2) */
    if (!valid)
        return VERR_VD_BLOCK_FREE;
    m->used[s] = ++m->clock;
    return m->io->pfnReadUser(m->io->Core.pvUser, m->stor, m->data_off + (uint64_t)s * BLOCK + within, pIoCtx, n);
}

static int mini_write(void *pBackendData, uint64_t uOffset, size_t cbToWrite, PVDIOCTX pIoCtx,
                      size_t *pcbWriteProcess)
{
    mini *m = pBackendData;
    if (m == NULL || cbToWrite == 0)
        return VERR_INVALID_PARAMETER;
    if (m->open_flags & VD_OPEN_FLAGS_READONLY)
        return VERR_VD_IMAGE_READ_ONLY; /* WRITE-3 */
    uint64_t tag = uOffset / BLOCK + 1;
    uint32_t within = (uint32_t)(uOffset % BLOCK);
    size_t n = cbToWrite < BLOCK - within ? cbToWrite : BLOCK - within;
    int32_t s = lookup(m, tag);
    if (s < 0) { /* take a slot: what it held is forgotten */
        s = (int32_t)victim(m);
        if (m->mem[s].tag != 0)
            unlink_slot(m, (uint32_t)s);
        m->mem[s] = (entry){ tag, { 0, 0 } };
        link_slot(m, (uint32_t)s);
    }
    /* The sectors this write touches stop being valid until it succeeds;
     * those it covers whole become valid after it (partial ones stay
     * invalid: the cache forgets what it cannot hold, WRITE-6). */
    uint64_t touched[2] = { 0, 0 }, whole[2] = { 0, 0 };
    for (uint32_t k = within / SECTOR; (uint64_t)k * SECTOR < within + n; k++) {
        touched[k / 64] |= 1ull << (k % 64);
        if ((uint64_t)k * SECTOR >= within && (uint64_t)(k + 1) * SECTOR <= within + n)
            whole[k / 64] |= 1ull << (k % 64);
    }
    entry *e = &m->mem[s];
    e->valid[0] &= ~touched[0];
    e->valid[1] &= ~touched[1];
    int rc = withdraw(m, (uint32_t)s, tag, e->valid);
    if (RT_SUCCESS(rc))
        rc = m->io->pfnWriteUser(m->io->Core.pvUser, m->stor, m->data_off + (uint64_t)s * BLOCK + within, pIoCtx,
                                 n, NULL, NULL);
    if (RT_FAILURE(rc))
        return rc;
    e->valid[0] |= whole[0];
    e->valid[1] |= whole[1];
    m->used[s] = ++m->clock;
    if (pcbWriteProcess != NULL)
        *pcbWriteProcess = n; /* never 0 on success: VD's fill loop advances by it (WRITE-1) */
    return VINF_SUCCESS;
}

static int mini_flush(void *pBackendData, PVDIOCTX pIoCtx)
{
    (void)pIoCtx;
    mini *m = pBackendData;
    return m != NULL ? commit(m) : VERR_INVALID_PARAMETER;
}

static unsigned mini_get_version(void *pBackendData)
{
    (void)pBackendData;
    return MINI_VERSION;
}

static uint64_t mini_get_size(void *pBackendData)
{
    mini *m = pBackendData;
    return m != NULL ? get_le(m->header + 16, 8) : 0;
}

static uint64_t mini_get_file_size(void *pBackendData)
{
    mini *m = pBackendData;
    uint64_t cb = 0;
    if (m == NULL || RT_FAILURE(m->io->pfnGetSize(m->io->Core.pvUser, m->stor, &cb)))
        return 0;
    return cb;
}

static unsigned mini_get_image_flags(void *pBackendData)
{
    mini *m = pBackendData;
    return m != NULL && (get_le(m->header + 12, 4) & MINI_FIXED) ? VD_IMAGE_FLAGS_FIXED : 0;
}

static unsigned mini_get_open_flags(void *pBackendData)
{
    mini *m = pBackendData;
    return m != NULL ? m->open_flags : 0;
}

/* Reopens the file with the new access.  The new handle is opened before
 * the old one is closed, so a failure leaves the instance as it was
 * (INFO-6). */
static int mini_set_open_flags(void *pBackendData, unsigned uOpenFlags)
{
    mini *m = pBackendData;
    if (m == NULL || (uOpenFlags & ~VD_OPEN_FLAGS_MASK))
        return VERR_INVALID_PARAMETER;
    int rc = commit(m); /* leaving read-write: the table is current on disk */
    if (RT_FAILURE(rc))
        return rc;
    if (((m->open_flags ^ uOpenFlags) & VD_OPEN_FLAGS_READONLY) == 0) {
        m->open_flags = uOpenFlags; /* same access: the handle we have serves */
        return VINF_SUCCESS;
    }
    PVDIOSTORAGE stor;
    rc = m->io->pfnOpen(m->io->Core.pvUser, m->path, vdc_open_flags_to_file(uOpenFlags, false), &stor);
    if (RT_FAILURE(rc))
        return rc;
    m->io->pfnClose(m->io->Core.pvUser, m->stor);
    m->stor = stor;
    m->open_flags = uOpenFlags;
    return VINF_SUCCESS;
}

static int mini_get_comment(void *pBackendData, char *pszComment, size_t cbComment)
{
    (void)pBackendData, (void)pszComment, (void)cbComment;
    return VERR_NOT_SUPPORTED;
}

static int mini_set_comment(void *pBackendData, const char *pszComment)
{
    (void)pBackendData, (void)pszComment;
    return VERR_NOT_SUPPORTED;
}

/* UUIDs live in the header at `at`; a change is written at once. */
static int get_uuid(void *pBackendData, PRTUUID pUuid, unsigned at)
{
    mini *m = pBackendData;
    if (m == NULL || pUuid == NULL)
        return VERR_INVALID_PARAMETER;
    memcpy(pUuid->au8, m->header + at, 16);
    return VINF_SUCCESS;
}

static int set_uuid(void *pBackendData, PCRTUUID pUuid, unsigned at)
{
    mini *m = pBackendData;
    if (m == NULL || pUuid == NULL)
        return VERR_INVALID_PARAMETER;
    if (m->open_flags & VD_OPEN_FLAGS_READONLY)
        return VERR_VD_IMAGE_READ_ONLY; /* UUID-4 */
    uint8_t old[16];
    memcpy(old, m->header + at, 16);
    memcpy(m->header + at, pUuid->au8, 16);
    int rc = wr(m, 0, m->header, SECTOR);
    if (RT_FAILURE(rc))
        memcpy(m->header + at, old, 16);
    return rc;
}

static int mini_get_uuid(void *bd, PRTUUID pUuid) { return get_uuid(bd, pUuid, 28); }
static int mini_set_uuid(void *bd, PCRTUUID pUuid) { return set_uuid(bd, pUuid, 28); }
static int mini_get_mod_uuid(void *bd, PRTUUID pUuid) { return get_uuid(bd, pUuid, 44); }
static int mini_set_mod_uuid(void *bd, PCRTUUID pUuid) { return set_uuid(bd, pUuid, 44); }

static void say(mini *m, const char *fmt, ...)
{
    if (m->err == NULL || m->err->pfnMessage == NULL)
        return; /* nobody to tell (HOST-5, INFO-5) */
    va_list ap;
    va_start(ap, fmt);
    m->err->pfnMessage(m->err->Core.pvUser, fmt, ap);
    va_end(ap);
}

static void mini_dump(void *pBackendData)
{
    mini *m = pBackendData;
    if (m == NULL)
        return;
    uint32_t used = 0;
    for (uint32_t s = 0; s < m->nslots; s++)
        used += m->mem[s].tag != 0;
    say(m, "MINI cache %s: %u of %u slots of 64 KiB in use, open flags %#x\n", m->path, used, m->nslots,
        m->open_flags);
}

/* A file-based backend: the location is the file name VD already has. */
static int mini_compose(PVDINTERFACE pConfig, char **ppsz)
{
    (void)pConfig;
    if (ppsz == NULL)
        return VERR_INVALID_PARAMETER;
    *ppsz = NULL;
    return VINF_SUCCESS;
}

static const char *const mini_extensions[] = { "mini", NULL };

/* Exported so that fuzz targets can link the backend directly
 * (-DFUZZ_BACKEND=g_MiniCacheBackend, fuzz/README.md). */
EXPORT const VDCACHEBACKEND g_MiniCacheBackend = {
    .u32Version = VD_CACHEBACKEND_VERSION,
    .pszBackendName = "MINI",
    .uBackendCaps = VD_CAP_CREATE_FIXED | VD_CAP_CREATE_DYNAMIC | VD_CAP_FILE | VD_CAP_UUID,
    .papszFileExtensions = mini_extensions,
    .paConfigInfo = NULL,
    .pfnProbe = mini_probe,
    .pfnOpen = mini_open,
    .pfnCreate = mini_create,
    .pfnClose = mini_close,
    .pfnRead = mini_read,
    .pfnWrite = mini_write,
    .pfnFlush = mini_flush,
    .pfnDiscard = NULL,
    .pfnGetVersion = mini_get_version,
    .pfnGetSize = mini_get_size,
    .pfnGetFileSize = mini_get_file_size,
    .pfnGetImageFlags = mini_get_image_flags,
    .pfnGetOpenFlags = mini_get_open_flags,
    .pfnSetOpenFlags = mini_set_open_flags,
    .pfnGetComment = mini_get_comment,
    .pfnSetComment = mini_set_comment,
    .pfnGetUuid = mini_get_uuid,
    .pfnSetUuid = mini_set_uuid,
    .pfnGetModificationUuid = mini_get_mod_uuid,
    .pfnSetModificationUuid = mini_set_mod_uuid,
    .pfnDump = mini_dump,
    .pfnComposeLocation = mini_compose,
    .pfnComposeName = mini_compose,
    .u32VersionEnd = VD_CACHEBACKEND_VERSION,
};

/* The plugin entry point VirtualBox (and vdcc) call after loading the .so. */
EXPORT int VDPluginLoad(void *pvUser, PVDBACKENDREGISTER pRegisterCallbacks);
EXPORT int VDPluginLoad(void *pvUser, PVDBACKENDREGISTER pRegisterCallbacks)
{
    if (pRegisterCallbacks == NULL || !VD_VERSION_ARE_COMPATIBLE(VD_BACKENDREG_CB_VERSION,
                                                                 pRegisterCallbacks->u32Version))
        return VERR_VERSION_MISMATCH;
    return pRegisterCallbacks->pfnRegisterCache(pvUser, &g_MiniCacheBackend);
}
