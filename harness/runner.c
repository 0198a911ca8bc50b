/*
 * harness/runner.c - one forked child per trace (and per batch of tasks),
 * with a time limit, a memory limit, output capture and sanitizer-report
 * detection.  Contract: runner.h (the rules that keep batched tasks'
 * verdicts those of one child each are stated there; finish_tasks applies
 * them).  Statuses returned: VINF_SUCCESS, VERR_INVALID_PARAMETER,
 * VERR_NO_MEMORY, VERR_INVALID_STATE.  Problems with a single trace or
 * task (no scratch directory, fork failure) become that test point's ERROR
 * verdict, never a runner failure.  Serves spec/contract.md HOST-2.
 *
 * Children are started, reaped and killed through harness/core/isolate.h
 * (each in its own process group).  The parent blocks SIGCHLD and waits
 * with sigtimedwait, so it sleeps until a child ends or the nearest
 * deadline passes; it reaps only its own children and kills a late child's
 * whole process group (and, once a child has ended, whatever it left in
 * its group).  vdc_run_traces is the loop: fill (give idle slots a trace or
 * a range of tasks), wait_any, watch (reap, judge, or kill the late), and
 * stop_all when a signal or fail_fast ends the run early.
 */
#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/isolate.h"
#include "host/status.h"
#include "scratch.h"
#include "trace/replay.h"
#include "trace/trace.h"

#if defined(__SANITIZE_ADDRESS__) || defined(VDCC_MSAN)
# define VDC_SANITIZED 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || __has_feature(thread_sanitizer)
#  define VDC_SANITIZED 1
# endif
#endif

#define OUT_HEAD_MAX (1u << 20) /* bytes of child output scanned from the start */
#define OUT_TAIL_MAX (256u << 10) /* ... and from the end, when it is longer */
#define SAN_LINES_MAX 30u

bool vdc_run_sanitized(void)
{
#ifdef VDC_SANITIZED
    return true;
#else
    return false;
#endif
}

const char *vdc_verdict_name(vdc_verdict v)
{
    switch (v) {
    case VDC_V_PASS: return "PASS";
    case VDC_V_FAIL: return "FAIL";
    case VDC_V_SKIP: return "SKIP";
    case VDC_V_ERROR: return "ERROR";
    case VDC_V_CRASH: return "CRASH";
    case VDC_V_TIMEOUT: return "TIMEOUT";
    }
    return "?";
}

/* Signals that stop a run: the parent kills and cleans up its children. */
static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
#define NSTOP (sizeof stop_signals / sizeof stop_signals[0])
static volatile sig_atomic_t g_stop;

static void on_stop(int sig)
{
    g_stop = sig;
}

int vdc_run_stop_signal(void)
{
    return (int)g_stop;
}

/* The parent's signal state before the run, restored in children and at the end. */
typedef struct sig_saved {
    sigset_t         mask;
    struct sigaction act[NSTOP];
} sig_saved;

/* What a trace's child leaves for the parent, in shared memory
 * (vdc_iso_shared_new). */
typedef struct shared {
    volatile uint32_t progress;
    volatile uint32_t done;      /* the replay finished */
    volatile uint32_t stage;     /* 1: the after hook has started */
    volatile uint32_t out_done;  /* ... and returned */
    int               rc;
    vdc_replay_result r;
    vdc_run_out       out;
} shared;

/* One task of a task child: where its output lies in the output file
 * ([start_off, end_off)), when it ran, and what it reported. */
typedef struct tslot {
    volatile uint64_t start_off, end_off;
    volatile uint64_t start_ms, end_ms;
    vdc_run_out       out;
} tslot;

/* What a task child leaves for the parent: it runs tasks child_k0.. in
 * order; slot i is task child_k0 + i. */
typedef struct tshared {
    volatile uint32_t started;   /* tasks begun */
    volatile uint32_t finished;  /* tasks whose function returned */
    volatile uint32_t retry;     /* it stopped after a failure that was not its first task */
    volatile uint64_t mark_ms;   /* when a task last began or returned (the deadline runs from it) */
    tslot             slot[];
} tshared;

/* Why a child was killed for time. */
enum { LATE_NONE = 0, LATE_DEADLINE, LATE_STALL, LATE_TOTAL };

/*
 * A job slot: one running child at a time.  A trace job runs one trace.  A
 * task job owns a range of tasks [k_next, k_end) and works through it in
 * children of up to child_n tasks each (one each below solo_until), until
 * every task of the range has its verdict.
 */
typedef struct job {
    bool            active;      /* a child runs (or a trace's result is pending) */
    bool            is_task;
    vdc_iso_child   child;       /* harness/core/isolate.h: its own process group */
    unsigned        idx;         /* trace jobs: the trace's index */
    vdc_trace      *trace;
    shared         *shm;
    int             late;        /* LATE_*: killed for time */
    uint64_t        start_ms, deadline_ms;
    uint64_t        after_ms;    /* when the parent first saw the after hook running (0: not yet) */
    vdc_iso_beat    beat;        /* the after hook's heartbeat watch */
    char            dir[PATH_MAX];
    char            out[PATH_MAX + 16];
    vdc_run_result  res;
    /* task jobs */
    bool            has_range;
    unsigned        k_next, k_end, solo_until;
    unsigned        child_k0, child_n; /* the running child's tasks */
    tshared        *tshm;
    size_t          tshm_cb;
    unsigned        retry_k;     /* UINT_MAX, or the task whose failure in company retry_note tells */
    char            retry_note[200];
} job;

