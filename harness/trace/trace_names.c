/*
 * harness/trace/trace_names.c - the vocabulary of the trace format.
 *
 * Contract: trace_int.h (vdc_op_lookup, vdc_op_info_of, vdc_flag_names) and
 * trace.h (vdc_op_name, vdc_caps_text).  Pure lookups over constant tables; nothing fails
 * except by returning NULL for an unknown name.  The tables are
 * spec/trace-format.md sections 2.5 (flag names) and 4 (which record takes
 * which arguments and outputs, and its default status).
 */
#include "trace_int.h"

#include <stdio.h>
#include <string.h>

#define A(x) VDC_A_##x
#define O(x) VDC_O_##x

static const vdc_op_info op_table[VDC_OP_COUNT_] = {
    [VDC_OP_PROBE] = { "probe", VDC_POS_FILE, 0, 0, 0, VDC_DEF_OK, false, false, VDC_FS_NONE, VDC_FS_NONE },
    [VDC_OP_OPEN] = { "open", VDC_POS_HANDLE, A(FILE) | A(FLAGS), 0, 0, VDC_DEF_OK, false, false,
                      VDC_FS_OPEN, VDC_FS_NONE },
    [VDC_OP_CREATE] = { "create", VDC_POS_HANDLE,
                        A(FILE) | A(SIZE) | A(IMAGE) | A(FLAGS) | A(COMMENT) | A(UUID) | A(START) | A(SPAN),
                        A(SIZE), 0, VDC_DEF_OK, false, false, VDC_FS_OPEN, VDC_FS_NONE },
    [VDC_OP_CLOSE] = { "close", VDC_POS_HANDLE, A(DELETE), 0, 0, VDC_DEF_OK, false, false, VDC_FS_NONE,
                       VDC_FS_NONE },
    [VDC_OP_READ] = { "read", VDC_POS_HANDLE, A(OFF) | A(LEN), A(OFF) | A(LEN), O(DATA) | O(COUNT),
                      VDC_DEF_HITMISS, true, false, VDC_FS_NONE, VDC_FS_NONE },
    [VDC_OP_WRITE] = { "write", VDC_POS_HANDLE, A(OFF) | A(LEN) | A(DATA), A(OFF) | A(LEN) | A(DATA),
                       O(COUNT), VDC_DEF_OK, false, false, VDC_FS_NONE, VDC_FS_NONE },
    [VDC_OP_FLUSH] = { "flush", VDC_POS_HANDLE, 0, 0, 0, VDC_DEF_OK, false, false, VDC_FS_NONE, VDC_FS_NONE },
    [VDC_OP_DISCARD] = { "discard", VDC_POS_HANDLE, A(OFF) | A(LEN) | A(FLAGS), A(OFF) | A(LEN),
                         O(PRE) | O(POST) | O(DISCARDED), VDC_DEF_OK, false, false, VDC_FS_DISCARD,
                         VDC_FS_NONE },
    [VDC_OP_GET_VERSION] = { "get-version", VDC_POS_HANDLE, 0, 0, O(VALUE), VDC_DEF_NONE, false, false,
                             VDC_FS_NONE, VDC_FS_NONE },
    [VDC_OP_GET_SIZE] = { "get-size", VDC_POS_HANDLE, 0, 0, O(VALUE), VDC_DEF_NONE, false, false,
                          VDC_FS_NONE, VDC_FS_NONE },
    [VDC_OP_GET_FILE_SIZE] = { "get-file-size", VDC_POS_HANDLE, 0, 0, O(VALUE), VDC_DEF_NONE, false, false,
                               VDC_FS_NONE, VDC_FS_NONE },
    [VDC_OP_GET_IMAGE_FLAGS] = { "get-image-flags", VDC_POS_HANDLE, 0, 0, O(VALUE), VDC_DEF_NONE, false,
                                 false, VDC_FS_NONE, VDC_FS_IMAGE },
    [VDC_OP_GET_OPEN_FLAGS] = { "get-open-flags", VDC_POS_HANDLE, 0, 0, O(VALUE), VDC_DEF_NONE, false,
                                false, VDC_FS_NONE, VDC_FS_OPEN },
    [VDC_OP_SET_OPEN_FLAGS] = { "set-open-flags", VDC_POS_HANDLE, A(FLAGS), A(FLAGS), 0, VDC_DEF_OK, false,
                                false, VDC_FS_OPEN, VDC_FS_NONE },
    [VDC_OP_GET_COMMENT] = { "get-comment", VDC_POS_HANDLE, A(BUF), 0, O(COMMENT), VDC_DEF_OK, false,
                             false, VDC_FS_NONE, VDC_FS_NONE },
    [VDC_OP_SET_COMMENT] = { "set-comment", VDC_POS_HANDLE, A(COMMENT), A(COMMENT), 0, VDC_DEF_OK, false,
                             false, VDC_FS_NONE, VDC_FS_NONE },
    [VDC_OP_GET_UUID] = { "get-uuid", VDC_POS_HANDLE, 0, 0, O(UUID), VDC_DEF_OK, false, false,
                          VDC_FS_NONE, VDC_FS_NONE },
    [VDC_OP_SET_UUID] = { "set-uuid", VDC_POS_HANDLE, A(UUID), A(UUID), 0, VDC_DEF_OK, false, false,
                          VDC_FS_NONE, VDC_FS_NONE },
    [VDC_OP_GET_MOD_UUID] = { "get-mod-uuid", VDC_POS_HANDLE, 0, 0, O(UUID), VDC_DEF_OK, false, false,
                              VDC_FS_NONE, VDC_FS_NONE },
    [VDC_OP_SET_MOD_UUID] = { "set-mod-uuid", VDC_POS_HANDLE, A(UUID), A(UUID), 0, VDC_DEF_OK, false,
                              false, VDC_FS_NONE, VDC_FS_NONE },
    [VDC_OP_DUMP] = { "dump", VDC_POS_HANDLE, 0, 0, O(PRINTED), VDC_DEF_NONE, false, false, VDC_FS_NONE,
                      VDC_FS_NONE },
    [VDC_OP_COMPOSE_LOCATION] = { "compose-location", VDC_POS_NONE, 0, 0, O(STRING), VDC_DEF_OK, false,
                                  false, VDC_FS_NONE, VDC_FS_NONE },
    [VDC_OP_COMPOSE_NAME] = { "compose-name", VDC_POS_NONE, 0, 0, O(STRING), VDC_DEF_OK, false, false,
                              VDC_FS_NONE, VDC_FS_NONE },
    [VDC_OP_VDREAD] = { "vdread", VDC_POS_HANDLE, A(OFF) | A(LEN) | A(FILL), A(OFF) | A(LEN), O(DATA),
                        VDC_DEF_HITMISS, true, false, VDC_FS_NONE, VDC_FS_NONE },
    [VDC_OP_VDWRITE] = { "vdwrite", VDC_POS_HANDLE, A(OFF) | A(LEN) | A(DATA), A(OFF) | A(LEN) | A(DATA), 0,
                         VDC_DEF_OK, false, false, VDC_FS_NONE, VDC_FS_NONE },
    [VDC_OP_FILE] = { "file", VDC_POS_FILE, A(LEN) | A(DATA), A(LEN), 0, VDC_DEF_NONE, false, true,
                      VDC_FS_NONE, VDC_FS_NONE },
    [VDC_OP_EXISTS] = { "exists", VDC_POS_FILE, 0, 0, O(VALUE), VDC_DEF_NONE, false, true, VDC_FS_NONE,
                        VDC_FS_NONE },
    [VDC_OP_GONE] = { "gone", VDC_POS_FILE, 0, 0, 0, VDC_DEF_NONE, false, true, VDC_FS_NONE, VDC_FS_NONE },
    [VDC_OP_CONFIG] = { "config", VDC_POS_KEY, A(VALUE), A(VALUE), 0, VDC_DEF_NONE, false, true,
                        VDC_FS_NONE, VDC_FS_NONE },
    [VDC_OP_INTERFACES] = { "interfaces", VDC_POS_KEY, 0, 0, 0, VDC_DEF_NONE, false, true, VDC_FS_NONE,
                            VDC_FS_NONE },
    [VDC_OP_IMAGE] = { "image", VDC_POS_FILE, A(SIDECAR), A(SIDECAR), 0, VDC_DEF_NONE, false, true, VDC_FS_NONE,
                       VDC_FS_NONE },
};

