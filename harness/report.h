/*
 * harness/report.h - conformance results as TAP (14 or 13) and JUnit XML.
 *
 * TAP (https://testanything.org/tap-version-14-specification.html): a
 * "TAP version 14" (or 13) line, the plan "1..N", one "ok N - NAME" or
 * "not ok N - NAME" per test point (a trace, or one of conform's hostile
 * images; '#' and '\' in names escaped), "# SKIP reason" for skipped ones,
 * "# NOTE" after a pass with a note (e.g. "no crash sweep: ..."; never
 * starting with SKIP or TODO), and for every failure (and for passes with
 * quality warnings) an indented YAML block: outcome, phase (the part of the
 * run that failed, when not the replay), clause, signal, call, line,
 * record, warnings, clauses (of the quality warnings), message, rerun,
 * sanitizer, seconds.  YAML strings are double-quoted with escapes; in TAP
 * 14, multi-line text is a literal block scalar ("|-").  TAP 13 is for
 * older consumers such as Test::Harness 3.44 (Debian 12's `prove`), whose
 * YAMLish reader knows neither "TAP version 14" nor "|-": there every value
 * is one double-quoted line ("\n" for line breaks), and the closing
 * "N passed, N failed" line is a TAP comment (vdc_tap_summary).
 *
 * JUnit: one <testsuites> holding one <testsuite>; per test point a <testcase>
 * whose child is <failure type="FAIL|CRASH|TIMEOUT">, <error type="ERROR">
 * or <skipped>, then, for a test point with quality warnings, <system-out>
 * holding "quality warnings: N (clauses: A-1, B-2)" and the warnings
 * themselves.  The suite's <properties> carry the caller's name/value pairs
 * (backend, capabilities...).  Every attribute and text is XML-escaped,
 * control bytes and invalid UTF-8 become '?'.  tests/junit.xsd is the
 * schema the suites validate it against.
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

/* Where TAP goes, and which version (13 or 14). */
typedef struct vdc_tap {
    FILE    *f;
    unsigned version;
} vdc_tap;

void vdc_tap_begin(const vdc_tap *t, unsigned ntests);
/* Writes test number num (1-based). */
void vdc_tap_item(const vdc_tap *t, unsigned num, const vdc_report_item *it);
/* The closing line "P passed, F failed[, S skipped][, N not run]" ("# " first
 * in TAP 13); not_run counts the points --fail-fast left out. */
void vdc_tap_summary(const vdc_tap *t, unsigned passed, unsigned failed, unsigned skipped, unsigned not_run);

/* A name/value pair of the JUnit suite's <properties>. */
typedef struct vdc_report_prop {
    const char *name, *value;
} vdc_report_prop;

/* Writes the JUnit file (props[0..nprops) may be empty).  Returns 0, or -1
 * with errno set when the file cannot be written. */
int vdc_junit_write(const char *path, const char *suite, const vdc_report_prop *props, unsigned nprops,
                    const vdc_report_item *items, unsigned n);

/* The clauses the quality warnings in text name: every token like
 * "FLUSH-2" or "READ-7" (capitals, '-', digits) on a line that starts with
 * "warning", once each in order of first appearance, joined by ", " into
 * buf[0..cb) (truncated safely); "" when there is none. */
void vdc_warning_clauses(const char *text, char *buf, size_t cb);

/* Length of the valid UTF-8 sequence of 2..4 bytes at p, or 0 (ASCII,
 * stray, truncated, overlong, surrogate or beyond U+10FFFF). */
size_t vdc_utf8_len(const unsigned char *p);

/* Escapes s for XML text and attributes into f. */
void vdc_xml_escape(FILE *f, const char *s);

#endif /* VDCC_HARNESS_REPORT_H */
