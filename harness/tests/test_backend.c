/*
 * harness/tests/test_backend.c - loading backends by SPEC (harness/backend.h):
 * built-ins, plugins (VDPluginLoad) and PATH.so:SYMBOL, and every loading
 * error the test plugins provoke.  The plugins are the tb_*.so files next to
 * this binary's t/ directory (build/VARIANT/tb_*.so).
 */
#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>

#include "../../tests/check.h"
#include "../backend.h"

static char so_dir[PATH_MAX];

static const char *so(const char *name, const char *suffix)
{
    static char buf[PATH_MAX + 64];
    snprintf(buf, sizeof buf, "%s/tb_%s.so%s", so_dir, name, suffix != NULL ? suffix : "");
    return buf;
}

static void test_builtins(void)
{
    vdc_backend b;
    char err[1024];
    CHECK_EQ(vdc_backend_load("toy", NULL, &b, err, sizeof err), VINF_SUCCESS);
    CHECK(b.be != NULL && strcmp(b.be->pszBackendName, "toy") == 0 && b.dl == NULL);
    vdc_backend_unload(&b);
    CHECK_EQ(vdc_backend_load("ref", NULL, &b, err, sizeof err), VINF_SUCCESS);
    CHECK(b.be != NULL && strcmp(b.be->pszBackendName, "vci") == 0);
    vdc_backend_unload(&b);
    CHECK_EQ(vdc_backend_load("ref", "VCI", &b, err, sizeof err), VINF_SUCCESS);
    vdc_backend_unload(&b);
    CHECK_EQ(vdc_backend_load("ref", "toy", &b, err, sizeof err), VERR_NOT_FOUND);
    CHECK(strstr(err, "is called 'vci', not 'toy'") != NULL);
    CHECK_EQ(vdc_backend_load("nosuch", NULL, &b, err, sizeof err), VERR_NOT_FOUND);
    CHECK(strstr(err, "not a built-in backend (built-ins: ref toy)") != NULL);
    CHECK(b.be == NULL);
    CHECK_EQ(vdc_backend_load("", NULL, &b, err, sizeof err), VERR_INVALID_PARAMETER);
}

static void test_plugin_both_ways(void)
{
    vdc_backend a, s;
    char err[1024];
    REQUIRE(vdc_backend_load(so("toy", NULL), NULL, &a, err, sizeof err) == VINF_SUCCESS);
    CHECK(a.dl != NULL && strcmp(a.be->pszBackendName, "toy") == 0);
    REQUIRE(vdc_backend_load(so("toy", ":tb_backend"), NULL, &s, err, sizeof err) == VINF_SUCCESS);
    CHECK(s.be == a.be); /* one library, one vtable */
    CHECK(strcmp(s.spec, so("toy", ":tb_backend")) == 0);
    vdc_backend_unload(&s);
    vdc_backend_unload(&a);
    CHECK(a.be == NULL && a.dl == NULL);
    /* A plain file name is looked up in the current directory, not the library path. */
    char cwd[PATH_MAX];
    REQUIRE(getcwd(cwd, sizeof cwd) != NULL);
    REQUIRE(chdir(so_dir) == 0);
    int rc = vdc_backend_load("tb_toy.so", "TOY", &a, err, sizeof err);
    CHECK(chdir(cwd) == 0);
    CHECK_EQ(rc, VINF_SUCCESS);
    vdc_backend_unload(&a);
}

static void test_plugin_choice(void)
{
    vdc_backend b;
    char err[1024];
    CHECK_EQ(vdc_backend_load(so("multi", NULL), NULL, &b, err, sizeof err), VERR_NOT_FOUND);
    CHECK(strstr(err, "registered 2 cache backends; choose one with --name: toy toy-alt") != NULL);
    REQUIRE(vdc_backend_load(so("multi", NULL), "TOY-Alt", &b, err, sizeof err) == VINF_SUCCESS);
    CHECK(strcmp(b.be->pszBackendName, "toy-alt") == 0);
    vdc_backend_unload(&b);
    CHECK_EQ(vdc_backend_load(so("multi", NULL), "toy-future", &b, err, sizeof err), VERR_NOT_FOUND);
    CHECK(strstr(err, "no cache backend called 'toy-future' (registered: toy toy-alt)") != NULL);
}

