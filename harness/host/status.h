/*
 * harness/host/status.h - names for the VBox status codes of spec/vdcache.h.
 *
 * Logs, traces and reports show a status both as a number and as its name
 * ("VERR_VD_BLOCK_FREE"); the trace parser reads names back.  The table
 * behind these functions holds exactly the codes spec/vdcache.h section 1
 * defines (VINF_SUCCESS included), and a test checks it against the header.
 * Pure functions over a constant table; no state.
 */
#ifndef VDCC_HARNESS_HOST_STATUS_H
#define VDCC_HARNESS_HOST_STATUS_H

/* The name of rc ("VINF_SUCCESS", "VERR_EOF", ...), or NULL when rc is not
 * one of the codes spec/vdcache.h defines.  The string is static. */
const char *vdc_status_name(int rc);

/* The inverse: sets *rc to the value of the code called name (exact,
 * case-sensitive match).  Returns VINF_SUCCESS, or VERR_NOT_FOUND (name or
 * rc NULL, or name unknown; *rc untouched). */
int vdc_status_from_name(const char *name, int *rc);

#endif /* VDCC_HARNESS_HOST_STATUS_H */
