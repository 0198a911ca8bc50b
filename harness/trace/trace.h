/*
 * harness/trace/trace.h - vdcc traces: parsed form and accessors.
 *
 * A trace is a text file (spec/trace-format.md) that lists calls into a
 * VDCACHEBACKEND, each with its arguments and what the contract lets the
 * backend answer, plus a few host-side records (foreign files, config keys,
 * file-existence checks).  This header is the parsed form shared by the
 * parser (trace.c), the writer (trace_write.h) and the replay engine
 * (replay.h).
 *
 * Ownership: a vdc_trace owns every string, segment and record it hands out;
 * they stay valid until vdc_trace_free.  Nothing here has global state; two
 * traces can be parsed and replayed on two threads at once.
 *
 * Status convention: VBox statuses from spec/vdcache.h, as everywhere in vdcc.
 */
#ifndef VDCC_HARNESS_TRACE_TRACE_H
#define VDCC_HARNESS_TRACE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../spec/vdcache.h"

typedef struct vdc_trace vdc_trace;          /* opaque parsed trace */

/* ------------------------------------------------------------------------ */
/* The API the cli part codes against (brief-harness.md); do not change.     */
/* ------------------------------------------------------------------------ */

/* Parse a whole trace from memory.  name is used in "name:line: message" errors.
 * Returns VINF_SUCCESS, VERR_INVALID_PARAMETER (syntax/semantic error; err filled
 * with "name:line: message"), VERR_NO_MEMORY, VERR_TOO_MUCH_DATA (limits). */
int  vdc_trace_parse(const char *buf, size_t len, const char *name, vdc_trace **out, char *err, size_t cb_err);
/* Read a file and parse it (file errors: VERR_FILE_NOT_FOUND / VERR_FILE_IO_ERROR / VERR_TOO_MUCH_DATA with err filled).
 * Also returns every status of vdc_trace_parse.  The trace's name is the path. */
int  vdc_trace_load(const char *path, vdc_trace **out, char *err, size_t cb_err);
/* Streamed traces (spec/trace-format.md section 8.1): the version line and
 * header are read at once (the first record too, when there is one), every
 * record only when vdc_trace_next asks for it, in memory bounded by the
 * longest line, with no limit on the file's size or the number of records.
 * vdc_trace_open reads a file (the name and source are its path);
 * vdc_trace_open_reader calls read(user, buf, cb) for bytes (it returns
 * how many, 0 at the end, (size_t)-1 on an error).  A streamed trace keeps
 * only its current record: vdc_trace_record answers for it alone,
 * vdc_trace_record_text / _line for the last 64, vdc_trace_ncalls counts
 * the records read so far; vdc_replay runs it, the writer and
 * vdc_trace_equal do not take it.  Returns as vdc_trace_load, except that
 * errors in records are reported by vdc_trace_next. */
typedef size_t vdc_trace_read_fn(void *user, void *buf, size_t cb);
int  vdc_trace_open(const char *path, vdc_trace **out, char *err, size_t cb_err);
int  vdc_trace_open_reader(const char *name, vdc_trace_read_fn *read, void *user, vdc_trace **out, char *err,
                           size_t cb_err);
bool vdc_trace_is_streamed(const vdc_trace *t);
/* Frees t and everything it owns; NULL is accepted. */
void vdc_trace_free(vdc_trace *t);
/* Number of records (calls and host-side records alike); each is one "call"
 * for progress, fail_call and context purposes. */
unsigned    vdc_trace_ncalls(const vdc_trace *t);
/* The trace's name: its `name` header line if present, else the name given
 * to vdc_trace_parse / the path given to vdc_trace_load. */
const char *vdc_trace_name(const vdc_trace *t);
/* The name given to vdc_trace_parse / the path given to vdc_trace_load,
 * whatever the `name` line says: `image` records find their sidecars in
 * its directory (spec/trace-format.md section 4.6). */
