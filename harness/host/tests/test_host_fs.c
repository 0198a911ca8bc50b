/*
 * harness/host/tests/test_host_fs.c - the storage contract (fs.h), run on
 * the memory fs and on the POSIX fs alike, plus each one's own promises
 * (memory limits, sparseness, put/peek; errno mapping, absolute names).
 */
#include <errno.h>
#include <fcntl.h>
#include <time.h>

#include "harness/host/tests/fixture.h"

#define RW_CREATE (RTFILE_O_READWRITE | RTFILE_O_CREATE | RTFILE_O_DENY_NONE)
#define RW_OPEN   (RTFILE_O_READWRITE | RTFILE_O_OPEN | RTFILE_O_DENY_NONE)
#define RO_OPEN   (RTFILE_O_READ | RTFILE_O_OPEN | RTFILE_O_DENY_NONE)

static vdc_file *xopen(vdc_fs *fs, const char *name, uint32_t fOpen)
{
    vdc_file *f = (vdc_file *)0x1; /* must be replaced */
    int rc = fs->ops->open(fs, name, fOpen, &f);
    if (RT_FAILURE(rc)) {
        fprintf(stderr, "  open(%s, %#x) failed: %d\n", name, (unsigned)fOpen, rc);
        CHECK(f == NULL);
        return NULL;
    }
    CHECK(f != NULL && f->fs == fs);
    return f;
}

static int try_open(vdc_fs *fs, const char *name, uint32_t fOpen)
{
    vdc_file *f = (vdc_file *)0x1;
    int rc = fs->ops->open(fs, name, fOpen, &f);
    if (RT_SUCCESS(rc))
        fs->ops->close(f);
    else
        CHECK(f == NULL);
    return rc;
}

/* Writes n pattern bytes at off (pattern indexed by file offset). */
static int put_pattern(vdc_file *f, unsigned seed, uint64_t off, size_t n)
{
    uint8_t *buf = malloc(n ? n : 1);
    if (buf == NULL)
        return VERR_NO_MEMORY;
    pattern_fill(buf, n, seed, off);
    int rc = f->fs->ops->write(f, off, buf, n);
    free(buf);
    return rc;
}

/* Does the file hold the pattern at [off, off+n)? */
static bool has_pattern(vdc_file *f, unsigned seed, uint64_t off, size_t n)
{
    uint8_t *buf = malloc(n ? n : 1);
    bool ok = buf != NULL && RT_SUCCESS(f->fs->ops->read(f, off, buf, n));
    for (size_t i = 0; ok && i < n; i++)
        ok = buf[i] == pattern_byte(seed, off + i);
    free(buf);
    return ok;
}

static bool has_zeros(vdc_file *f, uint64_t off, size_t n)
{
    uint8_t *buf = malloc(n ? n : 1);
    if (buf != NULL)
        memset(buf, 0xCC, n);
    bool ok = buf != NULL && RT_SUCCESS(f->fs->ops->read(f, off, buf, n));
    for (size_t i = 0; ok && i < n; i++)
        ok = buf[i] == 0;
    free(buf);
    return ok;
}

static uint64_t size_of(vdc_file *f)
{
    uint64_t cb = UINT64_MAX;
    CHECK_EQ(f->fs->ops->get_size(f, &cb), VINF_SUCCESS);
    return cb;
}

/* --- cases on both kinds ------------------------------------------------ */

static void roundtrip(vdc_fs *fs, bool mem)
{
    (void)mem;
    vdc_file *f = xopen(fs, "a.img", RW_CREATE);
    REQUIRE(f != NULL);
    CHECK_EQ(size_of(f), 0);
    CHECK_EQ(put_pattern(f, 1, 0, 100000), VINF_SUCCESS);
    CHECK_EQ(size_of(f), 100000);
    CHECK(has_pattern(f, 1, 0, 100000));
    CHECK(has_pattern(f, 1, 65530, 20)); /* across a 64 KiB boundary */
    CHECK_EQ(put_pattern(f, 2, 65000, 1000), VINF_SUCCESS);
    CHECK(has_pattern(f, 2, 65000, 1000));
    CHECK(has_pattern(f, 1, 64000, 1000));
    CHECK(has_pattern(f, 1, 66000, 100));
    CHECK_EQ(fs->ops->flush(f), VINF_SUCCESS);
    CHECK_EQ(fs->ops->close(f), VINF_SUCCESS);
    /* Reopened, the data is still there. */
    f = xopen(fs, "a.img", RO_OPEN);
    REQUIRE(f != NULL);
    CHECK_EQ(size_of(f), 100000);
    CHECK(has_pattern(f, 2, 65000, 1000));
    CHECK_EQ(fs->ops->close(f), VINF_SUCCESS);
}
FOR_EACH_FS(roundtrip)

