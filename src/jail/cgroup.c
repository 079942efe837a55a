/* SPDX-License-Identifier: MIT */
/* One cgroup v2 per jail (see cgroup.h).  Everything is done relative to
 * directory fds opened with O_NOFOLLOW, and the only files ever written
 * outside the jail's own cgroup are cgroup.subtree_control of the
 * configured parent and of its ancestors, to delegate the controllers the
 * profile's limits need. */
#include "cgroup.h"
#include "cgroup-bpf.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "macro.h"

#define MOUNTINFO_LINE_MAX 8192
#define MOUNTINFO_TOTAL_MAX ((size_t) 64 << 20)
#define DESTROY_TIMEOUT_MS 5000
#define KILL_RETRY_MS 50
#define BFQ_WEIGHT_MAX 1000

/* ---------------------------------------------------------------- mount -- */

/* Decode mountinfo's octal escapes (\040 space, \011 tab, \012 newline,
 * \134 backslash) in place.  Returns false on a malformed escape. */
static bool unescape_octal(char *s) {
        char *w = s;

        for (const char *r = s; *r; w++) {
                if (*r != '\\') {
                        *w = *r++;
                        continue;
                }
                unsigned v = 0;
                for (int k = 1; k <= 3; k++) {
                        if (r[k] < '0' || r[k] > '7')
                                return false;
                        v = v * 8 + (unsigned) (r[k] - '0');
                }
                if (v == 0 || v > 0377)
                        return false;
                *w = (char) v;
                r += 4;
        }
        *w = '\0';
        return true;
}

/* One mountinfo line:
 *   ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
 * Returns 1 and copies the mount point when it is a cgroup2 mount, 0 when it
 * is not, -ENAMETOOLONG when it does not fit. */
static int mountinfo_line_cgroup2(char *line, char *buf, size_t size) {
        char *field[6], *tok, *save = NULL;
        unsigned n = 0;
        bool dash = false;

        for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
                if (n < ELEMENTSOF(field)) {
                        field[n++] = tok;
                        continue;
                }
                if (!dash) {
                        dash = strcmp(tok, "-") == 0;
                        continue;
                }
                /* First field after the separator: the filesystem type. */
                if (strcmp(tok, "cgroup2") != 0)
                        return 0;
                if (!unescape_octal(field[4]) || field[4][0] != '/')
                        return 0;
                size_t l = strlen(field[4]);
                if (l >= size)
                        return -ENAMETOOLONG;
                memcpy(buf, field[4], l + 1);
                return 1;
        }
        return 0;
}

int cgroup_find_mount(char *buf, size_t size) {
        _cleanup_close_ int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC | O_NOCTTY);
        char line[MOUNTINFO_LINE_MAX], chunk[4096];
        size_t len = 0, total = 0;
        bool overlong = false;
        int found = -ENOENT;

        if (!buf || size == 0)
                return -EINVAL;
        if (fd < 0)
                return negative_errno();

        for (;;) {
                ssize_t n = read(fd, chunk, sizeof chunk);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                total += (size_t) n;
                if (total > MOUNTINFO_TOTAL_MAX)
                        return -EFBIG;
                for (ssize_t i = 0; i < n; i++) {
                        if (chunk[i] != '\n') {
                                /* A line longer than any sane mount point
                                 * cannot be ours; skip it, keep reading. */
                                if (len + 1 >= MOUNTINFO_LINE_MAX)
                                        overlong = true;
                                else
                                        line[len++] = chunk[i];
                                continue;
                        }
                        line[len] = '\0';
                        if (!overlong) {
                                int r = mountinfo_line_cgroup2(line, buf, size);
                                if (r > 0)
                                        return 0;
                                if (r < 0)
                                        found = r;
                        }
                        len = 0;
                        overlong = false;
                }
        }
        return found;
}

/* ---------------------------------------------------------- controllers -- */

enum { CTL_MEMORY, CTL_PIDS, CTL_CPU, CTL_IO, CTL_COUNT };
static const char *const controller_names[CTL_COUNT] = { "memory", "pids", "cpu", "io" };

