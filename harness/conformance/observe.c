/*
 * harness/conformance/observe.c - the observing driver of `vdcc diff`: runs
 * every record of a trace against a backend and records what each call
 * answered (observe.h).
 *
 * Contract and statuses: observe.h (VINF_SUCCESS, VERR_INVALID_PARAMETER,
 * VERR_NO_MEMORY, VERR_GENERAL_FAILURE).  Record semantics follow
 * spec/trace-format.md: section 4 (the calls and their arguments), 7.1
 * (in-memory storage, PATH(f) = f), 7.4 (UUID variables and the k-th fresh
 * UUID), 7.6 and 7.7 (the VD loops), 6.4 (the protocol checks, which here
 * set flags instead of failing).  Expectations are not checked.
 */
#include "observe.h"

#include <stdlib.h>
#include <string.h>

#include "../host/host.h"
#include "../host/vd.h"
#include "../core/isolate.h"
#include "imap.h"

#define OB_SENTINEL ((size_t)0xC0DEDEADBEEF5A5AULL)
#define OB_POISON   0xA5

typedef struct ob_file {
    const char *name;
    vdc_imap    data;
    bool        uuid_set, mod_set, comment_set;
} ob_file;

typedef struct ob_handle {
    const char *name;
    const char *file;
    void       *bd;
    bool        open;
} ob_handle;

typedef struct ob_var {
    const char *name;
    bool        bound;
    RTUUID      v;
} ob_var;

typedef struct ob {
    const vdc_trace      *t;
    const VDCACHEBACKEND *be;
    vdc_fs               *fs;
    vdc_host             *host;
    ob_handle             h[VDC_TRACE_MAX_HANDLES];
    unsigned              nh;
    ob_file               f[VDC_TRACE_MAX_FILES];
    unsigned              nf;
    ob_var                vars[VDC_TRACE_MAX_VARS];
    unsigned              nvars;
    uint64_t              fresh;
    uint8_t              *buf;
    size_t                cbbuf;
    uint64_t              misuse_before;
    bool                  oom;
} ob;

/* ---- small helpers -------------------------------------------------------- */

