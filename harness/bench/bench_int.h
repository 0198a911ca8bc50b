/*
 * harness/bench/bench_int.h - the pieces of `vdcc bench` (bench.h) and how
 * they fit.  Not included outside harness/bench/.
 *
 *   cmd_bench.c   options, the directory, the run of every workload
 *   child.c       one function in a forked child (harness/core/isolate.h):
 *                 result through shared memory, peak RSS through wait4, a
 *                 deadline
 *   session.c     one backend image through the host, with VD's loops
 *   work_io.c     read-hit and write workloads (backend and raw)
 *   work_meta.c   extent images, miss lookups, open times
 *   work_replay.c the replay engine's own speed
 *   stats.c       clock, PRNG, min/median/max, file-system kind
 *   report.c      the table and the JSON object
 *
 * Every workload function runs inside a child, fills a vdc_bench_result
 * (plain data: it crosses to the parent as bytes) and returns VINF_SUCCESS or a
 * failure status with res->error explaining it.
 */
#ifndef VDCC_HARNESS_BENCH_BENCH_INT_H
#define VDCC_HARNESS_BENCH_BENCH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../../spec/vdcache.h"
#include "../host/host.h"

#define VDC_BENCH_MAX_REPS 100u
#define VDC_BENCH_MAX_CONFIG 16u
#define VDC_BENCH_KIB      UINT64_C(1024)
#define VDC_BENCH_MIB      (UINT64_C(1024) * 1024)
/* Peak memory target for every workload (spec/performance.md). */
#define VDC_BENCH_RSS_TARGET_KIB 65536.0

/* What one run measures; filled by cmd_bench.c from the options. */
typedef struct vdc_bench_cfg {
    const VDCACHEBACKEND *be;
    const char *spec;           /* --backend as given (for the report) */
    const char *dir;            /* where every file lives */
    bool        keep_images;    /* --dir given: reuse built images across runs */
    bool        quick;
    unsigned    reps;           /* 1..VDC_BENCH_MAX_REPS */
    uint64_t    io_bytes;       /* read-hit fill and write volume per rep */
    uint64_t    flush_every;    /* bytes written between flushes */
    unsigned    extents_small;  /* open_small */
    unsigned    extents_big;    /* open_big and miss_lookup */
    unsigned    lookups;        /* miss lookups per rep */
    unsigned    replay_calls;   /* getter records in the replay trace */
    unsigned    timeout_s;      /* per child */
    const char *config[VDC_BENCH_MAX_CONFIG]; /* "KEY=VALUE" for the host's CONFIG interface */
    unsigned    nconfig;
} vdc_bench_cfg;

/* What a workload child reports.  Figures are in the workload's unit. */
typedef struct vdc_bench_result {
    int      status;                          /* VINF_SUCCESS or why it stopped */
    char     error[512];
    unsigned n;                               /* repetitions measured */
    bool     has_raw;
    double   backend[VDC_BENCH_MAX_REPS];
    double   raw[VDC_BENCH_MAX_REPS];
    double   as_expected;                     /* fraction of operations that hit (read
                                                 workloads) or missed (misses); -1: n/a */
    uint64_t bytes_per_rep, ops_per_rep;      /* 0 when not meaningful */
    double   extra;                           /* replay: seconds of the slowest repetition (parse
                                                 included); open_big: -1 */
} vdc_bench_result;

/* A target: none, backend/raw ratio at least v, an absolute figure at least
 * v, or an absolute figure below v. */
typedef enum vdc_bench_tkind { VDC_T_NONE = 0, VDC_T_RATIO_MIN, VDC_T_ABS_MIN, VDC_T_ABS_MAX } vdc_bench_tkind;

typedef struct vdc_bench_workload {
    const char     *id;         /* JSON key, e.g. "read_seq_64k" */
    const char     *title;      /* table row, e.g. "read hits, seq 64 KiB" */
    const char     *unit;       /* "MiB/s", "lookups/s", "ms", "calls/s" */
    vdc_bench_tkind tkind;
    double          target;
    int           (*run)(const vdc_bench_cfg *cfg, vdc_bench_result *res);
} vdc_bench_workload;

/* The parent's view of a workload after its child ended. */
typedef struct vdc_bench_outcome {
    const vdc_bench_workload *w;
    vdc_bench_result res;
    bool     ran;            /* the child delivered a complete result */
    char     failure[640];   /* crash, timeout, exit status, or res.error */
    double   peak_rss_kib;
    double   wall_s;
} vdc_bench_outcome;

