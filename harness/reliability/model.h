/*
 * harness/reliability/model.h - what a cache may serve: the oracle.
 *
 * A model tracks, for every byte of the virtual disk a workload touched,
 * which values a read hit may return there (spec/contract.md: "last data
 * written for a range", READ-1, READ-3, CRASH-1).  Misses are always
 * acceptable, so the model only judges hits.  Per byte it holds:
 *  - nothing: never written, or discarded since: any hit is a lie;
 *  - a value: the last data successfully written there;
 *  - optionally an alternative: the data of a write that failed after that
 *    (a failed write may have taken effect in part, as on any storage), so
 *    either the value or the alternative is acceptable;
 *  - "any": two or more failed writes overlapped there since the last
 *    successful one; the byte is no longer judged (sound, never a false
 *    alarm; only fault sweeps produce it).
 * A successful write replaces all of this with its data.  A successful
 * discard is recorded as *pending* until the next successful flush or close
 * commits it (vdc_model_commit_discards): a pending discard forbids hits
 * in live reads (DISCARD-1) but, when a check is told `after_crash`, the
 * discarded value stays acceptable, because a crash (or a failed flush)
 * may lose a discard exactly as it loses an unflushed write, and the data
 * it brings back was still the last data written there.  A failed discard
 * changes nothing (the old value and a miss are both acceptable then).
 *
 * Storage is sparse (4 KiB pages allocated when first written), so offsets
 * anywhere below 2^63 are fine; memory is about 3 bytes per byte written.
 * No global state.
 */
#ifndef VDCC_HARNESS_RELIABILITY_MODEL_H
#define VDCC_HARNESS_RELIABILITY_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct vdc_model vdc_model;

/* Extra data acceptable on top of the model for one check: the write that
 * was in flight when a crash happened (data NULL: nothing extra). */
typedef struct vdc_model_alt {
    uint64_t       off;
    uint64_t       cb;
    const uint8_t *data;
} vdc_model_alt;

/* A new, empty model; NULL when out of memory. */
vdc_model *vdc_model_new(void);
void vdc_model_free(vdc_model *m);
/* Forgets everything (a new cache holds nothing). */
void vdc_model_reset(vdc_model *m);

/* A successful write of data[0..cb) at off.  VINF_SUCCESS or VERR_NO_MEMORY
 * (the model is then unchanged for the bytes not done; callers treat it as
 * fatal). */
int vdc_model_write(vdc_model *m, uint64_t off, const void *data, uint64_t cb);
/* A failed write of data[0..cb) at off: adds it as the alternative. */
int vdc_model_maybe(vdc_model *m, uint64_t off, const void *data, uint64_t cb);
/* A successful discard of [off, off+cb): pending until committed. */
void vdc_model_discard(vdc_model *m, uint64_t off, uint64_t cb);
/* Commits every pending discard (a flush or close succeeded). */
void vdc_model_commit_discards(vdc_model *m);

/*
 * Judges a hit that delivered buf[0..cb) for [off, off+cb).  Returns true
 * when every byte is acceptable (from the model or from *inflight, which may
 * be NULL; pending discards as described above, by after_crash); else false
 * with *bad = index of the first unacceptable byte, and *expected /
 * *has_expected = the model's value there (has_expected false: the byte was
 * never written, or was discarded).
 */
bool vdc_model_check_hit(const vdc_model *m, uint64_t off, const uint8_t *buf, uint64_t cb,
                         const vdc_model_alt *inflight, bool after_crash, uint64_t *bad,
                         uint8_t *expected, bool *has_expected);

/* The written ranges, for reading them back: the first maximal run of 4 KiB
 * pages at or after `from` that hold anything, as [*lo, *hi).  Returns false
 * when there is none. */
bool vdc_model_next_run(const vdc_model *m, uint64_t from, uint64_t *lo, uint64_t *hi);

#endif /* VDCC_HARNESS_RELIABILITY_MODEL_H */
