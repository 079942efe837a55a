/* SPDX-License-Identifier: MIT */
/* Unit tests of the profile parser and validator: defaults, every kind of
 * bad input (message names file, line and key; the profile is unchanged),
 * W^X refusals and conflicts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "profile.h"

static struct jail_profile *new_default(void) {
        struct jail_profile *p = malloc(sizeof *p);
        assert_non_null(p);
        profile_init_default(p);
        return p;
}

static int parse(struct jail_profile *p, const char *text, struct jail_error *err) {
        return profile_parse_buffer(p, "test.profile", text, strlen(text), err);
}

/* Parse text that must fail; check the message mentions each needle and
 * that the profile was left exactly as it was. */
static void expect_error(const char *text, const char *needle1, const char *needle2) {
        struct jail_profile *p = new_default(), *before = new_default();
        struct jail_error err = { "" };

        assert_int_equal(parse(p, text, &err), -EINVAL);
        if (!strstr(err.msg, needle1) || (needle2 && !strstr(err.msg, needle2)))
                fail_msg("error message '%s' lacks '%s'/'%s'", err.msg, needle1, needle2 ? needle2 : "");
        assert_memory_equal(p, before, sizeof *p);
        free(p);
        free(before);
}

static void test_defaults_validate(void **state) {
        struct jail_profile *p = new_default();
        struct jail_error err = { "" };

        (void) state;
        assert_int_equal(profile_validate(p, false, &err), 0);
        assert_int_equal(p->uid, 65534);
        assert_true(p->seccomp && p->landlock && p->cgroup && p->mdwe && p->exec_securebits);
        assert_int_equal(p->net, JAIL_NET_NONE);
        assert_true(p->private_tmp);
        assert_int_equal(p->sys, JAIL_SYS_NONE);
        assert_int_equal(p->n_caps_keep, 0);
        free(p);
}

static void test_parse_full(void **state) {
        struct jail_profile *p = new_default();
        struct jail_error err = { "" };
        const char *text = "# comment\n"
                           "[profile]\nname = web\nmode = strict\n"
                           "[namespaces]\nuser = yes\nuid_map = 0 100000 2000\ngid_map = 0 100000 2000\n"
                           "time = yes\ntime_offset_boottime = -3600\nhostname = web-1\n"
                           "[filesystem]\nrw = /var/lib/web:/data\ntmpfs = /run/web:16M\nro_noexec = /etc/ssl\n"
                           "[credentials]\nuser = 1000\ngroup = 1000\ncaps = CAP_NET_BIND_SERVICE\n"
                           "[environment]\nkeep = TZ\nset = MODE=prod\n"
                           "[fds]\nkeep = 3 4\n"
                           "[rlimits]\nnofile = 512:1024\nas = infinity\n"
                           "[landlock]\ntcp_bind = 80 443\ntcp_connect = 5432\n"
                           "[seccomp]\ndeny = ptrace\nerrno = EACCES\n"
                           "[cgroup]\nmemory_max = 512M\nmemory_swap_max = 0\npids_max = 64\ncpu_max = 50%\n"
                           "cpu_weight = 200\nio_weight = 50\n";

        (void) state;
        assert_int_equal(parse(p, text, &err), 0);
        assert_string_equal(p->name, "web");
        assert_int_equal(p->mode, JAIL_MODE_STRICT);
        assert_true(p->userns);
        assert_int_equal(p->n_uid_map, 1);
        assert_int_equal(p->uid_map[0].outside, 100000);
        assert_int_equal(p->uid_map[0].count, 2000);
        assert_int_equal(p->time_offset_boottime, -3600);
        assert_int_equal(p->uid, 1000);
        assert_int_equal(p->n_caps_keep, 1);
        assert_int_equal(p->n_fds_keep, 2);
        assert_true(p->rlimits[RLIMIT_NOFILE].set);
        assert_int_equal(p->rlimits[RLIMIT_NOFILE].soft, 512);
        assert_int_equal(p->rlimits[RLIMIT_AS].hard, RLIM_INFINITY);
        assert_int_equal(p->n_tcp_bind, 2);
        assert_int_equal(p->seccomp_errno, EACCES);
        assert_int_equal(p->memory_max, 512ULL << 20);
        assert_true(p->memory_swap_max_set);
        assert_int_equal(p->memory_swap_max, 0);
        assert_int_equal(p->pids_max, 64);
        assert_int_equal(p->cpu_quota_us, 50000);
        assert_int_equal(p->cpu_period_us, 100000);
        assert_int_equal(p->origins[profile_key_index("cgroup", "pids_max")].line, 37);
        assert_int_equal(profile_validate(p, false, &err), 0);
        free(p);
}