static void open_actions(vdc_fs *fs, bool mem)
{
    (void)mem;
    vdc_file *f;
    CHECK_EQ(try_open(fs, "missing", RW_OPEN), VERR_FILE_NOT_FOUND);
    CHECK_EQ(try_open(fs, "missing", RO_OPEN), VERR_FILE_NOT_FOUND);
    CHECK_EQ(try_open(fs, "x", RW_CREATE), VINF_SUCCESS);
    CHECK_EQ(try_open(fs, "x", RW_CREATE), VERR_ALREADY_EXISTS);
    CHECK_EQ(try_open(fs, "x", RW_OPEN), VINF_SUCCESS);
    /* OPEN_CREATE both creates and opens, keeping the content. */
    f = xopen(fs, "y", RTFILE_O_READWRITE | RTFILE_O_OPEN_CREATE);
    REQUIRE(f != NULL);
    CHECK_EQ(put_pattern(f, 3, 0, 700), VINF_SUCCESS);
    fs->ops->close(f);
    f = xopen(fs, "y", RTFILE_O_READWRITE | RTFILE_O_OPEN_CREATE);
    REQUIRE(f != NULL);
    CHECK_EQ(size_of(f), 700);
    fs->ops->close(f);
    /* TRUNCATE with OPEN empties the file. */
    f = xopen(fs, "y", RTFILE_O_READWRITE | RTFILE_O_OPEN | RTFILE_O_TRUNCATE);
    REQUIRE(f != NULL);
    CHECK_EQ(size_of(f), 0);
    CHECK_EQ(put_pattern(f, 3, 0, 300), VINF_SUCCESS);
    fs->ops->close(f);
    /* CREATE_REPLACE: empties an existing file, creates a missing one. */
    f = xopen(fs, "y", RTFILE_O_READWRITE | RTFILE_O_CREATE_REPLACE);
    REQUIRE(f != NULL);
    CHECK_EQ(size_of(f), 0);
    CHECK(has_zeros(f, 0, 0));
    fs->ops->close(f);
    CHECK_EQ(try_open(fs, "z", RTFILE_O_WRITE | RTFILE_O_CREATE_REPLACE), VINF_SUCCESS);
    CHECK_EQ(try_open(fs, "z", RO_OPEN), VINF_SUCCESS);
    /* The flags VD derives for open and create. */
    CHECK_EQ(try_open(fs, "vd", vdc_open_flags_to_file(0, true)), VINF_SUCCESS);
    CHECK_EQ(try_open(fs, "vd", vdc_open_flags_to_file(0, true)), VERR_ALREADY_EXISTS);
    CHECK_EQ(try_open(fs, "vd", vdc_open_flags_to_file(0, false)), VINF_SUCCESS);
    CHECK_EQ(try_open(fs, "vd", vdc_open_flags_to_file(VD_OPEN_FLAGS_READONLY, false)), VINF_SUCCESS);
}
FOR_EACH_FS(open_actions)

static void open_invalid(vdc_fs *fs, bool mem)
{
    (void)mem;
    vdc_file *f = (vdc_file *)0x1;
    CHECK_EQ(try_open(fs, "a", RTFILE_O_CREATE | RTFILE_O_DENY_NONE), VERR_INVALID_PARAMETER); /* no access */
    CHECK_EQ(try_open(fs, "a", RTFILE_O_READWRITE), VERR_INVALID_PARAMETER);          /* no action */
    CHECK_EQ(try_open(fs, "a", RTFILE_O_READWRITE | 0x400u), VERR_INVALID_PARAMETER); /* bad action */
    CHECK_EQ(try_open(fs, "a", RTFILE_O_READ | RTFILE_O_CREATE_REPLACE), VERR_INVALID_PARAMETER);
    CHECK_EQ(try_open(fs, "a", RTFILE_O_READ | RTFILE_O_OPEN_CREATE | RTFILE_O_TRUNCATE),
             VERR_INVALID_PARAMETER);
    CHECK_EQ(try_open(fs, "", RW_CREATE), VERR_INVALID_PARAMETER);
    CHECK_EQ(try_open(fs, NULL, RW_CREATE), VERR_INVALID_PARAMETER);
    CHECK_EQ(fs->ops->open(fs, "a", RW_CREATE, NULL), VERR_INVALID_PARAMETER);
    CHECK_EQ(fs->ops->open(fs, "a", 0, &f), VERR_INVALID_PARAMETER);
    CHECK(f == NULL);
    /* None of that created the file. */
    CHECK_EQ(try_open(fs, "a", RO_OPEN), VERR_FILE_NOT_FOUND);
    /* Bits outside access, deny and action are accepted and ignored. */
    CHECK_EQ(try_open(fs, "a", RW_CREATE | RTFILE_O_NOT_CONTENT_INDEXED | RTFILE_O_ASYNC_IO
                                   | RTFILE_O_NO_CACHE | RTFILE_O_DENY_NOT_DELETE),
             VINF_SUCCESS);
}
FOR_EACH_FS(open_invalid)

static void read_past_eof(vdc_fs *fs, bool mem)
{
    (void)mem;
    uint8_t buf[64];
    vdc_file *f = xopen(fs, "e", RW_CREATE);
    REQUIRE(f != NULL);
    CHECK_EQ(put_pattern(f, 4, 0, 1000), VINF_SUCCESS);
    memset(buf, 0x77, sizeof buf);
    /* The bytes before the end may land in buf (the POSIX fs learns of the
     * end from pread, without an fstat per read); only the status counts. */
    CHECK_EQ(fs->ops->read(f, 990, buf, 11), VERR_EOF);
    CHECK_EQ(fs->ops->read(f, 1000, buf, 1), VERR_EOF);
    CHECK_EQ(fs->ops->read(f, 5000, buf, 1), VERR_EOF);
    CHECK_EQ(fs->ops->read(f, UINT64_MAX, buf, 2), VERR_EOF);
    CHECK_EQ(fs->ops->read(f, 1001, buf, 0), VERR_EOF);
    CHECK_EQ(fs->ops->read(f, 1000, buf, 0), VINF_SUCCESS);
    CHECK_EQ(fs->ops->read(f, 990, buf, 10), VINF_SUCCESS);
    CHECK_EQ(buf[9], pattern_byte(4, 999));
    CHECK_EQ(fs->ops->read(f, 0, NULL, 1), VERR_INVALID_PARAMETER);
    fs->ops->close(f);
}
FOR_EACH_FS(read_past_eof)

static void write_grows_with_zero_gap(vdc_fs *fs, bool mem)
{
    (void)mem;
    vdc_file *f = xopen(fs, "g", RW_CREATE);
    REQUIRE(f != NULL);
    CHECK_EQ(put_pattern(f, 5, 0, 10), VINF_SUCCESS);
    CHECK_EQ(put_pattern(f, 5, 300000, 10), VINF_SUCCESS);
    CHECK_EQ(size_of(f), 300010);
    CHECK(has_pattern(f, 5, 0, 10));
    CHECK(has_zeros(f, 10, 300000 - 10));
    CHECK(has_pattern(f, 5, 300000, 10));
    /* A zero-length write changes nothing, not even past the end. */
    CHECK_EQ(fs->ops->write(f, 999999, "", 0), VINF_SUCCESS);
    CHECK_EQ(size_of(f), 300010);
    CHECK_EQ(fs->ops->write(f, 0, NULL, 1), VERR_INVALID_PARAMETER);
    /* Offsets no file can have. */
    CHECK_EQ(fs->ops->write(f, UINT64_MAX - 1, "ab", 2), VERR_DISK_FULL);
    CHECK_EQ(size_of(f), 300010);
    fs->ops->close(f);
}
FOR_EACH_FS(write_grows_with_zero_gap)

