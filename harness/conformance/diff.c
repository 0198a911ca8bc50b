/*
 * harness/conformance/diff.c - comparing two backends' observations of one
 * trace (diff.h).
 *
 * Contract, the CONTRACT / QUALITY / SAME rules and statuses: diff.h
 * (VINF_SUCCESS, VERR_INVALID_PARAMETER, VERR_NO_MEMORY,
 * VERR_GENERAL_FAILURE).  Clause numbers are spec/contract.md's.
 */
#include "diff.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../host/status.h"
#include "../host/uuid.h"
#include "../core/isolate.h"

static const char *st(int rc, char *buf, size_t cb)
{
    const char *n = vdc_status_name(rc);
    if (n != NULL)
        snprintf(buf, cb, "%s (%d)", n, rc);
    else
        snprintf(buf, cb, "status %d", rc);
    return buf;
}

void vdc_obs_describe(const vdc_record *r, const vdc_obs *o, char *buf, size_t cb)
{
    char s[80], lie[96] = "", mis[64] = "", proto[224] = "", extra[400];
    switch (o->end) {
    case VDC_OBS_NOT_RUN: snprintf(buf, cb, "not reached"); return;
    case VDC_OBS_NULL_CB: snprintf(buf, cb, "the callback is NULL"); return;
    case VDC_OBS_NOT_OPEN: snprintf(buf, cb, "the handle is not open (its create/open failed)"); return;
    case VDC_OBS_CRASH: snprintf(buf, cb, "crashed during the call"); return;
    case VDC_OBS_TIMEOUT: snprintf(buf, cb, "did not return within the time limit"); return;
    default: break;
    }
    if (o->lie)
        snprintf(lie, sizeof lie, ", LIED: wrong byte at virtual offset 0x%llx", (unsigned long long)o->lie_off);
    if (o->misuse != 0)
        snprintf(mis, sizeof mis, ", %u host misuse%s", o->misuse, o->misuse == 1 ? "" : "s");
    if (o->proto != 0)
        snprintf(proto, sizeof proto, ", protocol violation:%s%s%s%s%s",
                 o->proto & VDC_OBS_P_ZERO ? " zero count (VD loops forever)" : "",
                 o->proto & VDC_OBS_P_OVERRUN ? " count larger than asked" : "",
                 o->proto & VDC_OBS_P_CURSOR ? " moved a different number of bytes than reported" : "",
                 o->proto & VDC_OBS_P_NULLBD ? " success with NULL backend data" : "",
                 o->proto & VDC_OBS_P_UNSET ? " output count not set" : "");
    snprintf(extra, sizeof extra, "%s%s%s", lie, mis, proto);
    switch (r->op) {
    case VDC_OP_READ:
    case VDC_OP_VDREAD:
        if (o->rc >= 0 || o->rc == VERR_VD_BLOCK_FREE)
            snprintf(buf, cb, "%s: %llu bytes hit, %llu missed%s", st(o->rc, s, sizeof s), (unsigned long long)o->hit,
                     (unsigned long long)o->miss, extra);
        else
            snprintf(buf, cb, "%s after %llu bytes hit, %llu missed%s", st(o->rc, s, sizeof s),
                     (unsigned long long)o->hit, (unsigned long long)o->miss, extra);
        return;
    case VDC_OP_WRITE:
    case VDC_OP_VDWRITE:
        snprintf(buf, cb, "%s, %llu bytes written%s", st(o->rc, s, sizeof s), (unsigned long long)o->count, extra);
        return;
    case VDC_OP_DISCARD:
        snprintf(buf, cb, "%s, %llu bytes discarded%s", st(o->rc, s, sizeof s), (unsigned long long)o->count, extra);
        return;
    case VDC_OP_GET_VERSION:
    case VDC_OP_GET_SIZE:
    case VDC_OP_GET_FILE_SIZE:
    case VDC_OP_GET_IMAGE_FLAGS:
    case VDC_OP_GET_OPEN_FLAGS:
        snprintf(buf, cb, "returned 0x%llx (%llu)%s", (unsigned long long)o->count, (unsigned long long)o->count,
                 extra);
        return;
    case VDC_OP_DUMP:
        snprintf(buf, cb, "printed %llu message%s%s", (unsigned long long)o->count, o->count == 1 ? "" : "s", extra);
        return;
    case VDC_OP_EXISTS:
    case VDC_OP_GONE:
        if (o->rc >= 0)
            snprintf(buf, cb, "the file exists (%llu bytes)", (unsigned long long)o->count);
        else
            snprintf(buf, cb, "the file does not exist (%s)", st(o->rc, s, sizeof s));
        return;
    case VDC_OP_GET_UUID:
    case VDC_OP_GET_MOD_UUID:
        if (o->rc >= 0) {
            /* The UUID itself, formatted as traces write it. */
            RTUUID u;
            char text[VDC_UUID_STR_LEN + 1];
            memcpy(u.au8, o->uuid, sizeof u.au8);
            vdc_uuid_format(&u, text);
            snprintf(buf, cb, "%s, %s%s", st(o->rc, s, sizeof s), text, extra);
        } else {
            snprintf(buf, cb, "%s%s", st(o->rc, s, sizeof s), extra);
        }
        return;
    case VDC_OP_GET_COMMENT:
    case VDC_OP_COMPOSE_LOCATION:
    case VDC_OP_COMPOSE_NAME:
        if (o->rc >= 0)
            snprintf(buf, cb, "%s, value digest %016llx%s", st(o->rc, s, sizeof s), (unsigned long long)o->digest,
                     extra);
        else
            snprintf(buf, cb, "%s%s", st(o->rc, s, sizeof s), extra);
        return;
    default:
        snprintf(buf, cb, "%s%s", st(o->rc, s, sizeof s), extra);
        return;
    }
}