static uint64_t now_ms(void)
{
    return vdc_iso_now_ms();
}

static const char *rcname(int rc)
{
    const char *n = vdc_status_name(rc);
    return n != NULL ? n : "unknown status";
}

static void set_call(job *j, unsigned call)
{
    j->res.call = call;
    if (call > 0 && j->trace != NULL) {
        j->res.line = vdc_trace_record_line(j->trace, call - 1);
        snprintf(j->res.record, sizeof j->res.record, "%s", vdc_trace_record_text(j->trace, call - 1));
    }
}

/* ---- child output ------------------------------------------------------- */

/* Reads the head (and, when long, the tail) of bytes [from, to) of the
 * output file fd (to clamped to its size), as a string. */
static char *read_span(int fd, uint64_t from, uint64_t to)
{
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0)
        return NULL;
    uint64_t eof = st.st_size > 0 ? (uint64_t)st.st_size : 0;
    if (to > eof)
        to = eof;
    if (from > to)
        from = to;
    size_t size = (size_t)(to - from);
    size_t head = size < OUT_HEAD_MAX ? size : OUT_HEAD_MAX;
    size_t tail = size > OUT_HEAD_MAX ? (size - OUT_HEAD_MAX < OUT_TAIL_MAX ? size - OUT_HEAD_MAX : OUT_TAIL_MAX) : 0;
    static const char gap[] = "\n[... output cut ...]\n";
    char *buf = malloc(head + tail + sizeof gap + 1);
    if (buf == NULL)
        return NULL;
    ssize_t r = pread(fd, buf, head, (off_t)from);
    size_t len = r > 0 ? (size_t)r : 0;
    if (tail > 0) {
        memcpy(buf + len, gap, sizeof gap - 1);
        len += sizeof gap - 1;
        r = pread(fd, buf + len, tail, (off_t)(to - tail));
        len += r > 0 ? (size_t)r : 0;
    }
    buf[len] = '\0';
    /* NUL bytes from the backend would cut the scan short; show them as '?'. */
    for (size_t i = 0; i < len; i++)
        if (buf[i] == '\0')
            buf[i] = '?';
    return buf;
}

/* The whole output file (head and tail), or NULL. */
static char *read_output(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char *buf = read_span(fd, 0, UINT64_MAX);
    close(fd);
    return buf;
}

static const char *const san_markers[] = {
    "ERROR: AddressSanitizer", "ERROR: LeakSanitizer",  "ERROR: MemorySanitizer",
    "WARNING: MemorySanitizer", "ERROR: UndefinedBehaviorSanitizer", "runtime error:",
    "ERROR: ThreadSanitizer",  "WARNING: ThreadSanitizer",
};

/* The start of the line holding the first sanitizer marker, or NULL. */
static const char *find_sanitizer(const char *out)
{
    const char *first = NULL;
    for (size_t i = 0; i < sizeof san_markers / sizeof san_markers[0]; i++) {
        const char *p = strstr(out, san_markers[i]);
        if (p != NULL && (first == NULL || p < first))
            first = p;
    }
    if (first == NULL)
        return NULL;
    while (first > out && first[-1] != '\n')
        first--;
    return first;
}

/* A sanitizer's report of a fatal signal ("...Sanitizer: SEGV on unknown
 * address"): the signal, else 0. */
static int sanitizer_signal(const char *line)
{
    static const struct { const char *what; int sig; } kinds[] = {
        { "Sanitizer: SEGV on", SIGSEGV }, { "Sanitizer: BUS on", SIGBUS },
        { "Sanitizer: FPE on", SIGFPE },   { "Sanitizer: ILL on", SIGILL },
        { "Sanitizer: stack-overflow", SIGSEGV }, { "Sanitizer: TRAP on", SIGTRAP },
        { "Sanitizer: ABRT on", SIGABRT },
    };
    const char *eol = strchr(line, '\n');
    size_t len = eol != NULL ? (size_t)(eol - line) : strlen(line);
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        const char *p = strstr(line, kinds[i].what);
        if (p != NULL && (size_t)(p - line) < len)
            return kinds[i].sig;
    }
    return 0;
}

static void copy_lines(const char *from, char *dst, size_t cb, unsigned max_lines)
{
    size_t n = 0;
    unsigned lines = 0;
    for (const char *p = from; *p != '\0' && n + 1 < cb && lines < max_lines; p++) {
        dst[n++] = *p;
        if (*p == '\n')
            lines++;
    }
    while (n > 0 && dst[n - 1] == '\n')
        n--;
    dst[n] = '\0';
}

static void signal_name(int sig, char *buf, size_t cb)
{
    const char *abbrev = sigabbrev_np(sig);
    if (abbrev != NULL)
        snprintf(buf, cb, "SIG%s", abbrev);
    else
        snprintf(buf, cb, "signal %d", sig);
}

/* ---- classification ------------------------------------------------------ */

static uint64_t after_max(const vdc_run_opts *o)
{
    return o->after_max_ms != 0 ? o->after_max_ms : o->timeout_ms * 30;
}

/* The verdict of an after hook or a task, once its process has ended:
 * how it ended first (late: LATE_*, status: waitpid's), then what it
 * reported in out (out_done: the hook or task had returned).  san is the
 * sanitizer report that belongs to it, or NULL. */
