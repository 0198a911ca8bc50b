/*
 * harness/tests/backends/tb.h - the harness's test backends.
 *
 * toy.c is a small, correct cache backend that is not VCI (its format is
 * described at the top of toy.c).  It exists to prove that the harness judges
 * the contract (spec/contract.md) and not one implementation: the conformance
 * corpus must pass on it as on the reference backend.
 *
 * The same source, compiled with one TB_DEFECT_* define, yields each broken
 * backend the harness tests must classify (see toy.c for the list).  Built as
 * a plugin (TB_PLUGIN defined) it exports VDPluginLoad, which registers
 * `tb_backend`; the vtable is also reachable directly as "PATH.so:tb_backend".
 * Built into vdcc (no TB_PLUGIN) the correct toy is `vdcc_toy_backend`.
 */
#ifndef VDCC_HARNESS_TESTS_BACKENDS_TB_H
#define VDCC_HARNESS_TESTS_BACKENDS_TB_H

#include "../../../spec/vdcache.h"

#ifdef TB_PLUGIN
extern const VDCACHEBACKEND tb_backend;
/* Registers tb_backend through pReg->pfnRegisterCache and returns its status. */
int VDPluginLoad(void *pvUser, PVDBACKENDREGISTER pReg);
#else
extern const VDCACHEBACKEND vdcc_toy_backend;
#endif

#endif /* VDCC_HARNESS_TESTS_BACKENDS_TB_H */
