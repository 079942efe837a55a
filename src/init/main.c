/* SPDX-License-Identifier: MIT */
/* rempart-init: stage 1 of the Rempart image, PID 1 of the initramfs.
 *
 *   rempart-init            as PID 1: verify and mount the root, switch_root
 *   rempart-init --check    everything up to the verified, mounted layout
 *                           under /sysroot, then report and exit 0 (tests)
 *
 * Any failure prints "rempart-init: FATAL: <step>: <reason>" on the console
 * and in the kernel log, then halts the machine (as PID 1) or exits 1
 * (--check).  There is no shell and no other switch: nothing on the command
 * line or the disk can make stage 1 continue without a verified root. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmdline.h"
#include "fileio.h"
#include "layout.h"
#include "macro.h"
#include "modules.h"
#include "partitions.h"
#include "switchroot.h"
#include "verity.h"

#define PARTITION_TIMEOUT_MS 15000U
#define ROOT_DM_NAME "root"

struct ctx {
        bool check;
        struct timespec start;
};

static void emit(const char *line) {
        _cleanup_close_ int fd = -1;
        char buf[512];
        int n;

        (void) fprintf(stderr, "%s\n", line);
        (void) fflush(stderr);
        /* <2> = KERN_CRIT: shown on every console even with "quiet", and kept
         * in the kernel log for later inspection. */
        fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return;
        n = snprintf(buf, sizeof buf, "<2>%s\n", line);
        if (n > 0)
                (void) write_all(fd, buf, (size_t) n < sizeof buf ? (size_t) n : sizeof buf - 1);
}

_noreturn_ _printf_(3, 4) static void fatal(const struct ctx *c, const char *step, const char *fmt, ...) {
        char reason[384], line[512];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(reason, sizeof reason, fmt, ap);
        va_end(ap);
        (void) snprintf(line, sizeof line, "rempart-init: FATAL: %s: %s", step, reason);
        emit(line);
        if (c->check)
                exit(EXIT_FAILURE);
        emit("rempart-init: halting: the system will not start from an unverified root");
        sync();
        (void) reboot(RB_HALT_SYSTEM);
        /* PID 1 must not exit (the kernel would panic and, with panic=N,
         * reboot into the same failure): wait forever. */
        for (;;)
                (void) pause();
}

_printf_(2, 3) static void info(const struct ctx *c, const char *fmt, ...) {
        char msg[384];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        (void) fprintf(c->check ? stdout : stderr, "rempart-init: %s\n", msg);
        (void) fflush(c->check ? stdout : stderr);
}

static long elapsed_ms(const struct ctx *c) {
        struct timespec now;

        (void) clock_gettime(CLOCK_MONOTONIC, &now);
        return (now.tv_sec - c->start.tv_sec) * 1000L + (now.tv_nsec - c->start.tv_nsec) / 1000000L;
}

/* As PID 1 the kernel opens /dev/console only if the initramfs carries the
 * node; once devtmpfs is up, make sure messages have somewhere to go. */
static void ensure_console(void) {
        int fd;

        if (fcntl(STDERR_FILENO, F_GETFD) >= 0)
                return;
        fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return;
        for (int i = 0; i <= 2; i++)
                (void) dup2(fd, i); /* dup2 clears O_CLOEXEC on the copies */
        if (fd > 2)
                (void) close(fd);
}

static void load_modules(const struct ctx *c) {
        static const char *const required[] = { MODULES_REQUIRED };
        const char *names[ELEMENTSOF(required) + 64];
        char **extra = NULL;
        const char *failed = NULL;
        size_t n_extra = 0, n = 0;
        int r;

        r = modules_read_list(MODULES_EXTRA_FILE, &extra, &n_extra);
        if (r < 0)
                fatal(c, "modules", "cannot read %s: %s", MODULES_EXTRA_FILE, strerror(-r));
        for (size_t i = 0; i < ELEMENTSOF(required); i++)
                names[n++] = required[i];
        for (size_t i = 0; i < n_extra && n < ELEMENTSOF(names); i++)
                names[n++] = extra[i];
        r = modules_load(names, n, NULL, &failed);
        if (r < 0) {
                char name[64];
                (void) snprintf(name, sizeof name, "%s", failed ? failed : "?");
                modules_free_list(extra);
                fatal(c, "modules", "cannot load kernel module %s: %s", name, strerror(-r));
        }
        modules_free_list(extra);
        info(c, "modules loaded (%zu)", n);
}

static void find(const struct ctx *c, const char *param, const char *uuid, struct partition *ret) {
        int r = partition_find("/sys/class/block", uuid, PARTITION_TIMEOUT_MS, ret);

        if (r == -ETIMEDOUT)
                fatal(c, "partitions", "no partition with PARTUUID %s (%s) after %u s", uuid, param,
                      PARTITION_TIMEOUT_MS / 1000);
        if (r == -ENOTUNIQ)
                fatal(c, "partitions", "more than one partition with PARTUUID %s (%s): refusing to choose", uuid,
                      param);
        if (r < 0)
                fatal(c, "partitions", "cannot look up PARTUUID %s (%s): %s", uuid, param, strerror(-r));
        info(c, "%s: PARTUUID %s is %s", param, uuid, ret->devnode);
}