const char *vdc_trace_source(const vdc_trace *t);
/* The version of the trace's first line (1 or 2; 2 when built in memory
 * with an `image` record). */
unsigned    vdc_trace_version(const vdc_trace *t);
uint64_t    vdc_trace_required_caps(const vdc_trace *t);   /* VD_CAP_* the trace needs; runner skips when missing */
/* The backend name of the `format` line (the trace judges what that
 * format's own spec promises; the runner skips backends of another name,
 * compared without regard to case), or NULL when the trace has none. */
const char *vdc_trace_format(const vdc_trace *t);
/* Clauses the trace declares (e.g. "READ-3"), for coverage: the union of the
 * `clauses` header line(s) and every record's clause= list, in order of first
 * appearance, without duplicates. */
unsigned    vdc_trace_nclauses(const vdc_trace *t);
const char *vdc_trace_clause(const vdc_trace *t, unsigned i);
/* Text of record i (0-based) as one line, and its source line.  The text is
 * the record in canonical form (as trace_write.h writes it), not the raw
 * source line.  Out-of-range i: "" and 0. */
const char *vdc_trace_record_text(const vdc_trace *t, unsigned i);
unsigned    vdc_trace_record_line(const vdc_trace *t, unsigned i);

/* ------------------------------------------------------------------------ */
/* Additions: limits                                                         */
/* ------------------------------------------------------------------------ */
#define VDC_TRACE_VERSION        1               /* what the writers write (2 with `image`) */
#define VDC_TRACE_VERSION_MAX    2               /* the newest version this reader reads */
#define VDC_TRACE_MAX_LINE       16384u          /* bytes per line, newline excluded */
#define VDC_TRACE_MAX_RECORDS    1000000u
#define VDC_TRACE_MAX_FILE       (256u << 20)    /* bytes vdc_trace_load accepts */
#define VDC_TRACE_MAX_XFER       (64u << 20)     /* bytes moved by one record */
#define VDC_TRACE_MAX_HANDLES    64u             /* distinct image handle names */
#define VDC_TRACE_MAX_FILES      256u            /* distinct file names */
#define VDC_TRACE_MAX_VARS       256u            /* distinct $uuid variables */
#define VDC_TRACE_MAX_SEGS       256u            /* data segments per record */
#define VDC_TRACE_MAX_HEX        4096u           /* bytes of inline hex per segment */
#define VDC_TRACE_MAX_ALTS       8u              /* status alternatives per list */
#define VDC_TRACE_MAX_CLAUSES    1024u           /* distinct clause names per trace */
#define VDC_TRACE_MAX_REC_CLAUSES 16u            /* clause names per record */
#define VDC_TRACE_MAX_NAME       64u             /* handle, file, var, clause names */
#define VDC_TRACE_MAX_STRING     4096u           /* comment / config strings (bytes) */
#define VDC_TRACE_MAX_SIZE       (UINT64_C(1) << 62) /* any size or offset */

/* ------------------------------------------------------------------------ */
/* Additions: the parsed record, for gen/shrink/record and the replay engine */
/* ------------------------------------------------------------------------ */

