/*
 * ref/tests/test_ref_model.c - model-based randomised test of the reference
 * backend (spec/vci-format.md section 9, spec/contract.md READ/WRITE).
 *
 * Seeded sequences of writes (aligned and not, overlapping), reads (VD's
 * loop), discards, flushes, close and reopen (read-write and read-only),
 * SetOpenFlags, over small caches so that eviction is constant.  A model
 * keeps, for every byte of the virtual range, the last data written and
 * whether a hit is allowed.  Every hit must equal the model; every miss
 * must report a length >= 1 (checked by tenv_read_all).  After every close
 * the image must pass vci_check.  The last case runs the same model through
 * the plugin (VDPluginVciRef.so next to the test directory), registered
 * through VDPluginLoad like VirtualBox would.
 *
 * Debugging aids: with MODEL_DEBUG set in the environment, every operation
 * of a read-write instance is followed by a flush and a vci_check, which
 * pins a failure to the operation that caused it (slow); MODEL_FIRST_SEED
 * and MODEL_SEEDS (default 1 and 60) choose other seeds for longer runs.
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ref/ref.h"
#include "ref/vci_check.h"
#include "tests/check.h"
#include "tutil.h"

#define KiB 1024u
#define MiB (1024u * 1024u)

typedef struct model {
    tenv     *e;
    void     *bd;
    bool      ro;
    uint64_t  vsize;      /* virtual range exercised */
    uint8_t  *data;       /* last data written */
    uint8_t  *valid;      /* 1: a hit must equal data; 0: a hit is a lie */
    uint8_t  *buf, *out, *hit;
    uint64_t  ops, hits, misses, lies, checks;
    char      msg[256];
} model;

typedef struct totals {
    uint64_t ops, seeds, hit_bytes, miss_bytes, checks;
} totals;

static int model_check_image(model *m)
{
    vci_check_stats st;
    int rc = vci_check("m.vci", vdc_host_image_ifs(m->e->host), m->msg, sizeof(m->msg), &st);
    m->checks++;
    if (rc != VINF_SUCCESS || st.unclean) {
        fprintf(stderr, "  vci_check: %d %s (unclean %d)\n", rc, m->msg, st.unclean);
        return rc != VINF_SUCCESS ? rc : VERR_INVALID_STATE;
    }
    return VINF_SUCCESS;
}

static int do_read(model *m, uint64_t off, size_t cb)
{
    int rc = tenv_read_all(m->e, m->bd, off, m->out, cb, m->hit);
    if (rc != VINF_SUCCESS) {
        fprintf(stderr, "  read %llu+%zu failed: %d\n", (unsigned long long)off, cb, rc);
        return rc;
    }
    for (size_t i = 0; i < cb; i++) {
        if (!m->hit[i]) {
            m->misses++;
            continue;
        }
        m->hits++;
        if (!m->valid[off + i] || m->out[i] != m->data[off + i]) {
            m->lies++;
            fprintf(stderr, "  LIE at byte %llu: got %02x, model %02x (valid %d)\n",
                    (unsigned long long)(off + i), m->out[i], m->data[off + i], m->valid[off + i]);
            return VERR_INVALID_STATE;
        }
    }
    return VINF_SUCCESS;
}

static int do_write(model *m, uint64_t off, size_t cb, uint64_t seed)
{
    tfill(m->buf, cb, seed);
    int rc = tenv_write_all(m->e, m->bd, off, m->buf, cb, NULL);
    if (m->ro) {
        if (rc != VERR_VD_IMAGE_READ_ONLY) {
            fprintf(stderr, "  write on read-only gave %d\n", rc);
            return VERR_INVALID_STATE;
        }
        return VINF_SUCCESS;
    }
    if (rc != VINF_SUCCESS) {
        fprintf(stderr, "  write %llu+%zu failed: %d\n", (unsigned long long)off, cb, rc);
        return rc;
    }
    memcpy(m->data + off, m->buf, cb);
    memset(m->valid + off, 1, cb);
    return VINF_SUCCESS;
}

