/*
 * ref/vci_verify.c - the allocation proof of vci_verify.h (spec/vci-format.md
 * section 11).  Contract and status codes: vci_verify.h.
 *
 * Arithmetic is modulo the Mersenne prime p = 2^61 - 1.  For a range of n
 * blocks from a, the sum of r^b is r^a (r^n - 1) / (r - 1).  Two distinct
 * multisets of block numbers below 2^32 give two distinct polynomials of
 * degree below 2^32; they agree at a random point with probability at most
 * 2^32 / p < 2^-28.
 */
#include "vci_verify.h"

#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>
#ifdef VDCC_MSAN
# include <sanitizer/msan_interface.h>
#endif

#define P61 ((UINT64_C(1) << 61) - 1)

static uint64_t mod_mul(uint64_t a, uint64_t b)
{
    unsigned __int128 x = (unsigned __int128)a * b;
    uint64_t lo = (uint64_t)(x & P61), hi = (uint64_t)(x >> 61);
    uint64_t s = lo + hi; /* <= 2p */
    if (s >= P61)
        s -= P61;
    if (s >= P61)
        s -= P61;
    return s;
}

static uint64_t mod_add(uint64_t a, uint64_t b)
{
    uint64_t s = a + b;
    return s >= P61 ? s - P61 : s;
}

static uint64_t mod_pow(uint64_t base, uint64_t e)
{
    uint64_t r = 1;
    while (e > 0) {
        if (e & 1)
            r = mod_mul(r, base);
        base = mod_mul(base, base);
        e >>= 1;
    }
    return r;
}

typedef struct fp {
    uint64_t r, inv_r1;   /* the point, 1/(r-1) */
    uint64_t sum;         /* sum of r^b */
    uint64_t count;       /* blocks */
    uint64_t r2k[64];     /* r^(2^k): a power of r is a product of these */
} fp;

/* r^e: the product of r^(2^k) over the bits k of e (the same value
 * mod_pow(r, e) computes, with half the multiplications: every range of
 * the tree and of the bitmap costs two powers). */
static uint64_t fp_pow(const fp *f, uint64_t e)
{
    uint64_t v = 1;
    for (unsigned k = 0; e != 0; k++, e >>= 1)
        if (e & 1)
            v = mod_mul(v, f->r2k[k]);
    return v;
}

static void fp_init(fp *f)
{
    uuid_t u;
    uuid_generate_random(u);
#ifdef VDCC_MSAN
    __msan_unpoison(u, sizeof(u));
#endif
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++)
        v = (v << 8) | u[i];
    f->r = 2 + v % (P61 - 3); /* 2 .. p-2: r - 1 is invertible */
    f->inv_r1 = mod_pow(f->r - 1, P61 - 2);
    f->r2k[0] = f->r;
    for (unsigned k = 1; k < 64; k++)
        f->r2k[k] = mod_mul(f->r2k[k - 1], f->r2k[k - 1]);
    f->sum = 0;
    f->count = 0;
}

static void fp_add_range(fp *f, uint64_t a, uint64_t n)
{
    uint64_t rn1 = fp_pow(f, n) + P61 - 1; /* r^n - 1, kept non-negative */
    if (rn1 >= P61)
        rn1 -= P61;
    f->sum = mod_add(f->sum, mod_mul(mod_mul(fp_pow(f, a), rn1), f->inv_r1));
    f->count += n;
}

/* ---- the tree's side ------------------------------------------------------- */

typedef struct tside {
    fp           f;
    uint64_t     cblocks;
    uint64_t     nodes, data;
    uint64_t     data_end;  /* first block past every extent's data */
    bool         outside;
    vci_corrupt *rec;       /* the file's corruption record (vci_io.corrupt) */
} tside;

static int visit(void *ctx, const vci_node *n, uint64_t addr, unsigned depth)
{
    tside *ts = ctx;
    (void)depth;
    if (addr + VCI_NODE_BLOCKS > ts->cblocks) {
        ts->outside = true;
        return VCI_CORRUPT(ts->rec, "node outside the image");
    }
    fp_add_range(&ts->f, addr, VCI_NODE_BLOCKS);
    ts->nodes++;
    if (n->type == VCI_NODE_LEAF) {
        for (unsigned i = 0; i < n->n; i++) {
            uint64_t end = n->u.l.addr[i] + n->u.l.count[i];
            fp_add_range(&ts->f, n->u.l.addr[i], n->u.l.count[i]);
            ts->data += n->u.l.count[i];
            if (end > ts->data_end)
                ts->data_end = end;
        }
    }
    return VINF_SUCCESS;
}