static void test_unknown_key(void **state) {
        (void) state;
        expect_error("[filesystem]\nro = /usr\nbogus = 1\n", "test.profile:3:", "unknown key 'bogus'");
}

static void test_unknown_section(void **state) {
        (void) state;
        expect_error("\n[nosuch]\nkey = 1\n", "test.profile:3:", "unknown section");
}

static void test_key_outside_section(void **state) {
        (void) state;
        expect_error("name = x\n", "test.profile:1:", "outside");
}

static void test_malformed_values(void **state) {
        (void) state;
        expect_error("[namespaces]\nuser = maybe\n", "test.profile:2:", "[namespaces] user");
        expect_error("[cgroup]\nmemory_max = lots\n", ":2:", "memory_max");
        expect_error("[cgroup]\npids_max = 0\n", ":2:", "pids_max");
        expect_error("[cgroup]\ncpu_max = 10 20\n", ":2:", "out of range");
        expect_error("[rlimits]\nnofile = 10:5\n", ":2:", "above the hard");
        expect_error("[credentials]\nuser = 4294967295\n", ":2:", "numeric id");
        expect_error("[credentials]\ncaps = CAP_FLY\n", ":2:", "unknown capability");
        expect_error("[namespaces]\nuid_map = 0 0\n", ":2:", "INSIDE OUTSIDE COUNT");
        expect_error("[namespaces]\nhostname = bad_host!\n", ":2:", "hostname");
        expect_error("[landlock]\ntcp_bind = 70000\n", ":2:", "port");
        expect_error("[seccomp]\nerrno = 0\n", ":2:", "errno");
        expect_error("[filesystem]\nro = usr\n", ":2:", "absolute");
        expect_error("[filesystem]\nro = /usr/../etc\n", ":2:", "absolute");
        expect_error("[devices]\nallow = /etc/passwd\n", ":2:", "/dev");
        expect_error("[fds]\nkeep = 2\n", ":2:", "file descriptor");
        expect_error("[seccomp]\ndeny = ptrace\ndeny = not_a_syscall\n", "test.profile:3:", "unknown system call 'not_a_syscall'");
        expect_error("[seccomp]\ndeny = exit_group\n", "test.profile:2:", "cannot be denied");
}

static void test_duplicate_scalar(void **state) {
        (void) state;
        expect_error("[namespaces]\nuser = yes\n\nuser = no\n", "test.profile:4:", "duplicate");
}

static void test_syntax_error(void **state) {
        (void) state;
        expect_error("[filesystem]\nro /usr\n", "test.profile:2:", "expected");
        expect_error("[filesystem\n", "test.profile:1:", "expected");
}

static void test_long_line(void **state) {
        char text[600];
        (void) state;
        (void) snprintf(text, sizeof text, "[environment]\nset = A=%0400d\n", 1);
        expect_error(text, "test.profile:2:", "too long");
}

static void test_wx_refused(void **state) {
        (void) state;
        expect_error("[filesystem]\nrw = /srv/data:/data:exec\n", ":2:", "W^X");
        expect_error("[filesystem]\nrw_exec = /srv/data\n", ":2:", "W^X");
        expect_error("[filesystem]\ntmpfs = /scratch:exec\n", ":2:", "W^X");
        expect_error("[filesystem]\ntmp = exec\n", ":2:", "W^X");
        expect_error("[filesystem]\nsys = rw\n", ":2:", "writable /sys");
}

static void expect_invalid(const char *text, const char *needle) {
        struct jail_profile *p = new_default();
        struct jail_error err = { "" };

        assert_int_equal(parse(p, text, &err), 0);
        assert_int_equal(profile_validate(p, false, &err), -EINVAL);
        if (!strstr(err.msg, needle))
                fail_msg("validation message '%s' lacks '%s'", err.msg, needle);
        free(p);
}

