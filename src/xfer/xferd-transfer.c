/* SPDX-License-Identifier: MIT */
/* rempart-xferd: the worker of one connection on a level's socket. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "level-runtime.h"
#include "log.h"
#include "macro.h"
#include "names.h"
#include "parser-jail.h"
#include "policy.h"
#include "xfer-proto.h"
#include "xferd.h"

static const struct level_config *level_ok(const struct level_set *set, const char *name) {
        const struct level_entry *e = level_set_find(set, name);
        return e && e->ok ? &e->config : NULL;
}

/* A reply to the sender, in printable ASCII whatever the text holds. */
static void reply(int conn, enum xfer_reply_code code, const char *text) {
        char safe[XFER_REPLY_TEXT_MAX + 1];
        (void) xfer_text_sanitize(text, safe, sizeof safe);
        (void) xfer_reply_write(conn, code, safe);
}

/* Deny before any data was read: audit first, then tell the sender. */
static void deny(struct xferd *d, int conn, const struct xferd_peer *peer, const char *source, const char *target,
                 const char *reason) {
        int64_t r = xferd_audit(d, AUDIT_XFER_DENIED, NULL, source, target, peer, NULL, reason);
        if (r < 0)
                log_error_errno((int) r, "audit log: cannot record a refusal");
        log_info("denied %s (uid %u) %s -> %s: %s", peer->user, (unsigned) peer->uid, source, target, reason);
        reply(conn, XFER_REPLY_DENIED, reason);
}