static void access_modes(vdc_fs *fs, bool mem)
{
    (void)mem;
    uint8_t b = 0;
    vdc_file *w = xopen(fs, "r", RW_CREATE);
    REQUIRE(w != NULL);
    CHECK_EQ(put_pattern(w, 6, 0, 100), VINF_SUCCESS);
    fs->ops->close(w);

    vdc_file *ro = xopen(fs, "r", RO_OPEN);
    REQUIRE(ro != NULL);
    CHECK_EQ(fs->ops->write(ro, 0, "x", 1), VERR_ACCESS_DENIED);
    CHECK_EQ(fs->ops->set_size(ro, 10), VERR_ACCESS_DENIED);
    CHECK_EQ(fs->ops->allocate(ro, 1000), VERR_ACCESS_DENIED);
    CHECK_EQ(size_of(ro), 100);
    CHECK(has_pattern(ro, 6, 0, 100));
    CHECK_EQ(fs->ops->flush(ro), VINF_SUCCESS);
    fs->ops->close(ro);

    vdc_file *wo = xopen(fs, "r", RTFILE_O_WRITE | RTFILE_O_OPEN | RTFILE_O_DENY_NONE);
    REQUIRE(wo != NULL);
    CHECK_EQ(fs->ops->read(wo, 0, &b, 1), VERR_ACCESS_DENIED);
    CHECK_EQ(fs->ops->write(wo, 0, "x", 1), VINF_SUCCESS);
    fs->ops->close(wo);
}
FOR_EACH_FS(access_modes)

static void deny_modes(vdc_fs *fs, bool mem)
{
    (void)mem;
    const uint32_t rw_deny_write = RTFILE_O_READWRITE | RTFILE_O_OPEN | RTFILE_O_DENY_WRITE;
    CHECK_EQ(try_open(fs, "d", RW_CREATE), VINF_SUCCESS);

    /* VD's read-write open (deny write) against a second writer. */
    vdc_file *a = xopen(fs, "d", vdc_open_flags_to_file(0, false));
    REQUIRE(a != NULL);
    CHECK_EQ(try_open(fs, "d", RW_OPEN), VERR_SHARING_VIOLATION);
    CHECK_EQ(try_open(fs, "d", rw_deny_write), VERR_SHARING_VIOLATION);
    CHECK_EQ(try_open(fs, "d", RTFILE_O_WRITE | RTFILE_O_OPEN | RTFILE_O_DENY_NONE), VERR_SHARING_VIOLATION);
    /* Readers that do not deny writing are welcome. */
    CHECK_EQ(try_open(fs, "d", RO_OPEN), VINF_SUCCESS);
    /* A reader that denies writing conflicts with a's write access. */
    CHECK_EQ(try_open(fs, "d", RTFILE_O_READ | RTFILE_O_OPEN | RTFILE_O_DENY_WRITE), VERR_SHARING_VIOLATION);
    /* A refused truncating open must not have truncated. */
    CHECK_EQ(put_pattern(a, 7, 0, 10), VINF_SUCCESS);
    CHECK_EQ(try_open(fs, "d", RTFILE_O_READWRITE | RTFILE_O_CREATE_REPLACE), VERR_SHARING_VIOLATION);
    CHECK_EQ(size_of(a), 10);
    fs->ops->close(a);
    CHECK_EQ(try_open(fs, "d", RW_OPEN), VINF_SUCCESS);

    /* The other direction: a writer is open, a deny-write open fails. */
    vdc_file *w = xopen(fs, "d", RW_OPEN);
    REQUIRE(w != NULL);
    CHECK_EQ(try_open(fs, "d", rw_deny_write), VERR_SHARING_VIOLATION);
    fs->ops->close(w);

    /* Deny read. */
    vdc_file *r = xopen(fs, "d", RTFILE_O_READWRITE | RTFILE_O_OPEN | RTFILE_O_DENY_READ);
    REQUIRE(r != NULL);
    CHECK_EQ(try_open(fs, "d", RO_OPEN), VERR_SHARING_VIOLATION);
    CHECK_EQ(try_open(fs, "d", RTFILE_O_WRITE | RTFILE_O_OPEN | RTFILE_O_DENY_NONE), VINF_SUCCESS);
    fs->ops->close(r);
    CHECK_EQ(try_open(fs, "d", RO_OPEN), VINF_SUCCESS);

    /* Shareable read-write opens (deny none) coexist. */
    vdc_file *s1 = xopen(fs, "d", vdc_open_flags_to_file(VD_OPEN_FLAGS_SHAREABLE, false));
    vdc_file *s2 = xopen(fs, "d", vdc_open_flags_to_file(VD_OPEN_FLAGS_SHAREABLE, false));
    CHECK(s1 != NULL && s2 != NULL);
    if (s1 != NULL && s2 != NULL) {
        CHECK_EQ(put_pattern(s1, 8, 0, 50), VINF_SUCCESS);
        CHECK(has_pattern(s2, 8, 0, 50));
    }
    if (s1 != NULL)
        fs->ops->close(s1);
    if (s2 != NULL)
        fs->ops->close(s2);
    /* Another file is not affected by a's deny mode. */
    a = xopen(fs, "d", vdc_open_flags_to_file(0, false));
    REQUIRE(a != NULL);
    CHECK_EQ(try_open(fs, "other", vdc_open_flags_to_file(0, true)), VINF_SUCCESS);
    fs->ops->close(a);
}
FOR_EACH_FS(deny_modes)

