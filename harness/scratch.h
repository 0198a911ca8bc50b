/*
 * harness/scratch.h - temporary directories for replays.
 *
 * Every replay gets a fresh, empty directory for its image files (replay.h
 * requires one).  vdc_scratch_make creates one with mkdtemp under `parent`
 * (NULL: $TMPDIR, else /tmp); vdc_scratch_remove deletes a directory tree
 * without following symbolic links and without leaving its parent.
 */
#ifndef VDCC_HARNESS_SCRATCH_H
#define VDCC_HARNESS_SCRATCH_H

#include <stddef.h>

/* Creates PARENT/PREFIX.XXXXXX into buf[0..cb).  Returns VINF_SUCCESS,
 * VERR_BUFFER_OVERFLOW (path too long), VERR_PATH_NOT_FOUND (parent missing)
 * or VERR_FILE_IO_ERROR (any other mkdtemp failure; errno kept). */
int vdc_scratch_make(const char *parent, const char *prefix, char *buf, size_t cb);

/* Removes path and everything below it.  Returns VINF_SUCCESS or
 * VERR_FILE_IO_ERROR (something could not be removed). */
int vdc_scratch_remove(const char *path);

#endif /* VDCC_HARNESS_SCRATCH_H */
