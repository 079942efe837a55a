/* SPDX-License-Identifier: MIT */
/* Kernel interfaces newer than the build host's headers (Debian 12 ships
 * 6.1 uapi headers; the target kernels are 6.12+).  Values are the kernel's
 * uapi ABI, so using them on an older kernel simply yields EINVAL/ENOSYS,
 * which callers detect and report. */
#pragma once

#include <linux/landlock.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- Landlock (ABI 3..7) ---- */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#define RP_LANDLOCK_RULE_NET_PORT 2
#define RP_LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define RP_LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#define RP_LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF (1U << 0)

/* The full ABI-7 ruleset attribute; older kernels accept a prefix of it
 * (the size argument tells them which fields we know). */
struct rp_landlock_ruleset_attr {
        uint64_t handled_access_fs;
        uint64_t handled_access_net; /* ABI >= 4 */
        uint64_t scoped;             /* ABI >= 6 */
};
struct rp_landlock_net_port_attr {
        uint64_t allowed_access;
        uint64_t port;
};

/* ---- securebits: exec control (Linux 6.14) ---- */
#ifndef SECBIT_EXEC_RESTRICT_FILE
#define SECBIT_EXEC_RESTRICT_FILE (1U << 8)
#define SECBIT_EXEC_RESTRICT_FILE_LOCKED (1U << 9)
#define SECBIT_EXEC_DENY_INTERACTIVE (1U << 10)
#define SECBIT_EXEC_DENY_INTERACTIVE_LOCKED (1U << 11)
#endif
#ifndef AT_EXECVE_CHECK
#define AT_EXECVE_CHECK 0x10000
#endif

/* ---- memory-deny-write-execute (Linux 6.3) ---- */
#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#define PR_GET_MDWE 66
#define PR_MDWE_REFUSE_EXEC_GAIN (1UL << 0)
#endif

/* ---- memfd ---- */
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#define MFD_EXEC 0x0010U
#endif

/* ---- pidfd of a UNIX socket's peer (Linux 6.5) ---- */
#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

static inline int rp_landlock_create_ruleset(const void *attr, size_t size, uint32_t flags) {
        return (int) syscall(__NR_landlock_create_ruleset, attr, size, flags);
}
static inline int rp_landlock_add_rule(int fd, int type, const void *attr, uint32_t flags) {
        return (int) syscall(__NR_landlock_add_rule, fd, type, attr, flags);
}
static inline int rp_landlock_restrict_self(int fd, uint32_t flags) {
        return (int) syscall(__NR_landlock_restrict_self, fd, flags);
}
static inline int rp_pidfd_send_signal(int pidfd, int sig, void *info, unsigned flags) {
        return (int) syscall(__NR_pidfd_send_signal, pidfd, sig, info, flags);
}
static inline int rp_pidfd_open(pid_t pid, unsigned flags) {
        return (int) syscall(__NR_pidfd_open, pid, flags);
}
