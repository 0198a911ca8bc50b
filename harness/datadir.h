/*
 * harness/datadir.h - where vdcc finds the files it ships: the
 * conformance corpus, the contract and the other specs.
 *
 * vdcc's data directory holds corpus/ and spec/ exactly as the source tree
 * does, so a name such as "corpus/conformance" means the same thing in a
 * checkout and in an installation.  It is looked for, in this order, and
 * never in the working directory (vdcc runs from the backend author's own
 * tree):
 *   1. $VDCC_DATADIR, when set (and then only there: an override that
 *      silently fell back would hide a typo);
 *   2. <exe dir>/../share/vdcc, the layout `ninja install` writes
 *      (tools/install.sh), found through /proc/self/exe so that an
 *      installation can move as a whole (DESTDIR, relocated prefixes);
 *   3. the source tree vdcc was built in: the nearest of the three
 *      directories above the executable that holds build.ninja and
 *      spec/vdcache.h (build/vdcc, build/asan/vdcc).
 * The first candidate holding the file wins.  When it is the working
 * directory itself, the relative name is kept, so that run inside the
 * checkout vdcc prints the same paths as always.
 */
#ifndef VDCC_HARNESS_DATADIR_H
#define VDCC_HARNESS_DATADIR_H

#include <stdbool.h>
#include <stddef.h>

/* Writes into buf[0..cb) the path of rel (a file or directory relative to
 * the data directory, e.g. "corpus/conformance") and returns true.  Returns
 * false after printing "vdcc CMD: cannot find REL (WHAT); searched: ..."
 * with every candidate tried and how to override them, when no candidate
 * holds rel or its path does not fit in cb bytes. */
bool vdc_datadir_find(const char *cmd, const char *rel, const char *what, char *buf, size_t cb);

#endif /* VDCC_HARNESS_DATADIR_H */
