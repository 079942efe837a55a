/* SPDX-License-Identifier: MIT */
/* rempartctl: the core-side command for levels.  Lists levels and their
 * state, starts and stops them (admin role, through systemd), and runs a
 * command or a session inside a level as the calling user, through the
 * level's session broker.  It holds no privilege: the broker decides who
 * may enter a level (from the kernel's SO_PEERCRED), rempartctl checks
 * that the socket it reached belongs to the level's broker. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker-client.h"
#include "level-runtime.h"
#include "level.h"
#include "log.h"
#include "macro.h"

#include "ctl-xfer.h"
#include "session.h"

#ifndef REMPART_LIBEXECDIR
#define REMPART_LIBEXECDIR "/usr/libexec"
#endif
#define DEFAULT_LEVEL_BIN REMPART_LIBEXECDIR "/rempart/rempart-level"
#define STOP_TIMEOUT_MS 10000

struct ctl {
        const char *config_dir, *runtime_dir, *level_bin, *broker_bin;
        bool dev, json, tty, no_tty;
};

static void help(void) {
        printf("Usage: rempartctl [OPTIONS] COMMAND ...\n"
               "\n"
               "Levels are isolated user environments (see rempart-level.conf(5)).\n"
               "\n"
               "Commands:\n"
               "  list                      levels, their label, state and whether you may enter\n"
               "  status NAME               details of one level\n"
               "  run LEVEL [-- COMMAND...] run COMMAND in LEVEL as you (no command: your shell);\n"
               "                            the exit status is the command's\n"
               "  login [LEVEL]             interactive session; without LEVEL, a menu of yours\n"
               "  start|stop|restart NAME   (admin role) start or stop a level\n"
               "  xfer list|show|confirm|deny [ID]\n"
               "                            transfers between levels waiting for your confirmation\n"
               "\n"
               "Options:\n"
               "  -c, --config-dir DIR      level files (default " LEVEL_DEFAULT_DIR ")\n"
               "  -r, --runtime-dir DIR     run-time state (default " LEVEL_RUNTIME_DIR ")\n"
               "      --json                list/status as JSON\n"
               "  -t, --tty                 run: give the command a terminal (default when stdin is one\n"
               "                            and no command is given)\n"
               "  -T, --no-tty              run: never allocate a terminal\n"
               "      --dev                 development mode on a plain host: start/stop run\n"
               "                            rempart-level directly instead of systemctl\n"
               "      --level-bin PATH      rempart-level binary for --dev (default " DEFAULT_LEVEL_BIN ")\n"
               "      --broker PATH         rempart-broker binary for --dev start\n"
               "  -h, --help                this help\n"
               "\n"
               "Exit status: run/login: the command's (128+N when killed by signal N); 1 on\n"
               "error, with a message; 2 for a usage error.  See rempartctl(1).\n");
}

static int load(const struct ctl *c, struct level_set *set) {
        int r = level_set_load(set, c->config_dir, NULL);
        if (r < 0)
                return log_error_errno(r, "cannot read the level directory %s", c->config_dir);
        return 0;
}

static const struct level_entry *find(const struct ctl *c, const struct level_set *set, const char *name) {
        const struct level_entry *e = level_set_find(set, name);
        if (!e)
                log_error("no level '%s' (no %s/%s.conf)", name, c->config_dir, name);
        else if (!e->ok)
                log_error("level %s is refused by its configuration: %s", name, e->error.msg);
        return e && e->ok ? e : NULL;
}

static void json_string(const char *s) {
        putchar('"');
        for (; *s; s++) {
                unsigned char ch = (unsigned char) *s;
                if (ch == '"' || ch == '\\')
                        printf("\\%c", ch);
                else if (ch < 0x20)
                        printf("\\u%04x", ch);
                else
                        putchar(ch);
        }
        putchar('"');
}

static int cmd_list(const struct ctl *c, struct level_set *set, const char *only) {
        uid_t me = getuid();
        bool first = true, found = false;

        if (load(c, set) < 0)
                return 1;
        if (c->json)
                printf("[");
        else if (!only)
                printf("%-12s %-8s %-8s %-6s %s\n", "LEVEL", "COLOUR", "STATE", "YOU", "LABEL");
        for (unsigned i = 0; i < set->n_levels; i++) {
                const struct level_entry *e = &set->levels[i];
                const struct level_config *l = &e->config;
                struct level_state st;
                bool running = e->ok && level_is_running(c->runtime_dir, l->name, &st);
                const char *state = !e->ok ? "invalid" : running ? "running" : "stopped";
                bool allowed = e->ok && level_user_allowed(l, me);

                if (only && strcmp(only, l->name) != 0)
                        continue;
                found = true;
                if (c->json) {
                        printf("%s{\"name\":", first ? "" : ",");
                        json_string(l->name);
                        printf(",\"state\":\"%s\",\"allowed\":%s", state, allowed ? "true" : "false");
                        if (e->ok) {
                                printf(",\"label\":");
                                json_string(l->label);
                                printf(",\"colour\":\"%s\",\"users\":%u,\"services\":%u", level_colour_name(l->colour),
                                       l->n_users, l->n_services);
                                if (running)
                                        printf(",\"runner\":%d", (int) st.runner);
                        } else {
                                printf(",\"error\":");
                                json_string(e->error.msg);
                        }
                        printf("}");
                        first = false;
                } else if (only) {
                        printf("level:    %s\nstate:    %s\n", l->name, state);
                        if (!e->ok) {
                                printf("error:    %s\n", e->error.msg);
                                continue;
                        }
                        if (l->vt)
                                printf("vt:       tty%u\n", l->vt);
                        printf("label:    %s\ncolour:   %s\nfile:     %s\ndata:     %s\nnetwork:  %s%s\n", l->label,
                               level_colour_name(l->colour), l->path, l->data,
                               l->network == LEVEL_NET_LOOPBACK ? "loopback"
                               : l->network == LEVEL_NET_NETNS  ? "netns "
                                                                : "none",
                               l->network == LEVEL_NET_NETNS ? l->netns : "");
                        printf("users:   ");
                        for (unsigned k = 0; k < l->n_users; k++)
                                printf(" %s", l->users[k].name);
                        printf("\nservices:");
                        for (unsigned k = 0; k < l->n_services; k++)
                                printf(" %s", l->services[k].name);
                        printf("\nyou:      %s\n", allowed ? "allowed" : "not allowed");
                        if (running)
                                printf("runner:   pid %d, cgroup %s\n", (int) st.runner, st.cgroup);
                } else
                        printf("%-12s %-8s %-8s %-6s %s\n", l->name, e->ok ? level_colour_name(l->colour) : "-", state,
                               allowed ? "yes" : "no", e->ok ? l->label : e->error.msg);
        }
        if (c->json)
                printf("]\n");
        if (only && !found)
                return log_error("no level '%s'", only), 1;
        return 0;
}

/* ---------------------------------------------------------- start/stop -- */

