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
 * frees the host. */
void vdc_host_free(vdc_host *host);

/* The interface lists to pass to a backend.  Valid until vdc_host_free. */
PVDINTERFACE vdc_host_disk_ifs(vdc_host *host);   /* ERROR -> CONFIG */
PVDINTERFACE vdc_host_image_ifs(vdc_host *host);  /* IOINT -> CONFIG */
PVDINTERFACE vdc_host_op_ifs(vdc_host *host);     /* PROGRESS */
/*
 * The image list as VD builds it for probing: an IOINT where only the 13
 * members VD fills for probe are real, and every other member (SetAllocation
 * Size, MetaXferRelease, IoCtx*) is a trap that counts misuse, logs it and
 * returns an error or zero.  Valid until vdc_host_free.
 */
PVDINTERFACE vdc_host_probe_ifs(vdc_host *host);

/* Direct access to the IOINT the host built (its Core.pvUser is the host). */
PVDINTERFACEIOINT vdc_host_ioint(vdc_host *host);

/* Config values the CONFIG interface serves: key=value, replaced if set.
 * Returns VINF_SUCCESS or VERR_NO_MEMORY. */
int vdc_host_config_set(vdc_host *host, const char *key, const char *value);

/* The data unit size IoCtxGetDataUnitSize reports for new contexts (512). */
void vdc_host_set_data_unit(vdc_host *host, size_t cb);

const vdc_host_stats *vdc_host_get_stats(const vdc_host *host);

/*
 * The log: every pfnError, pfnMessage and misuse description, one per line,
 * prefixed "error: ", "message: " or "misuse: ".  The log holds at most 64
 * KiB; beyond that it ends with a line saying how many bytes were dropped.
 * The returned string stays valid until the next host call.
 */
const char *vdc_host_log(const vdc_host *host);
void vdc_host_log_clear(vdc_host *host);

/* The storage the host works on. */
vdc_fs *vdc_host_fs(vdc_host *host);

#endif /* VDCC_HARNESS_HOST_HOST_H */