static bool word_in_list(const char *list, const char *word) {
        size_t wl = strlen(word);

        for (const char *p = list; *p;) {
                size_t l = strcspn(p, " \n");
                if (l == wl && strncmp(p, word, wl) == 0)
                        return true;
                p += l;
                p += strspn(p, " \n");
        }
        return false;
}

/* Make dirfd (a cgroup on the way down to the parent) hand the wanted
 * controllers to its children.  Only what the cgroup itself has been given
 * (cgroup.controllers) can be enabled; what is missing shows up later as an
 * absent limit file and is reported as unavailable, so failures here are
 * warnings only. */
static void delegate_controllers(int dirfd, const char *where, const bool want[CTL_COUNT]) {
        char avail[512], enabled[512];
        ssize_t r;

        r = read_string_at(dirfd, "cgroup.controllers", avail, sizeof avail);
        if (r < 0) {
                log_warning_errno((int) r, "cgroup: cannot read %s/cgroup.controllers", where);
                return;
        }
        r = read_string_at(dirfd, "cgroup.subtree_control", enabled, sizeof enabled);
        if (r < 0) {
                log_warning_errno((int) r, "cgroup: cannot read %s/cgroup.subtree_control", where);
                return;
        }
        for (unsigned c = 0; c < CTL_COUNT; c++) {
                char cmd[16];

                if (!want[c] || !word_in_list(avail, controller_names[c]) ||
                    word_in_list(enabled, controller_names[c]))
                        continue;
                (void) snprintf(cmd, sizeof cmd, "+%s", controller_names[c]);
                /* Typically EBUSY: the cgroup holds processes itself ("no
                 * internal processes" rule), which we must not move. */
                int w = write_string_at(dirfd, "cgroup.subtree_control", cmd);
                if (w < 0)
                        log_warning_errno(w, "cgroup: cannot enable the %s controller in %s",
                                          controller_names[c], where);
        }
}

/* A relative cgroup path: components separated by single '/', none of them
 * empty, "." or "..".  The empty string is the mount root itself. */