static void test_collector(void)
{
    void *dl = dlopen(so("multi", NULL), RTLD_NOW | RTLD_LOCAL);
    REQUIRE(dl != NULL);
    void *sym = dlsym(dl, VD_PLUGIN_LOAD_NAME);
    PFNVDPLUGINLOAD load;
    memcpy(&load, &sym, sizeof load);
    vdc_plugin_collect c;
    CHECK_EQ(vdc_plugin_collect_run(load, &c), VINF_SUCCESS);
    CHECK_EQ(c.n, 2);
    CHECK_EQ(c.ignored, 1); /* toy-future: newer minor, VERR_IGNORED (the plugin checks the answer) */
    CHECK_EQ(c.ignored_version, VD_VERSION_MAKE(0xff03, 1, 1));
    dlclose(dl);
}

static void test_load_errors(void)
{
    vdc_backend b;
    char err[1024];
    CHECK_EQ(vdc_backend_load(so("loadfail", NULL), NULL, &b, err, sizeof err), VERR_NOT_SUPPORTED);
    CHECK(strstr(err, "VDPluginLoad failed with VERR_NOT_SUPPORTED (-37)") != NULL);
    CHECK_EQ(vdc_backend_load(so("nocache", NULL), NULL, &b, err, sizeof err), VERR_NOT_FOUND);
    CHECK(strstr(err, "registered no cache backend") != NULL);
    CHECK_EQ(vdc_backend_load(so("oldversion", NULL), NULL, &b, err, sizeof err), VERR_VERSION_MISMATCH);
    CHECK(strstr(err, "incompatible version (last 0xff030020; vdcc accepts 0xff030010)") != NULL);
    CHECK_EQ(vdc_backend_load(so("noentry", NULL), NULL, &b, err, sizeof err), VERR_SYMBOL_NOT_FOUND);
    CHECK(strstr(err, "not a VirtualBox plugin") != NULL);
    CHECK_EQ(vdc_backend_load(so("noentry", ":vdcc_toy_backend"), NULL, &b, err, sizeof err), VINF_SUCCESS);
    vdc_backend_unload(&b);
    CHECK_EQ(vdc_backend_load(so("toy", ":no_such_symbol"), NULL, &b, err, sizeof err), VERR_SYMBOL_NOT_FOUND);
    CHECK(strstr(err, "no symbol 'no_such_symbol'") != NULL);
    CHECK_EQ(vdc_backend_load(so("toy", ":1bad"), NULL, &b, err, sizeof err), VERR_INVALID_PARAMETER);
    CHECK_EQ(vdc_backend_load(so("absent", NULL), NULL, &b, err, sizeof err), VERR_FILE_NOT_FOUND);
    CHECK(strstr(err, "cannot open shared object file") != NULL);
    CHECK(b.be == NULL && b.dl == NULL);
    /* A file that is not a shared object at all. */
    CHECK_EQ(vdc_backend_load("corpus/conformance/README.md.so", NULL, &b, err, sizeof err), VERR_FILE_NOT_FOUND);
}

int main(int argc, char **argv)
{
    /* argv[0] is DIR/t/test_backend: the plugins are in DIR. */
    snprintf(so_dir, sizeof so_dir, "%s", argv[0]);
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(so_dir, '/');
        if (slash == NULL) {
            snprintf(so_dir, sizeof so_dir, "%s", up == 0 ? ".." : ".");
            break;
        }
        *slash = '\0';
    }
    static const check_case cases[] = {
        CHECK_CASE(test_builtins),    CHECK_CASE(test_plugin_both_ways), CHECK_CASE(test_plugin_choice),
        CHECK_CASE(test_collector),   CHECK_CASE(test_load_errors),
    };
    return check_run(cases, sizeof cases / sizeof cases[0], argc, argv);
}
