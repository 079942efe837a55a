/* SPDX-License-Identifier: MIT */
/* rempart-level: run one level as a jail whose main process is the level's
 * session broker.  This is the main process of rempart-level@NAME.service:
 * systemd supervises it (restart with backoff, journal); nothing here
 * restarts anything.  Also: check the configuration, print a level's
 * effective jail profile. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker-client.h"
#include "fileio.h"
#include "jail.h"
#include "level-jail.h"
#include "level-runtime.h"
#include "level.h"
#include "log.h"
#include "macro.h"

/* A level set and a profile, allocated together (both are large). */
struct work {
        struct level_set set;
        struct jail_profile profile;
};

#define DEFAULT_BROKER_NAME "rempart-broker" /* next to rempart-level */
#define EXIT_CONFIG 78 /* sysexits' EX_CONFIG: systemd does not restart on it */
#define CGROUP2_SUPER_MAGIC_ 0x63677270
#define SERVICE_WAIT_MS 60000
#define UNIT_DIR "/usr/lib/systemd/system"

struct options {
        const char *config_dir, *runtime_dir, *broker, *cgroup_parent, *report;
        bool dev;
};

static void help(void) {
        printf("Usage: rempart-level [OPTIONS] run NAME\n"
               "       rempart-level [OPTIONS] check [NAME...]\n"
               "       rempart-level [OPTIONS] print-profile NAME\n"
               "       rempart-level [OPTIONS] service NAME SERVICE\n"
               "       rempart-level-generator NORMAL-DIR [EARLY-DIR LATE-DIR]\n"
               "\n"
               "Run level NAME: its jail (rempart-jail) with the level's session broker as\n"
               "main process.  Meant to be started by rempart-level@NAME.service; systemd\n"
               "restarts it.  'check' validates the level files (all, or the named ones) and\n"
               "exits 1 if one is bad; 'print-profile' shows the jail profile of a level.\n"
               "'service' runs the level's service SERVICE through its broker and exits with\n"
               "its status (the main process of the generated rempart-service-NAME-SERVICE\n"
               "unit).  As the systemd generator rempart-level-generator, it enables\n"
               "rempart-level@NAME.service for every level file and writes one unit per\n"
               "service.\n"
               "\n"
               "Options:\n"
               "  -c, --config-dir DIR    level files (default " LEVEL_DEFAULT_DIR ")\n"
               "  -r, --runtime-dir DIR   run-time state (default " LEVEL_RUNTIME_DIR ")\n"
               "      --broker PATH       rempart-broker binary (default: the one installed next\n"
               "                          to rempart-level)\n"
               "      --cgroup-parent P   cgroup of the level, relative to the v2 mount\n"
               "                          (default: under the service's own cgroup when run by\n"
               "                          systemd without --dev, else rempart/level-NAME)\n"
               "      --dev               development mode on a plain host: best-effort jail\n"
               "      --report FILE       write the jail's JSON report\n"
               "  -h, --help              this help\n"
               "\n"
               "Exit status: the broker's; 78 for a bad level configuration (not restarted\n"
               "by systemd); 2 for a usage error.  See rempart-level(8), rempart-level.conf(5).\n");
}

/* Our own binary, and a file next to it. */
static int self_path(const char *sibling, char *buf, size_t size) {
        ssize_t n = readlink("/proc/self/exe", buf, size - 1);
        char *slash;

        if (n <= 0 || (size_t) n >= size - 1)
                return -ENAMETOOLONG;
        buf[n] = '\0';
        if (!sibling)
                return 0;
        slash = strrchr(buf, '/');
        if (!slash || (size_t) (slash + 1 - buf) + strlen(sibling) >= size)
                return -ENAMETOOLONG;
        memcpy(slash + 1, sibling, strlen(sibling) + 1);
        return 0;
}

/* Our own cgroup v2 path ("0::/PATH" of /proc/self/cgroup), without the
 * leading slash. */
