/*
 * harness/reliability/tests/test_batch.c - the runner's batched tasks
 * (harness/runner.h), as `vdcc conform` uses them for its hostile images:
 * many tasks per child, yet each task's verdict is the one it would get in
 * a child of its own.  Synthetic tasks plant every way a child can go
 * wrong at one known task: a crash, a hang, a failure, a fake sanitizer
 * report, a report at exit that no position names (as LeakSanitizer's),
 * and a task that poisons its process so that the next one fails.  Checks
 * that exactly the planted tasks get the planted verdicts (the crash is a
 * CRASH of that task, the rest of its batch resumes and passes), that the
 * poisoned neighbour passes with a note, that results come once per task
 * in order, that batching really shares children, and that one task per
 * child (task_batch 1) gives the same verdicts.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../tests/check.h"
#include "../../../ref/ref.h"
#include "../../host/status.h"
#include "../../runner.h"
#include "../../core/isolate.h"

#define NT 24u

enum { T_FAIL_FIRST = 0, T_CRASH = 2, T_HANG = 7, T_FAIL = 9, T_POISON = 13, T_VICTIM = 14, T_SAN = 16,
       T_ATEXIT = 20 };

/* What the children saw, in shared memory. */
typedef struct seen {
    volatile int      pid[NT];   /* the process that ran task k last */
    volatile unsigned runs[NT];  /* how often task k ran */
} seen;

static int poisoned; /* per process: set by T_POISON, fatal to T_VICTIM */

static void leak_report_at_exit(void)
{
    fputs("==1==ERROR: LeakSanitizer: detected memory leaks (planted)\n", stderr);
    fflush(stderr);
    _exit(23);
}

static void task(void *user, unsigned k, const VDCACHEBACKEND *be, vdc_run_out *out)
{
    seen *s = user;
    (void)be;
    s->pid[k] = (int)getpid();
    s->runs[k]++;
    snprintf(out->phase, sizeof out->phase, "synthetic task");
    printf("task %u says hello\n", k);
    switch (k) {
    case T_FAIL_FIRST:
    case T_FAIL:
        out->verdict = VDC_V_FAIL;
        snprintf(out->clause, sizeof out->clause, "READ-1");
        snprintf(out->message, sizeof out->message, "planted failure of task %u", k);
        break;
    case T_CRASH:
        raise(SIGKILL); /* a crash, without a sanitizer's slow report */
        break;
    case T_HANG:
        for (;;)
            pause();
    case T_POISON:
        poisoned = 1;
        break;
    case T_VICTIM:
        if (poisoned) {
            out->verdict = VDC_V_FAIL;
            snprintf(out->message, sizeof out->message, "poisoned by an earlier task");
        }
        break;
    case T_SAN:
        fprintf(stderr, "==1==ERROR: AddressSanitizer: heap-use-after-free (planted by task %u)\n", k);
        fflush(stderr);
        _exit(1);
    case T_ATEXIT:
        atexit(leak_report_at_exit);
        break;
    default:
        break;
    }
}

typedef struct got {
    unsigned         n;
    unsigned         order[NT];
    vdc_run_result   r[NT];
    unsigned         times[NT];
} got;

static void on_done(void *ctx, unsigned i, const vdc_run_result *r)
{
    got *g = ctx;
    if (i < NT) {
        g->r[i] = *r;
        g->times[i]++;
    }
    if (g->n < NT)
        g->order[g->n] = i;
    g->n++;
}

static seen *run(unsigned batch, got *g)
{
    seen *s = vdc_iso_shared_new(sizeof *s);
    if (s == NULL)
        return NULL;
    memset(g, 0, sizeof *g);
    vdc_run_opts o = {
        .backend = &vdcc_ref_backend, .timeout_ms = 1000, .jobs = 2,
        .ntasks = NT, .task = task, .task_user = s, .task_batch = batch,
    };
    int rc = vdc_run_traces(&o, NULL, 0, on_done, g);
    CHECK_EQ(rc, VINF_SUCCESS);
    return s;
}

