/*
 * harness/reliability/workload.h - workloads for the crash and fault tests,
 * and the driver that runs one against a backend through the host.
 *
 * The trace replay engine (harness/trace/replay.h) builds its own storage,
 * so crash recording and fault injection cannot be slipped under it; this
 * driver plays VD's part itself over any vdc_fs (usually a stack such as
 * crash(mem) or fault(mem)), one backend call at a time, and checks each
 * call as it goes:
 *  - shapes: a read hit or miss and a write report a count in 1..cb and
 *    move exactly that (READ-1, READ-2, WRITE-1), never ASYNC_IO_IN_PROGRESS
 *    on the synchronous context (READ-4);
 *  - data: every hit is judged by a model (model.h) of what was written;
 *  - the host: no misuse (HOST-1), no storage left open after a close
 *    (HOST-3), a modification UUID that was set reads back (UUID-1).
 * With `tolerate_errors` (fault sweeps) a call may fail: the driver records
 * it, feeds failed writes to the model as "maybe" data, and goes on; an op
 * that needs an open instance when there is none first tries pfnOpen (as a
 * user reopening the cache would).  Without it, any failure is a violation.
 * With `transient` too (the fault fires once), a failed pfnSetOpenFlags is
 * followed by pfnGetOpenFlags and a read of [0, 512): the refused flags
 * reported as the instance's, or a failure status other than a miss from
 * the read, are INFO-6 quality warnings (VD keeps its previous flags; an
 * instance that no longer serves fails VD's reads); a hit is judged as any
 * other.
 *
 * Every backend call becomes one vdc_wl_call, with the number of events the
 * crash fs (fs_crash.h) had recorded before and after it, which is how the
 * crash test knows what had completed at each crash point.
 *
 * Ops (vdc_wop):
 *   CREATE  pfnCreate(name, size, image_flags, NULL comment, uuid, open_flags)
 *   OPEN    pfnOpen(name, open_flags)
 *   CLOSE   pfnClose(bd, del)
 *   WRITE   VD's write loop over [off, off+len): pfnWrite until all is processed
 *   READ    VD's read loop over [off, off+len), checking hits
 *   FLUSH   pfnFlush
 *   DISCARD one pfnDiscard of [off, off+len) (skipped when the backend has none)
 *   SETUUID pfnSetModificationUuid, then pfnGetModificationUuid must match
 *   SETFLAGS pfnSetOpenFlags(open_flags); on success the instance's
 *           read-only state follows VD_OPEN_FLAGS_READONLY (a trace's
 *           set-open-flags converts when, of VD's flags, it sets at most
 *           READONLY; bits outside VD_OPEN_FLAGS_MASK pass as they are)
 * Expected statuses (ops from traces): an op may carry the status list of
 * its record (vdc_wl_expect).  Without one, only success is accepted (as
 * before).  With one, a call whose status the list accepts is no
 * violation, and a failure it accepts is a refusal: the model takes
 * nothing from it (a refused write/discard/set changed nothing, so data it
 * carried is not acceptable afterwards).  A success the list does not
 * accept is a violation (and, having succeeded, is applied).  For reads
 * the hit/miss alternatives are judged by the model as always; a failure
 * status is accepted when a STATUS/failure/any alternative matches it.
 * A generated workload opens with CREATE and ends with CLOSE.
 *
 * No global state.
 */
#ifndef VDCC_HARNESS_RELIABILITY_WORKLOAD_H
#define VDCC_HARNESS_RELIABILITY_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../spec/vdcache.h"
#include "../host/fs.h"
#include "../host/host.h"
#include "model.h"

typedef enum vdc_wop_kind {
    VDC_WOP_CREATE = 1, VDC_WOP_OPEN, VDC_WOP_CLOSE, VDC_WOP_WRITE, VDC_WOP_READ,
    VDC_WOP_FLUSH, VDC_WOP_DISCARD, VDC_WOP_SETUUID, VDC_WOP_SETFLAGS
} vdc_wop_kind;

/* The status list a trace record gave its call (n 0: success only). */
#define VDC_WL_MAX_ALTS 8u
typedef enum vdc_wl_alt_kind {
    VDC_WL_ALT_STATUS = 1, /* exactly `status` */
    VDC_WL_ALT_SUCCESS,    /* any RT_SUCCESS (hit and miss count as success for reads) */
    VDC_WL_ALT_FAILURE,    /* any RT_FAILURE */
    VDC_WL_ALT_ANY         /* anything */
} vdc_wl_alt_kind;
typedef struct vdc_wl_expect {
    unsigned n;
    struct { vdc_wl_alt_kind kind; int status; } alt[VDC_WL_MAX_ALTS];
} vdc_wl_expect;

/* Whether e accepts status rc (n 0: RT_SUCCESS(rc)). */
bool vdc_wl_expect_accepts(const vdc_wl_expect *e, int rc);

