/* SPDX-License-Identifier: MIT */
/* rempart-xferd: the control socket (rempartctl xfer), and expiry.
 *
 * One request line per connection: "LIST", "SHOW ID", "CONFIRM ID" or
 * "DENY ID".  The answer is lines of printable ASCII, the last one "OK
 * [TEXT]" or "ERR TEXT".  Only processes of the core (our own pid
 * namespace) are served: a level has no way to this socket, and if it
 * found one it would still be refused.  A request is shown to, confirmed
 * or denied by the user who sent it only (root may list and deny). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "names.h"
#include "xfer-proto.h"
#include "xferd.h"

#define LINE_MAX_CONTROL 128

static void out(FILE *f, const char *fmt, ...) _printf_(2, 3);
static void out(FILE *f, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        (void) vfprintf(f, fmt, ap);
        va_end(ap);
}

static int read_line(int fd, char *buf, size_t size) {
        size_t len = 0;
        while (len + 1 < size) {
                ssize_t n = read(fd, buf + len, 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        return -ECONNRESET;
                if (buf[len] == '\n') {
                        buf[len] = '\0';
                        return xfer_text_printable(buf, len) ? 0 : -EBADMSG;
                }
                len++;
        }
        return -E2BIG;
}

static const struct level_config *level_ok(const struct level_set *set, const char *name) {
        const struct level_entry *e = level_set_find(set, name);
        return e && e->ok ? &e->config : NULL;
}

static int64_t remaining(const struct xfer_pending *p) {
        int64_t left = p->expires - (int64_t) time(NULL);
        return left < 0 ? 0 : left;
}

static void show(FILE *f, const struct xfer_pending *p) {
        const struct xfer_manifest *m = p->manifest;
        char sha[65], q[XFER_NAME_MAX * 4 + 8];
        xfer_sha256_hex(m->stream_sha256, sha);
        out(f, "request %s\nfrom %s\nto %s\nuser %s (uid %u)\nexpires in %" PRId64 " s\n", p->id, p->source, p->target,
            p->user, (unsigned) p->uid, remaining(p));
        out(f, "total %" PRIu64 " files, %" PRIu64 " directories, %" PRIu64 " bytes, stream %s\n", m->n_files, m->n_dirs,
            m->total_bytes, sha);
        for (size_t i = 0; i < m->n_entries; i++) {
                const struct xfer_manifest_entry *e = &m->entries[i];
                /* Valid names hold no control character; printable ASCII
                 * on this socket all the same. */
                (void) xfer_name_escape(e->name, strlen(e->name), q, sizeof q);
                if (e->type == XFER_TYPE_DIR)
                        out(f, "D %04o - - %s\n", (unsigned) e->mode, q);
                else {
                        xfer_sha256_hex(e->sha256, sha);
                        out(f, "F %04o %" PRIu64 " %s %s\n", (unsigned) e->mode, e->size, sha, q);
                }
        }
}

/* Act on a claimed request: outcome is CONFIRM (commit) or DENY/EXPIRE. */
static int resolve(struct xferd *d, struct xfer_pending *p, enum audit_type type, const char *confirmer, char *where,
                   size_t wsize, char *why, size_t whylen) {
        const struct level_config *dst = level_ok(d->set, p->target);
        int code, r;

        if (xferd_audit(d, type, p, NULL, NULL, NULL, confirmer, NULL) < 0) {
                /* No record, no action: put the request back. */
                char from[64], to[64];
                (void) snprintf(from, sizeof from, "resolved/%s", p->id);
                (void) snprintf(to, sizeof to, "pending/%s", p->id);
                (void) renameat(d->state_fd, from, d->state_fd, to);
                return snprintf(why, whylen, "the audit log cannot be written"), -EIO;
        }
        if (!dst) {
                (void) snprintf(why, whylen, "level %s is not usable any more", p->target);
                r = -ENOENT;
        } else if (type == AUDIT_XFER_CONFIRMED) {
                r = xferd_commit(dst, p, true, where, wsize, why, whylen);
        } else
                r = 0;
        if (dst && (r < 0 || type != AUDIT_XFER_CONFIRMED))
                (void) xferd_staging_remove(dst, p->id);
        if (r < 0) {
                if (xferd_audit(d, AUDIT_XFER_FAILED, p, NULL, NULL, NULL, confirmer, why) < 0)
                        log_error("audit log: cannot record a failed transfer");
                code = XFER_REPLY_FAILED;
        } else
                code = type == AUDIT_XFER_CONFIRMED ? XFER_REPLY_DONE
                       : type == AUDIT_XFER_EXPIRED ? XFER_REPLY_EXPIRED
                                                     : XFER_REPLY_DENIED;
        char safe[XFER_REPLY_TEXT_MAX + 1];
        const char *text = code == XFER_REPLY_DONE     ? where
                           : code == XFER_REPLY_FAILED ? why
                           : code == XFER_REPLY_EXPIRED ? "nobody confirmed the transfer in time"
                                                        : "the transfer was refused by the user";
        (void) xfer_text_sanitize(text, safe, sizeof safe);
        (void) xfer_result_write(d->state_fd, p->id, code, safe);
        log_info("transfer %s %s -> %s by %s: %s%s%s", p->id, p->source, p->target, p->user,
                 audit_type_to_string(type), r < 0 ? ": " : "", r < 0 ? why : "");
        return r;
}