/* Callbacks VD calls without checking for NULL (vbox-behaviour §7). */
static bool vd_calls(vdc_op op)
{
    switch (op) {
    case VDC_OP_PROBE: case VDC_OP_OPEN: case VDC_OP_CREATE: case VDC_OP_CLOSE: case VDC_OP_READ:
    case VDC_OP_VDREAD: case VDC_OP_WRITE: case VDC_OP_VDWRITE: case VDC_OP_FLUSH: case VDC_OP_GET_MOD_UUID:
    case VDC_OP_SET_MOD_UUID:
        return true;
    default:
        return false;
    }
}

static vdc_diff_kind say(vdc_diff_kind k, char *why, size_t cb, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static vdc_diff_kind say(vdc_diff_kind k, char *why, size_t cb, const char *fmt, ...)
{
    if (why != NULL && cb > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, cb, fmt, ap);
        va_end(ap);
    }
    return k;
}

/* One side fails where the other succeeds: CONTRACT, unless the failure is
 * one the contract allows for this record (`allowed`, 0 for none). */
static vdc_diff_kind one_fails(const vdc_obs *a, const vdc_obs *b, int allowed1, int allowed2, const char *clause,
                               char *why, size_t cb)
{
    const vdc_obs *f = a->rc < 0 ? a : b;
    char s[80];
    const char *who = f == a ? "A" : "B";
    if ((allowed1 != 0 && f->rc == allowed1) || (allowed2 != 0 && f->rc == allowed2))
        return say(VDC_DIFF_QUALITY, why, cb, "%s answered %s where the other succeeded (allowed)", who,
                   st(f->rc, s, sizeof s));
    return say(VDC_DIFF_CONTRACT, why, cb, "%s failed with %s where the other succeeded (%s)", who,
               st(f->rc, s, sizeof s), clause);
}

