/*
 * harness/core/tests/test_isolate.c - the isolation module (isolate.h).
 *
 * Each case plants one way a child can end and checks that the module says
 * exactly that: a child that hangs after forking a grandchild is killed
 * with its whole group (the grandchild dies too); a crash reports its
 * signal; a result travels through the shared mapping and the exit status
 * through the result; output is captured; a stalled heartbeat is a timeout
 * while a beating one is not; a sweep resumes after the units that killed
 * its children; children started by hand are reaped, killed and lost
 * cleanly.  Grandchildren are sleep(1) processes spawned into the child's
 * process group.
 */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../../spec/vdcache.h"
#include "../../../tests/check.h"
#include "../isolate.h"

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Whether pid is gone (or a zombie nobody has reaped yet): waits up to 2 s. */
static int gone(pid_t pid)
{
    for (int i = 0; i < 200; i++) {
        if (kill(pid, 0) != 0 && errno == ESRCH)
            return 1;
        char path[64], st[256];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        FILE *f = fopen(path, "r");
        if (f != NULL) {
            size_t n = fread(st, 1, sizeof st - 1, f);
            fclose(f);
            st[n] = '\0';
            const char *p = strrchr(st, ')');
            if (p != NULL && p[1] == ' ' && p[2] == 'Z')
                return 1;
        }
        sleep_ms(10);
    }
    return 0;
}

typedef struct shared_pids {
    volatile pid_t child, grandchild;
    volatile uint64_t beat;
    char text[64];
} shared_pids;

extern char **environ;

/* A process in the caller's process group that sleeps for an hour. */
static pid_t grandchild(void)
{
    char *argv[] = { "sleep", "3600", NULL };
    pid_t g = 0;
    return posix_spawnp(&g, "sleep", NULL, NULL, argv, environ) == 0 ? g : -1;
}

static int hang_with_grandchild(void *p)
{
    shared_pids *s = p;
    s->child = getpid();
    s->grandchild = grandchild();
    for (;;)
        pause();
    return 0;
}

static void test_hang_kills_group(void)
{
    shared_pids *s = vdc_iso_shared_new(sizeof *s);
    REQUIRE(s != NULL);
    /* Long enough for the grandchild to start under a loaded MSan build. */
    vdc_iso_opts o = { .deadline_ms = 3000 };
    vdc_iso_result r;
    uint64_t t0 = vdc_iso_now_ms();
    CHECK_EQ(vdc_iso_run(hang_with_grandchild, s, &o, &r), VINF_SUCCESS);
    CHECK_EQ(r.end, VDC_ISO_TIMEOUT);
    CHECK(vdc_iso_now_ms() - t0 >= 3000);
    CHECK(r.seconds >= 3.0 && r.seconds < 20);
    REQUIRE(s->child > 0 && s->grandchild > 0);
    CHECK(gone(s->child));
    CHECK(gone(s->grandchild));
    vdc_iso_shared_free(s, sizeof *s);
}

/* A grandchild left behind by a child that exits normally goes too. */
static int exit_leaving_grandchild(void *p)
{
    shared_pids *s = p;
    s->grandchild = grandchild();
    return 0;
}

static void test_leftover_grandchild_killed(void)
{
    shared_pids *s = vdc_iso_shared_new(sizeof *s);
    REQUIRE(s != NULL);
    vdc_iso_result r;
    CHECK_EQ(vdc_iso_run(exit_leaving_grandchild, s, NULL, &r), VINF_SUCCESS);
    CHECK_EQ(r.end, VDC_ISO_OK);
    REQUIRE(s->grandchild > 0);
    CHECK(gone(s->grandchild));
    vdc_iso_shared_free(s, sizeof *s);
}

static int crash(void *p)
{
    (void)p;
    signal(SIGSEGV, SIG_DFL); /* a sanitizer's handler would turn it into an exit */
    raise(SIGSEGV);
    return 0;
}

static void test_crash_reports_signal(void)
{
    vdc_iso_result r;
    CHECK_EQ(vdc_iso_run(crash, NULL, &(vdc_iso_opts){ .deadline_ms = 10000 }, &r), VINF_SUCCESS);
    CHECK_EQ(r.end, VDC_ISO_SIGNAL);
    CHECK_EQ(r.code, SIGSEGV);
    CHECK(WIFSIGNALED(r.status));
    CHECK(strcmp(vdc_iso_end_name(r.end), "signal") == 0);
}