static int own_cgroup(char *buf, size_t size) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        const char *line;
        int r;

        r = read_full_file("/proc/self/cgroup", 65536, &text, &len);
        if (r < 0)
                return r;
        line = strstr(text, "0::/");
        if (!line || (line != text && line[-1] != '\n'))
                return -ENOENT;
        line += 4;
        len = strcspn(line, "\n");
        if (len >= size)
                return -ENAMETOOLONG;
        memcpy(buf, line, len);
        buf[len] = '\0';
        return 0;
}

/* Under systemd (Delegate=yes), the service's cgroup is ours to divide, but
 * cgroup v2 allows no process in a cgroup that delegates controllers to
 * children: move ourselves into OWN/supervisor, the jail goes under
 * OWN/level. */
static int systemd_cgroup_parent(char *parent, size_t size) {
        char own[JAIL_PATH_MAX], dir[JAIL_PATH_MAX + 64], pid[32];
        struct statfs sfs;
        _cleanup_close_ int fd = -1;
        int r, n;

        if (!getenv("INVOCATION_ID"))
                return -ENOENT;
        if (statfs("/sys/fs/cgroup", &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC_)
                return -ENOENT;
        r = own_cgroup(own, sizeof own);
        if (r < 0 || own[0] == '\0')
                return r < 0 ? r : -ENOENT;
        if (strlen(own) > 11 && strcmp(own + strlen(own) - 11, "/supervisor") == 0)
                own[strlen(own) - 11] = '\0'; /* already moved (restart in the same cgroup) */
        else {
                n = snprintf(dir, sizeof dir, "/sys/fs/cgroup/%s/supervisor", own);
                if (n < 0 || (size_t) n >= sizeof dir)
                        return -ENAMETOOLONG;
                if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                        return log_error_errno(negative_errno(), "cannot create %s", dir);
                fd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return negative_errno();
                (void) snprintf(pid, sizeof pid, "%d", (int) getpid());
                r = write_string_at(fd, "cgroup.procs", pid);
                if (r < 0)
                        return log_error_errno(r, "cannot move into %s", dir);
        }
        n = snprintf(parent, size, "%s/level", own);
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

static int load_level(const struct options *o, const char *name, struct level_set *set,
                      const struct level_config **ret) {
        const struct level_entry *e;
        int r;

        if (!level_name_valid(name))
                return log_error_errno(-EINVAL, "'%s' is not a valid level name", name), -EINVAL;
        r = level_set_load(set, o->config_dir, NULL);
        if (r < 0)
                return log_error_errno(r, "cannot read the level directory %s", o->config_dir);
        e = level_set_find(set, name);
        if (!e) {
                log_error("no level '%s': %s/%s.conf does not exist", name, o->config_dir, name);
                return -ENOENT;
        }
        if (!e->ok) {
                log_error("level %s refused: %s", name, e->error.msg);
                return -EINVAL;
        }
        *ret = &e->config;
        return 0;
}

static int cmd_run(const struct options *o, struct work *w, const char *name) {
        struct level_set *set = &w->set;
        struct jail_profile *p = &w->profile;
        const struct level_config *l = NULL;
        struct level_jail_paths paths = { .runtime = o->runtime_dir, .broker_bin = o->broker, .dev = o->dev,
                                          .check_host = true };
        struct level_state st = { .runner = getpid() };
        struct jail_run_options jopts = { .report_path = o->report };
        struct jail_error err = { { 0 } };
        char parent[JAIL_PATH_MAX];
        char config[JAIL_PATH_MAX];
        char *argv[] = { (char *) LEVEL_IN_BROKER_BIN, (char *) "--config", config, (char *) "--socket",
                         (char *) LEVEL_IN_BROKER_DIR "/" LEVEL_BROKER_SOCKET_NAME, NULL };
        int r, status;

        if (load_level(o, name, set, &l) < 0 || !l)
                return EXIT_CONFIG;
        (void) snprintf(config, sizeof config, LEVEL_IN_CONFIG_DIR "/%s.conf", name);
        if (geteuid() != 0)
                return log_error("level %s: rempart-level run needs root", name), 1;
        if (level_is_running(o->runtime_dir, name, NULL))
                return log_error("level %s is already running", name), 1;

        if (o->cgroup_parent)
                r = snprintf(parent, sizeof parent, "%s", o->cgroup_parent) >= (int) sizeof parent ? -ENAMETOOLONG : 0;
        else {
                /* Development mode: rempart/level-NAME, whoever started us
                 * (a test harness run by systemd has no delegated cgroup). */
                r = o->dev ? -ENOENT : systemd_cgroup_parent(parent, sizeof parent);
                if (r == -ENOENT)
                        r = snprintf(parent, sizeof parent, "rempart/level-%s", name) >= (int) sizeof parent
                                ? -ENAMETOOLONG : 0;
        }
        if (r < 0)
                return log_error_errno(r, "level %s: cannot choose its cgroup", name), 1;
        paths.cgroup_parent = parent;
        memcpy(st.cgroup, parent, strlen(parent) + 1);

        r = level_data_prepare(l);
        if (r < 0)
                return log_error_errno(r, "level %s: cannot prepare its data directory %s", name, l->data), 1;
        r = level_runtime_prepare(o->runtime_dir, name);
        if (r < 0)
                return log_error_errno(r, "level %s: cannot prepare %s/%s", name, o->runtime_dir, name), 1;
        r = level_build_profile(l, &paths, p, &err);
        if (r < 0)
                return log_error("level %s: %s", name, err.msg), EXIT_CONFIG;
        r = level_state_write(o->runtime_dir, name, &st);
        if (r < 0)
                return log_error_errno(r, "level %s: cannot write its state file", name), 1;

        log_info("level %s (%s): starting, %u user(s), %u service(s), cgroup %s", name, l->label, l->n_users,
                 l->n_services, parent);
        status = jail_run(p, argv, &jopts);
        (void) level_state_remove(o->runtime_dir, name);
        log_info("level %s: stopped, status %d", name, status);
        return status;
}

static int cmd_check(const struct options *o, struct work *w, char **names, int n) {
        struct level_set *set = &w->set;
        struct jail_profile *p = &w->profile;
        struct level_jail_paths paths = { .runtime = o->runtime_dir, .broker_bin = o->broker, .dev = o->dev,
                                          .cgroup_parent = "rempart", .check_host = false };
        int r, bad = 0;

        r = level_set_load(set, o->config_dir, NULL);
        if (r < 0)
                return log_error_errno(r, "cannot read the level directory %s", o->config_dir), 1;
        for (int i = 0; i < n; i++)
                if (!level_set_find(set, names[i])) {
                        log_error("no level '%s' in %s", names[i], o->config_dir);
                        bad = 1;
                }
        for (unsigned i = 0; i < set->n_levels; i++) {
                const struct level_entry *e = &set->levels[i];
                struct jail_error err = { { 0 } };
                bool wanted = n == 0;

                for (int k = 0; k < n; k++)
                        wanted = wanted || strcmp(names[k], e->config.name) == 0;
                if (!wanted)
                        continue;
                if (e->ok && level_build_profile(&e->config, &paths, p, &err) < 0) {
                        printf("%s: refused: %s\n", e->config.name, err.msg);
                        bad = 1;
                } else if (e->ok)
                        printf("%s: ok (%s, %u user(s))\n", e->config.name, e->config.label, e->config.n_users);
                else {
                        printf("%s: refused: %s\n", e->config.name, e->error.msg);
                        bad = 1;
                }
        }
        return bad;
}

static int cmd_print(const struct options *o, struct work *w, const char *name) {
        struct level_set *set = &w->set;
        struct jail_profile *p = &w->profile;
        const struct level_config *l = NULL;
        struct level_jail_paths paths = { .runtime = o->runtime_dir, .broker_bin = o->broker, .dev = o->dev,
                                          .cgroup_parent = o->cgroup_parent ? o->cgroup_parent : "rempart",
                                          .check_host = false };
        struct jail_error err = { { 0 } };

        if (load_level(o, name, set, &l) < 0 || !l)
                return EXIT_CONFIG;
        if (level_build_profile(l, &paths, p, &err) < 0)
                return log_error("level %s: %s", name, err.msg), EXIT_CONFIG;
        return profile_dump(p, stdout) < 0 ? 1 : 0;
}

struct peer_check {
        const char *runtime, *name;
};

static int check_broker(const struct broker_peer *peer, void *userdata) {
        const struct peer_check *pc = userdata;

        if (level_check_broker(pc->runtime, pc->name, peer->pid, peer->uid) < 0)
                return log_error("level %s: the socket is not held by the level's broker (pid %d)", pc->name,
                                 (int) peer->pid), -EPERM;
        return 0;
}

/* One of the level's services, as the main process of its unit: started by
 * the broker inside the level (a child of the level's init, as its user),
 * its output on ours (the journal), its end our end, so that systemd sees
 * a crash and restarts it. */
static int cmd_service(const struct options *o, struct work *w, const char *name, const char *service) {
        struct level_set *set = &w->set;
        const struct level_config *l = NULL;
        struct peer_check pc = { .runtime = o->runtime_dir, .name = name };
        struct broker_client_opts opts = { .check_peer = check_broker, .userdata = &pc, .forward_signals = true,
                                           .winsize_fd = -1 };
        struct broker_result res;
        char sock[JAIL_PATH_MAX];
        _cleanup_close_ int nul = -1;
        int fds[BROKER_N_FDS], r = -ENOENT;
        bool known = false;

        if (load_level(o, name, set, &l) < 0 || !l)
                return EXIT_CONFIG;
        for (unsigned i = 0; i < l->n_services; i++)
                known = known || strcmp(l->services[i].name, service) == 0;
        if (!known)
                return log_error("level %s has no service '%s' in %s", name, service, l->path), EXIT_CONFIG;
        if (level_runtime_path(o->runtime_dir, name, "broker/" LEVEL_BROKER_SOCKET_NAME, sock, sizeof sock) < 0)
                return 1;
        nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (nul < 0)
                return log_error_errno(negative_errno(), "/dev/null"), 1;
        fds[0] = nul;
        fds[1] = STDOUT_FILENO;
        fds[2] = STDERR_FILENO;
        /* The level may be starting at the same time as we do. */
        for (int waited = 0; waited < SERVICE_WAIT_MS; waited += 100) {
                memset(&res, 0, sizeof res);
                r = broker_client_service(sock, service, fds, &opts, &res);
                if (r != -ENOENT && r != -ECONNREFUSED)
                        break;
                (void) usleep(100 * 1000);
        }
        if (r < 0) {
                if (res.error)
                        log_error("level %s, service %s: %s", name, service, res.message);
                else
                        log_error_errno(r, "level %s, service %s: cannot reach the level's broker", name, service);
                return 1;
        }
        log_info("level %s, service %s: ended, status %d", name, service, res.status);
        return res.status;
}

/* systemd generator: one wants link per level, one unit per service. */
static int write_service_unit(const char *dir, const struct level_config *l, const struct level_service *svc,
                              const char *self) {
        char path[JAIL_PATH_MAX * 2], wants[JAIL_PATH_MAX * 2], link[JAIL_PATH_MAX * 3];
        _cleanup_close_ int fd = -1;
        char text[2048];
        int n;

        n = snprintf(path, sizeof path, "%s/rempart-service-%s-%s.service", dir, l->name, svc->name);
        if (n < 0 || (size_t) n >= sizeof path)
                return -ENAMETOOLONG;
        n = snprintf(text, sizeof text,
                     "# Generated by rempart-level-generator from %s\n"
                     "[Unit]\n"
                     "Description=Rempart level %s: service %s\n"
                     "Documentation=man:rempart-level.conf(5) man:rempart-level(8)\n"
                     "BindsTo=rempart-level@%s.service\n"
                     "After=rempart-level@%s.service\n"
                     "StartLimitIntervalSec=0\n"
                     "\n"
                     "[Service]\n"
                     "ExecStart=%s service %s %s\n"
                     "Restart=always\n"
                     "RestartSec=1s\n"
                     "RestartSteps=5\n"
                     "RestartMaxDelaySec=30s\n"
                     "RestartPreventExitStatus=78\n",
                     l->path, l->name, svc->name, l->name, l->name, self, l->name, svc->name);
        if (n < 0 || (size_t) n >= sizeof text)
                return -ENAMETOOLONG;
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 || write_all(fd, text, (size_t) n) < 0)
                return negative_errno();
        n = snprintf(wants, sizeof wants, "%s/rempart-level@%s.service.wants", dir, l->name);
        if (n < 0 || (size_t) n >= sizeof wants)
                return -ENAMETOOLONG;
        if (mkdir(wants, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        n = snprintf(link, sizeof link, "%s/rempart-service-%s-%s.service", wants, l->name, svc->name);
        if (n < 0 || (size_t) n >= sizeof link)
                return -ENAMETOOLONG;
        return symlink(path, link) < 0 && errno != EEXIST ? negative_errno() : 0;
}

static int cmd_generate(const struct options *o, struct work *w, const char *dir) {
        struct level_set *set = &w->set;
        char wants[JAIL_PATH_MAX * 2], link[JAIL_PATH_MAX * 3], self[JAIL_PATH_MAX];
        int r, n, bad = 0;

        /* The units run the binary the generator is (a link to rempart-level). */
        r = self_path(NULL, self, sizeof self);
        if (r < 0)
                return log_error_errno(r, "cannot find our own binary"), 1;
        r = level_set_load(set, o->config_dir, NULL);
        if (r == -ENOENT)
                return 0; /* no levels on this machine */
        if (r < 0)
                return log_error_errno(r, "cannot read %s", o->config_dir), 1;
        n = snprintf(wants, sizeof wants, "%s/multi-user.target.wants", dir);
        if (n < 0 || (size_t) n >= sizeof wants || (mkdir(wants, 0755) < 0 && errno != EEXIST))
                return log_error_errno(negative_errno(), "cannot create %s", wants), 1;
        for (unsigned i = 0; i < set->n_levels; i++) {
                const struct level_entry *e = &set->levels[i];

                if (!level_name_valid(e->config.name))
                        continue;
                /* A bad level is enabled too: its unit fails with the reason
                 * in the journal and systemctl status, the others start. */
                n = snprintf(link, sizeof link, "%s/rempart-level@%s.service", wants, e->config.name);
                if (n < 0 || (size_t) n >= sizeof link)
                        continue;
                if (symlink(UNIT_DIR "/rempart-level@.service", link) < 0 && errno != EEXIST) {
                        log_error_errno(negative_errno(), "cannot create %s", link);
                        bad = 1;
                }
                /* Its own virtual terminal: a getty there (the login shell of
                 * level users, rempart-login, enters the level of its VT). */
                if (e->ok && e->config.vt) {
                        char gwants[JAIL_PATH_MAX * 2], glink[JAIL_PATH_MAX * 3];

                        n = snprintf(gwants, sizeof gwants, "%s/getty.target.wants", dir);
                        if (n > 0 && (size_t) n < sizeof gwants && (mkdir(gwants, 0755) == 0 || errno == EEXIST)) {
                                n = snprintf(glink, sizeof glink, "%s/getty@tty%u.service", gwants, e->config.vt);
                                if (n > 0 && (size_t) n < sizeof glink &&
                                    symlink(UNIT_DIR "/getty@.service", glink) < 0 && errno != EEXIST) {
                                        log_error_errno(negative_errno(), "cannot create %s", glink);
                                        bad = 1;
                                }
                        }
                }
                for (unsigned k = 0; e->ok && k < e->config.n_services; k++) {
                        r = write_service_unit(dir, &e->config, &e->config.services[k], self);
                        if (r < 0) {
                                log_error_errno(r, "level %s: cannot write the unit of service %s", e->config.name,
                                                e->config.services[k].name);
                                bad = 1;
                        }
                }
        }
        return bad;
}

static int dispatch(int argc, char **argv, struct work *w) {
        static const struct option longopts[] = {
                { "help", no_argument, NULL, 'h' },
                { "config-dir", required_argument, NULL, 'c' },
                { "runtime-dir", required_argument, NULL, 'r' },
                { "broker", required_argument, NULL, 'B' },
                { "cgroup-parent", required_argument, NULL, 'C' },
                { "report", required_argument, NULL, 'R' },
                { "dev", no_argument, NULL, 'D' },
                { NULL, 0, NULL, 0 },
        };
        struct options o = { .config_dir = LEVEL_DEFAULT_DIR, .runtime_dir = LEVEL_RUNTIME_DIR };
        char broker[JAIL_PATH_MAX];
        int c;

        if (self_path(DEFAULT_BROKER_NAME, broker, sizeof broker) == 0)
                o.broker = broker;
        const char *base = strrchr(argv[0], '/');

        /* systemd generators are called with three directories. */
        if (strcmp(base ? base + 1 : argv[0], "rempart-level-generator") == 0) {
                if (argc < 2 || argc > 4) {
                        fprintf(stderr, "rempart-level-generator: usage: NORMAL-DIR [EARLY-DIR LATE-DIR]\n");
                        return 2;
                }
                /* Tests point the generator elsewhere (generators take no options). */
                if (getenv("REMPART_LEVEL_DIR"))
                        o.config_dir = getenv("REMPART_LEVEL_DIR");
                return cmd_generate(&o, w, argv[1]);
        }
        while ((c = getopt_long(argc, argv, "+hc:r:", longopts, NULL)) != -1) {
                switch (c) {
                case 'h': help(); return 0;
                case 'c': o.config_dir = optarg; break;
                case 'r': o.runtime_dir = optarg; break;
                case 'B': o.broker = optarg; break;
                case 'C': o.cgroup_parent = optarg; break;
                case 'R': o.report = optarg; break;
                case 'D': o.dev = true; break;
                default: fprintf(stderr, "Try 'rempart-level --help'.\n"); return 2;
                }
        }
        if (optind >= argc) {
                fprintf(stderr, "rempart-level: missing command (run, check, print-profile); see --help\n");
                return 2;
        }
        const char *cmd = argv[optind++];
        if (!o.broker) {
                fprintf(stderr, "rempart-level: cannot locate rempart-broker; use --broker\n");
                return 2;
        }
        if (strcmp(cmd, "run") == 0 || strcmp(cmd, "print-profile") == 0) {
                if (argc - optind != 1) {
                        fprintf(stderr, "rempart-level: '%s' takes exactly one level name\n", cmd);
                        return 2;
                }
                return cmd[0] == 'r' ? cmd_run(&o, w, argv[optind]) : cmd_print(&o, w, argv[optind]);
        }
        if (strcmp(cmd, "service") == 0) {
                if (argc - optind != 2) {
                        fprintf(stderr, "rempart-level: 'service' takes a level name and a service name\n");
                        return 2;
                }
                return cmd_service(&o, w, argv[optind], argv[optind + 1]);
        }
        if (strcmp(cmd, "check") == 0)
                return cmd_check(&o, w, argv + optind, argc - optind);
        fprintf(stderr, "rempart-level: unknown command '%s'; see --help\n", cmd);
        return 2;
}

int main(int argc, char **argv) {
        /* Large (a level set and a jail profile): on the heap, once. */
        struct work *w = calloc(1, sizeof *w);
        int r;

        if (!w) {
                fprintf(stderr, "rempart-level: out of memory\n");
                return 1;
        }
        r = dispatch(argc, argv, w);
        free(w);
        return r;
}
