/*
 * harness/trace/trace_int.h - internals shared by the trace parser, writer
 * and replay engine.  Not part of the public API (trace.h, trace_write.h,
 * replay.h); nothing outside harness/trace/ includes it.
 *
 * Pieces:
 *  - vdc_arena: a bump allocator owning every string, array and byte block
 *    of a trace; freed in one go with the trace.
 *  - vdc_intern: a bounded open-addressing set of names (handles, files,
 *    variables, clauses), interned into the arena.
 *  - op and flag tables (trace_names.c): the vocabulary of
 *    spec/trace-format.md sections 2.5 and 4.
 *  - lexer helpers (trace_lex.c): tokens, numbers, strings, names, UUIDs.
 */
#ifndef VDCC_HARNESS_TRACE_TRACE_INT_H
#define VDCC_HARNESS_TRACE_TRACE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace.h"

/* ---- arena ------------------------------------------------------------ */
typedef struct vdc_arena_chunk vdc_arena_chunk;
typedef struct vdc_arena {
    vdc_arena_chunk *head;
    size_t           used, cap; /* of head */
} vdc_arena;

/* Zeroed, 16-byte-aligned memory; NULL when out of memory. */
void *vdc_arena_alloc(vdc_arena *a, size_t cb);
/* Copies s[0..n) plus a NUL; NULL when out of memory. */
char *vdc_arena_strndup(vdc_arena *a, const char *s, size_t n);
void  vdc_arena_free(vdc_arena *a);
/* Forgets everything allocated, keeping one chunk for reuse. */
void  vdc_arena_reset(vdc_arena *a);

/* ---- interned name sets ------------------------------------------------ */
typedef struct vdc_intern {
    const char **slots;   /* open addressing, nslots a power of two */
    unsigned     nslots;
    unsigned     count, limit;
} vdc_intern;

/* Sets up a set holding at most limit names.  Returns VINF_SUCCESS or
 * VERR_NO_MEMORY. */
int  vdc_intern_init(vdc_intern *s, unsigned limit);
void vdc_intern_free(vdc_intern *s);
/* Finds s[0..n) or adds it (copied into a).  *out gets the interned string,
 * *added whether it was new.  Returns VINF_SUCCESS, VERR_TOO_MUCH_DATA (set
 * full) or VERR_NO_MEMORY. */
int  vdc_intern_get(vdc_intern *set, vdc_arena *a, const char *s, size_t n, const char **out, bool *added);

/* ---- the trace object -------------------------------------------------- */
typedef struct vdc_handle_state {
    const char *name;    /* interned */
    const char *file;    /* last file= (interned), or NULL */
    bool        open;
} vdc_handle_state;

typedef struct vdc_trace_src vdc_trace_src; /* trace_stream.c */

struct vdc_trace {
    vdc_arena         arena;   /* names, header strings: live as long as the trace */
    vdc_arena        *ra;      /* what one record keeps: &arena, or a streamed trace's per-record arena */
    vdc_trace_src    *src;     /* streamed: where lines come from; NULL: every record is in recs */
    const char       *name;
    const char       *source;  /* the name/path it was parsed from */
    unsigned          version; /* of the version line (VDC_TRACE_VERSION when built) */
    const char       *format;  /* `format` line: the backend name it is for, or NULL */
    uint64_t          caps;
    vdc_record       *recs;
    const char      **texts;   /* canonical text of each record */
    unsigned          nrecs, caprecs;
    /* names */
    vdc_intern        handles, files, vars, clause_set;
    const char      **clauses; /* in order of first appearance */
    unsigned          nclauses, capclauses;
    /* parse state */
    vdc_handle_state  hstate[VDC_TRACE_MAX_HANDLES];
    unsigned          nhstate;
    bool              seen_record, have_name;
};

/* Parses one line (without line end) of the trace body into t: a header
 * line or a record.  lineno is for messages, errname the trace's name in
 * them.  Returns VINF_SUCCESS, VERR_INVALID_PARAMETER (err filled),
 * VERR_NO_MEMORY, VERR_TOO_MUCH_DATA.  trace_parse.c. */
int vdc_trace_parse_line(vdc_trace *t, const char *line, size_t len, unsigned lineno,
                         const char *errname, char *err, size_t cb_err);

/* Streamed traces (trace_stream.c): the record a push makes current, the
 * window of recent texts and lines, and the source's cleanup. */
int  vdc_stream_push(vdc_trace *t, const vdc_record *r, const char *text);
const char *vdc_stream_text(const vdc_trace *t, unsigned i);
unsigned    vdc_stream_line(const vdc_trace *t, unsigned i);
void vdc_stream_free(vdc_trace *t);

/* Line 1 ("vdcc-trace N"): sets t->version.  VINF_SUCCESS or
 * VERR_INVALID_PARAMETER (err = "name:1: ...").  trace.c. */
int vdc_trace_parse_version(vdc_trace *t, const char *line, size_t len, const char *name, char *err, size_t cb_err);

/* Creates the bookkeeping of an empty trace.  trace.c. */
vdc_trace *vdc_trace_alloc(void);
/* Adds a clause name (interned) to the trace's list.  VINF_SUCCESS,
 * VERR_TOO_MUCH_DATA, VERR_NO_MEMORY. */