static int do_discard(model *m, uint64_t off, size_t cb)
{
    size_t pre, post, done;
    void *bm;
    int rc = m->e->be->pfnDiscard(m->bd, NULL, off, cb, &pre, &post, &done, &bm, 0);
    if (m->ro)
        return rc == VERR_VD_IMAGE_READ_ONLY ? VINF_SUCCESS : VERR_INVALID_STATE;
    if (rc != VINF_SUCCESS || done != cb)
        return RT_FAILURE(rc) ? rc : VERR_INVALID_STATE;
    memset(m->valid + off, 0, cb);
    return VINF_SUCCESS;
}

static int do_reopen(model *m, bool ro)
{
    int rc = m->e->be->pfnClose(m->bd, false);
    m->bd = NULL;
    if (rc != VINF_SUCCESS) {
        fprintf(stderr, "  close failed: %d\n", rc);
        return rc;
    }
    rc = model_check_image(m);
    if (RT_FAILURE(rc))
        return rc;
    rc = tenv_open(m->e, "m.vci", ro ? VD_OPEN_FLAGS_READONLY : VD_OPEN_FLAGS_NORMAL, &m->bd);
    if (rc != VINF_SUCCESS) {
        fprintf(stderr, "  reopen failed: %d\n", rc);
        return rc;
    }
    m->ro = ro;
    return VINF_SUCCESS;
}

/* One seeded run of nops operations.  Returns VINF_SUCCESS or the first
 * failure (printed). */
