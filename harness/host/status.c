/*
 * harness/host/status.c - status code <-> name, over one constant table.
 *
 * Contract: status.h.  vdc_status_name returns a static string or NULL;
 * vdc_status_from_name returns VINF_SUCCESS or VERR_NOT_FOUND.  The table is
 * every VINF_/VERR_ code of spec/vdcache.h section 1, listed in header order;
 * tests/test_host_util.c parses the header at run time and checks that no
 * code is missing and that every name maps to its value.
 */
#include "status.h"

#include <stddef.h>
#include <string.h>

#include "../../spec/vdcache.h"

typedef struct status_entry {
    int         rc;
    const char *name;
} status_entry;

#define S(code) { code, #code }
static const status_entry status_table[] = {
    S(VINF_SUCCESS),
    S(VERR_GENERAL_FAILURE),
    S(VERR_INVALID_PARAMETER),
    S(VERR_INVALID_MAGIC),
    S(VERR_INVALID_HANDLE),
    S(VERR_INVALID_POINTER),
    S(VERR_NO_MEMORY),
    S(VERR_PERMISSION_DENIED),
    S(VERR_VERSION_MISMATCH),
    S(VERR_NOT_IMPLEMENTED),
    S(VERR_INVALID_FLAGS),
    S(VERR_NOT_SUPPORTED),
    S(VERR_ACCESS_DENIED),
    S(VERR_BUFFER_OVERFLOW),
    S(VERR_TOO_MUCH_DATA),
    S(VERR_OUT_OF_RANGE),
    S(VERR_NOT_FOUND),
    S(VERR_INVALID_STATE),
    S(VERR_IGNORED),
    S(VERR_FILE_IO_ERROR),
    S(VERR_FILE_NOT_FOUND),
    S(VERR_PATH_NOT_FOUND),
    S(VERR_ALREADY_EXISTS),
    S(VERR_EOF),
    S(VINF_EOF),
    S(VERR_READ_ERROR),
    S(VERR_WRITE_ERROR),
    S(VERR_WRITE_PROTECT),
    S(VERR_SHARING_VIOLATION),
    S(VERR_FILE_LOCK_FAILED),
    S(VERR_FILE_TOO_BIG),
    S(VERR_DISK_IO_ERROR),
    S(VERR_DISK_FULL),
    S(VERR_INTERNAL_ERROR),
    S(VERR_INTERNAL_ERROR_2),
    S(VERR_INTERNAL_ERROR_3),
    S(VERR_INTERNAL_ERROR_4),
    S(VERR_SYMBOL_NOT_FOUND),
    S(VERR_CFGM_VALUE_NOT_FOUND),
    S(VERR_CFGM_NO_PARENT),
    S(VERR_CFGM_NOT_ENOUGH_SPACE),
    S(VERR_VD_INVALID_TYPE),
    S(VERR_VD_INVALID_STATE),
    S(VERR_VD_VALUE_NOT_FOUND),
    S(VERR_VD_NOT_OPENED),
    S(VERR_VD_IMAGE_NOT_FOUND),
    S(VERR_VD_IMAGE_READ_ONLY),
    S(VERR_VD_GEOMETRY_NOT_SET),
    S(VERR_VD_BLOCK_FREE),
    S(VERR_VD_UUID_MISMATCH),
    S(VINF_VD_ASYNC_IO_FINISHED),
    S(VERR_VD_ASYNC_IO_IN_PROGRESS),
    S(VERR_VD_INVALID_SIZE),
    S(VERR_VD_UNKNOWN_CFG_VALUES),
    S(VERR_VD_UNKNOWN_INTERFACE),
    S(VERR_VD_DEK_MISSING),
    S(VERR_VD_PASSWORD_INCORRECT),
    S(VERR_VD_GEN_INVALID_HEADER),
    S(VERR_VD_RAW_INVALID_HEADER),
    S(VERR_VD_RAW_INVALID_TYPE),
    S(VERR_VD_NOT_ENOUGH_METADATA),
    S(VERR_VD_IOCTX_HALT),
    S(VERR_VD_CACHE_ALREADY_EXISTS),
    S(VERR_VD_CACHE_NOT_FOUND),
    S(VERR_VD_CACHE_NOT_UP_TO_DATE),
    S(VERR_VD_DISCARD_ALIGNMENT_NOT_MET),
    S(VERR_VD_DISCARD_NOT_SUPPORTED),
    S(VERR_VD_IMAGE_CORRUPTED),
    S(VERR_VD_READ_OUT_OF_RANGE),
    S(VINF_VD_NEW_ZEROED_BLOCK),
    S(VERR_VD_SHRINK_NOT_SUPPORTED),
    S(VERR_VCI_NO_BLOCKS_FREE),
};
#undef S

#define STATUS_COUNT (sizeof status_table / sizeof status_table[0])

const char *vdc_status_name(int rc)
{
    for (size_t i = 0; i < STATUS_COUNT; i++)
        if (status_table[i].rc == rc)
            return status_table[i].name;
    return NULL;
}

int vdc_status_from_name(const char *name, int *rc)
{
    if (name == NULL || rc == NULL)
        return VERR_NOT_FOUND;
    for (size_t i = 0; i < STATUS_COUNT; i++) {
        if (strcmp(status_table[i].name, name) == 0) {
            *rc = status_table[i].rc;
            return VINF_SUCCESS;
        }
    }
    return VERR_NOT_FOUND;
}