typedef enum vdc_op {
    VDC_OP_NONE = 0,
    /* backend callbacks, one call each */
    VDC_OP_PROBE, VDC_OP_OPEN, VDC_OP_CREATE, VDC_OP_CLOSE,
    VDC_OP_READ, VDC_OP_WRITE, VDC_OP_FLUSH, VDC_OP_DISCARD,
    VDC_OP_GET_VERSION, VDC_OP_GET_SIZE, VDC_OP_GET_FILE_SIZE,
    VDC_OP_GET_IMAGE_FLAGS, VDC_OP_GET_OPEN_FLAGS, VDC_OP_SET_OPEN_FLAGS,
    VDC_OP_GET_COMMENT, VDC_OP_SET_COMMENT,
    VDC_OP_GET_UUID, VDC_OP_SET_UUID, VDC_OP_GET_MOD_UUID, VDC_OP_SET_MOD_UUID,
    VDC_OP_DUMP, VDC_OP_COMPOSE_LOCATION, VDC_OP_COMPOSE_NAME,
    /* VD-style loops over pfnRead / pfnWrite */
    VDC_OP_VDREAD, VDC_OP_VDWRITE,
    /* host-side records (no backend call) */
    VDC_OP_FILE,     /* create/replace a file in the scratch storage */
    VDC_OP_EXISTS,   /* assert a file exists (optionally its size) */
    VDC_OP_GONE,     /* assert a file does not exist */
    VDC_OP_CONFIG,   /* set a key of the host's CONFIG interface */
    VDC_OP_INTERFACES, /* choose which optional interfaces the host passes */
    VDC_OP_IMAGE,    /* version 2: create a file from a sidecar (sidecar.h) */
    VDC_OP_COUNT_
} vdc_op;

/* The record keyword of op ("read", "get-uuid", ...); "?" when unknown. */
const char *vdc_op_name(vdc_op op);
/* The names of the VD_CAP_* bits of caps, each after prefix ("" gives
 * "UUID CREATE_DYNAMIC ...", "VD_CAP_" the constants' names), one space
 * apart, unknown bits as one hex number, into buf[0..cb) (truncated
 * safely); "" for 0. */
void vdc_caps_text(uint64_t caps, const char *prefix, char *buf, size_t cb);

/* The modes an `interfaces` record names (its key), spec/trace-format.md
 * 7.3: VDC_IFS_FULL "full", VDC_IFS_BARE "bare", VDC_IFS_NOMESSAGE
 * "nomessage", VDC_IFS_NOPREALLOC "noprealloc".  vdc_interfaces_mode returns the mode of name, or -1 when
 * name (n bytes) is none of them.  The values are host.h's
 * vdc_host_ifs_mode (asserted where the replay passes them on). */
enum { VDC_IFS_FULL = 0, VDC_IFS_BARE = 1, VDC_IFS_NOMESSAGE = 2, VDC_IFS_NOPREALLOC = 3 };
int vdc_interfaces_mode(const char *name, size_t n);

/* One segment of a data description: the bytes of [start, start+len) of the
 * virtual disk (or of the file, for VDC_OP_FILE). */
typedef enum vdc_gen_kind {
    VDC_GEN_PATTERN = 1, /* byte at X = vdc_pattern_byte(seed, X) */
    VDC_GEN_ZERO,        /* 0x00 */
    VDC_GEN_FILL,        /* the byte `fill` */
    VDC_GEN_HEX,         /* hex[X - start]; len bytes (<= VDC_TRACE_MAX_HEX) */
    VDC_GEN_ANY          /* expectations only: any byte is accepted */
} vdc_gen_kind;

typedef struct vdc_seg {
    vdc_gen_kind   kind;
    uint64_t       start, len;
    uint64_t       seed;  /* PATTERN */
    uint8_t        fill;  /* FILL */
    const uint8_t *hex;   /* HEX */
} vdc_seg;

/* Segments sorted by start, adjacent, covering exactly the record's range
 * (the parser enforces it).  nsegs == 0: no data given. */
typedef struct vdc_data {
    unsigned       nsegs;
    const vdc_seg *segs;
} vdc_data;

/* One alternative of a status expectation. */
typedef enum vdc_alt_kind {
    VDC_ALT_STATUS = 1, /* exactly `status` */
    VDC_ALT_SUCCESS,    /* any RT_SUCCESS */
    VDC_ALT_FAILURE,    /* any RT_FAILURE */
    VDC_ALT_ANY,        /* anything */
    VDC_ALT_HIT,        /* read: VINF_SUCCESS, data checked */
    VDC_ALT_MISS        /* read: VERR_VD_BLOCK_FREE of at least `min` bytes (min >= 1) */
} vdc_alt_kind;