static void handle(struct xferd *d, FILE *f, const struct xferd_peer *peer, const char *line) {
        char id[XFER_ID_LEN + 1] = "";
        const char *arg = strchr(line, ' ');
        size_t cmdlen = arg ? (size_t) (arg - line) : strlen(line);
        struct xfer_pending p = { 0 };
        int r;

        if (arg) {
                arg++;
                if (!xfer_id_valid(arg)) {
                        out(f, "ERR not a request id\n");
                        return;
                }
                memcpy(id, arg, XFER_ID_LEN + 1);
        }
        if (cmdlen == 4 && memcmp(line, "LIST", 4) == 0 && !arg) {
                char (*ids)[XFER_ID_LEN + 1] = NULL;
                size_t n = 0;
                r = xfer_pending_list(d->state_fd, &ids, &n);
                if (r < 0) {
                        out(f, "ERR cannot list the requests: %s\n", strerror(-r));
                        return;
                }
                for (size_t i = 0; i < n; i++) {
                        if (xfer_pending_read(d->state_fd, ids[i], false, &p) < 0)
                                continue;
                        if (peer->uid == 0 || peer->uid == p.uid)
                                out(f, "%s %s %s %s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64 "\n", p.id, p.source,
                                    p.target, p.user, p.manifest->n_files, p.manifest->n_dirs,
                                    p.manifest->total_bytes, remaining(&p));
                        xfer_pending_clear(&p);
                }
                free(ids);
                out(f, "OK\n");
                return;
        }
        bool is_show = cmdlen == 4 && memcmp(line, "SHOW", 4) == 0;
        bool is_confirm = cmdlen == 7 && memcmp(line, "CONFIRM", 7) == 0;
        bool is_deny = cmdlen == 4 && memcmp(line, "DENY", 4) == 0;
        if (!arg || !(is_show || is_confirm || is_deny)) {
                out(f, "ERR unknown command\n");
                return;
        }
        r = xfer_pending_read(d->state_fd, id, false, &p);
        /* Someone else's request looks like no request at all. */
        if (r < 0 || !(peer->uid == p.uid || (peer->uid == 0 && !is_confirm))) {
                if (r >= 0 && is_confirm && peer->uid == 0)
                        out(f, "ERR only %s, who sent it, can confirm request %s\n", p.user, id);
                else
                        out(f, "ERR no request %s waits for you\n", id);
                xfer_pending_clear(&p);
                return;
        }
        if (is_show) {
                show(f, &p);
                out(f, "OK\n");
                xfer_pending_clear(&p);
                return;
        }
        if (remaining(&p) == 0) {
                out(f, "ERR request %s has expired\n", id);
                xfer_pending_clear(&p);
                return;
        }
        r = xfer_pending_claim(d->state_fd, id);
        if (r < 0) {
                out(f, "ERR request %s was already decided\n", id);
                xfer_pending_clear(&p);
                return;
        }
        char where[XFER_NAME_MAX + 256] = "", why[1024] = "", safe[XFER_NAME_MAX * 4 + 256];
        r = resolve(d, &p, is_confirm ? AUDIT_XFER_CONFIRMED : AUDIT_XFER_DENIED, peer->user, where, sizeof where, why,
                    sizeof why);
        if (r < 0)
                out(f, "ERR %s\n", xfer_text_sanitize(why, safe, sizeof safe));
        else
                out(f, "OK %s\n", is_confirm ? xfer_text_sanitize(where, safe, sizeof safe) : "denied");
        xfer_pending_clear(&p);
}

