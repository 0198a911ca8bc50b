/*
 * harness/host/vd.h - the one VD driver: single pfnRead/pfnWrite calls made
 * as VD makes them, judged against the protocol, and VD's read loop and
 * cache-write loop built on them.
 *
 * Every tool that plays VD (replay, observe, the workload driver, the
 * hostile checker, bench, the fuzz targets) calls the backend's data path
 * through here, so each protocol rule is judged in one place.  Callers keep
 * their own reporting: the driver says what happened and which clause an
 * answer broke, the caller words it.
 *
 * One call (vdc_vd_read, vdc_vd_write): a fresh synchronous I/O context
 * over the caller's buffer (vdc_host_ioctx_init, or vdc_ioctx_init_buf when
 * the driver has no host), the output count preset to VDC_VD_SENTINEL, and
 * the answer judged (spec/contract.md READ-1, READ-2, READ-4, WRITE-1;
 * spec/trace-format.md section 6.4):
 *   - a success (RT_SUCCESS) or, for reads, a miss (VERR_VD_BLOCK_FREE) is
 *     "counted": its count must be set, in 1..cb, and a hit must have moved
 *     exactly that many bytes through the context, a miss none;
 *   - a write that reports the whole request processed (count == cb) while
 *     taking fewer bytes from the context DECLINES the rest: VD's
 *     cache-write loop ends there and never looks at the context again, so
 *     nothing is misplaced; the bytes taken (the first `moved`) are stored
 *     data, the rest is forgotten and must read as a miss (a hit there is a
 *     lie, READ-1).  Only a count below cb with a different number of bytes
 *     taken breaks WRITE-1: VD's next call starts where the count says,
 *     the context elsewhere (spec/contract.md WRITE-1, spec/vbox-behaviour.md
 *     section 7 "The cache-write loop");
 *   - VERR_VD_ASYNC_IO_IN_PROGRESS on the synchronous context breaks READ-4
 *     (reads) or WRITE-1 (writes); it is not counted;
 *   - any other failure status is not judged here.
 *
 * The loops (spec/trace-format.md 7.6 and 7.7; VD's vdReadHelper and
 * vdCacheWriteHelper): the read loop asks for the rest of the request (or
 * at most max_xfer bytes), advances by the count whether hit or miss, and,
 * with fill, writes what VD read from the image chain for a miss into the
 * cache through the cache-write loop, whose failure ends the read loop with
 * that status.  The cache-write loop offers the rest of the request until
 * it is covered.  An answer hook sees every call's judged answer and
 * decides whether to go on; a count the loop cannot advance by (unset, 0,
 * above the request) always ends it.
 *
 * Statuses: the loops report the ending status in vdc_vd_loop.rc: the
 * backend's failure status, VINF_SUCCESS or VERR_VD_BLOCK_FREE (a read loop
 * that saw a miss), or VERR_NO_MEMORY when the fill hook had no buffer.
 * No allocation, no global state.
 */
#ifndef VDCC_HARNESS_HOST_VD_H
#define VDCC_HARNESS_HOST_VD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../spec/vdcache.h"
#include "host.h"

/* The output count before the call: "did not set it" is told apart from 0. */
#define VDC_VD_SENTINEL ((size_t)0xC0DEDEADBEEF5A5AULL)

typedef enum vdc_vd_rule {
    VDC_VD_RULE_NONE = 0,
    VDC_VD_RULE_UNSET,      /* counted answer, output count not set */
    VDC_VD_RULE_ZERO,       /* counted answer with a count of 0: VD would loop forever */
    VDC_VD_RULE_OVERRUN,    /* counted answer with a count above the request */
    VDC_VD_RULE_MOVED,      /* hit, or a write of less than asked: bytes moved != count */
    VDC_VD_RULE_MISS_MOVED, /* miss that moved bytes through the context */
    VDC_VD_RULE_ASYNC       /* VERR_VD_ASYNC_IO_IN_PROGRESS on a synchronous context */
} vdc_vd_rule;

/* One judged answer. */
typedef struct vdc_vd_io {
    bool        write;   /* pfnWrite (else pfnRead) */
    bool        stopped; /* the after hook stopped the caller: nothing else is meaningful */
    int         rc;      /* the backend's status */
    uint64_t    off;     /* the request */
    size_t      asked;
    size_t      count;   /* the count it reported; VDC_VD_SENTINEL when not set */
    size_t      moved;   /* bytes that went through the context */
    vdc_vd_rule rule;    /* the protocol rule broken, or VDC_VD_RULE_NONE */
    bool        declined; /* a write that declined [off + moved, off + count): see above */
    const char *clause;  /* "READ-1", "READ-2", "READ-4", "WRITE-1"; NULL with no rule broken */
} vdc_vd_io;