/* ---- stats.c ----------------------------------------------------------- */
double   vdc_bench_now(void);                    /* CLOCK_MONOTONIC seconds */
uint64_t vdc_bench_rand(uint64_t *state);        /* splitmix64 */
/* min, median (mean of the middle two for even n) and max of v[0..n); all
 * NaN when n == 0.  v is not modified. */
typedef struct vdc_bench_spread { double min, median, max; } vdc_bench_spread;
vdc_bench_spread vdc_bench_summarize(const double *v, unsigned n);
/* Per-repetition ratios a[i] / b[i] into out[0..n); NaN where b[i] <= 0. */
void     vdc_bench_ratios(const double *a, const double *b, unsigned n, double *out);
/* The file system DIR lives on: its name into name[0..cb) ("ext4", "tmpfs",
 * "0x1234abcd") and its kind ("memory", "disk", "network", "unknown").
 * Returns false when statfs fails (errno kept). */
bool     vdc_bench_fs_kind(const char *dir, char *name, size_t cb, const char **kind);
/* Names for a statfs f_type (pure; the test checks the table). */
void     vdc_bench_fs_name(unsigned long magic, char *name, size_t cb, const char **kind);
/* Fills buf with bytes from seed, none of them zero-only runs. */
void     vdc_bench_fill(uint8_t *buf, size_t cb, uint64_t seed);
/* Progress line on stderr: "vdcc bench: ..." */
void     vdc_bench_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "VERR_DISK_FULL (-152)" into buf. */
const char *vdc_bench_status_text(int rc, char *buf, size_t cb);

/* ---- child.c ----------------------------------------------------------- */
typedef struct vdc_bench_child {
    bool     completed;     /* the child wrote all cb_out bytes and exited 0 */
    int      exit_status;   /* when it exited: its status, else -1 */
    int      term_signal;   /* when a signal ended it, else 0 */
    bool     timed_out;     /* the deadline passed (the child was killed) */
    double   maxrss_kib;    /* ru_maxrss of the child */
    double   wall_s;
} vdc_bench_child;

/*
 * Forks (harness/core/isolate.h); the child runs fn(arg, out) with out
 * cb_out zeroed bytes shared with the parent and exits with 0 when fn
 * returned VINF_SUCCESS (else 1).  The parent copies the bytes into out once
 * fn has returned, kills the child's process group after timeout_s seconds
 * (SIGKILL), reaps it with wait4 and fills *info.  stdout and stderr are
 * flushed before the fork.  Returns VINF_SUCCESS when a child ran (see info
 * for how it ended), VERR_NO_MEMORY or VERR_GENERAL_FAILURE (the mapping or
 * fork failed; errno kept).
 */
int vdc_bench_run_child(int (*fn)(void *arg, void *out), void *arg, void *out, size_t cb_out,
                        unsigned timeout_s, vdc_bench_child *info);
/* How the child ended, into buf: "timed out after 60 s", "killed by signal
 * 11 (Segmentation fault)", "exited with status 23" (neither 0 nor 1: a
 * sanitizer's report, say), "exited with status 1 before sending its whole
 * result", or "completed". */
void vdc_bench_child_describe(const vdc_bench_child *info, unsigned timeout_s, char *buf, size_t cb);

/* ---- session.c: one image through the host ------------------------------- */
typedef struct vdc_bench_img {
    const VDCACHEBACKEND *be;
    vdc_fs   *fs;
    vdc_host *host;
    void     *bd;             /* NULL while closed */
    char     *err;            /* where failures are described */
    size_t    cb_err;
} vdc_bench_img;

/* A host over the POSIX fs rooted at cfg->dir for cfg->be, its CONFIG
 * interface serving cfg->config.  Returns VINF_SUCCESS, VERR_NO_MEMORY or
 * VERR_INVALID_PARAMETER (a config item is not KEY=VALUE); on failure
 * nothing is left to free. */
int  vdc_bench_img_init(vdc_bench_img *img, const vdc_bench_cfg *cfg, char *err, size_t cb_err);
/* Closes an open image (fDelete false) and frees the host and fs. */
void vdc_bench_img_fini(vdc_bench_img *img);
/* pfnCreate (dynamic, flags NORMAL, no comment, a fresh UUID) / pfnOpen
 * (NORMAL) of name relative to dir; pfnClose.  Each returns the backend's
 * status, explained in err when it fails. */
