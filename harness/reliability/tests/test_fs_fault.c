/*
 * harness/reliability/tests/test_fs_fault.c - the fault fs (fs_fault.h):
 * counting, transient and persistent faults, poisoned reads, torn writes,
 * arming rules, and handles released by destroy.
 */
#include "../../../tests/check.h"
#include "../fs_fault.h"

static const uint32_t RW_CREATE = RTFILE_O_READWRITE | RTFILE_O_DENY_NONE | RTFILE_O_OPEN_CREATE;

typedef struct env {
    vdc_fs   *mem, *fs;
    vdc_file *f;
} env;

static int setup(env *e)
{
    e->mem = vdc_fs_mem_new(0, 0);
    e->fs = e->mem != NULL ? vdc_fs_fault_new(e->mem) : NULL;
    e->f = NULL;
    if (e->fs == NULL)
        return VERR_NO_MEMORY;
    return e->fs->ops->open(e->fs, "a", RW_CREATE, &e->f);
}

static void teardown(env *e)
{
    if (e->f != NULL)
        e->fs->ops->close(e->f);
    vdc_fs_destroy(e->fs);
    vdc_fs_destroy(e->mem);
}

static int wr(env *e, uint64_t off, const char *s)
{
    return e->fs->ops->write(e->f, off, s, strlen(s));
}

static void test_counts(void)
{
    env e;
    uint8_t b[4];
    uint64_t cb;
    REQUIRE(setup(&e) == VINF_SUCCESS);
    CHECK_EQ(vdc_fs_fault_count(e.fs, VDC_FAULT_OPEN), 1);
    CHECK_EQ(wr(&e, 0, "abcd"), VINF_SUCCESS);
    CHECK_EQ(wr(&e, 4, "efgh"), VINF_SUCCESS);
    CHECK_EQ(e.fs->ops->read(e.f, 0, b, 4), VINF_SUCCESS);
    CHECK_EQ(e.fs->ops->flush(e.f), VINF_SUCCESS);
    CHECK_EQ(e.fs->ops->set_size(e.f, 16), VINF_SUCCESS);
    CHECK_EQ(e.fs->ops->allocate(e.f, 32), VINF_SUCCESS);
    CHECK_EQ(e.fs->ops->get_size(e.f, &cb), VINF_SUCCESS);
    CHECK_EQ(cb, 32);
    CHECK_EQ(e.fs->ops->rename(e.fs, "a", "b", 0), VINF_SUCCESS);
    CHECK_EQ(vdc_fs_fault_count(e.fs, VDC_FAULT_WRITE), 2);
    CHECK_EQ(vdc_fs_fault_count(e.fs, VDC_FAULT_READ), 1);
    CHECK_EQ(vdc_fs_fault_count(e.fs, VDC_FAULT_FLUSH), 1);
    CHECK_EQ(vdc_fs_fault_count(e.fs, VDC_FAULT_SIZE), 2);
    CHECK_EQ(vdc_fs_fault_count(e.fs, VDC_FAULT_STAT), 1);
    CHECK_EQ(vdc_fs_fault_count(e.fs, VDC_FAULT_NAME), 1);
    CHECK_EQ(vdc_fs_fault_count(e.fs, VDC_FAULT_ANY), 9);
    CHECK_EQ(vdc_fs_fault_count(e.fs, VDC_FAULT_KINDS_), 0);
    CHECK_EQ(vdc_fs_fault_count(e.mem, VDC_FAULT_ANY), 0); /* not a fault fs */
    vdc_fs_fault_reset_counts(e.fs);
    CHECK_EQ(vdc_fs_fault_count(e.fs, VDC_FAULT_ANY), 0);
    teardown(&e);
}

