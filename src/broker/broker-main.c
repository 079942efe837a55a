/* SPDX-License-Identifier: MIT */
/* rempart-broker: the session broker of one level, run inside the level's
 * jail.  See rempart-broker(8). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker-proto.h"
#include "broker.h"
#include "level.h"
#include "log.h"
#include "macro.h"

#ifndef REMPART_VERSION
#define REMPART_VERSION "0.1.0"
#endif

#define EXIT_USAGE 2

static void usage(FILE *f) {
        (void) fprintf(f,
                       "Usage: rempart-broker --config FILE [--socket PATH]\n"
                       "\n"
                       "Session broker of a Rempart level: starts commands as the level's users\n"
                       "on behalf of the core.  Runs inside the level's jail as uid 0 with\n"
                       "CAP_SETUID and CAP_SETGID.\n"
                       "\n"
                       "  -c, --config FILE   the level's configuration (rempart-level.conf(5))\n"
                       "  -s, --socket PATH   listening socket (default " BROKER_DEFAULT_SOCKET ")\n"
                       "  -h, --help          this help\n"
                       "      --version       version\n"
                       "\n"
                       "Exit status: 0 after SIGTERM or SIGINT, 1 on a runtime error,\n"
                       "2 for a usage or configuration error.\n");
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "socket", required_argument, NULL, 's' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        const char *config = NULL, *socket_path = BROKER_DEFAULT_SOCKET;
        _cleanup_free_ struct level_config *level = NULL;
        struct jail_error err = {};
        sigset_t set;
        int c, r, fd;

        while ((c = getopt_long(argc, argv, "c:s:h", options, NULL)) != -1) {
                switch (c) {
                case 'c':
                        config = optarg;
                        break;
                case 's':
                        socket_path = optarg;
                        break;
                case 'h':
                        usage(stdout);
                        return EXIT_SUCCESS;
                case 'V':
                        (void) printf("rempart-broker %s\n", REMPART_VERSION);
                        return EXIT_SUCCESS;
                default:
                        usage(stderr);
                        return EXIT_USAGE;
                }
        }
        if (optind < argc) {
                log_error("unexpected argument '%s'", argv[optind]);
                return EXIT_USAGE;
        }
        if (!config) {
                log_error("--config FILE is required");
                usage(stderr);
                return EXIT_USAGE;
        }

        level = calloc(1, sizeof *level);
        if (!level) {
                log_error("out of memory");
                return EXIT_FAILURE;
        }
        r = level_parse_file(level, config, NULL, &err);
        if (r >= 0)
                r = level_validate(level, &err);
        if (r < 0) {
                if (err.msg[0])
                        log_error("%s", err.msg);
                else
                        (void) log_error_errno(r, "%s", config);
                return EXIT_USAGE;
        }

        /* Read from a signalfd by broker_serve(); blocked before anything
         * can send them.  Children unblock them before execve(). */
        if (sigemptyset(&set) < 0 || sigaddset(&set, SIGCHLD) < 0 || sigaddset(&set, SIGTERM) < 0 ||
            sigaddset(&set, SIGINT) < 0 || sigprocmask(SIG_BLOCK, &set, NULL) < 0) {
                (void) log_error_errno(negative_errno(), "sigprocmask");
                return EXIT_FAILURE;
        }

        fd = broker_listen(socket_path);
        if (fd < 0)
                return EXIT_FAILURE;
        if (broker_drop_privileges() < 0) {
                (void) close(fd);
                return EXIT_FAILURE;
        }
        log_info("level %s: listening on %s (%u users, %u services)", level->name, socket_path, level->n_users,
                 level->n_services);
        r = broker_serve(level, fd, socket_path);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
