/* SPDX-License-Identifier: MIT */
/* Unit tests of the level configuration: defaults, a full file, every kind
 * of bad input (message names file, line, section and key; a failed parse
 * leaves the caller's struct exactly as it was), the whole-level checks
 * (W^X, users, services) and directories of levels (bad names, nested data
 * directories across levels).  Users come from a fake database: alice
 * (1001), bob (1002), root (0); the host's passwd is never read. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "level.h"

static int fake_by_name(const char *name, uid_t *uid, gid_t *gid, void *userdata) {
        static const struct {
                const char *name;
                uid_t uid;
                gid_t gid;
        } users[] = { { "alice", 1001, 1001 }, { "bob", 1002, 100 }, { "root", 0, 0 } };

        (*(unsigned *) userdata)++;
        if (strcmp(name, "broken") == 0)
                return -EIO;
        for (size_t i = 0; i < sizeof users / sizeof users[0]; i++)
                if (strcmp(users[i].name, name) == 0) {
                        *uid = users[i].uid;
                        *gid = users[i].gid;
                        return 0;
                }
        return -ENOENT;
}

static unsigned lookups;
static const struct level_userdb fake_db = { fake_by_name, &lookups };

static struct level_config *new_config(void) {
        struct level_config *l = malloc(sizeof *l);
        assert_non_null(l);
        level_init_default(l, "test");
        return l;
}

static int parse(struct level_config *l, const char *text, struct jail_error *err) {
        return level_parse_buffer(l, "test", "test.conf", text, strlen(text), &fake_db, err);
}

static void check_msg(const char *msg, const char *needle1, const char *needle2) {
        if (!strstr(msg, needle1) || (needle2 && !strstr(msg, needle2)))
                fail_msg("error message '%s' lacks '%s'/'%s'", msg, needle1, needle2 ? needle2 : "");
}

/* Text that must fail to parse: the message names both needles and the
 * caller's struct is byte for byte what it was (here: garbage). */
static void expect_error(const char *text, const char *needle1, const char *needle2) {
        struct level_config *l = malloc(sizeof *l), *before = malloc(sizeof *before);
        struct jail_error err = { "" };

        assert_non_null(l);
        assert_non_null(before);
        memset(l, 0x5a, sizeof *l);
        memcpy(before, l, sizeof *l);
        assert_int_equal(parse(l, text, &err), -EINVAL);
        check_msg(err.msg, needle1, needle2);
        assert_memory_equal(l, before, sizeof *l);
        free(l);
        free(before);
}

/* Text that parses but that level_validate() refuses. */
static void expect_invalid(const char *text, const char *needle1, const char *needle2) {
        struct level_config *l = new_config();
        struct jail_error err = { "" };

        if (parse(l, text, &err) != 0)
                fail_msg("parse failed: %s", err.msg);
        assert_int_equal(level_validate(l, &err), -EINVAL);
        check_msg(err.msg, needle1, needle2);
        free(l);
}

static void test_names(void **state) {
        (void) state;
        assert_true(level_name_valid("high"));
        assert_true(level_name_valid("a"));
        assert_true(level_name_valid("low-2_x"));
        assert_true(level_name_valid("abcdefghijklmnopqrstuvwxyz01234")); /* 31 */
        assert_false(level_name_valid("abcdefghijklmnopqrstuvwxyz012345")); /* 32 */
        assert_false(level_name_valid(""));
        assert_false(level_name_valid(NULL));
        assert_false(level_name_valid("High"));
        assert_false(level_name_valid("1high"));
        assert_false(level_name_valid("-high"));
        assert_false(level_name_valid("hi.gh"));
        assert_false(level_name_valid("hi/gh"));
        assert_false(level_name_valid("hi gh"));
}

static void test_colours(void **state) {
        (void) state;
        assert_string_equal(level_colour_name(LEVEL_COLOUR_RED), "red");
        assert_string_equal(level_colour_name(LEVEL_COLOUR_WHITE), "white");
        assert_int_equal(level_colour_sgr(LEVEL_COLOUR_RED), 31);
        assert_int_equal(level_colour_sgr(LEVEL_COLOUR_GREEN), 32);
        assert_int_equal(level_colour_sgr(LEVEL_COLOUR_YELLOW), 33);
        assert_int_equal(level_colour_sgr(LEVEL_COLOUR_BLUE), 34);
        assert_int_equal(level_colour_sgr(LEVEL_COLOUR_MAGENTA), 35);
        assert_int_equal(level_colour_sgr(LEVEL_COLOUR_CYAN), 36);
        assert_int_equal(level_colour_sgr(LEVEL_COLOUR_WHITE), 37);
        assert_int_equal(level_colour_sgr((enum level_colour) 99), 37);
}

