/* SPDX-License-Identifier: MIT */
/* Probes on files, execution and memory: writing read-only system paths,
 * executing from writable places (directly, through memfd, through an
 * exec-aware interpreter) and W^X memory. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "probe.h"

/* Newer than the build host's uapi headers (kernel ABI values). */
#ifndef MFD_EXEC
#define MFD_NOEXEC_SEAL 0x0008U
#define MFD_EXEC 0x0010U
#endif
#ifndef AT_EXECVE_CHECK
#define AT_EXECVE_CHECK 0x10000
#endif
#ifndef SECBIT_EXEC_RESTRICT_FILE
#define SECBIT_EXEC_RESTRICT_FILE (1U << 8)
#define SECBIT_EXEC_DENY_INTERACTIVE (1U << 10)
#endif

/* Open an existing system file for writing, never write to it.  ETXTBSY
 * (the file is a running program) comes after the permission check.  When
 * none of the files exists, creating one in fallback_dir is the attempt. */
static void open_for_write(const char *const *paths, const char *fallback_dir, struct probe_result *r) {
        int fd;

        for (; *paths; paths++) {
                fd = open(*paths, O_WRONLY | O_CLOEXEC | O_NOCTTY);
                if (fd < 0 && errno == ENOENT)
                        continue;
                if (fd >= 0)
                        (void) close(fd); /* nothing was written */
                judge(r, fd, ETXTBSY, "opened for writing");
                append_detail(r, " (%s)", *paths);
                return;
        }
        fd = open(fallback_dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
        if (fd >= 0)
                (void) close(fd); /* unnamed: gone with the descriptor */
        judge_visible(r, fd, "created an (unnamed) file");
        append_detail(r, " (no target file; O_TMPFILE in %s)", fallback_dir);
}

static void probe_write_ro_usr(const struct probe_ctx *ctx, struct probe_result *r) {
        static const char *const paths[] = { "/usr/lib/os-release", "/usr/lib/x86_64-linux-gnu/libc.so.6",
                                             "/usr/lib64/ld-linux-x86-64.so.2", "/usr/bin/env", NULL };
        open_for_write(paths, "/usr/lib", r);
}

static void probe_write_ro_etc(const struct probe_ctx *ctx, struct probe_result *r) {
        static const char *const paths[] = { "/etc/ld.so.cache", "/etc/passwd", "/etc/hosts", NULL };
        open_for_write(paths, "/etc", r);
}

/* Create a file in a system directory: unnamed (O_TMPFILE), so that even
 * when it works nothing appears and it vanishes on close. */
static void create_in(const char *dir, struct probe_result *r) {
        int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);

        if (fd >= 0) {
                (void) close(fd);
                set_result(r, PROBE_ALLOWED, "created an (unnamed) file in %s", dir);
        } else {
                judge(r, -1, 0, "");
        }
}

static void probe_create_in_root(const struct probe_ctx *ctx, struct probe_result *r) {
        create_in("/", r);
}

static void probe_create_in_usr(const struct probe_ctx *ctx, struct probe_result *r) {
        create_in("/usr/bin", r);
}

/* Execute a copy of ourselves placed in dir. */
static void exec_in(const char *dir, struct probe_result *r) {
        int fd = make_exec_copy(dir), err = 0, ran;

        if (fd < 0) {
                set_result(r, PROBE_ERROR, "cannot create a file in %s: %s", dir, errname(-fd));
                return;
        }
        ran = try_exec_fd(fd, &err);
        (void) close(fd);
        if (ran == 1)
                set_result(r, PROBE_ALLOWED, "executed a program copied into %s", dir);
        else if (ran == 0)
                set_result(r, PROBE_DENIED, "exec from %s: %s", dir, errname(err));
        else
                set_result(r, PROBE_ERROR, "exec from %s: %s", dir, errname(-ran));
}

static void probe_exec_tmp(const struct probe_ctx *ctx, struct probe_result *r) {
        exec_in("/tmp", r);
}

static void probe_exec_devshm(const struct probe_ctx *ctx, struct probe_result *r) {
        exec_in("/dev/shm", r);
}