static void set_size_and_allocate(vdc_fs *fs, bool mem)
{
    (void)mem;
    vdc_file *f = xopen(fs, "s", RW_CREATE);
    REQUIRE(f != NULL);
    CHECK_EQ(put_pattern(f, 9, 0, 200000), VINF_SUCCESS);
    /* Shrink into the middle of a chunk, then grow: the tail reads zero. */
    CHECK_EQ(fs->ops->set_size(f, 70000), VINF_SUCCESS);
    CHECK_EQ(size_of(f), 70000);
    CHECK(has_pattern(f, 9, 0, 70000));
    uint8_t b;
    CHECK_EQ(fs->ops->read(f, 70000, &b, 1), VERR_EOF);
    CHECK_EQ(fs->ops->set_size(f, 200000), VINF_SUCCESS);
    CHECK(has_pattern(f, 9, 69990, 10));
    CHECK(has_zeros(f, 70000, 130000));
    /* Shrink to a chunk boundary, and to zero. */
    CHECK_EQ(fs->ops->set_size(f, 65536), VINF_SUCCESS);
    CHECK_EQ(fs->ops->set_size(f, 65537), VINF_SUCCESS);
    CHECK(has_zeros(f, 65536, 1));
    CHECK(has_pattern(f, 9, 65535, 1));
    CHECK_EQ(fs->ops->set_size(f, 0), VINF_SUCCESS);
    CHECK_EQ(fs->ops->set_size(f, 10), VINF_SUCCESS);
    CHECK(has_zeros(f, 0, 10));

    /* allocate sets the size too, up and down. */
    CHECK_EQ(fs->ops->allocate(f, 1 << 20), VINF_SUCCESS);
    CHECK_EQ(size_of(f), 1 << 20);
    CHECK(has_zeros(f, (1 << 20) - 4096, 4096));
    CHECK_EQ(put_pattern(f, 10, 1000, 10), VINF_SUCCESS);
    CHECK_EQ(fs->ops->allocate(f, 1005), VINF_SUCCESS);
    CHECK_EQ(size_of(f), 1005);
    CHECK(has_pattern(f, 10, 1000, 5));
    CHECK_EQ(fs->ops->allocate(f, 1005), VINF_SUCCESS);
    CHECK_EQ(size_of(f), 1005);
    CHECK_EQ(fs->ops->set_size(f, UINT64_MAX), VERR_DISK_FULL);
    CHECK_EQ(size_of(f), 1005);
    fs->ops->close(f);
}
FOR_EACH_FS(set_size_and_allocate)

static void remove_files(vdc_fs *fs, bool mem)
{
    (void)mem;
    CHECK_EQ(fs->ops->remove(fs, "nothing"), VERR_FILE_NOT_FOUND);
    CHECK_EQ(fs->ops->remove(fs, ""), VERR_INVALID_PARAMETER);
    CHECK_EQ(fs->ops->remove(fs, NULL), VERR_INVALID_PARAMETER);
    CHECK_EQ(try_open(fs, "rm", RW_CREATE), VINF_SUCCESS);
    CHECK_EQ(fs->ops->remove(fs, "rm"), VINF_SUCCESS);
    CHECK_EQ(try_open(fs, "rm", RO_OPEN), VERR_FILE_NOT_FOUND);
    CHECK_EQ(fs->ops->remove(fs, "rm"), VERR_FILE_NOT_FOUND);

    /* Removing an open file: the handle keeps the data (unlink semantics),
     * the name is free for a new, unrelated file. */
    vdc_file *f = xopen(fs, "open", vdc_open_flags_to_file(0, true));
    REQUIRE(f != NULL);
    CHECK_EQ(put_pattern(f, 11, 0, 5000), VINF_SUCCESS);
    CHECK_EQ(fs->ops->remove(fs, "open"), VINF_SUCCESS);
    CHECK_EQ(try_open(fs, "open", RO_OPEN), VERR_FILE_NOT_FOUND);
    CHECK(has_pattern(f, 11, 0, 5000));
    CHECK_EQ(put_pattern(f, 12, 100, 10), VINF_SUCCESS);
    vdc_file *g = xopen(fs, "open", vdc_open_flags_to_file(0, true)); /* no deny conflict */
    REQUIRE(g != NULL);
    CHECK_EQ(size_of(g), 0);
    CHECK(has_pattern(f, 12, 100, 10));
    fs->ops->close(f);
    fs->ops->close(g);
}
FOR_EACH_FS(remove_files)

