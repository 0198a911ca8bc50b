/*
 * harness/host/tests/test_host_ifs.c - the host's interface lists and its
 * ERROR, PROGRESS and CONFIG interfaces, the log (format, cap, truncation
 * line) and the probe IOINT with its ten traps (host.h).
 */
#include <stdarg.h>

#include "harness/host/host.h"
#include "harness/host/tests/fixture.h"

typedef struct env {
    vdc_fs   *fs;
    vdc_host *h;
} env;

static bool env_init(env *e)
{
    e->fs = vdc_fs_mem_new(0, 0);
    e->h = e->fs != NULL ? vdc_host_new(e->fs) : NULL;
    return e->h != NULL;
}

static void env_done(env *e)
{
    vdc_host_free(e->h);
    vdc_fs_destroy(e->fs);
}

static uint64_t misuse_of(const env *e)
{
    return vdc_host_get_stats(e->h)->misuse;
}

/* Calls the error interface the way VirtualBox's vdIfError does. */
static void report_error(PVDINTERFACEERROR ifs, int rc, const char *file, unsigned line, const char *func,
                         const char *fmt, ...)
{
    va_list va;
    va_start(va, fmt);
    ifs->pfnError(ifs->Core.pvUser, rc, file, line, func, fmt, va);
    va_end(va);
}

static int report_message(PVDINTERFACEERROR ifs, const char *fmt, ...)
{
    va_list va;
    va_start(va, fmt);
    int rc = ifs->pfnMessage(ifs->Core.pvUser, fmt, va);
    va_end(va);
    return rc;
}

/* --- the lists ------------------------------------------------------------ */

static void check_core(const VDINTERFACE *c, VDINTERFACETYPE type, size_t cb, const char *name, void *user)
{
    CHECK_EQ(c->u32Magic, VDINTERFACE_MAGIC);
    CHECK_EQ(c->enmInterface, type);
    CHECK_EQ(c->cbSize, cb);
    CHECK(c->pszInterfaceName != NULL && strcmp(c->pszInterfaceName, name) == 0);
    CHECK(c->pvUser == user);
}

