/* SPDX-License-Identifier: MIT */
/* rempart-jail: the command-line front end of librempart-jail.  Every
 * option maps onto a profile key (see rempart-jail.profile(5)), applied
 * after the profile file, so the same validation covers both. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jail.h"
#include "landlock.h"
#include "log.h"
#include "macro.h"
#include "profile.h"
#include "seccomp-filter.h"

#ifndef REMPART_VERSION
#define REMPART_VERSION "0.1.0"
#endif

enum {
        OPT_RO = 0x100, OPT_RO_NOEXEC, OPT_RW, OPT_TMPFS, OPT_SYMLINK, OPT_DEV, OPT_NET, OPT_LOOPBACK, OPT_USERNS,
        OPT_UID_MAP, OPT_GID_MAP, OPT_TIMENS, OPT_HOSTNAME, OPT_UID, OPT_GID, OPT_CAP, OPT_ENV_KEEP, OPT_SETENV,
        OPT_KEEP_FD, OPT_CHDIR, OPT_SYS, OPT_STRICT, OPT_BEST_EFFORT, OPT_REPORT, OPT_EXPORT_BPF, OPT_EXPORT_PFC,
        OPT_DRY_RUN, OPT_PRINT, OPT_MEM, OPT_PIDS, OPT_CPU, OPT_NO_CGROUP, OPT_CG_PARENT, OPT_TCP_BIND,
        OPT_TCP_CONNECT, OPT_SECCOMP_DENY, OPT_VERSION, OPT_SET, OPT_NO_MDWE,
};

/* Option -> "section.key" (value is the argument unless fixed). */
static const struct opt_map {
        int id;
        const char *section, *key, *fixed;
} opt_map[] = {
        { OPT_RO, "filesystem", "ro", NULL },
        { OPT_RO_NOEXEC, "filesystem", "ro_noexec", NULL },
        { OPT_RW, "filesystem", "rw", NULL },
        { OPT_TMPFS, "filesystem", "tmpfs", NULL },
        { OPT_SYMLINK, "filesystem", "symlink", NULL },
        { OPT_DEV, "devices", "allow", NULL },
        { OPT_NET, "namespaces", "net", NULL },
        { OPT_LOOPBACK, "namespaces", "loopback", "yes" },
        { OPT_USERNS, "namespaces", "user", "yes" },
        { OPT_UID_MAP, "namespaces", "uid_map", NULL },
        { OPT_GID_MAP, "namespaces", "gid_map", NULL },
        { OPT_TIMENS, "namespaces", "time", "yes" },
        { OPT_HOSTNAME, "namespaces", "hostname", NULL },
        { OPT_UID, "credentials", "user", NULL },
        { OPT_GID, "credentials", "group", NULL },
        { OPT_CAP, "credentials", "caps", NULL },
        { OPT_NO_MDWE, "credentials", "mdwe", "no" },
        { OPT_ENV_KEEP, "environment", "keep", NULL },
        { OPT_SETENV, "environment", "set", NULL },
        { OPT_KEEP_FD, "fds", "keep", NULL },
        { OPT_CHDIR, "filesystem", "chdir", NULL },
        { OPT_SYS, "filesystem", "sys", "ro" },
        { OPT_STRICT, "profile", "mode", "strict" },
        { OPT_BEST_EFFORT, "profile", "mode", "best-effort" },
        { OPT_MEM, "cgroup", "memory_max", NULL },
        { OPT_PIDS, "cgroup", "pids_max", NULL },
        { OPT_CPU, "cgroup", "cpu_max", NULL },
        { OPT_NO_CGROUP, "cgroup", "enabled", "no" },
        { OPT_CG_PARENT, "cgroup", "parent", NULL },
        { OPT_TCP_BIND, "landlock", "tcp_bind", NULL },
        { OPT_TCP_CONNECT, "landlock", "tcp_connect", NULL },
        { OPT_SECCOMP_DENY, "seccomp", "deny", NULL },
};

