/*
 * harness/host/fs_mem.c - the vdc_fs in memory: sparse files, no disk I/O.
 *
 * Contract: fs.h (spec/contract.md, section HOST).  Statuses returned:
 * VINF_SUCCESS, VERR_INVALID_PARAMETER (NULL/empty/over-long name, no
 * access mode, unknown action, TRUNCATE or CREATE_REPLACE without write
 * access, move flags other than RTFILEMOVE_FLAGS_REPLACE, NULL pointers),
 * VERR_FILE_NOT_FOUND, VERR_ALREADY_EXISTS, VERR_ACCESS_DENIED (write or
 * resize through a handle without write access, read without read access),
 * VERR_SHARING_VIOLATION, VERR_EOF, VERR_DISK_FULL (max_bytes or
 * max_file_size), VERR_NO_MEMORY, VERR_NOT_SUPPORTED (vdc_fs_mem_put/peek/
 * clear on an fs that is not a memory fs).
 *
 * Layout.  A file (node) holds its data in 64 KiB chunks, kept in an array
 * sorted by chunk index (binary search; appends are O(1)).  A chunk exists
 * only once non-zero bytes were written into it: a write of zeros into an
 * absent chunk allocates nothing, and absent chunks read as zeros.  Bytes of
 * a chunk beyond the file's size are always zero (shrinking clears them),
 * so growing a file again exposes zeros.  `used` counts chunk memory of all
 * files against max_bytes, CHUNK_SIZE per chunk; names and bookkeeping are
 * not counted.  Inside a chunk the bytes live in 4 KiB pages, allocated
 * only once non-zero bytes land in them (an absent page reads as zeros),
 * so a small file, or a few scattered blocks of a big one, cost a page
 * each rather than a whole chunk to allocate and clear: the fuzz targets
 * put a fresh, mostly sparse image in an empty fs for every input, and
 * under AddressSanitizer every allocation and free is costly.
 *
 * Decisions:
 *  - Writes are all or nothing: the chunks a write needs are counted and
 *    allocated before a byte changes, so VERR_DISK_FULL and VERR_NO_MEMORY
 *    leave the file as it was.
 *  - allocate is set_size: the storage is sparse, so it reserves nothing and
 *    fails only on max_file_size.  Later writes may still meet max_bytes.
 *  - Removing (or renaming over) an open file is allowed, with POSIX unlink
 *    semantics like fs_posix.c: the name goes at once, the data lives until
 *    its last handle closes.  A new file of that name is unrelated to it.
 *  - mtime is a fake clock: each fs counts mutations (create, write,
 *    resize, put), and a file's mtime is 2020-01-01T00:00:00Z plus that
 *    count in microseconds at its last mutation: deterministic, increasing.
 *  - Closed handles are kept on a short free list and reused, so an open/
 *    close cycle of an existing file allocates nothing.  Freed pages are
 *    kept the same way (up to POOL_PAGES, not counted in `used`), and
 *    vdc_fs_mem_clear empties the fs without giving them back: a fuzz
 *    target that reuses one fs for every input allocates pages only while
 *    its inputs grow.
 * No global state: every fs is independent.
 */
#include "fs.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK_SHIFT      16
#define CHUNK_SIZE       ((uint64_t)1 << CHUNK_SHIFT)
#define CHUNK_MASK       (CHUNK_SIZE - 1)
#define PAGE_SHIFT       12
#define PAGE_SIZE        ((size_t)1 << PAGE_SHIFT)
#define PAGE_MASK        (PAGE_SIZE - 1)
#define CHUNK_PAGES      ((size_t)CHUNK_SIZE / PAGE_SIZE)
#define POOL_PAGES       4096 /* freed pages kept for reuse: 16 MiB */
#define NAME_MAX_LEN     4096
#define SPARE_HANDLES    32
#define DEFAULT_MAX_BYTES     ((uint64_t)256 << 20)
#define DEFAULT_MAX_FILE_SIZE ((uint64_t)4 << 40)
#define CLOCK_EPOCH_NS   INT64_C(1577836800000000000)
#define CLOCK_TICK_NS    1000

