/*
 * harness/reliability/fs_crash.h - recording storage, and the crash states
 * a disk may leave behind after any prefix of what was recorded.
 *
 * A crash fs wraps an inner vdc_fs (fs.h), forwards every operation to it
 * and records, in one global order, each successful change: writes (offset
 * and bytes), set_size/allocate, flushes, and the namespace changes (create,
 * truncate on open, remove, rename).  The inner fs always holds the state
 * with every change applied; the record lets the enumerator build the
 * states a crash could have left instead.
 *
 * Disk model (what a crash may do), per file:
 *  - A flush of a file makes every earlier change to that file durable.
 *  - Changes after the file's last flush are pending.  At a crash each
 *    512-byte sector piece of each pending write independently reached the
 *    disk or not (sectors are atomic, writes are not; a write covering part
 *    of a sector is one piece), and each pending set_size took effect or
 *    not.  Pieces are applied in issue order, so for a sector written twice
 *    while pending either version (or the durable one) can survive: this is
 *    reordering at sector granularity.
 *  - Simplifications: creating a file (its name, empty) is durable at once;
 *    remove and rename are barriers for the files they touch (their pending
 *    changes become durable first, then the name change is durable).  A
 *    truncating open is a pending set_size(0).
 *
 * Crash points: point k (0 <= k <= nevents) is "the first k recorded events
 * were issued, then the power failed".  For each selected point the
 * enumerator visits, deduplicated by content:
 *  (a) "none":   every pending change lost (the last flushed state);
 *  (b) "all":    every pending change applied;
 *  (c) "drop":   each pending write lost, all other pending changes applied;
 *      "prefix": each pending write w and everything after it lost (a crash
 *                just before w, in order);
 *      "tear":   each pending write w torn at a sector boundary j: what came
 *                before w applied, w's first j sectors applied, the rest and
 *                everything after w lost;
 *      with at most max_single writes per point and max_tears boundaries
 *      per write (spread evenly when there are more);
 *  (d) "random": `random_states` random subsets of the pending pieces, from
 *      a generator seeded by (seed, k): the same seed gives the same states.
 *
 * Bounds: a file the enumerator rebuilds is held densely in memory; files
 * larger than VDC_CRASH_MAX_FILE, or more than VDC_CRASH_MAX_DATA bytes of
 * recorded writes, make recording mark an overflow and enumeration fail
 * with VERR_TOO_MUCH_DATA (the workload itself still runs unharmed).
 *
 * Ownership: the crash fs does not own the inner fs (destroy it first); its
 * destroy closes inner handles still open through it and frees the record.
 * Threading: none; no global state.
 */
#ifndef VDCC_HARNESS_RELIABILITY_FS_CRASH_H
#define VDCC_HARNESS_RELIABILITY_FS_CRASH_H

#include <stdbool.h>
#include <stdint.h>

#include "../host/fs.h"

#define VDC_CRASH_MAX_FILE  ((uint64_t)64 << 20)
#define VDC_CRASH_MAX_DATA  ((uint64_t)512 << 20)
#define VDC_CRASH_SECTOR    512u

/* Creates a recording fs over inner (not owned).  NULL when inner is NULL
 * or memory runs out. */
vdc_fs *vdc_fs_crash_new(vdc_fs *inner);

/* Events recorded so far (0 for a fs that is not a crash fs).  A workload
 * driver reads it before and after each call to tie calls to events. */
uint64_t vdc_fs_crash_nevents(const vdc_fs *fs);

/* Counters of the record, for reports. */
typedef struct vdc_crash_rec_stats {
    uint64_t writes, flushes, sizes, names; /* events by kind */
    uint64_t bytes;                         /* bytes of recorded writes */
    bool     overflow;                      /* a bound was passed: cannot enumerate */
} vdc_crash_rec_stats;
void vdc_fs_crash_rec_stats(const vdc_fs *fs, vdc_crash_rec_stats *st);

/* Recording can be paused (events pass through unrecorded, e.g. for a
 * setup phase that must count as durable) only before the first event:
 * vdc_fs_crash_rebase makes the inner fs's current contents the durable
 * baseline and forgets every event so far.  Returns VINF_SUCCESS,
 * VERR_INVALID_PARAMETER (not a crash fs), VERR_TOO_MUCH_DATA, or the inner
 * fs's failure reading a file back. */