static void judge_out(vdc_run_result *res, const vdc_run_out *out, bool out_done, int late, int status, bool is_task,
                      const char *san, const vdc_run_opts *o)
{
    char sig[32], what[sizeof out->phase];
    snprintf(what, sizeof what, "%s", out->phase[0] != '\0' ? out->phase : is_task ? "task" : "work after the replay");
    snprintf(res->phase, sizeof res->phase, "%s", what);
    snprintf(res->rerun, sizeof res->rerun, "%s", out->rerun);
    memcpy(res->count, out->count, sizeof res->count);
    const char *passed = is_task ? "" : " (the replay had passed)";
    if (late != LATE_NONE) {
        res->verdict = VDC_V_TIMEOUT;
        snprintf(res->clause, sizeof res->clause, "HOST-2");
        uint64_t ms = late == LATE_TOTAL ? after_max(o) : o->timeout_ms;
        snprintf(res->message, sizeof res->message, "%s%s %llu.%03llu s%s; the process group was killed", what,
                 late == LATE_STALL ? ": no progress for" : late == LATE_TOTAL ? ": still running after"
                                                                               : ": no verdict within",
                 (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000), passed);
    } else if (WIFSIGNALED(status) || (san != NULL && sanitizer_signal(san) != 0)) {
        res->verdict = VDC_V_CRASH;
        snprintf(res->clause, sizeof res->clause, "HOST-2");
        res->signal = WIFSIGNALED(status) ? WTERMSIG(status) : sanitizer_signal(san);
        signal_name(res->signal, sig, sizeof sig);
        snprintf(res->message, sizeof res->message, "%s during the %s%s%s", sig, what, passed,
                 WIFSIGNALED(status) ? "" : " (reported by the sanitizer)");
    } else if (san != NULL) {
        char first[256];
        copy_lines(san, first, sizeof first, 1);
        res->verdict = VDC_V_FAIL;
        snprintf(res->clause, sizeof res->clause, "HOST-2");
        if (out_done)
            snprintf(res->message, sizeof res->message, "sanitizer report at exit, after the %s finished: %s", what,
                     first);
        else
            snprintf(res->message, sizeof res->message, "sanitizer report during the %s: %s", what, first);
    } else if (!out_done) {
        res->verdict = VDC_V_FAIL;
        snprintf(res->clause, sizeof res->clause, "HOST-2");
        snprintf(res->message, sizeof res->message, "the process exited with status %d during the %s%s",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1, what, passed);
    } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        res->verdict = VDC_V_FAIL;
        snprintf(res->message, sizeof res->message, "the %s finished but the process exited with status %d", what,
                 WEXITSTATUS(status));
    } else {
        res->verdict = out->verdict;
        snprintf(res->clause, sizeof res->clause, "%s", out->clause);
        if (out->verdict != VDC_V_PASS || out->message[0] != '\0') {
            /* A hook's remarks on a pass (quality warnings) follow the
             * replay's own. */
            size_t have = out->verdict == VDC_V_PASS && !is_task ? strlen(res->message) : 0;
            snprintf(res->message + have, sizeof res->message - have, "%s%s", have != 0 ? "\n" : "", out->message);
        }
        if (out->verdict == VDC_V_PASS)
            res->warnings += out->warnings;
        snprintf(res->note, sizeof res->note, "%s", out->note);
        if (res->verdict == VDC_V_PASS)
            res->phase[0] = '\0';
    }
}

