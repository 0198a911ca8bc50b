/*
 * harness/host/uuid.c - UUIDs through libuuid, in RFC 4122 byte order.
 *
 * Contract and the byte-order decision: uuid.h (RTUUID itself is
 * spec/vdcache.h section 2).  vdc_uuid_parse returns
 * VINF_SUCCESS or VERR_INVALID_PARAMETER; the others cannot fail.
 * libuuid's uuid_t is 16 unsigned chars, so the bytes move with memcpy,
 * never through RTUUID.Gen.
 */
#include "uuid.h"

#include <string.h>
#include <uuid/uuid.h>

#ifdef VDCC_MSAN
# include <sanitizer/msan_interface.h>
# define UNPOISON(p, cb) __msan_unpoison((p), (cb))
#else
# define UNPOISON(p, cb) ((void)(p), (void)(cb))
#endif

void vdc_uuid_generate(RTUUID *out)
{
    uuid_t raw;
    uuid_generate(raw);
    UNPOISON(raw, sizeof raw);
    memcpy(out->au8, raw, sizeof out->au8);
}

int vdc_uuid_parse(const char *s, RTUUID *out)
{
    uuid_t raw;
    if (s == NULL || out == NULL)
        return VERR_INVALID_PARAMETER;
    /* uuid_parse reads exactly 36 characters and then the terminator, so a
     * longer string is refused there; a shorter one stops at its NUL. */
    if (strnlen(s, VDC_UUID_STR_LEN + 1) != VDC_UUID_STR_LEN)
        return VERR_INVALID_PARAMETER;
    if (uuid_parse(s, raw) != 0)
        return VERR_INVALID_PARAMETER;
    UNPOISON(raw, sizeof raw);
    memcpy(out->au8, raw, sizeof out->au8);
    return VINF_SUCCESS;
}

void vdc_uuid_format(const RTUUID *u, char out[VDC_UUID_STR_LEN + 1])
{
    uuid_t raw;
    memcpy(raw, u->au8, sizeof raw);
    uuid_unparse_lower(raw, out);
    UNPOISON(out, VDC_UUID_STR_LEN + 1);
}