static void test_defaults(void **state) {
        struct level_config *l = new_config();
        struct jail_error err = { "" };

        (void) state;
        level_init_default(l, "high");
        assert_string_equal(l->name, "high");
        assert_string_equal(l->label, "high");
        assert_int_equal(l->colour, LEVEL_COLOUR_WHITE);
        assert_int_equal(l->n_system, 2);
        assert_string_equal(l->system[0], "/usr");
        assert_string_equal(l->system[1], "/etc");
        assert_string_equal(l->data, "/var/lib/rempart/levels/high");
        assert_int_equal(l->tmp_size, 0);
        assert_int_equal(l->network, LEVEL_NET_LOOPBACK);
        assert_int_equal(l->n_users + l->n_devices + l->n_services, 0);
        assert_false(l->memory_max_set || l->memory_swap_max_set || l->pids_max_set);
        assert_int_equal(l->cpu_quota_us + l->cpu_weight, 0);
        assert_false(level_user_allowed(l, 1001));
        /* The defaults alone are not a usable level: nobody could log in. */
        assert_int_equal(level_validate(l, &err), -EINVAL);
        check_msg(err.msg, "no users cannot be logged into", "[level] users");

        /* An empty file gives the defaults, with the file's path. */
        assert_int_equal(parse(l, "", &err), 0);
        assert_string_equal(l->name, "test");
        assert_string_equal(l->path, "test.conf");
        assert_string_equal(l->data, "/var/lib/rempart/levels/test");
        assert_int_equal(l->n_system, 2);
        assert_int_equal(level_key_index("filesystem", "data") >= 0, 1);
        assert_int_equal(level_key_index("filesystem", "nope"), -1);
        assert_string_equal(l->origins[level_key_index("filesystem", "data")].file, "test.conf");
        assert_int_equal(l->origins[level_key_index("filesystem", "data")].line, 0);
        free(l);
}

static const char full_text[] = "# The high level\n"
                                "[level]\n"
                                "label = Très haut\n"
                                "colour = red\n"
                                "users = alice\n"
                                "users = 2000 bob\n"
                                "\n"
                                "[filesystem]\n"
                                "system = /usr\n"
                                "system = /etc /opt/tools\n"
                                "data = /var/lib/rempart/levels/high\n"
                                "tmp_size = 256M\n"
                                "[network]\n"
                                "mode = none\n"
                                "[devices]\n"
                                "allow = /dev/dri0\n"
                                "allow = /dev/snd0 /dev/null\n"
                                "[limits]\n"
                                "memory_max = 1G\n"
                                "memory_swap_max = 0\n"
                                "pids_max = 1024\n"
                                "cpu_max = 50%\n"
                                "cpu_weight = 100\n"
                                "[service sync]\n"
                                "exec = /usr/bin/sync-daemon --foreground  -v\n"
                                "user = bob\n"
                                "[service web-2]\n"
                                "user = 2000\n"
                                "exec = /opt/tools/web\n";

static void test_full(void **state) {
        struct level_config *l = new_config();
        struct jail_error err = { "" };

        (void) state;
        lookups = 0;
        if (parse(l, full_text, &err) != 0)
                fail_msg("%s", err.msg);
        assert_string_equal(l->name, "test");
        assert_string_equal(l->label, "Très haut");
        assert_int_equal(l->colour, LEVEL_COLOUR_RED);
        assert_int_equal(l->n_users, 3);
        assert_string_equal(l->users[0].name, "alice");
        assert_int_equal(l->users[0].uid, 1001);
        assert_int_equal(l->users[0].gid, 1001);
        assert_int_equal(l->users[0].origin.line, 5);
        assert_string_equal(l->users[1].name, "2000");
        assert_int_equal(l->users[1].uid, 2000);
        assert_int_equal(l->users[1].gid, 2000);
        assert_string_equal(l->users[2].name, "bob");
        assert_int_equal(l->users[2].gid, 100);
        assert_int_equal(lookups, 3); /* alice, bob, and bob again for the service */
        assert_int_equal(l->n_system, 3);
        assert_string_equal(l->system[2], "/opt/tools");
        assert_int_equal(l->system_origins[2].line, 10);
        assert_string_equal(l->data, "/var/lib/rempart/levels/high");
        assert_int_equal(l->tmp_size, 256ULL << 20);
        assert_int_equal(l->network, LEVEL_NET_NONE);
        assert_int_equal(l->n_devices, 3);
        assert_string_equal(l->devices[2], "/dev/null");
        assert_int_equal(l->device_origins[2].line, 17);
        assert_true(l->memory_max_set);
        assert_int_equal(l->memory_max, 1ULL << 30);
        assert_true(l->memory_swap_max_set);
        assert_int_equal(l->memory_swap_max, 0);
        assert_true(l->pids_max_set);
        assert_int_equal(l->pids_max, 1024);
        assert_int_equal(l->cpu_quota_us, 50000);
        assert_int_equal(l->cpu_period_us, 100000);
        assert_int_equal(l->cpu_weight, 100);
        assert_int_equal(l->origins[level_key_index("limits", "pids_max")].line, 21);
        assert_string_equal(l->origins[level_key_index("limits", "pids_max")].key, "[limits] pids_max");

        assert_int_equal(l->n_services, 2);
        assert_string_equal(l->services[0].name, "sync");
        assert_int_equal(l->services[0].origin.line, 24);
        assert_string_equal(l->services[0].exec, "/usr/bin/sync-daemon --foreground  -v");
        assert_int_equal(l->services[0].argc, 3);
        assert_string_equal(l->services[0].argv[0], "/usr/bin/sync-daemon");
        assert_string_equal(l->services[0].argv[1], "--foreground");
        assert_string_equal(l->services[0].argv[2], "-v");
        assert_null(l->services[0].argv[3]);
        assert_true(l->services[0].argv[0] >= l->services[0].exec_words &&
                    l->services[0].argv[0] < l->services[0].exec_words + sizeof l->services[0].exec_words);
        assert_int_equal(l->services[0].user.uid, 1002);
        assert_int_equal(l->services[0].user.origin.line, 26);
        assert_string_equal(l->services[1].name, "web-2");
        assert_int_equal(l->services[1].argc, 1);
        assert_int_equal(l->services[1].user.uid, 2000);

        assert_int_equal(level_validate(l, &err), 0);
        assert_true(level_user_allowed(l, 1001));
        assert_true(level_user_allowed(l, 2000));
        assert_false(level_user_allowed(l, 1003));
        assert_false(level_user_allowed(l, 0));
        free(l);
}