/* A request VD never sends: offset or length not a multiple of 512
 * (spec/contract.md "What VD never asks"); a backend may refuse it. */
bool vdc_vd_unaligned(const vdc_vd_io *io);
/* A success, or for reads a miss: the count is part of the answer. */
bool vdc_vd_counted(const vdc_vd_io *io);
/* A counted answer whose count a loop can advance by (set, 1..asked). */
bool vdc_vd_usable(const vdc_vd_io *io);
bool vdc_vd_is_hit(const vdc_vd_io *io);  /* counted read success */
bool vdc_vd_is_miss(const vdc_vd_io *io); /* counted read VERR_VD_BLOCK_FREE */

/* The backend instance VD talks to, with optional per-call hooks (timing,
 * heartbeats, misuse accounting).  after returning false stops the caller
 * (the answer is marked stopped and the loops end). */
typedef struct vdc_vd {
    const VDCACHEBACKEND *be;
    void                 *bd;
    vdc_host             *host; /* NULL: contexts with the default data unit */
    void                 *user;
    void (*before)(void *user, bool write, uint64_t off, size_t cb);
    bool (*after)(void *user, bool write);
} vdc_vd;

vdc_vd_io vdc_vd_read(const vdc_vd *vd, uint64_t off, void *buf, size_t cb);
vdc_vd_io vdc_vd_write(const vdc_vd *vd, uint64_t off, const void *buf, size_t cb);

/* What the answer hook tells a loop. */
typedef enum vdc_vd_next {
    VDC_VD_NEXT = 0, /* as VD: advance by a usable count; a failure ends the loop */
    VDC_VD_SKIP,     /* a failure: skip the request asked and go on (tolerant drivers) */
    VDC_VD_ABORT     /* stop the loop now */
} vdc_vd_next;

typedef struct vdc_vd_loop_opts {
    size_t   max_xfer;  /* read loop: 0 asks for the whole rest into buf + done; else at most
                         * max_xfer bytes per call, each into buf[0..max_xfer) */
    uint64_t max_calls; /* 0: no limit; more calls than this end the loop (VDC_VD_END_LIMIT) */
    int      poison;    /* >= 0: the read window is set to this byte before each call */
    bool     fill;      /* read loop: write each miss into the cache (needs fill_data) */
    void    *user;
    /* Every answer, judged, with its data window (read: what arrived;
     * write: what was offered).  NULL: VDC_VD_NEXT. */
    vdc_vd_next (*answer)(void *user, const vdc_vd_io *io, uint8_t *data);
    /* A miss at [off, off + cb): the bytes VD read from the image chain,
     * to be written to the cache (may fill and return window, cb bytes).
     * NULL ends the loop with VERR_NO_MEMORY. */
    const uint8_t *(*fill_data)(void *user, uint64_t off, uint8_t *window, size_t cb);
} vdc_vd_loop_opts;

typedef enum vdc_vd_end {
    VDC_VD_END_DONE = 0, /* the request was covered */
    VDC_VD_END_FAILED,   /* a failure status ended it (rc) */
    VDC_VD_END_BROKE,    /* an answer's count could not be advanced by (last) */
    VDC_VD_END_STOPPED,  /* a hook stopped it */
    VDC_VD_END_LIMIT,    /* more calls than max_calls */
    VDC_VD_END_NOMEM     /* the fill hook had no buffer */
} vdc_vd_end;

typedef struct vdc_vd_loop {
    vdc_vd_end end;
    int        rc;      /* DONE: VINF_SUCCESS or VERR_VD_BLOCK_FREE (a read saw a miss);
                         * FAILED: the failure; NOMEM: VERR_NO_MEMORY; else last.rc */
    uint64_t   done;    /* bytes covered (skipped requests included) */
    uint64_t   hit, miss;
    uint64_t   calls;   /* backend calls made, cache writes of fills included */
    vdc_vd_io  last;    /* the last answer (BROKE: the one that broke) */
} vdc_vd_loop;

/* VD's read loop over buf for [off, off + len). */
vdc_vd_loop vdc_vd_read_loop(const vdc_vd *vd, const vdc_vd_loop_opts *o, uint64_t off, uint8_t *buf,
                             uint64_t len);
/* VD's cache-write loop of src[0..len) at off. */
vdc_vd_loop vdc_vd_write_loop(const vdc_vd *vd, const vdc_vd_loop_opts *o, uint64_t off, const uint8_t *src,
                              uint64_t len);

#endif /* VDCC_HARNESS_HOST_VD_H */