int  vdc_bench_img_create(vdc_bench_img *img, const char *name, uint64_t cb_capacity);
int  vdc_bench_img_open(vdc_bench_img *img, const char *name);
int  vdc_bench_img_close(vdc_bench_img *img, bool del);
int  vdc_bench_img_flush(vdc_bench_img *img);
/* VD's cache-write loop: pfnWrite until cb bytes are processed.  A success
 * with 0 bytes, or more than asked, is VERR_INTERNAL_ERROR (described). */
int  vdc_bench_img_write(vdc_bench_img *img, uint64_t off, const void *buf, size_t cb);
/* VD's read loop without an image chain: pfnRead until cb bytes are
 * accounted for, hits copied into buf, misses skipped.  *hit_bytes gets the
 * bytes served as hits.  Same protocol checks as write. */
int  vdc_bench_img_read(vdc_bench_img *img, uint64_t off, void *buf, size_t cb, uint64_t *hit_bytes);
/* One pfnRead of cb bytes: *hit true on VINF_SUCCESS, false on
 * VERR_VD_BLOCK_FREE; returns VINF_SUCCESS for either, else the status. */
int  vdc_bench_img_lookup(vdc_bench_img *img, uint64_t off, void *buf, size_t cb, bool *hit);

/* ---- workloads (each runs in a child) ------------------------------------ */
int vdc_bench_prep_hits(const vdc_bench_cfg *cfg, vdc_bench_result *res);
int vdc_bench_read_seq(const vdc_bench_cfg *cfg, vdc_bench_result *res);
int vdc_bench_read_rand(const vdc_bench_cfg *cfg, vdc_bench_result *res);
int vdc_bench_write_seq(const vdc_bench_cfg *cfg, vdc_bench_result *res);
int vdc_bench_write_rand(const vdc_bench_cfg *cfg, vdc_bench_result *res);
int vdc_bench_prep_extents_small(const vdc_bench_cfg *cfg, vdc_bench_result *res);
int vdc_bench_prep_extents_big(const vdc_bench_cfg *cfg, vdc_bench_result *res);
int vdc_bench_miss_lookup(const vdc_bench_cfg *cfg, vdc_bench_result *res);
int vdc_bench_open_small(const vdc_bench_cfg *cfg, vdc_bench_result *res);
int vdc_bench_open_big(const vdc_bench_cfg *cfg, vdc_bench_result *res);
int vdc_bench_replay(const vdc_bench_cfg *cfg, vdc_bench_result *res);
/* Does nothing: its peak RSS is the baseline every child starts from. */
int vdc_bench_baseline(const vdc_bench_cfg *cfg, vdc_bench_result *res);

/* File names in cfg->dir, shared by the preparation and the workloads. */
void vdc_bench_hits_names(const vdc_bench_cfg *cfg, char *img, char *raw, size_t cb);
void vdc_bench_extents_name(const vdc_bench_cfg *cfg, unsigned n, char *img, size_t cb);

/* ---- report.c ------------------------------------------------------------ */
typedef struct vdc_bench_run {
    const vdc_bench_cfg *cfg;
    const char *fs_name, *fs_kind;
    double      baseline_rss_kib;
    const vdc_bench_outcome *prep;  /* image builds: res.backend[0] = seconds, 0 = reused */
    unsigned    nprep;
    const vdc_bench_outcome *out;   /* the workloads */
    unsigned    nout;
} vdc_bench_run;

/* Whether a workload met its target (on the median), and its memory target. */
bool vdc_bench_target_met(const vdc_bench_outcome *o);
bool vdc_bench_rss_met(const vdc_bench_outcome *o);
void vdc_bench_print_text(FILE *f, const vdc_bench_run *run);
void vdc_bench_print_json(FILE *f, const vdc_bench_run *run);
/* A JSON number with 6 significant digits, or null for NaN and infinities
 * (JSON has no spelling for them). */
void vdc_bench_json_num(FILE *f, double v);
/* A JSON string with ", \, control characters escaped. */
void vdc_bench_json_str(FILE *f, const char *s);

#endif /* VDCC_HARNESS_BENCH_BENCH_INT_H */