static void test_lists(void)
{
    env e;
    REQUIRE(env_init(&e));
    PVDINTERFACE disk = vdc_host_disk_ifs(e.h), image = vdc_host_image_ifs(e.h);
    PVDINTERFACE op = vdc_host_op_ifs(e.h), probe = vdc_host_probe_ifs(e.h);

    /* disk: ERROR -> CONFIG */
    check_core(disk, VDINTERFACETYPE_ERROR, sizeof(VDINTERFACEERROR), "VD_ERROR", e.h);
    REQUIRE(disk->pNext != NULL);
    check_core(disk->pNext, VDINTERFACETYPE_CONFIG, sizeof(VDINTERFACECONFIG), "VD_CONFIG", e.h);
    CHECK(disk->pNext->pNext == NULL);
    /* image: IOINT -> CONFIG (the same one) */
    check_core(image, VDINTERFACETYPE_IOINT, sizeof(VDINTERFACEIOINT), "VD_IOINT", e.h);
    CHECK(image->pNext == disk->pNext);
    /* probe: its own IOINT -> CONFIG */
    check_core(probe, VDINTERFACETYPE_IOINT, sizeof(VDINTERFACEIOINT), "VD_IOINT", e.h);
    CHECK(probe != image);
    CHECK(probe->pNext == disk->pNext);
    /* op: PROGRESS */
    check_core(op, VDINTERFACETYPE_PROGRESS, sizeof(VDINTERFACEPROGRESS), "VD_PROGRESS", e.h);
    CHECK(op->pNext == NULL);

    /* The typed getters a backend uses accept them. */
    CHECK((PVDINTERFACE)vdc_if_error(disk) == disk);
    CHECK(vdc_if_config(disk) != NULL);
    CHECK(vdc_if_config(image) == vdc_if_config(disk));
    CHECK((PVDINTERFACE)vdc_if_ioint(image) == image);
    CHECK((PVDINTERFACE)vdc_if_ioint(probe) == probe);
    CHECK((PVDINTERFACE)vdc_if_progress(op) == op);
    CHECK(vdc_if_ioint(disk) == NULL);
    CHECK(vdc_if_error(image) == NULL);
    CHECK(vdc_host_ioint(e.h) == vdc_if_ioint(image));

    /* Every member of every interface is set. */
    PVDINTERFACEIOINT ios[2] = { vdc_if_ioint(image), vdc_if_ioint(probe) };
    for (int i = 0; i < 2; i++) {
        PVDINTERFACEIOINT io = ios[i];
        int set = (io->pfnOpen != NULL) + (io->pfnClose != NULL) + (io->pfnDelete != NULL)
                + (io->pfnMove != NULL) + (io->pfnGetFreeSpace != NULL) + (io->pfnGetModificationTime != NULL)
                + (io->pfnGetSize != NULL) + (io->pfnSetSize != NULL) + (io->pfnSetAllocationSize != NULL)
                + (io->pfnReadUser != NULL) + (io->pfnWriteUser != NULL) + (io->pfnReadMeta != NULL)
                + (io->pfnWriteMeta != NULL) + (io->pfnMetaXferRelease != NULL) + (io->pfnFlush != NULL)
                + (io->pfnIoCtxCopyTo != NULL) + (io->pfnIoCtxCopyFrom != NULL) + (io->pfnIoCtxSet != NULL)
                + (io->pfnIoCtxSegArrayCreate != NULL) + (io->pfnIoCtxCompleted != NULL)
                + (io->pfnIoCtxIsSynchronous != NULL) + (io->pfnIoCtxIsZero != NULL)
                + (io->pfnIoCtxGetDataUnitSize != NULL);
        CHECK_EQ(set, 23);
    }
    /* The probe list shares the 13 real members and traps the other 10. */
    CHECK(ios[0]->pfnOpen == ios[1]->pfnOpen && ios[0]->pfnFlush == ios[1]->pfnFlush);
    CHECK(ios[0]->pfnReadUser == ios[1]->pfnReadUser && ios[0]->pfnWriteMeta == ios[1]->pfnWriteMeta);
    CHECK(ios[0]->pfnSetAllocationSize != ios[1]->pfnSetAllocationSize);
    CHECK(ios[0]->pfnIoCtxCopyTo != ios[1]->pfnIoCtxCopyTo);
    CHECK(ios[0]->pfnIoCtxGetDataUnitSize != ios[1]->pfnIoCtxGetDataUnitSize);
    PVDINTERFACEERROR err = vdc_if_error(disk);
    PVDINTERFACECONFIG cfg = vdc_if_config(disk);
    CHECK(err->pfnError != NULL && err->pfnMessage != NULL);
    CHECK(cfg->pfnAreKeysValid && cfg->pfnQuerySize && cfg->pfnQuery && cfg->pfnQueryBytes && cfg->pfnUpdate);
    CHECK(vdc_if_progress(op)->pfnProgress != NULL);
    CHECK_EQ(misuse_of(&e), 0);
    env_done(&e);
}

/* --- ERROR ------------------------------------------------------------------ */

static void test_error_interface(void)
{
    env e;
    REQUIRE(env_init(&e));
    PVDINTERFACEERROR err = vdc_if_error(vdc_host_disk_ifs(e.h));
    REQUIRE(err != NULL);
    report_error(err, VERR_VD_BLOCK_FREE, "vci.c", 42, "vci_read", "block %u of %s is free", 7u, "cache");
    CHECK(strcmp(vdc_host_log(e.h), "error: rc=-3207 (VERR_VD_BLOCK_FREE) at vci.c:42 vci_read: "
                                    "block 7 of cache is free\n") == 0);
    vdc_host_log_clear(e.h);
    CHECK(strcmp(vdc_host_log(e.h), "") == 0);
    /* Unknown code, NULL file and function, trailing newline folded. */
    report_error(err, -123456, NULL, 0, NULL, "oops\n");
    CHECK(strcmp(vdc_host_log(e.h), "error: rc=-123456 (?) at ?:0 ?: oops\n") == 0);
    CHECK_EQ(vdc_host_get_stats(e.h)->errors_reported, 2);
    CHECK_EQ(misuse_of(&e), 0);
    /* A NULL format is misuse, still logged. */
    vdc_host_log_clear(e.h);
    report_error(err, VERR_EOF, "f", 1, "g", NULL);
    CHECK(strstr(vdc_host_log(e.h), "error: rc=-110 (VERR_EOF) at f:1 g: (no message)\n") != NULL);
    CHECK(strstr(vdc_host_log(e.h), "misuse: pfnError: NULL format\n") != NULL);
    CHECK_EQ(misuse_of(&e), 1);

    /* Messages. */
    vdc_host_log_clear(e.h);
    CHECK_EQ(report_message(err, "Header: version=%d size=%llu\n", 1, 1048576ull), VINF_SUCCESS);
    CHECK_EQ(report_message(err, "second"), VINF_SUCCESS);
    CHECK(strcmp(vdc_host_log(e.h), "message: Header: version=1 size=1048576\nmessage: second\n") == 0);
    CHECK_EQ(vdc_host_get_stats(e.h)->messages, 2);
    CHECK_EQ(report_message(err, NULL), VERR_INVALID_POINTER);
    CHECK_EQ(misuse_of(&e), 2);

    /* A message longer than the stack buffer is logged whole. */
    vdc_host_log_clear(e.h);
    char *long_text = malloc(3001);
    REQUIRE(long_text != NULL);
    memset(long_text, 'q', 3000);
    long_text[3000] = '\0';
    CHECK_EQ(report_message(err, "%s|", long_text), VINF_SUCCESS);
    CHECK_EQ(strlen(vdc_host_log(e.h)), strlen("message: ") + 3000 + 2);
    CHECK(strstr(vdc_host_log(e.h), "q|\n") != NULL);
    free(long_text);
    env_done(&e);
}