int vdc_interfaces_mode(const char *name, size_t n)
{
    static const char *const modes[] = { [VDC_IFS_FULL] = "full", [VDC_IFS_BARE] = "bare",
                                         [VDC_IFS_NOMESSAGE] = "nomessage", [VDC_IFS_NOPREALLOC] = "noprealloc" };
    for (int i = 0; i < (int)(sizeof modes / sizeof modes[0]); i++)
        if (name != NULL && strlen(modes[i]) == n && memcmp(modes[i], name, n) == 0)
            return i;
    return -1;
}

const vdc_op_info *vdc_op_info_of(vdc_op op)
{
    if ((int)op <= (int)VDC_OP_NONE || (int)op >= (int)VDC_OP_COUNT_)
        return NULL;
    return &op_table[op];
}

const vdc_op_info *vdc_op_lookup(const char *s, size_t n, vdc_op *op)
{
    for (int i = VDC_OP_NONE + 1; i < VDC_OP_COUNT_; i++) {
        const char *name = op_table[i].name;
        if (strlen(name) == n && memcmp(name, s, n) == 0) {
            *op = (vdc_op)i;
            return &op_table[i];
        }
    }
    return NULL;
}

const char *vdc_op_name(vdc_op op)
{
    const vdc_op_info *oi = vdc_op_info_of(op);
    return oi != NULL ? oi->name : "?";
}