static void test_defaults_replaced_and_lists(void **state) {
        struct level_config *l = new_config();
        struct jail_error err = { "" };

        (void) state;
        /* system: the default applies only while the key never appears. */
        assert_int_equal(parse(l, "[filesystem]\nsystem = /opt\n[level]\nusers = alice\n", &err), 0);
        assert_int_equal(l->n_system, 1);
        assert_string_equal(l->system[0], "/opt");
        /* Identical entries are listed once. */
        assert_int_equal(parse(l, "[filesystem]\nsystem = /usr /usr\nsystem = /usr\n[devices]\nallow = /dev/null /dev/null\n", &err), 0);
        assert_int_equal(l->n_system, 1);
        assert_int_equal(l->n_devices, 1);
        /* "max" limits are no limits. */
        assert_int_equal(parse(l, "[limits]\nmemory_max = max\npids_max = max\ncpu_max = max\n", &err), 0);
        assert_false(l->memory_max_set);
        assert_false(l->pids_max_set);
        assert_int_equal(l->cpu_quota_us, UINT64_MAX);
        assert_int_equal(parse(l, "[limits]\ncpu_max = 20000 50000\n", &err), 0);
        assert_int_equal(l->cpu_quota_us, 20000);
        assert_int_equal(l->cpu_period_us, 50000);
        /* Comments, blank lines, a BOM, CRLF line ends. */
        assert_int_equal(parse(l, "\xEF\xBB\xBF; comment\r\n[level]\r\n\r\ncolour = cyan ; inline\r\n", &err), 0);
        assert_int_equal(l->colour, LEVEL_COLOUR_CYAN);
        /* An indented line continues a list key. */
        assert_int_equal(parse(l, "[level]\nusers = alice\n  bob\n", &err), 0);
        assert_int_equal(l->n_users, 2);
        free(l);
}

static void test_unknown(void **state) {
        (void) state;
        expect_error("[level]\nlabel = x\nbogus = 1\n", "test.conf:3: [level] bogus:", "unknown key 'bogus'");
        expect_error("\n[nosuch]\nkey = 1\n", "test.conf:2: [nosuch]:", "unknown section");
        expect_error("[level]\n[nosuch]\n", "test.conf:2:", "unknown section");   /* even empty */
        expect_error("[Level]\nlabel = x\n", "test.conf:1:", "unknown section");
        expect_error("[cgroup]\nmemory_max = 1G\n", "test.conf:1:", "unknown section");
        expect_error("label = x\n", "test.conf:1:", "outside");
        expect_error("[service a]\nexec = /bin/a\nuser = alice\nrestart = yes\n", "test.conf:4: [service a] restart:",
                     "unknown key 'restart'");
}

static void test_duplicates(void **state) {
        (void) state;
        expect_error("[level]\ncolour = red\n\ncolour = blue\n", "test.conf:4: [level] colour:", "duplicate");
        expect_error("[level]\nlabel = a\n[filesystem]\n[level]\nlabel = b\n", "test.conf:5:", "duplicate");
        expect_error("[filesystem]\ndata = /srv/a\ndata = /srv/b\n", "test.conf:3:", "duplicate");
        expect_error("[service a]\nexec = /bin/a\nexec = /bin/b\n", "test.conf:3: [service a] exec:", "duplicate");
        expect_error("[service a]\nexec = /bin/a\nuser = alice\n[service a]\nexec = /bin/a\nuser = alice\n",
                     "test.conf:4: [service a]:", "duplicate section (first at line 1)");
        expect_error("[service a]\nexec = /bin/a\nuser = alice\n[level]\n[service a]\n", "test.conf:5:",
                     "duplicate section");
        expect_error("[level]\nusers = alice bob\nusers = 1001\n", "test.conf:3: [level] users:",
                     "listed twice (first at line 2)");
}

