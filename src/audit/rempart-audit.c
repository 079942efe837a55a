/* SPDX-License-Identifier: MIT */
/* rempart-audit: verify, list and append to the audit log.  verify and
 * show only read (members of the audit role's group may run them; verify
 * needs the key, readable by root only, to check MACs); append and init
 * write, as the owner of the audit directory (root).  Two services of the
 * image run it too: boot-check (the log verified at every boot) and
 * watch-kernel (kernel integrity errors recorded, audit-watch.c). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit-internal.h"
#include "audit-watch.h"
#include "audit.h"
#include "log.h"
#include "macro.h"

#ifndef REMPART_VERSION
#define REMPART_VERSION "0.1.0"
#endif
#define MAX_PRINTED_PROBLEMS 20
#define MAX_TYPES 16

enum { EXIT_OK = 0, EXIT_BAD = 1, EXIT_USAGE = 2 };

struct opts {
        const char *dir, *key, *since, *until;
        struct watch_opts watch;
        bool no_key, quiet, all;
        unsigned anchor_every;
        unsigned n_types;
        enum audit_type types[MAX_TYPES];
};

static void help(void) {
        printf("Usage: rempart-audit [--dir DIR] COMMAND [OPTIONS] [ARGS]\n"
               "\n"
               "The tamper-evident audit log of Rempart (see rempart-audit(1)).\n"
               "\n"
               "Commands:\n"
               "  verify [--key FILE | --no-key] [-q]\n"
               "                        check every record, the hash chain, the MACs and the head file\n"
               "  show [--type TYPE]... [--since TIME] [--until TIME] [--all]\n"
               "                        list records (ANCHOR records only with --all or --type ANCHOR)\n"
               "  append TYPE [KEY=VALUE]...\n"
               "                        (root) append one event; creates the log on first use\n"
               "  init [--anchor-every N]\n"
               "                        (root) start a new log in an empty directory\n"
               "  boot-check            (root, at boot) create the log on first use, verify it; on a\n"
               "                        problem, record INTEGRITY_ERROR when the log still takes records\n"
               "  watch-kernel [--once] [--kmsg FILE] [--state PATH | --state-device NAME]\n"
               "               [--cursor FILE | --no-cursor]\n"
               "                        (root) record kernel integrity errors (dm-verity, FEC, dm-integrity,\n"
               "                        dm-crypt, ext4 of the state partition, squashfs) as INTEGRITY_ERROR\n"
               "\n"
               "Options:\n"
               "  -d, --dir DIR         audit directory (default " AUDIT_DEFAULT_DIR ")\n"
               "  -k, --key FILE        verify: key file (default DIR/" AUDIT_KEY_FILE ")\n"
               "      --no-key          verify: without the key (chain only: a rewrite is not detected)\n"
               "  -q, --quiet           verify: no output when the log is intact\n"
               "  -t, --type TYPE       show: only records of TYPE (repeatable)\n"
               "      --since TIME      show: records at or after TIME (UTC, YYYY-MM-DD[THH:MM[:SS]])\n"
               "      --until TIME      show: records at or before TIME\n"
               "  -a, --all             show: ANCHOR records too\n"
               "      --anchor-every N  init: an ANCHOR every N records (default %d)\n"
               "      --once            watch-kernel: read the messages there are, then exit\n"
               "      --kmsg FILE       watch-kernel: the kernel log (default " WATCH_DEFAULT_KMSG "), or a dump\n"
               "      --state PATH      watch-kernel: mount point of the state partition (default "
               WATCH_DEFAULT_STATE ")\n"
               "      --state-device NAME  watch-kernel: its device, as the kernel names it (vda6)\n"
               "      --cursor FILE     watch-kernel: where this boot's last recorded message is kept\n"
               "                        (default " WATCH_DEFAULT_CURSOR ")\n"
               "      --no-cursor       watch-kernel: no cursor (every message of the buffer)\n"
               "  -h, --help            this help\n"
               "      --version         version\n"
               "\n"
               "Exit status: 0 success (verify: intact); 1 verify/boot-check: tampered or damaged,\n"
               "show: lines that are not records, append/init: refused, watch-kernel: a record\n"
               "could not be written; 2 usage or I/O error.\n",
               AUDIT_ANCHOR_EVERY_DEFAULT);
}

/* ---- verify ---- */

struct verify_ctx {
        const char *dir;
        uint64_t printed;
};