static void classify(job *j, int status, const vdc_run_opts *o)
{
    vdc_run_result *res = &j->res;
    shared *shm = j->shm;
    unsigned reached = shm->progress;
    char *out = read_output(j->out);
    const char *san = out != NULL ? find_sanitizer(out) : NULL;
    char sig[32];

    res->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (san != NULL)
        copy_lines(san, res->sanitizer, sizeof res->sanitizer, SAN_LINES_MAX);

    if (shm->stage != 0) {
        /* The replay passed before the hook started: keep its figures
         * and its message (quality warnings), unless the hook fails. */
        res->warnings = shm->r.warnings;
        res->misuse = shm->r.misuse;
        snprintf(res->message, sizeof res->message, "%s", shm->r.message);
        judge_out(res, &shm->out, shm->out_done, j->late, status, false, san, o);
    } else if (j->late != LATE_NONE) {
        res->verdict = VDC_V_TIMEOUT;
        set_call(j, reached);
        snprintf(res->message, sizeof res->message,
                 "no verdict within %llu.%03llu s; the process group was killed during call %u of %u",
                 (unsigned long long)(o->timeout_ms / 1000), (unsigned long long)(o->timeout_ms % 1000), reached,
                 res->calls);
    } else if (WIFSIGNALED(status) || (san != NULL && sanitizer_signal(san) != 0)) {
        res->verdict = VDC_V_CRASH;
        res->signal = WIFSIGNALED(status) ? WTERMSIG(status) : sanitizer_signal(san);
        signal_name(res->signal, sig, sizeof sig);
        set_call(j, reached);
        snprintf(res->message, sizeof res->message, "%s during call %u of %u%s", sig, reached, res->calls,
                 WIFSIGNALED(status) ? "" : " (reported by the sanitizer)");
    } else if (san != NULL) {
        res->verdict = VDC_V_FAIL;
        char first[256];
        copy_lines(san, first, sizeof first, 1);
        if (shm->done) {
            set_call(j, shm->r.fail_call);
            snprintf(res->message, sizeof res->message,
                     "sanitizer report after the replay finished (%u calls, replay verdict %s): %s",
                     shm->r.calls_run, vdc_outcome_name(shm->r.outcome), first);
        } else {
            set_call(j, reached);
            snprintf(res->message, sizeof res->message, "sanitizer report during call %u of %u: %s", reached,
                     res->calls, first);
        }
    } else if (!shm->done) {
        res->verdict = VDC_V_FAIL;
        set_call(j, reached);
        snprintf(res->message, sizeof res->message,
                 "the process exited with status %d during call %u of %u, before the replay finished",
                 res->exit_status, reached, res->calls);
    } else if (RT_FAILURE(shm->rc)) {
        res->verdict = VDC_V_ERROR;
        snprintf(res->message, sizeof res->message, "the replay could not run (%s): %.1900s", rcname(shm->rc),
                 shm->r.message);
    } else {
        res->warnings = shm->r.warnings;
        res->misuse = shm->r.misuse;
        set_call(j, shm->r.fail_call);
        if (shm->r.fail_line != 0)
            res->line = shm->r.fail_line;
        snprintf(res->message, sizeof res->message, "%s", shm->r.message);
        switch (shm->r.outcome) {
        case VDC_PASS: res->verdict = VDC_V_PASS; break;
        case VDC_FAIL: res->verdict = VDC_V_FAIL; break;
        case VDC_SKIP: res->verdict = VDC_V_SKIP; break;
        default: res->verdict = VDC_V_ERROR; break;
        }
        if (res->verdict == VDC_V_PASS && res->exit_status != 0) {
            res->verdict = VDC_V_FAIL;
            snprintf(res->message, sizeof res->message,
                     "the replay passed but the process exited with status %d", res->exit_status);
        }
    }
    free(out);
}

/* ---- starting and finishing children ---------------------------------- */

/* The child's set-up: own process group, the caller's signal state, output
 * to the file, the memory limit. */
static void child_setup(const vdc_run_opts *o, int fd, const sig_saved *saved)
{
    for (size_t i = 0; i < NSTOP; i++)
        sigaction(stop_signals[i], &saved->act[i], NULL);
    sigprocmask(SIG_SETMASK, &saved->mask, NULL);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
        dup2(devnull, 0);
        close(devnull);
    }
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
#ifndef VDC_SANITIZED
    if (o->mem_limit_mb > 0) {
        struct rlimit rl = { .rlim_cur = (rlim_t)o->mem_limit_mb << 20, .rlim_max = (rlim_t)o->mem_limit_mb << 20 };
        setrlimit(RLIMIT_AS, &rl);
    }
#else
    (void)o;
#endif
}

/* Starts the after hook: its out is PASS until it says otherwise. */
static void out_begin(shared *shm)
{
    memset(&shm->out, 0, sizeof shm->out);
    shm->out.verdict = VDC_V_PASS;
    shm->stage = 1;
}

/* Where the output file's offset stands (stdout and stderr share it). */
static uint64_t out_offset(void)
{
    off_t off = lseek(STDOUT_FILENO, 0, SEEK_CUR);
    return off > 0 ? (uint64_t)off : 0;
}

/* A task child: tasks child_k0.. in order, each bracketed by what the
 * parent needs to judge it alone (tshared).  It stops after a failure that
 * is not its first task, since that verdict only counts from a fresh
 * process (runner.h). */
static void task_child(job *j, const vdc_run_opts *o)
{
    tshared *t = j->tshm;
    for (unsigned i = 0; i < j->child_n; i++) {
        tslot *sl = &t->slot[i];
        fflush(NULL);
        sl->start_off = out_offset();
        sl->start_ms = now_ms();
        memset(&sl->out, 0, sizeof sl->out);
        sl->out.verdict = VDC_V_PASS;
        t->mark_ms = sl->start_ms;
        t->started = i + 1;
        o->task(o->task_user, j->child_k0 + i, o->backend, &sl->out);
        fflush(NULL);
        sl->end_off = out_offset();
        sl->end_ms = now_ms();
        t->mark_ms = sl->end_ms;
        t->finished = i + 1;
        if (i > 0 && sl->out.verdict != VDC_V_PASS && sl->out.verdict != VDC_V_SKIP) {
            t->retry = 1;
            break;
        }
    }
}

/* What a child needs from the parent, past the fork. */
typedef struct child_arg {
    job                *j;
    const vdc_run_opts *o;
    int                 fd;
    const sig_saved    *saved;
} child_arg;

/* The child (harness/core/isolate.h starts it in its own process group,
 * killed with vdcc, leaving with exit(): LeakSanitizer checks at exit). */
static int child_main(void *p)
{
    const child_arg *a = p;
    job *j = a->j;
    const vdc_run_opts *o = a->o;
    child_setup(o, a->fd, a->saved);
    if (j->is_task) {
        task_child(j, o);
        return 0;
    }
    char scratch[sizeof j->dir + 16];
    snprintf(scratch, sizeof scratch, "%s/scratch", j->dir);
    vdc_replay_opts ro = {
        .backend = o->backend,
        .scratch_dir = scratch,
        .report = stdout,
        .progress = &j->shm->progress,
    };
    j->shm->rc = vdc_replay(j->trace, &ro, &j->shm->r);
    fflush(stdout);
    j->shm->done = 1;
    if (o->after != NULL && RT_SUCCESS(j->shm->rc) && j->shm->r.outcome == VDC_PASS) {
        out_begin(j->shm);
        o->after(o->after_user, j->trace, o->backend, &j->shm->out);
        fflush(NULL);
        j->shm->out_done = 1;
    }
    return 0;
}