static void test_log_truncation(void)
{
    env e;
    REQUIRE(env_init(&e));
    PVDINTERFACEERROR err = vdc_if_error(vdc_host_disk_ifs(e.h));
    REQUIRE(err != NULL);
    /* 1000 lines of 100 bytes: "message: " (9) + 90 characters + "\n". */
    char text[91];
    memset(text, 'm', 90);
    text[90] = '\0';
    for (int i = 0; i < 1000; i++)
        CHECK_EQ(report_message(err, "%s", text), VINF_SUCCESS);
    const char *log = vdc_host_log(e.h);
    size_t len = strlen(log);
    CHECK(len <= VDC_HOST_LOG_MAX);
    CHECK(len > VDC_HOST_LOG_MAX - 200);
    /* The last line states the bytes dropped; kept + dropped = all sent. */
    const char *last = strstr(log, "[log truncated: ");
    REQUIRE(last != NULL);
    unsigned long long dropped = 0;
    char tail[32] = "";
    CHECK_EQ(sscanf(last, "[log truncated: %llu bytes dropped%31[]\n]", &dropped, tail), 2);
    CHECK(strcmp(tail, "]\n") == 0);
    size_t kept = (size_t)(last - log);
    CHECK_EQ(kept % 100, 0); /* whole lines only */
    CHECK_EQ(kept + dropped, 100000);
    CHECK(last + strlen(last) == log + len); /* it is the last line */
    CHECK_EQ(vdc_host_get_stats(e.h)->messages, 1000);
    /* Once truncated, later lines are dropped and counted too. */
    report_error(err, VERR_EOF, "f", 1, "g", "x");
    const char *log2 = vdc_host_log(e.h);
    last = strstr(log2, "[log truncated: ");
    REQUIRE(last != NULL);
    CHECK_EQ(sscanf(last, "[log truncated: %llu", &dropped), 1);
    CHECK_EQ(kept + dropped, 100000 + strlen("error: rc=-110 (VERR_EOF) at f:1 g: x\n"));
    /* Clearing starts over. */
    vdc_host_log_clear(e.h);
    CHECK_EQ(report_message(err, "fresh"), VINF_SUCCESS);
    CHECK(strcmp(vdc_host_log(e.h), "message: fresh\n") == 0);
    env_done(&e);
}

static void test_misuse_description_cap(void)
{
    env e;
    REQUIRE(env_init(&e));
    PVDINTERFACEIOINT io = vdc_host_ioint(e.h);
    for (int i = 0; i < 100; i++)
        CHECK_EQ(io->pfnClose(io->Core.pvUser, NULL), VERR_INVALID_HANDLE);
    CHECK_EQ(misuse_of(&e), 100);
    const char *log = vdc_host_log(e.h);
    unsigned lines = 0;
    for (const char *p = log; (p = strstr(p, "misuse: pfnClose: NULL storage handle\n")) != NULL; p++)
        lines++;
    CHECK_EQ(lines, VDC_HOST_MISUSE_DESCRIBED);
    CHECK(strstr(log, "misuse: further misuse is counted, not described\n") != NULL);
    vdc_host_log_clear(e.h);
    CHECK_EQ(io->pfnClose(io->Core.pvUser, NULL), VERR_INVALID_HANDLE);
    CHECK(strcmp(vdc_host_log(e.h), "misuse: pfnClose: NULL storage handle\n") == 0);
    env_done(&e);
}