static bool relative_path_ok(const char *s) {
        if (s[0] == '\0')
                return true;
        if (s[0] == '/' || strstr(s, "//") || s[strlen(s) - 1] == '/')
                return false;
        for (const char *p = s; *p;) {
                size_t l = strcspn(p, "/");
                if ((l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                p += l;
                p += strspn(p, "/");
        }
        return true;
}

static bool name_ok(const char *s) {
        return s[0] != '\0' && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 &&
               strlen(s) < JAIL_NAME_MAX;
}

/* Walk from the mount root down to the parent cgroup, creating missing
 * levels and delegating controllers at each, the root included.  Returns an
 * O_DIRECTORY fd on the parent or -errno. */
static int open_parent(const char *mount, const char *parent, const bool want[CTL_COUNT]) {
        _cleanup_close_ int cur = open(mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char rel[JAIL_PATH_MAX], where[JAIL_PATH_MAX * 2];
        char *comp, *save = NULL;

        if (cur < 0)
                return log_error_errno(negative_errno(), "cgroup: cannot open %s", mount);
        if (snprintf(rel, sizeof rel, "%s", parent) >= (int) sizeof rel)
                return -ENAMETOOLONG;
        (void) snprintf(where, sizeof where, "%s", mount);

        for (comp = strtok_r(rel, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
                delegate_controllers(cur, where, want);
                if (mkdirat(cur, comp, 0755) < 0 && errno != EEXIST)
                        return log_error_errno(negative_errno(), "cgroup: cannot create %s/%s", where, comp);
                int next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (next < 0)
                        return log_error_errno(negative_errno(), "cgroup: cannot open %s/%s", where, comp);
                (void) close(cur);
                cur = next;
                size_t wl = strlen(where);
                (void) snprintf(where + wl, sizeof where - wl, "/%s", comp);
        }
        delegate_controllers(cur, where, want);
        return take_fd(&cur);
}

/* ---------------------------------------------------------------- limits -- */

static const char *format_limit(char buf[static 24], uint64_t v) {
        if (v == UINT64_MAX)
                return "max";
        (void) snprintf(buf, 24, "%" PRIu64, v);
        return buf;
}

/* Write one limit file (what: the controller, for the note).  A missing file means the
 * controller was not delegated to this cgroup: recorded as unavailable (one
 * note per controller), not an error.  Any other failure (value rejected)
 * is an error: the profile asked for exactly this value. */
static int write_limit(const struct jail_cgroup *cg, const char *what, const char *file, const char *value,
                       enum feature_state *state, struct jail_enforced *e) {
        int r = write_string_at(cg->dir_fd, file, value);
        if (r == -ENOENT) {
                if (*state != FEATURE_UNAVAILABLE) {
                        const char *slash = strrchr(cg->path, '/');
                        int len = slash ? (int) (slash - cg->path) : (int) strlen(cg->path);
                        enforced_note(e, "cgroup: %s not available in %.*s", what, len, cg->path);
                }
                *state = FEATURE_UNAVAILABLE;
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "cgroup: cannot write \"%s\" to %s/%s", value, cg->path, file);
        if (*state != FEATURE_UNAVAILABLE)
                *state = FEATURE_ENFORCED;
        return 0;
}

static int apply_limits(const struct jail_profile *p, const struct jail_cgroup *cg, struct jail_enforced *e) {
        char v[24];
        int r;

        if (p->memory_max_set) {
                r = write_limit(cg, "memory controller", "memory.max", format_limit(v, p->memory_max), &e->cg_memory, e);
                if (r < 0)
                        return r;
        }
        if (p->memory_swap_max_set) {
                /* Also absent with the memory controller on when swap
                 * accounting is off (CONFIG_SWAP=n, swapaccount=0). */
                r = write_limit(cg, "swap accounting", "memory.swap.max", format_limit(v, p->memory_swap_max),
                                &e->cg_swap, e);
                if (r < 0)
                        return r;
        }
        if (p->pids_max_set) {
                r = write_limit(cg, "pids controller", "pids.max", format_limit(v, p->pids_max), &e->cg_pids, e);
                if (r < 0)
                        return r;
        }
        if (p->cpu_quota_us != 0) {
                /* cpu.max is "QUOTA PERIOD" in microseconds; the kernel's
                 * default period is 100 ms. */
                uint64_t period = p->cpu_period_us != 0 ? p->cpu_period_us : 100000;
                char cpu[64];
                (void) snprintf(cpu, sizeof cpu, "%s %" PRIu64, format_limit(v, p->cpu_quota_us), period);
                r = write_limit(cg, "cpu controller", "cpu.max", cpu, &e->cg_cpu, e);
                if (r < 0)
                        return r;
        }
        if (p->cpu_weight != 0) {
                r = write_limit(cg, "cpu controller", "cpu.weight", format_limit(v, p->cpu_weight), &e->cg_cpu, e);
                if (r < 0)
                        return r;
        }
        if (p->io_weight != 0) {
                /* io.weight (iocost) takes "default N", N in 1..10000;
                 * without it, BFQ's io.bfq.weight takes a plain "N" but only
                 * up to 1000. */
                char io[40];
                (void) snprintf(io, sizeof io, "default %" PRIu64, p->io_weight);
                r = write_string_at(cg->dir_fd, "io.weight", io);
                if (r == -ENOENT) {
                        bool capped = p->io_weight > BFQ_WEIGHT_MAX;
                        r = write_limit(cg, "io controller", "io.bfq.weight",
                                        format_limit(v, capped ? BFQ_WEIGHT_MAX : p->io_weight), &e->cg_io, e);
                        if (r >= 0 && e->cg_io == FEATURE_ENFORCED && capped) {
                                e->cg_io = FEATURE_PARTIAL;
                                enforced_note(e, "cgroup: io weight %" PRIu64 " capped to %d (BFQ scale)",
                                              p->io_weight, BFQ_WEIGHT_MAX);
                        }
                } else if (r < 0)
                        r = log_error_errno(r, "cgroup: cannot write \"%s\" to %s/io.weight", io, cg->path);
                else
                        e->cg_io = FEATURE_ENFORCED;
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---------------------------------------------------------------- create -- */

/* The profile's devices, plus the pty devices when the jail has its own
 * devpts instance (/dev/ptmx and every UNIX98 pty slave, majors 136-143). */
static int attach_device_policy(const struct jail_profile *p, int dir_fd) {
        struct jail_device *devs = calloc(JAIL_MAX_DEVICES + 9, sizeof *devs);
        unsigned n = 0;
        int r;

        if (!devs)
                return -ENOMEM;
        for (unsigned i = 0; i < p->n_devices && i < JAIL_MAX_DEVICES; i++)
                devs[n++] = p->devices[i];
        if (p->dev_pts) {
                devs[n++] = (struct jail_device) { .major = 5, .minor = 2 };
                for (unsigned major = 136; major <= 143; major++)
                        devs[n++] = (struct jail_device) { .major = major, .any_minor = true };
        }
        r = cgroup_device_prog_attach(dir_fd, devs, n);
        free(devs);
        return r;
}

/* A supervisor killed with SIGKILL cannot remove its cgroup.  Its jail
 * died with it (die-with-parent), leaving an empty "jail-PID" directory:
 * remove those whose supervisor is gone.  rmdir fails on a populated
 * cgroup, so a jail that outlived its supervisor on purpose is kept. */
static void remove_stale_jails(int parent_fd) {
        int fd = fcntl(parent_fd, F_DUPFD_CLOEXEC, 3);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct dirent *de;

        if (!d) {
                if (fd >= 0)
                        (void) close(fd);
                return;
        }
        while ((de = readdir(d))) {
                char *end = NULL;
                long pid;

                if (de->d_type != DT_DIR || strncmp(de->d_name, "jail-", 5) != 0)
                        continue;
                errno = 0;
                pid = strtol(de->d_name + 5, &end, 10);
                if (errno != 0 || !end || *end != '\0' || pid <= 0 || pid > INT32_MAX)
                        continue;
                if (kill((pid_t) pid, 0) == 0 || errno != ESRCH)
                        continue;
                (void) unlinkat(parent_fd, de->d_name, AT_REMOVEDIR); /* EBUSY: still populated, keep */
        }
        (void) closedir(d);
}

static int create_impl(const struct jail_profile *p, const char *jail_name, struct jail_cgroup *cg,
                       struct jail_enforced *e) {
        char mount[JAIL_PATH_MAX], path[sizeof cg->path];
        bool want[CTL_COUNT];
        _cleanup_close_ int parent_fd = -1, dir_fd = -1;
        int r;

        if (cg->dir_fd >= 0)
                return -EBUSY;
        if (!jail_name || !name_ok(jail_name))
                return log_error_errno(-EINVAL, "cgroup: invalid jail cgroup name");
        if (!relative_path_ok(p->cgroup_parent))
                return log_error_errno(-EINVAL, "cgroup: invalid parent \"%s\"", p->cgroup_parent);

        r = cgroup_find_mount(mount, sizeof mount);
        if (r < 0)
                return log_error_errno(r, "cgroup: no cgroup2 hierarchy mounted");
        r = snprintf(path, sizeof path, "%s%s%s/%s", strcmp(mount, "/") == 0 ? "" : mount,
                     p->cgroup_parent[0] ? "/" : "", p->cgroup_parent, jail_name);
        if (r < 0 || (size_t) r >= sizeof path)
                return log_error_errno(-ENAMETOOLONG, "cgroup: path of the jail cgroup too long");

        want[CTL_MEMORY] = p->memory_max_set || p->memory_swap_max_set;
        want[CTL_PIDS] = p->pids_max_set;
        want[CTL_CPU] = p->cpu_quota_us != 0 || p->cpu_weight != 0;
        want[CTL_IO] = p->io_weight != 0;

        parent_fd = open_parent(mount, p->cgroup_parent, want);
        if (parent_fd < 0)
                return parent_fd;
        remove_stale_jails(parent_fd);
        /* No EEXIST tolerance: an existing cgroup may hold someone else's
         * processes and limits.  The caller picks a unique name. */
        if (mkdirat(parent_fd, jail_name, 0755) < 0)
                return log_error_errno(negative_errno(), "cgroup: cannot create %s", path);
        dir_fd = openat(parent_fd, jail_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dir_fd < 0) {
                r = log_error_errno(negative_errno(), "cgroup: cannot open %s", path);
                (void) unlinkat(parent_fd, jail_name, AT_REMOVEDIR); /* best effort: still empty */
                return r;
        }

        cg->dir_fd = take_fd(&dir_fd);
        (void) snprintf(cg->path, sizeof cg->path, "%s", path);

        r = apply_limits(p, cg, e);
        if (r < 0) {
                (void) cgroup_destroy(cg); /* empty: removal only; the error to report is r */
                return r;
        }

        e->cgroup = FEATURE_ENFORCED;
        (void) snprintf(e->cgroup_path, sizeof e->cgroup_path, "%s", cg->path);
        return 0;
}

int cgroup_create(const struct jail_profile *p, const char *jail_name, struct jail_cgroup *cg,
                  struct jail_enforced *e) {
        int r;

        e->cgroup = e->cg_memory = e->cg_swap = e->cg_pids = FEATURE_OFF;
        e->cg_cpu = e->cg_io = e->cg_devices = FEATURE_OFF;
        if (!p->cgroup) {
                /* The device policy lives in the cgroup: without one it
                 * cannot be enforced, and strict mode must notice. */
                if (p->device_policy) {
                        e->cg_devices = FEATURE_UNAVAILABLE;
                        enforced_note(e, "cgroup: device policy not enforced: the cgroup is disabled");
                }
                return 0;
        }
        r = create_impl(p, jail_name, cg, e);
        if (r < 0) {
                /* Nothing of the cgroup is in force; a best-effort caller
                 * carries on and the report must say so. */
                enum feature_state *req[] = {
                        p->memory_max_set ? &e->cg_memory : NULL,
                        p->memory_swap_max_set ? &e->cg_swap : NULL,
                        p->pids_max_set ? &e->cg_pids : NULL,
                        p->cpu_quota_us || p->cpu_weight ? &e->cg_cpu : NULL,
                        p->io_weight ? &e->cg_io : NULL,
                        p->device_policy ? &e->cg_devices : NULL,
                };
                e->cgroup = FEATURE_UNAVAILABLE;
                for (size_t i = 0; i < ELEMENTSOF(req); i++)
                        if (req[i])
                                *req[i] = FEATURE_UNAVAILABLE;
                enforced_note(e, "cgroup: not created: %s", strerror(-r));
        }
        return r;
}

/* --------------------------------------------------------------- destroy -- */

static int64_t now_ms(void) {
        struct timespec ts;

        /* CLOCK_MONOTONIC cannot fail with a valid pointer. */
        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Fallback for kernels without cgroup.kill (< 5.14): SIGKILL every pid
 * listed in cgroup.procs.  Called repeatedly until the cgroup is empty, as
 * processes may fork in between (cgroup.freeze, 5.2+, narrows that window). */
static void kill_listed(int dir_fd) {
        _cleanup_close_ int fd = openat(dir_fd, "cgroup.procs", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        char chunk[4096];
        uint64_t pid = 0;
        bool digits = false;

        if (fd < 0)
                return;
        for (;;) {
                ssize_t n = read(fd, chunk, sizeof chunk);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                for (ssize_t i = 0; i < n; i++) {
                        if (chunk[i] >= '0' && chunk[i] <= '9') {
                                pid = pid * 10 + (uint64_t) (chunk[i] - '0');
                                if (pid > INT32_MAX)
                                        pid = INT32_MAX + 1ULL; /* saturate: rejected below */
                                digits = true;
                                continue;
                        }
                        if (digits && pid > 0 && pid <= INT32_MAX)
                                (void) kill((pid_t) pid, SIGKILL); /* ESRCH: already gone */
                        pid = 0;
                        digits = false;
                }
        }
}

/* 1 when cgroup.events says "populated 0", 0 when still populated, -errno. */
static int events_unpopulated(int fd) {
        char buf[256];
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);

        if (n < 0)
                return negative_errno();
        buf[n] = '\0';
        for (const char *l = buf; *l;) {
                if (strncmp(l, "populated ", 10) == 0)
                        return l[10] == '0';
                l += strcspn(l, "\n");
                l += strspn(l, "\n");
        }
        return -EBADMSG;
}

static int empty_cgroup(int dir_fd, const char *path) {
        const int64_t deadline = now_ms() + DESTROY_TIMEOUT_MS;
        _cleanup_close_ int ev = -1;
        bool legacy = false;
        int r;

        /* cgroup.kill (5.14+) kills every task, including ones forking
         * concurrently, in one step. */
        r = write_string_at(dir_fd, "cgroup.kill", "1");
        if (r == -ENOENT) {
                legacy = true;
                (void) write_string_at(dir_fd, "cgroup.freeze", "1"); /* optional, see kill_listed() */
        } else if (r < 0)
                return log_error_errno(r, "cgroup: cannot write %s/cgroup.kill", path);

        ev = openat(dir_fd, "cgroup.events", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (ev < 0)
                return log_error_errno(negative_errno(), "cgroup: cannot open %s/cgroup.events", path);

        for (;;) {
                if (legacy)
                        kill_listed(dir_fd);
                r = events_unpopulated(ev);
                if (r < 0)
                        return log_error_errno(r, "cgroup: cannot read %s/cgroup.events", path);
                if (r > 0)
                        return 0;
                int64_t left = deadline - now_ms();
                if (left <= 0)
                        return log_error_errno(-ETIMEDOUT, "cgroup: %s still populated after %d ms", path,
                                               DESTROY_TIMEOUT_MS);
                /* cgroup.events signals every change with POLLPRI; the legacy
                 * path also wakes up regularly to kill fresh forks. */
                struct pollfd pfd = { .fd = ev, .events = POLLPRI };
                if (poll(&pfd, 1, (int) (legacy && left > KILL_RETRY_MS ? KILL_RETRY_MS : left)) < 0 &&
                    errno != EINTR)
                        return log_error_errno(negative_errno(), "cgroup: poll on %s/cgroup.events", path);
        }
}

int cgroup_attach_devices(const struct jail_profile *p, struct jail_cgroup *cg, struct jail_enforced *e) {
        int r;

        if (!p->device_policy || cg->dir_fd < 0)
                return 0; /* state already recorded by cgroup_create() */
        r = attach_device_policy(p, cg->dir_fd);
        if (r >= 0) {
                cg->bpf_prog_fd = r;
                e->cg_devices = FEATURE_ENFORCED;
        } else {
                e->cg_devices = FEATURE_UNAVAILABLE;
                enforced_note(e, "cgroup: device program not attached: %s", strerror(-r));
        }
        return 0;
}

int cgroup_destroy(struct jail_cgroup *cg) {
        int r = 0;

        if (cg->dir_fd >= 0 && cg->path[0] != '\0') {
                r = empty_cgroup(cg->dir_fd, cg->path);
                if (r >= 0) {
                        /* Exiting tasks can keep rmdir busy for a moment after
                         * "populated 0"; retry briefly. */
                        const int64_t deadline = now_ms() + DESTROY_TIMEOUT_MS;
                        while (rmdir(cg->path) < 0) {
                                if (errno == ENOENT)
                                        break;
                                if (errno != EBUSY || now_ms() >= deadline) {
                                        r = log_error_errno(negative_errno(), "cgroup: cannot remove %s", cg->path);
                                        break;
                                }
                                (void) poll(NULL, 0, 10); /* sleep 10 ms */
                        }
                }
        }
        closep(&cg->bpf_prog_fd);
        closep(&cg->dir_fd);
        cg->bpf_prog_fd = -1;
        cg->dir_fd = -1;
        cg->path[0] = '\0';
        return r;
}