static void test_conflicts(void **state) {
        (void) state;
        expect_invalid("[namespaces]\nuid_map = 0 1000 1\n", "test.profile:2: [namespaces] uid_map");
        expect_invalid("[namespaces]\ntime_offset_boottime = 5\n", "time namespace");
        expect_invalid("[landlock]\nnetwork = no\ntcp_connect = 443\n", "test.profile:3");
        expect_invalid("[seccomp]\nallow = read\n", "allowlist");
        expect_invalid("[seccomp]\nmode = allowlist\n", "non-empty");
        expect_invalid("[cgroup]\nenabled = no\nmemory_max = 1G\n", "test.profile:3");
        expect_invalid("[filesystem]\nro = /usr:/proc/x\n", "managed by the jail");
        expect_invalid("[filesystem]\nrw = /srv:/tmp/x\n", "private /tmp");
        expect_invalid("[filesystem]\nro = /opt:/usr\n", "already a mount point");
        expect_invalid("[namespaces]\nuser = yes\nuid_map = 0 100000 10\ngid_map = 0 100000 10\n", "not mapped");
        expect_invalid("[namespaces]\nuser = yes\nuid_map = 1 100000 65536\ngid_map = 0 100000 65536\n", "id 0 inside");
        expect_invalid("[namespaces]\nuser = yes\n", "needs uid_map");
        expect_invalid("[namespaces]\nuser = yes\nnet = blue\n", "user namespace");
        expect_invalid("[filesystem]\nrw = /srv:/usr/local/data\n", "inside the executable bind '/usr'");
        expect_invalid("[filesystem]\ntmpfs = /usr/cache\n", "W^X");
        expect_invalid("[filesystem]\nro = /opt:/usr\n", "set by built-in default profile)");
}

static void test_host_checks(void **state) {
        struct jail_profile *p = new_default();
        struct jail_error err = { "" };

        (void) state;
        assert_int_equal(parse(p, "[filesystem]\nro = /nonexistent-rempart-path\n", &err), 0);
        assert_int_equal(profile_validate(p, true, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "test.profile:2:"));
        assert_non_null(strstr(err.msg, "/nonexistent-rempart-path"));
        free(p);

        /* An executable bind overlapping a writable one is W^X too. */
        p = new_default();
        assert_int_equal(parse(p, "[filesystem]\nrw = /usr/share:/data\n", &err), 0);
        assert_int_equal(profile_validate(p, true, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "W^X"));
        free(p);

        /* Optional sources that are missing are dropped silently. */
        p = new_default();
        assert_int_equal(parse(p, "[filesystem]\nro = ?/nonexistent-rempart-path:/opt\n", &err), 0);
        assert_int_equal(profile_validate(p, true, &err), 0);
        for (unsigned i = 0; i < p->n_mounts; i++)
                assert_string_not_equal(p->mounts[i].dst, "/opt");
        free(p);

        /* Devices: a regular file is refused. */
        p = new_default();
        assert_int_equal(parse(p, "[devices]\nallow = /dev/nonexistent-rempart\n", &err), 0);
        assert_int_equal(profile_validate(p, true, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "/dev/nonexistent-rempart"));
        free(p);
}

static void test_mount_order(void **state) {
        struct jail_profile *p = new_default();
        struct jail_error err = { "" };
        int a = -1, b = -1;

        (void) state;
        assert_int_equal(parse(p, "[filesystem]\nro = /usr/share:/opt/x/y\nro = /usr/lib:/opt/x\n", &err), 0);
        assert_int_equal(profile_validate(p, false, &err), 0);
        for (unsigned i = 0; i < p->n_mounts; i++) {
                if (strcmp(p->mounts[i].dst, "/opt/x") == 0)
                        a = (int) i;
                if (strcmp(p->mounts[i].dst, "/opt/x/y") == 0)
                        b = (int) i;
        }
        assert_true(a >= 0 && b > a);
        free(p);
}

/* A written-out default profile read on top of the defaults changes
 * nothing; "clear" starts a file system view from scratch. */