static const struct option options[] = {
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, OPT_VERSION },
        { "profile", required_argument, NULL, 'p' },
        { "set", required_argument, NULL, OPT_SET },
        { "ro", required_argument, NULL, OPT_RO },
        { "ro-noexec", required_argument, NULL, OPT_RO_NOEXEC },
        { "rw", required_argument, NULL, OPT_RW },
        { "tmpfs", required_argument, NULL, OPT_TMPFS },
        { "symlink", required_argument, NULL, OPT_SYMLINK },
        { "dev", required_argument, NULL, OPT_DEV },
        { "net", required_argument, NULL, OPT_NET },
        { "loopback", no_argument, NULL, OPT_LOOPBACK },
        { "userns", no_argument, NULL, OPT_USERNS },
        { "uid-map", required_argument, NULL, OPT_UID_MAP },
        { "gid-map", required_argument, NULL, OPT_GID_MAP },
        { "timens", no_argument, NULL, OPT_TIMENS },
        { "hostname", required_argument, NULL, OPT_HOSTNAME },
        { "uid", required_argument, NULL, OPT_UID },
        { "gid", required_argument, NULL, OPT_GID },
        { "cap", required_argument, NULL, OPT_CAP },
        { "no-mdwe", no_argument, NULL, OPT_NO_MDWE },
        { "env-keep", required_argument, NULL, OPT_ENV_KEEP },
        { "setenv", required_argument, NULL, OPT_SETENV },
        { "keep-fd", required_argument, NULL, OPT_KEEP_FD },
        { "chdir", required_argument, NULL, OPT_CHDIR },
        { "sys", no_argument, NULL, OPT_SYS },
        { "strict", no_argument, NULL, OPT_STRICT },
        { "best-effort", no_argument, NULL, OPT_BEST_EFFORT },
        { "memory-max", required_argument, NULL, OPT_MEM },
        { "pids-max", required_argument, NULL, OPT_PIDS },
        { "cpu-max", required_argument, NULL, OPT_CPU },
        { "no-cgroup", no_argument, NULL, OPT_NO_CGROUP },
        { "cgroup-parent", required_argument, NULL, OPT_CG_PARENT },
        { "tcp-bind", required_argument, NULL, OPT_TCP_BIND },
        { "tcp-connect", required_argument, NULL, OPT_TCP_CONNECT },
        { "seccomp-deny", required_argument, NULL, OPT_SECCOMP_DENY },
        { "report", required_argument, NULL, OPT_REPORT },
        { "export-seccomp", required_argument, NULL, OPT_EXPORT_BPF },
        { "export-seccomp-pfc", required_argument, NULL, OPT_EXPORT_PFC },
        { "dry-run", no_argument, NULL, OPT_DRY_RUN },
        { "print-profile", no_argument, NULL, OPT_PRINT },
        {},
};