static void test_bad_values(void **state) {
        (void) state;
        expect_error("[level]\ncolour = purple\n", "test.conf:2: [level] colour:", "unknown colour 'purple'");
        expect_error("[level]\ncolour = Red\n", "test.conf:2:", "unknown colour");
        expect_error("[level]\nlabel =\n", "test.conf:2: [level] label:", "empty");
        expect_error("[level]\nlabel = a\x01z\n", "test.conf:2:", "printable");
        expect_error("[level]\nlabel = a\x7fz\n", "test.conf:2:", "printable");
        expect_error("[level]\nlabel = \xc3\x28\n", "test.conf:2:", "printable");        /* bad UTF-8 */
        expect_error("[level]\nlabel = \xc0\xaf\n", "test.conf:2:", "printable");        /* overlong */
        expect_error("[level]\nlabel = a\xc2\x85z\n", "test.conf:2:", "printable");      /* C1 control */
        expect_error("[level]\nlabel = \xe2\x80\xaeHigh\n", "test.conf:2:", "printable"); /* bidi override */
        expect_error("[level]\nlabel = 0123456789012345678901234567890123456789012345678901234567890123\n",
                     "test.conf:2:", "too long");
        expect_error("[filesystem]\nsystem = usr\n", "test.conf:2: [filesystem] system:", "absolute");
        expect_error("[filesystem]\nsystem = /usr/../etc\n", "test.conf:2:", "absolute");
        expect_error("[filesystem]\nsystem =\n", "test.conf:2:", "at least one path");
        expect_error("[filesystem]\ndata = var/lib/x\n", "test.conf:2: [filesystem] data:", "absolute");
        expect_error("[filesystem]\ndata = /var/lib/x/\n", "test.conf:2:", "absolute");
        expect_error("[filesystem]\ntmp_size = 0\n", "test.conf:2: [filesystem] tmp_size:", "invalid size");
        expect_error("[filesystem]\ntmp_size = lots\n", "test.conf:2:", "invalid size");
        expect_error("[network]\nmode = veth\n", "test.conf:2: [network] mode:", "not supported");
        expect_error("[network]\nmode = host\n", "test.conf:2:", "not supported");
        expect_error("[devices]\nallow = /etc/passwd\n", "test.conf:2: [devices] allow:", "/dev");
        expect_error("[devices]\nallow = /dev/dri/card0\n", "test.conf:2:", "directly under /dev");
        expect_error("[limits]\nmemory_max = lots\n", "test.conf:2: [limits] memory_max:", "size");
        expect_error("[limits]\nmemory_max = 0\n", "test.conf:2:", "size");
        expect_error("[limits]\npids_max = 0\n", "test.conf:2: [limits] pids_max:", "tasks");
        expect_error("[limits]\ncpu_max = 10 20\n", "test.conf:2: [limits] cpu_max:", "out of range");
        expect_error("[limits]\ncpu_max = 0%\n", "test.conf:2:", "percentage");
        expect_error("[limits]\ncpu_max = 20000/50000\n", "test.conf:2:", "QUOTA PERIOD");
        expect_error("[limits]\ncpu_weight = 0\n", "test.conf:2: [limits] cpu_weight:", "1 to 10000");
        expect_error("[limits]\ncpu_weight = 10001\n", "test.conf:2:", "1 to 10000");
}

static void test_users(void **state) {
        (void) state;
        expect_error("[level]\nusers = alice carol\n", "test.conf:2: [level] users:", "unknown user 'carol'");
        expect_error("[level]\nusers = 0\n", "test.conf:2:", "uid 0 is refused");
        expect_error("[level]\nusers = root\n", "test.conf:2:", "user 'root' has uid 0");
        expect_error("[level]\nusers = 4294967295\n", "test.conf:2:", "invalid uid");
        expect_error("[level]\nusers = 99999999999999999999\n", "test.conf:2:", "invalid uid");
        expect_error("[level]\nusers = al:ice\n", "test.conf:2:", "invalid user name");
        expect_error("[level]\nusers = -alice\n", "test.conf:2:", "invalid user name");
        expect_error("[level]\nusers = abcdefghijklmnopqrstuvwxyz0123456\n", "test.conf:2:", "1 to 32");
        expect_error("[level]\nusers = broken\n", "test.conf:2:", "cannot look up user 'broken'");
        expect_error("[level]\nusers =\n", "test.conf:2:", "at least one user");
        expect_error("[service a]\nexec = /bin/a\nuser = carol\n", "test.conf:3: [service a] user:", "unknown user");
        expect_error("[service a]\nexec = /bin/a\nuser = root\n", "test.conf:3:", "uid 0");
        expect_error("[service a]\nexec = /bin/a\nuser = alice bob\n", "test.conf:3:", "one user");
}

