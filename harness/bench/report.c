/*
 * harness/bench/report.c - what `vdcc bench` prints: a table for people and
 * one JSON object for tools.  Contract: bench_int.h; the meaning of every
 * figure: spec/performance.md section 1.  No status codes: printing to a
 * FILE has no failure the caller could act on (stdout errors show at exit).
 *
 * Targets are judged on the median: a ratio target on the median of the
 * per-repetition ratios (each backend repetition over the raw repetition
 * right after it), an absolute one on the median figure.  A workload whose
 * operations mostly did not do what it measures (read hits that missed: a
 * miss costs nothing, so a cache that never hits would beat any target) is
 * never met: below MIN_AS_EXPECTED of its operations as intended, the
 * figure is of something else.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench_int.h"

#define MIN_AS_EXPECTED 0.9

static vdc_bench_spread spread_backend(const vdc_bench_outcome *o)
{
    return vdc_bench_summarize(o->res.backend, o->res.n);
}

static vdc_bench_spread spread_raw(const vdc_bench_outcome *o)
{
    return vdc_bench_summarize(o->res.raw, o->res.has_raw ? o->res.n : 0);
}

static vdc_bench_spread spread_ratio(const vdc_bench_outcome *o)
{
    double r[VDC_BENCH_MAX_REPS];
    unsigned n = o->res.has_raw ? o->res.n : 0;
    vdc_bench_ratios(o->res.backend, o->res.raw, n, r);
    return vdc_bench_summarize(r, n);
}

bool vdc_bench_target_met(const vdc_bench_outcome *o)
{
    if (!o->ran || o->res.n == 0)
        return false;
    if (o->res.as_expected >= 0 && o->res.as_expected < MIN_AS_EXPECTED)
        return false;
    switch (o->w->tkind) {
    case VDC_T_RATIO_MIN: return spread_ratio(o).median >= o->w->target;
    case VDC_T_ABS_MIN: return spread_backend(o).median >= o->w->target;
    case VDC_T_ABS_MAX: return spread_backend(o).median < o->w->target;
    default: return true;
    }
}

bool vdc_bench_rss_met(const vdc_bench_outcome *o)
{
    return o->peak_rss_kib > 0 && o->peak_rss_kib <= VDC_BENCH_RSS_TARGET_KIB;
}

static bool has_target(const vdc_bench_workload *w)
{
    return w->tkind == VDC_T_RATIO_MIN || w->tkind == VDC_T_ABS_MIN || w->tkind == VDC_T_ABS_MAX;
}

/* Figures with as many decimals as they deserve, never in exponent form. */
static void fmt_num(char *buf, size_t cb, double v)
{
    double mag = v < 0 ? -v : v;
    if (isnan(v) || isinf(v))
        snprintf(buf, cb, "-");
    else if (mag >= 1000)
        snprintf(buf, cb, "%.0f", v);
    else if (mag >= 100)
        snprintf(buf, cb, "%.1f", v);
    else if (mag >= 1)
        snprintf(buf, cb, "%.2f", v);
    else
        snprintf(buf, cb, "%.3f", v);
}

static void fmt_spread(char *buf, size_t cb, vdc_bench_spread s)
{
    if (isnan(s.median)) {
        snprintf(buf, cb, "-");
        return;
    }
    char a[32], b[32], c[32];
    fmt_num(a, sizeof a, s.median);
    fmt_num(b, sizeof b, s.min);
    fmt_num(c, sizeof c, s.max);
    snprintf(buf, cb, "%s [%s..%s]", a, b, c);
}

static void fmt_target(char *buf, size_t cb, const vdc_bench_workload *w)
{
    char v[32];
    fmt_num(v, sizeof v, w->target);
    switch (w->tkind) {
    case VDC_T_RATIO_MIN: snprintf(buf, cb, "ratio>=%s", v); break;
    case VDC_T_ABS_MIN: snprintf(buf, cb, ">=%s", v); break;
    case VDC_T_ABS_MAX: snprintf(buf, cb, "<%s", v); break;
    default: snprintf(buf, cb, "-"); break;
    }
}