static int print_problem(const struct audit_problem *p, void *userdata) {
        struct verify_ctx *c = userdata;

        if (c->printed++ >= MAX_PRINTED_PROBLEMS)
                return 0;
        if (p->line > 0)
                printf("%s/%s:%llu: %s: %s\n", c->dir, AUDIT_LOG_FILE, (unsigned long long) p->line,
                       audit_problem_kind_to_string(p->kind), p->msg);
        else
                printf("%s: %s: %s\n", c->dir, audit_problem_kind_to_string(p->kind), p->msg);
        return 0;
}

/* False only when dir/name surely does not exist (other errors are
 * reported by the reading itself). */
static bool exists_in(const char *dir, const char *name) {
        char p[4096];
        struct stat st;
        int n = snprintf(p, sizeof p, "%s/%s", dir, name);
        return n < 0 || (size_t) n >= sizeof p || lstat(p, &st) >= 0 || errno != ENOENT;
}

static int cmd_verify(const struct opts *o) {
        uint8_t key[AUDIT_KEY_SIZE];
        struct verify_ctx c = { o->dir, 0 };
        struct audit_verify_result res = {};
        char path[4096];
        int r;

        if (!exists_in(o->dir, AUDIT_LOG_FILE) && !exists_in(o->dir, AUDIT_HEAD_FILE))
                return log_error("no audit log in %s", o->dir), EXIT_USAGE;
        if (!o->no_key) {
                if (o->key)
                        r = snprintf(path, sizeof path, "%s", o->key);
                else
                        r = snprintf(path, sizeof path, "%s/%s", o->dir, AUDIT_KEY_FILE);
                if (r < 0 || (size_t) r >= sizeof path)
                        return log_error("key path too long"), EXIT_USAGE;
                r = audit_key_load(path, key);
                if (r < 0) {
                        log_error_errno(r, "cannot read the key %s (run as root, or use --no-key to check the "
                                        "chain only)", path);
                        return EXIT_USAGE;
                }
        }
        r = audit_verify(o->dir, o->no_key ? NULL : key, print_problem, &c, &res);
        explicit_bzero(key, sizeof key);
        if (r == -ENOENT)
                return log_error("no audit log in %s", o->dir), EXIT_USAGE;
        if (r < 0)
                return log_error_errno(r, "cannot read the audit log in %s", o->dir), EXIT_USAGE;
        if (res.problems > MAX_PRINTED_PROBLEMS)
                printf("... and %llu more problem(s)\n",
                       (unsigned long long) (res.problems - MAX_PRINTED_PROBLEMS));
        if (res.problems > 0) {
                printf("%s: TAMPERED OR DAMAGED: %llu problem(s) in %llu line(s); the first one is the cause, "
                       "later ones may be consequences\n",
                       o->dir, (unsigned long long) res.problems, (unsigned long long) res.lines);
                return EXIT_BAD;
        }
        if (!o->quiet) {
                printf("%s: intact: %llu records up to seq %llu, %llu anchors, %s\n", o->dir,
                       (unsigned long long) res.records, (unsigned long long) res.last_seq,
                       (unsigned long long) res.anchors,
                       res.macs_checked ? "MACs checked" : "MACs NOT checked (no key)");
                if (res.recoveries > 0)
                        printf("%s: %llu RECOVERY record(s): a writer died while appending (see rempart-audit show "
                               "--type RECOVERY)\n",
                               o->dir, (unsigned long long) res.recoveries);
        }
        if (!res.macs_checked)
                log_warning("without the key, a log rewritten from start to end is not detected");
        return EXIT_OK;
}

/* ---- show ---- */

/* Length of the UTF-8 sequence at s (at most n bytes) when it encodes a
 * character that is safe on a terminal, else 0.  Refused: C1 controls,
 * and the invisible and direction-changing characters that could make a
 * name look like another. */
