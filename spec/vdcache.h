/*
 * spec/vdcache.h - the VirtualBox 7.x cache-backend ABI, in vdcc's own words.
 *
 * This header declares every type and constant that a VD cache backend and the
 * VD layer hosting it exchange: the interface lists, the internal I/O interface
 * (VDINTERFACEIOINT), the error, progress and config interfaces, the backend
 * vtable (VDCACHEBACKEND), the plugin registration structure and the status
 * codes.  It is binary-compatible with VirtualBox 7.x on x86-64 Linux (LP64,
 * SysV calling convention): a backend compiled against VirtualBox's headers runs
 * in vdcc's host, and a backend compiled against this header runs in VirtualBox.
 * Every struct carries _Static_asserts on its size and on the offset of every
 * member, so a layout slip is a compile error rather than a silent corruption.
 *
 * Facts come from spec/vbox-behaviour.md (sections 1-6); behaviour that the
 * ABI leaves to the implementer is in spec/contract.md.
 *
 * Requirements: C11 (or C++11), standard headers only.  Nothing here allocates
 * or keeps state; the small inline helpers at the end only walk lists.
 *
 * Calling convention: VirtualBox's callback macros expand to plain function
 * pointers on x86-64 Linux (no regparm, no stdcall), so every callback here is
 * an ordinary C function pointer.  `bool` is C's one-byte _Bool.
 */
#ifndef VDCC_SPEC_VDCACHE_H
#define VDCC_SPEC_VDCACHE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__cplusplus)
# define VDC_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
# define VDC_ALIGNOF(type) alignof(type)
#else
# define VDC_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
# define VDC_ALIGNOF(type) _Alignof(type)
#endif

/* The layouts below are checked for LP64 only; refuse to build elsewhere
 * rather than produce a header that silently disagrees with VirtualBox. */
VDC_STATIC_ASSERT(sizeof(void *) == 8 && sizeof(size_t) == 8 && sizeof(unsigned) == 4,
                  "vdcache.h describes the x86-64 LP64 ABI only");
VDC_STATIC_ASSERT(sizeof(bool) == 1, "VirtualBox passes bool as one byte");

/* Inline helpers are marked unused so the header compiles warning-free on
 * its own (clang warns about unused static functions in a main file). */
#if defined(__GNUC__) || defined(__clang__)
# define VDC_INLINE static inline __attribute__((unused))
#else
# define VDC_INLINE static inline
#endif