int vdc_fs_crash_rebase(vdc_fs *fs);

/* What the visitor is told about one crash state. */
typedef enum vdc_crash_kind {
    VDC_CRASH_NONE = 0, VDC_CRASH_ALL, VDC_CRASH_DROP, VDC_CRASH_PREFIX,
    VDC_CRASH_TEAR, VDC_CRASH_RANDOM
} vdc_crash_kind;

typedef struct vdc_crash_state {
    uint64_t       point;    /* events [0, point) were issued */
    vdc_crash_kind kind;
    uint64_t       event;    /* DROP/PREFIX/TEAR: the write event; else UINT64_MAX */
    unsigned       sectors;  /* TEAR: sectors of it kept; RANDOM: the draw number */
    unsigned       pending;  /* pending pieces at this point */
    uint64_t       digest;   /* of the files' names and contents */
} vdc_crash_state;

/* Called once per distinct state, with a fresh memory fs holding it (the
 * files by name; the visitor may change it, it is destroyed afterwards).
 * Return 0 to go on, anything else to stop the enumeration (returned). */
typedef int (*vdc_crash_visit_fn)(void *user, const vdc_crash_state *cs, vdc_fs *state);

typedef struct vdc_crash_opts {
    uint64_t seed;
    unsigned random_states;  /* (d) per point; default 16 when 0 and !no_random */
    bool     no_random;
    unsigned max_single;     /* (c) writes per point; default 64 when 0 */
    unsigned max_tears;      /* (c) boundaries per write; default 8 when 0 */
    uint64_t first_point;    /* points [first_point, last_point] ... */
    uint64_t last_point;     /* ... UINT64_MAX (or 0 with first 0): all */
    uint64_t stride;         /* every stride-th point of the range; 0 or 1: all */
    /* Bounds on the work (0: none).  max_points: of the points the range
     * and stride select, at most this many, spread evenly (the i-th of M
     * is taken when floor(i*P/M) != floor((i+1)*P/M), so the last point,
     * the completed workload, is always among them); deterministic.
     * max_states: at most this many distinct states per point; a quarter
     * of them (at least 1) are kept for (d), the rest go to (a)-(c) in
     * order, and (c) then samples at most max(1, rest / (2 + max_tears))
     * writes (spread evenly, as with max_single). */
    uint64_t max_points;
    unsigned max_states;
    /* Points visited besides those selected above, when inside
     * [first_point, last_point] (stride and max_points do not apply to
     * them): extra[0..nextra), ascending (repeats allowed), e.g. the points
     * right after each flush that the crash test judges FLUSH-2 on. */
    const uint64_t *extra;
    size_t          nextra;
} vdc_crash_opts;

typedef struct vdc_crash_enum_stats {
    uint64_t points;         /* crash points visited */
    uint64_t states;         /* distinct states passed to the visitor */
    uint64_t duplicates;     /* states skipped as identical at the same point */
    unsigned max_pending;    /* largest number of pending pieces at a point */
} vdc_crash_enum_stats;

/*
 * Walks the points of rec (a crash fs) in increasing order and calls
 * visit for each state described above.  Statuses: VINF_SUCCESS,
 * VERR_INVALID_PARAMETER (rec not a crash fs, visit NULL),
 * VERR_TOO_MUCH_DATA (the record overflowed, or a rebuilt file passes
 * VDC_CRASH_MAX_FILE), VERR_NO_MEMORY, a memory fs failure while
 * materialising a state, or the visitor's non-zero return (as is; a
 * visitor should return a failure status).  st may be NULL.
 */
int vdc_crash_enumerate(const vdc_fs *rec, const vdc_crash_opts *o, vdc_crash_visit_fn visit,
                        void *user, vdc_crash_enum_stats *st);

/* "none", "all", "drop", "prefix", "tear", "random"; "?" otherwise. */
const char *vdc_crash_kind_name(vdc_crash_kind k);

#endif /* VDCC_HARNESS_RELIABILITY_FS_CRASH_H */
