/*
 * harness/reliability/tests/naive.h - deliberately broken cache backends the
 * reliability tests must catch (and one they must survive).
 *
 *   rel_naive_backend   a direct-mapped cache that writes its index in place
 *                       right after the data, with no ordering, no flush
 *                       barrier and no unclean flag: correct while nothing
 *                       fails, but a crash (or a torn write) can leave an
 *                       index entry pointing at a slot whose data belongs to
 *                       another block.  The crash test must report lies.
 *   rel_sloppy_backend  the same, but a read that fails in the storage is
 *                       reported as a hit anyway (serving whatever was in its
 *                       buffer).  The fault sweep must report lies.
 *   rel_crashy_backend  the same as naive, but it abort()s when a read-only
 *                       open finds exactly 3 used index entries, and when a
 *                       storage read fails (other than VERR_EOF): the
 *                       isolated runs must survive it, count it and go on.
 *   rel_lazy_backend    the same format, but the index is kept in memory and
 *                       written at flush AFTER the storage flush, and not
 *                       flushed itself (and at close, then flushed): a crash
 *                       right after a successful flush loses what was written
 *                       since the flush before (FLUSH-2 quality warnings),
 *                       though it never lies while no slot is reused.
 *   rel_idle_backend    the same, but flush does nothing at all (the index
 *                       is written only at close): a crash right after a
 *                       flush loses everything written since the open,
 *                       which only the clean-close reference of FLUSH-2
 *                       sees (the all-applied state lacks it too).
 *   rel_frail_backend   the same as naive, but a full-block write copies
 *                       through a heap buffer, and when that allocation
 *                       fails it reports the write done without doing it:
 *                       the block keeps its older data, which a later read
 *                       serves (a lie only allocation failures reveal,
 *                       HOST-4; visible when naive.c is linked through the
 *                       allocation hook, harness/host/alloc_hook.h).
 *   rel_leaky_backend   the same as naive, but close does not free the
 *                       index (it parks it where rel_leaky_reclaim frees
 *                       it, so that LeakSanitizer does not end the test):
 *                       the hook's balance must show the leak (HOST-3).
 *   rel_brittle_backend the same as naive, but set-open-flags closes the
 *                       storage and reopens it with the new flags, and a
 *                       reopen that fails leaves the instance without
 *                       storage: every later read and write fails
 *                       (VERR_VD_NOT_OPENED).  The fault sweep must warn
 *                       (INFO-6) when the fault fires once.
 *   rel_fickle_backend  the same as naive, but set-open-flags takes the
 *                       new flags before its reopen and keeps them when
 *                       the reopen fails (the storage is reopened as it
 *                       was): it serves on, reporting flags it refused.
 *                       The fault sweep must warn (INFO-6) when the fault
 *                       fires once.
 * Contract: spec/contract.md, except for the defects above.
 */
#ifndef VDCC_HARNESS_RELIABILITY_TESTS_NAIVE_H
#define VDCC_HARNESS_RELIABILITY_TESTS_NAIVE_H

#include "../../../spec/vdcache.h"

extern const VDCACHEBACKEND rel_naive_backend;
extern const VDCACHEBACKEND rel_sloppy_backend;
extern const VDCACHEBACKEND rel_crashy_backend;
extern const VDCACHEBACKEND rel_lazy_backend;
extern const VDCACHEBACKEND rel_idle_backend;
extern const VDCACHEBACKEND rel_frail_backend;
extern const VDCACHEBACKEND rel_leaky_backend;
extern const VDCACHEBACKEND rel_brittle_backend;
extern const VDCACHEBACKEND rel_fickle_backend;

/* Frees what rel_leaky_backend's closes left behind. */
void rel_leaky_reclaim(void);

#endif