int main(int argc, char **argv) {
        static const char *const inits[] = { "/usr/lib/systemd/systemd", "/sbin/init", NULL };
        struct ctx c = {};
        _cleanup_free_ char *line = NULL;
        struct init_cmdline cmd;
        struct cmdline_error cerr;
        struct partition root, hash, state;
        struct verity_error verr;
        struct layout_error lerr;
        char hex[2 * ROOT_HASH_SIZE + 1];
        char machine_id[MACHINE_ID_LEN + 1];
        int r;

        (void) clock_gettime(CLOCK_MONOTONIC, &c.start);
        if (argc == 2 && (strcmp(argv[1], "--check") == 0 || strcmp(argv[1], "--no-switch-root") == 0))
                c.check = true;
        else if (argc != 1) {
                (void) fprintf(stderr, "usage: rempart-init [--check]\n");
                return 2;
        }
        if (!c.check && getpid() != 1) {
                (void) fprintf(stderr, "rempart-init: not PID 1: only --check can run outside stage 1\n");
                return 2;
        }
        umask(022);
        /* The initramfs has no udev: libdevmapper must create the
         * /dev/mapper nodes itself instead of waiting for udev events. */
        if (setenv("DM_DISABLE_UDEV", "1", 1) < 0)
                fatal(&c, "setup", "setenv: %s", strerror(errno));

        r = layout_mount_api(&lerr);
        if (r < 0)
                fatal(&c, "setup", "%s", lerr.msg);
        ensure_console();

        r = read_full_file("/proc/cmdline", CMDLINE_MAX_SIZE, &line, NULL);
        if (r < 0)
                fatal(&c, "command line", "cannot read /proc/cmdline: %s", strerror(-r));
        r = cmdline_parse(line, &cmd, &cerr);
        if (r < 0)
                fatal(&c, "command line", "%s", cerr.msg);
        cmdline_root_hash_hex(&cmd, hex);
        info(&c, "slot %c, root hash %s", cmd.slot, hex);

        load_modules(&c);

        find(&c, "rempart.root", cmd.root_partuuid, &root);
        find(&c, "rempart.verity", cmd.verity_partuuid, &hash);
        find(&c, "rempart.state", cmd.state_partuuid, &state);
        /* All on the boot disk: a second disk must not contribute a piece. */
        if (strcmp(root.disk, hash.disk) != 0 || strcmp(root.disk, state.disk) != 0)
                fatal(&c, "partitions", "root (%s), verity (%s) and state (%s) are not on the same disk", root.disk,
                      hash.disk, state.disk);

        r = verity_activate(&(struct verity_request){
                                    .name = ROOT_DM_NAME,
                                    .data_device = root.devnode,
                                    .hash_device = hash.devnode,
                                    .fec_offset = cmd.fec_offset,
                                    .fec_roots = cmd.fec_roots,
                                    .root_hash = cmd.root_hash,
                            },
                            &verr);
        if (r < 0)
                fatal(&c, "verity", "%s", verr.msg);
        info(&c, "verity: /dev/mapper/%s active, verified, restart on corruption, FEC roots %u", ROOT_DM_NAME,
             cmd.fec_roots);

        r = layout_mount_root(SYSROOT, "/dev/mapper/" ROOT_DM_NAME, state.devnode, cmd.slot, &lerr);
        if (r < 0)
                fatal(&c, "mount", "%s", lerr.msg);
        r = layout_verify(SYSROOT, false, &lerr);
        if (r < 0)
                fatal(&c, "layout", "%s", lerr.msg);
        /* Mounting read the squashfs superblock and root inode through
         * verity: check nothing was found corrupted on the way. */
        r = verity_check_active(ROOT_DM_NAME, &verr);
        if (r < 0)
                fatal(&c, "verity", "%s", verr.msg);
        info(&c, "root mounted read-only on %s, state on %s/var, W^X layout checked (%ld ms)", SYSROOT, SYSROOT,
             elapsed_ms(&c));

        /* Not an integrity matter: on failure systemd falls back to a
         * transient id, so warn and boot on. */
        r = layout_machine_id(SYSROOT, machine_id, &lerr);
        if (r < 0)
                info(&c, "WARNING: machine id: %s (systemd will use a transient one)", lerr.msg);
        else if (r != MACHINE_ID_NO_TARGET)
                info(&c, "machine id %s (%s)", machine_id, r == MACHINE_ID_CREATED ? "new" : "kept");

        if (c.check) {
                info(&c, "check mode: not switching root");
                return EXIT_SUCCESS;
        }
        (void) switch_root_exec(SYSROOT, inits, &lerr); /* returns only on failure, lerr says why */
        fatal(&c, "switch_root", "%s", lerr.msg);
}