static vdc_diff_kind compare_reads(const vdc_obs *a, const vdc_obs *b, char *why, size_t cb)
{
    int ca = a->rc >= 0 ? 0 : a->rc == VERR_VD_BLOCK_FREE ? 1 : 2;
    int cbb = b->rc >= 0 ? 0 : b->rc == VERR_VD_BLOCK_FREE ? 1 : 2;
    char s[80];
    if ((ca == 2) != (cbb == 2)) {
        const vdc_obs *f = ca == 2 ? a : b;
        return say(VDC_DIFF_CONTRACT, why, cb, "%s failed the read with %s where the other served it (READ-1/2: "
                   "a failing cache read fails the guest's read)", f == a ? "A" : "B", st(f->rc, s, sizeof s));
    }
    if (ca == 2 && a->rc != b->rc)
        return say(VDC_DIFF_QUALITY, why, cb, "both failed, with different codes");
    if (a->hit != b->hit)
        return say(VDC_DIFF_QUALITY, why, cb, "A served %llu bytes as hits, B %llu (a cache may forget)",
                   (unsigned long long)a->hit, (unsigned long long)b->hit);
    return VDC_DIFF_SAME;
}

static vdc_diff_kind compare_done(const vdc_record *r, const vdc_obs *a, const vdc_obs *b, char *why, size_t cb)
{
    char s1[80], s2[80];
    if ((a->misuse != 0) != (b->misuse != 0))
        return say(VDC_DIFF_CONTRACT, why, cb, "%s misused the host %u time(s) (HOST-1)", a->misuse ? "A" : "B",
                   a->misuse ? a->misuse : b->misuse);
    if ((a->proto != 0) != (b->proto != 0))
        return say(VDC_DIFF_CONTRACT, why, cb, "%s broke the call protocol (READ-1/2, WRITE-1)",
                   a->proto ? "A" : "B");
    if (a->lie != b->lie)
        return say(VDC_DIFF_CONTRACT, why, cb, "%s lied: a hit delivered a byte that is not the last data "
                   "written, at virtual offset 0x%llx (READ-1)", a->lie ? "A" : "B",
                   (unsigned long long)(a->lie ? a->lie_off : b->lie_off));
    bool oka = a->rc >= 0, okb = b->rc >= 0;
    switch (r->op) {
    case VDC_OP_READ:
    case VDC_OP_VDREAD:
        return compare_reads(a, b, why, cb);
    case VDC_OP_WRITE:
    case VDC_OP_VDWRITE:
        if (oka != okb)
            return one_fails(a, b, 0, 0, "WRITE-3/4/5: writes to a read-write cache succeed", why, cb);
        if (!oka && a->rc != b->rc) {
            if (a->rc == VERR_VD_IMAGE_READ_ONLY || b->rc == VERR_VD_IMAGE_READ_ONLY)
                return say(VDC_DIFF_CONTRACT, why, cb, "the write failed with %s on A and %s on B; the contract "
                           "names VERR_VD_IMAGE_READ_ONLY (WRITE-3)", st(a->rc, s1, sizeof s1), st(b->rc, s2, sizeof s2));
            return say(VDC_DIFF_QUALITY, why, cb, "both failed, with different codes");
        }
        return VDC_DIFF_SAME;
    case VDC_OP_PROBE:
        if ((a->rc == VERR_VD_GEN_INVALID_HEADER) != (b->rc == VERR_VD_GEN_INVALID_HEADER) || oka != okb)
            return say(VDC_DIFF_CONTRACT, why, cb, "probe answered %s on A and %s on B (PROBE-1/2: VD takes any "
                       "answer but VERR_VD_GEN_INVALID_HEADER as \"mine\")", st(a->rc, s1, sizeof s1),
                       st(b->rc, s2, sizeof s2));
        break;
    case VDC_OP_CREATE:
        if (oka != okb)
            return one_fails(a, b, VERR_VD_INVALID_SIZE, 0, "CREATE-1", why, cb);
        break;
    case VDC_OP_OPEN:
        if (oka != okb)
            return one_fails(a, b, 0, 0, "OPEN-1", why, cb);
        break;
    case VDC_OP_CLOSE:
        if (oka != okb)
            return one_fails(a, b, 0, 0, "CLOSE-1", why, cb);
        break;
    case VDC_OP_FLUSH:
        if (oka != okb)
            return one_fails(a, b, 0, 0, "FLUSH-1", why, cb);
        break;
    case VDC_OP_SET_OPEN_FLAGS:
        if (oka != okb)
            return one_fails(a, b, VERR_NOT_SUPPORTED, 0, "INFO-3", why, cb);
        break;
    case VDC_OP_DISCARD:
        if (oka != okb)
            return one_fails(a, b, VERR_NOT_SUPPORTED, VERR_VD_DISCARD_ALIGNMENT_NOT_MET, "DISCARD-1/3", why, cb);
        if (!oka && a->rc != b->rc && (a->rc == VERR_VD_IMAGE_READ_ONLY || b->rc == VERR_VD_IMAGE_READ_ONLY))
            return say(VDC_DIFF_CONTRACT, why, cb, "the discard failed with %s on A and %s on B; the contract "
                       "names VERR_VD_IMAGE_READ_ONLY (DISCARD-3)", st(a->rc, s1, sizeof s1), st(b->rc, s2, sizeof s2));
        break;
    case VDC_OP_GET_OPEN_FLAGS:
        if (a->count != b->count)
            return say(VDC_DIFF_CONTRACT, why, cb, "open flags 0x%llx on A, 0x%llx on B (INFO-2)",
                       (unsigned long long)a->count, (unsigned long long)b->count);
        return VDC_DIFF_SAME;
    case VDC_OP_GET_SIZE:
    case VDC_OP_GET_IMAGE_FLAGS:
        if (a->count != b->count)
            return say(VDC_DIFF_QUALITY, why, cb, "0x%llx on A, 0x%llx on B (INFO-1)", (unsigned long long)a->count,
                       (unsigned long long)b->count);
        return VDC_DIFF_SAME;
    case VDC_OP_GET_VERSION:
    case VDC_OP_GET_FILE_SIZE:
    case VDC_OP_FILE:
    case VDC_OP_CONFIG:
    case VDC_OP_INTERFACES:
        return VDC_DIFF_SAME;
    case VDC_OP_GET_UUID:
    case VDC_OP_GET_MOD_UUID:
    case VDC_OP_GET_COMMENT:
    case VDC_OP_SET_UUID:
    case VDC_OP_SET_MOD_UUID:
    case VDC_OP_SET_COMMENT:
        if (oka != okb)
            return one_fails(a, b, VERR_NOT_SUPPORTED, 0, "UUID-1/3/4, INFO-4", why, cb);
        if (oka && a->digest != b->digest && a->known && b->known)
            return say(VDC_DIFF_CONTRACT, why, cb, "different values after both accepted the same set (UUID-1/2/3, "
                       "INFO-4)");
        break;
    case VDC_OP_DUMP:
        if ((a->count > 0) != (b->count > 0))
            return say(VDC_DIFF_QUALITY, why, cb, "%s printed nothing (INFO-5)", a->count ? "B" : "A");
        return VDC_DIFF_SAME;
    case VDC_OP_EXISTS:
    case VDC_OP_GONE:
        if (oka != okb)
            return say(VDC_DIFF_CONTRACT, why, cb, "the file exists after %s's calls but not after %s's (CLOSE-2, CREATE-4)",
                       oka ? "A" : "B", oka ? "B" : "A");
        return VDC_DIFF_SAME;
    default:
        break;
    }
    if (a->rc != b->rc)
        return say(VDC_DIFF_QUALITY, why, cb, "%s on A, %s on B", st(a->rc, s1, sizeof s1), st(b->rc, s2, sizeof s2));
    if (oka && a->digest != b->digest && (r->op == VDC_OP_COMPOSE_LOCATION || r->op == VDC_OP_COMPOSE_NAME))
        return say(VDC_DIFF_QUALITY, why, cb, "different strings");
    return VDC_DIFF_SAME;
}

