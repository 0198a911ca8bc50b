/*
 * harness/host/tests/test_abi.c - spec/vdcache.h's ABI, checked at run time.
 *
 * The header's _Static_asserts already pin every size and offset at
 * compile time; this test prints the same figures from offsetof/sizeof as
 * the compiler lays them out in this build (so a sanitizer or optimisation
 * variant cannot differ silently) and checks them against the numbers in
 * spec/vbox-behaviour.md.  It also checks the header's logic: the version
 * compatibility macro, VD's open-flag translation, the list walker and the
 * typed getters.
 */
#include "tests/check.h"

#include "spec/vdcache.h"

typedef struct layout_fact {
    const char *what;
    size_t got, want;
} layout_fact;

#define SZ(type, want)       { "sizeof(" #type ")", sizeof(type), want }
#define OFF(type, mem, want) { #type "." #mem, offsetof(type, mem), want }

static const layout_fact facts[] = {
    SZ(RTUUID, 16), SZ(RTSGSEG, 16), SZ(RTTIMESPEC, 8),
    OFF(RTUUID, Gen.u16TimeMid, 4), OFF(RTUUID, Gen.u8ClockSeqHiAndReserved, 8), OFF(RTUUID, Gen.au8Node, 10),
    OFF(RTSGSEG, pvSeg, 0), OFF(RTSGSEG, cbSeg, 8),
    SZ(VDINTERFACE, 48),
    OFF(VDINTERFACE, u32Magic, 0), OFF(VDINTERFACE, pszInterfaceName, 8), OFF(VDINTERFACE, pNext, 16),
    OFF(VDINTERFACE, enmInterface, 24), OFF(VDINTERFACE, cbSize, 32), OFF(VDINTERFACE, pvUser, 40),
    SZ(VDINTERFACEERROR, 64), OFF(VDINTERFACEERROR, pfnError, 48), OFF(VDINTERFACEERROR, pfnMessage, 56),
    SZ(VDINTERFACEPROGRESS, 56), OFF(VDINTERFACEPROGRESS, pfnProgress, 48),
    SZ(VDINTERFACECONFIG, 88),
    OFF(VDINTERFACECONFIG, pfnAreKeysValid, 48), OFF(VDINTERFACECONFIG, pfnQuerySize, 56),
    OFF(VDINTERFACECONFIG, pfnQuery, 64), OFF(VDINTERFACECONFIG, pfnQueryBytes, 72),
    OFF(VDINTERFACECONFIG, pfnUpdate, 80),
    SZ(VDINTERFACEIO, 168),
    OFF(VDINTERFACEIO, pfnOpen, 48), OFF(VDINTERFACEIO, pfnSetAllocationSize, 112),
    OFF(VDINTERFACEIO, pfnWriteSync, 120), OFF(VDINTERFACEIO, pfnFlushAsync, 160),
    SZ(VDINTERFACEIOINT, 232),
    OFF(VDINTERFACEIOINT, pfnOpen, 48), OFF(VDINTERFACEIOINT, pfnClose, 56),
    OFF(VDINTERFACEIOINT, pfnDelete, 64), OFF(VDINTERFACEIOINT, pfnMove, 72),
    OFF(VDINTERFACEIOINT, pfnGetFreeSpace, 80), OFF(VDINTERFACEIOINT, pfnGetModificationTime, 88),
    OFF(VDINTERFACEIOINT, pfnGetSize, 96), OFF(VDINTERFACEIOINT, pfnSetSize, 104),
    OFF(VDINTERFACEIOINT, pfnSetAllocationSize, 112), OFF(VDINTERFACEIOINT, pfnReadUser, 120),
    OFF(VDINTERFACEIOINT, pfnWriteUser, 128), OFF(VDINTERFACEIOINT, pfnReadMeta, 136),
    OFF(VDINTERFACEIOINT, pfnWriteMeta, 144), OFF(VDINTERFACEIOINT, pfnMetaXferRelease, 152),
    OFF(VDINTERFACEIOINT, pfnFlush, 160), OFF(VDINTERFACEIOINT, pfnIoCtxCopyTo, 168),
    OFF(VDINTERFACEIOINT, pfnIoCtxCopyFrom, 176), OFF(VDINTERFACEIOINT, pfnIoCtxSet, 184),
    OFF(VDINTERFACEIOINT, pfnIoCtxSegArrayCreate, 192), OFF(VDINTERFACEIOINT, pfnIoCtxCompleted, 200),
    OFF(VDINTERFACEIOINT, pfnIoCtxIsSynchronous, 208), OFF(VDINTERFACEIOINT, pfnIoCtxIsZero, 216),
    OFF(VDINTERFACEIOINT, pfnIoCtxGetDataUnitSize, 224),
    SZ(VDCONFIGINFO, 32),
    OFF(VDCONFIGINFO, pszKey, 0), OFF(VDCONFIGINFO, pszDefaultValue, 8), OFF(VDCONFIGINFO, enmValueType, 16),
    OFF(VDCONFIGINFO, uKeyFlags, 24),
    SZ(VDCACHEBACKEND, 232),
    OFF(VDCACHEBACKEND, u32Version, 0), OFF(VDCACHEBACKEND, pszBackendName, 8),
    OFF(VDCACHEBACKEND, uBackendCaps, 16), OFF(VDCACHEBACKEND, papszFileExtensions, 24),
    OFF(VDCACHEBACKEND, paConfigInfo, 32), OFF(VDCACHEBACKEND, pfnProbe, 40), OFF(VDCACHEBACKEND, pfnOpen, 48),
    OFF(VDCACHEBACKEND, pfnCreate, 56), OFF(VDCACHEBACKEND, pfnClose, 64), OFF(VDCACHEBACKEND, pfnRead, 72),
    OFF(VDCACHEBACKEND, pfnWrite, 80), OFF(VDCACHEBACKEND, pfnFlush, 88), OFF(VDCACHEBACKEND, pfnDiscard, 96),
    OFF(VDCACHEBACKEND, pfnGetVersion, 104), OFF(VDCACHEBACKEND, pfnGetSize, 112),
    OFF(VDCACHEBACKEND, pfnGetFileSize, 120), OFF(VDCACHEBACKEND, pfnGetImageFlags, 128),
    OFF(VDCACHEBACKEND, pfnGetOpenFlags, 136), OFF(VDCACHEBACKEND, pfnSetOpenFlags, 144),
    OFF(VDCACHEBACKEND, pfnGetComment, 152), OFF(VDCACHEBACKEND, pfnSetComment, 160),
    OFF(VDCACHEBACKEND, pfnGetUuid, 168), OFF(VDCACHEBACKEND, pfnSetUuid, 176),
    OFF(VDCACHEBACKEND, pfnGetModificationUuid, 184), OFF(VDCACHEBACKEND, pfnSetModificationUuid, 192),
    OFF(VDCACHEBACKEND, pfnDump, 200), OFF(VDCACHEBACKEND, pfnComposeLocation, 208),
    OFF(VDCACHEBACKEND, pfnComposeName, 216), OFF(VDCACHEBACKEND, u32VersionEnd, 224),
    SZ(VDBACKENDREGISTER, 32),
    OFF(VDBACKENDREGISTER, u32Version, 0), OFF(VDBACKENDREGISTER, pfnRegisterImage, 8),
    OFF(VDBACKENDREGISTER, pfnRegisterCache, 16), OFF(VDBACKENDREGISTER, pfnRegisterFilter, 24),
    SZ(VDINTERFACETYPE, 4), SZ(bool, 1),
};