/* --- PROGRESS -------------------------------------------------------------- */

static void test_progress(void)
{
    env e;
    REQUIRE(env_init(&e));
    PVDINTERFACEPROGRESS p = vdc_if_progress(vdc_host_op_ifs(e.h));
    REQUIRE(p != NULL);
    const vdc_host_stats *st = vdc_host_get_stats(e.h);
    CHECK_EQ(p->pfnProgress(p->Core.pvUser, 0), VINF_SUCCESS);
    CHECK_EQ(p->pfnProgress(p->Core.pvUser, 42), VINF_SUCCESS);
    CHECK_EQ(st->last_progress, 42);
    CHECK_EQ(p->pfnProgress(p->Core.pvUser, 100), VINF_SUCCESS);
    CHECK_EQ(st->last_progress, 100);
    CHECK_EQ(misuse_of(&e), 0);
    CHECK_EQ(p->pfnProgress(p->Core.pvUser, 101), VERR_INVALID_PARAMETER);
    CHECK_EQ(st->last_progress, 100);
    CHECK_EQ(misuse_of(&e), 1);
    CHECK(strstr(vdc_host_log(e.h), "misuse: pfnProgress: 101% is over 100\n") != NULL);
    CHECK_EQ(p->pfnProgress(p->Core.pvUser, UINT32_MAX), VERR_INVALID_PARAMETER);
    CHECK_EQ(misuse_of(&e), 2);
    CHECK_EQ(st->progress_calls, 5);
    env_done(&e);
}

/* --- CONFIG --------------------------------------------------------------- */