/* ---- the bitmap's side ---------------------------------------------------------- */

static int stream_bitmap(vci_io *io, const vci_header *h, fp *f)
{
    uint64_t bytes = ((uint64_t)h->bm_blocks - 1) * VCI_BLOCK_SIZE;
    /* 64 KiB at a time, or the whole bitmap of a small image (a large
     * buffer per check is a cost of its own under the sanitizers). */
    const size_t chunk = bytes >= 64 * 1024 ? 64 * 1024 : bytes > 0 ? (size_t)bytes : 1;
    uint64_t base = (h->bm_addr + 1) * VCI_BLOCK_SIZE;
    uint8_t *buf = malloc(chunk);
    if (buf == NULL)
        return VERR_NO_MEMORY;
    int rc = VINF_SUCCESS;
    uint64_t run_start = 0, run_len = 0;
    for (uint64_t off = 0; off < bytes && RT_SUCCESS(rc); off += chunk) {
        size_t len = bytes - off < chunk ? (size_t)(bytes - off) : chunk;
        rc = vci_io_read_meta(io, base + off, buf, len);
        if (RT_FAILURE(rc))
            break;
        for (size_t i = 0; i < len; i++) {
            uint8_t byte = buf[i];
            uint64_t blk = (off + i) * 8;
            if (byte == 0) {
                if (run_len > 0) {
                    fp_add_range(f, run_start, run_len);
                    run_len = 0;
                }
                while (i + 8 < len && memcmp(buf + i + 1, "\0\0\0\0\0\0\0\0", 8) == 0)
                    i += 8; /* long free stretches */
                continue;
            }
            if (byte == 0xFF && blk + 8 <= h->cblocks) {
                if (run_len == 0)
                    run_start = blk;
                run_len += 8;
                continue;
            }
            for (unsigned bit = 0; bit < 8; bit++) {
                if ((byte >> bit) & 1) {
                    if (blk + bit >= h->cblocks) {
                        rc = VCI_CORRUPT(&io->corrupt, "bitmap padding bit set");
                        break;
                    }
                    if (run_len == 0)
                        run_start = blk + bit;
                    run_len++;
                } else if (run_len > 0) {
                    fp_add_range(f, run_start, run_len);
                    run_len = 0;
                }
            }
            if (RT_FAILURE(rc))
                break;
        }
    }
    if (RT_SUCCESS(rc) && run_len > 0)
        fp_add_range(f, run_start, run_len);
    free(buf);
    return rc;
}

int vci_verify_allocation(vci_tree *t, vci_io *io, const vci_header *h, const vci_bmhdr *counts)
{
    tside ts;
    memset(&ts, 0, sizeof(ts));
    fp_init(&ts.f);
    ts.cblocks = h->cblocks;
    ts.rec = &io->corrupt;
    fp bm = ts.f; /* the same point, its own sums */
    fp_add_range(&ts.f, 0, VCI_HDR_BLOCKS);
    fp_add_range(&ts.f, h->bm_addr, h->bm_blocks);
    int rc = vci_tree_walk(t, h->cblocks / VCI_NODE_BLOCKS + 1, visit, &ts);
    if (RT_FAILURE(rc))
        return rc;
    rc = stream_bitmap(io, h, &bm);
    if (RT_FAILURE(rc))
        return rc;
    uint64_t meta = VCI_HDR_BLOCKS + h->bm_blocks + ts.nodes * VCI_NODE_BLOCKS;
    if (bm.count != ts.f.count || bm.sum != ts.f.sum || counts->meta != meta || counts->data != ts.data)
        return VCI_CORRUPT(&io->corrupt, "bitmap or counters disagree with the tree");
    /* Data is written in whole blocks before the node that maps it, so in a
     * consistent image every extent ends inside the file.  One that ends
     * past it lost its data (a truncated file, or a data write lost in a
     * crash): those bytes would read as whatever later growth of the file
     * puts there, which is a lie, not a miss.  (Decoded extents lie below
     * cBlocks < 2^32, so the product cannot overflow.) */
    if (ts.data_end * VCI_BLOCK_SIZE > io->file_size)
        return VCI_CORRUPT(&io->corrupt, "extent data past the end of the file");
    return VINF_SUCCESS;
}