static void test_services(void **state) {
        (void) state;
        expect_error("[service]\nexec = /bin/a\n", "test.conf:1: [service]:", "invalid service name");
        expect_error("[service Web]\nexec = /bin/a\n", "test.conf:1:", "invalid service name 'Web'");
        expect_error("[service a b]\nexec = /bin/a\n", "test.conf:1:", "invalid service name");
        expect_error("[servicea]\nexec = /bin/a\n", "test.conf:1:", "unknown section");
        expect_error("[level]\nusers = alice\n[service a]\nuser = alice\n", "test.conf:3: [service a]:", "no exec");
        expect_error("[service a]\nexec = /bin/a\n", "test.conf:1: [service a]:", "no user");
        expect_error("[service a]\n", "test.conf:1: [service a]:", "no exec");
        expect_error("[service a]\nexec = bin/a\nuser = alice\n", "test.conf:2: [service a] exec:", "absolute");
        expect_error("[service a]\nexec = /bin/../a\n", "test.conf:2:", "absolute");
        expect_error("[service a]\nexec =\n", "test.conf:2:", "absolute path");
        expect_error("[service a]\nexec = /bin/a \x01\n", "test.conf:2:", "control");
}

static void test_too_many(void **state) {
        char *text = malloc(65536);
        size_t n = 0;

        (void) state;
        assert_non_null(text);
        /* 65 users */
        n = (size_t) snprintf(text, 65536, "[level]\n");
        for (unsigned i = 0; i < 65; i++)
                n += (size_t) snprintf(text + n, 65536 - n, "users = %u\n", 1000 + i);
        expect_error(text, "test.conf:66: [level] users:", "too many users (at most 64)");
        /* 33 system paths */
        n = (size_t) snprintf(text, 65536, "[filesystem]\n");
        for (unsigned i = 0; i < 33; i++)
                n += (size_t) snprintf(text + n, 65536 - n, "system = /opt/p%u\n", i);
        expect_error(text, "test.conf:34:", "too many system paths");
        /* 17 devices */
        n = (size_t) snprintf(text, 65536, "[devices]\n");
        for (unsigned i = 0; i < 17; i++)
                n += (size_t) snprintf(text + n, 65536 - n, "allow = /dev/d%u\n", i);
        expect_error(text, "test.conf:18:", "too many devices");
        /* 17 services */
        n = 0;
        for (unsigned i = 0; i < 17; i++)
                n += (size_t) snprintf(text + n, 65536 - n, "[service s%u]\nexec = /bin/x\nuser = alice\n", i);
        expect_error(text, "test.conf:49: [service s16]:", "too many services");
        /* 33 words of exec */
        n = (size_t) snprintf(text, 65536, "[service a]\nexec = /bin/x");
        for (unsigned i = 0; i < 32; i++)
                n += (size_t) snprintf(text + n, 65536 - n, " %u", i % 10);
        (void) snprintf(text + n, 65536 - n, "\nuser = alice\n");
        expect_error(text, "test.conf:2:", "too many arguments");
        /* exactly 32 is fine */
        {
                struct level_config *l = new_config();
                struct jail_error err = { "" };
                n = (size_t) snprintf(text, 65536, "[service a]\nexec = /bin/x");
                for (unsigned i = 0; i < 31; i++)
                        n += (size_t) snprintf(text + n, 65536 - n, " %u", i % 10);
                (void) snprintf(text + n, 65536 - n, "\nuser = alice\n");
                assert_int_equal(parse(l, text, &err), 0);
                assert_int_equal(l->services[0].argc, 32);
                assert_null(l->services[0].argv[32]);
                free(l);
        }
        free(text);
}

static void test_syntax(void **state) {
        char text[600];
        static const char nul_text[] = "[level]\nlabel = a\0b\n";
        struct level_config *l = new_config();
        struct jail_error err = { "" };

        (void) state;
        expect_error("[level]\ncolour red\n", "test.conf:2: syntax:", "expected");
        expect_error("[level\n", "test.conf:1:", "expected");
        (void) snprintf(text, sizeof text, "[level]\nlabel = %0300d\n", 1);
        expect_error(text, "test.conf:2:", "too long");
        assert_int_equal(level_parse_buffer(l, "test", "test.conf", nul_text, sizeof nul_text - 1, &fake_db, &err),
                         -EINVAL);
        check_msg(err.msg, "test.conf:2:", "NUL");
        /* An indented header after a key is a continuation (libinih), so a
         * list key gets a value that is not a path. */
        expect_error("[filesystem]\nsystem = /usr\n  [level]\n", "test.conf:3:", "absolute");
        free(l);
}

