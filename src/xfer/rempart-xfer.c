/* SPDX-License-Identifier: MIT */
/* rempart-xfer: send files to another level, from inside a level.
 * See rempart-xfer(1). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "level-runtime.h"
#include "macro.h"
#include "pack.h"
#include "parse.h"
#include "xfer-proto.h"

#define DEFAULT_SOCKET LEVEL_IN_XFER_DIR "/" LEVEL_XFER_SOCKET_NAME

#ifdef __SANITIZE_ADDRESS__
/* Test builds only: rempart-xfer runs inside a level, whose seccomp
 * filter forbids ptrace(2), which LeakSanitizer needs at exit. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
        return "detect_leaks=0";
}
#endif

struct opts {
        const char *socket;
        bool wait, quiet;
};

static void help(void) {
        printf("Usage: rempart-xfer send [--wait] [--quiet] TARGET-LEVEL PATH...\n"
               "       rempart-xfer confirm ID\n"
               "Send files and directories to another level.  They arrive there in\n"
               "~/Incoming/SOURCE-LEVEL/, if the transfer policy allows it; a transfer that\n"
               "needs a confirmation waits until you confirm it in the core\n"
               "(rempartctl xfer confirm ID).\n\n"
               "  -h, --help        show this help\n"
               "  -w, --wait        wait for the confirmation, if one is needed\n"
               "  -q, --quiet       print nothing on success\n"
               "  -S, --socket PATH transfer socket (default " DEFAULT_SOCKET ")\n"
               "Exit status: 0 done (or held, without --wait), 1 failed, 2 usage,\n"
               "3 denied, 4 held and then expired or refused.\n"
               "See rempart-xfer(1).\n");
}

static int connect_socket(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                int r = negative_errno();
                (void) close(fd);
                return r;
        }
        return fd;
}

static int final(const struct xfer_reply *rep, const struct opts *o, const char *target) {
        switch (rep->code) {
        case XFER_REPLY_DONE:
                if (!o->quiet)
                        printf("sent to %s: %s\n", target, rep->text);
                return 0;
        case XFER_REPLY_DENIED:
                fprintf(stderr, "rempart-xfer: denied: %s\n", rep->text);
                return 3;
        case XFER_REPLY_EXPIRED:
                fprintf(stderr, "rempart-xfer: expired: %s\n", rep->text);
                return 4;
        case XFER_REPLY_FAILED:
                fprintf(stderr, "rempart-xfer: failed: %s\n", rep->text);
                return 1;
        default:
                fprintf(stderr, "rempart-xfer: unexpected answer %s\n", xfer_reply_code_name(rep->code));
                return 1;
        }
}

static int send_files(const struct opts *o, const char *target, char **paths, size_t n) {
        struct xfer_request req = { .op = o->wait ? XFER_PROTO_SEND_WAIT : XFER_PROTO_SEND };
        struct xfer_reply rep;
        char why[XFER_ERROR_MAX];
        int r;

        if (strlen(target) >= sizeof req.target) {
                fprintf(stderr, "rempart-xfer: not a level name: '%s'\n", target);
                return 2;
        }
        memcpy(req.target, target, strlen(target) + 1);
        _cleanup_close_ int fd = connect_socket(o->socket);
        if (fd < 0) {
                fprintf(stderr, "rempart-xfer: cannot reach the transfer service at %s: %s\n", o->socket, strerror(-fd));
                return 1;
        }
        r = xfer_request_write(fd, &req);
        if (r == -EINVAL) {
                fprintf(stderr, "rempart-xfer: not a level name: '%s'\n", target);
                return 2;
        }
        if (r >= 0)
                r = xfer_reply_read(fd, &rep);
        if (r < 0) {
                fprintf(stderr, "rempart-xfer: the transfer service did not answer: %s\n", strerror(-r));
                return 1;
        }
        if (rep.code != XFER_REPLY_GO)
                return final(&rep, o, target);

        /* The quotas the policy gives this transfer: over them, refuse here
         * (with the name of what is too big) before sending anything. */
        struct xfer_limits limits;
        char *sp = strchr(rep.text, ' ');
        uint64_t mb, mf;
        if (!sp)
                return fprintf(stderr, "rempart-xfer: bad answer from the transfer service\n"), 1;
        *sp = '\0';
        if (parse_u64(rep.text, UINT64_MAX, &mb) < 0 || parse_u64(sp + 1, UINT64_MAX, &mf) < 0)
                return fprintf(stderr, "rempart-xfer: bad answer from the transfer service\n"), 1;
        limits.max_bytes = mb;
        limits.max_files = mf;
        struct xfer_pack_options po = { .limits = &limits };
        r = xfer_pack(fd, AT_FDCWD, (const char *const *) paths, n, &po, why, sizeof why);
        /* EPIPE or ECONNRESET: the service stopped reading (a refused
         * stream, a full disk...): its answer says why. */
        if (r < 0 && r != -EPIPE && r != -ECONNRESET) {
                fprintf(stderr, "rempart-xfer: %s\n", why);
                return 1;
        }
        (void) shutdown(fd, SHUT_WR);
        /* Also after EPIPE: the service says why it stopped reading. */
        if (xfer_reply_read(fd, &rep) < 0) {
                fprintf(stderr, "rempart-xfer: %s\n", r < 0 ? why : "the transfer service did not answer");
                return 1;
        }
        if (rep.code != XFER_REPLY_HELD)
                return final(&rep, o, target);

        char *id = rep.text, *exp = strchr(rep.text, ' ');
        if (exp)
                *exp++ = '\0';
        if (!o->wait) {
                if (!o->quiet)
                        printf("held: transfer %s to %s needs a confirmation in the core within %s s:\n"
                               "  rempartctl xfer confirm %s\n",
                               id, target, exp ? exp : "?", id);
                return 0;
        }
        if (!o->quiet)
                fprintf(stderr, "waiting for a confirmation of transfer %s in the core (rempartctl xfer confirm %s)...\n",
                        id, id);
        if (xfer_reply_read(fd, &rep) < 0) {
                fprintf(stderr, "rempart-xfer: no outcome for transfer %s\n", id);
                return 1;
        }
        r = final(&rep, o, target);
        return r == 3 ? 4 : r;
}