static void test_transient(void)
{
    env e;
    uint8_t b[4];
    REQUIRE(setup(&e) == VINF_SUCCESS);
    CHECK_EQ(wr(&e, 0, "zzzz"), VINF_SUCCESS); /* before arming: not counted toward nth */
    CHECK_EQ(vdc_fs_fault_arm(e.fs, VDC_FAULT_WRITE, 2, VERR_DISK_FULL, 0), VINF_SUCCESS);
    CHECK_EQ(wr(&e, 0, "abcd"), VINF_SUCCESS);
    CHECK_EQ(vdc_fs_fault_fired(e.fs), 0);
    CHECK_EQ(e.fs->ops->read(e.f, 0, b, 4), VINF_SUCCESS); /* reads are another kind */
    CHECK_EQ(wr(&e, 0, "efgh"), VERR_DISK_FULL);
    CHECK_EQ(vdc_fs_fault_fired(e.fs), 1);
    CHECK_EQ(e.fs->ops->read(e.f, 0, b, 4), VINF_SUCCESS);
    CHECK(memcmp(b, "abcd", 4) == 0); /* the failed write changed nothing */
    CHECK_EQ(wr(&e, 0, "ijkl"), VINF_SUCCESS);
    CHECK_EQ(vdc_fs_fault_fired(e.fs), 1);
    teardown(&e);
}

static void test_persistent_poison(void)
{
    env e;
    uint8_t b[8];
    REQUIRE(setup(&e) == VINF_SUCCESS);
    CHECK_EQ(wr(&e, 0, "abcdefgh"), VINF_SUCCESS);
    CHECK_EQ(vdc_fs_fault_arm(e.fs, VDC_FAULT_READ, 1, VERR_DISK_IO_ERROR, VDC_FAULT_PERSISTENT), VINF_SUCCESS);
    for (int i = 0; i < 3; i++) {
        memset(b, 0, sizeof b);
        CHECK_EQ(e.fs->ops->read(e.f, 0, b, 8), VERR_DISK_IO_ERROR);
        CHECK_EQ(b[0], VDC_FAULT_POISON);
        CHECK_EQ(b[7], VDC_FAULT_POISON);
    }
    CHECK_EQ(vdc_fs_fault_fired(e.fs), 3);
    CHECK_EQ(wr(&e, 0, "12345678"), VINF_SUCCESS);
    vdc_fs_fault_clear(e.fs);
    CHECK_EQ(e.fs->ops->read(e.f, 0, b, 8), VINF_SUCCESS);
    CHECK(memcmp(b, "12345678", 8) == 0);
    teardown(&e);
}

static void test_any_kind(void)
{
    env e;
    uint8_t b[4];
    vdc_file *g = NULL;
    REQUIRE(setup(&e) == VINF_SUCCESS);
    /* The third operation of any kind from now is the open. */
    CHECK_EQ(vdc_fs_fault_arm(e.fs, VDC_FAULT_ANY, 3, VERR_FILE_IO_ERROR, 0), VINF_SUCCESS);
    CHECK_EQ(wr(&e, 0, "abcd"), VINF_SUCCESS);
    CHECK_EQ(e.fs->ops->read(e.f, 0, b, 4), VINF_SUCCESS);
    g = (vdc_file *)&e; /* must be reset to NULL by the failed open */
    CHECK_EQ(e.fs->ops->open(e.fs, "a", RTFILE_O_READ | RTFILE_O_DENY_NONE | RTFILE_O_OPEN, &g), VERR_FILE_IO_ERROR);
    CHECK(g == NULL);
    CHECK_EQ(e.fs->ops->flush(e.f), VINF_SUCCESS);
    CHECK_EQ(vdc_fs_fault_fired(e.fs), 1);
    teardown(&e);
}

static void test_torn(void)
{
    env e;
    uint8_t data[2048], back[2048];
    REQUIRE(setup(&e) == VINF_SUCCESS);
    memset(data, 0x11, sizeof data);
    CHECK_EQ(e.fs->ops->write(e.f, 0, data, sizeof data), VINF_SUCCESS);
    memset(data, 0x22, sizeof data);
    CHECK_EQ(vdc_fs_fault_arm(e.fs, VDC_FAULT_WRITE, 1, VERR_DISK_IO_ERROR, VDC_FAULT_TORN), VINF_SUCCESS);
    CHECK_EQ(e.fs->ops->write(e.f, 0, data, sizeof data), VERR_DISK_IO_ERROR);
    CHECK_EQ(e.fs->ops->read(e.f, 0, back, sizeof back), VINF_SUCCESS);
    CHECK_EQ(back[0], 0x22);
    CHECK_EQ(back[1023], 0x22);
    CHECK_EQ(back[1024], 0x11);
    CHECK_EQ(back[2047], 0x11);
    /* A torn write smaller than two sectors stores nothing. */
    CHECK_EQ(vdc_fs_fault_arm(e.fs, VDC_FAULT_WRITE, 1, VERR_DISK_IO_ERROR, VDC_FAULT_TORN), VINF_SUCCESS);
    CHECK_EQ(e.fs->ops->write(e.f, 1024, data, 1000), VERR_DISK_IO_ERROR);
    CHECK_EQ(e.fs->ops->read(e.f, 1024, back, 1), VINF_SUCCESS);
    CHECK_EQ(back[0], 0x11);
    teardown(&e);
}

