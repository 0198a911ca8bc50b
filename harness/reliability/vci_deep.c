/*
 * harness/reliability/vci_deep.c - the deep-check adapter of reliability.h
 * over ref's vci_check (ref/vci_check.h, spec/vci-format.md section 6 and
 * the deep-check rules of section 4).
 *
 * Contract: reliability.h.  Statuses: VINF_SUCCESS, VERR_NOT_SUPPORTED
 * (built without VDCC_HAVE_VCI_CHECK), and whatever vci_check reports.
 */
#include "reliability.h"

#include <stdio.h>
#include <strings.h>

#ifdef VDCC_HAVE_VCI_CHECK
# include "../../ref/vci_check.h"
# include "../host/host.h"
#endif

bool vdc_rel_have_vci_check(void)
{
#ifdef VDCC_HAVE_VCI_CHECK
    return true;
#else
    return false;
#endif
}

int vdc_rel_vci_check(void *user, vdc_fs *fs, const char *name, char *msg, size_t cb_msg)
{
    (void)user;
#ifdef VDCC_HAVE_VCI_CHECK
    vci_check_stats st;
    char m[512];
    vdc_host *host = vdc_host_new(fs);
    if (host == NULL) {
        if (msg != NULL && cb_msg != 0)
            snprintf(msg, cb_msg, "out of memory");
        return VERR_NO_MEMORY;
    }
    m[0] = '\0';
    int rc = vci_check(name, vdc_host_image_ifs(host), m, sizeof m, &st);
    if (RT_SUCCESS(rc) && st.unclean) {
        rc = VERR_VD_IMAGE_CORRUPTED;
        snprintf(m, sizeof m, "the unclean flag is still set after a successful flush or close");
    }
    const vdc_host_stats *hs = vdc_host_get_stats(host);
    if (RT_SUCCESS(rc) && (hs->misuse != 0 || hs->open_storages != 0)) {
        rc = VERR_INTERNAL_ERROR;
        snprintf(m, sizeof m, "vci_check misused the host (%llu) or left %u storage handle(s) open",
                 (unsigned long long)hs->misuse, hs->open_storages);
    }
    vdc_host_free(host);
    if (msg != NULL && cb_msg != 0)
        snprintf(msg, cb_msg, "%s", m);
    return rc;
#else
    (void)fs, (void)name;
    if (msg != NULL && cb_msg != 0)
        snprintf(msg, cb_msg, "this build has no VCI deep check");
    return VERR_NOT_SUPPORTED;
#endif
}

bool vdc_rel_is_vci(const VDCACHEBACKEND *be)
{
    return be != NULL && be->pszBackendName != NULL && strcasecmp(be->pszBackendName, "vci") == 0;
}

vdc_deep_check_fn vdc_rel_deep_check_for(const VDCACHEBACKEND *be)
{
    return vdc_rel_is_vci(be) && vdc_rel_have_vci_check() ? vdc_rel_vci_check : NULL;
}