static void test_layout(void)
{
    for (size_t i = 0; i < sizeof facts / sizeof facts[0]; i++) {
        printf("# %-48s %3zu\n", facts[i].what, facts[i].got);
        if (facts[i].got != facts[i].want) {
            fprintf(stderr, "  %s is %zu, VirtualBox has %zu\n", facts[i].what, facts[i].got, facts[i].want);
            CHECK(!"layout differs");
        }
    }
    CHECK_EQ(_Alignof(RTUUID), 8);
}

static void test_constants(void)
{
    CHECK_EQ(VDINTERFACE_MAGIC, 0x19701015u);
    CHECK_EQ(VDINTERFACETYPE_ERROR, 0);
    CHECK_EQ(VDINTERFACETYPE_PROGRESS, 2);
    CHECK_EQ(VDINTERFACETYPE_CONFIG, 3);
    CHECK_EQ(VDINTERFACETYPE_IOINT, 7);
    CHECK_EQ(VDINTERFACETYPE_INVALID, 11);
    CHECK_EQ(VD_CACHEBACKEND_VERSION, 0xFF030010u);
    CHECK_EQ(VD_BACKENDREG_CB_VERSION, 0xFF000010u);
    CHECK_EQ(VD_VERSION_MAGIC(VD_CACHEBACKEND_VERSION), 0xFF03);
    CHECK_EQ(VD_VERSION_MAJOR(VD_CACHEBACKEND_VERSION), 1);
    CHECK_EQ(VD_VERSION_MINOR(VD_CACHEBACKEND_VERSION), 0);
    CHECK_EQ(VD_OPEN_FLAGS_MASK, 0x7FF);
    CHECK_EQ(VD_IMAGE_FLAGS_MASK, 0x3010F);
    CHECK_EQ(VD_CAP_CREATE_FIXED | VD_CAP_CREATE_DYNAMIC | VD_CAP_FILE | VD_CAP_VFS, 0x246);
}

