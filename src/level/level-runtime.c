/* SPDX-License-Identifier: MIT */
/* Run-time directories, state file and data directories of levels. */
#include "level-runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "parse.h"

int level_runtime_path(const char *runtime, const char *name, const char *leaf, char *buf, size_t size) {
        int n;

        if (!level_name_valid(name))
                return -EINVAL;
        n = leaf ? snprintf(buf, size, "%s/%s/%s", runtime, name, leaf) : snprintf(buf, size, "%s/%s", runtime, name);
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

/* Open (creating when missing) each component of the absolute path under /
 * with O_NOFOLLOW; the last one gets mode/uid/gid when created. */
static int mkdir_chain(const char *path, mode_t mode, uid_t uid, gid_t gid, bool fix_last) {
        char buf[JAIL_PATH_MAX];
        _cleanup_close_ int cur = -1;
        char *save = NULL;

        if (!path_is_normalized_absolute(path) || strlen(path) >= sizeof buf)
                return -EINVAL;
        memcpy(buf, path, strlen(path) + 1);
        cur = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (cur < 0)
                return negative_errno();
        for (char *c = strtok_r(buf + 1, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                bool last = save == NULL || *save == '\0';
                bool created = false;

                if (mkdirat(cur, c, last ? mode : 0755) == 0)
                        created = true;
                else if (errno != EEXIST)
                        return negative_errno();
                int fd = openat(cur, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return errno == ENOTDIR || errno == ELOOP ? -ENOTDIR : negative_errno();
                closep(&cur);
                cur = fd;
                if (last && (created || fix_last)) {
                        char proc[64];
                        (void) snprintf(proc, sizeof proc, "/proc/self/fd/%d", cur);
                        if (chown(proc, uid, gid) < 0 || chmod(proc, mode) < 0)
                                return negative_errno();
                }
        }
        return 0;
}

int level_runtime_prepare(const char *runtime, const char *name) {
        char p[JAIL_PATH_MAX];
        int r;

        r = level_runtime_path(runtime, name, NULL, p, sizeof p);
        if (r < 0)
                return r;
        r = mkdir_chain(p, 0755, 0, 0, true);
        if (r < 0)
                return r;
        r = level_runtime_path(runtime, name, "broker", p, sizeof p);
        if (r < 0)
                return r;
        r = mkdir_chain(p, 0755, 0, 0, true);
        if (r < 0)
                return r;
        /* The transfer service's socket for this level (rempart-xferd
         * creates it, whether it starts before or after the level). */
        r = level_runtime_path(runtime, name, "xfer", p, sizeof p);
        if (r < 0)
                return r;
        return mkdir_chain(p, 0755, 0, 0, true);
}

int level_state_write(const char *runtime, const char *name, const struct level_state *st) {
        char path[JAIL_PATH_MAX], tmp[JAIL_PATH_MAX + 8], text[JAIL_PATH_MAX + 64];
        _cleanup_close_ int fd = -1;
        int r, n;

        r = level_runtime_path(runtime, name, "state", path, sizeof path);
        if (r < 0)
                return r;
        n = snprintf(tmp, sizeof tmp, "%s.tmp", path);
        if (n < 0 || (size_t) n >= sizeof tmp)
                return -ENAMETOOLONG;
        n = snprintf(text, sizeof text, "runner=%d\ncgroup=%s\n", (int) st->runner, st->cgroup);
        if (n < 0 || (size_t) n >= sizeof text)
                return -ENAMETOOLONG;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return negative_errno();
        r = write_all(fd, text, (size_t) n);
        if (r < 0 || fsync(fd) < 0 || rename(tmp, path) < 0) {
                r = r < 0 ? r : negative_errno();
                (void) unlink(tmp);
                return r;
        }
        return 0;
}

int level_state_read(const char *runtime, const char *name, struct level_state *st) {
        char path[JAIL_PATH_MAX];
        _cleanup_free_ char *text = NULL;
        size_t len;
        char *save = NULL;
        bool have_runner = false;
        int r;

        r = level_runtime_path(runtime, name, "state", path, sizeof path);
        if (r < 0)
                return r;
        r = read_full_file(path, 4096, &text, &len);
        if (r < 0)
                return r;
        memset(st, 0, sizeof *st);
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (strncmp(line, "runner=", 7) == 0) {
                        uint64_t v;
                        if (parse_u64(line + 7, INT32_MAX, &v) < 0 || v == 0)
                                return -EBADMSG;
                        st->runner = (pid_t) v;
                        have_runner = true;
                } else if (strncmp(line, "cgroup=", 7) == 0) {
                        if (strlen(line + 7) >= sizeof st->cgroup)
                                return -EBADMSG;
                        memcpy(st->cgroup, line + 7, strlen(line + 7) + 1);
                } else
                        return -EBADMSG;
        }
        return have_runner ? 0 : -EBADMSG;
}

int level_state_remove(const char *runtime, const char *name) {
        char path[JAIL_PATH_MAX];
        int r = level_runtime_path(runtime, name, "state", path, sizeof path);

        if (r < 0)
                return r;
        return unlink(path) < 0 && errno != ENOENT ? negative_errno() : 0;
}

bool level_is_running(const char *runtime, const char *name, struct level_state *st) {
        struct level_state local = { 0 };
        struct level_state *s = st ? st : &local;

        if (level_state_read(runtime, name, s) < 0)
                return false;
        /* EPERM: alive but not ours to signal (unprivileged caller). */
        return kill(s->runner, 0) == 0 || errno == EPERM;
}

int level_data_prepare(const struct level_config *l) {
        char p[JAIL_PATH_MAX];
        int r, n;

        /* DATA itself is root's and closed (0700): the level reaches its
         * parts through its own mounts (DATA/home, DATA/var), and core users
         * must not reach them through the host path. */
        r = mkdir_chain(l->data, 0700, 0, 0, true);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < 2; i++) {
                n = snprintf(p, sizeof p, "%s/%s", l->data, i == 0 ? "home" : "var");
                if (n < 0 || (size_t) n >= sizeof p)
                        return -ENAMETOOLONG;
                r = mkdir_chain(p, 0755, 0, 0, false);
                if (r < 0)
                        return r;
        }
        for (unsigned i = 0; i < l->n_users; i++) {
                n = snprintf(p, sizeof p, "%s/home/%s", l->data, l->users[i].name);
                if (n < 0 || (size_t) n >= sizeof p)
                        return -ENAMETOOLONG;
                r = mkdir_chain(p, 0700, l->users[i].uid, l->users[i].gid, false);
                if (r < 0)
                        return r;
        }
        return 0;
}

int proc_parent_pid(pid_t pid, pid_t *ret) {
        char path[64], buf[1024];
        _cleanup_close_ int dfd = -1;
        ssize_t n;
        const char *close_paren;
        int ppid;

        (void) snprintf(path, sizeof path, "/proc/%d", (int) pid);
        dfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return negative_errno();
        n = read_string_at(dfd, "stat", buf, sizeof buf);
        if (n < 0)
                return (int) n;
        /* "PID (COMM) STATE PPID ...": COMM may hold spaces and ')'. */
        close_paren = strrchr(buf, ')');
        if (!close_paren || sscanf(close_paren + 1, " %*c %d", &ppid) != 1 || ppid < 0)
                return -EBADMSG;
        *ret = (pid_t) ppid;
        return 0;
}

int level_check_broker(const char *runtime, const char *name, pid_t pid, uid_t uid) {
        struct level_state st;
        pid_t init_pid = 0, runner = 0;
        int r;

        if (pid <= 0 || uid != 0)
                return -EPERM;
        r = level_state_read(runtime, name, &st);
        if (r < 0)
                return r;
        if (proc_parent_pid(pid, &init_pid) < 0 || proc_parent_pid(init_pid, &runner) < 0)
                return -EPERM;
        return runner == st.runner ? 0 : -EPERM;
}

bool proc_alive(pid_t pid) {
        char path[64], buf[1024];
        _cleanup_close_ int dfd = -1;
        const char *close_paren;
        char state;

        (void) snprintf(path, sizeof path, "/proc/%d", (int) pid);
        dfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return false;
        if (read_string_at(dfd, "stat", buf, sizeof buf) < 0)
                return false;
        close_paren = strrchr(buf, ')');
        if (!close_paren || sscanf(close_paren + 1, " %c", &state) != 1)
                return false;
        return state != 'Z' && state != 'X';
}
