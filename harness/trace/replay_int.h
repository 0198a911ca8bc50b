/*
 * harness/trace/replay_int.h - internals of the replay engine, shared by
 * replay.c (driver), replay_io.c (data path), replay_meta.c (lifecycle,
 * getters, setters, host-side records) and replay_report.c (messages).
 * Not part of the public API.
 *
 * Verdict convention: every step returns RP_GO (go on) or RP_STOP (the
 * verdict is set in p->r; stop the replay).  Only the verdict helpers
 * rp_fail/rp_error/rp_skip/rp_oom set a verdict, and only the first one
 * counts.
 */
#ifndef VDCC_HARNESS_TRACE_REPLAY_INT_H
#define VDCC_HARNESS_TRACE_REPLAY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../host/host.h"
#include "replay.h"
#include "trace_int.h"

enum { RP_GO = 0, RP_STOP = 1 };

/* Sentinel for output counts: a value no valid answer can have. */
#define RP_SENTINEL ((size_t)0xC0DEDEADBEEF5A5AULL)
#define RP_POISON   0xA5
#define RP_MAX_UNKNOWN 64u

typedef struct rp_handle {
    const char *name;      /* interned in the trace */
    void       *bd;        /* backend data while open */
    const char *file;      /* file of the last create/open */
    bool        open;
    unsigned    last_call; /* 1-based call of the last create/open */
    int         last_rc;   /* and its status */
    bool        limited;   /* its last create was refused for a declared capacity limit */
} rp_handle;

typedef struct rp_var {
    const char *name;      /* interned in the trace */
    bool        bound;
    RTUUID      v;
} rp_var;

typedef struct rp {
    const vdc_trace       *t;
    const vdc_replay_opts *o;
    vdc_replay_result     *r;
    const VDCACHEBACKEND  *be;
    vdc_fs                *fs;
    vdc_host              *host;
    const char            *scratch;   /* NULL: memory fs */
    rp_handle              h[VDC_TRACE_MAX_HANDLES];
    unsigned               nh;
    rp_var                 vars[VDC_TRACE_MAX_VARS];
    unsigned               nvars;
    uint64_t               uuid_counter;
    unsigned               cur;       /* 0-based record being run */
    const vdc_record      *rec;
    bool                   stopped;
    int                    fatal_rc;  /* status vdc_replay returns */
    bool                   warned;    /* this record already counted a warning */
    /* I/O buffer, grown on demand, at most VDC_TRACE_MAX_XFER (+64 guard) */
    uint8_t               *buf;
    size_t                 cbbuf;
    char                   path[4200];
    /* notes for a passing verdict */
    char                   notes[512];
    size_t                 nnotes;
    /* ranges whose data is unknown since a backend refused an unaligned
     * write there (replay_io.c): hits there are not compared */
    struct { const char *file; uint64_t off, end; } unknown[RP_MAX_UNKNOWN];
    unsigned               nunknown;
    /* files whose create was refused for a declared capacity limit: the
     * records that need them are skipped (replay.c, limited_record) */
    const char            *limited[VDC_TRACE_MAX_FILES];
    unsigned               nlimited;
    unsigned               nlimited_skips;
    /* host state snapshot before a backend call */
    uint64_t               misuse_before;
    size_t                 log_before;
} rp;

/* ---- replay.c ---------------------------------------------------------- */
rp_handle *rp_handle_of(rp *p, const char *name);
rp_var    *rp_var_of(rp *p, const char *name);
void       rp_fresh_uuid(rp *p, RTUUID *out);
/* The name the backend gets for file f (section 7.1); NULL on overflow. */
const char *rp_path(rp *p, const char *f);
/* Grows p->buf to at least cb bytes; RP_STOP (verdict ERROR) when out of memory. */
int  rp_buf(rp *p, size_t cb);
/* Around every backend call: snapshot, then check for host misuse. */
void rp_before_call(rp *p);
int  rp_after_call(rp *p, const char *what);
/* A create at the current record answered rc: remembers or forgets a
 * refusal for a declared capacity limit (VERR_VD_INVALID_SIZE) of h and
 * its file. */
void rp_note_limit(rp *p, rp_handle *h, int rc);
/* A record that needs a handle open at run time. */
int  rp_need_open(rp *p, rp_handle **out);

/* ---- verdicts (replay_report.c) --------------------------------------- */
int  rp_fail(rp *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int  rp_error(rp *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int  rp_skip(rp *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int  rp_oom(rp *p);
/* A data mismatch: got[0..cb) read at virtual offset off differs from d at
 * index diff; what says which read ("piece 3 of the loop"). */
int  rp_fail_data(rp *p, const vdc_data *d, uint64_t off, const uint8_t *got, size_t cb, size_t diff,
                  const char *what);
/* A missed expectation: a failure, or a quality warning (RP_GO: replay
 * goes on) when the record names only SHOULD clauses (harness/trace/
 * levels.h; spec/contract.md "Levels and verdicts"). */
int  rp_expect(rp *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A SHOULD miss: warning (or failure in strict mode). */
int  rp_should(rp *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rp_note(rp *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "VERR_VD_BLOCK_FREE (-3207)" into buf. */
const char *rp_st(int rc, char *buf, size_t cb);
/* The status list as text ("hit|miss>=512"). */
const char *rp_alts_text(const vdc_alts *a, char *buf, size_t cb);

/* ---- matching (replay.c) ------------------------------------------------ */
/* Does (rc, count) meet the list?  left = bytes the call was asked for. */
bool rp_alts_match(const vdc_alts *a, int rc, uint64_t count, uint64_t left);
bool rp_num_match(const vdc_num *n, uint64_t v);
const char *rp_num_text(const vdc_num *n, char *buf, size_t cb);
/* Checks status list, seen (strict) and should for a one-status record;
 * count is used for miss>=N and seen:N. */
int  rp_check_status(rp *p, int rc, uint64_t count, uint64_t left, bool count_known);

/* ---- the records (replay_io.c, replay_meta.c) -------------------------- */
int rp_do_read(rp *p);
int rp_do_write(rp *p);
int rp_do_vdread(rp *p);
int rp_do_vdwrite(rp *p);
int rp_do_flush(rp *p);
int rp_do_discard(rp *p);
int rp_do_probe(rp *p);
int rp_do_open(rp *p);
int rp_do_create(rp *p);
int rp_do_close(rp *p);
int rp_do_getter(rp *p);
int rp_do_set_open_flags(rp *p);
int rp_do_comment(rp *p);
int rp_do_uuid(rp *p);
int rp_do_dump(rp *p);
int rp_do_compose(rp *p);
int rp_do_host(rp *p);
int rp_do_image(rp *p); /* replay_image.c */

#endif /* VDCC_HARNESS_TRACE_REPLAY_INT_H */