/* Read the parser's output to its end (at most XFER_MANIFEST_TEXT_MAX). */
static int read_output(int fd, char **ret, size_t *ret_len) {
        size_t cap = (size_t) 64 * 1024, len = 0;
        _cleanup_free_ char *buf = malloc(cap + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (len == cap) {
                        if (cap >= XFER_MANIFEST_TEXT_MAX)
                                return -EFBIG;
                        cap *= 2;
                        char *n = realloc(buf, cap + 1);
                        if (!n)
                                return -ENOMEM;
                        buf = n;
                }
                ssize_t n = read(fd, buf + len, cap - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        buf[len] = '\0';
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

/* Run the parser on the stream; on success fill p->manifest.  Everything
 * staged is removed on failure. */
static int receive(struct xferd *d, const struct level_config *target, int conn, struct xfer_pending *p,
                   const struct xfer_limits *limits, char *why, size_t whylen) {
        _cleanup_close_ int staging = xferd_staging_create(target, p->id, p->uid, p->gid);
        if (staging < 0)
                return snprintf(why, whylen, "cannot create the staging directory: %s", strerror(-staging)), staging;

        struct xfer_parser_args a = { .stream_fd = conn, .staging_fd = staging, .uid = p->uid, .gid = p->gid,
                                      .limits = *limits };
        pid_t pid;
        _cleanup_close_ int out = -1;
        int r = xfer_parser_spawn(&d->filter, &a, &pid, &out);
        if (r < 0) {
                (void) xferd_staging_remove(target, p->id);
                return snprintf(why, whylen, "cannot start the parser: %s", strerror(-r)), r;
        }
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int rr = read_output(out, &text, &len);
        if (rr < 0)
                (void) kill(pid, SIGKILL);
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        status = -1;
                        break;
                }

        if (rr < 0)
                r = (snprintf(why, whylen, "the parser's output: %s", strerror(-rr)), rr);
        else if (status == -1 || WIFSIGNALED(status))
                r = (snprintf(why, whylen, "the parser was killed (signal %d)", status == -1 ? 0 : WTERMSIG(status)),
                     -ECHILD);
        else if (WEXITSTATUS(status) != 0) {
                /* "ERR ERRNO REASON" on its last line, or nothing useful. */
                char *line = !text ? NULL : len >= 4 && memcmp(text, "ERR ", 4) == 0 ? text : strstr(text, "\nERR ");
                int e = 0;
                if (line) {
                        line += line[0] == '\n';
                        char *nl = strchr(line, '\n');
                        if (nl)
                                *nl = '\0';
                        char *reason = strchr(line + 4, ' ');
                        e = atoi(line + 4);
                        (void) snprintf(why, whylen, "%s", reason ? reason + 1 : "the parser failed");
                } else
                        (void) snprintf(why, whylen, "the parser failed (exit status %d)", WEXITSTATUS(status));
                r = e > 0 && e < 4096 ? -e : -EBADMSG;
        } else if (len < 4 || memcmp(text + len - 4, "END\n", 4) != 0)
                r = (snprintf(why, whylen, "the parser's output is incomplete"), -EBADMSG);
        else {
                r = xfer_manifest_parse(text, len - 4, &p->manifest, why, whylen);
                if (r >= 0 && p->manifest->n_entries == 0)
                        r = (snprintf(why, whylen, "empty transfer"), -EBADMSG);
                if (r >= 0) {
                        /* What the parser says is checked against what is there. */
                        r = xfer_manifest_check_tree(staging, p->manifest, why, whylen);
                }
        }
        if (r < 0) {
                xfer_pending_clear(p);
                (void) xferd_staging_remove(target, p->id);
        }
        return r;
}

static void fail_transfer(struct xferd *d, int conn, const struct level_config *target, struct xfer_pending *p,
                          const struct xferd_peer *peer, const char *why) {
        (void) xferd_staging_remove(target, p->id);
        if (xferd_audit(d, AUDIT_XFER_FAILED, p->manifest ? p : NULL, p->source, p->target, peer, NULL, why) < 0)
                log_error("audit log: cannot record a failed transfer");
        log_info("transfer %s %s -> %s by %s failed: %s", p->id, p->source, p->target, p->user, why);
        /* The sender may still be writing: stop reading, so that it gets
         * EPIPE and reads this reply. */
        (void) shutdown(conn, SHUT_RD);
        reply(conn, XFER_REPLY_FAILED, why);
}

/* After HELD, for a sender that waits: the outcome, as the claimer wrote it. */
static void wait_outcome(struct xferd *d, int conn, const char *id, int64_t expires) {
        for (;;) {
                int code;
                char text[XFER_REPLY_TEXT_MAX + 1];
                if (xfer_result_read(d->state_fd, id, &code, text, sizeof text) == 0) {
                        if (code >= XFER_REPLY_GO && code <= XFER_REPLY_EXPIRED)
                                reply(conn, (enum xfer_reply_code) code, text);
                        xfer_resolved_remove(d->state_fd, id);
                        return;
                }
                if (time(NULL) > expires + 30)
                        return;
                /* The sender shut its writing side down after the stream
                 * (so the socket always reads EOF): only a hang-up, both
                 * sides closed, says it is gone. */
                struct pollfd pfd = { .fd = conn, .events = 0 };
                int n = poll(&pfd, 1, 100);
                if (n > 0 && (pfd.revents & (POLLHUP | POLLERR)))
                        return; /* the sender is gone: the request stays */
        }
}

void xferd_handle_transfer(struct xferd *d, const char *source, int conn) {
        _cleanup_(xferd_peer_done) struct xferd_peer peer = { .pidfd = -1 };
        struct xfer_request req;
        struct timeval tv = { .tv_sec = 10 };
        char why[1024];
        int r;

        (void) setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        (void) setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        r = xferd_peer_get(conn, false, &peer);
        if (r < 0) {
                log_error_errno(r, "level %s: cannot identify a peer", source);
                return;
        }
        r = xfer_request_read(conn, &req);
        if (r < 0) {
                log_info("level %s: pid %d: bad request: %s", source, (int) peer.pid, strerror(-r));
                return;
        }
        /* Who sends: the socket says which level; the peer must be one of
         * its processes (else a core process could pretend to be a level). */
        r = xferd_peer_in_level(d->runtime_dir, source, &peer);
        if (r < 0) {
                deny(d, conn, &peer, source, req.target, "the sender is not a process of the level");
                return;
        }
        if (req.op == XFER_PROTO_CONFIRM) {
                const char *reason = "a level cannot confirm a transfer: confirm it in the core (rempartctl xfer confirm ID)";
                if (xferd_audit(d, AUDIT_XFER_CONFIRM_REFUSED, NULL, source, NULL, &peer, NULL, reason) < 0)
                        log_error("audit log: cannot record a refused confirmation");
                log_info("level %s: refused a confirmation asked by %s (uid %u) from inside the level", source,
                         peer.user, (unsigned) peer.uid);
                reply(conn, XFER_REPLY_DENIED, reason);
                return;
        }

        const struct level_config *src = level_ok(d->set, source), *dst = level_ok(d->set, req.target);
        if (!src || !dst) {
                (void) snprintf(why, sizeof why, "no usable level %s", src ? req.target : source);
                deny(d, conn, &peer, source, req.target, why);
                return;
        }
        /* The user's name as the source level's file gives it (the worker
         * never asks the user database: that can mean loading modules). */
        for (unsigned i = 0; i < src->n_users; i++)
                if (src->users[i].uid == peer.uid && strlen(src->users[i].name) < sizeof peer.user)
                        memcpy(peer.user, src->users[i].name, strlen(src->users[i].name) + 1);
        if (!level_user_allowed(src, peer.uid) || !level_user_allowed(dst, peer.uid)) {
                (void) snprintf(why, sizeof why, "%s is not a user of level %s", peer.user,
                                level_user_allowed(src, peer.uid) ? req.target : source);
                deny(d, conn, &peer, source, req.target, why);
                return;
        }

        struct xfer_decision dec;
        struct xfer_request_id rid = { .source = source, .target = req.target, .op = XFER_OP_COPY, .uid = peer.uid,
                                       .gid = peer.gid, .groups = peer.groups, .n_groups = peer.n_groups };
        if (xfer_policy_decide(d->policy, &rid, &dec) == XFER_DENY) {
                deny(d, conn, &peer, source, req.target, dec.reason);
                return;
        }

        struct xfer_pending p = { .uid = peer.uid, .gid = peer.gid };
        memcpy(p.user, peer.user, sizeof p.user);
        memcpy(p.source, source, strlen(source) + 1);
        memcpy(p.target, req.target, strlen(req.target) + 1);
        r = xfer_id_new(p.id);
        if (r < 0) {
                deny(d, conn, &peer, source, req.target, "no randomness for a request id");
                return;
        }
        char go[64];
        (void) snprintf(go, sizeof go, "%" PRIu64 " %" PRIu64, dec.max_bytes, dec.max_files);
        if (xfer_reply_write(conn, XFER_REPLY_GO, go) < 0)
                return;

        /* The stream: read by the parser only.  A sender that stops
         * sending for d->idle seconds is dropped. */
        tv.tv_sec = d->idle;
        (void) setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        struct xfer_limits limits = { .max_files = dec.max_files, .max_bytes = dec.max_bytes };
        r = receive(d, dst, conn, &p, &limits, why, sizeof why);
        if (r < 0) {
                fail_transfer(d, conn, dst, &p, &peer, why);
                return;
        }
        p.created = time(NULL);

        if (dec.verdict == XFER_ALLOW) {
                char where[XFER_NAME_MAX + 256];
                /* Recorded before it happens: no record, no transfer. */
                if (xferd_audit(d, AUDIT_XFER_ALLOWED, &p, NULL, NULL, NULL, NULL, dec.reason) < 0) {
                        (void) xferd_staging_remove(dst, p.id);
                        reply(conn, XFER_REPLY_FAILED, "the audit log cannot be written: transfer refused");
                        xfer_pending_clear(&p);
                        return;
                }
                r = xferd_commit(dst, &p, false, where, sizeof where, why, sizeof why);
                if (r < 0)
                        fail_transfer(d, conn, dst, &p, &peer, why);
                else {
                        log_info("transfer %s %s -> %s by %s: %s", p.id, p.source, p.target, p.user, where);
                        reply(conn, XFER_REPLY_DONE, where);
                }
                xfer_pending_clear(&p);
                return;
        }

        /* Confirmation needed: keep it staged, record it, tell the sender. */
        p.expires = p.created + d->expiry;
        r = xfer_pending_write(d->state_fd, &p);
        if (r >= 0 && xferd_audit(d, AUDIT_XFER_HELD, &p, NULL, NULL, NULL, NULL, dec.reason) < 0) {
                char path[64];
                (void) snprintf(path, sizeof path, "pending/%s", p.id);
                (void) unlinkat(d->state_fd, path, 0);
                r = -EIO;
        }
        if (r < 0) {
                fail_transfer(d, conn, dst, &p, &peer, "the request cannot be kept for confirmation");
                xfer_pending_clear(&p);
                return;
        }
        log_info("transfer %s %s -> %s by %s: waiting for a confirmation", p.id, p.source, p.target, p.user);
        char held[64];
        (void) snprintf(held, sizeof held, "%s %u", p.id, d->expiry);
        reply(conn, XFER_REPLY_HELD, held);
        if (req.op == XFER_PROTO_SEND_WAIT)
                wait_outcome(d, conn, p.id, p.expires);
        xfer_pending_clear(&p);
}