void xferd_handle_control(struct xferd *d, int conn) {
        _cleanup_(xferd_peer_done) struct xferd_peer peer = { .pidfd = -1 };
        struct timeval tv = { .tv_sec = 10 };
        char line[LINE_MAX_CONTROL];
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r;

        (void) setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        (void) setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        r = xferd_peer_get(conn, true, &peer);
        if (r < 0)
                return;
        r = read_line(conn, line, sizeof line);
        if (r < 0)
                return;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return;
        if (xferd_peer_in_core(&peer) < 0) {
                /* A process of a level, or of any other pid namespace. */
                const char *reason = "transfers are confirmed from the core only";
                if (xferd_audit(d, AUDIT_XFER_CONFIRM_REFUSED, NULL, NULL, NULL, &peer, NULL, reason) < 0)
                        log_error("audit log: cannot record a refused confirmation");
                log_info("control: refused pid %d (uid %u): not in the core", (int) peer.pid, (unsigned) peer.uid);
                out(f, "ERR %s\n", reason);
        } else
                handle(d, f, &peer, line);
        if (fclose(f) != 0)
                return;
        (void) write_all(conn, text, len);
}

/* ---- expiry (main process) ---- */

void xferd_expire(struct xferd *d, bool all_leftovers) {
        char (*ids)[XFER_ID_LEN + 1] = NULL;
        size_t n = 0;

        if (xfer_pending_list(d->state_fd, &ids, &n) < 0)
                return;
        for (size_t i = 0; i < n; i++) {
                struct xfer_pending p = { 0 };
                if (xfer_pending_read(d->state_fd, ids[i], false, &p) < 0)
                        continue;
                if (remaining(&p) == 0 && xfer_pending_claim(d->state_fd, p.id) == 0) {
                        char where[8], why[1024];
                        (void) resolve(d, &p, AUDIT_XFER_EXPIRED, NULL, where, sizeof where, why, sizeof why);
                }
                xfer_pending_clear(&p);
        }
        free(ids);

        /* Results nobody waited for, after an hour; and at start, staging
         * directories that no request owns (a worker that died). */
        int rfd = openat(d->state_fd, "resolved", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *dir = rfd >= 0 ? fdopendir(rfd) : NULL;
        if (!dir && rfd >= 0)
                (void) close(rfd);
        if (dir) {
                struct dirent *de;
                time_t now = time(NULL);
                while ((de = readdir(dir))) {
                        struct stat st;
                        if (de->d_name[0] == '.' || fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                                continue;
                        if (now - st.st_mtime > 3600)
                                (void) unlinkat(dirfd(dir), de->d_name, 0);
                }
                (void) closedir(dir);
        }
        if (!all_leftovers)
                return;
        for (unsigned i = 0; i < d->set->n_levels; i++) {
                const struct level_entry *e = &d->set->levels[i];
                if (!e->ok)
                        continue;
                char path[JAIL_PATH_MAX + 16];
                (void) snprintf(path, sizeof path, "%s/" XFERD_STAGING_DIR, e->config.data);
                DIR *s = opendir(path);
                if (!s)
                        continue;
                struct dirent *de;
                while ((de = readdir(s))) {
                        char pend[300];
                        struct stat st;
                        if (!xfer_id_valid(de->d_name))
                                continue;
                        (void) snprintf(pend, sizeof pend, "pending/%s", de->d_name);
                        if (fstatat(d->state_fd, pend, &st, AT_SYMLINK_NOFOLLOW) == 0)
                                continue;
                        (void) xferd_staging_remove(&e->config, de->d_name);
                        log_info("removed the staging directory of interrupted transfer %s in %s", de->d_name,
                                 e->config.name);
                }
                (void) closedir(s);
        }
}
