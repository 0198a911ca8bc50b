/*
 * harness/host/alloc_hook.c - the allocator built-in backends are linked
 * against (alloc_hook.h).
 *
 * Contract, state and the realloc decisions: alloc_hook.h.  No status
 * codes; the allocation functions fail as libc's do (NULL, errno ENOMEM).
 */
#include "alloc_hook.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct {
    bool     armed, persistent;
    unsigned paused;
    uint64_t nth, count, fired;
    int64_t  live;
    size_t   nsites;
    const void *site[VDC_ALLOC_HOOK_MAX_SITES];
    uint64_t first[VDC_ALLOC_HOOK_MAX_SITES];
} g_hook;

void vdc_alloc_hook_arm(uint64_t nth, bool persistent)
{
    g_hook.armed = true;
    g_hook.persistent = persistent;
    g_hook.nth = nth;
    g_hook.count = 0;
    g_hook.fired = 0;
    g_hook.nsites = 0;
}

void vdc_alloc_hook_disarm(void)
{
    g_hook.armed = false;
}

void vdc_alloc_hook_pause(void)
{
    g_hook.paused++;
}

void vdc_alloc_hook_resume(void)
{
    if (g_hook.paused > 0)
        g_hook.paused--;
}

uint64_t vdc_alloc_hook_count(void)
{
    return g_hook.count;
}

uint64_t vdc_alloc_hook_fired(void)
{
    return g_hook.fired;
}

int64_t vdc_alloc_hook_live(void)
{
    return g_hook.live;
}

size_t vdc_alloc_hook_sites(uint64_t *out, size_t max)
{
    for (size_t i = 0; i < g_hook.nsites && i < max; i++)
        out[i] = g_hook.first[i];
    return g_hook.nsites;
}

/* Notes the call site of allocation number g_hook.count (a linear search:
 * a backend has a few dozen sites). */
static void note_site(const void *site)
{
    for (size_t i = 0; i < g_hook.nsites; i++)
        if (g_hook.site[i] == site)
            return;
    if (g_hook.nsites < VDC_ALLOC_HOOK_MAX_SITES) {
        g_hook.site[g_hook.nsites] = site;
        g_hook.first[g_hook.nsites++] = g_hook.count;
    }
}

/* Numbers one allocation call made from `site`; true when it is to fail. */
static bool must_fail(const void *site)
{
    if (!g_hook.armed || g_hook.paused > 0)
        return false;
    g_hook.count++;
    note_site(site);
    if (g_hook.nth == 0 || g_hook.count < g_hook.nth || (g_hook.count > g_hook.nth && !g_hook.persistent))
        return false;
    g_hook.fired++;
    errno = ENOMEM;
    return true;
}

static void *counted(void *p)
{
    if (p != NULL)
        g_hook.live++;
    return p;
}

/* The backend's call site: where the renamed allocator returns to. */
#define SITE __builtin_return_address(0)

void *vdc_be_malloc(size_t cb)
{
    return must_fail(SITE) ? NULL : counted(malloc(cb));
}

void *vdc_be_calloc(size_t n, size_t cb)
{
    return must_fail(SITE) ? NULL : counted(calloc(n, cb));
}

void *vdc_be_aligned_alloc(size_t align, size_t cb)
{
    return must_fail(SITE) ? NULL : counted(aligned_alloc(align, cb));
}

char *vdc_be_strdup(const char *s)
{
    return must_fail(SITE) ? NULL : counted(strdup(s));
}

void *vdc_be_realloc(void *p, size_t cb)
{
    if (p == NULL)
        return must_fail(SITE) ? NULL : counted(malloc(cb));
    if (cb == 0) {
        vdc_be_free(p);
        return NULL;
    }
    if (must_fail(SITE))
        return NULL;
    return realloc(p, cb);
}

void vdc_be_free(void *p)
{
    if (p != NULL)
        g_hook.live--;
    free(p);
}