/* mountinfo escapes blanks, tabs, newlines and backslashes as \ooo. */
static void unescape(char *s) {
        char *o = s;

        for (; *s; s++) {
                if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
                    s[3] <= '7') {
                        *o++ = (char) ((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
                        s += 3;
                } else {
                        *o++ = *s;
                }
        }
        *o = '\0';
}

/* File systems that cannot hold an ordinary executable file. */
static bool pseudo_fs(const char *type) {
        static const char *const names[] = { "proc",    "sysfs",     "cgroup",   "cgroup2",  "devpts",
                                             "mqueue",  "debugfs",   "tracefs",  "securityfs", "pstore",
                                             "bpf",     "configfs",  "fusectl",  "binfmt_misc", "efivarfs",
                                             "autofs",  "hugetlbfs", "nsfs",     "rpc_pipefs", NULL };
        for (const char *const *n = names; *n; n++)
                if (strcmp(type, *n) == 0)
                        return true;
        return false;
}

/* Every mount that is writable for us: can a program placed there run?
 * Mounts we cannot create a file in are not writable for us and are
 * skipped; DENIED needs at least one writable mount and no exec anywhere. */
static void probe_exec_writable_mounts(const struct probe_ctx *ctx, struct probe_result *r) {
        static char seen[64][PATH_MAX];
        char line[4096], ran[PROBE_DETAIL_MAX] = "", refused[PROBE_DETAIL_MAX] = "";
        unsigned n_seen = 0, n_writable = 0, n_ran = 0;
        FILE *f = fopen("/proc/self/mountinfo", "re");

        if (!f) {
                set_result(r, PROBE_ERROR, "mountinfo: %s", errname(errno));
                return;
        }
        while (fgets(line, sizeof(line), f)) {
                char mnt[PATH_MAX], opts[256], type[64], sopts[256];
                const char *sep = strstr(line, " - ");
                int fd, err = 0, x;
                bool dup = false;

                /* id parent maj:min root MOUNTPOINT OPTS [optional...] - TYPE SOURCE SUPEROPTS */
                if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s %255s", mnt, opts) != 2 ||
                    sscanf(sep + 3, "%63s %*s %255s", type, sopts) != 2)
                        continue;
                unescape(mnt);
                if (strncmp(opts, "rw", 2) != 0 || strncmp(sopts, "ro", 2) == 0 || pseudo_fs(type))
                        continue;
                for (unsigned i = 0; i < n_seen; i++)
                        dup = dup || strcmp(seen[i], mnt) == 0;
                if (dup || n_seen >= 64)
                        continue;
                (void) snprintf(seen[n_seen++], PATH_MAX, "%s", mnt);
                fd = make_exec_copy(mnt);
                if (fd < 0)
                        continue; /* not writable for us (or no room): nothing to execute */
                n_writable++;
                x = try_exec_fd(fd, &err);
                (void) close(fd);
                if (x == 1) {
                        n_ran++;
                        buf_append(ran, sizeof(ran), " %s", mnt);
                } else {
                        buf_append(refused, sizeof(refused), " %s(%s)",
                                        mnt, errname(x == 0 ? err : -x));
                }
        }
        (void) fclose(f);
        if (n_ran > 0)
                set_result(r, PROBE_ALLOWED, "executed from %u of %u writable mounts:%s%s%s", n_ran, n_writable, ran,
                           refused[0] ? "; refused:" : "", refused);
        else if (n_writable == 0)
                set_result(r, PROBE_DENIED, "no mount is writable for us");
        else
                set_result(r, PROBE_DENIED, "no exec in %u writable mounts:%s", n_writable, refused);
}

/* A script in a noexec place, run through an interpreter that honours
 * AT_EXECVE_CHECK: such an interpreter only asks the kernel when
 * SECBIT_EXEC_RESTRICT_FILE is set, and then refuses if the check fails.
 * ALLOWED = it would run the script. */