static void test_config(void)
{
    env e;
    REQUIRE(env_init(&e));
    PVDINTERFACECONFIG c = vdc_if_config(vdc_host_disk_ifs(e.h));
    REQUIRE(c != NULL);
    void *u = c->Core.pvUser;
    char buf[32];
    size_t cb = 0;

    /* No keys: any list is valid. */
    CHECK(c->pfnAreKeysValid(u, "\0"));
    CHECK_EQ(c->pfnQuerySize(u, "BlockSize", &cb), VERR_CFGM_VALUE_NOT_FOUND);
    CHECK_EQ(vdc_host_config_set(e.h, "BlockSize", "4096"), VINF_SUCCESS);
    CHECK_EQ(vdc_host_config_set(e.h, "Mode", "fixed"), VINF_SUCCESS);
    CHECK_EQ(vdc_host_config_set(e.h, NULL, "x"), VERR_INVALID_PARAMETER);

    /* AreKeysValid: every configured key must be in the list. */
    CHECK(c->pfnAreKeysValid(u, "BlockSize\0Mode\0"));
    CHECK(c->pfnAreKeysValid(u, "Other\0Mode\0BlockSize\0"));
    CHECK(!c->pfnAreKeysValid(u, "BlockSize\0"));
    CHECK(!c->pfnAreKeysValid(u, "blocksize\0Mode\0")); /* case matters */
    CHECK(!c->pfnAreKeysValid(u, "BlockSiz\0Mode\0"));
    CHECK(!c->pfnAreKeysValid(u, "\0"));
    CHECK_EQ(misuse_of(&e), 0);
    CHECK(!c->pfnAreKeysValid(u, NULL));
    CHECK_EQ(misuse_of(&e), 1);

    /* QuerySize counts the NUL; Query needs room for it. */
    CHECK_EQ(c->pfnQuerySize(u, "BlockSize", &cb), VINF_SUCCESS);
    CHECK_EQ(cb, 5);
    memset(buf, 'Z', sizeof buf);
    CHECK_EQ(c->pfnQuery(u, "BlockSize", buf, 4), VERR_CFGM_NOT_ENOUGH_SPACE);
    CHECK_EQ(buf[0], 'Z');
    CHECK_EQ(c->pfnQuery(u, "BlockSize", buf, 5), VINF_SUCCESS);
    CHECK(strcmp(buf, "4096") == 0);
    CHECK_EQ(c->pfnQuery(u, "Missing", buf, sizeof buf), VERR_CFGM_VALUE_NOT_FOUND);

    /* QueryBytes: the characters, the rest zeroed. */
    memset(buf, 'Z', sizeof buf);
    CHECK_EQ(c->pfnQueryBytes(u, "Mode", buf, 4), VERR_CFGM_NOT_ENOUGH_SPACE);
    CHECK_EQ(c->pfnQueryBytes(u, "Mode", buf, 5), VINF_SUCCESS);
    CHECK(memcmp(buf, "fixed", 5) == 0);
    CHECK_EQ(buf[5], 'Z');
    CHECK_EQ(c->pfnQueryBytes(u, "Mode", buf, 8), VINF_SUCCESS);
    CHECK(memcmp(buf, "fixed\0\0\0", 8) == 0);
    CHECK_EQ(c->pfnQueryBytes(u, "Missing", buf, 8), VERR_CFGM_VALUE_NOT_FOUND);

    /* Update: replaces; creates only with fCreate. */
    CHECK_EQ(c->pfnUpdate(u, false, "Mode", "dynamic"), VINF_SUCCESS);
    CHECK_EQ(c->pfnQuery(u, "Mode", buf, sizeof buf), VINF_SUCCESS);
    CHECK(strcmp(buf, "dynamic") == 0);
    CHECK_EQ(c->pfnUpdate(u, false, "New", "1"), VERR_CFGM_VALUE_NOT_FOUND);
    CHECK_EQ(c->pfnQuerySize(u, "New", &cb), VERR_CFGM_VALUE_NOT_FOUND);
    CHECK_EQ(c->pfnUpdate(u, true, "New", ""), VINF_SUCCESS);
    CHECK_EQ(c->pfnQuerySize(u, "New", &cb), VINF_SUCCESS);
    CHECK_EQ(cb, 1);
    CHECK(!c->pfnAreKeysValid(u, "BlockSize\0Mode\0"));
    CHECK(c->pfnAreKeysValid(u, "BlockSize\0Mode\0New\0"));
    /* vdc_host_config_set replaces too. */
    CHECK_EQ(vdc_host_config_set(e.h, "BlockSize", "512"), VINF_SUCCESS);
    CHECK_EQ(c->pfnQuery(u, "BlockSize", buf, sizeof buf), VINF_SUCCESS);
    CHECK(strcmp(buf, "512") == 0);
    CHECK_EQ(misuse_of(&e), 1);

    /* NULL arguments are misuse. */
    CHECK_EQ(c->pfnQuerySize(u, NULL, &cb), VERR_INVALID_POINTER);
    CHECK_EQ(c->pfnQuerySize(u, "Mode", NULL), VERR_INVALID_POINTER);
    CHECK_EQ(c->pfnQuery(u, NULL, buf, 4), VERR_INVALID_POINTER);
    CHECK_EQ(c->pfnQuery(u, "Mode", NULL, 4), VERR_INVALID_POINTER);
    CHECK_EQ(c->pfnQueryBytes(u, "Mode", NULL, 4), VERR_INVALID_POINTER);
    CHECK_EQ(c->pfnUpdate(u, true, NULL, "v"), VERR_INVALID_POINTER);
    CHECK_EQ(c->pfnUpdate(u, true, "k", NULL), VERR_INVALID_POINTER);
    CHECK_EQ(misuse_of(&e), 8);
    /* Many keys. */
    for (int i = 0; i < 50; i++) {
        char key[16], val[16];
        snprintf(key, sizeof key, "k%d", i);
        snprintf(val, sizeof val, "v%d", i * 3);
        CHECK_EQ(vdc_host_config_set(e.h, key, val), VINF_SUCCESS);
    }
    CHECK_EQ(c->pfnQuery(u, "k37", buf, sizeof buf), VINF_SUCCESS);
    CHECK(strcmp(buf, "v111") == 0);
    env_done(&e);
}

/* --- the probe IOINT ------------------------------------------------------ */

