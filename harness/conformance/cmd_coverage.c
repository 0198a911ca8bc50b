/*
 * harness/conformance/cmd_coverage.c - `vdcc coverage`: each clause of
 * spec/contract.md with the traces that name it (coverage.h).
 *
 * Contract: commands_conf.h.  Exit statuses: 0 every clause is named by a
 * trace or covered by a tool of the exemption table, 1 some clause is not,
 * 2 usage error, an unreadable contract or path, or a trace that does not
 * parse.  Traces naming a clause the contract lacks are reported as
 * warnings (a typo, or a clause that was renamed).  Also exit 1: a record
 * naming only SHOULD clauses whose status list demands more than the MUST
 * clauses (harness/trace/levels.h), or a clause whose level in the
 * contract differs from levels.c's table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cli.h"
#include "../collect.h"
#include "../datadir.h"
#include "../host/status.h"
#include "../trace/levels.h"
#include "../trace/trace.h"
#include "commands_conf.h"
#include "coverage.h"

#define DEFAULT_CONTRACT "spec/contract.md"
#define DEFAULT_CORPUS   "corpus/conformance"
#define MAX_CONTRACT     (4u << 20)

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vdcc coverage [--contract FILE] [--missing] [PATH...]\n"
            "\n"
            "Lists each clause of the contract (its **AREA-N MUST.** / **AREA-N SHOULD.**\n"
            "markers) with the traces that name it, in a `clauses` header line or a\n"
            "record's clause=.  PATH is a trace or a directory whose *.trace files are\n"
            "read (default: " DEFAULT_CORPUS " of vdcc's data directory, see vdcc conform\n"
            "--help).  A few clauses no trace can test are covered by a named tool\n"
            "instead; they are listed with the reason.\n"
            "A record naming only SHOULD clauses may not demand more than the MUST\n"
            "clauses do (its status list accepts any or failure; reads: hit|miss).\n"
            "Exit status: 0 every clause covered, 1 some clause is not or a record or\n"
            "clause level is wrong, 2 usage error\n"
            "or a trace that does not parse.\n"
            "\n"
            "Options:\n"
            "  --contract FILE  the contract (default " DEFAULT_CONTRACT " of the data directory)\n"
            "  --missing        print only the clauses nothing covers\n"
            "  -h, --help       this text\n");
}

enum { O_CONTRACT = 1, O_MISSING, O_HELP };
static const vdc_opt opts[] = {
    { O_CONTRACT, "contract", 0, true },
    { O_MISSING, "missing", 0, false },
    { O_HELP, "help", 'h', false },
    { 0, NULL, 0, false },
};

/* Adds path (or its directory's traces: collect.h). */
static bool collect(vdc_trace_list *p, const char *path)
{
    char err[4200];
    if (vdc_trace_list_add(p, path, err, sizeof err))
        return true;
    vdc_error("coverage", "%s", err);
    return false;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        vdc_error("coverage", "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(MAX_CONTRACT + 1);
    size_t n = buf != NULL ? fread(buf, 1, MAX_CONTRACT + 1, f) : 0;
    bool bad = buf == NULL || ferror(f) || n > MAX_CONTRACT;
    fclose(f);
    if (bad) {
        vdc_error("coverage", "%s: %s", path, buf == NULL ? "out of memory" : n > MAX_CONTRACT ? "larger than 4 MiB"
                                                                                              : "read error");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}


static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s != NULL ? s + 1 : p;
}

int vdc_cmd_coverage(const char *prog, int argc, char **argv)
{
    (void)prog;
    const char *contract = NULL; /* DEFAULT_CONTRACT in the data directory */
    bool missing_only = false;
    vdc_trace_list p = { 0 };
    bool any_path = false;
    int ex = VDCC_EXIT_USAGE;
    vdc_optstate st;
    vdc_opt_init(&st, "coverage", argc, argv);
    const char *val;
    int id;
    while ((id = vdc_opt_next(&st, opts, &val)) != VDC_OPT_END) {
        switch (id) {
        case VDC_OPT_ERROR:
            goto out_free_paths;
        case VDC_OPT_OPERAND:
            any_path = true;
            if (!collect(&p, val))
                goto out_free_paths;
            break;
        case O_HELP:
            usage(stdout);
            ex = VDCC_EXIT_OK;
            goto out_free_paths;
        case O_CONTRACT:
            contract = val;
            break;
        case O_MISSING:
            missing_only = true;
            break;
        default:
            break;
        }
    }
    char corpus[4096], contract_path[4096];
    if (!any_path && (!vdc_datadir_find("coverage", DEFAULT_CORPUS, "the conformance corpus", corpus, sizeof corpus) ||
                      !collect(&p, corpus)))
        goto out_free_paths;
    if (p.n == 0) {
        vdc_error("coverage", "no traces found (directories are scanned for *.trace)");
        goto out_free_paths;
    }
    if (contract == NULL) {
        if (!vdc_datadir_find("coverage", DEFAULT_CONTRACT, "the contract", contract_path, sizeof contract_path))
            goto out_free_paths;
        contract = contract_path;
    }

    size_t len;
    char *text = read_file(contract, &len);
    if (text == NULL)
        goto out_free_paths;
    vdc_clause_list cl;
    char err[1024];
    int rc = vdc_contract_parse(text, len, &cl, err, sizeof err);
    free(text);
    if (rc != VINF_SUCCESS) {
        vdc_error("coverage", "%s: %s", contract, err[0] ? err : vdc_status_name(rc));
        goto out_free_paths;
    }

    unsigned bad = 0, unknown = 0, hard = 0, levels = 0;
    for (unsigned i = 0; i < cl.n; i++)
        if (cl.v[i].must == vdc_clause_should(cl.v[i].name)) {
            printf("error: %s is a %s in %s, harness/trace/levels.c says otherwise\n", cl.v[i].name,
                   cl.v[i].must ? "MUST" : "SHOULD", contract);
            levels++;
        }
    for (const char *const *sc = vdc_should_clauses(); *sc != NULL; sc++)
        if (vdc_clause_find(&cl, *sc) == NULL) {
            printf("error: harness/trace/levels.c names %s, which %s does not define\n", *sc, contract);
            levels++;
        }
    for (unsigned i = 0; i < p.n; i++) {
        vdc_trace *t = NULL;
        rc = vdc_trace_load(p.v[i], &t, err, sizeof err);
        if (rc < 0) {
            vdc_error("coverage", "%s", err[0] ? err : vdc_status_name(rc));
            bad++;
            continue;
        }
        for (unsigned k = 0; k < vdc_trace_nclauses(t); k++) {
            const char *c = vdc_trace_clause(t, k);
            if (!vdc_clause_note(&cl, c, i)) {
                printf("warning: %s names %s, which %s does not define\n", p.v[i], c, contract);
                unknown++;
            }
        }
        for (unsigned k = 0; k < vdc_trace_ncalls(t); k++) {
            const vdc_record *r = vdc_trace_record(t, k);
            char why[320];
            if (!vdc_record_hard_should(r, why, sizeof why))
                continue;
            printf("error: %s:%u: %s\n", p.v[i], r->line, why);
            hard++;
        }
        vdc_trace_free(t);
    }

    unsigned by_trace = 0, by_tool = 0, uncovered = 0;
    if (!missing_only)
        printf("%-11s %-6s %6s  %s\n", "CLAUSE", "LEVEL", "TRACES", "NAMED BY");
    for (unsigned i = 0; i < cl.n; i++) {
        const vdc_clause *c = &cl.v[i];
        const vdc_cover_exempt *x = vdc_cover_exempt_find(c->name);
        if (c->ntraces > 0)
            by_trace++;
        else if (x != NULL)
            by_tool++;
        else
            uncovered++;
        if (missing_only && (c->ntraces > 0 || x != NULL))
            continue;
        printf("%-11s %-6s %6u  ", c->name, c->must ? "MUST" : "SHOULD", c->ntraces);
        if (c->ntraces > 0) {
            unsigned shown = c->ntraces < 4 ? c->ntraces : 4;
            for (unsigned k = 0; k < shown; k++)
                printf("%s%s", k ? ", " : "", base_name(p.v[c->first_traces[k]]));
            if (c->ntraces > shown)
                printf(" (+%u)", c->ntraces - shown);
        } else if (x != NULL) {
            printf("(tool) %s: %s", x->by, x->why);
        } else {
            printf("NOT COVERED");
        }
        printf("\n");
    }
    printf("coverage: %u clauses in %s, %u named by traces (%u traces read), %u covered by a tool, "
           "%u not covered%s\n",
           cl.n, contract, by_trace, p.n - bad, by_tool, uncovered, unknown ? "; unknown clause names: see warnings" : "");
    if (hard > 0 || levels > 0)
        printf("coverage: %u SHOULD-only record(s) with a hard expectation, %u clause level(s) that disagree "
               "(see errors)\n", hard, levels);
    vdc_clauses_free(&cl);
    ex = bad > 0 ? VDCC_EXIT_USAGE : uncovered > 0 || hard > 0 || levels > 0 ? VDCC_EXIT_FAIL : VDCC_EXIT_OK;

out_free_paths:
    vdc_trace_list_free(&p);
    return ex;
}