static void probe_execve_check_script(const struct probe_ctx *ctx, struct probe_result *r) {
        static const char script[] = "#!/bin/sh\nexit 0\n";
        char *const argv[] = { "sh", NULL }, *const env[] = { NULL };
        char proc[64];
        int w, fd, bits, rc, err = 0;
        bool restrict_file;

        if (!ctx->workdir[0]) {
                set_result(r, PROBE_ERROR, "no scratch directory");
                return;
        }
        w = open(ctx->workdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0700);
        if (w < 0 || write(w, script, sizeof(script) - 1) != (ssize_t) (sizeof(script) - 1)) {
                set_result(r, PROBE_ERROR, "cannot write the script: %s", errname(errno));
                return;
        }
        (void) snprintf(proc, sizeof(proc), "/proc/self/fd/%d", w);
        fd = open(proc, O_RDONLY | O_CLOEXEC);
        (void) close(w);
        if (fd < 0) {
                set_result(r, PROBE_ERROR, "cannot reopen the script: %s", errname(errno));
                return;
        }
        bits = prctl(PR_GET_SECUREBITS);
        restrict_file = bits > 0 && (bits & SECBIT_EXEC_RESTRICT_FILE);
        /* With AT_EXECVE_CHECK the kernel only checks, it never executes. */
        rc = (int) syscall(SYS_execveat, fd, "", argv, env, AT_EMPTY_PATH | AT_EXECVE_CHECK);
        if (rc < 0)
                err = errno;
        (void) close(fd);
        if (!restrict_file)
                set_result(r, PROBE_ALLOWED,
                           "SECBIT_EXEC_RESTRICT_FILE not set: an interpreter runs the script (check: %s)",
                           rc == 0 ? "passed" : errname(err));
        else if (rc == 0)
                set_result(r, PROBE_ALLOWED, "AT_EXECVE_CHECK passed for a script in %s", ctx->workdir);
        else if (is_denial(err))
                set_result(r, PROBE_DENIED, "SECBIT_EXEC_RESTRICT_FILE set and AT_EXECVE_CHECK: %s", errname(err));
        else
                set_result(r, PROBE_ERROR, "AT_EXECVE_CHECK: %s", errname(err));
}

/* An exec-aware shell refuses "sh -c" and interactive use when
 * SECBIT_EXEC_DENY_INTERACTIVE is set. */
static void probe_deny_interactive(const struct probe_ctx *ctx, struct probe_result *r) {
        int bits = prctl(PR_GET_SECUREBITS);

        if (bits < 0)
                set_result(r, PROBE_ERROR, "PR_GET_SECUREBITS: %s", errname(errno));
        else if (bits & SECBIT_EXEC_DENY_INTERACTIVE)
                set_result(r, PROBE_DENIED, "SECBIT_EXEC_DENY_INTERACTIVE set (securebits 0x%x)", (unsigned) bits);
        else
                set_result(r, PROBE_ALLOWED, "SECBIT_EXEC_DENY_INTERACTIVE not set (securebits 0x%x)",
                           (unsigned) bits);
}

static void probe_memfd_exec(const struct probe_ctx *ctx, struct probe_result *r) {
        char proc[64], note[64] = "";
        int fd, ro, rc, err = 0, ran;

        fd = memfd_create("rempart-probe", MFD_CLOEXEC | MFD_EXEC);
        if (fd < 0 && errno == EINVAL) {
                fd = memfd_create("rempart-probe", MFD_CLOEXEC); /* kernel before 6.3 */
        } else if (fd < 0 && is_denial(errno)) {
                (void) snprintf(note, sizeof(note), "MFD_EXEC: %s; ", errname(errno));
                fd = memfd_create("rempart-probe", MFD_CLOEXEC);
        }
        if (fd < 0) {
                judge(r, -1, 0, "");
                append_detail(r, " (%smemfd_create)", note);
                return;
        }
        rc = copy_self(fd);
        (void) snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        ro = rc < 0 ? rc : open(proc, O_RDONLY | O_CLOEXEC);
        if (ro == -1)
                ro = -errno;
        (void) close(fd);
        if (ro < 0) {
                set_result(r, PROBE_ERROR, "%scannot fill the memfd: %s", note, errname(-ro));
                return;
        }
        ran = try_exec_fd(ro, &err);
        (void) close(ro);
        if (ran == 1)
                set_result(r, PROBE_ALLOWED, "%sexecuted a program from a memfd", note);
        else if (ran == 0)
                set_result(r, PROBE_DENIED, "%sfexecve: %s", note, errname(err));
        else
                set_result(r, PROBE_ERROR, "%sfexecve: %s", note, errname(-ran));
}

