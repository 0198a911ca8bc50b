/*
 * harness/host/tests/test_host_alloc.c - the counting allocator a built-in
 * backend sees (alloc_hook.h): numbering, the injected failure (once and
 * persistent), call sites, the live balance, and pause/resume, which the
 * deep check of a workload run uses so that its own allocations neither
 * shift the numbers a sweep replays nor fail.  The vdc_be_* functions are
 * called directly, as a renamed backend object would.
 */
#include <errno.h>

#include "harness/host/alloc_hook.h"
#include "harness/host/tests/fixture.h"

static void test_numbering_and_failure(void)
{
    int64_t live0 = vdc_alloc_hook_live();
    vdc_alloc_hook_arm(2, false);
    void *a = vdc_be_malloc(16);
    errno = 0;
    void *b = vdc_be_calloc(2, 8);
    int err = errno;
    void *c = vdc_be_malloc(16);
    CHECK(a != NULL && b == NULL && c != NULL);
    CHECK_EQ(err, ENOMEM);
    CHECK_EQ(vdc_alloc_hook_count(), 3);
    CHECK_EQ(vdc_alloc_hook_fired(), 1);
    CHECK_EQ(vdc_alloc_hook_live() - live0, 2);
    vdc_be_free(a);
    vdc_be_free(c);
    vdc_be_free(NULL);
    CHECK_EQ(vdc_alloc_hook_live(), live0);

    vdc_alloc_hook_arm(1, true);
    CHECK(vdc_be_malloc(1) == NULL && vdc_be_strdup("x") == NULL);
    CHECK_EQ(vdc_alloc_hook_fired(), 2);
    vdc_alloc_hook_disarm();
    char *s = vdc_be_strdup("x");
    CHECK(s != NULL && s[0] == 'x');
    vdc_be_free(s);
    CHECK_EQ(vdc_alloc_hook_count(), 2); /* disarmed: not numbered */
    CHECK_EQ(vdc_alloc_hook_live(), live0);
}

static void test_pause(void)
{
    int64_t live0 = vdc_alloc_hook_live();
    vdc_alloc_hook_arm(3, true);
    void *a = vdc_be_malloc(8); /* 1 */
    vdc_alloc_hook_pause();
    vdc_alloc_hook_pause(); /* nested */
    void *p = vdc_be_malloc(8), *q = vdc_be_malloc(8), *r = vdc_be_malloc(8);
    vdc_alloc_hook_resume();
    void *u = vdc_be_malloc(8); /* still paused: not numbered */
    vdc_alloc_hook_resume();
    CHECK(p != NULL && q != NULL && r != NULL && u != NULL); /* neither numbered nor failed */
    CHECK_EQ(vdc_alloc_hook_count(), 1);
    CHECK_EQ(vdc_alloc_hook_live() - live0, 5); /* the balance counts them */
    vdc_be_free(p);
    vdc_be_free(q);
    vdc_be_free(r);
    vdc_be_free(u);
    void *b = vdc_be_malloc(8); /* 2 */
    void *c = vdc_be_malloc(8); /* 3: fails, and so on */
    CHECK(b != NULL && c == NULL);
    CHECK_EQ(vdc_alloc_hook_count(), 3);
    vdc_alloc_hook_resume(); /* unbalanced: ignored */
    CHECK(vdc_be_malloc(8) == NULL);
    vdc_alloc_hook_disarm();
    vdc_be_free(a);
    vdc_be_free(b);
    CHECK_EQ(vdc_alloc_hook_live(), live0);
}

/* One call site whatever the compiler does to the caller's loop (not a
 * tail call: the site is the return address inside this function). */
static __attribute__((noinline)) void *site_a(void)
{
    void *volatile p = vdc_be_malloc(4);
    return p;
}

static void test_sites(void)
{
    uint64_t first[VDC_ALLOC_HOOK_MAX_SITES];
    vdc_alloc_hook_arm(0, false);
    void *v[4];
    for (int i = 0; i < 3; i++)
        v[i] = site_a(); /* one site, first at 1 */
    v[3] = vdc_be_calloc(1, 4); /* another, first at 4 */
    size_t n = vdc_alloc_hook_sites(first, VDC_ALLOC_HOOK_MAX_SITES);
    CHECK_EQ(n, 2);
    CHECK(first[0] == 1 && first[1] == 4);
    vdc_alloc_hook_disarm();
    for (int i = 0; i < 4; i++)
        vdc_be_free(v[i]);
}

CHECK_MAIN(CHECK_CASE(test_numbering_and_failure), CHECK_CASE(test_pause), CHECK_CASE(test_sites))