static int run_model(const VDCACHEBACKEND *be, uint64_t seed, unsigned nops, totals *tot)
{
    static const uint64_t caps[] = { 10240, 16 * KiB, 40 * KiB, 128 * KiB, 512 * KiB, 2 * MiB };
    uint64_t st = seed;
    model m;
    memset(&m, 0, sizeof(m));
    m.e = tenv_new(0);
    m.e->be = be;
    m.vsize = (trand(&st) % 2) ? 1 * MiB : 8 * MiB;
    uint64_t cap = caps[trand(&st) % (sizeof(caps) / sizeof(caps[0]))];
    unsigned flags = (trand(&st) % 2) ? VD_IMAGE_FLAGS_FIXED : 0;
    if (trand(&st) % 2) {
        vdc_host_config_set(m.e->host, "NodeCacheSize", "32");
        vdc_host_config_set(m.e->host, "BitmapCacheSize", "4");
    }
    m.data = calloc(1, m.vsize);
    m.valid = calloc(1, m.vsize);
    m.buf = malloc(256 * KiB);
    m.out = malloc(256 * KiB);
    m.hit = malloc(256 * KiB);
    int rc = VERR_NO_MEMORY;
    if (m.data == NULL || m.valid == NULL || m.buf == NULL || m.out == NULL || m.hit == NULL)
        goto out;
    rc = tenv_create(m.e, "m.vci", cap, flags, &m.bd);
    if (rc != VINF_SUCCESS) {
        fprintf(stderr, "  create failed: %d\n", rc);
        goto out;
    }
    /* A few hot spots make overlaps and rewrites common. */
    uint64_t hot[4];
    for (unsigned i = 0; i < 4; i++)
        hot[i] = trand(&st) % m.vsize;

    for (unsigned op = 0; op < nops && rc == VINF_SUCCESS; op++) {
        unsigned kind = (unsigned)(trand(&st) % 100);
        uint64_t off;
        size_t cb;
        if (trand(&st) % 3 == 0)
            off = hot[trand(&st) % 4] + trand(&st) % (64 * KiB);
        else
            off = trand(&st) % m.vsize;
        if (trand(&st) % 5 != 0) {
            off &= ~(uint64_t)511;
            cb = (size_t)(1 + trand(&st) % 128) * 512;
        } else {
            cb = (size_t)(1 + trand(&st) % (64 * KiB));
        }
        if (trand(&st) % 50 == 0)
            cb = 256 * KiB;
        if (off >= m.vsize)
            off = m.vsize - 1;
        if (cb > m.vsize - off)
            cb = (size_t)(m.vsize - off);

        if (kind < 45)
            rc = do_write(&m, off, cb, trand(&st));
        else if (kind < 85)
            rc = do_read(&m, off, cb);
        else if (kind < 90)
            rc = do_discard(&m, off, cb);
        else if (kind < 94) {
            rc = m.e->be->pfnFlush(m.bd, NULL);
        } else if (kind < 97) {
            rc = do_reopen(&m, false);
        } else if (kind < 99) {
            rc = do_reopen(&m, true);
        } else {
            bool ro = !m.ro;
            rc = m.e->be->pfnSetOpenFlags(m.bd, ro ? VD_OPEN_FLAGS_READONLY : VD_OPEN_FLAGS_NORMAL);
            if (rc == VINF_SUCCESS)
                m.ro = ro;
        }
        m.ops++;
        if (rc == VINF_SUCCESS && getenv("MODEL_DEBUG") != NULL && !m.ro) {
            rc = m.e->be->pfnFlush(m.bd, NULL);
            if (rc == VINF_SUCCESS)
                rc = model_check_image(&m);
            if (rc != VINF_SUCCESS)
                fprintf(stderr, "  debug: after op %u kind %u off %llu cb %zu\n", op, kind, (unsigned long long)off, cb);
        }
        if (rc != VINF_SUCCESS)
            fprintf(stderr, "  seed %llu: op %u (kind %u) at %llu+%zu failed: %d\n", (unsigned long long)seed, op,
                    kind, (unsigned long long)off, cb, rc);
    }
    if (rc == VINF_SUCCESS) {
        /* Everything is read back once more after a final reopen. */
        rc = do_reopen(&m, true);
        for (uint64_t off = 0; off < m.vsize && rc == VINF_SUCCESS; off += 256 * KiB)
            rc = do_read(&m, off, (size_t)(m.vsize - off < 256 * KiB ? m.vsize - off : 256 * KiB));
    }
    if (m.bd != NULL) {
        int rc2 = m.e->be->pfnClose(m.bd, false);
        if (rc == VINF_SUCCESS)
            rc = rc2;
    }
    if (rc == VINF_SUCCESS && vdc_host_get_stats(m.e->host)->misuse != 0) {
        fprintf(stderr, "  host misuse: %s\n", vdc_host_log(m.e->host));
        rc = VERR_INVALID_STATE;
    }
    if (rc == VINF_SUCCESS && vdc_host_get_stats(m.e->host)->open_storages != 0)
        rc = VERR_INVALID_STATE;
out:
    tot->ops += m.ops;
    tot->seeds++;
    tot->hit_bytes += m.hits;
    tot->miss_bytes += m.misses;
    tot->checks += m.checks;
    free(m.data);
    free(m.valid);
    free(m.buf);
    free(m.out);
    free(m.hit);
    tenv_free(m.e);
    return rc;
}

static void test_model(void)
{
    totals tot = { 0 };
    clock_t t0 = clock();
    const char *first_env = getenv("MODEL_FIRST_SEED"), *n_env = getenv("MODEL_SEEDS");
    uint64_t first = first_env != NULL ? strtoull(first_env, NULL, 10) : 1;
    uint64_t nseeds = n_env != NULL ? strtoull(n_env, NULL, 10) : 60;
    for (uint64_t seed = first; seed < first + nseeds; seed++) {
        int rc = run_model(&vdcc_ref_backend, seed, 2000, &tot);
        CHECK_EQ(rc, VINF_SUCCESS);
        if (rc != VINF_SUCCESS)
            break;
    }
    double s = (double)(clock() - t0) / CLOCKS_PER_SEC;
    printf("# model: %llu ops over %llu seeds in %.1f s, %llu images checked, %.1f%% of read bytes hit\n",
           (unsigned long long)tot.ops, (unsigned long long)tot.seeds, s, (unsigned long long)tot.checks,
           100.0 * (double)tot.hit_bytes / (double)(tot.hit_bytes + tot.miss_bytes + 1));
    CHECK(tot.ops >= 100000);
    CHECK(tot.seeds >= 50);
    CHECK(tot.hit_bytes > 0);
}