static void rename_files(vdc_fs *fs, bool mem)
{
    (void)mem;
    vdc_file *f;
    f = xopen(fs, "src", RW_CREATE);
    REQUIRE(f != NULL);
    CHECK_EQ(put_pattern(f, 13, 0, 3000), VINF_SUCCESS);
    fs->ops->close(f);
    f = xopen(fs, "dst", RW_CREATE);
    REQUIRE(f != NULL);
    CHECK_EQ(put_pattern(f, 14, 0, 100), VINF_SUCCESS);
    fs->ops->close(f);

    CHECK_EQ(fs->ops->rename(fs, "src", "dst", 0), VERR_ALREADY_EXISTS);
    CHECK_EQ(fs->ops->rename(fs, "src", "dst", 2), VERR_INVALID_PARAMETER);
    CHECK_EQ(fs->ops->rename(fs, "nope", "x", 0), VERR_FILE_NOT_FOUND);
    CHECK_EQ(fs->ops->rename(fs, NULL, "x", 0), VERR_INVALID_PARAMETER);
    CHECK_EQ(fs->ops->rename(fs, "src", "", 0), VERR_INVALID_PARAMETER);
    /* Both files unchanged by the refusals. */
    f = xopen(fs, "dst", RO_OPEN);
    REQUIRE(f != NULL);
    CHECK_EQ(size_of(f), 100);
    fs->ops->close(f);

    /* fMove 0 to a free name moves. */
    CHECK_EQ(fs->ops->rename(fs, "src", "moved", 0), VINF_SUCCESS);
    CHECK_EQ(try_open(fs, "src", RO_OPEN), VERR_FILE_NOT_FOUND);
    f = xopen(fs, "moved", RO_OPEN);
    REQUIRE(f != NULL);
    CHECK(has_pattern(f, 13, 0, 3000));
    fs->ops->close(f);

    /* REPLACE overwrites the destination. */
    CHECK_EQ(fs->ops->rename(fs, "moved", "dst", RTFILEMOVE_FLAGS_REPLACE), VINF_SUCCESS);
    CHECK_EQ(try_open(fs, "moved", RO_OPEN), VERR_FILE_NOT_FOUND);
    f = xopen(fs, "dst", RO_OPEN);
    REQUIRE(f != NULL);
    CHECK_EQ(size_of(f), 3000);
    CHECK(has_pattern(f, 13, 0, 3000));
    fs->ops->close(f);
}
FOR_EACH_FS(rename_files)

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void mtime_and_free_space(vdc_fs *fs, bool mem)
{
    int64_t t0 = 0, t1 = 0, t2 = 0, space = -1;
    CHECK_EQ(fs->ops->mtime(fs, "none", &t0), VERR_FILE_NOT_FOUND);
    CHECK_EQ(fs->ops->mtime(fs, NULL, &t0), VERR_INVALID_PARAMETER);
    vdc_file *f = xopen(fs, "m", RW_CREATE);
    REQUIRE(f != NULL);
    CHECK_EQ(fs->ops->mtime(fs, "m", &t0), VINF_SUCCESS);
    CHECK_EQ(put_pattern(f, 15, 0, 10), VINF_SUCCESS);
    CHECK_EQ(fs->ops->mtime(fs, "m", &t1), VINF_SUCCESS);
    CHECK_EQ(fs->ops->set_size(f, 5), VINF_SUCCESS);
    CHECK_EQ(fs->ops->mtime(fs, "m", &t2), VINF_SUCCESS);
    if (mem) {
        /* The fake clock: strictly increasing, deterministic. */
        CHECK(t0 < t1 && t1 < t2);
        CHECK_EQ(t0, INT64_C(1577836800000000000) + 1000);
        CHECK_EQ(t2 - t0, 2000);
    } else {
        /* Real time: ordered and near now (the kernel's clock is coarse). */
        CHECK(t0 <= t1 && t1 <= t2);
        CHECK(t2 <= now_ns() + INT64_C(1000000000));
        CHECK(t0 >= now_ns() - INT64_C(600000000000));
    }
    CHECK_EQ(fs->ops->free_space(fs, "m", &space), VINF_SUCCESS);
    CHECK(space > 0);
    /* Also for a name that does not exist yet (the place it would go). */
    space = -1;
    CHECK_EQ(fs->ops->free_space(fs, "not-yet", &space), VINF_SUCCESS);
    CHECK(space > 0);
    CHECK_EQ(fs->ops->free_space(fs, "m", NULL), VERR_INVALID_PARAMETER);
    CHECK_EQ(fs->ops->free_space(fs, NULL, &space), VERR_INVALID_PARAMETER);
    fs->ops->close(f);
}
FOR_EACH_FS(mtime_and_free_space)

/* Random writes, reads and resizes against a flat model of the file. */
static void random_model(vdc_fs *fs, bool mem)
{
    enum { MAXSZ = 600000 };
    uint8_t *model = calloc(1, MAXSZ), *buf = malloc(MAXSZ);
    uint64_t size = 0, rng = mem ? 99 : 77;
    vdc_file *f = xopen(fs, "rnd", RW_CREATE);
    if (model == NULL || buf == NULL || f == NULL)
        goto out;
    for (int i = 0; i < 400; i++) {
        uint64_t op = rng_next(&rng) % 10;
        uint64_t off = rng_next(&rng) % MAXSZ;
        size_t cb = (size_t)(rng_next(&rng) % 140000);
        if (off + cb > MAXSZ)
            cb = (size_t)(MAXSZ - off);
        if (op < 4) {
            bool zeros = rng_next(&rng) % 3 == 0;
            if (zeros)
                memset(buf, 0, cb);
            else
                pattern_fill(buf, cb, (unsigned)i, off);
            if (fs->ops->write(f, off, buf, cb) != VINF_SUCCESS) {
                CHECK(!"write failed");
                goto out;
            }
            memcpy(model + off, buf, cb);
            if (cb != 0 && off + cb > size)
                size = off + cb;
        } else if (op < 8) {
            int rc = fs->ops->read(f, off, buf, cb);
            if (off + cb > size) {
                CHECK_EQ(rc, VERR_EOF);
            } else {
                CHECK_EQ(rc, VINF_SUCCESS);
                if (memcmp(buf, model + off, cb) != 0) {
                    CHECK(!"read differs from the model");
                    goto out;
                }
            }
        } else {
            if (fs->ops->set_size(f, off) != VINF_SUCCESS) {
                CHECK(!"set_size failed");
                goto out;
            }
            if (off < size)
                memset(model + off, 0, (size_t)(size - off));
            size = off;
        }
        if (size_of(f) != size) {
            CHECK_EQ(size_of(f), size);
            goto out;
        }
    }
    CHECK_EQ(fs->ops->read(f, 0, buf, (size_t)size), VINF_SUCCESS);
    CHECK(memcmp(buf, model, (size_t)size) == 0);
out:
    if (f != NULL)
        fs->ops->close(f);
    free(model);
    free(buf);
}
FOR_EACH_FS(random_model)

/* Handles left open are released by destroy (LeakSanitizer checks). */
static void destroy_with_open_handles(vdc_fs *fs, bool mem)
{
    (void)mem;
    vdc_file *f = xopen(fs, "left-open", RW_CREATE);
    vdc_file *g = xopen(fs, "left-open", RO_OPEN);
    CHECK(f != NULL && g != NULL);
    if (f != NULL)
        CHECK_EQ(put_pattern(f, 16, 0, 70000), VINF_SUCCESS);
    CHECK_EQ(fs->ops->remove(fs, "left-open"), VINF_SUCCESS);
    (void)xopen(fs, "also-open", RW_CREATE);
    /* The fixture destroys fs with all three still open. */
}
FOR_EACH_FS(destroy_with_open_handles)

