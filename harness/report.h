/*
 * harness/report.h - conformance results as TAP 14 and JUnit XML.
 *
 * TAP (https://testanything.org/tap-version-14-specification.html): a
 * "TAP version 14" line, the plan "1..N", one "ok N - NAME" or
 * "not ok N - NAME" per test point (a trace, or one of conform's hostile
 * images; '#' and '\' in names escaped), "# SKIP reason" for skipped ones,
 * "# NOTE" after a pass with a note (e.g. "no crash sweep: ..."; never
 * starting with SKIP or TODO), and for every failure (and for passes with
 * quality warnings) an indented YAML block: outcome, phase (the part of the
 * run that failed, when not the replay), clause, signal, call, line,
 * record, message, rerun, sanitizer, seconds.  YAML strings are
 * double-quoted with escapes, multi-line text is a literal block scalar.
 *
 * JUnit: one <testsuites> holding one <testsuite>; per test point a <testcase>
 * whose child is <failure type="FAIL|CRASH|TIMEOUT">, <error type="ERROR">
 * or <skipped>; every attribute and text is XML-escaped, control bytes and
 * invalid UTF-8 become '?'.
 */
#ifndef VDCC_HARNESS_REPORT_H
#define VDCC_HARNESS_REPORT_H

#include <stdio.h>

#include "runner.h"

/* One finished test point as the reports see it. */
typedef struct vdc_report_item {
    const char           *name;   /* the trace path, or e.g. "hostile/112-node-loop" */
    const vdc_run_result *r;
    const char           *rerun;  /* shell command reproducing it alone */
} vdc_report_item;

void vdc_tap_begin(FILE *f, unsigned ntests);
/* Writes test number num (1-based). */
void vdc_tap_item(FILE *f, unsigned num, const vdc_report_item *it);

/* Writes the JUnit file.  Returns 0, or -1 with errno set when the file
 * cannot be written. */
int vdc_junit_write(const char *path, const char *suite, const vdc_report_item *items, unsigned n);

/* Escapes s for XML text and attributes into f. */
void vdc_xml_escape(FILE *f, const char *s);

#endif /* VDCC_HARNESS_REPORT_H */