static int spawn_wait(char *const argv[]) {
        pid_t pid = fork();
        int status;

        if (pid < 0)
                return log_error_errno(negative_errno(), "fork"), 1;
        if (pid == 0) {
                execv(argv[0], argv);
                fprintf(stderr, "rempartctl: cannot run %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return 1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static int dev_start(const struct ctl *c, const char *name) {
        char log_path[JAIL_PATH_MAX];
        pid_t pid;
        int r;

        r = level_runtime_prepare(c->runtime_dir, name);
        if (r >= 0)
                r = level_runtime_path(c->runtime_dir, name, "log", log_path, sizeof log_path);
        if (r < 0)
                return log_error_errno(r, "level %s: cannot prepare %s", name, c->runtime_dir), 1;
        pid = fork();
        if (pid < 0)
                return log_error_errno(negative_errno(), "fork"), 1;
        if (pid == 0) {
                /* Detached: own session, output to RUNTIME/NAME/log. */
                int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
                int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (fd < 0 || nul < 0 || setsid() < 0 || dup2(nul, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
                        _exit(1);
                const char *argv[] = { c->level_bin, "--dev", "--config-dir", c->config_dir, "--runtime-dir",
                                       c->runtime_dir, c->broker_bin ? "--broker" : "run",
                                       c->broker_bin ? c->broker_bin : name, c->broker_bin ? "run" : NULL,
                                       c->broker_bin ? name : NULL, NULL };
                execv(c->level_bin, (char *const *) argv);
                _exit(127);
        }
        /* Started when the broker's socket appears (or the runner died). */
        char sock[JAIL_PATH_MAX];
        r = level_runtime_path(c->runtime_dir, name, "broker/" LEVEL_BROKER_SOCKET_NAME, sock, sizeof sock);
        if (r < 0)
                return 1;
        for (int i = 0; i < 300; i++) {
                struct stat st;
                int status;
                if (waitpid(pid, &status, WNOHANG) == pid) {
                        log_error("level %s: rempart-level exited at once (status %d); see %s", name,
                                  WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), log_path);
                        return 1;
                }
                if (stat(sock, &st) == 0 && S_ISSOCK(st.st_mode) && level_is_running(c->runtime_dir, name, NULL))
                        return 0;
                (void) usleep(50 * 1000);
        }
        return log_error("level %s: not ready after 15 s; see %s", name, log_path), 1;
}

static int dev_stop(const struct ctl *c, const char *name) {
        struct level_state st;

        if (!level_is_running(c->runtime_dir, name, &st)) {
                log_info("level %s is not running", name);
                return 0;
        }
        if (kill(st.runner, SIGTERM) < 0)
                return log_error_errno(negative_errno(), "level %s: cannot signal its runner %d", name, (int) st.runner), 1;
        for (int i = 0; i < STOP_TIMEOUT_MS / 50; i++) {
                /* Gone, or a zombie waiting for a slow reaper (the runner is
                 * detached: its parent is PID 1). */
                if (!proc_alive(st.runner))
                        return 0;
                (void) usleep(50 * 1000);
        }
        (void) kill(st.runner, SIGKILL);
        return log_error("level %s: runner %d did not stop in %d s, killed", name, (int) st.runner,
                         STOP_TIMEOUT_MS / 1000), 1;
}

static int cmd_start_stop(const struct ctl *c, struct level_set *set, const char *verb, const char *name) {
        char unit[LEVEL_NAME_MAX + 32];

        if (load(c, set) < 0)
                return 1;
        if (strcmp(verb, "stop") != 0 && !find(c, set, name))
                return 1;
        if (!level_name_valid(name))
                return log_error("'%s' is not a level name", name), 1;
        if (c->dev) {
                if (geteuid() != 0)
                        return log_error("--dev %s needs root", verb), 1;
                if (strcmp(verb, "start") == 0)
                        return dev_start(c, name);
                if (strcmp(verb, "stop") == 0)
                        return dev_stop(c, name);
                return dev_stop(c, name) != 0 ? 1 : dev_start(c, name);
        }
        /* systemd decides (root, or the admin role through its polkit rule). */
        (void) snprintf(unit, sizeof unit, "rempart-level@%s.service", name);
        char *argv[] = { (char *) "/usr/bin/systemctl", (char *) verb, unit, NULL };
        return spawn_wait(argv);
}

/* ------------------------------------------------------------------ run -- */

/* The socket must be the level's broker (level_check_broker). */
struct peer_check {
        const char *runtime, *name;
};

static int check_broker(const struct broker_peer *peer, void *userdata) {
        const struct peer_check *pc = userdata;

        if (level_check_broker(pc->runtime, pc->name, peer->pid, peer->uid) < 0)
                return log_error("level %s: the socket is not held by the level's broker (pid %d, uid %u): refusing "
                                 "to send anything", pc->name, (int) peer->pid, (unsigned) peer->uid), -EPERM;
        return 0;
}

static int cmd_run(const struct ctl *c, struct level_set *set, const char *name, char **argv, bool login) {
        const struct level_entry *e;
        struct level_state st;
        struct ctl_session s = { 0 };
        bool tty;
        int r, status = 1;

        if (load(c, set) < 0)
                return 1;
        e = find(c, set, name);
        if (!e)
                return 1;
        if (!level_user_allowed(&e->config, getuid()))
                return log_error("you (uid %u) are not a user of level %s", (unsigned) getuid(), name), 1;
        if (!level_is_running(c->runtime_dir, name, &st))
                return log_error("level %s is not running", name), 1;
        tty = !c->no_tty && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && (c->tty || !argv || !argv[0] || login);

        struct peer_check pc = { .runtime = c->runtime_dir, .name = name };
        s.level = &e->config;
        s.check_peer = check_broker;
        s.check_userdata = &pc;
        s.tty = tty;
        r = level_runtime_path(c->runtime_dir, name, "broker/" LEVEL_BROKER_SOCKET_NAME, s.socket, sizeof s.socket);
        if (r < 0)
                return 1;
        r = session_run(&s, argv, &status);
        if (r < 0)
                return 1;
        return status;
}

static int cmd_login(const struct ctl *c, struct level_set *set, const char *name) {
        const char *mine[LEVEL_MAX_LEVELS];
        unsigned n = 0;
        char line[64];

        if (name)
                return cmd_run(c, set, name, NULL, true);
        if (load(c, set) < 0)
                return 1;
        /* On a level's own virtual terminal (its "vt" key): that level only. */
        char tty[64];
        unsigned vt;
        if (ttyname_r(STDIN_FILENO, tty, sizeof tty) == 0 && sscanf(tty, "/dev/tty%u", &vt) == 1)
                for (unsigned i = 0; i < set->n_levels; i++)
                        if (set->levels[i].ok && set->levels[i].config.vt == vt) {
                                char level[LEVEL_NAME_MAX];
                                memcpy(level, set->levels[i].config.name, sizeof level);
                                printf("Virtual terminal %u is level \033[1;%dm%s\033[0m (%s).\n", vt,
                                       level_colour_sgr(set->levels[i].config.colour), level,
                                       set->levels[i].config.label);
                                return cmd_run(c, set, level, NULL, true);
                        }
        for (unsigned i = 0; i < set->n_levels; i++)
                if (set->levels[i].ok && level_user_allowed(&set->levels[i].config, getuid()))
                        mine[n++] = set->levels[i].config.name;
        if (n == 0)
                return log_error("you (uid %u) are not a user of any level", (unsigned) getuid()), 1;
        if (n == 1)
                return cmd_run(c, set, mine[0], NULL, true);
        for (;;) {
                /* Transfers waiting for this user's confirmation: here, on
                 * the core's side of the terminal, where no level writes. */
                char ids[32][XFER_ID_LEN + 1];
                int waiting = ctl_xfer_pending_ids(ids, 32);
                printf("Levels you may enter:\n");
                for (unsigned i = 0; i < n; i++) {
                        const struct level_config *l = &level_set_find(set, mine[i])->config;
                        printf("  %u) \033[1;%dm%s\033[0m  %s%s\n", i + 1, level_colour_sgr(l->colour), l->name, l->label,
                               level_is_running(c->runtime_dir, l->name, NULL) ? "" : "  (not running)");
                }
                if (waiting > 0)
                        printf("  t) transfers waiting for your confirmation: %d\n", waiting);
                printf("Choice (1-%u%s, q to quit): ", n, waiting > 0 ? ", t" : "");
                (void) fflush(stdout);
                if (!fgets(line, sizeof line, stdin) || line[0] == 'q')
                        return 0;
                if (waiting > 0 && strcmp(line, "t\n") == 0) {
                        ctl_xfer_review(stdin, stdout);
                        continue;
                }
                char *end;
                unsigned long k = strtoul(line, &end, 10);
                if (k >= 1 && k <= n && (*end == '\n' || *end == '\0')) {
                        (void) cmd_run(c, set, mine[k - 1], NULL, true);
                        continue; /* back to the menu after the session */
                }
                printf("Not a choice: %s", line);
        }
}

static int dispatch(int argc, char **argv, struct level_set *set) {
        static const struct option longopts[] = {
                { "help", no_argument, NULL, 'h' },
                { "config-dir", required_argument, NULL, 'c' },
                { "runtime-dir", required_argument, NULL, 'r' },
                { "json", no_argument, NULL, 'J' },
                { "tty", no_argument, NULL, 't' },
                { "no-tty", no_argument, NULL, 'T' },
                { "dev", no_argument, NULL, 'D' },
                { "level-bin", required_argument, NULL, 'L' },
                { "broker", required_argument, NULL, 'B' },
                { NULL, 0, NULL, 0 },
        };
        struct ctl c = { .config_dir = LEVEL_DEFAULT_DIR, .runtime_dir = LEVEL_RUNTIME_DIR,
                         .level_bin = DEFAULT_LEVEL_BIN };
        int opt;
        const char *base = strrchr(argv[0], '/');

        /* As a login shell ("-rempart-login"): the menu of the user's levels,
         * nothing else (no option, no command reaches the core). */
        base = base ? base + 1 : argv[0];
        if (strcmp(base + (base[0] == '-'), "rempart-login") == 0)
                return cmd_login(&c, set, NULL);
        while ((opt = getopt_long(argc, argv, "+hc:r:tT", longopts, NULL)) != -1) {
                switch (opt) {
                case 'h': help(); return 0;
                case 'c': c.config_dir = optarg; break;
                case 'r': c.runtime_dir = optarg; break;
                case 'J': c.json = true; break;
                case 't': c.tty = true; break;
                case 'T': c.no_tty = true; break;
                case 'D': c.dev = true; break;
                case 'L': c.level_bin = optarg; break;
                case 'B': c.broker_bin = optarg; break;
                default: fprintf(stderr, "Try 'rempartctl --help'.\n"); return 2;
                }
        }
        if (optind >= argc) {
                fprintf(stderr, "rempartctl: missing command; see --help\n");
                return 2;
        }
        const char *cmd = argv[optind++];
        int rest = argc - optind;
        if (strcmp(cmd, "xfer") == 0)
                return ctl_xfer(rest, argv + optind);
        if (strcmp(cmd, "list") == 0 && rest == 0)
                return cmd_list(&c, set, NULL);
        if (strcmp(cmd, "status") == 0 && rest == 1)
                return cmd_list(&c, set, argv[optind]);
        if ((strcmp(cmd, "start") == 0 || strcmp(cmd, "stop") == 0 || strcmp(cmd, "restart") == 0) && rest == 1)
                return cmd_start_stop(&c, set, cmd, argv[optind]);
        if (strcmp(cmd, "login") == 0 && rest <= 1)
                return cmd_login(&c, set, rest ? argv[optind] : NULL);
        if (strcmp(cmd, "run") == 0 && rest >= 1) {
                const char *name = argv[optind++];
                /* Options of run (-t/-T) may follow the level name. */
                while (optind < argc && argv[optind][0] == '-' && strcmp(argv[optind], "--") != 0) {
                        if (strcmp(argv[optind], "-t") == 0 || strcmp(argv[optind], "--tty") == 0)
                                c.tty = true;
                        else if (strcmp(argv[optind], "-T") == 0 || strcmp(argv[optind], "--no-tty") == 0)
                                c.no_tty = true;
                        else {
                                fprintf(stderr, "rempartctl: run: unknown option '%s'\n", argv[optind]);
                                return 2;
                        }
                        optind++;
                }
                if (optind < argc && strcmp(argv[optind], "--") == 0)
                        optind++;
                else if (optind < argc) {
                        fprintf(stderr, "rempartctl: run LEVEL -- COMMAND [ARGS...]: missing '--'\n");
                        return 2;
                }
                return cmd_run(&c, set, name, optind < argc ? argv + optind : NULL, false);
        }
        fprintf(stderr, "rempartctl: unknown command or wrong number of arguments: '%s'; see --help\n", cmd);
        return 2;
}

int main(int argc, char **argv) {
        /* Large: on the heap, once. */
        struct level_set *set = calloc(1, sizeof *set);
        int r;

        if (!set) {
                fprintf(stderr, "rempartctl: out of memory\n");
                return 1;
        }
        r = dispatch(argc, argv, set);
        free(set);
        return r;
}
