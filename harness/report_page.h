/*
 * harness/report_page.h - `vdcc conform --report DIR`: a page to attach to a
 * release of a backend, and the JSON behind it.
 *
 * vdc_report_page_write writes two files into DIR (created when missing,
 * one level):
 *   DIR/report.json  one JSON object (RFC 8259, UTF-8):
 *     { "vdcc_version": S, "date": "YYYY-MM-DDTHH:MM:SSZ",
 *       "backend": { "spec": S, "name": S, "interface_version": "0xNNNNNNNN",
 *                    "capabilities": [S...] },
 *       "summary": { "passed": N, "failed": N, "skipped": N, "warnings": N,
 *                    "verdict": "pass" | "fail" },
 *       "clauses": [ { "clause": S, "verdict": "pass"|"fail"|"warn"|"skip",
 *                      "points": N, "failed": N, "warnings": N } ... ],
 *       "warnings_by_clause": [ { "clause": S, "count": N, "points": [S...] } ... ],
 *       "traces": [ POINT... ], "hostile": [ POINT... ] }
 *     POINT = { "name": S, "verdict": "PASS"|"FAIL"|..., "clause": S,
 *               "call": N, "line": N, "phase": S, "message": S,
 *               "warnings": N, "warning_clauses": [S...], "rerun": S,
 *               "seconds": X }
 *   DIR/index.html   the same as one self-contained page (inline CSS, no
 *                    script): summary, clause table, warnings by clause,
 *                    every trace and hostile image.
 * A clause's points are the traces tagging it (their clause lines, read
 * again from the trace files) and the failures attributed to it; a failure
 * is attributed to the clause its point names (the sweeps' and hostile
 * images' clause), else to the clause= tags of the failing record, else to
 * every clause its trace tags.  Its verdict: fail when a failure is
 * attributed to it, else warn when a quality warning names it, else pass
 * when a point tagging it passed, else skip.
 */
#ifndef VDCC_HARNESS_REPORT_PAGE_H
#define VDCC_HARNESS_REPORT_PAGE_H

#include <stdint.h>

#include "report.h"

typedef struct vdc_page_info {
    const char *spec;          /* the --backend SPEC */
    const char *name;          /* pszBackendName */
    uint64_t    caps;          /* uBackendCaps */
    uint32_t    version;       /* u32Version: the interface version it implements */
    unsigned    ntraces;       /* items[0..ntraces) are traces, the rest hostile images */
    const char *vdcc;          /* vdcc's version (vdc_version(), harness/version.h) */
} vdc_page_info;

/* Writes DIR/report.json and DIR/index.html.  Returns 0, or -1 with errno
 * set (ENOMEM, or what mkdir/fopen/write reported). */
int vdc_report_page_write(const char *dir, const vdc_page_info *pi, const vdc_report_item *items, unsigned n);

#endif /* VDCC_HARNESS_REPORT_PAGE_H */
