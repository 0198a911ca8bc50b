/*
 * harness/bench/work_replay.c - the speed of vdcc's own replay engine
 * (harness/trace/replay.h) on calls that move no data, and the baseline
 * child.  Contract: bench_int.h; spec/performance.md section 1.
 *
 * The trace is generated as text in memory: the --config values as config
 * records, a create on the in-memory fs,
 * cfg->replay_calls getters cycling through get-version, get-size and
 * get-open-flags (no expectations, so the replay checks only the protocol),
 * and a close.  It is parsed once, untimed (the parse time is reported as
 * res->extra); each repetition times vdc_replay alone.  Returns VINF_SUCCESS,
 * VERR_NO_MEMORY, any status of vdc_trace_parse or vdc_replay, or
 * VERR_INTERNAL_ERROR when the replay does not pass (res->error has its
 * message).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../trace/replay.h"
#include "../trace/trace.h"
#include "bench_int.h"

/* The config values become `config KEY value="VALUE"` records before the
 * create (cmd_bench.c checked they fit the trace syntax). */
static char *make_trace(const vdc_bench_cfg *cfg, size_t *len)
{
    static const char *const getters[] = { "get-version c0\n", "get-size c0\n", "get-open-flags c0\n" };
    const char *head = "vdcc-trace 1\nname bench-replay\n";
    const char *create = "create c0 file=c0.vci size=16M\n";
    const char *tail = "close c0\n";
    size_t cap = strlen(head) + strlen(create) + strlen(tail) + (size_t)cfg->replay_calls * 20 + 1;
    for (unsigned i = 0; i < cfg->nconfig; i++)
        cap += strlen(cfg->config[i]) + 32;
    char *buf = malloc(cap);
    if (buf == NULL)
        return NULL;
    size_t n = strlen(head);
    memcpy(buf, head, n);
    for (unsigned i = 0; i < cfg->nconfig; i++) {
        const char *kv = cfg->config[i], *eq = strchr(kv, '=');
        if (eq == NULL)
            continue;
        n += (size_t)snprintf(buf + n, cap - n, "config %.*s value=\"%s\"\n", (int)(eq - kv), kv, eq + 1);
    }
    memcpy(buf + n, create, strlen(create));
    n += strlen(create);
    unsigned calls = cfg->replay_calls;
    for (unsigned i = 0; i < calls; i++) {
        const char *g = getters[i % 3];
        size_t gl = strlen(g);
        memcpy(buf + n, g, gl);
        n += gl;
    }
    memcpy(buf + n, tail, strlen(tail) + 1);
    *len = n + strlen(tail);
    return buf;
}

int vdc_bench_replay(const vdc_bench_cfg *cfg, vdc_bench_result *res)
{
    res->as_expected = -1;
    size_t len = 0;
    char *text = make_trace(cfg, &len);
    if (text == NULL) {
        snprintf(res->error, sizeof res->error, "out of memory for a trace of %u calls", cfg->replay_calls);
        return VERR_NO_MEMORY;
    }
    vdc_trace *t = NULL;
    double t0 = vdc_bench_now();
    int rc = vdc_trace_parse(text, len, "bench-replay", &t, res->error, sizeof res->error);
    res->extra = vdc_bench_now() - t0;
    free(text);
    if (rc != VINF_SUCCESS)
        return rc;
    unsigned ncalls = vdc_trace_ncalls(t);
    res->ops_per_rep = ncalls;
    vdc_replay_opts o = { .backend = cfg->be, .scratch_dir = NULL, .report = NULL };
    vdc_replay_result *r = malloc(sizeof *r);
    if (r == NULL) {
        rc = VERR_NO_MEMORY;
        snprintf(res->error, sizeof res->error, "out of memory");
        goto out_free_trace;
    }
    for (unsigned i = 0; i < cfg->reps; i++) {
        memset(r, 0, sizeof *r);
        double t1 = vdc_bench_now();
        rc = vdc_replay(t, &o, r);
        double dt = vdc_bench_now() - t1;
        if (rc != VINF_SUCCESS || r->outcome != VDC_PASS) {
            snprintf(res->error, sizeof res->error, "replay %s at call %u: %.400s", vdc_outcome_name(r->outcome),
                     r->fail_call, r->message);
            if (rc == VINF_SUCCESS)
                rc = VERR_INTERNAL_ERROR;
            break;
        }
        res->backend[i] = dt > 0 ? r->calls_run / dt : 0;
        res->n = i + 1;
    }
    free(r);
out_free_trace:
    vdc_trace_free(t);
    return rc;
}

int vdc_bench_baseline(const vdc_bench_cfg *cfg, vdc_bench_result *res)
{
    (void)cfg;
    res->n = 1;
    res->as_expected = -1;
    return VINF_SUCCESS;
}