typedef struct mem_chunk {
    uint64_t idx;               /* file offset / CHUNK_SIZE */
    uint8_t *page[CHUNK_PAGES]; /* PAGE_SIZE bytes each; NULL reads as zeros */
} mem_chunk;

typedef struct mem_node {
    char      *name; /* NULL once removed while open */
    uint32_t   hash;
    uint64_t   size;
    mem_chunk *chunks;
    size_t     nchunks, capchunks;
    int64_t    mtime;
    /* Open handles, and how many of them read, write, deny reading and
     * deny writing: the deny-mode check needs no list walk. */
    unsigned   handles, readers, writers, deny_readers, deny_writers;
} mem_node;

typedef struct mem_file mem_file;
struct mem_file {
    vdc_file  base;
    mem_node *node;
    uint32_t  access, deny;
    mem_file *prev, *next; /* live list, or free list through next */
};

typedef struct mem_fs {
    vdc_fs     base;
    uint64_t   max_bytes, max_file_size, used;
    uint64_t   clock;
    mem_node **nodes; /* files by name: a small table, searched by hash */
    size_t     nnodes, capnodes;
    mem_file  *live;  /* open handles, so destroy can release them */
    mem_file  *spare;
    unsigned   nspare;
    void      *pool;  /* freed pages, each holding the next one's address */
    size_t     npool;
} mem_fs;

static const vdc_fs_ops mem_ops;

/* --- names ------------------------------------------------------------ */

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s != '\0'; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static bool name_ok(const char *name)
{
    return name != NULL && name[0] != '\0' && strnlen(name, NAME_MAX_LEN + 1) <= NAME_MAX_LEN;
}

static mem_node *find_node(const mem_fs *fs, const char *name, size_t *pindex)
{
    uint32_t h = name_hash(name);
    for (size_t i = 0; i < fs->nnodes; i++) {
        mem_node *n = fs->nodes[i];
        if (n->hash == h && strcmp(n->name, name) == 0) {
            if (pindex != NULL)
                *pindex = i;
            return n;
        }
    }
    return NULL;
}

static int64_t tick(mem_fs *fs)
{
    fs->clock++;
    return CLOCK_EPOCH_NS + (int64_t)fs->clock * CLOCK_TICK_NS;
}

/* --- chunks ----------------------------------------------------------- */

