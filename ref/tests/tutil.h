/*
 * ref/tests/tutil.h - helpers shared by the ref tests: a memory file
 * system with a host around it, VD-style read/write loops over a backend,
 * deterministic random numbers and data patterns.
 */
#ifndef VDCC_REF_TESTS_TUTIL_H
#define VDCC_REF_TESTS_TUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/host/host.h"
#include "ref/vci_io.h"
#include "spec/vdcache.h"

typedef struct tenv {
    vdc_fs               *fs;
    vdc_host             *host;
    const VDCACHEBACKEND *be;
} tenv;

/* A host over a fresh memory fs (limits: see vdc_fs_mem_new; 0 = default),
 * driving the reference backend.  Aborts when out of memory. */
tenv *tenv_new(uint64_t max_bytes);
/* Frees host and fs. */
void tenv_free(tenv *e);

int  tenv_create(tenv *e, const char *name, uint64_t cb, unsigned img_flags, void **bd);
int  tenv_open(tenv *e, const char *name, unsigned flags, void **bd);

/* One backend call each, through a fresh single-segment I/O context. */
int  tenv_read(tenv *e, void *bd, uint64_t off, void *buf, size_t cb, size_t *done);
int  tenv_write(tenv *e, void *bd, uint64_t off, const void *buf, size_t cb, size_t *done);
/* VD's write loop: calls pfnWrite until everything is processed; fails on
 * an error, or with VERR_INTERNAL_ERROR when a call reports 0 bytes or more
 * than asked.  *calls (may be NULL) counts the calls. */
int  tenv_write_all(tenv *e, void *bd, uint64_t off, const void *buf, size_t cb, unsigned *calls);
/* VD's read loop over [off, off+cb): hit bytes land in buf and hit[i] = 1;
 * missed bytes leave buf alone and hit[i] = 0.  Fails on an error, or with
 * VERR_INTERNAL_ERROR when a call reports 0 or more than asked. */
int  tenv_read_all(tenv *e, void *bd, uint64_t off, uint8_t *buf, size_t cb, uint8_t *hit);

/* Opens (or creates) a file of the memory fs through the host's IOINT and
 * sets up a vci_io over it with the epoch open (writes need no hook). */
int  tenv_raw_io(tenv *e, const char *name, bool create, vci_io *io);
void tenv_raw_close(tenv *e, vci_io *io);

/* Copies a whole file of the memory fs (as a crash snapshot would).
 * *size (may be NULL) receives its size. */
int  tenv_copy(tenv *e, const char *src, const char *dst, uint64_t *size);

/* splitmix64. */
uint64_t trand(uint64_t *state);
/* A byte pattern that depends on seed and on the position. */
void tfill(uint8_t *buf, size_t cb, uint64_t seed);

#endif /* VDCC_REF_TESTS_TUTIL_H */