static int report(void *p)
{
    shared_pids *s = p;
    snprintf(s->text, sizeof s->text, "hello from %d", (int)getpid());
    s->child = getpid();
    printf("to stdout\n");
    fprintf(stderr, "to stderr\n");
    return 7;
}

static void test_result_through_mapping(void)
{
    shared_pids *s = vdc_iso_shared_new(sizeof *s);
    REQUIRE(s != NULL);
    char out[64];
    vdc_iso_opts o = { .deadline_ms = 10000, .capture = out, .cb_capture = sizeof out };
    vdc_iso_result r;
    CHECK_EQ(vdc_iso_run(report, s, &o, &r), VINF_SUCCESS);
    CHECK_EQ(r.end, VDC_ISO_EXIT);
    CHECK_EQ(r.code, 7);
    char want[64];
    snprintf(want, sizeof want, "hello from %d", (int)s->child);
    CHECK(s->child > 0 && s->child != getpid());
    CHECK(strcmp(s->text, want) == 0);
    CHECK(strstr(out, "to stdout\n") != NULL);
    CHECK(strstr(out, "to stderr\n") != NULL);
    CHECK(r.maxrss_kib > 0);
    /* A capture buffer smaller than the output keeps its start. */
    char small[6];
    o.capture = small;
    o.cb_capture = sizeof small;
    CHECK_EQ(vdc_iso_run(report, s, &o, &r), VINF_SUCCESS);
    CHECK(strcmp(small, "to st") == 0);
    vdc_iso_shared_free(s, sizeof *s);
}

/* Beats every 20 ms for 1.2 s, then hangs without beating. */
static int beat_then_stall(void *p)
{
    shared_pids *s = p;
    uint64_t t0 = vdc_iso_now_ms();
    while (vdc_iso_now_ms() - t0 < 1200) {
        s->beat++;
        sleep_ms(20);
    }
    for (;;)
        pause();
    return 0;
}

static void test_heartbeat(void)
{
    shared_pids *s = vdc_iso_shared_new(sizeof *s);
    REQUIRE(s != NULL);
    vdc_iso_opts o = { .stall_ms = 400, .heartbeat = &s->beat };
    vdc_iso_result r;
    CHECK_EQ(vdc_iso_run(beat_then_stall, s, &o, &r), VINF_SUCCESS);
    CHECK_EQ(r.end, VDC_ISO_TIMEOUT);
    /* It beat for 1.2 s, longer than the stall limit: only the stall after it counts. */
    CHECK(r.seconds >= 1.5);
    CHECK(s->beat >= 5);
    vdc_iso_shared_free(s, sizeof *s);
}

/* ---- resume after death ---------------------------------------------------- */

#define UNITS 10u

typedef struct sweep_res {
    unsigned done[UNITS];
} sweep_res;

typedef struct sweep_state {
    unsigned children, ran[UNITS];
    uint64_t died_at[4];
    bool     died_finished[4];
    char     what[4][160];
    unsigned deaths;
    bool     leak_at_exit; /* the last unit's child exits 9 after finishing */
} sweep_state;

static int sweep_work(void *user, uint64_t skip, vdc_iso_progress *pr, void *result)
{
    sweep_state *st = user;
    sweep_res *res = result;
    for (uint64_t u = skip; u < UNITS; u++) {
        pr->progress = u + 1;
        pr->heartbeat++;
        if (u == 3) {
            signal(SIGSEGV, SIG_DFL);
            raise(SIGSEGV);
        }
        if (u == 6)
            for (;;)
                pause();
        res->done[u] = 1;
    }
    if (st->leak_at_exit)
        atexit(abort);
    return VERR_NOT_FOUND;
}

static void sweep_merge(void *user, const void *result, bool first)
{
    sweep_state *st = user;
    const sweep_res *res = result;
    if (first)
        CHECK_EQ(st->children, 0);
    st->children++;
    for (unsigned u = 0; u < UNITS; u++)
        st->ran[u] += res->done[u];
}

static void sweep_died(void *user, uint64_t at, bool finished, const char *what)
{
    sweep_state *st = user;
    if (st->deaths < 4) {
        st->died_at[st->deaths] = at;
        st->died_finished[st->deaths] = finished;
        snprintf(st->what[st->deaths], sizeof st->what[0], "%s", what);
    }
    st->deaths++;
}