static void test_version_compat(void)
{
    static const struct {
        uint32_t host, backend;
        bool ok;
    } table[] = {
        { 0xFF030010u, 0xFF030010u, true },  /* equal */
        { 0xFF030011u, 0xFF030010u, true },  /* newer host minor serves older backend */
        { 0xFF03001Fu, 0xFF030010u, true },
        { 0xFF030010u, 0xFF030011u, false }, /* backend newer than host */
        { 0xFF030020u, 0xFF030010u, false }, /* major differs */
        { 0xFF030010u, 0xFF030020u, false },
        { 0xFF040010u, 0xFF030010u, false }, /* magic differs */
        { 0xFF030010u, 0xFF000010u, false }, /* register-callback version is not a cache version */
        { 0xFF030010u, 0x00000000u, false },
        { 0x00000000u, 0x00000000u, true },  /* equal, however odd */
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        bool got = VD_VERSION_ARE_COMPATIBLE(table[i].host, table[i].backend);
        if (got != table[i].ok) {
            fprintf(stderr, "  compatible(%#x, %#x) = %d\n", table[i].host, table[i].backend, got);
            CHECK(!"version compatibility");
        }
    }
    CHECK(VD_VERSION_ARE_COMPATIBLE(VD_CACHEBACKEND_VERSION, VD_VERSION_MAKE(0xff03, 1, 0)));
    CHECK(!VD_VERSION_ARE_COMPATIBLE(VD_CACHEBACKEND_VERSION, VD_VERSION_MAKE(0xff03, 2, 0)));
}

static void test_open_flags(void)
{
    CHECK_EQ(vdc_open_flags_to_file(VD_OPEN_FLAGS_READONLY, false), 0x781);
    CHECK_EQ(vdc_open_flags_to_file(VD_OPEN_FLAGS_NORMAL, false), 0x723);
    CHECK_EQ(vdc_open_flags_to_file(VD_OPEN_FLAGS_SHAREABLE, false), 0x783);
    CHECK_EQ(vdc_open_flags_to_file(VD_OPEN_FLAGS_NORMAL, true), 0xA23);
    CHECK_EQ(vdc_open_flags_to_file(VD_OPEN_FLAGS_SHAREABLE, true), 0xA83);
    /* Flags that do not concern the file change nothing. */
    CHECK_EQ(vdc_open_flags_to_file(VD_OPEN_FLAGS_HONOR_SAME | VD_OPEN_FLAGS_INFO | VD_OPEN_FLAGS_DISCARD,
                                    false),
             0x723);
    CHECK_EQ(vdc_open_flags_to_file(VD_OPEN_FLAGS_READONLY | VD_OPEN_FLAGS_SHAREABLE, false), 0x781);
}

