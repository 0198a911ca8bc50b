/*
 * harness/reliability/tests/test_fs_crash.c - the recording fs and the
 * crash-state enumerator (fs_crash.h): which states each point yields,
 * that they are built from the right writes, deduplicated and reproducible.
 */
#include "../../../tests/check.h"
#include "../fs_crash.h"

#define MAXS 4096

typedef struct seen {
    uint64_t point[MAXS];
    vdc_crash_kind kind[MAXS];
    uint64_t digest[MAXS];
    bool     exists[MAXS];
    uint64_t size[MAXS];
    uint8_t  data[MAXS][2048]; /* first 2 KiB of file "f" */
    unsigned n;
} seen;

static int collect(void *user, const vdc_crash_state *cs, vdc_fs *fs)
{
    seen *s = user;
    vdc_file *f = NULL;
    if (s->n >= MAXS)
        return VERR_TOO_MUCH_DATA;
    unsigned i = s->n++;
    s->point[i] = cs->point;
    s->kind[i] = cs->kind;
    s->digest[i] = cs->digest;
    s->exists[i] = RT_SUCCESS(fs->ops->open(fs, "f", RTFILE_O_READ | RTFILE_O_DENY_NONE | RTFILE_O_OPEN, &f));
    memset(s->data[i], 0xEE, sizeof s->data[i]);
    s->size[i] = 0;
    if (s->exists[i]) {
        fs->ops->get_size(f, &s->size[i]);
        uint64_t n = s->size[i] < 2048 ? s->size[i] : 2048;
        fs->ops->read(f, 0, s->data[i], (size_t)n);
        fs->ops->close(f);
    }
    return 0;
}

static uint8_t blk[3][1024];

/* Records: create f; write A [0,1024) ; flush ; write B [512,1536) ;
 * write C [100,110) ; (no flush). */
static vdc_fs *record(vdc_fs **pmem)
{
    vdc_fs *mem = vdc_fs_mem_new(0, 0);
    vdc_fs *rec = vdc_fs_crash_new(mem);
    vdc_file *f = NULL;
    for (int i = 0; i < 3; i++)
        memset(blk[i], 'A' + i, sizeof blk[i]);
    rec->ops->open(rec, "f", RTFILE_O_READWRITE | RTFILE_O_DENY_WRITE | RTFILE_O_CREATE, &f);
    rec->ops->write(f, 0, blk[0], 1024);
    rec->ops->flush(f);
    rec->ops->write(f, 512, blk[1], 1024);
    rec->ops->write(f, 100, blk[2], 10);
    rec->ops->close(f);
    *pmem = mem;
    return rec;
}

static bool has_state(const seen *s, uint64_t point, uint64_t size, const char *pattern /* per 512 sector */)
{
    for (unsigned i = 0; i < s->n; i++) {
        if (s->point[i] != point || !s->exists[i] || s->size[i] != size)
            continue;
        bool ok = true;
        for (unsigned sec = 0; pattern[sec] != '\0' && ok; sec++)
            for (unsigned b = 0; b < 512 && ok; b++) {
                uint64_t x = (uint64_t)sec * 512 + b;
                if (x >= size)
                    break;
                uint8_t want = pattern[sec] == '0' ? 0 : (uint8_t)pattern[sec];
                if (pattern[sec] == 'a')
                    want = (x >= 100 && x < 110) ? 'C' : 'A';
                ok = s->data[i][x] == want;
            }
        if (ok)
            return true;
    }
    return false;
}