/* --- memory fs only ------------------------------------------------------ */

static int64_t free_of(vdc_fs *fs)
{
    int64_t cb = -1;
    CHECK_EQ(fs->ops->free_space(fs, "any", &cb), VINF_SUCCESS);
    return cb;
}

static void test_mem_sparse_and_limits(void)
{
    const uint64_t max = 4 * 65536;
    vdc_fs *fs = vdc_fs_mem_new(max, (uint64_t)3 << 40);
    REQUIRE(fs != NULL);
    vdc_file *f = xopen(fs, "big", RW_CREATE);
    if (f == NULL)
        goto out;
    CHECK_EQ(free_of(fs), (int64_t)max);
    /* A 2 TiB preallocated file costs nothing. */
    CHECK_EQ(fs->ops->allocate(f, (uint64_t)2 << 40), VINF_SUCCESS);
    CHECK_EQ(size_of(f), (uint64_t)2 << 40);
    CHECK(has_zeros(f, ((uint64_t)2 << 40) - 100, 100));
    CHECK_EQ(free_of(fs), (int64_t)max);
    /* Zeros into absent chunks allocate nothing. */
    uint8_t *zeros = calloc(1, 200000);
    REQUIRE(zeros != NULL);
    CHECK_EQ(fs->ops->write(f, 12345, zeros, 200000), VINF_SUCCESS);
    CHECK_EQ(free_of(fs), (int64_t)max);
    /* One non-zero byte costs one chunk; a write spanning two chunks, two. */
    CHECK_EQ(fs->ops->write(f, (uint64_t)1 << 40, "x", 1), VINF_SUCCESS);
    CHECK_EQ(free_of(fs), (int64_t)(max - 65536));
    CHECK_EQ(put_pattern(f, 17, 65536 * 10 - 5, 10), VINF_SUCCESS);
    CHECK_EQ(free_of(fs), (int64_t)(max - 3 * 65536));
    /* Rewriting an existing chunk costs nothing more. */
    CHECK_EQ(put_pattern(f, 18, 65536 * 10 - 5, 10), VINF_SUCCESS);
    CHECK_EQ(free_of(fs), (int64_t)(max - 3 * 65536));
    /* A write needing two new chunks with one left: refused, all of it. */
    CHECK_EQ(put_pattern(f, 19, 65536 * 20 - 5, 10), VERR_DISK_FULL);
    CHECK(has_zeros(f, 65536 * 20 - 5, 10));
    CHECK_EQ(free_of(fs), (int64_t)(max - 3 * 65536));
    /* A write spanning an existing and a new chunk fits; the mix is right. */
    CHECK_EQ(put_pattern(f, 20, 65536 * 11 - 5, 10), VINF_SUCCESS);
    CHECK_EQ(free_of(fs), 0);
    CHECK(has_pattern(f, 20, 65536 * 11 - 5, 10));
    CHECK(has_pattern(f, 18, 65536 * 10 - 5, 5));
    CHECK_EQ(fs->ops->write(f, 0, "y", 1), VERR_DISK_FULL);
    CHECK(has_zeros(f, 0, 1));
    /* Zeros still fit anywhere. */
    CHECK_EQ(fs->ops->write(f, 5, zeros, 1000), VINF_SUCCESS);
    /* max_file_size. */
    CHECK_EQ(fs->ops->set_size(f, ((uint64_t)3 << 40) + 1), VERR_DISK_FULL);
    CHECK_EQ(fs->ops->allocate(f, ((uint64_t)3 << 40) + 1), VERR_DISK_FULL);
    CHECK_EQ(fs->ops->set_size(f, (uint64_t)3 << 40), VINF_SUCCESS);
    CHECK_EQ(fs->ops->write(f, ((uint64_t)3 << 40) - 1, zeros, 2), VERR_DISK_FULL);
    CHECK_EQ(size_of(f), (uint64_t)3 << 40);
    /* Shrinking gives chunks back. */
    CHECK_EQ(fs->ops->set_size(f, 65536 * 10), VINF_SUCCESS);
    CHECK_EQ(free_of(fs), (int64_t)(max - 65536));
    free(zeros);
    fs->ops->close(f);
    /* Removing a file gives its memory back; an open one on last close. */
    f = xopen(fs, "big", RW_OPEN);
    REQUIRE(f != NULL);
    CHECK_EQ(fs->ops->remove(fs, "big"), VINF_SUCCESS);
    CHECK_EQ(free_of(fs), (int64_t)(max - 65536));
    fs->ops->close(f);
    CHECK_EQ(free_of(fs), (int64_t)max);
out:
    vdc_fs_destroy(fs);
}

static void test_mem_defaults(void)
{
    vdc_fs *fs = vdc_fs_mem_new(0, 0);
    REQUIRE(fs != NULL);
    CHECK_EQ(free_of(fs), 256 << 20);
    vdc_file *f = xopen(fs, "f", RW_CREATE);
    if (f != NULL) {
        CHECK_EQ(fs->ops->set_size(f, (uint64_t)4 << 40), VINF_SUCCESS);
        CHECK_EQ(fs->ops->set_size(f, ((uint64_t)4 << 40) + 1), VERR_DISK_FULL);
        fs->ops->close(f);
    }
    vdc_fs_destroy(fs);
}

