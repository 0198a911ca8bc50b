/*
 * harness/lint.h - static checks of a VDCACHEBACKEND vtable.
 *
 * Before any call into a backend, vdcc looks at its vtable the way VD and
 * the tools would rely on it.  Errors are defects VD trips over (an
 * incompatible version, a callback VD calls unconditionally left NULL, an
 * unterminated list); warnings are defects only tools or future versions
 * would meet.  Every pointer is read through peek.h, so a garbage pointer is
 * an error, not a crash.  spec/contract.md (HOST) and spec/vbox-behaviour.md
 * sections 3 and 7 are the source of each rule:
 *
 *  error   u32Version not accepted by VD_VERSION_ARE_COMPATIBLE
 *  error   u32VersionEnd != u32Version
 *  error   name NULL, unreadable, empty, longer than VDC_LINT_NAME_MAX,
 *          or with non-printable bytes (warning: spaces)
 *  error   NULL Probe, Open, Create, Close, Read, Write, Flush,
 *          GetModificationUuid or SetModificationUuid (VD calls them)
 *  error   VD_CAP_DISCARD declared without pfnDiscard
 *  error   extension list unreadable, not NULL-terminated within
 *          VDC_LINT_EXT_MAX entries, or an entry empty/non-printable
 *  error   config table not terminated within VDC_LINT_CFG_MAX entries, a
 *          key empty/unreadable, or a value type outside 1..3
 *  warning any other NULL callback (tools call them); pfnDiscard without
 *          VD_CAP_DISCARD; unknown caps bits; caps meaningless for a cache
 *          (DIFF, SPLIT_2G, TCPNET); no CREATE_FIXED nor CREATE_DYNAMIC;
 *          VD_CAP_FILE without extensions; an extension starting with '.';
 *          unknown config-key flags.
 */
#ifndef VDCC_HARNESS_LINT_H
#define VDCC_HARNESS_LINT_H

#include <stdio.h>

#include "../spec/vdcache.h"

#define VDC_LINT_NAME_MAX 64u
#define VDC_LINT_EXT_MAX  16u
#define VDC_LINT_CFG_MAX  64u

typedef struct vdc_lint_report {
    unsigned errors;
    unsigned warnings;
} vdc_lint_report;

/* Checks be and prints each finding to out (NULL: count only) as one line
 * "error: ..." or "warning: ...".  be NULL is one error. */
void vdc_lint(const VDCACHEBACKEND *be, FILE *out, vdc_lint_report *rep);

#endif /* VDCC_HARNESS_LINT_H */