static void help(void) {
        printf("Usage: rempart-jail [--profile FILE] [OPTIONS] -- COMMAND [ARGS...]\n"
               "\n"
               "Run COMMAND confined: private namespaces, a read-only root built from\n"
               "explicit binds, no capabilities, locked securebits, Landlock, seccomp and\n"
               "a cgroup of its own. Without --profile the built-in default profile (the\n"
               "strictest one that still runs a program from /usr) applies; options are\n"
               "applied after the profile. See rempart-jail(1) and rempart-jail.profile(5).\n"
               "\n"
               "Profile and reporting:\n"
               "  -p, --profile FILE        read an INI profile on top of the defaults\n"
               "      --set SECTION.KEY=VAL set any profile key\n"
               "      --strict              refuse to start if a protection is unavailable\n"
               "      --best-effort         run anyway and report what is missing (default)\n"
               "      --report FILE         write a JSON report of what is enforced ('-': stderr)\n"
               "      --export-seccomp FILE       write the compiled BPF filter\n"
               "      --export-seccomp-pfc FILE   write the filter as readable pseudo-code\n"
               "      --print-profile       print the effective profile and exit\n"
               "      --dry-run             validate everything, start nothing\n"
               "File system (writable places are always noexec,nosuid,nodev):\n"
               "      --ro SRC[:DST]        read-only, executable bind\n"
               "      --ro-noexec SRC[:DST] read-only, non-executable bind\n"
               "      --rw SRC[:DST]        writable, non-executable bind\n"
               "      --tmpfs DST[:SIZE]    writable, non-executable tmpfs\n"
               "      --symlink TARGET:LINK create a symbolic link\n"
               "      --dev /dev/NAME       expose and allow a character device\n"
               "      --sys                 read-only /sys\n"
               "      --chdir DIR           working directory inside the jail\n"
               "Namespaces:\n"
               "      --net none|NAME       empty network namespace (default) or /run/netns/NAME\n"
               "      --loopback            bring up lo in the jail's own network namespace\n"
               "      --userns              new user namespace (see --uid-map, --gid-map)\n"
               "      --uid-map 'IN OUT N'  --gid-map 'IN OUT N'\n"
               "      --timens              new time namespace\n"
               "      --hostname NAME\n"
               "Credentials and environment:\n"
               "      --uid ID  --gid ID    ids inside (default: 65534)\n"
               "      --cap 'CAP ...'       capabilities to keep (default: none)\n"
               "      --no-mdwe             allow writable+executable memory (JITs)\n"
               "      --env-keep NAME       keep a variable from the caller's environment\n"
               "      --setenv NAME=VALUE   set a variable\n"
               "      --keep-fd N           pass file descriptor N (0-2 always are)\n"
               "Limits and network policy:\n"
               "      --memory-max SIZE  --pids-max N  --cpu-max 'QUOTA PERIOD'|NN%%\n"
               "      --no-cgroup           do not create a cgroup\n"
               "      --cgroup-parent PATH  parent cgroup, relative to the cgroup2 mount\n"
               "      --tcp-bind PORT  --tcp-connect PORT   Landlock TCP allowlists\n"
               "      --seccomp-deny NAME   deny one more system call\n"
               "  -h, --help  --version\n"
               "\n"
               "Exit status: the command's; 2 for a usage or profile error, 125 when the jail\n"
               "cannot be set up, 126/127 when the command cannot be executed or is missing.\n");
}

static int apply_opt(struct jail_profile *p, int id, const char *arg, const char *optname) {
        struct jail_origin o = { .file = "command line", .line = 0 };
        struct jail_error err;

        (void) snprintf(o.key, sizeof o.key, "--%s", optname);
        for (size_t i = 0; i < ELEMENTSOF(opt_map); i++) {
                if (opt_map[i].id != id)
                        continue;
                if (profile_set(p, opt_map[i].section, opt_map[i].key, opt_map[i].fixed ? opt_map[i].fixed : arg, &o,
                                &err) < 0) {
                        log_error("%s", err.msg);
                        return -EINVAL;
                }
                return 0;
        }
        return -ENOENT;
}

static int apply_set(struct jail_profile *p, const char *arg) {
        struct jail_origin o = { .file = "command line", .line = 0 };
        struct jail_error err;
        char section[64], key[64];
        const char *dot = strchr(arg, '.'), *eq = strchr(arg, '=');

        (void) snprintf(o.key, sizeof o.key, "--set %s", arg);
        if (!dot || !eq || dot > eq || (size_t) (dot - arg) >= sizeof section || (size_t) (eq - dot - 1) >= sizeof key) {
                log_error("--set: expected SECTION.KEY=VALUE, got '%s'", arg);
                return -EINVAL;
        }
        (void) snprintf(section, sizeof section, "%.*s", (int) (dot - arg), arg);
        (void) snprintf(key, sizeof key, "%.*s", (int) (eq - dot - 1), dot + 1);
        (void) snprintf(o.key, sizeof o.key, "--set %.20s.%.30s", section, key);
        if (profile_set(p, section, key, eq + 1, &o, &err) < 0) {
                log_error("%s", err.msg);
                return -EINVAL;
        }
        return 0;
}

