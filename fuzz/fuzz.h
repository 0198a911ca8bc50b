/*
 * fuzz/fuzz.h - what every vdcc fuzz target shares.
 *
 * A target is one small C file defining LLVMFuzzerTestOneInput.  It drives
 * the backend named by FUZZ_BACKEND (default: the reference backend,
 * vdcc_ref_backend) through the host library on an in-memory file system, so
 * a run touches no disk and leaves nothing behind for the next run.  Build a
 * target against another backend with -DFUZZ_BACKEND=its_symbol and link the
 * object or library that defines that VDCACHEBACKEND (fuzz/README.md).
 *
 * Contract violations abort(): fuzz_fail() prints the clause of
 * spec/contract.md that was broken and a description, then aborts, which
 * every engine (libFuzzer, AFL++, the standalone replay driver) reports as a
 * crash of the input that caused it.  Nothing else here aborts: a backend
 * that rejects hostile input with any failure status is behaving correctly.
 *
 * Nothing carries over from one input to the next: each run builds a
 * fuzz_env and tears it down.  Targets may keep scratch buffers for the
 * life of the process (allocating them per input is costly under the
 * sanitizers), never what is in them.
 */
#ifndef VDCC_FUZZ_FUZZ_H
#define VDCC_FUZZ_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../spec/vdcache.h"
#include "../harness/host/fs.h"
#include "../harness/host/host.h"
#include "../harness/host/ioctx.h"

/* The backend under test.  Any symbol of type VDCACHEBACKEND works. */
#ifndef FUZZ_BACKEND
# define FUZZ_BACKEND vdcc_ref_backend
#endif
extern const VDCACHEBACKEND FUZZ_BACKEND;

/* libFuzzer's entry points, declared here so targets and drivers agree. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

/* The name images get in the memory fs; backends see only this string. */
#define FUZZ_IMAGE_NAME "fuzz.vci"

/* Memory the memory fs may hold per run, and the largest logical file. */
#define FUZZ_FS_MAX_BYTES     ((uint64_t)96 << 20)
#define FUZZ_FS_MAX_FILE_SIZE ((uint64_t)1 << 40)

/* One run's world: a memory fs and a host over it, for one backend. */
typedef struct fuzz_env {
    const VDCACHEBACKEND *be;
    vdc_fs               *fs;
    vdc_host             *host;
} fuzz_env;

/* Sets up env for backend be: a new host over an empty memory fs (the fs
 * of the last env finished, emptied, when there is one: vdc_fs_mem_clear
 * makes it as new, and its freed pages need no allocating again).  Returns
 * false only when out of memory (the caller then skips the input; env is
 * left empty and fuzz_env_fini-safe). */
bool fuzz_env_init(fuzz_env *env, const VDCACHEBACKEND *be);
/* Destroys the host, and empties the fs for the next env (or destroys it).
 * Safe on a zeroed or failed env. */
void fuzz_env_fini(fuzz_env *env);

/* Prints "fuzz: contract violation [clause]: message" (plus the host log's
 * tail when env is not NULL) to stderr and aborts. */
void fuzz_fail(const fuzz_env *env, const char *clause, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

/* Aborts (HOST-1) when the host counted any misuse by the backend. */
void fuzz_check_misuse(const fuzz_env *env, const char *when);
/* Aborts (HOST-3) when storage handles are still open, with no instance
 * of the backend open that could own them. */
void fuzz_check_no_storage(const fuzz_env *env, const char *when);

/* True for statuses that report an I/O failure of the storage. */
bool fuzz_is_io_error(int rc);

/*
 * Outcome of one backend read, already checked against READ-1/2/4 shapes:
 * rc is the backend's status; n the count it reported (only meaningful for
 * VINF_SUCCESS and VERR_VD_BLOCK_FREE).  fuzz_read aborts when the status is
 * VERR_VD_ASYNC_IO_IN_PROGRESS (the context is synchronous), when a hit or a
 * miss reports a count outside 1..cb, when a hit moved a different number of
 * bytes than it reported, or when a miss moved any.
 */
typedef struct fuzz_io {
    int    rc;
    size_t n;
} fuzz_io;

fuzz_io fuzz_read(const fuzz_env *env, void *bd, uint64_t off, void *buf, size_t cb);
/* One pfnWrite of buf[0..cb) at off; aborts when success reports a count
 * outside 1..cb or a count other than the bytes taken from the context
 * (WRITE-1), or on VERR_VD_ASYNC_IO_IN_PROGRESS. */
fuzz_io fuzz_write(const fuzz_env *env, void *bd, uint64_t off, const void *buf, size_t cb);

/*
 * Images as fuzz inputs.  An input is either the raw bytes of the image
 * file, or, when it starts with FUZZ_SPARSE_MAGIC, a compact encoding that
 * lets small inputs describe large, mostly-zero files (preallocated fixed
 * caches, deep trees over zero-filled data):
 *
 *   "VDZ1" then records until the input ends:
 *     tag & 1 == 0: literal: u16le n, then n bytes (fewer if the input ends)
 *     tag & 1 == 1: zeros:   u32le n (fewer bytes: what is there, LE)
 *
 * The logical file is the concatenation; it is capped at FUZZ_SPARSE_MAX
 * bytes (longer inputs are cut there).  Zero runs cost nothing in the memory
 * fs.  fuzz_put_image creates/replaces the file `name` in env's fs.
 * Returns VINF_SUCCESS or the fs's failure status.
 */
#define FUZZ_SPARSE_MAGIC "VDZ1"
#define FUZZ_SPARSE_MAX   ((uint64_t)256 << 20)
int fuzz_put_image(const fuzz_env *env, const char *name, const uint8_t *data, size_t size);
/* The sparse encoding of img[0..n): runs of at least FUZZ_SPARSE_MIN_RUN
 * zero bytes become zero records.  Returns a malloc'ed buffer (*out_len
 * bytes) or NULL when out of memory. */
#define FUZZ_SPARSE_MIN_RUN 32u
uint8_t *fuzz_sparse_encode(const uint8_t *img, size_t n, size_t *out_len);

/* Size of the file name in env's fs, or false when it cannot be opened. */
bool fuzz_file_size(const fuzz_env *env, const char *name, uint64_t *pcb);
/* The file's modification stamp: the memory fs counts every write, resize
 * and put, so two equal stamps mean the file was not touched in between
 * (harness/host/fs_mem.c).  False when the file cannot be found. */
bool fuzz_file_stamp(const fuzz_env *env, const char *name, int64_t *stamp);

/* Sets the CONFIG key to value for the backend's next open or create, but
 * only when the backend declares the key in its paConfigInfo (so targets
 * stay valid for backends without it).  Returns whether it was set. */
bool fuzz_config_if_known(const fuzz_env *env, const char *key, const char *value);

/* Small node and bitmap caches (the reference backend's NodeCacheSize and
 * BitmapCacheSize at their minimum), so cache eviction and write-back run
 * on small images too.  A no-op for backends without those keys. */
void fuzz_small_caches(const fuzz_env *env);

/* Calls every getter of an open instance, and Dump; returns nothing since
 * their values cannot be judged on a hostile image, but aborts (INFO-2) when
 * GetOpenFlags differs from expect_flags. */
void fuzz_call_getters(const fuzz_env *env, void *bd, unsigned expect_flags, bool dump);

/* Little-endian helpers for the fuzzers' own formats (never for backend
 * data: the targets never parse images). */
static inline uint16_t fuzz_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (unsigned)p[1] << 8);
}
static inline uint32_t fuzz_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif /* VDCC_FUZZ_FUZZ_H */
