/* SPDX-License-Identifier: MIT */
/* rempart-probe: a battery of escape and privilege-gain attempts, run once
 * outside a jail (where each should succeed, proving it is not vacuous) and
 * once inside (where each must fail).  See run-escape.sh.
 *
 * Every probe runs in its own forked child with an alarm, so a crash, a
 * seccomp kill or a hang cannot stop the battery, and state changes made by
 * a probe (chroot, setuid, unshare, ...) die with that child.
 *
 * Harmlessness: no probe really changes the host.  Where the real action
 * would be damaging, the probe uses arguments for which the kernel performs
 * its permission check first and then fails on the argument (EINVAL, ENOENT,
 * EBADF): that errno means "allowed past the check", EPERM/EACCES mean
 * denied.  Files are only created unnamed (O_TMPFILE) or in the probe's own
 * scratch directory and removed at once. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum probe_status { PROBE_ALLOWED, PROBE_DENIED, PROBE_ERROR, PROBE_SKIP };

#define PROBE_DETAIL_MAX 400

struct probe_result {
        enum probe_status status;
        char detail[PROBE_DETAIL_MAX];
};

#define PROBE_MAX_INHERITED 16

/* Fixtures and settings, filled by main() from the command line. */
struct probe_ctx {
        pid_t host_pid;            /* a process outside the jail, 0 = not given */
        const char *marker;        /* a file that exists only on the host */
        const char *abstract_name; /* host abstract UNIX socket (without the NUL) */
        const char *unix_path;     /* host UNIX socket in the filesystem */
        int tcp_port, udp_port;    /* host listeners on 127.0.0.1 (and ::1 for TCP) */
        const char *suid;          /* setuid-root copy of rempart-probe */
        const char *device;        /* device node outside the allowlist */
        unsigned pids;             /* fork_bomb: children to try */
        unsigned mem_mib;          /* memory_hog: MiB to allocate and touch */
        char workdir[256];         /* private scratch directory, "" if none */
        int inherited[PROBE_MAX_INHERITED]; /* fds >= 3 open at startup */
        unsigned n_inherited;
};

typedef void (*probe_fn)(const struct probe_ctx *ctx, struct probe_result *r);

struct probe {
        const char *name;
        probe_fn fn;
        const char *what;     /* one line for --list */
        unsigned timeout;     /* seconds, 0 = default */
        bool killed_contains; /* death by SIGKILL means "contained" (OOM) */
};

/* Probe tables, one per source file; each ends with a NULL name. */
extern const struct probe probes_fs[];    /* probe-fs.c: files, exec, memory */
extern const struct probe probes_mount[]; /* probe-mount.c: mounts, roots, /proc, /sys */
extern const struct probe probes_proc[];  /* probe-proc.c: processes, namespaces, credentials */
extern const struct probe probes_kernel[]; /* probe-kernel.c: privileged system calls */
extern const struct probe probes_net[];    /* probe-net.c: network, devices, terminals */

/* ---- result helpers (probe.c) ---- */

__attribute__((format(printf, 3, 4))) void set_result(struct probe_result *r, enum probe_status s,
                                                      const char *fmt, ...);
/* Name of an errno value ("EPERM"), never NULL. */
const char *errname(int err);
/* Judge a system call: rc >= 0 is ALLOWED (what succeeded); err ==
 * past_check (if non-zero) is ALLOWED too (the argument was refused after
 * the permission check); EPERM/EACCES/EROFS are DENIED; anything else is
 * ERROR. */
void judge_err(struct probe_result *r, long rc, int err, int past_check, const char *what);
/* Same with err = errno, read when called: pass the call itself as rc
 * (arguments are evaluated before the body reads errno). */
void judge(struct probe_result *r, long rc, int past_check, const char *what);
/* For visibility probes: ENOENT and ESRCH (not visible) are DENIED. */
void judge_visible_err(struct probe_result *r, long rc, int err, const char *what);
void judge_visible(struct probe_result *r, long rc, const char *what);
/* Is err a permission refusal (EPERM, EACCES, EROFS)? */
bool is_denial(int err);

/* ---- process helpers (probe.c) ---- */

/* Fork; the child runs execveat(dirfd, path, argv, env, flags) with stdout
 * sent to out_fd (if >= 0) and stderr to /dev/null.  Returns the wait status
 * (>= 0) when the exec happened, or -errno of the failed exec/fork. */
int spawn_wait(int dirfd, const char *path, char *const argv[], int flags, int out_fd);
/* Copy our own executable (/proc/self/exe) to fd. Returns 0 or -errno. */
int copy_self(int fd);
/* Create an executable copy of ourselves in dir, unnamed where the file
 * system allows it (O_TMPFILE), else under a unique name removed at once.
 * Returns a read-only fd on it, or -errno of the creation failure. */
int make_exec_copy(const char *dir);
/* Run the copy behind fd with "--noop" (exits PROBE_NOOP_EXIT).  Returns 1
 * if it ran, 0 if it was refused with *err set, -errno on other trouble. */
int try_exec_fd(int fd, int *err);
#define PROBE_NOOP_EXIT 42

/* Run fn in a grandchild and return its result (an errno, 0 = success),
 * or -errno if the grandchild could not be run. */
int in_grandchild(int (*fn)(void *), void *arg);

/* --serve-fixtures (probe-serve.c): prints "FIXTURES pid=P tcp=N udp=N
 * tcp6=0|1" once listening, then serves until killed or orphaned. */
int serve_fixtures(const char *abstract, const char *unix_path);

/* Read a small file into buf (NUL-terminated). Returns length or -errno. */
ssize_t read_small(const char *path, char *buf, size_t size);
/* Append to a NUL-terminated buffer / to r->detail (truncating silently). */
__attribute__((format(printf, 3, 4))) void buf_append(char *buf, size_t size, const char *fmt, ...);
__attribute__((format(printf, 2, 3))) void append_detail(struct probe_result *r, const char *fmt, ...);
