/*
 * harness/tracelist.h - the traces a command line names: a file as given, a
 * directory as the *.trace files in it (not hidden ones), sorted by name,
 * so that a directory of recordings named by time (VDPluginVdccRecord's
 * vdcc-TIME-PID.trace) runs in the order they were made.  Used by `vdcc
 * conform` and `vdcc replay`.
 */
#ifndef VDCC_HARNESS_TRACELIST_H
#define VDCC_HARNESS_TRACELIST_H

#include <stdbool.h>

#define VDC_TRACE_LIST_MAX 1000000u /* paths one list holds */

typedef struct vdc_trace_list {
    char   **v;
    unsigned n, cap;
} vdc_trace_list;

/* Adds path (or a directory's traces).  False after printing the reason
 * (cli.h's vdc_error, prefixed with cmd): path missing, unreadable, too
 * long, too many traces, out of memory. */
bool vdc_trace_list_collect(vdc_trace_list *l, const char *path, const char *cmd);
void vdc_trace_list_free(vdc_trace_list *l);

#endif /* VDCC_HARNESS_TRACELIST_H */