static void test_bad_level_names(void **state) {
        struct level_config *l = new_config();
        struct jail_error err = { "" };

        (void) state;
        assert_int_equal(level_parse_buffer(l, "High", "High.conf", "", 0, &fake_db, &err), -EINVAL);
        check_msg(err.msg, "High.conf", "invalid level name 'High'");
        assert_int_equal(level_parse_buffer(l, "", "x.conf", "", 0, &fake_db, &err), -EINVAL);
        assert_int_equal(level_parse_buffer(l, NULL, NULL, "", 0, &fake_db, &err), -EINVAL);
        assert_int_equal(level_parse_file(l, "/nonexistent/Bad.conf", &fake_db, &err), -EINVAL);
        check_msg(err.msg, "invalid level name 'Bad'", NULL);
        assert_int_equal(level_parse_file(l, "/nonexistent/high.cfg", &fake_db, &err), -EINVAL);
        check_msg(err.msg, "NAME.conf", NULL);
        assert_int_equal(level_parse_file(l, "/nonexistent/high.conf", &fake_db, &err), -ENOENT);
        check_msg(err.msg, "/nonexistent/high.conf", "cannot open");
        free(l);
}

static void test_validate(void **state) {
        (void) state;
        expect_invalid("[level]\nusers = alice\n[filesystem]\ndata = /usr/lib/x\n",
                       "test.conf:4: [filesystem] data:", "writable+exec: data /usr/lib/x overlaps system path /usr");
        expect_invalid("[level]\nusers = alice\n[filesystem]\ndata = /etc\n", "test.conf:4:",
                       "data /etc overlaps system path /etc");
        expect_invalid("[level]\nusers = alice\n[filesystem]\ndata = /\n", "test.conf:4:", "overlaps system path /usr");
        expect_invalid("[level]\nusers = alice\n[filesystem]\nsystem = /usr\ndata = /srv\nsystem = /srv/level/bin\n",
                       "test.conf:5: [filesystem] data:", "data /srv overlaps system path /srv/level/bin");
        /* Default data inside a listed system path: the system line is named. */
        expect_invalid("[level]\nusers = alice\n[filesystem]\nsystem = /usr\nsystem = /var\n",
                       "test.conf:5: [filesystem] system:", "data /var/lib/rempart/levels/test overlaps system path /var");
        /* Not an overlap: a common prefix that is not a parent. */
        {
                struct level_config *l = new_config();
                struct jail_error err = { "" };
                assert_int_equal(parse(l, "[level]\nusers = alice\n[filesystem]\nsystem = /usr\ndata = /usrdata\n", &err), 0);
                assert_int_equal(level_validate(l, &err), 0);
                free(l);
        }
        expect_invalid("[level]\nusers = alice\n[filesystem]\nsystem = /\ndata = /srv/x\n", "test.conf:5:",
                       "overlaps system path /");
        expect_invalid("[level]\nusers = alice\n[filesystem]\nsystem = /usr /dev\n[devices]\nallow = /dev/null\n",
                       "test.conf:6: [devices] allow:", "inside system path /dev");
        expect_invalid("[level]\nlabel = x\n", "test.conf: [level] users:", "no users cannot be logged into");
        expect_invalid("[level]\nusers = alice\n[service a]\nexec = /usr/bin/a\nuser = bob\n",
                       "test.conf:5: [service a] user:", "'bob', who is not a user of this level");
        expect_invalid("[service a]\nexec = /usr/bin/a\nuser = 1001\n[level]\nusers = bob\n", "test.conf:3:",
                       "not a user of this level");
        /* Users listed after the service are fine, by name or number. */
        {
                struct level_config *l = new_config();
                struct jail_error err = { "" };
                assert_int_equal(parse(l, "[service a]\nexec = /usr/bin/a\nuser = 1001\n[level]\nusers = alice\n", &err), 0);
                assert_int_equal(level_validate(l, &err), 0);
                free(l);
        }
}

/* A failed parse never gives a half-filled config: the previous good one
 * stays exactly as it was, service argv included. */
static void test_failed_parse_keeps_previous(void **state) {
        struct level_config *l = new_config(), *before = malloc(sizeof *before);
        struct jail_error err = { "" };

        (void) state;
        assert_non_null(before);
        assert_int_equal(parse(l, full_text, &err), 0);
        memcpy(before, l, sizeof *l);
        assert_int_equal(parse(l, "[level]\nusers = bob\ncolour = green\n[filesystem]\ndata = /srv\n[network]\nmode = veth\n", &err),
                         -EINVAL);
        assert_memory_equal(l, before, sizeof *l);
        assert_int_equal(l->services[0].argv[0], l->services[0].exec_words);
        /* Also when the error is found only at the end (service without user). */
        assert_int_equal(parse(l, "[level]\nusers = bob\n[service x]\nexec = /bin/x\n", &err), -EINVAL);
        assert_memory_equal(l, before, sizeof *l);
        free(before);
        free(l);
}