static const vdc_bench_outcome *find(const vdc_bench_run *run, const char *id)
{
    for (unsigned i = 0; i < run->nout; i++)
        if (strcmp(run->out[i].w->id, id) == 0)
            return &run->out[i];
    return NULL;
}

/* open_big's median over open_small's: 1 means open does not grow. */
static double open_growth(const vdc_bench_run *run)
{
    const vdc_bench_outcome *s = find(run, "open_small"), *b = find(run, "open_big");
    if (s == NULL || b == NULL || !s->ran || !b->ran)
        return NAN;
    double ms = spread_backend(s).median, mb = spread_backend(b).median;
    return ms > 0 ? mb / ms : NAN;
}

void vdc_bench_print_text(FILE *f, const vdc_bench_run *run)
{
    const vdc_bench_cfg *c = run->cfg;
    fprintf(f, "vdcc bench: backend %s (--backend %s), %u repetition%s%s\n",
            c->be->pszBackendName ? c->be->pszBackendName : "?", c->spec, c->reps, c->reps == 1 ? "" : "s",
            c->quick ? ", quick sizes" : "");
    fprintf(f, "  directory %s on %s (%s)\n", c->dir, run->fs_name, run->fs_kind);
    fprintf(f, "  reads and writes %llu MiB per repetition, a flush every %llu MiB; extents %u and %u;\n",
            (unsigned long long)(c->io_bytes / VDC_BENCH_MIB), (unsigned long long)(c->flush_every / VDC_BENCH_MIB),
            c->extents_small, c->extents_big);
    fprintf(f, "  %u miss lookups per repetition; replay of %u getter calls\n", c->lookups, c->replay_calls);
    fprintf(f, "  peak RSS of an idle child: %.1f MiB (included in every peak below)\n",
            run->baseline_rss_kib / 1024);
    for (unsigned i = 0; i < run->nprep; i++) {
        const vdc_bench_outcome *p = &run->prep[i];
        if (!p->ran || p->failure[0] != '\0')
            fprintf(f, "  %s: FAILED: %s\n", p->w->title, p->failure);
        else if (p->res.backend[0] == 0)
            fprintf(f, "  %s: reused from an earlier run\n", p->w->title);
        else
            fprintf(f, "  %s: %.1f s, peak RSS %.1f MiB\n", p->w->title, p->res.backend[0], p->peak_rss_kib / 1024);
    }
    fprintf(f, "\n%-30s %-10s %-28s %-28s %-22s %-14s %-4s %s\n", "workload", "unit", "backend median [min..max]",
            "raw median [min..max]", "ratio median [min..max]", "target", "met", "peak RSS");
    unsigned met = 0, judged = 0;
    for (unsigned i = 0; i < run->nout; i++) {
        const vdc_bench_outcome *o = &run->out[i];
        char b[128], r[128], q[128], t[64], rss[48];
        fmt_spread(b, sizeof b, spread_backend(o));
        fmt_spread(r, sizeof r, spread_raw(o));
        fmt_spread(q, sizeof q, spread_ratio(o));
        fmt_target(t, sizeof t, o->w);
        const char *m = !has_target(o->w) ? "-" : vdc_bench_target_met(o) ? "yes" : "NO";
        if (has_target(o->w)) {
            judged++;
            met += vdc_bench_target_met(o);
        }
        if (o->peak_rss_kib > 0)
            snprintf(rss, sizeof rss, "%.1f MiB%s", o->peak_rss_kib / 1024, vdc_bench_rss_met(o) ? "" : " (over)");
        else
            snprintf(rss, sizeof rss, "-");
        fprintf(f, "%-30s %-10s %-28s %-28s %-22s %-14s %-4s %s\n", o->w->title, o->w->unit, b, r, q, t, m, rss);
    }
    /* Notes: anything that qualifies a figure. */
    bool first = true;
    for (unsigned i = 0; i < run->nout; i++) {
        const vdc_bench_outcome *o = &run->out[i];
        char note[700] = "";
        if (!o->ran || o->failure[0])
            snprintf(note, sizeof note, "FAILED: %s", o->failure);
        else if (o->res.as_expected >= 0 && o->res.as_expected < 1)
            snprintf(note, sizeof note, "only %.2f%% of the operations %s as the workload intends%s",
                     100 * o->res.as_expected, strcmp(o->w->id, "miss_lookup") == 0 ? "missed" : "hit",
                     has_target(o->w) && o->res.as_expected < MIN_AS_EXPECTED
                         ? " (under 90%: the target is not met, the figure measures something else)" : "");
        else if (strcmp(o->w->id, "replay") == 0)
            snprintf(note, sizeof note, "%llu records streamed through the parser into the replay (counted): "
                     "%.2f s for the slowest repetition",
                     (unsigned long long)o->res.ops_per_rep, o->res.extra);
        else if (strcmp(o->w->id, "open_big") == 0 && !isnan(open_growth(run)))
            snprintf(note, sizeof note, "median open time at %u extents is %.2fx that at %u", c->extents_big,
                     open_growth(run), c->extents_small);
        if (note[0]) {
            if (first)
                fprintf(f, "\n");
            first = false;
            fprintf(f, "  %s: %s\n", o->w->id, note);
        }
    }
    unsigned rss_met = 0, measured = 0;
    for (unsigned i = 0; i < run->nout; i++) {
        measured += run->out[i].peak_rss_kib > 0;
        rss_met += vdc_bench_rss_met(&run->out[i]);
    }
    fprintf(f, "\ntargets met: %u of %u; peak RSS <= 64 MiB: %u of %u workloads\n", met, judged, rss_met, measured);
}