static const vdc_flag_name open_names[] = {
    { "READONLY", VD_OPEN_FLAGS_READONLY },
    { "HONOR_ZEROES", VD_OPEN_FLAGS_HONOR_ZEROES },
    { "HONOR_SAME", VD_OPEN_FLAGS_HONOR_SAME },
    { "INFO", VD_OPEN_FLAGS_INFO },
    { "ASYNC_IO", VD_OPEN_FLAGS_ASYNC_IO },
    { "SHAREABLE", VD_OPEN_FLAGS_SHAREABLE },
    { "SEQUENTIAL", VD_OPEN_FLAGS_SEQUENTIAL },
    { "DISCARD", VD_OPEN_FLAGS_DISCARD },
    { "IGNORE_FLUSH", VD_OPEN_FLAGS_IGNORE_FLUSH },
    { "INFORM_ABOUT_ZERO_BLOCKS", VD_OPEN_FLAGS_INFORM_ABOUT_ZERO_BLOCKS },
    { "SKIP_CONSISTENCY_CHECKS", VD_OPEN_FLAGS_SKIP_CONSISTENCY_CHECKS },
    { NULL, 0 },
};

static const vdc_flag_name image_names[] = {
    { "SPLIT_2G", VD_VMDK_IMAGE_FLAGS_SPLIT_2G },
    { "RAWDISK", VD_VMDK_IMAGE_FLAGS_RAWDISK },
    { "STREAM_OPTIMIZED", VD_VMDK_IMAGE_FLAGS_STREAM_OPTIMIZED },
    { "ESX", VD_VMDK_IMAGE_FLAGS_ESX },
    { "ZERO_EXPAND", VD_VDI_IMAGE_FLAGS_ZERO_EXPAND },
    { "FIXED", VD_IMAGE_FLAGS_FIXED },
    { "DIFF", VD_IMAGE_FLAGS_DIFF },
    { NULL, 0 },
};

static const vdc_flag_name discard_names[] = {
    { "MARK_UNUSED", VD_DISCARD_MARK_UNUSED },
    { NULL, 0 },
};

static const vdc_flag_name cap_names[] = {
    { "UUID", VD_CAP_UUID },
    { "CREATE_FIXED", VD_CAP_CREATE_FIXED },
    { "CREATE_DYNAMIC", VD_CAP_CREATE_DYNAMIC },
    { "CREATE_SPLIT_2G", VD_CAP_CREATE_SPLIT_2G },
    { "DIFF", VD_CAP_DIFF },
    { "ASYNC", VD_CAP_ASYNC },
    { "FILE", VD_CAP_FILE },
    { "CONFIG", VD_CAP_CONFIG },
    { "TCPNET", VD_CAP_TCPNET },
    { "VFS", VD_CAP_VFS },
    { "DISCARD", VD_CAP_DISCARD },
    { "PREFERRED", VD_CAP_PREFERRED },
    { NULL, 0 },
};

const vdc_flag_name *vdc_flag_names(vdc_flagset fs, const char **zero_name)
{
    switch (fs) {
    case VDC_FS_OPEN:
        *zero_name = "NORMAL";
        return open_names;
    case VDC_FS_IMAGE:
        *zero_name = "NONE";
        return image_names;
    case VDC_FS_DISCARD:
        *zero_name = "NONE";
        return discard_names;
    case VDC_FS_CAPS:
        *zero_name = NULL;
        return cap_names;
    case VDC_FS_NONE:
        break;
    }
    *zero_name = NULL;
    return NULL;
}

void vdc_caps_text(uint64_t caps, const char *prefix, char *buf, size_t cb)
{
    size_t n = 0;
    uint64_t known = 0;
    if (cb == 0)
        return;
    buf[0] = '\0';
    for (const vdc_flag_name *f = cap_names; f->name != NULL; f++) {
        known |= f->bit;
        if ((caps & f->bit) && n < cb)
            n += (size_t)snprintf(buf + n, cb - n, "%s%s%s", n ? " " : "", prefix, f->name);
    }
    if ((caps & ~known) && n < cb)
        snprintf(buf + n, cb - n, "%s0x%llx", n ? " " : "", (unsigned long long)(caps & ~known));
}
