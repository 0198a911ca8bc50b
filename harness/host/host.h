/*
 * harness/host/host.h - the VD side of the cache-backend ABI, as a library.
 *
 * A vdc_host plays the part of VirtualBox's VD layer for one backend
 * instance: it owns a storage (vdc_fs), builds the interface lists a backend
 * receives (disk list: ERROR and CONFIG; image list: IOINT and CONFIG;
 * operation list: PROGRESS), implements every VDINTERFACEIOINT member over
 * the storage, and captures what the backend reports.  Interfaces carry the
 * right magic and the exact cbSize, so a backend's typed getters accept them.
 *
 * Unlike VD, the host checks every argument a backend hands it: NULL or
 * unknown storage handles, transfers larger than the I/O context allows,
 * reads past the end of a file, completion callbacks with a NULL context,
 * out-of-range progress.  Each such misuse is answered with a VERR_ code
 * (never a crash), counted, and the first few are described in the log, so
 * the harness can report a backend that relies on VD's leniency.
 *
 * Everything is synchronous: transfers complete before the IOINT call
 * returns, which answers VINF_SUCCESS (never ASYNC_IO_IN_PROGRESS), and
 * ReadMeta sets *ppMetaXfer to NULL when given.  spec/contract.md, HOST.
 *
 * How each kind of misuse is answered (and counted in stats.misuse):
 *  - storage handle NULL, unknown or closed: VERR_INVALID_HANDLE.  Handles
 *    are looked up by address before use, never dereferenced blindly.
 *  - NULL string or output pointer, NULL or invalid I/O context (ReadUser,
 *    WriteUser, or ReadMeta/WriteMeta/Flush with a non-NULL one), or a NULL
 *    context (synchronous) together with non-NULL ppMetaXfer / pfnComplete
 *    / pvCompleteUser: VERR_INVALID_POINTER.
 *  - ReadUser/WriteUser of more than ctx->left: VERR_INVALID_PARAMETER,
 *    nothing moved.  Open without an access mode, SetAllocationSize with
 *    fFlags != 0, a percent range past 100 or a bad progress interface,
 *    pfnProgress over 100: VERR_INVALID_PARAMETER.
 *  - IoCtxCopyTo/CopyFrom/Set/SegArrayCreate asking for more than ctx->left:
 *    counted, and the call moves what is left (as ioctx.h does).  With an
 *    invalid context they return 0, IsZero false, IsSynchronous true,
 *    GetDataUnitSize 0, Completed nothing.
 *  - MetaXferRelease of anything but NULL (the host never hands one out).
 * Not misuse: reads past the end (VERR_EOF), and every status the storage
 * reports (fs.h).  Completion callbacks are never called.
 *
 * Threading: one host per thread; no global state.
 */
#ifndef VDCC_HARNESS_HOST_HOST_H
#define VDCC_HARNESS_HOST_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../spec/vdcache.h"
#include "fs.h"
#include "ioctx.h"

typedef struct vdc_host vdc_host;

/* The log never holds more than this many bytes (its NUL not counted). */
#define VDC_HOST_LOG_MAX 65536
/* Misuse beyond this many (since creation or the last vdc_host_log_clear)
 * is counted but not described; one line in the log says so. */
#define VDC_HOST_MISUSE_DESCRIBED 32

/* What the host counted.  Plain counters, read them at any time. */
typedef struct vdc_host_stats {
    uint64_t misuse;            /* invalid calls from the backend, all kinds */
    uint64_t opens, closes;     /* storage handles */
    uint64_t meta_reads, meta_writes, user_reads, user_writes, flushes;
    uint64_t bytes_read, bytes_written;
    uint64_t errors_reported;   /* pfnError calls */
    uint64_t messages;          /* pfnMessage calls */
    uint64_t progress_calls;
    unsigned last_progress;     /* last percentage reported */
    unsigned open_storages;     /* handles open right now: > 0 after close is a leak */
} vdc_host_stats;

/*
 * Creates a host over fs (not owned: destroy it after the host).  Returns
 * NULL when out of memory.
 */
vdc_host *vdc_host_new(vdc_fs *fs);

/* Closes any storage the backend left open (counting each as misuse) and
 * frees the host.  NULL is ignored. */
void vdc_host_free(vdc_host *host);

/* The interface lists to pass to a backend.  Valid until vdc_host_free.
 * What they hold depends on the host's interface mode (below). */
PVDINTERFACE vdc_host_disk_ifs(vdc_host *host);   /* ERROR -> CONFIG */
PVDINTERFACE vdc_host_image_ifs(vdc_host *host);  /* IOINT -> CONFIG */
PVDINTERFACE vdc_host_op_ifs(vdc_host *host);     /* PROGRESS */

