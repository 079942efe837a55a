/* SPDX-License-Identifier: MIT */
/* The parser jail: the process of rempart-xferd that reads what a level
 * sent.  It is the only part of the core that touches the transfer stream,
 * so it holds nothing worth taking:
 *
 *   - the sending user's uid and primary gid, no supplementary group, no
 *     capability, no_new_privs, not dumpable (no ptrace by the user);
 *   - exactly four descriptors: the level's socket (0, read), the pipe of
 *     its manifest to the daemon (1), /dev/null (2), the empty staging
 *     directory (3);
 *   - Landlock: no file may be reached by path except below the staging
 *     directory (no read, no write, no execute anywhere else); TCP bind and
 *     connect handled with no rule; abstract UNIX sockets and signals
 *     scoped;
 *   - seccomp allowlist (anything else kills the process): the file system
 *     calls of the unpacker (read, write, mkdirat, openat, openat2, fchmod,
 *     fchmodat, utimensat, close, fstat, newfstatat, getdents64, lseek,
 *     unlinkat, syncfs, fcntl), memory without PROT_EXEC, exit.  No socket,
 *     connect, execve, clone, ptrace, kill, ioctl...: no network;
 *   - rlimits: 128 descriptors, file size at the byte quota, no core dump,
 *     no new process;
 *   - killed with the daemon's worker that spawned it (PDEATHSIG).
 *
 * A crash or a malformed stream costs that transfer only: the daemon's
 * worker sees the exit status, empties the staging directory and reports. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "seccomp-filter.h"
#include "stream.h"

struct xfer_parser_args {
        int stream_fd;   /* the level's socket, after the request */
        int staging_fd;  /* empty directory owned by uid */
        uid_t uid;
        gid_t gid;
        struct xfer_limits limits;
};

/* Build the seccomp allowlist once (in the daemon, before any fork).
 * Returns 0 or -errno with a message in err. */
int xfer_parser_filter_build(struct seccomp_program *out, struct jail_error *err);

/* Enter the jail in the calling process (a fresh child: it must have only
 * the descriptors described above, at those numbers).  Used by the parser
 * and by the escape tests.  Returns 0 or -errno; on failure the process
 * must exit without touching the stream. */
int xfer_parser_enter(const struct seccomp_program *filter, uid_t uid, gid_t gid, uint64_t max_bytes, char *why,
                      size_t whylen);

/* Fork the parser.  Returns 0 with *pid and *manifest_fd (read end of its
 * output: the manifest, then "END", or "ERR ERRNO REASON"), or -errno. */
int xfer_parser_spawn(const struct seccomp_program *filter, const struct xfer_parser_args *a, pid_t *pid,
                      int *manifest_fd);

/* True in test builds with AddressSanitizer, whose runtime needs more
 * system calls than the parser (see parser-jail.c). */
#ifdef __SANITIZE_ADDRESS__
#define XFER_PARSER_SANITIZED 1
#else
#define XFER_PARSER_SANITIZED 0
#endif

/* The child's own name, for ps and tests. */
#define XFER_PARSER_COMM "xfer-parser"