typedef struct vdc_wop {
    vdc_wop_kind kind;
    uint64_t     off, len;     /* WRITE, READ, DISCARD; CREATE: len = capacity */
    unsigned     open_flags;   /* CREATE, OPEN, SETFLAGS */
    unsigned     image_flags;  /* CREATE */
    bool         del;          /* CLOSE */
    uint64_t     seed;         /* WRITE data (when data is NULL), SETUUID value */
    uint8_t     *data;         /* WRITE: len bytes (owned), or NULL: from seed */
    vdc_wl_expect expect;      /* the statuses accepted (n 0: success only) */
} vdc_wop;

typedef struct vdc_workload {
    char     *name;            /* image file name in the storage (owned) */
    vdc_wop  *ops;
    size_t    n, cap;
    uint64_t  span;            /* end of the highest byte any op touches */
} vdc_workload;

typedef struct vdc_wl_params {
    uint64_t capacity;   /* create size in bytes; 0: 128 KiB */
    uint64_t vsize;      /* virtual bytes ops touch; 0: 2 * capacity */
    unsigned max_write;  /* largest write in bytes; 0: 16 KiB */
    bool     fixed;      /* create with VD_IMAGE_FLAGS_FIXED */
    bool     no_discard; /* generate no DISCARD */
    bool     no_reopen;  /* generate no CLOSE/OPEN in the middle */
} vdc_wl_params;

/* The byte at x of the data a generated WRITE with `seed` writes. */
uint8_t vdc_wl_byte(uint64_t seed, uint64_t x);

/*
 * A random workload of nops ops (plus the opening CREATE and closing
 * CLOSE), fully determined by seed and p (NULL: defaults).  Returns
 * VINF_SUCCESS, VERR_INVALID_PARAMETER (out NULL, nops 0, capacity not a
 * multiple of 512, vsize < 4096), VERR_NO_MEMORY.
 */
int vdc_workload_gen(uint64_t seed, unsigned nops, const vdc_wl_params *p, vdc_workload **out);

/*
 * Builds a workload from the records of a trace (trace.h) that act on the
 * first image handle that a create/open allowed to succeed names: create,
 * open (of that handle's file), close, read, write, vdread, vdwrite, flush,
 * discard, set-open-flags and set-mod-uuid with a literal UUID, each with
 * its record's MUST status list (vdc_wl_expect; hit/miss become success);
 * everything else (getters, other handles, host-side records, data
 * expectations, SHOULD lists) is ignored.  Write data comes from the
 * record's data segments.  Returns VINF_SUCCESS, VERR_INVALID_PARAMETER
 * (the trace has no create/open, or a transfer over 16 MiB; err says
 * which), VERR_NOT_SUPPORTED (a record the workload cannot express: a
 * set-open-flags other than toggling VD_OPEN_FLAGS_READONLY on a normal
 * handle, a vdread with fill, or, in a trace with `config` records, a
 * create or open of the handle expected to fail: the keys are not passed
 * to the workload, so the failure they cause would not happen; err says
 * which), VERR_NO_MEMORY.
 */
struct vdc_trace;
int vdc_workload_from_trace(const struct vdc_trace *t, vdc_workload **out, char *err, size_t cb_err);

void vdc_workload_free(vdc_workload *w);

/* One backend call the driver made. */
typedef struct vdc_wl_call {
    vdc_wop_kind kind;         /* CLOSE/OPEN for the implicit reopen too */
    uint32_t     op;           /* index of the op it belongs to */
    int          rc;
    uint64_t     off, len;     /* the call's range (WRITE/READ/DISCARD); CLOSE: len 1 = fDelete */
    uint64_t     done;         /* count reported (processed / read / discarded) */
    uint64_t     ev_start, ev_end; /* crash-fs events before and after */
    uint64_t     data_at;      /* WRITE: its bytes are result->arena + data_at */
    bool         refused;      /* a failure the op's expectation accepts: changed nothing */
} vdc_wl_call;

/* A deep format check of image `name` in fs: VINF_SUCCESS when it is a
 * valid image, else a failure status with msg saying why. */
typedef int (*vdc_deep_check_fn)(void *user, vdc_fs *fs, const char *name, char *msg, size_t cb_msg);