static void test_mem_put_peek(void)
{
    vdc_fs *fs = vdc_fs_mem_new(0, 0);
    REQUIRE(fs != NULL);
    uint8_t data[100000], back[100000];
    pattern_fill(data, sizeof data, 21, 0);
    CHECK_EQ(vdc_fs_mem_peek(fs, "p", 0, back, 1), VERR_FILE_NOT_FOUND);
    CHECK_EQ(vdc_fs_mem_put(fs, "p", data, sizeof data), VINF_SUCCESS);
    CHECK_EQ(vdc_fs_mem_peek(fs, "p", 0, back, sizeof back), VINF_SUCCESS);
    CHECK(memcmp(back, data, sizeof data) == 0);
    CHECK_EQ(vdc_fs_mem_peek(fs, "p", 99990, back, 11), VERR_EOF);
    CHECK_EQ(vdc_fs_mem_peek(fs, "p", 99990, back, 10), VINF_SUCCESS);
    CHECK_EQ(back[9], data[99999]);
    /* Visible through open. */
    vdc_file *f = xopen(fs, "p", RO_OPEN);
    REQUIRE(f != NULL);
    CHECK_EQ(size_of(f), sizeof data);
    /* Put replaces; the open handle keeps the old file. */
    CHECK_EQ(vdc_fs_mem_put(fs, "p", "abc", 3), VINF_SUCCESS);
    CHECK_EQ(vdc_fs_mem_peek(fs, "p", 0, back, 3), VINF_SUCCESS);
    CHECK(memcmp(back, "abc", 3) == 0);
    CHECK_EQ(vdc_fs_mem_peek(fs, "p", 0, back, 4), VERR_EOF);
    CHECK_EQ(size_of(f), sizeof data);
    CHECK(has_pattern(f, 21, 0, 1000));
    fs->ops->close(f);
    CHECK_EQ(vdc_fs_mem_put(fs, "empty", NULL, 0), VINF_SUCCESS);
    CHECK_EQ(vdc_fs_mem_peek(fs, "empty", 0, NULL, 0), VINF_SUCCESS);
    CHECK_EQ(vdc_fs_mem_put(fs, "", "a", 1), VERR_INVALID_PARAMETER);
    CHECK_EQ(vdc_fs_mem_put(fs, "n", NULL, 1), VERR_INVALID_PARAMETER);
    vdc_fs_destroy(fs);

    /* Limits hold for put; a refused put keeps the old file. */
    fs = vdc_fs_mem_new(65536, 1000);
    REQUIRE(fs != NULL);
    CHECK_EQ(vdc_fs_mem_put(fs, "q", data, 1000), VINF_SUCCESS);
    CHECK_EQ(vdc_fs_mem_put(fs, "q", data, 1001), VERR_DISK_FULL);
    CHECK_EQ(vdc_fs_mem_peek(fs, "q", 999, back, 1), VINF_SUCCESS);
    CHECK_EQ(back[0], data[999]);
    /* Replacing frees the old file's memory first, so this fits... */
    CHECK_EQ(vdc_fs_mem_put(fs, "q", data + 1, 1000), VINF_SUCCESS);
    /* ...but a second file does not. */
    CHECK_EQ(vdc_fs_mem_put(fs, "r", data, 10), VERR_DISK_FULL);
    CHECK_EQ(vdc_fs_mem_peek(fs, "r", 0, back, 0), VERR_FILE_NOT_FOUND);
    vdc_fs_destroy(fs);

    /* Not a memory fs. */
    fs = vdc_fs_posix_new("/nonexistent-vdcc");
    REQUIRE(fs != NULL);
    CHECK_EQ(vdc_fs_mem_put(fs, "p", "a", 1), VERR_NOT_SUPPORTED);
    CHECK_EQ(vdc_fs_mem_peek(fs, "p", 0, back, 1), VERR_NOT_SUPPORTED);
    vdc_fs_destroy(fs);
    CHECK_EQ(vdc_fs_mem_put(NULL, "p", "a", 1), VERR_NOT_SUPPORTED);
}

/* vdc_fs_mem_clear: an emptied fs is as new (names, space, clock), pooled
 * pages never show their old bytes, and open handles are released. */
static void test_mem_clear(void)
{
    const uint64_t max = 4 * 65536;
    int64_t t_new = 0, t_again = 0;
    vdc_fs *fs = vdc_fs_mem_new(max, 0);
    REQUIRE(fs != NULL);
    vdc_file *f = xopen(fs, "first", RW_CREATE);
    REQUIRE(f != NULL);
    CHECK_EQ(fs->ops->mtime(fs, "first", &t_new), VINF_SUCCESS);
    CHECK_EQ(put_pattern(f, 23, 0, 150000), VINF_SUCCESS);
    fs->ops->close(f);
    CHECK_EQ(vdc_fs_mem_put(fs, "second", "abc", 3), VINF_SUCCESS);
    vdc_file *left_open = xopen(fs, "second", RO_OPEN);
    CHECK(left_open != NULL);
    CHECK(free_of(fs) < (int64_t)max);

    CHECK_EQ(vdc_fs_mem_clear(fs), VINF_SUCCESS); /* closes left_open */
    CHECK_EQ(vdc_fs_mem_peek(fs, "first", 0, NULL, 0), VERR_FILE_NOT_FOUND);
    CHECK_EQ(vdc_fs_mem_peek(fs, "second", 0, NULL, 0), VERR_FILE_NOT_FOUND);
    CHECK_EQ(free_of(fs), (int64_t)max);

    /* The same name again: a new file, zeros where the old one had data
     * (its pages went to the pool), the clock started over. */
    f = xopen(fs, "first", RW_CREATE);
    REQUIRE(f != NULL);
    CHECK_EQ(fs->ops->mtime(fs, "first", &t_again), VINF_SUCCESS);
    CHECK_EQ(t_again, t_new);
    CHECK_EQ(size_of(f), 0);
    CHECK_EQ(fs->ops->set_size(f, 150000), VINF_SUCCESS);
    CHECK(has_zeros(f, 0, 150000));
    CHECK_EQ(put_pattern(f, 24, 1000, 140000), VINF_SUCCESS);
    CHECK(has_pattern(f, 24, 1000, 140000));
    CHECK(has_zeros(f, 0, 1000));
    CHECK_EQ(free_of(fs), (int64_t)(max - 3 * 65536));
    fs->ops->close(f);
    /* Twice in a row, and on an empty fs, is fine. */
    CHECK_EQ(vdc_fs_mem_clear(fs), VINF_SUCCESS);
    CHECK_EQ(vdc_fs_mem_clear(fs), VINF_SUCCESS);
    CHECK_EQ(free_of(fs), (int64_t)max);
    vdc_fs_destroy(fs);

    /* Not a memory fs. */
    fs = vdc_fs_posix_new("/nonexistent-vdcc");
    REQUIRE(fs != NULL);
    CHECK_EQ(vdc_fs_mem_clear(fs), VERR_NOT_SUPPORTED);
    vdc_fs_destroy(fs);
    CHECK_EQ(vdc_fs_mem_clear(NULL), VERR_NOT_SUPPORTED);
}