static void test_states(void)
{
    static seen s;
    vdc_fs *mem;
    vdc_fs *rec = record(&mem);
    vdc_crash_enum_stats st;
    vdc_crash_rec_stats rs;
    vdc_crash_opts o = { .seed = 7, .random_states = 8 };
    memset(&s, 0, sizeof s);
    vdc_fs_crash_rec_stats(rec, &rs);
    CHECK_EQ(rs.writes, 3);
    CHECK_EQ(rs.flushes, 1);
    CHECK_EQ(rs.names, 1);
    CHECK(!rs.overflow);
    CHECK_EQ(vdc_fs_crash_nevents(rec), 5); /* create, A, flush, B, C */
    REQUIRE(vdc_crash_enumerate(rec, &o, collect, &s, &st) == VINF_SUCCESS);
    CHECK_EQ(st.points, 6);
    CHECK_EQ(st.states, s.n);
    /* Point 0: the file does not exist yet. */
    CHECK(s.point[0] == 0 && !s.exists[0]);
    /* Point 1: created, empty. */
    CHECK(has_state(&s, 1, 0, ""));
    /* Point 2: A pending: lost, torn after its first sector, or whole. */
    CHECK(has_state(&s, 2, 0, ""));
    CHECK(has_state(&s, 2, 512, "A"));
    CHECK(has_state(&s, 2, 1024, "AA"));
    /* Point 3: flushed, only one state. */
    unsigned at3 = 0;
    for (unsigned i = 0; i < s.n; i++)
        at3 += s.point[i] == 3;
    CHECK_EQ(at3, 1);
    CHECK(has_state(&s, 3, 1024, "AA"));
    /* Point 5: B and C pending over durable A. */
    CHECK(has_state(&s, 5, 1024, "AA"));   /* none */
    CHECK(has_state(&s, 5, 1536, "BBB") == false); /* sector 0 is never B */
    CHECK(has_state(&s, 5, 1536, "aBB"));  /* all */
    CHECK(has_state(&s, 5, 1536, "ABB"));  /* C dropped */
    CHECK(has_state(&s, 5, 1024, "aA"));   /* B dropped, C kept */
    CHECK(has_state(&s, 5, 1024, "AB"));   /* B torn after one sector */
    /* Never a state with data nobody wrote (zeros: a gap before a sector
     * that reached the disk while an earlier one did not). */
    bool clean = true;
    for (unsigned i = 0; i < s.n; i++)
        for (uint64_t x = 0; x < s.size[i] && x < 2048; x++)
            clean &= s.data[i][x] == 'A' || s.data[i][x] == 'B' || s.data[i][x] == 'C' || s.data[i][x] == 0;
    CHECK(clean);
    CHECK(has_state(&s, 2, 1024, "0A")); /* sector 1 of A without sector 0 */
    /* Deduplicated per point. */
    for (unsigned i = 0; i < s.n; i++)
        for (unsigned j = i + 1; j < s.n && s.point[j] == s.point[i]; j++)
            CHECK(s.digest[i] != s.digest[j]);
    /* "all" at the last point is what the inner fs holds. */
    uint8_t live[1536];
    CHECK_EQ(vdc_fs_mem_peek(mem, "f", 0, live, sizeof live), VINF_SUCCESS);
    bool found = false;
    for (unsigned i = 0; i < s.n; i++)
        if (s.point[i] == 5 && s.kind[i] == VDC_CRASH_ALL)
            found = s.size[i] == 1536 && memcmp(s.data[i], live, 1536) == 0;
    CHECK(found);
    vdc_fs_destroy(rec);
    vdc_fs_destroy(mem);
}

static void test_deterministic(void)
{
    static seen a, b;
    vdc_fs *mem1, *mem2;
    vdc_fs *r1 = record(&mem1), *r2 = record(&mem2);
    vdc_crash_opts o = { .seed = 99, .random_states = 16 };
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    CHECK_EQ(vdc_crash_enumerate(r1, &o, collect, &a, NULL), VINF_SUCCESS);
    CHECK_EQ(vdc_crash_enumerate(r2, &o, collect, &b, NULL), VINF_SUCCESS);
    CHECK_EQ(a.n, b.n);
    for (unsigned i = 0; i < a.n && i < b.n; i++)
        CHECK(a.digest[i] == b.digest[i] && a.point[i] == b.point[i]);
    /* A point range and a stride. */
    memset(&a, 0, sizeof a);
    vdc_crash_opts o2 = { .seed = 99, .no_random = true, .first_point = 2, .last_point = 4, .stride = 2 };
    vdc_crash_enum_stats st;
    CHECK_EQ(vdc_crash_enumerate(r1, &o2, collect, &a, &st), VINF_SUCCESS);
    CHECK_EQ(st.points, 2);
    for (unsigned i = 0; i < a.n; i++)
        CHECK(a.point[i] == 2 || a.point[i] == 4);
    vdc_fs_destroy(r1);
    vdc_fs_destroy(r2);
    vdc_fs_destroy(mem1);
    vdc_fs_destroy(mem2);
}

static int stop_at_third(void *user, const vdc_crash_state *cs, vdc_fs *fs)
{
    unsigned *n = user;
    (void)cs, (void)fs;
    return ++*n == 3 ? VERR_IGNORED : 0;
}