/* Index of the first chunk whose idx >= ci (nchunks when none). */
static size_t lower_bound(const mem_node *n, uint64_t ci)
{
    size_t lo = 0, hi = n->nchunks;
    if (hi != 0 && n->chunks[hi - 1].idx < ci)
        return hi; /* the common append case */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (n->chunks[mid].idx < ci)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Zeros to compare with, so that a zero check is a memcmp per page rather
 * than a comparison per byte (a page at a time, and each byte access
 * costs under the sanitizers; the fuzz builds leave this file without
 * coverage instrumentation, fuzz/judge.ignorelist). */
static const uint8_t zero_page[PAGE_SIZE];

static bool all_zero(const uint8_t *p, size_t cb)
{
    while (cb > 0) {
        size_t k = cb < sizeof zero_page ? cb : sizeof zero_page;
        if (memcmp(p, zero_page, k) != 0)
            return false;
        p += k;
        cb -= k;
    }
    return true;
}

/* A page from the pool, or a new one; NULL when out of memory.  Its bytes
 * are undefined: whoever installs it writes all of them. */
static uint8_t *page_get(mem_fs *fs)
{
    uint8_t *page = fs->pool;
    if (page == NULL)
        return malloc(PAGE_SIZE);
    memcpy(&fs->pool, page, sizeof fs->pool);
    fs->npool--;
    return page;
}

/* Gives a page back: to the pool, up to POOL_PAGES, else to the allocator. */
static void page_put(mem_fs *fs, uint8_t *page)
{
    if (page == NULL)
        return;
    if (fs->npool >= POOL_PAGES) {
        free(page);
        return;
    }
    memcpy(page, &fs->pool, sizeof fs->pool);
    fs->pool = page;
    fs->npool++;
}

static void chunk_free_pages(mem_fs *fs, mem_chunk *c, size_t from)
{
    for (size_t i = from; i < CHUNK_PAGES; i++) {
        page_put(fs, c->page[i]);
        c->page[i] = NULL;
    }
}

static void node_free_chunks_from(mem_fs *fs, mem_node *n, size_t pos)
{
    for (size_t i = pos; i < n->nchunks; i++)
        chunk_free_pages(fs, &n->chunks[i], 0);
    fs->used -= (uint64_t)(n->nchunks - pos) * CHUNK_SIZE;
    n->nchunks = pos;
}

static void node_destroy(mem_fs *fs, mem_node *n)
{
    node_free_chunks_from(fs, n, 0);
    free(n->chunks);
    free(n->name);
    free(n);
}

/* Bytes [in, in+len) of chunk c (NULL: an absent chunk) into dst. */
static void chunk_read(const mem_chunk *c, size_t in, uint8_t *dst, size_t len)
{
    while (len > 0) {
        size_t po = in & PAGE_MASK, k = PAGE_SIZE - po < len ? PAGE_SIZE - po : len;
        const uint8_t *page = c != NULL ? c->page[in >> PAGE_SHIFT] : NULL;
        if (page != NULL)
            memcpy(dst, page + po, k);
        else
            memset(dst, 0, k);
        in += k;
        dst += k;
        len -= k;
    }
}

/* Reads [off, off+cb), which the caller checked lies inside the file. */
static void node_read(const mem_node *n, uint64_t off, uint8_t *dst, size_t cb)
{
    size_t pos = lower_bound(n, off >> CHUNK_SHIFT);
    while (cb > 0) {
        uint64_t ci = off >> CHUNK_SHIFT;
        size_t in = (size_t)(off & CHUNK_MASK);
        size_t len = (size_t)CHUNK_SIZE - in < cb ? (size_t)CHUNK_SIZE - in : cb;
        while (pos < n->nchunks && n->chunks[pos].idx < ci)
            pos++;
        chunk_read(pos < n->nchunks && n->chunks[pos].idx == ci ? &n->chunks[pos] : NULL, in, dst, len);
        dst += len;
        off += len;
        cb -= len;
    }
}

/* Pages of chunk c (NULL: absent) that src[0..len), for bytes [in, in+len)
 * of the chunk, puts non-zero bytes into and that have none yet. */
static size_t chunk_pages_needed(const mem_chunk *c, size_t in, const uint8_t *src, size_t len)
{
    size_t need = 0;
    while (len > 0) {
        size_t po = in & PAGE_MASK, k = PAGE_SIZE - po < len ? PAGE_SIZE - po : len;
        if ((c == NULL || c->page[in >> PAGE_SHIFT] == NULL) && !all_zero(src, k))
            need++;
        in += k;
        src += k;
        len -= k;
    }
    return need;
}

/* Copies src[0..len) to bytes [in, in+len) of chunk c, taking a page from
 * *fresh (uninitialised: the bytes src does not cover are cleared) for
 * each page chunk_pages_needed counted. */
static void chunk_write(mem_chunk *c, size_t in, const uint8_t *src, size_t len, uint8_t ***fresh)
{
    while (len > 0) {
        size_t po = in & PAGE_MASK, k = PAGE_SIZE - po < len ? PAGE_SIZE - po : len;
        uint8_t **page = &c->page[in >> PAGE_SHIFT];
        if (*page != NULL) {
            memcpy(*page + po, src, k);
        } else if (!all_zero(src, k)) {
            *page = *(*fresh)++;
            memset(*page, 0, po);
            memcpy(*page + po, src, k);
            memset(*page + po + k, 0, PAGE_SIZE - po - k);
        }
        in += k;
        src += k;
        len -= k;
    }
}

/*
 * Writes src[0..cb) at off, growing the file; all or nothing.  Pass 1
 * counts the absent chunks that receive non-zero bytes and the pages to
 * allocate; then the limits are checked, the chunk array grown and the
 * pages allocated, before a byte changes (so VERR_DISK_FULL and
 * VERR_NO_MEMORY leave the file as it was).  Pass 2 inserts the new
 * chunks and copies; it cannot fail.
 */
static int node_write(mem_fs *fs, mem_node *n, uint64_t off, const uint8_t *src, size_t cb)
{
    if (cb == 0)
        return VINF_SUCCESS;
    if (off > fs->max_file_size || cb > fs->max_file_size - off)
        return VERR_DISK_FULL;
    const uint64_t end = off + cb, first = off >> CHUNK_SHIFT, last = (end - 1) >> CHUNK_SHIFT;
    uint8_t *local[32], **pages = local, **fresh;
    size_t need = 0, npages = 0, pos, i = 0;
    int rc = VINF_SUCCESS;

    pos = lower_bound(n, first);
    for (uint64_t ci = first, o = off; ci <= last; ci++) {
        size_t in = (size_t)(o & CHUNK_MASK);
        size_t len = (size_t)((ci == last ? end - (ci << CHUNK_SHIFT) : CHUNK_SIZE) - in);
        while (pos < n->nchunks && n->chunks[pos].idx < ci)
            pos++;
        bool present = pos < n->nchunks && n->chunks[pos].idx == ci;
        size_t np = chunk_pages_needed(present ? &n->chunks[pos] : NULL, in, src + (o - off), len);
        need += !present && np > 0;
        npages += np;
        o += len;
    }
    if (need > 0) {
        if ((uint64_t)need > (fs->max_bytes - fs->used) / CHUNK_SIZE)
            return VERR_DISK_FULL;
        if (n->nchunks + need > n->capchunks) {
            size_t cap = n->capchunks ? n->capchunks * 2 : 4;
            while (cap < n->nchunks + need)
                cap *= 2;
            mem_chunk *grown = realloc(n->chunks, cap * sizeof *grown);
            if (grown == NULL)
                return VERR_NO_MEMORY;
            n->chunks = grown;
            n->capchunks = cap;
        }
    }
    if (npages > sizeof local / sizeof local[0]) {
        pages = malloc(npages * sizeof *pages);
        if (pages == NULL)
            return VERR_NO_MEMORY;
    }
    for (; i < npages; i++) {
        pages[i] = page_get(fs);
        if (pages[i] == NULL) {
            rc = VERR_NO_MEMORY;
            goto out_free_pages;
        }
    }

    fresh = pages;
    pos = lower_bound(n, first);
    for (uint64_t ci = first, o = off; ci <= last; ci++) {
        size_t in = (size_t)(o & CHUNK_MASK);
        size_t len = (size_t)((ci == last ? end - (ci << CHUNK_SHIFT) : CHUNK_SIZE) - in);
        const uint8_t *p = src + (o - off);
        o += len;
        while (pos < n->nchunks && n->chunks[pos].idx < ci)
            pos++;
        if (!(pos < n->nchunks && n->chunks[pos].idx == ci)) {
            if (all_zero(p, len))
                continue; /* an absent chunk already reads as these zeros */
            memmove(&n->chunks[pos + 1], &n->chunks[pos], (n->nchunks - pos) * sizeof n->chunks[0]);
            memset(&n->chunks[pos], 0, sizeof n->chunks[pos]);
            n->chunks[pos].idx = ci;
            n->nchunks++;
        }
        chunk_write(&n->chunks[pos], in, p, len, &fresh);
    }
    fs->used += (uint64_t)need * CHUNK_SIZE;
    if (end > n->size)
        n->size = end;
    n->mtime = tick(fs);
    i = 0; /* every page is in the file now */

out_free_pages:
    while (i-- > 0)
        page_put(fs, pages[i]);
    if (pages != local)
        free(pages);
    return rc;
}

static int node_set_size(mem_fs *fs, mem_node *n, uint64_t cb)
{
    if (cb > fs->max_file_size)
        return VERR_DISK_FULL;
    if (cb < n->size) {
        /* Drop the chunks wholly past the end, clear the tail of the last. */
        node_free_chunks_from(fs, n, lower_bound(n, (cb >> CHUNK_SHIFT) + ((cb & CHUNK_MASK) != 0)));
        size_t pos = lower_bound(n, cb >> CHUNK_SHIFT);
        size_t in = (size_t)(cb & CHUNK_MASK);
        if (in != 0 && pos < n->nchunks && n->chunks[pos].idx == cb >> CHUNK_SHIFT) {
            mem_chunk *c = &n->chunks[pos];
            size_t pi = in >> PAGE_SHIFT, po = in & PAGE_MASK;
            if (po != 0 && c->page[pi] != NULL)
                memset(c->page[pi] + po, 0, PAGE_SIZE - po);
            chunk_free_pages(fs, c, pi + (po != 0)); /* the pages wholly past the end */
        }
    }
    n->size = cb;
    n->mtime = tick(fs);
    return VINF_SUCCESS;
}

/* --- the table of files ----------------------------------------------- */

static mem_node *node_new(const char *name)
{
    mem_node *n = calloc(1, sizeof *n);
    if (n == NULL)
        return NULL;
    n->name = strdup(name);
    if (n->name == NULL) {
        free(n);
        return NULL;
    }
    n->hash = name_hash(name);
    return n;
}

static int table_add(mem_fs *fs, mem_node *n)
{
    if (fs->nnodes == fs->capnodes) {
        size_t cap = fs->capnodes ? fs->capnodes * 2 : 8;
        mem_node **grown = realloc(fs->nodes, cap * sizeof *grown);
        if (grown == NULL)
            return VERR_NO_MEMORY;
        fs->nodes = grown;
        fs->capnodes = cap;
    }
    fs->nodes[fs->nnodes++] = n;
    return VINF_SUCCESS;
}

/* Takes the node at index out of the table: freed now when no handle has
 * it open, else orphaned (nameless) until its last close. */
static void table_unlink(mem_fs *fs, size_t index)
{
    mem_node *n = fs->nodes[index];
    fs->nodes[index] = fs->nodes[--fs->nnodes];
    if (n->handles == 0) {
        node_destroy(fs, n);
    } else {
        free(n->name);
        n->name = NULL;
    }
}

/* --- handles ---------------------------------------------------------- */

static mem_file *handle_get(mem_fs *fs)
{
    mem_file *f = fs->spare;
    if (f != NULL) {
        fs->spare = f->next;
        fs->nspare--;
        return f;
    }
    return malloc(sizeof *f);
}

static void handle_put(mem_fs *fs, mem_file *f)
{
    if (fs->nspare >= SPARE_HANDLES) {
        free(f);
        return;
    }
    f->next = fs->spare;
    fs->spare = f;
    fs->nspare++;
}

static bool deny_conflict(const mem_node *n, uint32_t access, uint32_t deny)
{
    return (n->deny_readers && (access & RTFILE_O_READ))
        || (n->deny_writers && (access & RTFILE_O_WRITE))
        || ((deny & RTFILE_O_DENY_READ) && n->readers)
        || ((deny & RTFILE_O_DENY_WRITE) && n->writers);
}

static int mem_open(vdc_fs *fsp, const char *name, uint32_t fOpen, vdc_file **out)
{
    mem_fs *fs = (mem_fs *)fsp;
    uint32_t access = fOpen & RTFILE_O_ACCESS_MASK;
    uint32_t action = fOpen & RTFILE_O_ACTION_MASK;
    uint32_t deny = fOpen & (RTFILE_O_DENY_READ | RTFILE_O_DENY_WRITE);
    bool truncate = (fOpen & RTFILE_O_TRUNCATE) != 0 || action == RTFILE_O_CREATE_REPLACE;
    mem_node *n;
    mem_file *f;
    int rc;

    if (out == NULL)
        return VERR_INVALID_PARAMETER;
    *out = NULL;
    if (!name_ok(name) || access == 0 || (truncate && !(access & RTFILE_O_WRITE)))
        return VERR_INVALID_PARAMETER;
    if (action != RTFILE_O_OPEN && action != RTFILE_O_OPEN_CREATE && action != RTFILE_O_CREATE
        && action != RTFILE_O_CREATE_REPLACE)
        return VERR_INVALID_PARAMETER;
    n = find_node(fs, name, NULL);
    if (n == NULL && action == RTFILE_O_OPEN)
        return VERR_FILE_NOT_FOUND;
    if (n != NULL && action == RTFILE_O_CREATE)
        return VERR_ALREADY_EXISTS;
    if (n != NULL && deny_conflict(n, access, deny))
        return VERR_SHARING_VIOLATION;
    f = handle_get(fs);
    if (f == NULL)
        return VERR_NO_MEMORY;
    if (n == NULL) {
        n = node_new(name);
        if (n == NULL) {
            rc = VERR_NO_MEMORY;
            goto out_put_handle;
        }
        rc = table_add(fs, n);
        if (RT_FAILURE(rc))
            goto out_destroy_node;
        n->mtime = tick(fs);
    } else if (truncate) {
        node_set_size(fs, n, 0); /* cannot fail for 0 */
    }
    f->base.fs = fsp;
    f->node = n;
    f->access = access;
    f->deny = deny;
    n->handles++;
    n->readers += (access & RTFILE_O_READ) != 0;
    n->writers += (access & RTFILE_O_WRITE) != 0;
    n->deny_readers += (deny & RTFILE_O_DENY_READ) != 0;
    n->deny_writers += (deny & RTFILE_O_DENY_WRITE) != 0;
    f->prev = NULL;
    f->next = fs->live;
    if (fs->live != NULL)
        fs->live->prev = f;
    fs->live = f;
    *out = &f->base;
    return VINF_SUCCESS;

out_destroy_node:
    node_destroy(fs, n);
out_put_handle:
    handle_put(fs, f);
    return rc;
}

static int mem_close(vdc_file *fp)
{
    if (fp == NULL)
        return VERR_INVALID_PARAMETER;
    mem_fs *fs = (mem_fs *)fp->fs;
    mem_file *f = (mem_file *)fp;
    mem_node *n = f->node;

    n->handles--;
    n->readers -= (f->access & RTFILE_O_READ) != 0;
    n->writers -= (f->access & RTFILE_O_WRITE) != 0;
    n->deny_readers -= (f->deny & RTFILE_O_DENY_READ) != 0;
    n->deny_writers -= (f->deny & RTFILE_O_DENY_WRITE) != 0;
    if (n->name == NULL && n->handles == 0)
        node_destroy(fs, n);
    if (f->prev != NULL)
        f->prev->next = f->next;
    else
        fs->live = f->next;
    if (f->next != NULL)
        f->next->prev = f->prev;
    handle_put(fs, f);
    return VINF_SUCCESS;
}

static int mem_remove(vdc_fs *fsp, const char *name)
{
    mem_fs *fs = (mem_fs *)fsp;
    size_t index;
    if (!name_ok(name))
        return VERR_INVALID_PARAMETER;
    if (find_node(fs, name, &index) == NULL)
        return VERR_FILE_NOT_FOUND;
    table_unlink(fs, index);
    return VINF_SUCCESS;
}

static int mem_rename(vdc_fs *fsp, const char *src, const char *dst, unsigned fMove)
{
    mem_fs *fs = (mem_fs *)fsp;
    size_t idst;
    mem_node *ns, *nd;
    char *newname;

    if (!name_ok(src) || !name_ok(dst) || (fMove & ~RTFILEMOVE_FLAGS_REPLACE) != 0)
        return VERR_INVALID_PARAMETER;
    ns = find_node(fs, src, NULL);
    if (ns == NULL)
        return VERR_FILE_NOT_FOUND;
    nd = find_node(fs, dst, &idst);
    if (nd != NULL && !(fMove & RTFILEMOVE_FLAGS_REPLACE))
        return VERR_ALREADY_EXISTS;
    if (nd == ns)
        return VINF_SUCCESS; /* replacing a file by itself */
    newname = strdup(dst);
    if (newname == NULL)
        return VERR_NO_MEMORY;
    if (nd != NULL)
        table_unlink(fs, idst);
    free(ns->name);
    ns->name = newname;
    ns->hash = name_hash(newname);
    return VINF_SUCCESS;
}

static int mem_free_space(vdc_fs *fsp, const char *name, int64_t *pcb)
{
    mem_fs *fs = (mem_fs *)fsp;
    if (!name_ok(name) || pcb == NULL)
        return VERR_INVALID_PARAMETER;
    uint64_t free_bytes = fs->max_bytes - fs->used;
    *pcb = free_bytes > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)free_bytes;
    return VINF_SUCCESS;
}