/* Makes the job's private directory, output file and shared mapping, and
 * forks.  Returns true when a child runs; false when it could not start
 * (j->res is then an ERROR saying why). */
static bool spawn(job *j, const vdc_run_opts *o, const sig_saved *saved)
{
    int rc = vdc_scratch_make(o->tmp_parent, "vdcc-conform", j->dir, sizeof j->dir);
    if (RT_FAILURE(rc)) {
        j->res.verdict = VDC_V_ERROR;
        snprintf(j->res.message, sizeof j->res.message, "cannot make a scratch directory: %s (%s)",
                 strerror(errno), rcname(rc));
        j->dir[0] = '\0';
        return false;
    }
    char scratch[sizeof j->dir + 16];
    snprintf(scratch, sizeof scratch, "%s/scratch", j->dir);
    snprintf(j->out, sizeof j->out, "%s/output", j->dir);
    int fd = -1;
    if (mkdir(scratch, 0700) != 0 || (fd = open(j->out, O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
        j->res.verdict = VDC_V_ERROR;
        snprintf(j->res.message, sizeof j->res.message, "cannot prepare %.1000s: %s", j->dir, strerror(errno));
        return false;
    }
    size_t cb = j->is_task ? sizeof(tshared) + (size_t)j->child_n * sizeof(tslot) : sizeof(shared);
    void *m = vdc_iso_shared_new(cb); /* zeroed */
    if (m == NULL) {
        close(fd);
        j->res.verdict = VDC_V_ERROR;
        snprintf(j->res.message, sizeof j->res.message, "mmap: %s", strerror(errno));
        return false;
    }
    if (j->is_task) {
        j->tshm = m;
        j->tshm_cb = cb;
    } else {
        j->shm = m;
    }
    j->late = LATE_NONE;
    j->after_ms = 0;
    memset(&j->beat, 0, sizeof j->beat);
    child_arg arg = { j, o, fd, saved };
    rc = vdc_iso_start(&j->child, child_main, &arg, VDC_ISO_EXIT_HOOKS | VDC_ISO_PDEATHSIG);
    close(fd);
    j->start_ms = j->child.start_ms;
    j->deadline_ms = j->start_ms + o->timeout_ms;
    if (RT_FAILURE(rc)) {
        j->res.verdict = VDC_V_ERROR;
        snprintf(j->res.message, sizeof j->res.message, "fork: %s", strerror(errno));
        return false;
    }
    return true;
}

/* Prepares and forks trace j->idx.  Returns true when a child runs; false
 * when the result is already final (parse error, skip, system error). */
static bool start(job *j, const vdc_run_opts *o, const char *path, const sig_saved *saved)
{
    char err[1024];
    int rc = vdc_trace_load(path, &j->trace, err, sizeof err);
    if (RT_FAILURE(rc)) {
        j->res.verdict = VDC_V_ERROR;
        snprintf(j->res.message, sizeof j->res.message, "%s", err[0] ? err : rcname(rc));
        return false;
    }
    j->res.calls = vdc_trace_ncalls(j->trace);
    uint64_t missing = vdc_trace_required_caps(j->trace) & ~o->backend->uBackendCaps;
    if (missing != 0) {
        char names[256];
        vdc_caps_text(missing, "VD_CAP_", names, sizeof names);
        j->res.verdict = VDC_V_SKIP;
        snprintf(j->res.message, sizeof j->res.message, "backend does not declare %s", names);
        return false;
    }
    return spawn(j, o, saved);
}

/* Whether trace job j is in its after hook (timed by its heartbeat). */
static bool in_after(const job *j)
{
    return !j->is_task && j->shm != NULL && j->shm->stage != 0;
}

/* The fixed deadline of a replay, or of the task a task child is on (it
 * runs from the moment the task began, or the last one returned). */
static uint64_t deadline(const job *j, const vdc_run_opts *o)
{
    if (!j->is_task || j->tshm == NULL)
        return j->deadline_ms;
    uint64_t mark = j->tshm->mark_ms;
    return (mark > j->start_ms ? mark : j->start_ms) + o->timeout_ms;
}

/* Whether a running child is late (LATE_*): the fixed deadline for
 * replays and tasks; for after hooks, a heartbeat unchanged for
 * timeout_ms, or after_max_ms in all. */
static int lateness(job *j, const vdc_run_opts *o, uint64_t now)
{
    if (!in_after(j))
        return now >= deadline(j, o) ? LATE_DEADLINE : LATE_NONE;
    if (j->after_ms == 0)
        j->after_ms = now;
    if (vdc_iso_stalled(&j->beat, j->shm->out.heartbeat, now, o->timeout_ms))
        return LATE_STALL;
    if (now - j->after_ms >= after_max(o))
        return LATE_TOTAL;
    return LATE_NONE;
}

/* Frees what one child needed (a task job keeps its range). */
static void release(job *j)
{
    if (j->shm != NULL)
        vdc_iso_shared_free(j->shm, sizeof(shared));
    j->shm = NULL;
    if (j->tshm != NULL)
        vdc_iso_shared_free(j->tshm, j->tshm_cb);
    j->tshm = NULL;
    if (j->dir[0] != '\0')
        vdc_scratch_remove(j->dir);
    j->dir[0] = '\0';
    vdc_trace_free(j->trace);
    j->trace = NULL;
    j->active = false;
}

/* ---- task children: verdicts per task ------------------------------------ */

typedef struct deliver_ctx {
    vdc_run_done_fn done;
    void           *ctx;
    unsigned        n;         /* traces: task k is test point n + k */
    bool            fail_fast; /* stop once a result is neither PASS nor SKIP */
    bool            stopped;   /* ... and one was */
} deliver_ctx;

/* Hands test point i's final result to the caller. */
static void deliver_point(deliver_ctx *d, unsigned i, const vdc_run_result *res)
{
    if (d->fail_fast && res->verdict != VDC_V_PASS && res->verdict != VDC_V_SKIP)
        d->stopped = true;
    d->done(d->ctx, i, res);
}

/* Hands task k's final result to the caller, with the note of an earlier
 * failure in company when it passes alone. */
static void deliver(job *j, deliver_ctx *d, unsigned k, vdc_run_result *res)
{
    if (k == j->retry_k) {
        if (res->verdict == VDC_V_PASS || res->verdict == VDC_V_SKIP) {
            size_t have = strlen(res->note);
            snprintf(res->note + have, sizeof res->note - have, "%s%s", have != 0 ? "; " : "", j->retry_note);
        }
        j->retry_k = UINT_MAX;
    }
    deliver_point(d, d->n + k, res);
}

/* The first lines of the first sanitizer report in output bytes
 * [from, to) into dst; false when there is none. */
static bool span_sanitizer(int fd, uint64_t from, uint64_t to, char *dst, size_t cb)
{
    if (to <= from)
        return false;
    char *text = read_span(fd, from, to);
    const char *san = text != NULL ? find_sanitizer(text) : NULL;
    if (san != NULL)
        copy_lines(san, dst, cb, SAN_LINES_MAX);
    free(text);
    return san != NULL;
}

/* Task i of the child's verdict from its output section [from, to).
 * returned: its function had returned; blamed: the way the child ended
 * (j->late, status) is held against it (it was running then, or it was
 * the only task). */
static void judge_slot(job *j, unsigned i, bool returned, bool blamed, int status, int fd, uint64_t from, uint64_t to,
                       const vdc_run_opts *o, vdc_run_result *res, uint64_t now)
{
    const tslot *sl = &j->tshm->slot[i];
    memset(res, 0, sizeof *res);
    bool san = span_sanitizer(fd, from, to, res->sanitizer, sizeof res->sanitizer);
    res->exit_status = !blamed ? 0 : WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    judge_out(res, &sl->out, returned, blamed ? j->late : LATE_NONE, blamed ? status : 0, true,
              san ? res->sanitizer : NULL, o);
    uint64_t t0 = sl->start_ms != 0 ? sl->start_ms : j->start_ms;
    uint64_t t1 = returned && sl->end_ms >= t0 ? sl->end_ms : now;
    res->seconds = (double)(t1 >= t0 ? t1 - t0 : 0) / 1000.0;
}

/* Remembers task k's failure in company: it runs again first in a fresh
 * child, and a pass there carries this note. */
static void set_retry(job *j, unsigned k, const vdc_run_result *res)
{
    char first[120];
    copy_lines(res->message, first, sizeof first, 1);
    j->retry_k = k;
    snprintf(j->retry_note, sizeof j->retry_note, "passes alone; after other tasks in one process: %s: %s",
             vdc_verdict_name(res->verdict), first);
    j->k_next = k;
}

/*
 * A task child has ended (status, j->late): gives each task it ran its
 * verdict, or sets it to run again (runner.h), and moves j->k_next on.
 */
static void finish_tasks(job *j, int status, const vdc_run_opts *o, deliver_ctx *d)
{
    tshared *t = j->tshm;
    unsigned n = j->child_n, k0 = j->child_k0;
    unsigned started = t->started < n ? t->started : n;
    unsigned finished = t->finished < started ? t->finished : started;
    bool abnormal = j->late != LATE_NONE || !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    uint64_t now = now_ms();
    int fd = open(j->out, O_RDONLY | O_CLOEXEC);
    vdc_run_result res;

    /* Each task's section, made monotone against a backend that moved the
     * file offset. */
    uint64_t from[VDC_RUN_BATCH_MAX], to[VDC_RUN_BATCH_MAX], last = 0;
    for (unsigned i = 0; i < started; i++) {
        from[i] = t->slot[i].start_off > last ? t->slot[i].start_off : last;
        to[i] = i < finished ? (t->slot[i].end_off > from[i] ? t->slot[i].end_off : from[i]) : UINT64_MAX;
        last = to[i];
    }
    /* A report outside every section (between tasks, or at exit after the
     * last one returned) cannot be placed. */
    char stray[256];
    bool unplaced = false;
    for (unsigned i = 0; i <= finished && i <= started && !unplaced; i++) {
        uint64_t a = i == 0 ? 0 : to[i - 1];
        uint64_t b = i < started ? from[i] : UINT64_MAX;
        unplaced = span_sanitizer(fd, a, b, stray, sizeof stray);
    }

    unsigned cur = started > finished ? finished : UINT_MAX; /* the task it died in */
    if (cur == UINT_MAX && started == 0)
        cur = 0; /* it never began one: the first is to blame */
    if (cur == UINT_MAX && (abnormal || unplaced) && finished >= 2) {
        /* Ran several, then something went wrong that no position names
         * (a leak found at exit): each of them again, alone. */
        j->solo_until = k0 + finished;
        j->k_next = k0;
        goto out_close;
    }
    if (cur == UINT_MAX && (abnormal || unplaced)) {
        /* One task alone, then a bad end: as if it had its own child. */
        judge_slot(j, 0, true, true, status, fd, 0, UINT64_MAX, o, &res, now);
        deliver(j, d, k0, &res);
        j->k_next = k0 + 1;
        goto out_close;
    }
    if (cur != UINT_MAX && cur > 0 && unplaced) {
        /* Died in a task after an unplaceable report: the earlier ones
         * again, alone; the one it died in after them. */
        j->solo_until = k0 + cur;
        j->k_next = k0;
        goto out_close;
    }
    unsigned upto = cur != UINT_MAX ? cur : finished;
    for (unsigned i = 0; i < upto; i++) {
        judge_slot(j, i, true, false, status, fd, from[i], to[i], o, &res, now);
        bool failed = res.verdict != VDC_V_PASS && res.verdict != VDC_V_SKIP;
        if (failed && i > 0) {
            set_retry(j, k0 + i, &res);
            goto out_close;
        }
        deliver(j, d, k0 + i, &res);
    }
    j->k_next = k0 + upto;
    if (cur != UINT_MAX) {
        judge_slot(j, cur, false, true, status, fd, cur == 0 ? 0 : from[cur], UINT64_MAX, o, &res, now);
        if (cur > 0) {
            set_retry(j, k0 + cur, &res);
        } else {
            deliver(j, d, k0, &res);
            j->k_next = k0 + 1;
        }
    }
out_close:
    if (fd >= 0)
        close(fd);
}

/* Starts the next child of task job j, covering as many of its remaining
 * tasks as the batch (or solo mode) allows.  A child that cannot start
 * costs its first task an ERROR.  Returns true when a child runs, false
 * when the range is done. */
static bool start_tasks(job *j, const vdc_run_opts *o, unsigned batch, deliver_ctx *d, const sig_saved *saved)
{
    while (j->k_next < j->k_end && !d->stopped) {
        memset(&j->res, 0, sizeof j->res);
        j->res.exit_status = -1;
        j->child_k0 = j->k_next;
        j->child_n = j->k_next < j->solo_until ? 1 : j->k_end - j->k_next < batch ? j->k_end - j->k_next : batch;
        j->dir[0] = '\0';
        j->active = true;
        if (spawn(j, o, saved))
            return true;
        vdc_run_result res = j->res;
        release(j);
        deliver(j, d, j->child_k0, &res);
        j->k_next = j->child_k0 + 1;
    }
    j->has_range = false;
    return false;
}

/* ---- the run ------------------------------------------------------------- */

/* One vdc_run_traces: its job slots and where the work stands. */
typedef struct run {
    const vdc_run_opts *o;
    const char *const  *paths;
    unsigned            n;       /* traces */
    job                *jobs;
    unsigned            njobs, batch;
    unsigned            next;    /* the next trace to start */
    unsigned            tnext;   /* the first task not yet in a range */
    unsigned            active;  /* children running */
    deliver_ctx         d;
    sigset_t            chld;
    sig_saved           saved;
} run;

/* Blocks SIGCHLD (the run sleeps in sigtimedwait) and catches the stop
 * signals, keeping what the caller had for its children and for the end. */
static void signals_take(run *r)
{
    sigemptyset(&r->chld);
    sigaddset(&r->chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &r->chld, &r->saved.mask);
    g_stop = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop; /* no SA_RESTART: sigtimedwait returns at once */
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NSTOP; i++)
        sigaction(stop_signals[i], &sa, &r->saved.act[i]);
}

static void signals_restore(const run *r)
{
    for (size_t i = 0; i < NSTOP; i++)
        sigaction(stop_signals[i], &r->saved.act[i], NULL);
    sigprocmask(SIG_SETMASK, &r->saved.mask, NULL);
}

/* Starts the next trace in idle slot j (its result is delivered at once
 * when it cannot start). */
static void start_trace(run *r, job *j)
{
    memset(&j->res, 0, sizeof j->res);
    j->res.exit_status = -1;
    j->idx = r->next++;
    j->is_task = false;
    j->dir[0] = '\0';
    j->active = true;
    if (start(j, r->o, r->paths[j->idx], &r->saved)) {
        r->active++;
    } else {
        deliver_point(&r->d, j->idx, &j->res);
        release(j);
    }
}

/* Gives idle slot j the next range of tasks. */
static void take_range(run *r, job *j)
{
    j->has_range = true;
    j->is_task = true;
    j->k_next = r->tnext;
    j->k_end = r->o->ntasks - r->tnext < r->batch ? r->o->ntasks : r->tnext + r->batch;
    j->solo_until = 0;
    j->retry_k = UINT_MAX;
    r->tnext = j->k_end;
}

/* Gives every idle slot work: its own remaining tasks, a trace, or a new
 * range of tasks.  Returns false when nothing runs and nothing is left. */
static bool fill(run *r)
{
    bool pending = false;
    for (unsigned s = 0; s < r->njobs && !g_stop; s++) {
        job *j = &r->jobs[s];
        while (!j->active && !g_stop && !r->d.stopped) {
            if (!j->has_range && r->next < r->n) {
                start_trace(r, j);
                continue;
            }
            if (!j->has_range && r->tnext < r->o->ntasks)
                take_range(r, j);
            if (!j->has_range)
                break;
            if (start_tasks(j, r->o, r->batch, &r->d, &r->saved))
                r->active++;
        }
        pending |= j->active || j->has_range;
    }
    return pending || r->next < r->n || r->tnext < r->o->ntasks;
}

/* Sleeps until a child ends, the nearest fixed deadline, or 100 ms (after
 * hooks are watched by polling their heartbeat, task children's deadlines
 * move with their tasks). */
static void wait_any(run *r)
{
    uint64_t now = now_ms(), wait_ms = 100;
    for (unsigned s = 0; s < r->njobs; s++) {
        const job *j = &r->jobs[s];
        if (!j->active || j->late != LATE_NONE || in_after(j))
            continue;
        uint64_t dl = deadline(j, r->o);
        wait_ms = dl <= now ? 0 : (dl - now < wait_ms ? dl - now : wait_ms);
    }
    struct timespec ts = { .tv_sec = (time_t)(wait_ms / 1000), .tv_nsec = (long)(wait_ms % 1000) * 1000000L };
    if (wait_ms > 0)
        sigtimedwait(&r->chld, NULL, &ts);
}

/* Running job j: judges its child when it has ended (the rest of its
 * process group is killed by the reaping), reports it lost, or kills its
 * group when it is late (reaped on a later pass). */
static void watch(run *r, job *j, uint64_t now)
{
    int status;
    pid_t pid = j->child.pid;
    int w = vdc_iso_reap(&j->child, false, &status, NULL);
    if (w == 1) {
        if (j->is_task) {
            finish_tasks(j, status, r->o, &r->d);
        } else {
            j->res.seconds = (double)(now_ms() - j->start_ms) / 1000.0;
            classify(j, status, r->o);
            deliver_point(&r->d, j->idx, &j->res);
        }
        release(j);
        r->active--;
    } else if (w < 0) {
        /* Lost (someone else reaped it): report rather than wait forever. */
        j->res.verdict = VDC_V_ERROR;
        snprintf(j->res.message, sizeof j->res.message, "lost track of child %d", (int)pid);
        if (j->is_task) {
            /* Every task of that child: its verdict is lost with it. */
            for (unsigned i = 0; i < j->child_n; i++) {
                vdc_run_result res = j->res;
                deliver(j, &r->d, j->child_k0 + i, &res);
            }
            j->k_next = j->child_k0 + j->child_n;
        } else {
            deliver_point(&r->d, j->idx, &j->res);
        }
        release(j);
        r->active--;
    } else if (j->late == LATE_NONE) {
        j->late = lateness(j, r->o, now);
        if (j->late != LATE_NONE)
            vdc_iso_kill(&j->child);
    }
}

/* Stopped (a signal, or fail_fast): no child outlives the run, no
 * directory stays behind. */
static void stop_all(run *r)
{
    for (unsigned s = 0; s < r->njobs; s++) {
        if (!r->jobs[s].active)
            continue;
        vdc_iso_stop(&r->jobs[s].child, NULL);
        release(&r->jobs[s]);
    }
}

int vdc_run_traces(const vdc_run_opts *o, const char *const *paths, unsigned n, vdc_run_done_fn done, void *ctx)
{
    if (o == NULL || o->backend == NULL || o->timeout_ms == 0 || o->jobs == 0 || done == NULL
        || (n > 0 && paths == NULL) || (o->ntasks > 0 && o->task == NULL) || o->ntasks > UINT_MAX - n
        || o->task_batch > VDC_RUN_BATCH_MAX)
        return VERR_INVALID_PARAMETER;
    run r = { .o = o, .paths = paths, .n = n, .d = { done, ctx, n, o->fail_fast, false } };
    unsigned total = n + o->ntasks;
    r.njobs = o->jobs < total ? o->jobs : (total > 0 ? total : 1);
    r.jobs = calloc(r.njobs, sizeof *r.jobs);
    if (r.jobs == NULL)
        return VERR_NO_MEMORY;
    /* Batches small enough that every job gets a share. */
    r.batch = o->task_batch > 1 ? o->task_batch : 1;
    unsigned share = o->ntasks / r.njobs + (o->ntasks % r.njobs != 0);
    if (share >= 1 && r.batch > share)
        r.batch = share;

    signals_take(&r);
    while (!g_stop && !r.d.stopped) {
        if (!fill(&r))
            break;
        if (r.active == 0)
            continue;
        wait_any(&r);
        uint64_t now = now_ms();
        for (unsigned s = 0; s < r.njobs; s++)
            if (r.jobs[s].active)
                watch(&r, &r.jobs[s], now);
    }
    int rc = g_stop ? VERR_INVALID_STATE : VINF_SUCCESS;
    stop_all(&r);
    signals_restore(&r);
    free(r.jobs);
    return rc;
}