static void test_resume_after_death(void)
{
    vdc_iso_sweep s = { "unit", sizeof(sweep_res), sweep_work, sweep_merge, sweep_died };
    sweep_state st;
    memset(&st, 0, sizeof st);
    CHECK_EQ(vdc_iso_resume(&s, &st, 1000), VERR_NOT_FOUND);
    CHECK_EQ(st.children, 3);
    CHECK_EQ(st.deaths, 2);
    CHECK_EQ(st.died_at[0], 4);
    CHECK_EQ(st.died_at[1], 7);
    CHECK(strcmp(st.what[0], "died of signal 11") == 0);
    CHECK(strcmp(st.what[1], "made no progress for 1000 ms (hang)") == 0);
    for (unsigned u = 0; u < UNITS; u++)
        CHECK_EQ(st.ran[u], u == 3 || u == 6 ? 0 : 1);

    /* A report at exit after the last unit: said so, and no further child. */
    memset(&st, 0, sizeof st);
    st.leak_at_exit = true;
    CHECK_EQ(vdc_iso_resume(&s, &st, 1000), VERR_NOT_FOUND);
    CHECK_EQ(st.children, 3);
    CHECK_EQ(st.deaths, 3);
    CHECK(st.died_finished[2]);
    CHECK(strstr(st.what[2], "after the last unit") != NULL || strstr(st.what[2], "signal 6") != NULL);
}

/* ---- children by hand ------------------------------------------------------ */

static int sleeper(void *p)
{
    (void)p;
    sleep_ms(100);
    return 3;
}

static void test_start_reap_stop(void)
{
    vdc_iso_child c;
    int status = 0;
    REQUIRE(vdc_iso_start(&c, sleeper, NULL, VDC_ISO_QUIET | VDC_ISO_PDEATHSIG) == VINF_SUCCESS);
    CHECK(c.pid > 0);
    CHECK_EQ(getpgid(c.pid), c.pid);
    CHECK_EQ(vdc_iso_reap(&c, false, &status, NULL), 0);
    CHECK_EQ(vdc_iso_reap(&c, true, &status, NULL), 1);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 3);
    CHECK_EQ(c.pid, 0);
    CHECK_EQ(vdc_iso_reap(&c, true, &status, NULL), -1);

    shared_pids *s = vdc_iso_shared_new(sizeof *s);
    REQUIRE(s != NULL);
    REQUIRE(vdc_iso_start(&c, hang_with_grandchild, s, 0) == VINF_SUCCESS);
    while (s->grandchild == 0)
        sleep_ms(5);
    vdc_iso_stop(&c, &status);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    CHECK(gone(s->grandchild));
    vdc_iso_shared_free(s, sizeof *s);

    /* A child someone else reaped is lost, not waited for forever. */
    REQUIRE(vdc_iso_start(&c, sleeper, NULL, 0) == VINF_SUCCESS);
    pid_t pid = c.pid;
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    CHECK_EQ(vdc_iso_reap(&c, true, &status, NULL), -1);
}

static void test_beat_watch(void)
{
    vdc_iso_beat w = { 0 };
    CHECK(!vdc_iso_stalled(&w, 5, 1000, 100));
    CHECK(!vdc_iso_stalled(&w, 5, 1099, 100));
    CHECK(vdc_iso_stalled(&w, 5, 1100, 100));
    CHECK(!vdc_iso_stalled(&w, 6, 1150, 100));
    CHECK(!vdc_iso_stalled(&w, 6, 1249, 100));
    CHECK(vdc_iso_stalled(&w, 6, 1250, 100));
}

int main(int argc, char **argv)
{
    static const check_case cases[] = {
        CHECK_CASE(test_hang_kills_group),     CHECK_CASE(test_leftover_grandchild_killed),
        CHECK_CASE(test_crash_reports_signal), CHECK_CASE(test_result_through_mapping),
        CHECK_CASE(test_heartbeat),            CHECK_CASE(test_resume_after_death),
        CHECK_CASE(test_start_reap_stop),      CHECK_CASE(test_beat_watch),
    };
    return check_run(cases, sizeof cases / sizeof cases[0], argc, argv);
}