static uint64_t fnv(uint64_t h, const void *p, size_t cb)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < cb; i++) {
        h ^= b[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

#define FNV_INIT UINT64_C(0xcbf29ce484222325)

static uint8_t *grow(ob *p, uint8_t **b, size_t *cb, size_t need)
{
    if (need <= *cb)
        return *b;
    uint8_t *n = realloc(*b, need);
    if (n == NULL) {
        p->oom = true;
        return NULL;
    }
    *b = n;
    *cb = need;
    return n;
}

static ob_handle *handle_of(ob *p, const char *name)
{
    for (unsigned i = 0; i < p->nh; i++)
        if (strcmp(p->h[i].name, name) == 0)
            return &p->h[i];
    if (p->nh == VDC_TRACE_MAX_HANDLES)
        return NULL;
    ob_handle *h = &p->h[p->nh++];
    memset(h, 0, sizeof *h);
    h->name = name;
    return h;
}

static ob_file *file_of(ob *p, const char *name)
{
    for (unsigned i = 0; i < p->nf; i++)
        if (strcmp(p->f[i].name, name) == 0)
            return &p->f[i];
    if (p->nf == VDC_TRACE_MAX_FILES)
        return NULL;
    ob_file *f = &p->f[p->nf++];
    memset(f, 0, sizeof *f);
    f->name = name;
    vdc_imap_init(&f->data);
    return f;
}

static void file_reset(ob_file *f)
{
    if (f == NULL)
        return;
    vdc_imap_clear(&f->data);
    f->uuid_set = f->mod_set = f->comment_set = false;
}

static ob_var *var_of(ob *p, const char *name)
{
    for (unsigned i = 0; i < p->nvars; i++)
        if (strcmp(p->vars[i].name, name) == 0)
            return &p->vars[i];
    if (p->nvars == VDC_TRACE_MAX_VARS)
        return NULL;
    ob_var *v = &p->vars[p->nvars++];
    memset(v, 0, sizeof *v);
    v->name = name;
    return v;
}

/* The k-th fresh UUID of a run (spec/trace-format.md section 7.4). */
static void fresh_uuid(ob *p, RTUUID *u)
{
    uint64_t a = vdc_pattern_word(0x55554944, 2 * p->fresh), b = vdc_pattern_word(0x55554944, 2 * p->fresh + 1);
    p->fresh++;
    for (unsigned i = 0; i < 8; i++) {
        u->au8[i] = (uint8_t)(a >> (8 * i));
        u->au8[8 + i] = (uint8_t)(b >> (8 * i));
    }
    u->au8[6] = (uint8_t)((u->au8[6] & 0x0f) | 0x40);
    u->au8[8] = (uint8_t)((u->au8[8] & 0x3f) | 0x80);
}

/* The UUID an argument passes: NULL for `null`, else *tmp filled. */
static const RTUUID *uuid_arg(ob *p, const vdc_uuid_ref *u, RTUUID *tmp)
{
    switch (u->kind) {
    case VDC_UUID_LIT:
        *tmp = u->lit;
        return tmp;
    case VDC_UUID_VAR: {
        ob_var *v = var_of(p, u->var);
        if (v == NULL) {
            fresh_uuid(p, tmp);
            return tmp;
        }
        if (!v->bound) {
            fresh_uuid(p, &v->v);
            v->bound = true;
        }
        *tmp = v->v;
        return tmp;
    }
    case VDC_UUID_NULLPTR:
        return NULL;
    default:
        memset(tmp, 0, sizeof *tmp);
        return tmp;
    }
}

static void before(ob *p)
{
    p->misuse_before = vdc_host_get_stats(p->host)->misuse;
}

static void after(ob *p, vdc_obs *o)
{
    uint64_t m = vdc_host_get_stats(p->host)->misuse - p->misuse_before;
    o->misuse += m > UINT32_MAX ? UINT32_MAX : (uint32_t)m;
}

/* ---- the shadow ----------------------------------------------------------- */

typedef struct lie_walk {
    const uint8_t *buf;
    uint64_t       off;
    bool           lie;
    uint64_t       at;
} lie_walk;

static bool lie_piece(void *ctx, uint64_t a, uint64_t b, const vdc_cell *c)
{
    lie_walk *w = ctx;
    if (c->kind == VDC_CELL_ANY)
        return true;
    if (c->kind == VDC_CELL_EMPTY) {
        w->lie = true;
        w->at = a;
        return false;
    }
    /* The run may be wider than the segment it came from (equal pattern
     * runs merge), so clip the generator to the piece. */
    vdc_seg s = c->seg;
    if (s.kind == VDC_GEN_HEX && s.hex != NULL)
        s.hex += a - s.start;
    s.start = a;
    s.len = b - a;
    vdc_data d = { 1, &s };
    size_t diff = 0;
    if (!vdc_data_match(&d, a, w->buf + (a - w->off), (size_t)(b - a), &diff)) {
        w->lie = true;
        w->at = a + diff;
        return false;
    }
    return true;
}

/* Checks hit bytes buf[0..cb) served at off against the last data written. */
static void check_hit(ob_file *f, uint64_t off, const uint8_t *buf, size_t cb, vdc_obs *o)
{
    o->digest = fnv(fnv(o->digest, &off, sizeof off), buf, cb);
    if (o->lie || f == NULL || cb == 0)
        return;
    lie_walk w = { buf, off, false, 0 };
    vdc_imap_walk(&f->data, off, off + cb, lie_piece, &w);
    if (w.lie) {
        o->lie = 1;
        o->lie_off = w.at;
    }
}

static void shadow_write(ob *p, ob_file *f, uint64_t off, uint64_t cb, const vdc_data *d)
{
    if (f != NULL && cb > 0 && vdc_imap_set_data(&f->data, off, off + cb, d) != VINF_SUCCESS)
        p->oom = true;
}

/* A successful write's answer: the bytes it took are the last data written;
 * what it declined (vd.h) is forgotten, so a hit there is a lie. */
static void shadow_taken(ob *p, ob_file *f, const vdc_vd_io *io, const vdc_data *d)
{
    size_t kept = io->declined ? io->moved : io->count;
    shadow_write(p, f, io->off, kept, d);
    vdc_cell empty = { .kind = VDC_CELL_EMPTY };
    if (io->declined && f != NULL && io->count > kept
        && vdc_imap_set(&f->data, io->off + kept, io->off + io->count, &empty) != VINF_SUCCESS)
        p->oom = true;
}

/* ---- the data path ------------------------------------------------------- */

/* The driver's verdict on an answer, as flags (none for failures). */
static void proto_flags(const vdc_vd_io *io, vdc_obs *o)
{
    static const uint8_t bit[] = {
        [VDC_VD_RULE_UNSET] = VDC_OBS_P_UNSET,   [VDC_VD_RULE_ZERO] = VDC_OBS_P_ZERO,
        [VDC_VD_RULE_OVERRUN] = VDC_OBS_P_OVERRUN, [VDC_VD_RULE_MOVED] = VDC_OBS_P_CURSOR,
        [VDC_VD_RULE_MISS_MOVED] = VDC_OBS_P_CURSOR,
    };
    if (vdc_vd_counted(io) && (size_t)io->rule < sizeof bit / sizeof bit[0])
        o->proto |= bit[io->rule];
}

/* The state of one data-path record, for the driver's hooks. */
typedef struct ob_call {
    ob               *p;
    ob_file          *f;
    const vdc_record *r;
    vdc_obs          *o;
} ob_call;

static void vd_before(void *user, bool write, uint64_t off, size_t cb)
{
    (void)write;
    (void)off;
    (void)cb;
    before(((ob_call *)user)->p);
}

static bool vd_after(void *user, bool write)
{
    ob_call *c = user;
    (void)write;
    after(c->p, c->o);
    return true;
}

static vdc_vd vd_of(ob_call *c, ob_handle *h)
{
    vdc_vd vd = { c->p->be, h->bd, c->p->host, c, vd_before, vd_after };
    return vd;
}

/* Every answer of a loop: flags, the shadow of what was written, hits
 * checked against it. */
static vdc_vd_next loop_answer(void *user, const vdc_vd_io *io, uint8_t *data)
{
    ob_call *c = user;
    proto_flags(io, c->o);
    if (!vdc_vd_usable(io))
        return VDC_VD_NEXT;
    if (io->write) {
        shadow_taken(c->p, c->f, io, &c->r->data);
    } else if (vdc_vd_is_hit(io)) {
        c->o->hit += io->count;
        check_hit(c->f, io->off, data, io->count, c->o);
    } else {
        c->o->miss += io->count;
    }
    return VDC_VD_NEXT;
}

static const uint8_t *loop_fill(void *user, uint64_t off, uint8_t *window, size_t cb)
{
    vdc_data_fill(&((ob_call *)user)->r->data, off, window, cb);
    return window;
}

/* One pfnRead (hit bytes checked against the shadow) or one pfnWrite
 * (the shadow updated by what it reported). */
static void do_one(ob *p, const vdc_record *r, ob_handle *h, vdc_obs *o, bool write)
{
    uint8_t *buf = grow(p, &p->buf, &p->cbbuf, (size_t)r->len);
    if (buf == NULL)
        return;
    ob_call c = { p, file_of(p, h->file), r, o };
    vdc_vd vd = vd_of(&c, h);
    vdc_vd_io io;
    if (write) {
        vdc_data_fill(&r->data, r->off, buf, (size_t)r->len);
        io = vdc_vd_write(&vd, r->off, buf, (size_t)r->len);
    } else {
        memset(buf, OB_POISON, (size_t)r->len);
        o->digest = FNV_INIT;
        io = vdc_vd_read(&vd, r->off, buf, (size_t)r->len);
    }
    proto_flags(&io, o);
    size_t got = vdc_vd_usable(&io) ? io.count : 0;
    o->rc = io.rc;
    o->count = got;
    if (write) {
        if (got > 0)
            shadow_taken(p, c.f, &io, &r->data);
    } else if (o->rc >= 0) {
        o->hit = got;
        check_hit(c.f, r->off, buf, got, o);
    } else if (o->rc == VERR_VD_BLOCK_FREE) {
        o->miss = got;
    }
}

static void do_vdread(ob *p, const vdc_record *r, ob_handle *h, vdc_obs *o)
{
    uint8_t *buf = grow(p, &p->buf, &p->cbbuf, (size_t)r->len);
    if (buf == NULL)
        return;
    o->digest = FNV_INIT;
    ob_call c = { p, file_of(p, h->file), r, o };
    vdc_vd vd = vd_of(&c, h);
    vdc_vd_loop_opts lo = { .poison = OB_POISON, .fill = r->fill, .user = &c, .answer = loop_answer,
                            .fill_data = loop_fill };
    vdc_vd_loop l = vdc_vd_read_loop(&vd, &lo, r->off, buf, r->len);
    if (l.end == VDC_VD_END_NOMEM)
        p->oom = true;
    o->rc = l.rc;
    o->count = o->hit;
}

static void do_vdwrite(ob *p, const vdc_record *r, ob_handle *h, vdc_obs *o)
{
    uint8_t *buf = grow(p, &p->buf, &p->cbbuf, (size_t)r->len);
    if (buf == NULL)
        return;
    vdc_data_fill(&r->data, r->off, buf, (size_t)r->len);
    ob_call c = { p, file_of(p, h->file), r, o };
    vdc_vd vd = vd_of(&c, h);
    vdc_vd_loop_opts lo = { .poison = -1, .user = &c, .answer = loop_answer };
    vdc_vd_loop l = vdc_vd_write_loop(&vd, &lo, r->off, buf, r->len);
    o->rc = l.last.rc; /* the status that ended it (the last call's) */
    o->count = l.done;
}

static void do_discard(ob *p, const vdc_record *r, ob_handle *h, vdc_obs *o)
{
    struct VDIOCTX ctx;
    vdc_host_ioctx_init(p->host, &ctx, NULL, 0);
    size_t pre = OB_SENTINEL, post = OB_SENTINEL, disc = OB_SENTINEL;
    void *bm = NULL;
    size_t len = r->len > SIZE_MAX ? SIZE_MAX : (size_t)r->len;
    before(p);
    o->rc = p->be->pfnDiscard(h->bd, &ctx, r->off, len, &pre, &post, &disc, &bm, r->discard_flags);
    after(p, o);
    free(bm);
    if (o->rc >= 0) {
        if (disc == OB_SENTINEL)
            o->proto |= VDC_OBS_P_UNSET;
        else if (disc > len)
            o->proto |= VDC_OBS_P_OVERRUN;
        else {
            o->count = disc;
            vdc_cell empty = { .kind = VDC_CELL_EMPTY };
            ob_file *f = file_of(p, h->file);
            if (f != NULL && vdc_imap_set(&f->data, r->off, r->off + disc, &empty) != VINF_SUCCESS)
                p->oom = true;
        }
    }
}

/* ---- lifecycle, getters, setters, host records ---------------------------- */

static void do_create_open(ob *p, const vdc_record *r, ob_handle *h, vdc_obs *o)
{
    void *bd = NULL;
    before(p);
    if (r->op == VDC_OP_CREATE) {
        RTUUID tmp;
        const RTUUID *u = uuid_arg(p, &r->uuid, &tmp);
        const char *comment = r->str.given && !r->str.null ? r->str.s : NULL;
        o->rc = p->be->pfnCreate(r->file, r->size, r->image_flags, comment, u, r->open_flags, r->pct_start,
                                 r->pct_span, vdc_host_disk_ifs(p->host), vdc_host_image_ifs(p->host),
                                 vdc_host_op_ifs(p->host), &bd);
    } else {
        o->rc = p->be->pfnOpen(r->file, r->open_flags, vdc_host_disk_ifs(p->host), vdc_host_image_ifs(p->host),
                               &bd);
    }
    after(p, o);
    h->file = r->file;
    if (o->rc < 0)
        return;
    if (bd == NULL) {
        o->proto |= VDC_OBS_P_NULLBD;
        return;
    }
    h->bd = bd;
    h->open = true;
    if (r->op == VDC_OP_CREATE) {
        ob_file *f = file_of(p, r->file);
        file_reset(f);
        if (f != NULL)
            f->uuid_set = r->uuid.kind != VDC_UUID_NULLPTR;
    }
}

static void do_close(ob *p, const vdc_record *r, ob_handle *h, vdc_obs *o)
{
    before(p);
    o->rc = p->be->pfnClose(h->bd, r->del);
    after(p, o);
    h->open = false;
    h->bd = NULL;
    if (r->del && o->rc >= 0)
        file_reset(file_of(p, h->file));
}

static void do_getter(ob *p, const vdc_record *r, ob_handle *h, vdc_obs *o)
{
    const VDCACHEBACKEND *be = p->be;
    before(p);
    switch (r->op) {
    case VDC_OP_GET_VERSION: o->count = be->pfnGetVersion(h->bd); break;
    case VDC_OP_GET_SIZE: o->count = be->pfnGetSize(h->bd); break;
    case VDC_OP_GET_FILE_SIZE: o->count = be->pfnGetFileSize(h->bd); break;
    case VDC_OP_GET_IMAGE_FLAGS: o->count = be->pfnGetImageFlags(h->bd); break;
    case VDC_OP_GET_OPEN_FLAGS: o->count = be->pfnGetOpenFlags(h->bd); break;
    case VDC_OP_SET_OPEN_FLAGS: o->rc = be->pfnSetOpenFlags(h->bd, r->open_flags); break;
    case VDC_OP_FLUSH: {
        struct VDIOCTX ctx;
        vdc_host_ioctx_init(p->host, &ctx, NULL, 0);
        o->rc = be->pfnFlush(h->bd, &ctx);
        break;
    }
    case VDC_OP_DUMP: {
        uint64_t m = vdc_host_get_stats(p->host)->messages;
        be->pfnDump(h->bd);
        o->count = vdc_host_get_stats(p->host)->messages - m;
        break;
    }
    default:
        break;
    }
    after(p, o);
}

static void do_comment(ob *p, const vdc_record *r, ob_handle *h, vdc_obs *o)
{
    ob_file *f = file_of(p, h->file);
    if (r->op == VDC_OP_SET_COMMENT) {
        before(p);
        o->rc = p->be->pfnSetComment(h->bd, r->str.null ? NULL : r->str.s);
        after(p, o);
        if (o->rc >= 0 && f != NULL)
            f->comment_set = true;
        return;
    }
    size_t cb = (size_t)r->buf;
    uint8_t *buf = grow(p, &p->buf, &p->cbbuf, cb + 64);
    if (buf == NULL)
        return;
    memset(buf, OB_POISON, cb + 64);
    o->known = f != NULL && f->comment_set;
    before(p);
    o->rc = p->be->pfnGetComment(h->bd, (char *)buf, cb);
    after(p, o);
    for (size_t i = cb; i < cb + 64; i++)
        if (buf[i] != OB_POISON)
            o->proto |= VDC_OBS_P_OVERRUN;
    if (o->rc >= 0) {
        size_t n = cb > 0 ? strnlen((const char *)buf, cb) : 0;
        if (n == cb)
            o->proto |= VDC_OBS_P_OVERRUN; /* no NUL inside the buffer */
        o->digest = fnv(FNV_INIT, buf, n);
        o->count = n;
    }
}

static void do_uuid(ob *p, const vdc_record *r, ob_handle *h, vdc_obs *o)
{
    ob_file *f = file_of(p, h->file);
    bool mod = r->op == VDC_OP_GET_MOD_UUID || r->op == VDC_OP_SET_MOD_UUID;
    if (r->op == VDC_OP_SET_UUID || r->op == VDC_OP_SET_MOD_UUID) {
        RTUUID tmp;
        const RTUUID *u = uuid_arg(p, &r->uuid, &tmp);
        before(p);
        o->rc = mod ? p->be->pfnSetModificationUuid(h->bd, u) : p->be->pfnSetUuid(h->bd, u);
        after(p, o);
        if (o->rc >= 0 && f != NULL) {
            if (mod)
                f->mod_set = true;
            else
                f->uuid_set = true;
        }
        return;
    }
    RTUUID u;
    memset(&u, 0, sizeof u);
    o->known = f != NULL && (mod ? f->mod_set : f->uuid_set);
    before(p);
    o->rc = mod ? p->be->pfnGetModificationUuid(h->bd, &u) : p->be->pfnGetUuid(h->bd, &u);
    after(p, o);
    if (o->rc >= 0) {
        o->digest = fnv(FNV_INIT, u.au8, sizeof u.au8);
        memcpy(o->uuid, u.au8, sizeof o->uuid);
        if (r->out_uuid.kind == VDC_UUID_VAR) {
            ob_var *v = var_of(p, r->out_uuid.var);
            if (v != NULL && !v->bound) {
                v->v = u;
                v->bound = true;
            }
        }
    }
}

static void do_compose(ob *p, const vdc_record *r, vdc_obs *o)
{
    char *s = NULL;
    before(p);
    if (r->op == VDC_OP_COMPOSE_LOCATION)
        o->rc = p->be->pfnComposeLocation(vdc_host_disk_ifs(p->host), &s);
    else
        o->rc = p->be->pfnComposeName(vdc_host_disk_ifs(p->host), &s);
    after(p, o);
    if (o->rc >= 0 && s != NULL)
        o->digest = fnv(FNV_INIT, s, strlen(s));
    free(s);
}

static void do_host(ob *p, const vdc_record *r, vdc_obs *o)
{
    switch (r->op) {
    case VDC_OP_FILE: {
        uint8_t *buf = grow(p, &p->buf, &p->cbbuf, (size_t)r->len + 1);
        if (buf == NULL)
            return;
        vdc_data_fill(&r->data, 0, buf, (size_t)r->len);
        o->rc = vdc_fs_mem_put(p->fs, r->file, buf, (size_t)r->len);
        file_reset(file_of(p, r->file));
        break;
    }
    case VDC_OP_EXISTS:
    case VDC_OP_GONE: {
        vdc_file *fh = NULL;
        o->rc = p->fs->ops->open(p->fs, r->file, RTFILE_O_OPEN | RTFILE_O_READ | RTFILE_O_DENY_NONE, &fh);
        if (o->rc >= 0) {
            uint64_t size = 0;
            if (p->fs->ops->get_size(fh, &size) >= 0)
                o->count = size;
            p->fs->ops->close(fh);
        }
        break;
    }
    case VDC_OP_CONFIG:
        o->rc = vdc_host_config_set(p->host, r->key, r->str.s);
        break;
    case VDC_OP_INTERFACES:
        vdc_host_set_ifs(p->host, (vdc_host_ifs_mode)vdc_interfaces_mode(r->key, strlen(r->key)));
        o->rc = VINF_SUCCESS;
        break;
    default:
        break;
    }
}

/* Is the callback record r needs present? */
static bool have_callback(const VDCACHEBACKEND *be, vdc_op op)
{
    switch (op) {
    case VDC_OP_PROBE: return be->pfnProbe != NULL;
    case VDC_OP_OPEN: return be->pfnOpen != NULL;
    case VDC_OP_CREATE: return be->pfnCreate != NULL;
    case VDC_OP_CLOSE: return be->pfnClose != NULL;
    case VDC_OP_READ:
    case VDC_OP_VDREAD: return be->pfnRead != NULL;
    case VDC_OP_WRITE:
    case VDC_OP_VDWRITE: return be->pfnWrite != NULL;
    case VDC_OP_FLUSH: return be->pfnFlush != NULL;
    case VDC_OP_DISCARD: return be->pfnDiscard != NULL;
    case VDC_OP_GET_VERSION: return be->pfnGetVersion != NULL;
    case VDC_OP_GET_SIZE: return be->pfnGetSize != NULL;
    case VDC_OP_GET_FILE_SIZE: return be->pfnGetFileSize != NULL;
    case VDC_OP_GET_IMAGE_FLAGS: return be->pfnGetImageFlags != NULL;
    case VDC_OP_GET_OPEN_FLAGS: return be->pfnGetOpenFlags != NULL;
    case VDC_OP_SET_OPEN_FLAGS: return be->pfnSetOpenFlags != NULL;
    case VDC_OP_GET_COMMENT: return be->pfnGetComment != NULL;
    case VDC_OP_SET_COMMENT: return be->pfnSetComment != NULL;
    case VDC_OP_GET_UUID: return be->pfnGetUuid != NULL;
    case VDC_OP_SET_UUID: return be->pfnSetUuid != NULL;
    case VDC_OP_GET_MOD_UUID: return be->pfnGetModificationUuid != NULL;
    case VDC_OP_SET_MOD_UUID: return be->pfnSetModificationUuid != NULL;
    case VDC_OP_DUMP: return be->pfnDump != NULL;
    case VDC_OP_COMPOSE_LOCATION: return be->pfnComposeLocation != NULL;
    case VDC_OP_COMPOSE_NAME: return be->pfnComposeName != NULL;
    default: return true;
    }
}

static void run_record(ob *p, const vdc_record *r, vdc_obs *o)
{
    if (!have_callback(p->be, r->op)) {
        o->end = VDC_OBS_NULL_CB;
        return;
    }
    switch (r->op) {
    case VDC_OP_FILE:
    case VDC_OP_EXISTS:
    case VDC_OP_GONE:
    case VDC_OP_CONFIG:
    case VDC_OP_INTERFACES:
        do_host(p, r, o);
        o->end = VDC_OBS_DONE;
        return;
    case VDC_OP_PROBE:
        before(p);
        o->rc = p->be->pfnProbe(r->file, vdc_host_disk_ifs(p->host), vdc_host_probe_ifs(p->host));
        after(p, o);
        o->end = VDC_OBS_DONE;
        return;
    case VDC_OP_COMPOSE_LOCATION:
    case VDC_OP_COMPOSE_NAME:
        do_compose(p, r, o);
        o->end = VDC_OBS_DONE;
        return;
    default:
        break;
    }
    ob_handle *h = r->handle != NULL ? handle_of(p, r->handle) : NULL;
    if (h == NULL) {
        o->end = VDC_OBS_NOT_OPEN;
        return;
    }
    bool opener = r->op == VDC_OP_CREATE || r->op == VDC_OP_OPEN;
    if (opener == h->open) {
        o->end = VDC_OBS_NOT_OPEN; /* open already, or never opened here */
        return;
    }
    switch (r->op) {
    case VDC_OP_CREATE:
    case VDC_OP_OPEN: do_create_open(p, r, h, o); break;
    case VDC_OP_CLOSE: do_close(p, r, h, o); break;
    case VDC_OP_READ: do_one(p, r, h, o, false); break;
    case VDC_OP_WRITE: do_one(p, r, h, o, true); break;
    case VDC_OP_VDREAD: do_vdread(p, r, h, o); break;
    case VDC_OP_VDWRITE: do_vdwrite(p, r, h, o); break;
    case VDC_OP_DISCARD: do_discard(p, r, h, o); break;
    case VDC_OP_GET_COMMENT:
    case VDC_OP_SET_COMMENT: do_comment(p, r, h, o); break;
    case VDC_OP_GET_UUID:
    case VDC_OP_SET_UUID:
    case VDC_OP_GET_MOD_UUID:
    case VDC_OP_SET_MOD_UUID: do_uuid(p, r, h, o); break;
    default: do_getter(p, r, h, o); break;
    }
    o->end = VDC_OBS_DONE;
}

int vdc_observe_here(const vdc_trace *t, const VDCACHEBACKEND *be, vdc_obs *obs)
{
    if (t == NULL || be == NULL || obs == NULL)
        return VERR_INVALID_PARAMETER;
    int rc = VINF_SUCCESS;
    ob *p = calloc(1, sizeof *p);
    if (p == NULL)
        return VERR_NO_MEMORY;
    p->t = t;
    p->be = be;
    p->fs = vdc_fs_mem_new(0, 0);
    if (p->fs == NULL) {
        rc = VERR_NO_MEMORY;
        goto out_free_ob;
    }
    p->host = vdc_host_new(p->fs);
    if (p->host == NULL) {
        rc = VERR_NO_MEMORY;
        goto out_destroy_fs;
    }
    unsigned n = vdc_trace_ncalls(t);
    for (unsigned i = 0; i < n && !p->oom; i++) {
        memset(&obs[i], 0, sizeof obs[i]);
        run_record(p, vdc_trace_record(t, i), &obs[i]);
    }
    if (p->oom)
        rc = VERR_NO_MEMORY;
    for (unsigned i = 0; i < p->nh; i++)
        if (p->h[i].open)
            be->pfnClose(p->h[i].bd, false);
    vdc_host_free(p->host);
out_destroy_fs:
    vdc_fs_destroy(p->fs);
out_free_ob:
    for (unsigned i = 0; i < p->nf; i++)
        vdc_imap_free(&p->f[i].data);
    free(p->buf);
    free(p);
    return rc;
}

/* ---- in a child ------------------------------------------------------------ */

typedef struct obs_ctx {
    const vdc_trace      *t;
    const VDCACHEBACKEND *be;
    vdc_obs              *obs;
    volatile int         *done;
} obs_ctx;

static int observe_child(void *p)
{
    obs_ctx *c = p;
    int rc = vdc_observe_here(c->t, c->be, c->obs);
    *c->done = rc == VINF_SUCCESS ? 1 : 2;
    return 0;
}

int vdc_observe(const vdc_trace *t, const VDCACHEBACKEND *be, uint64_t timeout_ms, vdc_obs *obs,
                vdc_observe_summary *s)
{
    if (t == NULL || be == NULL || obs == NULL || s == NULL || timeout_ms == 0)
        return VERR_INVALID_PARAMETER;
    memset(s, 0, sizeof *s);
    unsigned n = vdc_trace_ncalls(t);
    memset(obs, 0, (size_t)n * sizeof *obs);
    volatile int *done = vdc_iso_shared_new(sizeof *done);
    if (done == NULL)
        return VERR_NO_MEMORY;
    obs_ctx c = { t, be, obs, done };
    vdc_iso_result cr;
    vdc_iso_opts io = { .flags = VDC_ISO_QUIET, .deadline_ms = timeout_ms };
    int rc = vdc_iso_run(observe_child, &c, &io, &cr);
    if (rc == VINF_SUCCESS) {
        s->seconds = cr.seconds;
        if (*done == 2)
            rc = VERR_NO_MEMORY;
        if (*done != 1) {
            s->timed_out = cr.end == VDC_ISO_TIMEOUT;
            s->crashed = !s->timed_out && *done == 0;
            s->signal = cr.end == VDC_ISO_SIGNAL ? cr.code : -cr.code;
        }
        unsigned i = 0;
        while (i < n && obs[i].end != VDC_OBS_NOT_RUN)
            i++;
        s->calls_run = i;
        if (i < n && (s->crashed || s->timed_out))
            obs[i].end = s->timed_out ? VDC_OBS_TIMEOUT : VDC_OBS_CRASH;
    }
    vdc_iso_shared_free((void *)done, sizeof *done);
    return rc;
}