int vdc_trace_add_clause(vdc_trace *t, const char *s, size_t n, const char **out);
/* Appends a parsed record and its canonical text (both already in the
 * arena).  VINF_SUCCESS, VERR_TOO_MUCH_DATA, VERR_NO_MEMORY. */
int vdc_trace_push(vdc_trace *t, const vdc_record *r, const char *text);

/* ---- vocabulary (trace_names.c) --------------------------------------- */
typedef enum vdc_pos_kind { VDC_POS_NONE = 0, VDC_POS_HANDLE, VDC_POS_FILE, VDC_POS_KEY } vdc_pos_kind;
typedef enum vdc_def_status { VDC_DEF_NONE = 0, VDC_DEF_OK, VDC_DEF_HITMISS } vdc_def_status;

/* Argument keys (left of "->") and output keys (right of it), as bits. */
enum {
    VDC_A_FILE = 1u << 0, VDC_A_OFF = 1u << 1, VDC_A_LEN = 1u << 2, VDC_A_SIZE = 1u << 3,
    VDC_A_IMAGE = 1u << 4, VDC_A_FLAGS = 1u << 5, VDC_A_COMMENT = 1u << 6, VDC_A_UUID = 1u << 7,
    VDC_A_START = 1u << 8, VDC_A_SPAN = 1u << 9, VDC_A_BUF = 1u << 10, VDC_A_DATA = 1u << 11,
    VDC_A_VALUE = 1u << 12, VDC_A_DELETE = 1u << 13, VDC_A_FILL = 1u << 14,
    VDC_A_SIDECAR = 1u << 15
};
enum {
    VDC_O_COUNT = 1u << 0, VDC_O_DATA = 1u << 1, VDC_O_VALUE = 1u << 2, VDC_O_PRE = 1u << 3,
    VDC_O_POST = 1u << 4, VDC_O_DISCARDED = 1u << 5, VDC_O_COMMENT = 1u << 6, VDC_O_UUID = 1u << 7,
    VDC_O_STRING = 1u << 8, VDC_O_PRINTED = 1u << 9
};
typedef enum vdc_flagset { VDC_FS_NONE = 0, VDC_FS_OPEN, VDC_FS_IMAGE, VDC_FS_DISCARD, VDC_FS_CAPS } vdc_flagset;

typedef struct vdc_op_info {
    const char     *name;
    vdc_pos_kind    pos;
    unsigned        args, req;   /* VDC_A_* allowed / required */
    unsigned        outs;        /* VDC_O_* allowed */
    vdc_def_status  def;         /* VDC_DEF_NONE: the op has no status */
    bool            readlike;    /* hit / miss alternatives allowed */
    bool            host;        /* host-side record: no status, no clauses */
    vdc_flagset     flags_set;   /* what flags= means */
    vdc_flagset     value_set;   /* value= is a flag set (getters) */
} vdc_op_info;

const vdc_op_info *vdc_op_lookup(const char *s, size_t n, vdc_op *op);
const vdc_op_info *vdc_op_info_of(vdc_op op);   /* NULL for invalid ops */

typedef struct vdc_flag_name {
    const char *name;
    uint64_t    bit;
} vdc_flag_name;
/* The named flags of a set, terminated by {NULL, 0}; the zero name (NORMAL,
 * NONE) is returned separately (NULL for caps). */
const vdc_flag_name *vdc_flag_names(vdc_flagset fs, const char **zero_name);

/* ---- lexer (trace_lex.c) ----------------------------------------------- */
typedef struct vdc_tok {
    const char *p;
    size_t      n;
} vdc_tok;

/* Splits a line into tokens (spec section 2): at most max tokens.  Returns
 * the count, or -1 with *why set (unterminated string, control byte, too
 * many tokens). */
int vdc_lex_line(const char *line, size_t len, vdc_tok *toks, int max, const char **why);

/* Numbers (section 2.3).  false on syntax error or overflow. */
bool vdc_lex_u64(const char *s, size_t n, uint64_t *out);
/* A status (section 2.6). */
bool vdc_lex_status(const char *s, size_t n, int *out);
/* A flag set (section 2.5). */
bool vdc_lex_flags(vdc_flagset fs, const char *s, size_t n, uint64_t *out);
/* A quoted string or `null`: decodes into buf (cb >= VDC_TRACE_MAX_STRING+1),
 * sets *is_null.  false with *why on error. */
bool vdc_lex_string(const char *s, size_t n, char *buf, size_t cb, size_t *outlen, bool *is_null, const char **why);
/* Name checks (section 2.4). */
bool vdc_lex_is_handle(const char *s, size_t n);
bool vdc_lex_is_file(const char *s, size_t n);
bool vdc_lex_is_var(const char *s, size_t n);      /* without the '$' */
bool vdc_lex_is_clause(const char *s, size_t n);
bool vdc_lex_is_key(const char *s, size_t n);
bool vdc_lex_is_tracename(const char *s, size_t n);
/* A literal UUID (36 characters). */
bool vdc_lex_uuid(const char *s, size_t n, RTUUID *out);

/* ---- formatting pieces (trace_write.c) ---------------------------------- */
/* A status list / a data description in canonical form, truncated to cb
 * (always NUL-terminated); returns buf. */
const char *vdc_alts_format(const vdc_alts *a, char *buf, size_t cb);
const char *vdc_data_format(const vdc_data *d, char *buf, size_t cb);

#endif /* VDCC_HARNESS_TRACE_TRACE_INT_H */