static int confirm(const struct opts *o, const char *id) {
        /* Asked anyway, so that the refusal is explicit (and audited). */
        struct xfer_request req = { .op = XFER_PROTO_CONFIRM, .target = "core" };
        struct xfer_reply rep;
        (void) id;
        _cleanup_close_ int fd = connect_socket(o->socket);
        if (fd < 0) {
                fprintf(stderr, "rempart-xfer: cannot reach the transfer service at %s: %s\n", o->socket, strerror(-fd));
                return 1;
        }
        if (xfer_request_write(fd, &req) < 0 || xfer_reply_read(fd, &rep) < 0) {
                fprintf(stderr, "rempart-xfer: the transfer service did not answer\n");
                return 1;
        }
        return final(&rep, o, "");
}

int main(int argc, char **argv) {
        static const struct option longopts[] = {
                { "help", no_argument, NULL, 'h' },       { "wait", no_argument, NULL, 'w' },
                { "quiet", no_argument, NULL, 'q' },      { "socket", required_argument, NULL, 'S' },
                { NULL, 0, NULL, 0 },
        };
        struct opts o = { .socket = DEFAULT_SOCKET };
        int opt;

        const char *env = getenv("REMPART_XFER_SOCKET");
        if (env && env[0])
                o.socket = env;
        while ((opt = getopt_long(argc, argv, "+hwqS:", longopts, NULL)) != -1) {
                switch (opt) {
                case 'h': help(); return 0;
                case 'w': o.wait = true; break;
                case 'q': o.quiet = true; break;
                case 'S': o.socket = optarg; break;
                default: fprintf(stderr, "Try 'rempart-xfer --help'.\n"); return 2;
                }
        }
        (void) signal(SIGPIPE, SIG_IGN);
        if (optind >= argc) {
                fprintf(stderr, "rempart-xfer: missing command (send or confirm); see --help\n");
                return 2;
        }
        const char *cmd = argv[optind++];
        /* Options may also follow the command. */
        while (optind < argc && argv[optind][0] == '-' && strcmp(argv[optind], "--") != 0) {
                if (strcmp(argv[optind], "-w") == 0 || strcmp(argv[optind], "--wait") == 0)
                        o.wait = true;
                else if (strcmp(argv[optind], "-q") == 0 || strcmp(argv[optind], "--quiet") == 0)
                        o.quiet = true;
                else {
                        fprintf(stderr, "rempart-xfer: unknown option '%s'\n", argv[optind]);
                        return 2;
                }
                optind++;
        }
        if (optind < argc && strcmp(argv[optind], "--") == 0)
                optind++;
        if (strcmp(cmd, "send") == 0 && argc - optind >= 2)
                return send_files(&o, argv[optind], argv + optind + 1, (size_t) (argc - optind - 1));
        if (strcmp(cmd, "confirm") == 0 && argc - optind == 1)
                return confirm(&o, argv[optind]);
        fprintf(stderr, "rempart-xfer: usage: rempart-xfer send [--wait] TARGET-LEVEL PATH... (see --help)\n");
        return 2;
}
