/*
 * harness/bench/work_replay.c - the speed of vdcc's own replay engine
 * (harness/trace/replay.h) on calls that move no data, parsing included,
 * and the baseline child.  Contract: bench_int.h; spec/performance.md
 * section 1.
 *
 * The trace is generated as text while it is read (never held whole): the
 * --config values as config records, a create on the in-memory fs,
 * cfg->replay_calls getters cycling through get-version, get-size and
 * get-open-flags (no expectations, so the replay checks only the protocol),
 * and a close.  Each repetition streams it through the parser into
 * vdc_replay (trace.h's vdc_trace_open_reader) and times the whole, so the
 * figure includes parsing and the peak RSS is the streaming replay's.
 * Returns VINF_SUCCESS, VERR_NO_MEMORY, any status of
 * vdc_trace_open_reader or vdc_replay, or VERR_INTERNAL_ERROR when the
 * replay does not pass (res->error has its message).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../trace/replay.h"
#include "../trace/trace.h"
#include "bench_int.h"

/* The generator: where the text stands (line k of the trace, and the bytes
 * of that line not yet handed out). */
typedef struct gen {
    const vdc_bench_cfg *cfg;
    uint64_t line;      /* next line to make */
    char     cur[1200]; /* the line being handed out */
    size_t   len, pos;
} gen;

/* Line k of the trace (with its newline) into g->cur; false after the last. */
static bool make_line(gen *g)
{
    static const char *const getters[] = { "get-version c0\n", "get-size c0\n", "get-open-flags c0\n" };
    const vdc_bench_cfg *cfg = g->cfg;
    uint64_t k = g->line++, nc = cfg->nconfig, calls = cfg->replay_calls;
    int n;
    if (k == 0) {
        n = snprintf(g->cur, sizeof g->cur, "vdcc-trace 1\nname bench-replay\n");
    } else if (k <= nc) {
        const char *kv = cfg->config[k - 1], *eq = strchr(kv, '=');
        n = eq == NULL ? 0 : snprintf(g->cur, sizeof g->cur, "config %.*s value=\"%s\"\n", (int)(eq - kv), kv, eq + 1);
    } else if (k == nc + 1) {
        n = snprintf(g->cur, sizeof g->cur, "create c0 file=c0.vci size=16M\n");
    } else if (k <= nc + 1 + calls) {
        n = snprintf(g->cur, sizeof g->cur, "%s", getters[(k - nc - 2) % 3]);
    } else if (k == nc + 2 + calls) {
        n = snprintf(g->cur, sizeof g->cur, "close c0\n");
    } else {
        return false;
    }
    g->len = n > 0 && (size_t)n < sizeof g->cur ? (size_t)n : 0;
    g->pos = 0;
    return true;
}

/* vdc_trace_read_fn: as many bytes of the text as fit. */
static size_t gen_read(void *user, void *buf, size_t cb)
{
    gen *g = user;
    size_t o = 0;
    while (o < cb) {
        if (g->pos == g->len && !make_line(g))
            break;
        size_t n = g->len - g->pos < cb - o ? g->len - g->pos : cb - o;
        memcpy((char *)buf + o, g->cur + g->pos, n);
        g->pos += n;
        o += n;
    }
    return o;
}

int vdc_bench_replay(const vdc_bench_cfg *cfg, vdc_bench_result *res)
{
    res->as_expected = -1;
    res->extra = 0;
    int rc = VINF_SUCCESS;
    vdc_replay_opts o = { .backend = cfg->be, .scratch_dir = NULL, .report = NULL };
    vdc_replay_result *r = malloc(sizeof *r);
    if (r == NULL) {
        snprintf(res->error, sizeof res->error, "out of memory");
        return VERR_NO_MEMORY;
    }
    for (unsigned i = 0; i < cfg->reps; i++) {
        gen g = { .cfg = cfg };
        vdc_trace *t = NULL;
        memset(r, 0, sizeof *r);
        double t1 = vdc_bench_now();
        rc = vdc_trace_open_reader("bench-replay", gen_read, &g, &t, res->error, sizeof res->error);
        if (rc != VINF_SUCCESS)
            break;
        rc = vdc_replay(t, &o, r);
        double dt = vdc_bench_now() - t1;
        res->ops_per_rep = vdc_trace_ncalls(t);
        vdc_trace_free(t);
        if (rc != VINF_SUCCESS || r->outcome != VDC_PASS) {
            snprintf(res->error, sizeof res->error, "replay %s at call %u: %.400s", vdc_outcome_name(r->outcome),
                     r->fail_call, r->message);
            if (rc == VINF_SUCCESS)
                rc = VERR_INTERNAL_ERROR;
            break;
        }
        res->backend[i] = dt > 0 ? r->calls_run / dt : 0;
        res->extra = dt > res->extra ? dt : res->extra; /* the slowest repetition, in seconds */
        res->n = i + 1;
    }
    free(r);
    return rc;
}

int vdc_bench_baseline(const vdc_bench_cfg *cfg, vdc_bench_result *res)
{
    (void)cfg;
    res->n = 1;
    res->as_expected = -1;
    return VINF_SUCCESS;
}
