/* SPDX-License-Identifier: MIT */
/* Internal to the cgroup module: loading and attaching the device program
 * (cgroup-bpf.c), used by cgroup.c.  The instruction builder itself is part
 * of the public contract in cgroup.h. */
#pragma once

#include <stddef.h>

#include "profile.h"

/* Build the device program for devs, load it and attach it to the cgroup
 * directory cgroup_fd (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI).  On a load
 * failure the verifier log is written to the error log.  Returns the
 * program fd (>= 0, O_CLOEXEC) or -errno. */
int cgroup_device_prog_attach(int cgroup_fd, const struct jail_device *devs, unsigned n);