static void test_visitor_stops(void)
{
    vdc_fs *mem;
    vdc_fs *rec = record(&mem);
    unsigned n = 0;
    CHECK_EQ(vdc_crash_enumerate(rec, NULL, stop_at_third, &n, NULL), VERR_IGNORED);
    CHECK_EQ(n, 3);
    CHECK_EQ(vdc_crash_enumerate(mem, NULL, stop_at_third, &n, NULL), VERR_INVALID_PARAMETER);
    vdc_fs_destroy(rec);
    vdc_fs_destroy(mem);
}

static void test_size_and_names(void)
{
    static seen s;
    vdc_fs *mem = vdc_fs_mem_new(0, 0);
    vdc_file *f = NULL;
    uint8_t x[600];
    memset(x, 'A', sizeof x);
    REQUIRE(vdc_fs_mem_put(mem, "g", x, sizeof x) == VINF_SUCCESS); /* exists before recording */
    vdc_fs *rec = vdc_fs_crash_new(mem);
    REQUIRE(rec->ops->open(rec, "g", RTFILE_O_READWRITE | RTFILE_O_DENY_NONE | RTFILE_O_OPEN, &f) == VINF_SUCCESS);
    CHECK_EQ(rec->ops->set_size(f, 100), VINF_SUCCESS);       /* pending truncation */
    CHECK_EQ(rec->ops->close(f), VINF_SUCCESS);
    CHECK_EQ(rec->ops->rename(rec, "g", "f", 0), VINF_SUCCESS); /* a barrier: the truncation is durable */
    memset(&s, 0, sizeof s);
    vdc_crash_opts o = { .no_random = true };
    CHECK_EQ(vdc_crash_enumerate(rec, &o, collect, &s, NULL), VINF_SUCCESS);
    /* Point 0: "f" does not exist yet ("g" does). Point 1: the truncation
     * may be lost or not, still under "g".  Point 2: renamed, 100 bytes. */
    CHECK(s.n >= 3 && s.point[0] == 0 && !s.exists[0]);
    CHECK(has_state(&s, 2, 100, "A"));
    unsigned at2 = 0;
    for (unsigned i = 0; i < s.n; i++)
        at2 += s.point[i] == 2;
    CHECK_EQ(at2, 1);
    /* Removing makes the file vanish from later states. */
    CHECK_EQ(rec->ops->remove(rec, "f"), VINF_SUCCESS);
    memset(&s, 0, sizeof s);
    CHECK_EQ(vdc_crash_enumerate(rec, &o, collect, &s, NULL), VINF_SUCCESS);
    CHECK(s.n > 0 && s.point[s.n - 1] == 3 && !s.exists[s.n - 1]);
    vdc_fs_destroy(rec);
    vdc_fs_destroy(mem);
}

static void test_rebase_and_overflow(void)
{
    static seen s;
    vdc_fs *mem = vdc_fs_mem_new(0, 0);
    vdc_fs *rec = vdc_fs_crash_new(mem);
    vdc_file *f = NULL;
    uint8_t b[512];
    memset(b, 'B', sizeof b);
    REQUIRE(rec->ops->open(rec, "f", RTFILE_O_READWRITE | RTFILE_O_DENY_NONE | RTFILE_O_CREATE, &f) == VINF_SUCCESS);
    CHECK_EQ(rec->ops->write(f, 0, b, 512), VINF_SUCCESS);
    CHECK_EQ(vdc_fs_crash_rebase(rec), VINF_SUCCESS); /* now durable */
    CHECK_EQ(vdc_fs_crash_nevents(rec), 0);
    memset(&s, 0, sizeof s);
    vdc_crash_opts o = { .no_random = true };
    CHECK_EQ(vdc_crash_enumerate(rec, &o, collect, &s, NULL), VINF_SUCCESS);
    CHECK(s.n == 1 && has_state(&s, 0, 512, "B"));
    /* A write the recorder cannot hold makes enumeration refuse. */
    CHECK_EQ(rec->ops->write(f, VDC_CRASH_MAX_FILE, b, 1), VINF_SUCCESS);
    vdc_crash_rec_stats rs;
    vdc_fs_crash_rec_stats(rec, &rs);
    CHECK(rs.overflow);
    CHECK_EQ(vdc_crash_enumerate(rec, &o, collect, &s, NULL), VERR_TOO_MUCH_DATA);
    CHECK_EQ(rec->ops->close(f), VINF_SUCCESS);
    vdc_fs_destroy(rec);
    vdc_fs_destroy(mem);
}

CHECK_MAIN(CHECK_CASE(test_states), CHECK_CASE(test_deterministic), CHECK_CASE(test_visitor_stops),
           CHECK_CASE(test_size_and_names), CHECK_CASE(test_rebase_and_overflow))