/* The planted verdicts, whatever the batching. */
static void check_verdicts(const got *g)
{
    CHECK_EQ(g->n, NT);
    for (unsigned k = 0; k < NT; k++) {
        CHECK_EQ(g->times[k], 1);
        const vdc_run_result *r = &g->r[k];
        switch (k) {
        case T_FAIL_FIRST:
        case T_FAIL:
            CHECK_EQ(r->verdict, VDC_V_FAIL);
            CHECK(strcmp(r->clause, "READ-1") == 0);
            CHECK(strstr(r->message, "planted failure") != NULL);
            break;
        case T_CRASH:
            CHECK_EQ(r->verdict, VDC_V_CRASH);
            CHECK(strstr(r->message, "during the synthetic task") != NULL);
            break;
        case T_HANG:
            CHECK_EQ(r->verdict, VDC_V_TIMEOUT);
            CHECK(strstr(r->message, "synthetic task: no verdict within 1.000 s") != NULL);
            break;
        case T_SAN:
            CHECK_EQ(r->verdict, VDC_V_FAIL);
            CHECK(strstr(r->sanitizer, "heap-use-after-free (planted by task 16)") != NULL);
            CHECK(strstr(r->message, "sanitizer report during the synthetic task") != NULL);
            break;
        case T_ATEXIT:
            CHECK_EQ(r->verdict, VDC_V_FAIL);
            CHECK(strstr(r->message, "sanitizer report at exit, after the synthetic task finished") != NULL);
            CHECK(strstr(r->sanitizer, "LeakSanitizer: detected memory leaks (planted)") != NULL);
            break;
        default:
            if (r->verdict != VDC_V_PASS)
                fprintf(stderr, "  task %u: %s: %s\n", k, vdc_verdict_name(r->verdict), r->message);
            CHECK_EQ(r->verdict, VDC_V_PASS);
            CHECK(r->sanitizer[0] == '\0');
            break;
        }
    }
}

static void test_batched(void)
{
    got g;
    seen *s = run(6, &g);
    REQUIRE(s != NULL);
    check_verdicts(&g);
    /* The poisoned neighbour ran after T_POISON in its process and failed,
     * ran again alone and passed: PASS, with a note saying so. */
    CHECK_EQ(g.r[T_VICTIM].verdict, VDC_V_PASS);
    CHECK(strstr(g.r[T_VICTIM].note, "passes alone; after other tasks in one process: FAIL: poisoned") != NULL);
    CHECK(s->runs[T_VICTIM] == 2);
    /* The crash cost no other task: the one after it ran once, in a fresh
     * process; the tasks before it shared the crashing child. */
    CHECK(s->runs[T_CRASH + 1] == 1);
    CHECK(s->pid[T_CRASH - 1] == s->pid[0]);
    CHECK(s->pid[T_CRASH + 1] != s->pid[T_CRASH]);
    /* The hang, not first in its child, was confirmed alone. */
    CHECK(s->runs[T_HANG] == 2);
    /* A failure first in its child stands without a rerun. */
    CHECK(s->runs[T_FAIL_FIRST] == 1);
    /* The report at exit sent its batch's tasks to one child each. */
    CHECK(s->runs[T_ATEXIT] == 2);
    CHECK(s->pid[T_ATEXIT - 1] != s->pid[T_ATEXIT]);
    /* Batching shares children: far fewer processes than tasks. */
    unsigned distinct = 0;
    for (unsigned k = 0; k < NT; k++) {
        bool again = false;
        for (unsigned m = 0; m < k; m++)
            again |= s->pid[m] == s->pid[k];
        distinct += !again;
    }
    fprintf(stderr, "  %u tasks ran in %u processes (by last run)\n", NT, distinct);
    CHECK(distinct < NT);
    /* Within a batch (one job's range of 6), results come in task order. */
    for (unsigned b = 0; b < NT / 6; b++) {
        unsigned last = 0;
        bool any = false;
        for (unsigned i = 0; i < g.n && i < NT; i++) {
            if (g.order[i] / 6 != b)
                continue;
            CHECK(!any || g.order[i] > last);
            last = g.order[i];
            any = true;
        }
    }
    vdc_iso_shared_free(s, sizeof *s);
}

static void test_one_per_child(void)
{
    got g;
    seen *s = run(1, &g);
    REQUIRE(s != NULL);
    check_verdicts(&g);
    CHECK_EQ(g.r[T_VICTIM].verdict, VDC_V_PASS);
    CHECK(g.r[T_VICTIM].note[0] == '\0');
    for (unsigned k = 0; k < NT; k++) {
        CHECK_EQ(s->runs[k], 1);
        for (unsigned m = 0; m < k; m++)
            CHECK(s->pid[m] != s->pid[k]);
    }
    vdc_iso_shared_free(s, sizeof *s);
}

static void test_bad_batch(void)
{
    got g;
    memset(&g, 0, sizeof g);
    vdc_run_opts o = { .backend = &vdcc_ref_backend, .timeout_ms = 100, .jobs = 1, .ntasks = 1, .task = task,
                       .task_batch = VDC_RUN_BATCH_MAX + 1 };
    CHECK_EQ(vdc_run_traces(&o, NULL, 0, on_done, &g), VERR_INVALID_PARAMETER);
    CHECK_EQ(g.n, 0);
}

CHECK_MAIN(CHECK_CASE(test_batched), CHECK_CASE(test_one_per_child), CHECK_CASE(test_bad_batch))