typedef struct vdc_alt {
    vdc_alt_kind kind;
    int          status;  /* STATUS */
    uint64_t     min;     /* MISS */
} vdc_alt;

typedef struct vdc_alts {
    unsigned       n;                    /* 0: not given (defaults apply) */
    const vdc_alt *v;                    /* n entries, n <= VDC_TRACE_MAX_ALTS */
} vdc_alts;

/* A numeric expectation: value OP v. */
typedef enum vdc_cmp { VDC_CMP_NONE = 0, VDC_CMP_EQ, VDC_CMP_GE, VDC_CMP_LE } vdc_cmp;
typedef struct vdc_num {
    vdc_cmp  cmp;
    uint64_t v;
} vdc_num;

/* A UUID argument or expectation. */
typedef enum vdc_uuid_kind {
    VDC_UUID_NONE = 0, /* not given */
    VDC_UUID_LIT,      /* the literal `lit` */
    VDC_UUID_VAR,      /* $var: bound on first use, compared afterwards */
    VDC_UUID_NIL,      /* all zero */
    VDC_UUID_NULLPTR,  /* argument only: pass a NULL pointer */
    VDC_UUID_ANYV      /* expectation only: any value */
} vdc_uuid_kind;
typedef struct vdc_uuid_ref {
    vdc_uuid_kind kind;
    RTUUID        lit;
    const char   *var; /* VAR: name without '$' */
} vdc_uuid_ref;

/* A string argument or expectation: NULL pointer, or bytes (NUL-free). */
typedef struct vdc_str {
    bool        given;
    bool        null;  /* pass / expect a NULL pointer */
    const char *s;     /* NUL-terminated when !null */
} vdc_str;

/*
 * One record.  Fields that an op does not use are zero.  See
 * spec/trace-format.md section 4 for which op uses which field and the
 * defaults the parser fills in (a parsed record always carries its
 * effective values, so the writer's output is explicit).
 */
typedef struct vdc_record {
    vdc_op        op;
    unsigned      line;          /* source line, 0 for records built in memory */
    const char   *handle;        /* image handle name, or NULL */
    const char   *file;          /* file name argument, or NULL */
    /* arguments */
    uint64_t      off, len;      /* read/write/vdread/vdwrite/discard; file: len = size */
    uint64_t      size;          /* create: cbSize */
    unsigned      open_flags;    /* open/create/set-open-flags (VD_OPEN_FLAGS_*) */
    unsigned      image_flags;   /* create (VD_IMAGE_FLAGS_*) */
    unsigned      discard_flags; /* discard (VD_DISCARD_*) */
    unsigned      pct_start, pct_span; /* create */
    bool          del;           /* close: fDelete */
    bool          fill;          /* vdread: write the expected data into the cache after a miss, as VD does */
    uint64_t      buf;           /* get-comment: cbComment */
    vdc_str       str;           /* create/set-comment: comment; config: value */
    const char   *key;           /* config: key */
    const char   *sidecar;       /* image: the sidecar, a FILE name beside the trace */
    vdc_uuid_ref  uuid;          /* create/set-uuid/set-mod-uuid argument */
    vdc_data      data;          /* write/vdwrite/file: source; read/vdread: expected bytes of hits */
    /* expectations */
    vdc_alts      expect;        /* MUST: one of these */
    vdc_alts      should;        /* SHOULD: one of these, else a warning */
    vdc_num       count;         /* read/write: *pcbActuallyRead / *pcbWriteProcess */
    vdc_num       value;         /* getters: returned value; exists: file size */
    vdc_num       pre, post, discarded; /* discard outputs */
    vdc_str       out_str;       /* get-comment / compose-*: expected string (given=false: unchecked) */
    vdc_uuid_ref  out_uuid;      /* get-uuid / get-mod-uuid: expected value */
    bool          printed_any;   /* dump: accept silence (default: must print) */
    /* the recording's observation (strict mode demands it again) */
    bool          seen_given;
    int           seen_status;
    bool          seen_count_given;
    uint64_t      seen_count;
    /* contract clauses this record exercises */
    unsigned      nclauses;      /* <= VDC_TRACE_MAX_REC_CLAUSES */
    const char *const *clauses;
} vdc_record;