static void test_rebase(void **state) {
        struct level_config *l = new_config(), *copy = malloc(sizeof *copy);
        struct jail_error err = { "" };

        (void) state;
        assert_non_null(copy);
        assert_int_equal(parse(l, full_text, &err), 0);
        memcpy(copy, l, sizeof *l);
        level_config_rebase(copy);
        for (unsigned i = 0; i < copy->n_services; i++) {
                assert_true(copy->services[i].argv[0] == copy->services[i].exec_words);
                assert_int_equal(copy->services[i].argc, l->services[i].argc);
                for (unsigned k = 0; k < copy->services[i].argc; k++)
                        assert_string_equal(copy->services[i].argv[k], l->services[i].argv[k]);
        }
        free(copy);
        free(l);
}

/* ---- directories of levels ---- */

static void write_file(const char *dir, const char *name, const char *text) {
        char path[512];
        FILE *f;

        (void) snprintf(path, sizeof path, "%s/%s", dir, name);
        f = fopen(path, "we");
        assert_non_null(f);
        assert_int_equal(fputs(text, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        (void) st;
        (void) ftw;
        return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void remove_tree(const char *dir) {
        /* Only our own mkdtemp directory; symbolic links are not followed. */
        assert_non_null(strstr(dir, "/rempart-test-level."));
        assert_int_equal(nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static void make_tmpdir(char *dir, size_t size) {
        const char *tmp = getenv("TMPDIR");
        (void) snprintf(dir, size, "%s/rempart-test-level.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
        assert_non_null(mkdtemp(dir));
}

static void test_set_load(void **state) {
        struct level_set *set = malloc(sizeof *set);
        const struct level_entry *e;
        char dir[256], sub[300];

        (void) state;
        assert_non_null(set);
        make_tmpdir(dir, sizeof dir);
        write_file(dir, "low.conf", "[level]\nlabel = Low\ncolour = green\nusers = alice\n");
        write_file(dir, "high.conf", "[level]\nlabel = High\ncolour = red\nusers = bob\n");
        /* a's data contains b's: both refused, the others untouched. */
        write_file(dir, "a.conf", "[level]\nusers = alice\n[filesystem]\ndata = /srv/levels\n");
        write_file(dir, "b.conf", "[level]\nusers = alice\n[filesystem]\n\ndata = /srv/levels/b\n");
        /* c and d: the same data (d by default). */
        write_file(dir, "c.conf", "[level]\nusers = alice\n[filesystem]\ndata = /var/lib/rempart/levels/d\n");
        write_file(dir, "d.conf", "[level]\nusers = alice\n");
        write_file(dir, "broken.conf", "[level]\nusers = alice\ncolour = purple\n");
        write_file(dir, "Bad.conf", "[level]\nusers = alice\n");
        write_file(dir, "README", "not a level\n");
        write_file(dir, "low.conf~", "editor backup\n");
        write_file(dir, "low.conf.dpkg-old", "package backup\n");
        (void) snprintf(sub, sizeof sub, "%s/dir.conf", dir);
        assert_int_equal(mkdir(sub, 0755), 0);
        (void) snprintf(sub, sizeof sub, "%s/link.conf", dir);
        assert_int_equal(symlink("low.conf", sub), 0);

        assert_int_equal(level_set_load(set, dir, &fake_db), 0);
        assert_int_equal(set->n_levels, 10);
        /* Sorted by name (byte order: upper case first). */
        assert_string_equal(set->levels[0].config.name, "");   /* Bad */
        assert_string_equal(set->levels[1].config.name, "a");
        assert_string_equal(set->levels[2].config.name, "b");
        assert_string_equal(set->levels[3].config.name, "broken");
        assert_string_equal(set->levels[4].config.name, "c");
        assert_string_equal(set->levels[5].config.name, "d");
        assert_string_equal(set->levels[6].config.name, "dir");
        assert_string_equal(set->levels[7].config.name, "high");
        assert_string_equal(set->levels[8].config.name, "link");
        assert_string_equal(set->levels[9].config.name, "low");

        assert_false(set->levels[0].ok);
        check_msg(set->levels[0].error.msg, "Bad.conf", "invalid level name 'Bad'");

        e = level_set_find(set, "a");
        assert_non_null(e);
        assert_false(e->ok);
        check_msg(e->error.msg, "a.conf:4: [filesystem] data:", "contains the data directory /srv/levels/b of level 'b'");
        check_msg(e->error.msg, "b.conf", NULL);
        e = level_set_find(set, "b");
        assert_false(e->ok);
        check_msg(e->error.msg, "b.conf:5: [filesystem] data:", "is inside the data directory /srv/levels of level 'a'");
        check_msg(e->error.msg, "a.conf", NULL);
        e = level_set_find(set, "c");
        assert_false(e->ok);
        check_msg(e->error.msg, "c.conf:4:", "is the same as the data directory /var/lib/rempart/levels/d of level 'd'");
        e = level_set_find(set, "d");
        assert_false(e->ok);
        check_msg(e->error.msg, "d.conf: [filesystem] data:", "c.conf");

        e = level_set_find(set, "broken");
        assert_false(e->ok);
        check_msg(e->error.msg, "broken.conf:3: [level] colour:", "purple");
        /* A refused level is only its defaults: nobody may log into it. */
        assert_int_equal(e->config.n_users, 0);
        assert_false(level_user_allowed(&e->config, 1001));
        check_msg(e->config.path, "broken.conf", NULL);

        e = level_set_find(set, "dir");
        assert_false(e->ok);
        check_msg(e->error.msg, "dir.conf", "not a regular file");
        e = level_set_find(set, "link");
        assert_false(e->ok);
        check_msg(e->error.msg, "link.conf", "symbolic links");

        e = level_set_find(set, "high");
        assert_non_null(e);
        assert_true(e->ok);
        assert_string_equal(e->config.label, "High");
        assert_true(level_user_allowed(&e->config, 1002));
        e = level_set_find(set, "low");
        assert_true(e->ok);
        assert_int_equal(e->config.colour, LEVEL_COLOUR_GREEN);
        assert_string_equal(e->config.data, "/var/lib/rempart/levels/low");

        assert_null(level_set_find(set, "nosuch"));
        assert_null(level_set_find(set, ""));
        remove_tree(dir);
        free(set);
}

static void test_set_limits(void **state) {
        struct level_set *set = malloc(sizeof *set);
        struct level_config *l = new_config();
        struct jail_error err = { "" };
        char dir[256], name[32], path[300];

        (void) state;
        assert_non_null(set);
        assert_int_equal(level_set_load(set, "/nonexistent-rempart-dir", &fake_db), -ENOENT);
        assert_int_equal(set->n_levels, 0);

        make_tmpdir(dir, sizeof dir);
        assert_int_equal(level_set_load(set, dir, &fake_db), 0);
        assert_int_equal(set->n_levels, 0);
        for (unsigned i = 0; i < LEVEL_MAX_LEVELS; i++) {
                (void) snprintf(name, sizeof name, "l%02u.conf", i);
                write_file(dir, name, "[level]\nusers = alice\n");
        }
        assert_int_equal(level_set_load(set, dir, &fake_db), 0);
        assert_int_equal(set->n_levels, LEVEL_MAX_LEVELS);
        for (unsigned i = 0; i < LEVEL_MAX_LEVELS; i++)
                assert_true(set->levels[i].ok);

        /* level_parse_file derives the name from the file. */
        (void) snprintf(path, sizeof path, "%s/l03.conf", dir);
        assert_int_equal(level_parse_file(l, path, &fake_db, &err), 0);
        assert_string_equal(l->name, "l03");
        assert_string_equal(l->path, path);

        write_file(dir, "zz.conf", "[level]\nusers = alice\n");
        assert_int_equal(level_set_load(set, dir, &fake_db), -E2BIG);
        assert_int_equal(set->n_levels, 0);
        remove_tree(dir);
        free(set);
        free(l);
}

/* Without a userdb, names go to getpwnam_r; numeric uids never do. */
static void test_system_userdb(void **state) {
        struct level_config *l = new_config();
        struct jail_error err = { "" };
        const char *text = "[level]\nusers = 4242\n";

        (void) state;
        assert_int_equal(level_parse_buffer(l, "x", "x.conf", text, strlen(text), NULL, &err), 0);
        assert_int_equal(l->users[0].uid, 4242);
        text = "[level]\nusers = rempart-no-such-user\n";
        assert_int_equal(level_parse_buffer(l, "x", "x.conf", text, strlen(text), NULL, &err), -EINVAL);
        check_msg(err.msg, "x.conf:2:", "rempart-no-such-user");
        free(l);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_colours),
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_full),
                cmocka_unit_test(test_defaults_replaced_and_lists),
                cmocka_unit_test(test_unknown),
                cmocka_unit_test(test_duplicates),
                cmocka_unit_test(test_bad_values),
                cmocka_unit_test(test_users),
                cmocka_unit_test(test_services),
                cmocka_unit_test(test_too_many),
                cmocka_unit_test(test_syntax),
                cmocka_unit_test(test_bad_level_names),
                cmocka_unit_test(test_validate),
                cmocka_unit_test(test_failed_parse_keeps_previous),
                cmocka_unit_test(test_rebase),
                cmocka_unit_test(test_set_load),
                cmocka_unit_test(test_set_limits),
                cmocka_unit_test(test_system_userdb),
        };
        return cmocka_run_group_tests_name("level-config", tests, NULL, NULL);
}