static int mem_mtime(vdc_fs *fsp, const char *name, int64_t *pns)
{
    if (!name_ok(name) || pns == NULL)
        return VERR_INVALID_PARAMETER;
    mem_node *n = find_node((mem_fs *)fsp, name, NULL);
    if (n == NULL)
        return VERR_FILE_NOT_FOUND;
    *pns = n->mtime;
    return VINF_SUCCESS;
}

static int mem_get_size(vdc_file *fp, uint64_t *pcb)
{
    if (fp == NULL || pcb == NULL)
        return VERR_INVALID_PARAMETER;
    *pcb = ((mem_file *)fp)->node->size;
    return VINF_SUCCESS;
}

static int mem_set_size(vdc_file *fp, uint64_t cb)
{
    mem_file *f = (mem_file *)fp;
    if (f == NULL)
        return VERR_INVALID_PARAMETER;
    if (!(f->access & RTFILE_O_WRITE))
        return VERR_ACCESS_DENIED;
    return node_set_size((mem_fs *)fp->fs, f->node, cb);
}

static int mem_read(vdc_file *fp, uint64_t off, void *buf, size_t cb)
{
    mem_file *f = (mem_file *)fp;
    if (f == NULL || (buf == NULL && cb != 0))
        return VERR_INVALID_PARAMETER;
    if (!(f->access & RTFILE_O_READ))
        return VERR_ACCESS_DENIED;
    if (off > f->node->size || cb > f->node->size - off)
        return VERR_EOF;
    node_read(f->node, off, buf, cb);
    return VINF_SUCCESS;
}