/* Record i (0-based), or NULL when out of range. */
const vdc_record *vdc_trace_record(const vdc_trace *t, unsigned i);
/* Record i (0-based), in order: VINF_SUCCESS and *rec (valid until the next
 * call for a streamed trace, until vdc_trace_free otherwise), VINF_EOF after
 * the last, or for a streamed trace a parse error (err = "name:line:
 * message"), VERR_FILE_IO_ERROR, VERR_TOO_MUCH_DATA, VERR_NO_MEMORY or
 * VERR_INVALID_STATE (i is not the next record). */
int  vdc_trace_next(const vdc_trace *t, unsigned i, const vdc_record **rec, char *err, size_t cb_err);

/*
 * Builds a trace in memory (gen, shrink): vdc_trace_new makes an empty trace
 * named name (NULL -> "memory"); vdc_trace_set_caps sets its required caps;
 * vdc_trace_append deep-copies r (validating it exactly as the parser would a
 * line: handle state, limits, data coverage) and appends it.  It formats r
 * canonically and parses that line, so every field is taken as given (a
 * zero pct_span stays 0); only what a record may leave out gets the parser's
 * default (uuid.kind NONE -> $HANDLE for create, str.given false -> null
 * comment, expect.n 0 -> the op's default status list).
 * vdc_trace_new returns NULL when out of memory.  vdc_trace_append returns
 * VINF_SUCCESS, VERR_INVALID_PARAMETER (r is not a valid record here; err
 * explains), VERR_NO_MEMORY or VERR_TOO_MUCH_DATA (record limit).
 */
vdc_trace *vdc_trace_new(const char *name);
void vdc_trace_set_caps(vdc_trace *t, uint64_t caps);
/* Sets (or with NULL clears) the `format` line.  Returns VINF_SUCCESS,
 * VERR_INVALID_PARAMETER (NULL t, or a name the parser would refuse),
 * VERR_NO_MEMORY. */
int  vdc_trace_set_format(vdc_trace *t, const char *format);
int  vdc_trace_append(vdc_trace *t, const vdc_record *r, char *err, size_t cb_err);

/* Structural equality of two traces (name, caps, clauses, every record
 * field; line numbers are ignored).  Used by the round-trip tests. */
bool vdc_trace_equal(const vdc_trace *a, const vdc_trace *b);

/* ------------------------------------------------------------------------ */
/* Additions: data generators (spec/trace-format.md section 5)               */
/* ------------------------------------------------------------------------ */

/* The pattern: 8 bytes for the 8-byte-aligned position X & ~7, taken
 * little-endian from vdc_pattern_word(seed, X >> 3). */
uint64_t vdc_pattern_word(uint64_t seed, uint64_t index);
uint8_t  vdc_pattern_byte(uint64_t seed, uint64_t x);
/* Fills buf[0..cb) with the bytes of d at positions [off, off+cb).  Positions
 * outside every segment, and ANY segments, get 0.  Never fails. */
void vdc_data_fill(const vdc_data *d, uint64_t off, void *buf, size_t cb);
/* Compares buf[0..cb) with d at [off, off+cb); ANY segments match anything.
 * Returns true on a match; else false and *first_diff = index of the first
 * differing byte. */
bool vdc_data_match(const vdc_data *d, uint64_t off, const void *buf, size_t cb, size_t *first_diff);

/* Status names come from harness/host/status.h (vdc_status_name). */

#endif /* VDCC_HARNESS_TRACE_TRACE_H */