void vdc_bench_json_num(FILE *f, double v)
{
    if (isnan(v) || isinf(v))
        fputs("null", f);
    else
        fprintf(f, "%.6g", v);
}

void vdc_bench_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void json_spread(FILE *f, const char *key, vdc_bench_spread s, bool present)
{
    fprintf(f, "\"%s\":", key);
    if (!present || isnan(s.median)) {
        fputs("null", f);
        return;
    }
    fputs("{\"min\":", f);
    vdc_bench_json_num(f, s.min);
    fputs(",\"median\":", f);
    vdc_bench_json_num(f, s.median);
    fputs(",\"max\":", f);
    vdc_bench_json_num(f, s.max);
    fputc('}', f);
}

static const char *tkind_name(vdc_bench_tkind k)
{
    switch (k) {
    case VDC_T_RATIO_MIN: return "ratio_min";
    case VDC_T_ABS_MIN: return "min";
    case VDC_T_ABS_MAX: return "max_exclusive";
    default: return "none";
    }
}

static void json_outcome(FILE *f, const vdc_bench_outcome *o, const vdc_bench_run *run)
{
    fputs("{\"id\":", f);
    vdc_bench_json_str(f, o->w->id);
    fputs(",\"title\":", f);
    vdc_bench_json_str(f, o->w->title);
    fputs(",\"unit\":", f);
    vdc_bench_json_str(f, o->w->unit);
    fprintf(f, ",\"status\":\"%s\",\"error\":", o->ran && !o->failure[0] ? "ok" : "failed");
    vdc_bench_json_str(f, o->failure);
    fprintf(f, ",\"reps\":%u,", o->res.n);
    json_spread(f, "backend", spread_backend(o), true);
    fputc(',', f);
    json_spread(f, "raw", spread_raw(o), o->res.has_raw);
    fputc(',', f);
    json_spread(f, "ratio", spread_ratio(o), o->res.has_raw);
    fputs(",\"target\":", f);
    if (has_target(o->w)) {
        fprintf(f, "{\"kind\":\"%s\",\"value\":", tkind_name(o->w->tkind));
        vdc_bench_json_num(f, o->w->target);
        fprintf(f, "},\"met\":%s", vdc_bench_target_met(o) ? "true" : "false");
    } else {
        fputs("null,\"met\":null", f);
    }
    fputs(",\"peak_rss_kib\":", f);
    vdc_bench_json_num(f, o->peak_rss_kib > 0 ? o->peak_rss_kib : NAN);
    fprintf(f, ",\"rss_met\":%s,\"as_expected\":",
            o->peak_rss_kib <= 0 ? "null" : vdc_bench_rss_met(o) ? "true" : "false");
    vdc_bench_json_num(f, o->res.as_expected >= 0 ? o->res.as_expected : NAN);
    fprintf(f, ",\"bytes_per_rep\":%llu,\"ops_per_rep\":%llu", (unsigned long long)o->res.bytes_per_rep,
            (unsigned long long)o->res.ops_per_rep);
    if (strcmp(o->w->id, "replay") == 0) {
        fputs(",\"slowest_s\":", f);
        vdc_bench_json_num(f, o->res.extra);
    }
    if (strcmp(o->w->id, "open_big") == 0) {
        fputs(",\"growth_vs_small\":", f);
        vdc_bench_json_num(f, open_growth(run));
    }
    fputs(",\"wall_s\":", f);
    vdc_bench_json_num(f, o->wall_s);
    fputc('}', f);
}