static int mem_write(vdc_file *fp, uint64_t off, const void *buf, size_t cb)
{
    mem_file *f = (mem_file *)fp;
    if (f == NULL || (buf == NULL && cb != 0))
        return VERR_INVALID_PARAMETER;
    if (!(f->access & RTFILE_O_WRITE))
        return VERR_ACCESS_DENIED;
    return node_write((mem_fs *)fp->fs, f->node, off, buf, cb);
}

static int mem_flush(vdc_file *fp)
{
    return fp == NULL ? VERR_INVALID_PARAMETER : VINF_SUCCESS;
}

/* Every file goes, and handles still open are closed (contract: there
 * should be none); the handle and page spares stay. */
static void mem_clear(mem_fs *fs)
{
    while (fs->live != NULL)
        mem_close(&fs->live->base);
    for (size_t i = 0; i < fs->nnodes; i++)
        node_destroy(fs, fs->nodes[i]);
    fs->nnodes = 0;
    fs->clock = 0;
}

static void mem_destroy(vdc_fs *fsp)
{
    mem_fs *fs = (mem_fs *)fsp;
    mem_clear(fs);
    free(fs->nodes);
    while (fs->spare != NULL) {
        mem_file *next = fs->spare->next;
        free(fs->spare);
        fs->spare = next;
    }
    while (fs->npool > 0)
        free(page_get(fs));
    free(fs);
}