static void test_probe_traps(void)
{
    env e;
    REQUIRE(env_init(&e));
    PVDINTERFACEIOINT io = vdc_if_ioint(vdc_host_probe_ifs(e.h));
    REQUIRE(io != NULL);
    void *u = io->Core.pvUser;
    uint8_t buf[16] = { 0 };
    RTSGSEG seg;
    struct VDIOCTX ctx;
    vdc_ioctx_init_buf(&ctx, &seg, buf, sizeof buf);
    unsigned n = 1;

    /* The 13 real members work as in the image list. */
    PVDIOSTORAGE s = NULL;
    CHECK_EQ(io->pfnOpen(u, "p", vdc_open_flags_to_file(0, true), &s), VINF_SUCCESS);
    REQUIRE(s != NULL);
    CHECK_EQ(io->pfnWriteMeta(u, s, 0, "PROBE", 5, NULL, NULL, NULL), VINF_SUCCESS);
    CHECK_EQ(io->pfnReadMeta(u, s, 1, buf, 4, NULL, NULL, NULL, NULL), VINF_SUCCESS);
    CHECK(memcmp(buf, "ROBE", 4) == 0);
    uint64_t cb = 0;
    CHECK_EQ(io->pfnGetSize(u, s, &cb), VINF_SUCCESS);
    CHECK_EQ(cb, 5);
    CHECK_EQ(io->pfnSetSize(u, s, 16), VINF_SUCCESS);
    CHECK_EQ(io->pfnReadUser(u, s, 0, &ctx, 16), VINF_SUCCESS);
    CHECK_EQ(buf[0], 'P');
    vdc_ioctx_init_buf(&ctx, &seg, buf, sizeof buf);
    CHECK_EQ(io->pfnWriteUser(u, s, 16, &ctx, 16, NULL, NULL), VINF_SUCCESS);
    CHECK_EQ(io->pfnFlush(u, s, NULL, NULL, NULL), VINF_SUCCESS);
    CHECK_EQ(io->pfnClose(u, s), VINF_SUCCESS);
    int64_t space;
    RTTIMESPEC t;
    CHECK_EQ(io->pfnGetFreeSpace(u, "p", &space), VINF_SUCCESS);
    CHECK_EQ(io->pfnGetModificationTime(u, "p", &t), VINF_SUCCESS);
    CHECK_EQ(io->pfnMove(u, "p", "q", 0), VINF_SUCCESS);
    CHECK_EQ(io->pfnDelete(u, "q"), VINF_SUCCESS);
    CHECK_EQ(misuse_of(&e), 0);
    CHECK(strcmp(vdc_host_log(e.h), "") == 0);

    /* The 10 members VD leaves uninitialised are traps. */
    vdc_ioctx_init_buf(&ctx, &seg, buf, sizeof buf);
    CHECK_EQ(io->pfnSetAllocationSize(u, s, 100, 0, NULL, 0, 0), VERR_INVALID_STATE);
    io->pfnMetaXferRelease(u, NULL);
    CHECK_EQ(io->pfnIoCtxCopyTo(u, &ctx, "abc", 3), 0);
    CHECK_EQ(io->pfnIoCtxCopyFrom(u, &ctx, buf, 3), 0);
    CHECK_EQ(io->pfnIoCtxSet(u, &ctx, 1, 3), 0);
    CHECK_EQ(io->pfnIoCtxSegArrayCreate(u, &ctx, &seg, &n, 3), 0);
    io->pfnIoCtxCompleted(u, &ctx, VINF_SUCCESS, 3);
    CHECK(!io->pfnIoCtxIsSynchronous(u, &ctx));
    CHECK(!io->pfnIoCtxIsZero(u, &ctx, 3, true));
    CHECK_EQ(io->pfnIoCtxGetDataUnitSize(u, &ctx), 0);
    CHECK_EQ(misuse_of(&e), 10);
    CHECK_EQ(ctx.left, 16); /* nothing moved */
    CHECK_EQ(ctx.completions, 0);
    static const char *const members[10] = {
        "pfnSetAllocationSize", "pfnMetaXferRelease", "pfnIoCtxCopyTo", "pfnIoCtxCopyFrom",
        "pfnIoCtxSet", "pfnIoCtxSegArrayCreate", "pfnIoCtxCompleted", "pfnIoCtxIsSynchronous",
        "pfnIoCtxIsZero", "pfnIoCtxGetDataUnitSize",
    };
    for (int i = 0; i < 10; i++) {
        char line[128];
        snprintf(line, sizeof line, "misuse: probe called %s, which VD leaves uninitialised\n", members[i]);
        CHECK(strstr(vdc_host_log(e.h), line) != NULL);
    }
    /* The regular IOINT's members are unaffected. */
    PVDINTERFACEIOINT real = vdc_host_ioint(e.h);
    CHECK_EQ(real->pfnIoCtxGetDataUnitSize(real->Core.pvUser, &ctx), 512);
    CHECK_EQ(misuse_of(&e), 10);
    env_done(&e);
}

