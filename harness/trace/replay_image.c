/*
 * harness/trace/replay_image.c - the `image` record: a file of the scratch
 * storage made from a sidecar (spec/trace-format.md sections 4.6 and 7.3;
 * the sidecar's layout is sidecar.h).  Contract: replay_int.h (rp_do_image
 * returns RP_GO, or RP_STOP with the verdict ERROR: a sidecar that is
 * missing, unreadable or malformed, or a storage that refuses the file).
 *
 * The sidecar is found beside the trace: the directory of
 * vdc_trace_source, plus the record's sidecar name (a FILE name, so never
 * a path that leaves that directory).  Bytes move in chunks of at most
 * 1 MiB through the replay's buffer, whatever the sidecar claims.
 */
#include "replay_int.h"

#include <stdio.h>
#include <string.h>

#include "sidecar.h"

#define CHUNK (1u << 20)

/* Fills the storage range of one run. */
static int put_run(rp *p, vdc_file *fh, vdc_sidecar *sc, const vdc_sidecar_run *run, char *err, size_t cb_err)
{
    vdc_seg seg = { .kind = VDC_GEN_PATTERN, .start = run->off, .len = run->len, .seed = run->seed };
    vdc_data d = { 1, &seg };
    for (uint64_t done = 0; done < run->len;) {
        size_t n = run->len - done < CHUNK ? (size_t)(run->len - done) : CHUNK;
        int rc;
        if (run->kind == VDC_SIDECAR_BYTES) {
            rc = vdc_sidecar_read(sc, p->buf, n, err, cb_err);
            if (rc != VINF_SUCCESS)
                return rc;
        } else {
            vdc_data_fill(&d, run->off + done, p->buf, n);
        }
        rc = p->fs->ops->write(fh, run->off + done, p->buf, n);
        if (RT_FAILURE(rc)) {
            snprintf(err, cb_err, "the storage refused a write at %llu: %s",
                     (unsigned long long)(run->off + done), rp_st(rc, (char[64]){ 0 }, 64));
            return rc;
        }
        done += n;
    }
    return VINF_SUCCESS;
}

int rp_do_image(rp *p)
{
    const vdc_record *r = p->rec;
    const char *src = vdc_trace_source(p->t);
    const char *slash = strrchr(src, '/');
    char scpath[4200], err[300] = "", s[64];
    int n = slash != NULL ? snprintf(scpath, sizeof scpath, "%.*s/%s", (int)(slash - src), src, r->sidecar)
                          : snprintf(scpath, sizeof scpath, "%s", r->sidecar);
    if (n < 0 || (size_t)n >= sizeof scpath)
        return rp_error(p, "image %s: the sidecar's path is too long", r->file);
    const char *path = rp_path(p, r->file);
    if (path == NULL)
        return rp_error(p, "image %s: the file's path is too long", r->file);
    if (rp_buf(p, CHUNK) == RP_STOP)
        return RP_STOP;
    vdc_sidecar sc;
    int rc = vdc_sidecar_open(scpath, &sc, err, sizeof err);
    if (rc != VINF_SUCCESS)
        return rp_error(p, "image %s: sidecar %s: %s", r->file, scpath, err);
    vdc_file *fh = NULL;
    rc = p->fs->ops->open(p->fs, path, RTFILE_O_READWRITE | RTFILE_O_CREATE_REPLACE | RTFILE_O_DENY_NONE, &fh);
    if (RT_FAILURE(rc)) {
        vdc_sidecar_close(&sc);
        return rp_error(p, "image %s: cannot create it: %s", r->file, rp_st(rc, s, sizeof s));
    }
    rc = p->fs->ops->set_size(fh, 0);
    if (RT_SUCCESS(rc))
        rc = p->fs->ops->set_size(fh, sc.size);
    if (RT_FAILURE(rc))
        snprintf(err, sizeof err, "cannot make it %llu bytes long: %s", (unsigned long long)sc.size,
                 rp_st(rc, s, sizeof s));
    vdc_sidecar_run run;
    while (RT_SUCCESS(rc) && (rc = vdc_sidecar_next(&sc, &run, err, sizeof err)) == VINF_SUCCESS)
        rc = put_run(p, fh, &sc, &run, err, sizeof err);
    int rc2 = p->fs->ops->close(fh);
    vdc_sidecar_close(&sc);
    if (rc != VINF_EOF)
        return rp_error(p, "image %s: sidecar %s: %s", r->file, scpath, err);
    if (RT_FAILURE(rc2))
        return rp_error(p, "image %s: closing it failed: %s", r->file, rp_st(rc2, s, sizeof s));
    return RP_GO;
}