#define VDC_CHECK_SIZE(type, size) \
    VDC_STATIC_ASSERT(sizeof(type) == (size), #type " must be " #size " bytes")
#define VDC_CHECK_OFF(type, member, off) \
    VDC_STATIC_ASSERT(offsetof(type, member) == (off), #type "." #member " must be at " #off)

/* ===================================================================== */
/* 1. Status codes                                                        */
/* ===================================================================== */
/*
 * A status is an int: negative is failure, zero or positive is success
 * (positive values are informational, VINF_*).  Only the codes a cache
 * backend or its host can meet are listed; the values are VirtualBox's.
 */
#define RT_SUCCESS(rc) ((int)(rc) >= 0)
#define RT_FAILURE(rc) ((int)(rc) < 0)

#define VINF_SUCCESS                      0
#define VERR_GENERAL_FAILURE            (-1)
#define VERR_INVALID_PARAMETER          (-2)
#define VERR_INVALID_MAGIC              (-3)
#define VERR_INVALID_HANDLE             (-4)
#define VERR_INVALID_POINTER            (-6)
#define VERR_NO_MEMORY                  (-8)
#define VERR_PERMISSION_DENIED         (-10)
#define VERR_VERSION_MISMATCH          (-11)
#define VERR_NOT_IMPLEMENTED           (-12)
#define VERR_INVALID_FLAGS             (-13)
#define VERR_NOT_SUPPORTED             (-37)
#define VERR_ACCESS_DENIED             (-38)
#define VERR_BUFFER_OVERFLOW           (-41)
#define VERR_TOO_MUCH_DATA             (-42)
#define VERR_OUT_OF_RANGE              (-54)
#define VERR_NOT_FOUND                 (-78)
#define VERR_INVALID_STATE             (-79)
#define VERR_IGNORED                   (-91)
#define VERR_FILE_IO_ERROR            (-100)
#define VERR_FILE_NOT_FOUND           (-102)
#define VERR_PATH_NOT_FOUND           (-103)
#define VERR_ALREADY_EXISTS           (-105)
#define VERR_EOF                      (-110)
#define VINF_EOF                        110
#define VERR_READ_ERROR               (-111)
#define VERR_WRITE_ERROR              (-112)
#define VERR_WRITE_PROTECT            (-113)
#define VERR_SHARING_VIOLATION        (-114)
#define VERR_FILE_LOCK_FAILED         (-115)
#define VERR_FILE_TOO_BIG             (-128)
#define VERR_DISK_IO_ERROR            (-150)
#define VERR_DISK_FULL                (-152)
#define VERR_INTERNAL_ERROR           (-225)
#define VERR_INTERNAL_ERROR_2         (-226)
#define VERR_INTERNAL_ERROR_3         (-227)
#define VERR_INTERNAL_ERROR_4         (-228)
#define VERR_SYMBOL_NOT_FOUND         (-609)
#define VERR_CFGM_VALUE_NOT_FOUND    (-2103)
#define VERR_CFGM_NO_PARENT          (-2104)
#define VERR_CFGM_NOT_ENOUGH_SPACE   (-2109)

#define VERR_VD_INVALID_TYPE              (-3200)
#define VERR_VD_INVALID_STATE             (-3201)
#define VERR_VD_VALUE_NOT_FOUND           (-3202)
#define VERR_VD_NOT_OPENED                (-3203)
#define VERR_VD_IMAGE_NOT_FOUND           (-3204)
#define VERR_VD_IMAGE_READ_ONLY           (-3205)
#define VERR_VD_GEOMETRY_NOT_SET          (-3206)
#define VERR_VD_BLOCK_FREE                (-3207)
#define VERR_VD_UUID_MISMATCH             (-3208)
#define VINF_VD_ASYNC_IO_FINISHED           3209
#define VERR_VD_ASYNC_IO_IN_PROGRESS      (-3210)
#define VERR_VD_INVALID_SIZE              (-3211)
#define VERR_VD_UNKNOWN_CFG_VALUES        (-3212)
#define VERR_VD_UNKNOWN_INTERFACE         (-3213)
#define VERR_VD_DEK_MISSING               (-3214)
#define VERR_VD_PASSWORD_INCORRECT        (-3215)
#define VERR_VD_GEN_INVALID_HEADER        (-3220)
#define VERR_VD_RAW_INVALID_HEADER        (-3270)
#define VERR_VD_RAW_INVALID_TYPE          (-3271)
#define VERR_VD_NOT_ENOUGH_METADATA       (-3272)
#define VERR_VD_IOCTX_HALT                (-3273)
#define VERR_VD_CACHE_ALREADY_EXISTS      (-3274)
#define VERR_VD_CACHE_NOT_FOUND           (-3275)
#define VERR_VD_CACHE_NOT_UP_TO_DATE      (-3276)
#define VERR_VD_DISCARD_ALIGNMENT_NOT_MET (-3277)
#define VERR_VD_DISCARD_NOT_SUPPORTED     (-3278)
#define VERR_VD_IMAGE_CORRUPTED           (-3279)
#define VERR_VD_READ_OUT_OF_RANGE         (-3282)
#define VINF_VD_NEW_ZEROED_BLOCK            3283
#define VERR_VD_SHRINK_NOT_SUPPORTED      (-3290)

/* Private to VirtualBox's VCI code; it can leak out of its create. */
#define VERR_VCI_NO_BLOCKS_FREE          (-65536)

/* ===================================================================== */
/* 2. IPRT value types                                                    */
/* ===================================================================== */

/* A UUID as IPRT stores it: 16 bytes, 8-byte aligned (because of au64).
 * The first three Gen integers are kept in host (little-endian) order, not in
 * RFC 4122 network order; byte-wise copies are the safe way to move one. */
typedef union RTUUID {
    uint8_t  au8[16];
    uint16_t au16[8];
    uint32_t au32[4];
    uint64_t au64[2];
    struct {
        uint32_t u32TimeLow;
        uint16_t u16TimeMid;
        uint16_t u16TimeHiAndVersion;
        uint8_t  u8ClockSeqHiAndReserved;
        uint8_t  u8ClockSeqLow;
        uint8_t  au8Node[6];
    } Gen;
} RTUUID;
typedef RTUUID *PRTUUID;
typedef const RTUUID *PCRTUUID;
VDC_CHECK_SIZE(RTUUID, 16);
VDC_STATIC_ASSERT(VDC_ALIGNOF(RTUUID) == 8, "RTUUID is 8-byte aligned");
VDC_CHECK_OFF(RTUUID, Gen.u32TimeLow, 0);
VDC_CHECK_OFF(RTUUID, Gen.u16TimeMid, 4);
VDC_CHECK_OFF(RTUUID, Gen.u16TimeHiAndVersion, 6);
VDC_CHECK_OFF(RTUUID, Gen.u8ClockSeqHiAndReserved, 8);
VDC_CHECK_OFF(RTUUID, Gen.u8ClockSeqLow, 9);
VDC_CHECK_OFF(RTUUID, Gen.au8Node, 10);

/* One scatter/gather segment. */
typedef struct RTSGSEG {
    void  *pvSeg;
    size_t cbSeg;
} RTSGSEG;
typedef RTSGSEG *PRTSGSEG;
typedef const RTSGSEG *PCRTSGSEG;
VDC_CHECK_SIZE(RTSGSEG, 16);
VDC_CHECK_OFF(RTSGSEG, pvSeg, 0);
VDC_CHECK_OFF(RTSGSEG, cbSeg, 8);

/* A point in time: nanoseconds since the Unix epoch. */
typedef struct RTTIMESPEC {
    int64_t i64NanosecondsRelativeToUnixEpoch;
} RTTIMESPEC;
typedef RTTIMESPEC *PRTTIMESPEC;
VDC_CHECK_SIZE(RTTIMESPEC, 8);
VDC_CHECK_OFF(RTTIMESPEC, i64NanosecondsRelativeToUnixEpoch, 0);

/* Opaque handles owned by the host.  A backend only passes them back. */
typedef struct VDIOSTORAGE *PVDIOSTORAGE;
typedef PVDIOSTORAGE *PPVDIOSTORAGE;
typedef struct VDIOCTX *PVDIOCTX;
typedef struct VDMETAXFER *PVDMETAXFER;
typedef PVDMETAXFER *PPVDMETAXFER;

/* ===================================================================== */
/* 3. File open flags (RTFILE_O_*)                                        */
/* ===================================================================== */
#define RTFILE_O_READ                 0x00000001u
#define RTFILE_O_WRITE                0x00000002u
#define RTFILE_O_READWRITE            0x00000003u
#define RTFILE_O_ACCESS_MASK          0x00000003u
#define RTFILE_O_DENY_READ            0x00000010u
#define RTFILE_O_DENY_WRITE           0x00000020u
#define RTFILE_O_DENY_READWRITE       0x00000030u
#define RTFILE_O_DENY_NOT_DELETE      0x00000040u
#define RTFILE_O_DENY_NONE            0x00000080u
#define RTFILE_O_DENY_MASK            0x000000f0u
#define RTFILE_O_OPEN_CREATE          0x00000100u
#define RTFILE_O_CREATE               0x00000200u
#define RTFILE_O_CREATE_REPLACE       0x00000300u
#define RTFILE_O_OPEN                 0x00000700u
#define RTFILE_O_ACTION_MASK          0x00000700u
#define RTFILE_O_NOT_CONTENT_INDEXED  0x00000800u
#define RTFILE_O_TRUNCATE             0x00001000u
#define RTFILE_O_ASYNC_IO             0x00040000u
#define RTFILE_O_NO_CACHE             0x00080000u

/* ===================================================================== */
/* 4. VD constants                                                        */
/* ===================================================================== */

/* Backend capabilities (VDCACHEBACKEND.uBackendCaps). */
#define VD_CAP_UUID            0x0001u
#define VD_CAP_CREATE_FIXED    0x0002u
#define VD_CAP_CREATE_DYNAMIC  0x0004u
#define VD_CAP_CREATE_SPLIT_2G 0x0008u
#define VD_CAP_DIFF            0x0010u
#define VD_CAP_ASYNC           0x0020u
#define VD_CAP_FILE            0x0040u
#define VD_CAP_CONFIG          0x0080u
#define VD_CAP_TCPNET          0x0100u
#define VD_CAP_VFS             0x0200u
#define VD_CAP_DISCARD         0x0400u
#define VD_CAP_PREFERRED       0x0800u

/* Open flags (pfnOpen, pfnCreate, pfnSetOpenFlags). */
#define VD_OPEN_FLAGS_NORMAL                   0x0000u
#define VD_OPEN_FLAGS_READONLY                 0x0001u
#define VD_OPEN_FLAGS_HONOR_ZEROES             0x0002u
#define VD_OPEN_FLAGS_HONOR_SAME               0x0004u
#define VD_OPEN_FLAGS_INFO                     0x0008u
#define VD_OPEN_FLAGS_ASYNC_IO                 0x0010u
#define VD_OPEN_FLAGS_SHAREABLE                0x0020u
#define VD_OPEN_FLAGS_SEQUENTIAL               0x0040u
#define VD_OPEN_FLAGS_DISCARD                  0x0080u
#define VD_OPEN_FLAGS_IGNORE_FLUSH             0x0100u
#define VD_OPEN_FLAGS_INFORM_ABOUT_ZERO_BLOCKS 0x0200u
#define VD_OPEN_FLAGS_SKIP_CONSISTENCY_CHECKS  0x0400u
#define VD_OPEN_FLAGS_MASK                     0x07ffu

/* Image flags (pfnCreate, pfnGetImageFlags). */
#define VD_IMAGE_FLAGS_NONE              0x00000u
#define VD_VMDK_IMAGE_FLAGS_SPLIT_2G     0x00001u
#define VD_VMDK_IMAGE_FLAGS_RAWDISK      0x00002u
#define VD_VMDK_IMAGE_FLAGS_STREAM_OPTIMIZED 0x00004u
#define VD_VMDK_IMAGE_FLAGS_ESX          0x00008u
#define VD_VDI_IMAGE_FLAGS_ZERO_EXPAND   0x00100u
#define VD_IMAGE_FLAGS_FIXED             0x10000u
#define VD_IMAGE_FLAGS_DIFF              0x20000u
#define VD_IMAGE_FLAGS_MASK              0x3010fu
#define VD_IMAGE_FLAGS_DEFAULT           VD_IMAGE_FLAGS_NONE

/* Discard and write flags. */
#define VD_DISCARD_MARK_UNUSED  0x1u
#define VD_WRITE_NO_ALLOC       0x2u

/* Config-key flags (VDCONFIGINFO.uKeyFlags). */
#define VD_CFGKEY_MANDATORY   0x1u
#define VD_CFGKEY_EXPERT      0x2u
#define VD_CFGKEY_CREATEONLY  0x4u

/* Versions: magic in the top 16 bits, major in bits 4-11, minor in 0-3. */
#define VD_VERSION_MAKE(magic, major, minor) \
    ((uint32_t)(((uint32_t)(magic) << 16) | (((uint32_t)(major) & 0xffu) << 4) | ((uint32_t)(minor) & 0xfu)))
#define VD_VERSION_MAGIC(v) ((uint32_t)(v) >> 16)
#define VD_VERSION_MAJOR(v) (((uint32_t)(v) >> 4) & 0xffu)
#define VD_VERSION_MINOR(v) ((uint32_t)(v) & 0xfu)
/* The host's version `a` accepts a backend's version `b` when they are equal,
 * or when a >= b and both agree on magic and major (a newer minor in the host
 * serves an older backend). */
#define VD_VERSION_ARE_COMPATIBLE(a, b) \
    ((uint32_t)(a) == (uint32_t)(b) \
     || ((uint32_t)(a) >= (uint32_t)(b) && ((uint32_t)(a) & 0xfffffff0u) == ((uint32_t)(b) & 0xfffffff0u)))

#define VD_CACHEBACKEND_VERSION  VD_VERSION_MAKE(0xff03, 1, 0)
#define VD_BACKENDREG_CB_VERSION VD_VERSION_MAKE(0xff00, 1, 0)
VDC_STATIC_ASSERT(VD_CACHEBACKEND_VERSION == 0xFF030010u, "cache backend version");
VDC_STATIC_ASSERT(VD_BACKENDREG_CB_VERSION == 0xFF000010u, "register callbacks version");

/* ===================================================================== */
/* 5. Interface lists                                                     */
/* ===================================================================== */

#define VDINTERFACE_MAGIC 0x19701015u

typedef enum VDINTERFACETYPE {
    VDINTERFACETYPE_FIRST = 0,
    VDINTERFACETYPE_ERROR = VDINTERFACETYPE_FIRST,
    VDINTERFACETYPE_IO,
    VDINTERFACETYPE_PROGRESS,
    VDINTERFACETYPE_CONFIG,
    VDINTERFACETYPE_TCPNET,
    VDINTERFACETYPE_PARENTSTATE,
    VDINTERFACETYPE_THREADSYNC,
    VDINTERFACETYPE_IOINT,
    VDINTERFACETYPE_QUERYRANGEUSE,
    VDINTERFACETYPE_TRAVERSEMETADATA,
    VDINTERFACETYPE_CRYPTO,
    VDINTERFACETYPE_INVALID
} VDINTERFACETYPE;
VDC_STATIC_ASSERT(sizeof(VDINTERFACETYPE) == 4, "enum is int-sized");
VDC_STATIC_ASSERT(VDINTERFACETYPE_IOINT == 7 && VDINTERFACETYPE_INVALID == 11, "interface type values");

/* The header every interface starts with.  Interfaces form a singly linked
 * list through pNext; cbSize is the size of the whole interface struct and
 * backends reject an interface whose cbSize differs from what they know. */
typedef struct VDINTERFACE {
    uint32_t            u32Magic;
    const char         *pszInterfaceName;
    struct VDINTERFACE *pNext;
    VDINTERFACETYPE     enmInterface;
    size_t              cbSize;
    void               *pvUser;
} VDINTERFACE;
typedef VDINTERFACE *PVDINTERFACE;
VDC_CHECK_SIZE(VDINTERFACE, 48);
VDC_CHECK_OFF(VDINTERFACE, u32Magic, 0);
VDC_CHECK_OFF(VDINTERFACE, pszInterfaceName, 8);
VDC_CHECK_OFF(VDINTERFACE, pNext, 16);
VDC_CHECK_OFF(VDINTERFACE, enmInterface, 24);
VDC_CHECK_OFF(VDINTERFACE, cbSize, 32);
VDC_CHECK_OFF(VDINTERFACE, pvUser, 40);

/* ===================================================================== */
/* 6. The error, progress and config interfaces                           */
/* ===================================================================== */

typedef struct VDINTERFACEERROR {
    VDINTERFACE Core;
    /* Reports an error; fmt/va describe it.  Never NULL in a valid interface. */
    void (*pfnError)(void *pvUser, int rc, const char *pszFile, unsigned iLine,
                     const char *pszFunction, const char *pszFormat, va_list va);
    /* Prints an informational message (used by Dump).  May be NULL. */
    int (*pfnMessage)(void *pvUser, const char *pszFormat, va_list va);
} VDINTERFACEERROR;
typedef VDINTERFACEERROR *PVDINTERFACEERROR;
VDC_CHECK_SIZE(VDINTERFACEERROR, 64);
VDC_CHECK_OFF(VDINTERFACEERROR, Core, 0);
VDC_CHECK_OFF(VDINTERFACEERROR, pfnError, 48);
VDC_CHECK_OFF(VDINTERFACEERROR, pfnMessage, 56);

typedef int (*PFNVDPROGRESS)(void *pvUser, unsigned uPercentage);
typedef struct VDINTERFACEPROGRESS {
    VDINTERFACE   Core;
    PFNVDPROGRESS pfnProgress;
} VDINTERFACEPROGRESS;
typedef VDINTERFACEPROGRESS *PVDINTERFACEPROGRESS;
VDC_CHECK_SIZE(VDINTERFACEPROGRESS, 56);
VDC_CHECK_OFF(VDINTERFACEPROGRESS, Core, 0);
VDC_CHECK_OFF(VDINTERFACEPROGRESS, pfnProgress, 48);

typedef struct VDINTERFACECONFIG {
    VDINTERFACE Core;
    /* pszzValid: NUL-separated key names ending in an empty string. */
    bool (*pfnAreKeysValid)(void *pvUser, const char *pszzValid);
    /* *pcb receives the value's size including its terminating NUL. */
    int (*pfnQuerySize)(void *pvUser, const char *pszName, size_t *pcb);
    int (*pfnQuery)(void *pvUser, const char *pszName, char *pszString, size_t cchString);
    int (*pfnQueryBytes)(void *pvUser, const char *pszName, void *ppvData, size_t cbData);
    int (*pfnUpdate)(void *pvUser, bool fCreate, const char *pszName, const char *pszValue);
} VDINTERFACECONFIG;
typedef VDINTERFACECONFIG *PVDINTERFACECONFIG;
VDC_CHECK_SIZE(VDINTERFACECONFIG, 88);
VDC_CHECK_OFF(VDINTERFACECONFIG, Core, 0);
VDC_CHECK_OFF(VDINTERFACECONFIG, pfnAreKeysValid, 48);
VDC_CHECK_OFF(VDINTERFACECONFIG, pfnQuerySize, 56);
VDC_CHECK_OFF(VDINTERFACECONFIG, pfnQuery, 64);
VDC_CHECK_OFF(VDINTERFACECONFIG, pfnQueryBytes, 72);
VDC_CHECK_OFF(VDINTERFACECONFIG, pfnUpdate, 80);

/* ===================================================================== */
/* 7. The host's own I/O interface (VDINTERFACEIO)                        */
/* ===================================================================== */
/* VD builds the internal interface below on top of this one.  Cache
 * backends never call it directly; it is declared so a host can offer it. */

typedef int (*PFNVDCOMPLETED)(void *pvUser, int rcReq);

typedef struct VDINTERFACEIO {
    VDINTERFACE Core;
    int (*pfnOpen)(void *pvUser, const char *pszLocation, uint32_t fOpen,
                   PFNVDCOMPLETED pfnCompleted, void **ppvStorage);
    int (*pfnClose)(void *pvUser, void *pvStorage);
    int (*pfnDelete)(void *pvUser, const char *pcszFilename);
    int (*pfnMove)(void *pvUser, const char *pcszSrc, const char *pcszDst, unsigned fMove);
    int (*pfnGetFreeSpace)(void *pvUser, const char *pcszFilename, int64_t *pcbFreeSpace);
    int (*pfnGetModificationTime)(void *pvUser, const char *pcszFilename, PRTTIMESPEC pTime);
    int (*pfnGetSize)(void *pvUser, void *pvStorage, uint64_t *pcb);
    int (*pfnSetSize)(void *pvUser, void *pvStorage, uint64_t cb);
    int (*pfnSetAllocationSize)(void *pvUser, void *pvStorage, uint64_t cb, uint32_t fFlags);
    int (*pfnWriteSync)(void *pvUser, void *pvStorage, uint64_t off, const void *pvBuf,
                        size_t cbToWrite, size_t *pcbWritten);
    int (*pfnReadSync)(void *pvUser, void *pvStorage, uint64_t off, void *pvBuf,
                       size_t cbToRead, size_t *pcbRead);
    int (*pfnFlushSync)(void *pvUser, void *pvStorage);
    int (*pfnReadAsync)(void *pvUser, void *pvStorage, uint64_t off, PCRTSGSEG paSegs,
                        size_t cSegs, size_t cbRead, void *pvCompletion, void **ppTask);
    int (*pfnWriteAsync)(void *pvUser, void *pvStorage, uint64_t off, PCRTSGSEG paSegs,
                         size_t cSegs, size_t cbWrite, void *pvCompletion, void **ppTask);
    int (*pfnFlushAsync)(void *pvUser, void *pvStorage, void *pvCompletion, void **ppTask);
} VDINTERFACEIO;
typedef VDINTERFACEIO *PVDINTERFACEIO;
VDC_CHECK_SIZE(VDINTERFACEIO, 168);
VDC_CHECK_OFF(VDINTERFACEIO, Core, 0);
VDC_CHECK_OFF(VDINTERFACEIO, pfnOpen, 48);
VDC_CHECK_OFF(VDINTERFACEIO, pfnClose, 56);
VDC_CHECK_OFF(VDINTERFACEIO, pfnDelete, 64);
VDC_CHECK_OFF(VDINTERFACEIO, pfnMove, 72);
VDC_CHECK_OFF(VDINTERFACEIO, pfnGetFreeSpace, 80);
VDC_CHECK_OFF(VDINTERFACEIO, pfnGetModificationTime, 88);
VDC_CHECK_OFF(VDINTERFACEIO, pfnGetSize, 96);
VDC_CHECK_OFF(VDINTERFACEIO, pfnSetSize, 104);
VDC_CHECK_OFF(VDINTERFACEIO, pfnSetAllocationSize, 112);
VDC_CHECK_OFF(VDINTERFACEIO, pfnWriteSync, 120);
VDC_CHECK_OFF(VDINTERFACEIO, pfnReadSync, 128);
VDC_CHECK_OFF(VDINTERFACEIO, pfnFlushSync, 136);
VDC_CHECK_OFF(VDINTERFACEIO, pfnReadAsync, 144);
VDC_CHECK_OFF(VDINTERFACEIO, pfnWriteAsync, 152);
VDC_CHECK_OFF(VDINTERFACEIO, pfnFlushAsync, 160);

/* ===================================================================== */
/* 8. The internal I/O interface (VDINTERFACEIOINT)                       */
/* ===================================================================== */
/*
 * The only way a backend touches storage.  Each member takes Core.pvUser
 * first.  Meta reads/writes and flush are synchronous when pIoCtx is NULL, in
 * which case the completion arguments must be NULL too.  User reads/writes
 * and the IoCtx* helpers move data between storage or a buffer and the I/O
 * context's scatter/gather cursor, advancing it.
 */

/* Called when an asynchronous transfer that a backend started completes. */
typedef int (*PFNVDXFERCOMPLETED)(void *pBackendData, PVDIOCTX pIoCtx, void *pvUser, int rcReq);

typedef struct VDINTERFACEIOINT {
    VDINTERFACE Core;
    int (*pfnOpen)(void *pvUser, const char *pszLocation, uint32_t fOpen, PPVDIOSTORAGE ppStorage);
    int (*pfnClose)(void *pvUser, PVDIOSTORAGE pStorage);
    int (*pfnDelete)(void *pvUser, const char *pcszFilename);
    int (*pfnMove)(void *pvUser, const char *pcszSrc, const char *pcszDst, unsigned fMove);
    int (*pfnGetFreeSpace)(void *pvUser, const char *pcszFilename, int64_t *pcbFreeSpace);
    int (*pfnGetModificationTime)(void *pvUser, const char *pcszFilename, PRTTIMESPEC pTime);
    int (*pfnGetSize)(void *pvUser, PVDIOSTORAGE pStorage, uint64_t *pcbSize);
    int (*pfnSetSize)(void *pvUser, PVDIOSTORAGE pStorage, uint64_t cbSize);
    int (*pfnSetAllocationSize)(void *pvUser, PVDIOSTORAGE pStorage, uint64_t cbSize, uint32_t fFlags,
                                PVDINTERFACEPROGRESS pIfProgress, unsigned uPercentStart,
                                unsigned uPercentSpan);
    int (*pfnReadUser)(void *pvUser, PVDIOSTORAGE pStorage, uint64_t uOffset, PVDIOCTX pIoCtx,
                       size_t cbRead);
    int (*pfnWriteUser)(void *pvUser, PVDIOSTORAGE pStorage, uint64_t uOffset, PVDIOCTX pIoCtx,
                        size_t cbWrite, PFNVDXFERCOMPLETED pfnComplete, void *pvCompleteUser);
    int (*pfnReadMeta)(void *pvUser, PVDIOSTORAGE pStorage, uint64_t uOffset, void *pvBuffer,
                       size_t cbBuffer, PVDIOCTX pIoCtx, PPVDMETAXFER ppMetaXfer,
                       PFNVDXFERCOMPLETED pfnComplete, void *pvCompleteUser);
    int (*pfnWriteMeta)(void *pvUser, PVDIOSTORAGE pStorage, uint64_t uOffset, const void *pvBuffer,
                        size_t cbBuffer, PVDIOCTX pIoCtx, PFNVDXFERCOMPLETED pfnComplete,
                        void *pvCompleteUser);
    void (*pfnMetaXferRelease)(void *pvUser, PVDMETAXFER pMetaXfer);
    int (*pfnFlush)(void *pvUser, PVDIOSTORAGE pStorage, PVDIOCTX pIoCtx,
                    PFNVDXFERCOMPLETED pfnComplete, void *pvCompleteUser);
    size_t (*pfnIoCtxCopyTo)(void *pvUser, PVDIOCTX pIoCtx, const void *pvBuffer, size_t cbBuffer);
    size_t (*pfnIoCtxCopyFrom)(void *pvUser, PVDIOCTX pIoCtx, void *pvBuffer, size_t cbBuffer);
    size_t (*pfnIoCtxSet)(void *pvUser, PVDIOCTX pIoCtx, int ch, size_t cbSet);
    size_t (*pfnIoCtxSegArrayCreate)(void *pvUser, PVDIOCTX pIoCtx, PRTSGSEG paSeg, unsigned *pcSeg,
                                     size_t cbData);
    void (*pfnIoCtxCompleted)(void *pvUser, PVDIOCTX pIoCtx, int rcReq, size_t cbCompleted);
    bool (*pfnIoCtxIsSynchronous)(void *pvUser, PVDIOCTX pIoCtx);
    bool (*pfnIoCtxIsZero)(void *pvUser, PVDIOCTX pIoCtx, size_t cbCheck, bool fAdvance);
    size_t (*pfnIoCtxGetDataUnitSize)(void *pvUser, PVDIOCTX pIoCtx);
} VDINTERFACEIOINT;
typedef VDINTERFACEIOINT *PVDINTERFACEIOINT;
VDC_CHECK_SIZE(VDINTERFACEIOINT, 232);
VDC_CHECK_OFF(VDINTERFACEIOINT, Core, 0);
VDC_CHECK_OFF(VDINTERFACEIOINT, pfnOpen, 48);
VDC_CHECK_OFF(VDINTERFACEIOINT, pfnClose, 56);
VDC_CHECK_OFF(VDINTERFACEIOINT, pfnDelete, 64);
VDC_CHECK_OFF(VDINTERFACEIOINT, pfnMove, 72);
VDC_CHECK_OFF(VDINTERFACEIOINT, pfnGetFreeSpace, 80);
VDC_CHECK_OFF(VDINTERFACEIOINT, pfnGetModificationTime, 88);
VDC_CHECK_OFF(VDINTERFACEIOINT, pfnGetSize, 96);
VDC_CHECK_OFF(VDINTERFACEIOINT, pfnSetSize, 104);
VDC_CHECK_OFF(VDINTERFACEIOINT, pfnSetAllocationSize, 112);
VDC_CHECK_OFF(VDINTERFACEIOINT, pfnReadUser, 120);
VDC_CHECK_OFF(VDINTERFACEIOINT, pfnWriteUser, 128);
VDC_CHECK_OFF(VDINTERFACEIOINT, pfnReadMeta, 136);
VDC_CHECK_OFF(VDINTERFACEIOINT, pfnWriteMeta, 144);
VDC_CHECK_OFF(VDINTERFACEIOINT, pfnMetaXferRelease, 152);
VDC_CHECK_OFF(VDINTERFACEIOINT, pfnFlush, 160);
VDC_CHECK_OFF(VDINTERFACEIOINT, pfnIoCtxCopyTo, 168);
VDC_CHECK_OFF(VDINTERFACEIOINT, pfnIoCtxCopyFrom, 176);
VDC_CHECK_OFF(VDINTERFACEIOINT, pfnIoCtxSet, 184);
VDC_CHECK_OFF(VDINTERFACEIOINT, pfnIoCtxSegArrayCreate, 192);
VDC_CHECK_OFF(VDINTERFACEIOINT, pfnIoCtxCompleted, 200);
VDC_CHECK_OFF(VDINTERFACEIOINT, pfnIoCtxIsSynchronous, 208);
VDC_CHECK_OFF(VDINTERFACEIOINT, pfnIoCtxIsZero, 216);
VDC_CHECK_OFF(VDINTERFACEIOINT, pfnIoCtxGetDataUnitSize, 224);

/* ===================================================================== */
/* 9. The cache backend vtable                                            */
/* ===================================================================== */

typedef enum VDCFGVALUETYPE {
    VDCFGVALUETYPE_INTEGER = 1,
    VDCFGVALUETYPE_STRING,
    VDCFGVALUETYPE_BYTES
} VDCFGVALUETYPE;
VDC_STATIC_ASSERT(sizeof(VDCFGVALUETYPE) == 4, "enum is int-sized");

/* One configuration key a backend understands; an array ends with pszKey NULL. */
typedef struct VDCONFIGINFO {
    const char     *pszKey;
    const char     *pszDefaultValue;
    VDCFGVALUETYPE  enmValueType;
    uint64_t        uKeyFlags;
} VDCONFIGINFO;
typedef VDCONFIGINFO *PVDCONFIGINFO;
typedef const VDCONFIGINFO *PCVDCONFIGINFO;
VDC_CHECK_SIZE(VDCONFIGINFO, 32);
VDC_CHECK_OFF(VDCONFIGINFO, pszKey, 0);
VDC_CHECK_OFF(VDCONFIGINFO, pszDefaultValue, 8);
VDC_CHECK_OFF(VDCONFIGINFO, enmValueType, 16);
VDC_CHECK_OFF(VDCONFIGINFO, uKeyFlags, 24);

/*
 * The vtable.  `bd` below is the opaque pointer pfnOpen/pfnCreate returned.
 * VD itself calls only Probe, Open, Create, Close, Read, Write, Flush and
 * Get/SetModificationUuid; the rest serve tools.  What each callback must do
 * is spec/contract.md.
 */
typedef struct VDCACHEBACKEND {
    uint32_t                  u32Version;       /* VD_CACHEBACKEND_VERSION */
    const char               *pszBackendName;
    uint64_t                  uBackendCaps;     /* VD_CAP_* */
    const char *const        *papszFileExtensions; /* NULL-terminated */
    const VDCONFIGINFO       *paConfigInfo;     /* NULL-key-terminated, or NULL */

    int (*pfnProbe)(const char *pszFilename, PVDINTERFACE pVDIfsDisk, PVDINTERFACE pVDIfsImage);
    int (*pfnOpen)(const char *pszFilename, unsigned uOpenFlags, PVDINTERFACE pVDIfsDisk,
                   PVDINTERFACE pVDIfsImage, void **ppBackendData);
    int (*pfnCreate)(const char *pszFilename, uint64_t cbSize, unsigned uImageFlags,
                     const char *pszComment, PCRTUUID pUuid, unsigned uOpenFlags,
                     unsigned uPercentStart, unsigned uPercentSpan, PVDINTERFACE pVDIfsDisk,
                     PVDINTERFACE pVDIfsImage, PVDINTERFACE pVDIfsOperation, void **ppBackendData);
    int (*pfnClose)(void *pBackendData, bool fDelete);
    int (*pfnRead)(void *pBackendData, uint64_t uOffset, size_t cbToRead, PVDIOCTX pIoCtx,
                   size_t *pcbActuallyRead);
    int (*pfnWrite)(void *pBackendData, uint64_t uOffset, size_t cbToWrite, PVDIOCTX pIoCtx,
                    size_t *pcbWriteProcess);
    int (*pfnFlush)(void *pBackendData, PVDIOCTX pIoCtx);
    int (*pfnDiscard)(void *pBackendData, PVDIOCTX pIoCtx, uint64_t uOffset, size_t cbDiscard,
                      size_t *pcbPreAllocated, size_t *pcbPostAllocated, size_t *pcbActuallyDiscarded,
                      void **ppbmAllocationBitmap, unsigned fDiscard);
    unsigned (*pfnGetVersion)(void *pBackendData);
    uint64_t (*pfnGetSize)(void *pBackendData);
    uint64_t (*pfnGetFileSize)(void *pBackendData);
    unsigned (*pfnGetImageFlags)(void *pBackendData);
    unsigned (*pfnGetOpenFlags)(void *pBackendData);
    int (*pfnSetOpenFlags)(void *pBackendData, unsigned uOpenFlags);
    int (*pfnGetComment)(void *pBackendData, char *pszComment, size_t cbComment);
    int (*pfnSetComment)(void *pBackendData, const char *pszComment);
    int (*pfnGetUuid)(void *pBackendData, PRTUUID pUuid);
    int (*pfnSetUuid)(void *pBackendData, PCRTUUID pUuid);
    int (*pfnGetModificationUuid)(void *pBackendData, PRTUUID pUuid);
    int (*pfnSetModificationUuid)(void *pBackendData, PCRTUUID pUuid);
    void (*pfnDump)(void *pBackendData);
    int (*pfnComposeLocation)(PVDINTERFACE pConfig, char **pszLocation);
    int (*pfnComposeName)(PVDINTERFACE pConfig, char **pszName);

    uint32_t                  u32VersionEnd;    /* same as u32Version */
} VDCACHEBACKEND;
typedef VDCACHEBACKEND *PVDCACHEBACKEND;
typedef const VDCACHEBACKEND *PCVDCACHEBACKEND;
VDC_CHECK_SIZE(VDCACHEBACKEND, 232);
VDC_CHECK_OFF(VDCACHEBACKEND, u32Version, 0);
VDC_CHECK_OFF(VDCACHEBACKEND, pszBackendName, 8);
VDC_CHECK_OFF(VDCACHEBACKEND, uBackendCaps, 16);
VDC_CHECK_OFF(VDCACHEBACKEND, papszFileExtensions, 24);
VDC_CHECK_OFF(VDCACHEBACKEND, paConfigInfo, 32);
VDC_CHECK_OFF(VDCACHEBACKEND, pfnProbe, 40);
VDC_CHECK_OFF(VDCACHEBACKEND, pfnOpen, 48);
VDC_CHECK_OFF(VDCACHEBACKEND, pfnCreate, 56);
VDC_CHECK_OFF(VDCACHEBACKEND, pfnClose, 64);
VDC_CHECK_OFF(VDCACHEBACKEND, pfnRead, 72);
VDC_CHECK_OFF(VDCACHEBACKEND, pfnWrite, 80);
VDC_CHECK_OFF(VDCACHEBACKEND, pfnFlush, 88);
VDC_CHECK_OFF(VDCACHEBACKEND, pfnDiscard, 96);
VDC_CHECK_OFF(VDCACHEBACKEND, pfnGetVersion, 104);
VDC_CHECK_OFF(VDCACHEBACKEND, pfnGetSize, 112);
VDC_CHECK_OFF(VDCACHEBACKEND, pfnGetFileSize, 120);
VDC_CHECK_OFF(VDCACHEBACKEND, pfnGetImageFlags, 128);
VDC_CHECK_OFF(VDCACHEBACKEND, pfnGetOpenFlags, 136);
VDC_CHECK_OFF(VDCACHEBACKEND, pfnSetOpenFlags, 144);
VDC_CHECK_OFF(VDCACHEBACKEND, pfnGetComment, 152);
VDC_CHECK_OFF(VDCACHEBACKEND, pfnSetComment, 160);
VDC_CHECK_OFF(VDCACHEBACKEND, pfnGetUuid, 168);
VDC_CHECK_OFF(VDCACHEBACKEND, pfnSetUuid, 176);
VDC_CHECK_OFF(VDCACHEBACKEND, pfnGetModificationUuid, 184);
VDC_CHECK_OFF(VDCACHEBACKEND, pfnSetModificationUuid, 192);
VDC_CHECK_OFF(VDCACHEBACKEND, pfnDump, 200);
VDC_CHECK_OFF(VDCACHEBACKEND, pfnComposeLocation, 208);
VDC_CHECK_OFF(VDCACHEBACKEND, pfnComposeName, 216);
VDC_CHECK_OFF(VDCACHEBACKEND, u32VersionEnd, 224);

/* ===================================================================== */
/* 10. Plugins                                                            */
/* ===================================================================== */

/* Image and filter backends are outside vdcc's scope; only their pointers
 * cross this ABI, so they stay incomplete types here. */
typedef struct VDIMAGEBACKEND VDIMAGEBACKEND;
typedef struct VDFILTERBACKEND VDFILTERBACKEND;

/* Handed by the host to a plugin's entry point.  pvUser is the value the host
 * passed to the entry point.  A registered backend is kept by pointer, so the
 * struct must outlive the plugin's registration.  A version mismatch is
 * answered with VERR_IGNORED. */
typedef struct VDBACKENDREGISTER {
    uint32_t u32Version;    /* VD_BACKENDREG_CB_VERSION */
    int (*pfnRegisterImage)(void *pvUser, const VDIMAGEBACKEND *pBackend);
    int (*pfnRegisterCache)(void *pvUser, const VDCACHEBACKEND *pBackend);
    int (*pfnRegisterFilter)(void *pvUser, const VDFILTERBACKEND *pBackend);
} VDBACKENDREGISTER;
typedef VDBACKENDREGISTER *PVDBACKENDREGISTER;
VDC_CHECK_SIZE(VDBACKENDREGISTER, 32);
VDC_CHECK_OFF(VDBACKENDREGISTER, u32Version, 0);
VDC_CHECK_OFF(VDBACKENDREGISTER, pfnRegisterImage, 8);
VDC_CHECK_OFF(VDBACKENDREGISTER, pfnRegisterCache, 16);
VDC_CHECK_OFF(VDBACKENDREGISTER, pfnRegisterFilter, 24);

/* The plugin entry point, exported as the plain C symbol "VDPluginLoad". */
typedef int (*PFNVDPLUGINLOAD)(void *pvUser, PVDBACKENDREGISTER pRegisterCallbacks);
#define VD_PLUGIN_LOAD_NAME "VDPluginLoad"
#define VD_PLUGIN_PREFIX    "VDPlugin"

/* ===================================================================== */
/* 11. Helpers for backends                                               */
/* ===================================================================== */
/*
 * VirtualBox compiles its interface getters into each backend.  These are
 * vdcc's equivalents: they find the first interface of a type and, for the
 * typed forms, insist that cbSize matches this header's struct (a host that
 * sets cbSize wrongly is not served).  A node with a bad magic ends the walk.
 */
VDC_INLINE PVDINTERFACE vdc_if_find(PVDINTERFACE pList, VDINTERFACETYPE enmType)
{
    for (PVDINTERFACE p = pList; p != NULL; p = p->pNext) {
        if (p->u32Magic != VDINTERFACE_MAGIC)
            return NULL;
        if (p->enmInterface == enmType)
            return p;
    }
    return NULL;
}

VDC_INLINE PVDINTERFACE vdc_if_find_sized(PVDINTERFACE pList, VDINTERFACETYPE enmType, size_t cb)
{
    PVDINTERFACE p = vdc_if_find(pList, enmType);
    return (p != NULL && p->cbSize == cb) ? p : NULL;
}

VDC_INLINE PVDINTERFACEIOINT vdc_if_ioint(PVDINTERFACE pList)
{
    return (PVDINTERFACEIOINT)vdc_if_find_sized(pList, VDINTERFACETYPE_IOINT, sizeof(VDINTERFACEIOINT));
}

VDC_INLINE PVDINTERFACEERROR vdc_if_error(PVDINTERFACE pList)
{
    return (PVDINTERFACEERROR)vdc_if_find_sized(pList, VDINTERFACETYPE_ERROR, sizeof(VDINTERFACEERROR));
}

VDC_INLINE PVDINTERFACEPROGRESS vdc_if_progress(PVDINTERFACE pList)
{
    return (PVDINTERFACEPROGRESS)vdc_if_find_sized(pList, VDINTERFACETYPE_PROGRESS,
                                                   sizeof(VDINTERFACEPROGRESS));
}

VDC_INLINE PVDINTERFACECONFIG vdc_if_config(PVDINTERFACE pList)
{
    return (PVDINTERFACECONFIG)vdc_if_find_sized(pList, VDINTERFACETYPE_CONFIG, sizeof(VDINTERFACECONFIG));
}

/* The host's file-open flags for VD open flags, as VD derives them
 * (VDOpenFlagsToFileOpenFlags): read-only opens deny nothing, read-write
 * opens deny writers unless shareable; create asks for a new file. */
VDC_INLINE uint32_t vdc_open_flags_to_file(unsigned uOpenFlags, bool fCreate)
{
    uint32_t f;
    if (uOpenFlags & VD_OPEN_FLAGS_READONLY)
        f = RTFILE_O_READ | RTFILE_O_DENY_NONE;
    else
        f = RTFILE_O_READWRITE
          | ((uOpenFlags & VD_OPEN_FLAGS_SHAREABLE) ? RTFILE_O_DENY_NONE : RTFILE_O_DENY_WRITE);
    f |= fCreate ? (RTFILE_O_CREATE | RTFILE_O_NOT_CONTENT_INDEXED) : RTFILE_O_OPEN;
    return f;
}

#ifdef __cplusplus
}
#endif

#endif /* VDCC_SPEC_VDCACHE_H */