static void test_if_walk(void)
{
    VDINTERFACEERROR err = { { VDINTERFACE_MAGIC, "e", NULL, VDINTERFACETYPE_ERROR, sizeof(VDINTERFACEERROR),
                               NULL },
                             NULL, NULL };
    VDINTERFACE broken = { 0x12345678u, "broken", NULL, VDINTERFACETYPE_CONFIG, sizeof(VDINTERFACECONFIG),
                           NULL };
    VDINTERFACEIOINT io;
    memset(&io, 0, sizeof io);
    io.Core.u32Magic = VDINTERFACE_MAGIC;
    io.Core.enmInterface = VDINTERFACETYPE_IOINT;
    io.Core.cbSize = sizeof io;
    VDINTERFACEPROGRESS prog = { { VDINTERFACE_MAGIC, "p", NULL, VDINTERFACETYPE_PROGRESS, 48, NULL }, NULL };

    /* err -> broken -> io: the walk stops at the bad magic. */
    err.Core.pNext = &broken;
    broken.pNext = &io.Core;
    CHECK(vdc_if_find(&err.Core, VDINTERFACETYPE_ERROR) == &err.Core);
    CHECK(vdc_if_find(&err.Core, VDINTERFACETYPE_IOINT) == NULL);
    CHECK(vdc_if_find(&err.Core, VDINTERFACETYPE_CONFIG) == NULL);
    CHECK(vdc_if_ioint(&err.Core) == NULL);
    CHECK(vdc_if_error(&err.Core) == &err);
    /* Repaired, the IOINT is found. */
    broken.u32Magic = VDINTERFACE_MAGIC;
    CHECK(vdc_if_find(&err.Core, VDINTERFACETYPE_IOINT) == &io.Core);
    CHECK(vdc_if_ioint(&err.Core) == &io);
    CHECK(vdc_if_find(NULL, VDINTERFACETYPE_ERROR) == NULL);
    /* The first of a type wins. */
    VDINTERFACEERROR err2 = err;
    err2.Core.pNext = &err.Core;
    CHECK(vdc_if_error(&err2.Core) == &err2);

    /* Typed getters insist on the exact cbSize. */
    io.Core.cbSize = sizeof io - 8;
    CHECK(vdc_if_find(&err.Core, VDINTERFACETYPE_IOINT) == &io.Core);
    CHECK(vdc_if_ioint(&err.Core) == NULL);
    io.Core.cbSize = sizeof io + 8;
    CHECK(vdc_if_ioint(&err.Core) == NULL);
    err.Core.cbSize = 56;
    CHECK(vdc_if_error(&err.Core) == NULL);
    CHECK(vdc_if_progress(&prog.Core) == NULL); /* cbSize 48 */
    prog.Core.cbSize = sizeof prog;
    CHECK(vdc_if_progress(&prog.Core) == &prog);
    broken.cbSize = 80;
    CHECK(vdc_if_config(&err.Core) == NULL);
    broken.cbSize = sizeof(VDINTERFACECONFIG);
    CHECK((PVDINTERFACE)vdc_if_config(&err.Core) == &broken);
}

CHECK_MAIN(CHECK_CASE(test_layout), CHECK_CASE(test_constants), CHECK_CASE(test_version_compat),
           CHECK_CASE(test_open_flags), CHECK_CASE(test_if_walk))
