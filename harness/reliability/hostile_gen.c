/*
 * harness/reliability/hostile_gen.c - vdcc-hostile-gen: writes the hostile
 * VCI corpus (hostile.h) as DIR/NNN-name.vci plus DIR/MANIFEST.
 *
 * usage: vdcc-hostile-gen [DIR]     (default corpus/hostile)
 *
 * Deterministic: the same build writes the same bytes.  Files of the form
 * NNN-*.vci in DIR that are not part of the corpus are removed, so a
 * renamed case leaves no stale file.  Exit status 0, or 1 with a message
 * on any I/O error.  MANIFEST format, one line per case:
 *   NNN-name.vci probe=P rw=R ro=O deep=D size=BYTES : description
 * with the expectation names of hostile.h (vdc_hx_name).
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hostile.h"

typedef struct gen {
    const char *dir;
    FILE       *manifest;
    unsigned    n;
    uint64_t    bytes, largest;
    char      **names;
} gen;

static int write_case(void *user, const vdc_hostile_case *c)
{
    gen *g = user;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.vci", g->dir, c->name);
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        fprintf(stderr, "vdcc-hostile-gen: %s: %s\n", path, strerror(errno));
        return 1;
    }
    size_t w = c->size != 0 ? fwrite(c->img, 1, c->size, f) : 0;
    if (fclose(f) != 0 || w != c->size) {
        fprintf(stderr, "vdcc-hostile-gen: %s: write failed\n", path);
        return 1;
    }
    fprintf(g->manifest, "%s.vci probe=%s rw=%s ro=%s deep=%s size=%zu : %s\n", c->name, vdc_hx_name(c->probe),
            vdc_hx_name(c->open_rw), vdc_hx_name(c->open_ro), vdc_hx_name(c->deep), c->size, c->desc);
    char **nn = realloc(g->names, (g->n + 1) * sizeof *nn);
    if (nn == NULL)
        return 1;
    g->names = nn;
    g->names[g->n] = malloc(strlen(c->name) + 5);
    if (g->names[g->n] == NULL)
        return 1;
    sprintf(g->names[g->n], "%s.vci", c->name);
    g->n++;
    g->bytes += c->size;
    if (c->size > g->largest)
        g->largest = c->size;
    return 0;
}

/* Removes NNN-*.vci files that are not part of the corpus just written. */
static void remove_stale(const gen *g)
{
    DIR *d = opendir(g->dir);
    struct dirent *de;
    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        size_t len = strlen(n);
        if (len < 8 || n[3] != '-' || strcmp(n + len - 4, ".vci") != 0 || n[0] < '0' || n[0] > '9')
            continue;
        bool known = false;
        for (unsigned i = 0; i < g->n && !known; i++)
            known = strcmp(g->names[i], n) == 0;
        if (!known) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", g->dir, n);
            remove(path);
        }
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    gen g = { .dir = argc > 1 ? argv[1] : "corpus/hostile" };
    char path[4096];
    int ex = 1;

    if (argc > 2 || (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))) {
        fprintf(argc > 2 ? stderr : stdout, "usage: vdcc-hostile-gen [DIR]   (default corpus/hostile)\n");
        return argc > 2 ? 2 : 0;
    }
    if (mkdir(g.dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "vdcc-hostile-gen: %s: %s\n", g.dir, strerror(errno));
        return 1;
    }
    snprintf(path, sizeof path, "%s/MANIFEST", g.dir);
    g.manifest = fopen(path, "w");
    if (g.manifest == NULL) {
        fprintf(stderr, "vdcc-hostile-gen: %s: %s\n", path, strerror(errno));
        return 1;
    }
    fprintf(g.manifest, "# corpus/hostile: malformed VCI v1 images, written by vdcc-hostile-gen\n"
                        "# (harness/reliability/hostile_cases.c) from its own encoder; checked by\n"
                        "# test_hostile.  Fields: probe/rw/ro/deep = what spec/vci-format.md makes a\n"
                        "# reader answer (harness/reliability/hostile.h); size in bytes.\n");
    int rc = vdc_hostile_each(write_case, &g);
    if (fclose(g.manifest) != 0 || rc != 0) {
        fprintf(stderr, "vdcc-hostile-gen: failed (%d)\n", rc);
        goto out_free;
    }
    remove_stale(&g);
    printf("vdcc-hostile-gen: %u images, %llu bytes (largest %llu) in %s\n", g.n, (unsigned long long)g.bytes,
           (unsigned long long)g.largest, g.dir);
    ex = 0;
out_free:
    for (unsigned i = 0; i < g.n; i++)
        free(g.names[i]);
    free(g.names);
    return ex;
}