static const vdc_fs_ops mem_ops = {
    .open = mem_open,
    .close = mem_close,
    .remove = mem_remove,
    .rename = mem_rename,
    .free_space = mem_free_space,
    .mtime = mem_mtime,
    .get_size = mem_get_size,
    .set_size = mem_set_size,
    .allocate = mem_set_size, /* sparse: nothing to reserve */
    .read = mem_read,
    .write = mem_write,
    .flush = mem_flush,
    .destroy = mem_destroy,
};

vdc_fs *vdc_fs_mem_new(uint64_t max_bytes, uint64_t max_file_size)
{
    mem_fs *fs = calloc(1, sizeof *fs);
    if (fs == NULL)
        return NULL;
    fs->base.ops = &mem_ops;
    fs->max_bytes = max_bytes != 0 ? max_bytes : DEFAULT_MAX_BYTES;
    fs->max_file_size = max_file_size != 0 ? max_file_size : DEFAULT_MAX_FILE_SIZE;
    return &fs->base;
}

int vdc_fs_mem_put(vdc_fs *fsp, const char *name, const void *data, size_t cb)
{
    mem_fs *fs = (mem_fs *)fsp;
    size_t index;
    mem_node *old, *n;
    uint64_t freeable;
    int rc;

    if (fsp == NULL || fsp->ops != &mem_ops)
        return VERR_NOT_SUPPORTED;
    if (!name_ok(name) || (data == NULL && cb != 0))
        return VERR_INVALID_PARAMETER;
    old = find_node(fs, name, &index);
    n = node_new(name);
    if (n == NULL)
        return VERR_NO_MEMORY;
    /* The old file's memory counts as free when this put frees it. */
    freeable = old != NULL && old->handles == 0 ? (uint64_t)old->nchunks * CHUNK_SIZE : 0;
    fs->used -= freeable;
    rc = node_write(fs, n, 0, data, cb);
    fs->used += freeable;
    if (RT_FAILURE(rc))
        goto out_destroy_node;
    n->mtime = tick(fs);
    if (old != NULL) {
        table_unlink(fs, index);
        fs->nodes[fs->nnodes++] = n; /* the slot just freed */
    } else {
        rc = table_add(fs, n);
        if (RT_FAILURE(rc))
            goto out_destroy_node;
    }
    return VINF_SUCCESS;

out_destroy_node:
    node_destroy(fs, n);
    return rc;
}

int vdc_fs_mem_clear(vdc_fs *fsp)
{
    if (fsp == NULL || fsp->ops != &mem_ops)
        return VERR_NOT_SUPPORTED;
    mem_clear((mem_fs *)fsp);
    return VINF_SUCCESS;
}

int vdc_fs_mem_peek(vdc_fs *fsp, const char *name, uint64_t off, void *buf, size_t cb)
{
    if (fsp == NULL || fsp->ops != &mem_ops)
        return VERR_NOT_SUPPORTED;
    if (!name_ok(name) || (buf == NULL && cb != 0))
        return VERR_INVALID_PARAMETER;
    mem_node *n = find_node((mem_fs *)fsp, name, NULL);
    if (n == NULL)
        return VERR_FILE_NOT_FOUND;
    if (off > n->size || cb > n->size - off)
        return VERR_EOF;
    node_read(n, off, buf, cb);
    return VINF_SUCCESS;
}