int main(int argc, char *argv[]) {
        _cleanup_free_ struct jail_profile *p = malloc(sizeof *p);
        struct jail_run_options opts = { 0 };
        const char *pfc_path = NULL;
        bool print = false;
        int c, idx;

        if (!p) {
                log_error("out of memory");
                return JAIL_EXIT_SETUP;
        }
        profile_init_default(p);

        /* First pass: only find the profile file(s), with getopt itself so
         * that every spelling (-pFILE, --prof=FILE, ...) is understood and
         * nothing after the command is mistaken for an option.  Options are
         * applied in the second pass, on top of the profile. */
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+hp:", options, &idx)) != -1) {
                struct jail_error err;
                if (c != 'p')
                        continue;
                if (profile_parse_file(p, optarg, &err) < 0) {
                        log_error("%s", err.msg);
                        return JAIL_EXIT_USAGE;
                }
        }
        opterr = 1;
        optind = 0; /* GNU getopt: full reinitialisation */

        while ((c = getopt_long(argc, argv, "+hp:", options, &idx)) != -1) {
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case OPT_VERSION:
                        printf("rempart-jail %s (Landlock ABI of this kernel: %d)\n", REMPART_VERSION,
                               landlock_abi_version());
                        return 0;
                case 'p':
                        break; /* already parsed */
                case OPT_SET:
                        if (apply_set(p, optarg) < 0)
                                return JAIL_EXIT_USAGE;
                        break;
                case OPT_REPORT:
                        opts.report_path = optarg;
                        break;
                case OPT_EXPORT_BPF:
                        opts.seccomp_export = optarg;
                        break;
                case OPT_EXPORT_PFC:
                        pfc_path = optarg;
                        break;
                case OPT_DRY_RUN:
                        opts.dry_run = true;
                        break;
                case OPT_PRINT:
                        print = true;
                        break;
                case '?':
                        (void) fprintf(stderr, "Try 'rempart-jail --help'.\n");
                        return JAIL_EXIT_USAGE;
                default:
                        if (apply_opt(p, c, optarg, options[idx].name) < 0)
                                return JAIL_EXIT_USAGE;
                }
        }

        {
                struct jail_error err;
                if (profile_validate(p, true, &err) < 0) {
                        log_error("%s", err.msg);
                        return JAIL_EXIT_USAGE;
                }
        }
        if (print) {
                if (profile_dump(p, stdout) < 0)
                        return JAIL_EXIT_SETUP;
                return 0;
        }
        if (pfc_path) {
                struct jail_error err;
                int r;
                _cleanup_close_ int fd = strcmp(pfc_path, "-") == 0 ? dup(STDOUT_FILENO)
                                                                      : open(pfc_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
                if (fd < 0) {
                        log_error_errno(negative_errno(), "cannot write %s", pfc_path);
                        return JAIL_EXIT_SETUP;
                }
                r = seccomp_write_pfc(p, fd, &err);
                if (r < 0) {
                        log_error("%s", err.msg);
                        return JAIL_EXIT_USAGE;
                }
                if (optind >= argc && !opts.dry_run)
                        return 0;
        }
        if (optind >= argc) {
                if (opts.dry_run)
                        return jail_run(p, NULL, &opts);
                log_error("no command given");
                (void) fprintf(stderr, "Usage: rempart-jail [--profile FILE] [OPTIONS] -- COMMAND [ARGS...]\n");
                return JAIL_EXIT_USAGE;
        }
        if (getuid() != 0 || geteuid() != 0) {
                log_error("must be run as root (it creates namespaces and a cgroup, then drops every privilege)");
                return JAIL_EXIT_SETUP;
        }
        return jail_run(p, argv + optind, &opts);
}