/* The interface modes (host.h vdc_host_set_ifs, spec/contract.md HOST-5,
 * CREATE-5). */
static void test_ifs_modes(void)
{
    env e;
    REQUIRE(env_init(&e));
    PVDINTERFACE image = vdc_host_image_ifs(e.h), probe = vdc_host_probe_ifs(e.h);
    PVDINTERFACE cfg = image->pNext;
    REQUIRE(cfg != NULL);

    vdc_host_set_ifs(e.h, VDC_HOST_IFS_BARE);
    CHECK(vdc_host_disk_ifs(e.h) == NULL);
    CHECK(vdc_host_op_ifs(e.h) == NULL);
    CHECK(vdc_host_image_ifs(e.h) == image && image->pNext == NULL);
    CHECK(vdc_host_probe_ifs(e.h) == probe && probe->pNext == NULL);
    CHECK(vdc_if_config(image) == NULL && vdc_if_ioint(image) != NULL);

    vdc_host_set_ifs(e.h, VDC_HOST_IFS_NOMESSAGE);
    PVDINTERFACE disk = vdc_host_disk_ifs(e.h);
    REQUIRE(disk != NULL && vdc_if_error(disk) != NULL);
    CHECK(vdc_if_error(disk)->pfnMessage == NULL && vdc_if_error(disk)->pfnError != NULL);
    CHECK(disk->pNext == cfg && image->pNext == cfg && probe->pNext == cfg);
    CHECK(vdc_host_op_ifs(e.h) != NULL);

    /* noprealloc: everything there; only preallocation is refused. */
    PVDINTERFACEIOINT io = vdc_host_ioint(e.h);
    PVDIOSTORAGE st = NULL;
    REQUIRE(io->pfnOpen(io->Core.pvUser, "f", RTFILE_O_CREATE | RTFILE_O_READWRITE | RTFILE_O_DENY_NONE, &st)
            == VINF_SUCCESS);
    vdc_host_set_ifs(e.h, VDC_HOST_IFS_NOPREALLOC);
    CHECK(vdc_host_disk_ifs(e.h) != NULL && image->pNext == cfg);
    CHECK(vdc_if_error(vdc_host_disk_ifs(e.h))->pfnMessage != NULL);
    CHECK_EQ(io->pfnSetAllocationSize(io->Core.pvUser, st, 8192, 0, NULL, 0, 0), VERR_NOT_SUPPORTED);
    CHECK_EQ(io->pfnSetAllocationSize(io->Core.pvUser, st, 8192, 1, NULL, 0, 0), VERR_INVALID_PARAMETER);
    CHECK_EQ(io->pfnSetSize(io->Core.pvUser, st, 4096), VINF_SUCCESS);
    CHECK_EQ(misuse_of(&e), 1); /* the fFlags of 1 */

    vdc_host_set_ifs(e.h, VDC_HOST_IFS_FULL);
    CHECK(vdc_if_error(vdc_host_disk_ifs(e.h))->pfnMessage != NULL);
    CHECK(image->pNext == cfg && probe->pNext == cfg);
    CHECK_EQ(io->pfnSetAllocationSize(io->Core.pvUser, st, 8192, 0, NULL, 0, 0), VINF_SUCCESS);
    uint64_t cb = 0;
    CHECK(io->pfnGetSize(io->Core.pvUser, st, &cb) == VINF_SUCCESS && cb == 8192);
    CHECK_EQ(io->pfnClose(io->Core.pvUser, st), VINF_SUCCESS);
    CHECK_EQ(misuse_of(&e), 1);
    env_done(&e);
}

CHECK_MAIN(CHECK_CASE(test_lists), CHECK_CASE(test_ifs_modes), CHECK_CASE(test_error_interface),
           CHECK_CASE(test_log_truncation), CHECK_CASE(test_misuse_description_cap), CHECK_CASE(test_progress),
           CHECK_CASE(test_config), CHECK_CASE(test_probe_traps))
