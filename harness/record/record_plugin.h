/*
 * harness/record/record_plugin.h - the entry point of VDPluginVdccRecord.so, the
 * VirtualBox plugin form of `vdcc record` (see record_plugin.c for the
 * environment it reads and the statuses it returns).
 */
#ifndef VDCC_HARNESS_RECORD_PLUGIN_H
#define VDCC_HARNESS_RECORD_PLUGIN_H

#include "spec/vdcache.h"

int VDPluginLoad(void *pvUser, PVDBACKENDREGISTER pReg);

#endif /* VDCC_HARNESS_RECORD_PLUGIN_H */