static void test_default_profile_idempotent(void **state) {
        struct jail_profile *p = new_default(), *q = new_default();
        struct jail_error err = { "" };
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        (void) state;
        assert_non_null(f);
        assert_int_equal(profile_dump(p, f), 0);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(profile_parse_buffer(q, "dump", buf, len, &err), 0);
        assert_int_equal(q->n_mounts, p->n_mounts);
        assert_int_equal(q->n_devices, p->n_devices);
        assert_int_equal(q->n_env_keep, p->n_env_keep);
        assert_int_equal(q->n_env_set, p->n_env_set);
        assert_int_equal(profile_validate(q, false, &err), 0);
        free(buf);

        assert_int_equal(parse(p, "[filesystem]\nclear = yes\nro = /usr:/usr\n", &err), 0);
        assert_int_equal(p->n_mounts, 1);
        assert_int_equal(parse(p, "[environment]\nclear = yes\n", &err), 0);
        assert_int_equal(p->n_env_keep + p->n_env_set, 0);
        free(p);
        free(q);
}

/* --print-profile output read back gives the same profile, also when the
 * profile dropped built-in entries (clear) or limits (max). */
static void test_dump_round_trip(void **state) {
        struct jail_profile *p = new_default(), *q = new_default();
        struct jail_error err = { "" };
        char *a = NULL, *b = NULL;
        size_t la = 0, lb = 0;
        FILE *f;

        (void) state;
        assert_int_equal(parse(p, "[filesystem]\nclear = yes\nro = /usr:/usr\n[environment]\nclear = yes\n"
                                  "[cgroup]\npids_max = max\n", &err), 0);
        f = open_memstream(&a, &la);
        assert_non_null(f);
        assert_int_equal(profile_dump(p, f), 0);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(profile_parse_buffer(q, "dump", a, la, &err), 0);
        f = open_memstream(&b, &lb);
        assert_non_null(f);
        assert_int_equal(profile_dump(q, f), 0);
        assert_int_equal(fclose(f), 0);
        assert_string_equal(a, b);
        assert_int_equal(q->n_mounts, 1);
        assert_false(q->pids_max_set);
        free(a);
        free(b);
        free(p);
        free(q);
}

static void test_max_means_unset(void **state) {
        struct jail_profile *p = new_default();
        struct jail_error err = { "" };

        (void) state;
        assert_true(p->pids_max_set);
        assert_int_equal(parse(p, "[cgroup]\npids_max = max\nmemory_max = max\n", &err), 0);
        assert_false(p->pids_max_set);
        assert_false(p->memory_max_set);
        free(p);
}

static void test_cli_origin(void **state) {
        struct jail_profile *p = new_default();
        struct jail_error err = { "" };
        struct jail_origin o = { .file = "command line", .key = "--rw" };

        (void) state;
        assert_int_equal(profile_set(p, "filesystem", "rw", "/srv:/srv:exec", &o, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "command line: --rw:"));
        free(p);
}

static void test_dump_parses(void **state) {
        struct jail_profile *p = new_default();
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        (void) state;
        assert_non_null(f);
        assert_int_equal(profile_dump(p, f), 0);
        assert_int_equal(fclose(f), 0);
        assert_non_null(strstr(buf, "[seccomp]"));
        assert_non_null(strstr(buf, "ro = /usr:/usr"));
        free(buf);
        free(p);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults_validate), cmocka_unit_test(test_parse_full),
                cmocka_unit_test(test_unknown_key),       cmocka_unit_test(test_unknown_section),
                cmocka_unit_test(test_key_outside_section), cmocka_unit_test(test_malformed_values),
                cmocka_unit_test(test_duplicate_scalar),  cmocka_unit_test(test_syntax_error),
                cmocka_unit_test(test_long_line),         cmocka_unit_test(test_wx_refused),
                cmocka_unit_test(test_conflicts),         cmocka_unit_test(test_host_checks),
                cmocka_unit_test(test_mount_order),       cmocka_unit_test(test_cli_origin),
                cmocka_unit_test(test_dump_parses),       cmocka_unit_test(test_default_profile_idempotent),
                cmocka_unit_test(test_max_means_unset),   cmocka_unit_test(test_dump_round_trip),
        };
        return cmocka_run_group_tests_name("profile", tests, NULL, NULL);
}
