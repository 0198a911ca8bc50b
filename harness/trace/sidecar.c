/*
 * harness/trace/sidecar.c - reading and writing image sidecars.  Contract
 * and layout: sidecar.h; spec/trace-format.md section 4.6.  Statuses as
 * sidecar.h lists them.
 */
#include "sidecar.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#define HDR_SIZE 24u
#define RUN_SIZE 32u

static int bad(char *err, size_t cb, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int bad(char *err, size_t cb, int rc, const char *fmt, ...)
{
    if (err != NULL && cb > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cb, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Reads exactly cb bytes; a short read is corruption (or an I/O error). */
static int read_exact(FILE *f, void *buf, size_t cb, const char *what, char *err, size_t cb_err)
{
    if (fread(buf, 1, cb, f) == cb)
        return VINF_SUCCESS;
    if (ferror(f))
        return bad(err, cb_err, VERR_FILE_IO_ERROR, "read error in %s", what);
    return bad(err, cb_err, VERR_VD_GEN_INVALID_HEADER, "the sidecar ends inside %s", what);
}

int vdc_sidecar_open(const char *path, vdc_sidecar *sc, char *err, size_t cb_err)
{
    uint8_t h[HDR_SIZE];
    memset(sc, 0, sizeof *sc);
    sc->f = fopen(path, "rb");
    if (sc->f == NULL)
        return bad(err, cb_err, errno == ENOENT || errno == ENOTDIR ? VERR_FILE_NOT_FOUND : VERR_FILE_IO_ERROR,
                   "cannot open: %s", strerror(errno));
    int rc = read_exact(sc->f, h, sizeof h, "the header", err, cb_err);
    if (rc == VINF_SUCCESS && memcmp(h, VDC_SIDECAR_MAGIC, 8) != 0)
        rc = bad(err, cb_err, VERR_VD_GEN_INVALID_HEADER, "not a sidecar (no \"%s\" magic)", VDC_SIDECAR_MAGIC);
    sc->size = get64(h + 8);
    sc->nruns = get64(h + 16);
    if (rc == VINF_SUCCESS && sc->size > VDC_TRACE_MAX_SIZE)
        rc = bad(err, cb_err, VERR_VD_GEN_INVALID_HEADER, "size %llu is beyond 2^62",
                 (unsigned long long)sc->size);
    if (rc != VINF_SUCCESS)
        vdc_sidecar_close(sc);
    return rc;
}

int vdc_sidecar_next(vdc_sidecar *sc, vdc_sidecar_run *run, char *err, size_t cb_err)
{
    uint8_t b[RUN_SIZE];
    if (sc->f == NULL)
        return bad(err, cb_err, VERR_VD_GEN_INVALID_HEADER, "sidecar not open");
    if (sc->pending > 0)
        return bad(err, cb_err, VERR_VD_GEN_INVALID_HEADER, "run %llu: its bytes were not read",
                   (unsigned long long)sc->next);
    if (sc->next == sc->nruns) {
        if (fgetc(sc->f) != EOF)
            return bad(err, cb_err, VERR_VD_GEN_INVALID_HEADER, "bytes after the last of %llu runs",
                       (unsigned long long)sc->nruns);
        return VINF_EOF;
    }
    int rc = read_exact(sc->f, b, sizeof b, "a run header", err, cb_err);
    if (rc != VINF_SUCCESS)
        return rc;
    run->off = get64(b);
    run->len = get64(b + 8);
    run->kind = (unsigned)(b[16] | b[17] << 8 | b[18] << 16 | (unsigned)b[19] << 24);
    uint32_t reserved = (uint32_t)(b[20] | b[21] << 8 | b[22] << 16 | (unsigned)b[23] << 24);
    run->seed = get64(b + 24);
    unsigned long long k = (unsigned long long)sc->next;
    if (run->kind != VDC_SIDECAR_BYTES && run->kind != VDC_SIDECAR_PATTERN)
        return bad(err, cb_err, VERR_VD_GEN_INVALID_HEADER, "run %llu: unknown kind %u", k, run->kind);
    if (reserved != 0)
        return bad(err, cb_err, VERR_VD_GEN_INVALID_HEADER, "run %llu: reserved field not zero", k);
    if (run->len == 0 || run->len > VDC_SIDECAR_MAX_RUN)
        return bad(err, cb_err, VERR_VD_GEN_INVALID_HEADER, "run %llu: length %llu is not 1..%u", k,
                   (unsigned long long)run->len, VDC_SIDECAR_MAX_RUN);
    if (run->off < sc->end || run->off > sc->size || run->len > sc->size - run->off)
        return bad(err, cb_err, VERR_VD_GEN_INVALID_HEADER,
                   "run %llu: [%llu, +%llu) overlaps the previous run or passes the size %llu", k,
                   (unsigned long long)run->off, (unsigned long long)run->len, (unsigned long long)sc->size);
    sc->end = run->off + run->len;
    sc->pending = run->kind == VDC_SIDECAR_BYTES ? run->len : 0;
    sc->next++;
    return VINF_SUCCESS;
}

int vdc_sidecar_read(vdc_sidecar *sc, void *buf, size_t cb, char *err, size_t cb_err)
{
    if (sc->f == NULL || cb > sc->pending)
        return bad(err, cb_err, VERR_VD_GEN_INVALID_HEADER, "read past the run's bytes");
    int rc = read_exact(sc->f, buf, cb, "a run's bytes", err, cb_err);
    if (rc == VINF_SUCCESS)
        sc->pending -= cb;
    return rc;
}

void vdc_sidecar_close(vdc_sidecar *sc)
{
    if (sc->f != NULL)
        fclose(sc->f);
    memset(sc, 0, sizeof *sc);
}

int vdc_sidecar_put_header(FILE *f, uint64_t size, uint64_t nruns)
{
    uint8_t h[HDR_SIZE];
    memcpy(h, VDC_SIDECAR_MAGIC, 8);
    put64(h + 8, size);
    put64(h + 16, nruns);
    return fwrite(h, 1, sizeof h, f) == sizeof h ? VINF_SUCCESS : VERR_WRITE_ERROR;
}

int vdc_sidecar_put_run(FILE *f, const vdc_sidecar_run *run)
{
    uint8_t b[RUN_SIZE];
    put64(b, run->off);
    put64(b + 8, run->len);
    for (int i = 0; i < 4; i++) {
        b[16 + i] = (uint8_t)(run->kind >> (8 * i));
        b[20 + i] = 0;
    }
    put64(b + 24, run->seed);
    return fwrite(b, 1, sizeof b, f) == sizeof b ? VINF_SUCCESS : VERR_WRITE_ERROR;
}