vdc_diff_kind vdc_diff_compare(const vdc_record *r, const vdc_obs *a, const vdc_obs *b, char *why, size_t cb)
{
    if (why != NULL && cb > 0)
        why[0] = '\0';
    if (a->end == VDC_OBS_DONE && b->end == VDC_OBS_DONE)
        return compare_done(r, a, b, why, cb);
    bool dead_a = a->end == VDC_OBS_CRASH || a->end == VDC_OBS_TIMEOUT;
    bool dead_b = b->end == VDC_OBS_CRASH || b->end == VDC_OBS_TIMEOUT;
    if (dead_a != dead_b)
        return say(VDC_DIFF_CONTRACT, why, cb, "%s %s during this call; the other returned (HOST-2)",
                   dead_a ? "A" : "B",
                   (dead_a ? a : b)->end == VDC_OBS_CRASH ? "crashed" : "hung");
    if (a->end == VDC_OBS_NULL_CB || b->end == VDC_OBS_NULL_CB) {
        if (a->end == b->end)
            return VDC_DIFF_SAME;
        return say(vd_calls(r->op) ? VDC_DIFF_CONTRACT : VDC_DIFF_QUALITY, why, cb,
                   "%s has no callback for %s%s", a->end == VDC_OBS_NULL_CB ? "A" : "B", vdc_op_name(r->op),
                   vd_calls(r->op) ? " (VD calls it without checking: it would crash)" : "");
    }
    /* NOT_OPEN on one side follows a create/open difference already counted. */
    return VDC_DIFF_SAME;
}