typedef struct vdc_wl_opts {
    const VDCACHEBACKEND *be;
    vdc_fs   *fs;              /* the storage the host is built over */
    const vdc_fs *rec;         /* a crash fs in that stack, for event counts (may be NULL) */
    bool      tolerate_errors;
    bool      transient;       /* with tolerate_errors: the injected fault fires
                                * once, so the backend is expected to recover
                                * (INFO-6 quality warnings, below) */
    bool      keep_calls;      /* fill result->calls (the crash test needs them) */
    unsigned  max_calls_per_op;/* loop guard; 0: 16 + 2 * (len / 512) */
    volatile uint64_t *heartbeat; /* incremented before each call (may be NULL) */
    /* Asked before each op (may be NULL): true ends the run there (the
     * open instance is closed), e.g. once a crash recorder has overflowed
     * and the rest of the run could not be used. */
    bool    (*stop)(void *user);
    void     *stop_user;
    /* Run after every successful flush (except on an instance opened with
     * VD_OPEN_FLAGS_IGNORE_FLUSH) and every successful close that keeps
     * the file (may be NULL): a failure is a violation (VCI-1).
     * Only for runs without injected faults.  It reads deep_fs (NULL: fs),
     * e.g. the storage under a fault layer, so that the check's own reads
     * are not counted as the workload's operations. */
    vdc_deep_check_fn deep_check;
    void     *deep_user;
    vdc_fs   *deep_fs;
} vdc_wl_opts;

typedef struct vdc_wl_result {
    uint64_t     violations;
    char         first[1024];  /* the first violation, explained */
    uint64_t     warnings;     /* SHOULD failures (INFO-6), never violations */
    char         warning[512]; /* the first warning, explained */
    vdc_wl_call *calls;        /* keep_calls: every call, in order (owned) */
    size_t       ncalls, capcalls;
    uint64_t     total_calls;
    uint64_t     failed_calls; /* calls that returned a failure status */
    uint64_t     hits, misses; /* read calls by outcome */
    vdc_model   *model;        /* what may be served after the run (owned) */
    bool         open_at_end;  /* an instance was still open (it is closed) */
    bool         stopped;      /* o->stop ended the run early */
    uint64_t     misuse;       /* host misuse counted */
    uint8_t     *arena;        /* the write data calls point into (owned) */
    size_t       narena, caparena;
} vdc_wl_result;

/*
 * Runs w.  The result must be released with vdc_wl_result_free even on
 * failure.  Returns VINF_SUCCESS when the run finished (violations are in
 * r), VERR_INVALID_PARAMETER (NULL arguments, a workload without name),
 * VERR_NO_MEMORY.  An instance still open at the end is closed.
 */
int vdc_wl_run(const vdc_workload *w, const vdc_wl_opts *o, vdc_wl_result *r);
void vdc_wl_result_free(vdc_wl_result *r);

/* Flags of the read checks below. */
#define VDC_RC_TOLERATE    0x1u /* a failure status is not a violation: the loop
                                  * counts it, skips that request and goes on */
#define VDC_RC_AFTER_CRASH 0x2u /* pending discards may be undone (model.h) */

/* What the read checks saw (added to), and an optional scratch buffer of
 * VDC_RC_SCRATCH bytes the caller lends them (NULL: each check allocates
 * its own; lending one saves a fresh allocation per check, which matters
 * under the sanitizers' quarantines).  on_hit, when not NULL, is told the
 * range [off, off + len) of every hit of a legal shape (judged or not),
 * in the order the reads go.  The whole struct may be NULL. */
#define VDC_RC_SCRATCH ((size_t)64 << 10)
typedef struct vdc_rc_stats {
    uint64_t hits, misses, errors;
    uint8_t *scratch;
    void   (*on_hit)(void *user, uint64_t off, uint64_t len);
    void    *hit_user;
} vdc_rc_stats;

/*
 * VD's read loop over [off, off+len) on instance bd of be, in requests of
 * at most 64 KiB, judging every hit against m (with inflight as extra
 * acceptable data, may be NULL).  Adds to *violations and writes the first
 * explanation into msg (when it is empty).  max_calls bounds the loop (0:
 * 2 + 2 per 512-byte sector the range touches); passing it is a violation
 * (READ-5).  A failure status is a violation, unless VDC_RC_TOLERATE or the
 * request is unaligned (VD never sends one: the backend may refuse it, and
 * the loop skips it).  Returns the last status.
 */
int vdc_wl_read_check(const VDCACHEBACKEND *be, void *bd, vdc_host *host, uint64_t off,
                      uint64_t len, const vdc_model *m, const vdc_model_alt *inflight, unsigned flags,
                      uint64_t max_calls, uint64_t *violations, char *msg, size_t cb_msg,
                      vdc_rc_stats *st);

/*
 * Reads back everything a workload may have left: [0, w->span) when the
 * span is at most 4 MiB, else each run of pages m has seen written (the
 * rest is never-written space).  Judged as vdc_wl_read_check does.
 */
int vdc_wl_read_all(const VDCACHEBACKEND *be, void *bd, vdc_host *host, const vdc_workload *w,
                    const vdc_model *m, const vdc_model_alt *inflight, unsigned flags, uint64_t *violations,
                    char *msg, size_t cb_msg, vdc_rc_stats *st);

/* Name of an op kind ("create", ...). */
const char *vdc_wop_name(vdc_wop_kind k);

#endif /* VDCC_HARNESS_RELIABILITY_WORKLOAD_H */