/* ---- through the plugin ---------------------------------------------------------- */

typedef struct reg_state {
    const VDCACHEBACKEND *be;
    void *user_seen;
    int answer;
} reg_state;

static int reg_cache(void *pvUser, const VDCACHEBACKEND *be)
{
    reg_state *r = pvUser;
    r->user_seen = pvUser;
    if (r->answer == VINF_SUCCESS && !VD_VERSION_ARE_COMPATIBLE(VD_CACHEBACKEND_VERSION, be->u32Version))
        return VERR_IGNORED;
    if (r->answer == VINF_SUCCESS)
        r->be = be;
    return r->answer;
}

static int reg_image(void *pvUser, const VDIMAGEBACKEND *be)
{
    (void)pvUser;
    (void)be;
    return VERR_NOT_SUPPORTED;
}

static int reg_filter(void *pvUser, const VDFILTERBACKEND *be)
{
    (void)pvUser;
    (void)be;
    return VERR_NOT_SUPPORTED;
}

static void test_plugin(void)
{
    char exe[PATH_MAX], path[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    REQUIRE(n > 0);
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    REQUIRE(slash != NULL);
    *slash = '\0';
    snprintf(path, sizeof(path), "%s/../VDPluginVciRef.so", exe);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL)
        fprintf(stderr, "  dlopen(%s): %s\n", path, dlerror());
    REQUIRE(h != NULL);
    PFNVDPLUGINLOAD load = (PFNVDPLUGINLOAD)(uintptr_t)dlsym(h, VD_PLUGIN_LOAD_NAME);
    REQUIRE(load != NULL);
    /* Only the entry point is exported. */
    CHECK(dlsym(h, "vdcc_ref_backend") == NULL);
    CHECK(dlsym(h, "vci_cache_open") == NULL);

    reg_state r = { .be = NULL, .answer = VINF_SUCCESS };
    VDBACKENDREGISTER reg = { .u32Version = VD_BACKENDREG_CB_VERSION, .pfnRegisterImage = reg_image,
                              .pfnRegisterCache = reg_cache, .pfnRegisterFilter = reg_filter };
    CHECK_EQ(load(&r, NULL), VERR_INVALID_PARAMETER);
    reg.u32Version = VD_VERSION_MAKE(0xff00, 2, 0);
    CHECK_EQ(load(&r, &reg), VERR_VERSION_MISMATCH);
    CHECK(r.be == NULL);
    reg.u32Version = VD_BACKENDREG_CB_VERSION;
    r.answer = VERR_IGNORED;
    CHECK_EQ(load(&r, &reg), VERR_IGNORED);
    r.answer = VINF_SUCCESS;
    REQUIRE(load(&r, &reg) == VINF_SUCCESS);
    REQUIRE(r.be != NULL);
    CHECK(r.user_seen == &r);
    CHECK(r.be != &vdcc_ref_backend); /* the plugin's own copy */
    CHECK(strcmp(r.be->pszBackendName, "vci") == 0);
    CHECK_EQ(r.be->u32Version, VD_CACHEBACKEND_VERSION);

    totals tot = { 0 };
    for (uint64_t seed = 1001; seed <= 1005; seed++) {
        int rc = run_model(r.be, seed, 1000, &tot);
        CHECK_EQ(rc, VINF_SUCCESS);
        if (rc != VINF_SUCCESS)
            break;
    }
    printf("# plugin model: %llu ops over %llu seeds\n", (unsigned long long)tot.ops,
           (unsigned long long)tot.seeds);
    dlclose(h);
}

CHECK_MAIN(CHECK_CASE(test_model), CHECK_CASE(test_plugin))