void vdc_bench_print_json(FILE *f, const vdc_bench_run *run)
{
    const vdc_bench_cfg *c = run->cfg;
    fputs("{\"vdcc_bench\":1,\"backend\":", f);
    vdc_bench_json_str(f, c->be->pszBackendName ? c->be->pszBackendName : "?");
    fputs(",\"spec\":", f);
    vdc_bench_json_str(f, c->spec);
    fputs(",\"dir\":", f);
    vdc_bench_json_str(f, c->dir);
    fputs(",\"fs\":{\"type\":", f);
    vdc_bench_json_str(f, run->fs_name);
    fputs(",\"kind\":", f);
    vdc_bench_json_str(f, run->fs_kind);
    fprintf(f, "},\"quick\":%s,\"reps\":%u,\"sizes\":{\"io_bytes\":%llu,\"flush_every\":%llu,"
               "\"extents_small\":%u,\"extents_big\":%u,\"lookups\":%u,\"replay_calls\":%u},",
            c->quick ? "true" : "false", c->reps, (unsigned long long)c->io_bytes,
            (unsigned long long)c->flush_every, c->extents_small, c->extents_big, c->lookups, c->replay_calls);
    fputs("\"baseline_rss_kib\":", f);
    vdc_bench_json_num(f, run->baseline_rss_kib);
    fputs(",\"rss_target_kib\":", f);
    vdc_bench_json_num(f, VDC_BENCH_RSS_TARGET_KIB);
    fputs(",\"preparation\":[", f);
    for (unsigned i = 0; i < run->nprep; i++) {
        const vdc_bench_outcome *p = &run->prep[i];
        fputs(i ? ",{\"id\":" : "{\"id\":", f);
        vdc_bench_json_str(f, p->w->id);
        bool ok = p->ran && p->failure[0] == '\0';
        fprintf(f, ",\"status\":\"%s\",\"error\":", ok ? "ok" : "failed");
        vdc_bench_json_str(f, p->failure);
        fprintf(f, ",\"reused\":%s,\"seconds\":", ok && p->res.backend[0] == 0 ? "true" : "false");
        vdc_bench_json_num(f, ok ? p->res.backend[0] : NAN);
        fputs(",\"peak_rss_kib\":", f);
        vdc_bench_json_num(f, p->peak_rss_kib);
        fputc('}', f);
    }
    fputs("],\"workloads\":[", f);
    unsigned met = 0, judged = 0;
    for (unsigned i = 0; i < run->nout; i++) {
        if (i)
            fputc(',', f);
        json_outcome(f, &run->out[i], run);
        if (has_target(run->out[i].w)) {
            judged++;
            met += vdc_bench_target_met(&run->out[i]);
        }
    }
    fprintf(f, "],\"targets_met\":%u,\"targets_judged\":%u}\n", met, judged);
}