static void probe_mmap_wx(const struct probe_ctx *ctx, struct probe_result *r) {
        void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        if (p != MAP_FAILED)
                (void) munmap(p, 4096);
        judge(r, p == MAP_FAILED ? -1 : 0, 0, "mapped anonymous memory writable and executable");
}

static void probe_mprotect_wx(const struct probe_ctx *ctx, struct probe_result *r) {
        void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        int rc;

        if (p == MAP_FAILED) {
                set_result(r, PROBE_ERROR, "mmap: %s", errname(errno));
                return;
        }
        rc = mprotect(p, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
        judge(r, rc, 0, "made writable memory writable+executable");
        (void) munmap(p, 4096);
}

/* Write code, then flip the page to executable: W^X in time, still an
 * exec gain that MDWE refuses. */
static void probe_mprotect_exec_gain(const struct probe_ctx *ctx, struct probe_result *r) {
        unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        int rc;

        if (p == MAP_FAILED) {
                set_result(r, PROBE_ERROR, "mmap: %s", errname(errno));
                return;
        }
        p[0] = 0xc3; /* ret */
        rc = mprotect(p, 4096, PROT_READ | PROT_EXEC);
        judge(r, rc, 0, "made written memory executable");
        (void) munmap(p, 4096);
}

/* /proc/self/mem writes ignore page protections (FOLL_FORCE): rewrite one
 * byte of our own code with the value it already has. */
static void probe_proc_self_mem_write(const struct probe_ctx *ctx, struct probe_result *r) {
        off_t addr = (off_t) (uintptr_t) &probe_proc_self_mem_write;
        unsigned char b;
        int fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);

        if (fd < 0) {
                judge_visible(r, -1, "");
                return;
        }
        if (pread(fd, &b, 1, addr) != 1) {
                set_result(r, PROBE_ERROR, "pread: %s", errname(errno));
        } else {
                ssize_t n = pwrite(fd, &b, 1, addr);
                judge_err(r, n == 1 ? 0 : -1, n < 0 ? errno : EIO, 0, "wrote into our read-only code via /proc/self/mem");
        }
        (void) close(fd);
}

const struct probe probes_fs[] = {
        { "write_ro_usr", probe_write_ro_usr, "open a file under /usr for writing (no write)", 0, false },
        { "write_ro_etc", probe_write_ro_etc, "open /etc/ld.so.cache for writing (no write)", 0, false },
        { "create_in_root", probe_create_in_root, "create an unnamed file (O_TMPFILE) in /", 0, false },
        { "create_in_usr", probe_create_in_usr, "create an unnamed file (O_TMPFILE) in /usr/bin", 0, false },
        { "exec_writable_mounts", probe_exec_writable_mounts,
          "execute a copy of a program from every mount writable for us", 30, false },
        { "exec_tmp", probe_exec_tmp, "execute a program copied into /tmp", 0, false },
        { "exec_devshm", probe_exec_devshm, "execute a program copied into /dev/shm", 0, false },
        { "execve_check_script", probe_execve_check_script,
          "run a noexec script through an AT_EXECVE_CHECK-honouring interpreter", 0, false },
        { "deny_interactive", probe_deny_interactive,
          "run 'sh -c' through an exec-aware shell (SECBIT_EXEC_DENY_INTERACTIVE)", 0, false },
        { "memfd_exec", probe_memfd_exec, "memfd_create + fexecve", 0, false },
        { "mmap_wx", probe_mmap_wx, "mmap anonymous memory PROT_WRITE|PROT_EXEC", 0, false },
        { "mprotect_wx", probe_mprotect_wx, "mprotect writable memory to W+X", 0, false },
        { "mprotect_exec_gain", probe_mprotect_exec_gain, "mprotect written memory to R+X", 0, false },
        { "proc_self_mem_write", probe_proc_self_mem_write, "write our own code through /proc/self/mem", 0,
          false },
        { NULL, NULL, NULL, 0, false },
};