static void test_mem_many_files(void)
{
    vdc_fs *fs = vdc_fs_mem_new(0, 0);
    REQUIRE(fs != NULL);
    char name[32];
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "file-%d", i);
        vdc_file *f = xopen(fs, name, RW_CREATE);
        REQUIRE(f != NULL);
        CHECK_EQ(fs->ops->write(f, 0, &i, sizeof i), VINF_SUCCESS);
        fs->ops->close(f);
    }
    for (int i = 0; i < 300; i += 2) {
        snprintf(name, sizeof name, "file-%d", i);
        CHECK_EQ(fs->ops->remove(fs, name), VINF_SUCCESS);
    }
    for (int i = 0; i < 300; i++) {
        int v = -1;
        snprintf(name, sizeof name, "file-%d", i);
        int rc = vdc_fs_mem_peek(fs, name, 0, &v, sizeof v);
        if (i % 2 == 0) {
            CHECK_EQ(rc, VERR_FILE_NOT_FOUND);
        } else {
            CHECK_EQ(rc, VINF_SUCCESS);
            CHECK_EQ(v, i);
        }
    }
    /* Names are opaque keys: no path logic. */
    CHECK_EQ(vdc_fs_mem_put(fs, "/a/../b", "1", 1), VINF_SUCCESS);
    CHECK_EQ(vdc_fs_mem_peek(fs, "/b", 0, name, 1), VERR_FILE_NOT_FOUND);
    /* An over-long name is refused. */
    char *longname = malloc(5000);
    REQUIRE(longname != NULL);
    memset(longname, 'n', 4999);
    longname[4999] = '\0';
    CHECK_EQ(try_open(fs, longname, RW_CREATE), VERR_INVALID_PARAMETER);
    free(longname);
    vdc_fs_destroy(fs);
}

/* --- POSIX fs only --------------------------------------------------------- */

static void test_posix_paths(void)
{
    vdc_fs *fs = fixture_posix_new();
    REQUIRE(fs != NULL);
    char abs[128];
    snprintf(abs, sizeof abs, "%s/abs.img", fixture_dir);
    CHECK_EQ(try_open(fs, abs, RW_CREATE), VINF_SUCCESS);
    /* The absolute name and the relative one are the same file. */
    CHECK_EQ(try_open(fs, "abs.img", RW_CREATE), VERR_ALREADY_EXISTS);
    CHECK_EQ(access(abs, F_OK), 0);
    /* A directory is not a file. */
    snprintf(abs, sizeof abs, "%s/dir", fixture_dir);
    CHECK_EQ(mkdir(abs, 0700), 0);
    CHECK_EQ(try_open(fs, "dir", RO_OPEN), VERR_FILE_IO_ERROR);
    CHECK_EQ(try_open(fs, "dir/inner", RW_CREATE), VINF_SUCCESS);
    CHECK_EQ(try_open(fs, "nodir/inner", RW_CREATE), VERR_FILE_NOT_FOUND);
    int64_t space = -1;
    CHECK_EQ(fs->ops->free_space(fs, abs, &space), VINF_SUCCESS);
    CHECK(space > 0);
    fixture_posix_free(fs);

    /* A missing root: every open fails cleanly. */
    fs = vdc_fs_posix_new("/nonexistent-vdcc-root");
    REQUIRE(fs != NULL);
    CHECK_EQ(try_open(fs, "x", RW_CREATE), VERR_FILE_NOT_FOUND);
    vdc_fs_destroy(fs);
}

static void test_errno_mapping(void)
{
    CHECK_EQ(vdc_status_from_errno(0), VINF_SUCCESS);
    CHECK_EQ(vdc_status_from_errno(ENOENT), VERR_FILE_NOT_FOUND);
    CHECK_EQ(vdc_status_from_errno(EEXIST), VERR_ALREADY_EXISTS);
    CHECK_EQ(vdc_status_from_errno(EACCES), VERR_ACCESS_DENIED);
    CHECK_EQ(vdc_status_from_errno(EPERM), VERR_ACCESS_DENIED);
    CHECK_EQ(vdc_status_from_errno(ENOSPC), VERR_DISK_FULL);
    CHECK_EQ(vdc_status_from_errno(EDQUOT), VERR_DISK_FULL);
    CHECK_EQ(vdc_status_from_errno(EFBIG), VERR_DISK_FULL);
    CHECK_EQ(vdc_status_from_errno(EROFS), VERR_WRITE_PROTECT);
    CHECK_EQ(vdc_status_from_errno(ENOMEM), VERR_NO_MEMORY);
    CHECK_EQ(vdc_status_from_errno(EIO), VERR_FILE_IO_ERROR);
    CHECK_EQ(vdc_status_from_errno(EBADF), VERR_FILE_IO_ERROR);
    CHECK_EQ(vdc_status_from_errno(-1), VERR_FILE_IO_ERROR);
}

CHECK_MAIN(FS_CASES(roundtrip), FS_CASES(open_actions), FS_CASES(open_invalid), FS_CASES(read_past_eof),
           FS_CASES(write_grows_with_zero_gap), FS_CASES(access_modes), FS_CASES(deny_modes),
           FS_CASES(set_size_and_allocate), FS_CASES(remove_files), FS_CASES(rename_files),
           FS_CASES(mtime_and_free_space), FS_CASES(random_model), FS_CASES(destroy_with_open_handles),
           CHECK_CASE(test_mem_sparse_and_limits), CHECK_CASE(test_mem_defaults),
           CHECK_CASE(test_mem_put_peek), CHECK_CASE(test_mem_clear), CHECK_CASE(test_mem_many_files), CHECK_CASE(test_posix_paths),
           CHECK_CASE(test_errno_mapping))
