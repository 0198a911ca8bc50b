/*
 * harness/builtin.c - the table of backends linked into vdcc.  Contract:
 * builtin.h.  Adding a backend is one line here (and its library in
 * harness/part.ninja).  No status codes: lookups return NULL when absent.
 */
#include "builtin.h"

#include <string.h>

#include "tests/backends/tb.h"
#ifdef VDCC_HAVE_REF
# include "../ref/ref.h"
#endif

static const vdc_builtin builtins[] = {
#ifdef VDCC_HAVE_REF
    { "ref", &vdcc_ref_backend },
#endif
    { "toy", &vdcc_toy_backend },
};

const vdc_builtin *vdc_builtin_at(size_t i)
{
    return i < sizeof builtins / sizeof builtins[0] ? &builtins[i] : NULL;
}

const VDCACHEBACKEND *vdc_builtin_find(const char *name)
{
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
        if (strcmp(builtins[i].name, name) == 0)
            return builtins[i].be;
    return NULL;
}