static void keep_quality(vdc_diff_result *r, unsigned call, const char *why)
{
    if (r->quality < VDC_DIFF_MAX_QUALITY) {
        r->quality_calls[r->quality] = call;
        snprintf(r->quality_why[r->quality], sizeof r->quality_why[r->quality], "%s", why);
    }
    r->quality++;
}

int vdc_diff_run(const vdc_trace *t, const VDCACHEBACKEND *a, const VDCACHEBACKEND *b, uint64_t timeout_ms,
                 vdc_diff_result *r)
{
    if (t == NULL || a == NULL || b == NULL || r == NULL || timeout_ms == 0)
        return VERR_INVALID_PARAMETER;
    memset(r, 0, sizeof *r);
    r->calls = vdc_trace_ncalls(t);
    size_t cb = (size_t)(r->calls > 0 ? r->calls : 1) * sizeof(vdc_obs);
    r->obs_a = vdc_iso_shared_new(cb);
    r->obs_b = vdc_iso_shared_new(cb);
    if (r->obs_a == NULL || r->obs_b == NULL) {
        vdc_diff_free(r);
        return VERR_NO_MEMORY;
    }
    int rc = vdc_observe(t, a, timeout_ms, r->obs_a, &r->sa);
    if (rc == VINF_SUCCESS)
        rc = vdc_observe(t, b, timeout_ms, r->obs_b, &r->sb);
    if (rc != VINF_SUCCESS) {
        vdc_diff_free(r);
        return rc;
    }
    char why[256];
    for (unsigned i = 0; i < r->calls; i++) {
        const vdc_obs *oa = &r->obs_a[i], *ob = &r->obs_b[i];
        if (oa->end == VDC_OBS_NOT_RUN || ob->end == VDC_OBS_NOT_RUN)
            break;
        r->compared = i + 1;
        vdc_diff_kind k = vdc_diff_compare(vdc_trace_record(t, i), oa, ob, why, sizeof why);
        if (k == VDC_DIFF_QUALITY)
            keep_quality(r, i + 1, why);
        if (k == VDC_DIFF_CONTRACT) {
            r->contract_call = i + 1;
            snprintf(r->contract_why, sizeof r->contract_why, "%s", why);
            break;
        }
        if (oa->end == VDC_OBS_CRASH || oa->end == VDC_OBS_TIMEOUT || ob->end == VDC_OBS_CRASH
            || ob->end == VDC_OBS_TIMEOUT)
            break;
    }
    return VINF_SUCCESS;
}

void vdc_diff_free(vdc_diff_result *r)
{
    size_t cb = (size_t)(r->calls > 0 ? r->calls : 1) * sizeof(vdc_obs);
    vdc_iso_shared_free(r->obs_a, cb);
    vdc_iso_shared_free(r->obs_b, cb);
    r->obs_a = r->obs_b = NULL;
}