static size_t safe_utf8(const unsigned char *s, size_t n) {
        uint32_t cp;
        size_t len;

        if (s[0] < 0xc2 || s[0] > 0xf4)
                return 0;
        len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
        if (n < len)
                return 0;
        cp = s[0] & (0x7f >> len);
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (s[i] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0; /* overlong or surrogate */
        if (cp < 0xa0 || cp == 0xad || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
            (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff)
                return 0;
        return len;
}

static void print_value(const char *v) {
        const unsigned char *s = (const unsigned char *) v;
        size_t n = strlen(v);
        bool plain = n > 0;

        for (size_t i = 0; i < n && plain; i++)
                if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
                        plain = false;
        if (plain) {
                (void) fputs(v, stdout);
                return;
        }
        putchar('"');
        for (size_t i = 0; i < n;) {
                size_t k = s[i] >= 0x80 ? safe_utf8(s + i, n - i) : 0;
                if (k > 0) {
                        (void) fwrite(s + i, 1, k, stdout);
                        i += k;
                        continue;
                }
                if (s[i] == '"' || s[i] == '\\')
                        printf("\\%c", s[i]);
                else if (s[i] < 0x20 || s[i] >= 0x7f)
                        printf("\\x%02x", s[i]);
                else
                        putchar(s[i]);
                i++;
        }
        putchar('"');
}

static bool wanted(const struct opts *o, const struct audit_record *r) {
        if (o->n_types > 0) {
                bool found = false;
                for (unsigned i = 0; i < o->n_types; i++)
                        found = found || o->types[i] == r->type;
                if (!found)
                        return false;
        } else if (r->type == AUDIT_ANCHOR && !o->all)
                return false;
        /* The times have one width: comparing the prefix compares times. */
        if (o->since && strncmp(r->time, o->since, strlen(o->since)) < 0)
                return false;
        if (o->until && strncmp(r->time, o->until, strlen(o->until)) > 0)
                return false;
        return true;
}

static void print_record(const struct audit_record *r) {
        /* 2026-11-05T12:34:56.123456Z shown to the second */
        printf("%6llu %.19sZ %-15s", (unsigned long long) r->seq, r->time, audit_type_to_string(r->type));
        for (unsigned i = 0; i < r->n_fields; i++) {
                printf(" %s=", r->fields[i].key);
                print_value(r->fields[i].value);
        }
        putchar('\n');
}

struct show_buf {
        struct audit_record rec;
        char line[AUDIT_RECORD_MAX + 1];
};

/* List the records of f; the number of lines that are not records, or
 * -errno. */
static int64_t show_lines(const struct opts *o, FILE *f, struct show_buf *b) {
        uint64_t lineno = 0;
        int64_t bad = 0;
        bool skipping = false;

        /* fgets() with a bound: a line longer than any record is skipped. */
        while (fgets(b->line, sizeof b->line, f)) {
                size_t len = strlen(b->line);
                bool complete = len > 0 && b->line[len - 1] == '\n';
                const char *why = NULL;

                if (skipping) {
                        skipping = !complete;
                        continue;
                }
                lineno++;
                if (!complete && !feof(f)) {
                        printf("     ? line %llu: longer than any record\n", (unsigned long long) lineno);
                        bad++;
                        skipping = true;
                        continue;
                }
                if (complete)
                        b->line[--len] = '\0';
                if (audit_record_parse(b->line, len, &b->rec, &why) < 0) {
                        printf("     ? line %llu: not a record (%s)\n", (unsigned long long) lineno, why);
                        bad++;
                        continue;
                }
                if (wanted(o, &b->rec))
                        print_record(&b->rec);
        }
        return ferror(f) ? negative_errno() : bad;
}

static int cmd_show(const struct opts *o) {
        _cleanup_close_ int dir_fd = -1;
        struct show_buf *b;
        int fd = -1;
        FILE *f;
        int64_t bad;

        dir_fd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd >= 0)
                fd = openat(dir_fd, AUDIT_LOG_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return log_error_errno(negative_errno(), "cannot open %s/%s", o->dir, AUDIT_LOG_FILE), EXIT_USAGE;
        f = fdopen(fd, "r"); /* owns fd from here */
        if (!f) {
                int e = negative_errno();
                (void) close(fd);
                return log_error_errno(e, "fdopen"), EXIT_USAGE;
        }
        b = malloc(sizeof *b);
        bad = b ? show_lines(o, f, b) : -ENOMEM;
        free(b);
        (void) fclose(f); /* read-only: nothing to lose */
        if (bad < 0)
                return log_error_errno((int) bad, "cannot read %s/%s", o->dir, AUDIT_LOG_FILE), EXIT_USAGE;
        if (bad > 0) {
                log_error("%lld line(s) are not records: run rempart-audit verify", (long long) bad);
                return EXIT_BAD;
        }
        return EXIT_OK;
}

/* ---- append, init ---- */

static int cmd_append(const struct opts *o, int argc, char **argv) {
        struct audit_field fields[AUDIT_FIELDS_MAX];
        struct audit_log *log = NULL;
        enum audit_type type;
        int64_t seq;
        int r;

        if (argc < 1)
                return log_error("append: missing TYPE"), EXIT_USAGE;
        if (audit_type_from_string(argv[0], &type) < 0 || !audit_type_is_event(type))
                return log_error("append: '%s' is not an event type (XFER_ALLOWED, XFER_DENIED, XFER_CONFIRMED, "
                                 "XFER_EXPIRED, XFER_FAILED, JAIL_REFUSED, LEVEL_RESTART, INTEGRITY_ERROR)",
                                 argv[0]),
                       EXIT_USAGE;
        if (argc - 1 > AUDIT_FIELDS_MAX)
                return log_error("append: at most %d fields", AUDIT_FIELDS_MAX), EXIT_USAGE;
        for (int i = 1; i < argc; i++) {
                char *eq = strchr(argv[i], '=');
                if (!eq)
                        return log_error("append: '%s' is not KEY=VALUE", argv[i]), EXIT_USAGE;
                *eq = '\0';
                if (audit_check_key(argv[i]) < 0)
                        return log_error("append: bad key '%s' ([a-z][a-z0-9_]*, at most %d bytes, not prev, hash "
                                         "or mac)",
                                         argv[i], AUDIT_KEY_NAME_MAX),
                               EXIT_USAGE;
                fields[i - 1].key = argv[i];
                fields[i - 1].value = eq + 1;
        }
        r = audit_open(o->dir, AUDIT_OPEN_CREATE, 0, &log);
        if (r < 0)
                return log_error_errno(r, "cannot open the audit log in %s", o->dir), EXIT_BAD;
        seq = audit_append(log, type, fields, (size_t) argc - 1);
        r = audit_close(log);
        if (seq < 0)
                return log_error_errno((int) seq, "cannot append to the audit log in %s", o->dir), EXIT_BAD;
        if (r < 0)
                return log_error_errno(r, "cannot close the audit log in %s", o->dir), EXIT_BAD;
        return EXIT_OK;
}

static int cmd_init(const struct opts *o) {
        struct audit_log *log = NULL;
        int r = audit_open(o->dir, AUDIT_OPEN_INIT, o->anchor_every, &log);

        if (r < 0)
                return log_error_errno(r, "cannot create a log in %s", o->dir), EXIT_BAD;
        r = audit_close(log);
        if (r < 0)
                return log_error_errno(r, "cannot close the new log in %s", o->dir), EXIT_BAD;
        printf("%s: new audit log created\n", o->dir);
        return EXIT_OK;
}

/* ---- boot-check ---- */

struct boot_ctx {
        struct verify_ctx v;
        struct audit_problem first;
        bool have_first;
};

static int keep_first_problem(const struct audit_problem *p, void *userdata) {
        struct boot_ctx *c = userdata;

        if (!c->have_first) {
                c->first = *p;
                c->have_first = true;
        }
        return print_problem(p, &c->v);
}

/* At every boot (rempart-audit-boot.service): open the log as a writer
 * (created on first use; refused when its end is not the head file's or
 * it was removed), verify all of it with the key, and when verification
 * finds a problem, record it: a writer only needs an intact end, so a
 * record changed in the middle does not stop the log, and the problem
 * goes into the log itself (again at every boot while it is there).  When
 * the log cannot take records, the journal and the failed unit are the
 * only trace.  Exit status 1 in both cases. */
static int cmd_boot_check(const struct opts *o) {
        struct boot_ctx c = { .v = { o->dir, 0 } };
        struct audit_verify_result res = {};
        struct audit_log *log = NULL;
        uint8_t key[AUDIT_KEY_SIZE];
        char path[4096], line[24], count[24];
        int r, open_r, ret = EXIT_OK;

        open_r = audit_open(o->dir, AUDIT_OPEN_CREATE, 0, &log);
        if (open_r < 0)
                log_error_errno(open_r, "boot check: the audit log in %s takes no records", o->dir);
        r = snprintf(path, sizeof path, "%s/%s", o->dir, AUDIT_KEY_FILE);
        if (r < 0 || (size_t) r >= sizeof path)
                return audit_log_free(log), log_error("key path too long"), EXIT_USAGE;
        r = audit_key_load(path, key);
        if (r < 0) {
                audit_log_free(log);
                return log_error_errno(r, "boot check: cannot read the key %s", path), EXIT_BAD;
        }
        r = audit_verify(o->dir, key, keep_first_problem, &c, &res);
        explicit_bzero(key, sizeof key);
        if (r < 0) {
                audit_log_free(log);
                return log_error_errno(r, "boot check: cannot verify the audit log in %s", o->dir), EXIT_BAD;
        }
        if (res.problems > 0) {
                printf("%s: TAMPERED OR DAMAGED: %llu problem(s); the first one is the cause\n", o->dir,
                       (unsigned long long) res.problems);
                ret = EXIT_BAD;
        }
        if (res.problems > 0 && log && c.have_first) {
                struct audit_field f[] = {
                        { "source", "audit-verify" },
                        { "problem", audit_problem_kind_to_string(c.first.kind) },
                        { "line", line },
                        { "problems", count },
                        { "message", c.first.msg },
                };
                int64_t seq;

                (void) snprintf(line, sizeof line, "%llu", (unsigned long long) c.first.line);
                (void) snprintf(count, sizeof count, "%llu", (unsigned long long) res.problems);
                seq = audit_append(log, AUDIT_INTEGRITY_ERROR, f, ELEMENTSOF(f));
                if (seq < 0)
                        log_error_errno((int) seq, "boot check: the problem could not be recorded in the log");
                else
                        printf("%s: recorded as INTEGRITY_ERROR (seq %lld)\n", o->dir, (long long) seq);
        }
        if (log) {
                r = audit_close(log);
                if (r < 0)
                        log_error_errno(r, "boot check: cannot close the audit log in %s", o->dir);
        }
        if (open_r < 0)
                return EXIT_BAD;
        if (ret == EXIT_OK && !o->quiet)
                printf("%s: intact: %llu records up to seq %llu, MACs checked\n", o->dir,
                       (unsigned long long) res.records, (unsigned long long) res.last_seq);
        return ret;
}

/* ---- options ---- */

/* YYYY-MM-DD[THH:MM[:SS]] (a space for the T), normalised in place to the
 * prefix of a record's time it is compared with. */
static int parse_time_prefix(char *s) {
        static const char pattern[] = "dddd-dd-ddTdd:dd:dd";
        size_t n = strlen(s);

        if (n != 10 && n != 16 && n != 19)
                return -EINVAL;
        if (n > 10 && s[10] == ' ')
                s[10] = 'T';
        for (size_t i = 0; i < n; i++)
                if (pattern[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pattern[i])
                        return -EINVAL;
        return 0;
}

enum {
        OPT_NO_KEY = 0x100,
        OPT_SINCE,
        OPT_UNTIL,
        OPT_ANCHOR_EVERY,
        OPT_VERSION,
        OPT_ONCE,
        OPT_KMSG,
        OPT_STATE,
        OPT_STATE_DEVICE,
        OPT_CURSOR,
        OPT_NO_CURSOR,
};

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "dir", required_argument, NULL, 'd' },
                { "key", required_argument, NULL, 'k' },
                { "no-key", no_argument, NULL, OPT_NO_KEY },
                { "quiet", no_argument, NULL, 'q' },
                { "type", required_argument, NULL, 't' },
                { "since", required_argument, NULL, OPT_SINCE },
                { "until", required_argument, NULL, OPT_UNTIL },
                { "all", no_argument, NULL, 'a' },
                { "anchor-every", required_argument, NULL, OPT_ANCHOR_EVERY },
                { "once", no_argument, NULL, OPT_ONCE },
                { "kmsg", required_argument, NULL, OPT_KMSG },
                { "state", required_argument, NULL, OPT_STATE },
                { "state-device", required_argument, NULL, OPT_STATE_DEVICE },
                { "cursor", required_argument, NULL, OPT_CURSOR },
                { "no-cursor", no_argument, NULL, OPT_NO_CURSOR },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, OPT_VERSION },
                {},
        };
        struct opts o = { .dir = AUDIT_DEFAULT_DIR,
                          .watch = { .kmsg = WATCH_DEFAULT_KMSG, .state = WATCH_DEFAULT_STATE,
                                     .cursor = WATCH_DEFAULT_CURSOR } };
        bool verify_opts = false, show_opts = false, init_opts = false, watch_opts = false;
        const char *cmd;
        int c;

        while ((c = getopt_long(argc, argv, "d:k:qt:ah", options, NULL)) >= 0) {
                switch (c) {
                case 'd':
                        o.dir = optarg;
                        break;
                case 'k':
                        o.key = optarg;
                        verify_opts = true;
                        break;
                case OPT_NO_KEY:
                        o.no_key = true;
                        verify_opts = true;
                        break;
                case 'q':
                        o.quiet = true;
                        verify_opts = true;
                        break;
                case 't':
                        if (o.n_types == MAX_TYPES)
                                return log_error("too many --type options"), EXIT_USAGE;
                        if (audit_type_from_string(optarg, &o.types[o.n_types]) < 0)
                                return log_error("unknown record type '%s'", optarg), EXIT_USAGE;
                        o.n_types++;
                        show_opts = true;
                        break;
                case OPT_SINCE:
                case OPT_UNTIL:
                        if (parse_time_prefix(optarg) < 0)
                                return log_error("bad time '%s' (expected YYYY-MM-DD[THH:MM[:SS]], UTC)", optarg),
                                       EXIT_USAGE;
                        if (c == OPT_SINCE)
                                o.since = optarg;
                        else
                                o.until = optarg;
                        show_opts = true;
                        break;
                case 'a':
                        o.all = true;
                        show_opts = true;
                        break;
                case OPT_ANCHOR_EVERY: {
                        char *end;
                        unsigned long v;
                        errno = 0;
                        v = strtoul(optarg, &end, 10);
                        if (errno != 0 || end == optarg || *end != '\0' || optarg[0] == '-' || v == 0 ||
                            v > AUDIT_ANCHOR_EVERY_MAX)
                                return log_error("bad --anchor-every '%s' (1-%d)", optarg, AUDIT_ANCHOR_EVERY_MAX),
                                       EXIT_USAGE;
                        o.anchor_every = (unsigned) v;
                        init_opts = true;
                        break;
                }
                case OPT_ONCE:
                        o.watch.once = true;
                        watch_opts = true;
                        break;
                case OPT_KMSG:
                case OPT_STATE:
                case OPT_STATE_DEVICE:
                case OPT_CURSOR:
                        if (optarg[0] == '\0')
                                return log_error("an option was given an empty value"), EXIT_USAGE;
                        *(c == OPT_KMSG     ? &o.watch.kmsg
                          : c == OPT_STATE  ? &o.watch.state
                          : c == OPT_CURSOR ? &o.watch.cursor
                                            : &o.watch.state_device) = optarg;
                        watch_opts = true;
                        break;
                case OPT_NO_CURSOR:
                        o.watch.cursor = NULL;
                        watch_opts = true;
                        break;
                case 'h':
                        help();
                        return EXIT_OK;
                case OPT_VERSION:
                        printf("rempart-audit %s\n", REMPART_VERSION);
                        return EXIT_OK;
                default:
                        return EXIT_USAGE;
                }
        }
        if (optind >= argc)
                return log_error("missing command (verify, show, append, init, boot-check or watch-kernel; see "
                                 "--help)"),
                       EXIT_USAGE;
        cmd = argv[optind++];
        if (o.key && o.no_key)
                return log_error("--key and --no-key exclude each other"), EXIT_USAGE;
        if ((verify_opts && strcmp(cmd, "verify") != 0 && !(o.quiet && strcmp(cmd, "boot-check") == 0)) ||
            (show_opts && strcmp(cmd, "show") != 0) || (init_opts && strcmp(cmd, "init") != 0) ||
            (watch_opts && strcmp(cmd, "watch-kernel") != 0))
                return log_error("an option given does not apply to '%s' (see --help)", cmd), EXIT_USAGE;
        if (strcmp(cmd, "append") == 0)
                return cmd_append(&o, argc - optind, argv + optind);
        if (optind < argc)
                return log_error("%s: unexpected argument '%s'", cmd, argv[optind]), EXIT_USAGE;
        if (strcmp(cmd, "verify") == 0)
                return cmd_verify(&o);
        if (strcmp(cmd, "show") == 0)
                return cmd_show(&o);
        if (strcmp(cmd, "init") == 0)
                return cmd_init(&o);
        if (strcmp(cmd, "boot-check") == 0) {
                if (o.key || o.no_key)
                        return log_error("boot-check takes the directory's key only"), EXIT_USAGE;
                return cmd_boot_check(&o);
        }
        if (strcmp(cmd, "watch-kernel") == 0) {
                o.watch.dir = o.dir;
                return watch_kernel(&o.watch);
        }
        return log_error("unknown command '%s' (verify, show, append, init, boot-check or watch-kernel)", cmd),
               EXIT_USAGE;
}