/*
 * Which of the optional interfaces the lists carry.  VD always passes its
 * IOINT; ERROR, CONFIG and PROGRESS come from VD's caller, which may pass
 * none of them (a tool calling VDCreate with NULL lists), and ERROR's
 * pfnMessage may be NULL (vbox-behaviour section 2).  spec/contract.md HOST-5.
 *   VDC_HOST_IFS_FULL       all of them (the default)
 *   VDC_HOST_IFS_BARE       IOINT alone: the disk and operation lists are
 *                           NULL, the image and probe lists end after IOINT
 *   VDC_HOST_IFS_NOMESSAGE  all of them, with ERROR's pfnMessage NULL
 *   VDC_HOST_IFS_NOPREALLOC all of them, and IOINT's pfnSetAllocationSize
 *                           answers VERR_NOT_SUPPORTED after its argument
 *                           checks, as VD's does on a file system that
 *                           cannot preallocate (RTFileSetAllocationSize);
 *                           pfnSetSize still works
 * Takes effect for the lists fetched afterwards; a backend that kept a
 * pointer to an interface keeps a valid one (nothing is freed).
 */
typedef enum vdc_host_ifs_mode {
    VDC_HOST_IFS_FULL = 0,
    VDC_HOST_IFS_BARE,
    VDC_HOST_IFS_NOMESSAGE,
    VDC_HOST_IFS_NOPREALLOC
} vdc_host_ifs_mode;
void vdc_host_set_ifs(vdc_host *host, vdc_host_ifs_mode mode);
/*
 * The image list as VD builds it for probing: an IOINT where only the 13
 * members VD fills for probe are real, and every other member (SetAllocation
 * Size, MetaXferRelease, IoCtx*) is a trap that counts misuse, logs
 * "misuse: probe called pfnXxx, which VD leaves uninitialised" and returns
 * VERR_INVALID_STATE, 0 or false.  It is followed by the same CONFIG
 * interface as the image list.  Valid until vdc_host_free.
 */
PVDINTERFACE vdc_host_probe_ifs(vdc_host *host);

/* Direct access to the IOINT the host built (its Core.pvUser is the host). */
PVDINTERFACEIOINT vdc_host_ioint(vdc_host *host);

/*
 * Config values the CONFIG interface serves: key=value, replaced if set.
 * Returns VINF_SUCCESS, VERR_INVALID_PARAMETER (key or value NULL) or
 * VERR_NO_MEMORY.  The interface serves them as strings: QuerySize counts
 * the NUL, Query needs room for it (else VERR_CFGM_NOT_ENOUGH_SPACE),
 * QueryBytes copies the characters without the NUL and zeroes any room
 * left; a missing key is VERR_CFGM_VALUE_NOT_FOUND; Update replaces, and
 * adds a key only when fCreate; AreKeysValid is true when every configured
 * key appears in the backend's list.  Keys match exactly (case-sensitive).
 */
int vdc_host_config_set(vdc_host *host, const char *key, const char *value);

/* The data unit size IoCtxGetDataUnitSize reports for contexts made with
 * vdc_host_ioctx_init (512 until set).  IoCtxGetDataUnitSize answers
 * ctx->data_unit, which vdc_ioctx_init sets to 512. */
void vdc_host_set_data_unit(vdc_host *host, size_t cb);

/* vdc_ioctx_init, then ctx->data_unit = the host's data unit size. */
void vdc_host_ioctx_init(vdc_host *host, struct VDIOCTX *ctx, const RTSGSEG *segs, unsigned nsegs);

const vdc_host_stats *vdc_host_get_stats(const vdc_host *host);

/* Leak attribution: every storage the backend opens from now on carries
 * tag (0 until set; the replay sets the number of the call it makes).
 * vdc_host_open_tags writes the tags of up to max storages open now into
 * tags (in no particular order) and returns how many are open. */
void     vdc_host_set_tag(vdc_host *host, unsigned tag);
unsigned vdc_host_open_tags(const vdc_host *host, unsigned *tags, unsigned max);

/*
 * The log: every pfnError, pfnMessage and misuse description, one per line,
 * prefixed "error: ", "message: " or "misuse: ".  An error line reads
 * "error: rc=-102 (VERR_FILE_NOT_FOUND) at file.c:42 func: message" (the
 * name is "?" for a code spec/vdcache.h does not define).  Trailing
 * newlines of a message are folded into the line's own.  The log holds at
 * most VDC_HOST_LOG_MAX bytes: it keeps its first lines, and once a line
 * does not fit, that line and all later ones are dropped and the log ends
 * with "[log truncated: N bytes dropped]\n".  vdc_host_log_clear empties
 * it (and restarts the count of described misuse).  The returned string
 * stays valid until the next host call.
 */
const char *vdc_host_log(const vdc_host *host);
void vdc_host_log_clear(vdc_host *host);

/* The storage the host works on. */
vdc_fs *vdc_host_fs(vdc_host *host);

#endif /* VDCC_HARNESS_HOST_HOST_H */