static void test_arm_rules(void)
{
    env e;
    REQUIRE(setup(&e) == VINF_SUCCESS);
    CHECK_EQ(vdc_fs_fault_arm(e.fs, VDC_FAULT_WRITE, 0, VERR_DISK_FULL, 0), VERR_INVALID_PARAMETER);
    CHECK_EQ(vdc_fs_fault_arm(e.fs, VDC_FAULT_WRITE, 1, VINF_SUCCESS, 0), VERR_INVALID_PARAMETER);
    CHECK_EQ(vdc_fs_fault_arm(e.fs, VDC_FAULT_KINDS_, 1, VERR_DISK_FULL, 0), VERR_INVALID_PARAMETER);
    CHECK_EQ(vdc_fs_fault_arm(e.fs, VDC_FAULT_WRITE, 1, VERR_DISK_FULL, 0x80), VERR_INVALID_PARAMETER);
    CHECK_EQ(vdc_fs_fault_arm(e.mem, VDC_FAULT_WRITE, 1, VERR_DISK_FULL, 0), VERR_INVALID_PARAMETER);
    CHECK(vdc_fs_fault_new(NULL) == NULL);
    CHECK(strcmp(vdc_fault_kind_name(VDC_FAULT_ANY), "any") == 0);
    CHECK(strcmp(vdc_fault_kind_name(VDC_FAULT_KINDS_), "?") == 0);
    teardown(&e);
}

static void test_reset_rebases(void)
{
    env e;
    REQUIRE(setup(&e) == VINF_SUCCESS);
    CHECK_EQ(vdc_fs_fault_arm(e.fs, VDC_FAULT_WRITE, 3, VERR_DISK_FULL, 0), VINF_SUCCESS);
    CHECK_EQ(wr(&e, 0, "a"), VINF_SUCCESS);
    vdc_fs_fault_reset_counts(e.fs); /* two writes to go */
    CHECK_EQ(wr(&e, 0, "b"), VINF_SUCCESS);
    CHECK_EQ(wr(&e, 0, "c"), VERR_DISK_FULL);
    vdc_fs_fault_reset_counts(e.fs); /* a transient fault that fired is done */
    CHECK_EQ(wr(&e, 0, "d"), VINF_SUCCESS);
    CHECK_EQ(vdc_fs_fault_arm(e.fs, VDC_FAULT_FLUSH, 1, VERR_DISK_IO_ERROR, VDC_FAULT_PERSISTENT), VINF_SUCCESS);
    CHECK_EQ(e.fs->ops->flush(e.f), VERR_DISK_IO_ERROR);
    vdc_fs_fault_reset_counts(e.fs); /* a persistent one keeps failing */
    CHECK_EQ(e.fs->ops->flush(e.f), VERR_DISK_IO_ERROR);
    teardown(&e);
}

static void test_destroy_releases(void)
{
    env e;
    vdc_file *g = NULL;
    REQUIRE(setup(&e) == VINF_SUCCESS);
    CHECK_EQ(e.fs->ops->open(e.fs, "b", RW_CREATE, &g), VINF_SUCCESS);
    /* Both handles stay open; destroy must close them (LeakSanitizer
     * reports otherwise), and the inner fs must then allow removal. */
    vdc_fs_destroy(e.fs);
    CHECK_EQ(e.mem->ops->remove(e.mem, "a"), VINF_SUCCESS);
    vdc_fs_destroy(e.mem);
}

CHECK_MAIN(CHECK_CASE(test_counts), CHECK_CASE(test_transient), CHECK_CASE(test_persistent_poison),
           CHECK_CASE(test_any_kind), CHECK_CASE(test_torn), CHECK_CASE(test_arm_rules),
           CHECK_CASE(test_reset_rebases), CHECK_CASE(test_destroy_releases))
