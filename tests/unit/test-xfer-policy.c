/* SPDX-License-Identifier: MIT */
/* Unit tests of the transfer policy (src/xfer/policy.h): the shipped
 * default policy, first match wins (within a file and across files in name
 * order), user/uid/group matching, quotas, every class of parse error (the
 * whole policy then denies everything, and says FILE:LINE: why), loading
 * directories (empty, missing, symbolic links, odd files) and bounds.
 * Users, groups and levels come from a fake database: alice (1001), bob
 * (1002), carol (1003); groups staff (50), wheel (10); levels low, high,
 * mid, secret.  The host's passwd is only read by test_system_lookup. */
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

#include "policy.h"

#ifndef REMPART_SOURCE_ROOT /* set by tests/unit/meson.build */
#define REMPART_SOURCE_ROOT "."
#endif
#define DEFAULT_POLICY REMPART_SOURCE_ROOT "/image/overlay/etc/rempart/policy.d/10-default.policy"

/* ---- fake databases ---- */

static int fake_user(const char *name, uid_t *uid, void *userdata) {
        static const struct {
                const char *name;
                uid_t uid;
        } users[] = { { "alice", 1001 }, { "bob", 1002 }, { "carol", 1003 }, { "nobody4", 4294967295U } };

        (void) userdata;
        if (strcmp(name, "broken") == 0)
                return -EIO;
        if (strcmp(name, "nomem") == 0)
                return -ENOMEM;
        for (size_t i = 0; i < sizeof users / sizeof users[0]; i++)
                if (strcmp(users[i].name, name) == 0) {
                        *uid = users[i].uid;
                        return 0;
                }
        return -ENOENT;
}

static int fake_group(const char *name, gid_t *gid, void *userdata) {
        (void) userdata;
        if (strcmp(name, "staff") == 0) {
                *gid = 50;
                return 0;
        }
        if (strcmp(name, "wheel") == 0) {
                *gid = 10;
                return 0;
        }
        if (strcmp(name, "broken") == 0)
                return -EIO;
        return -ENOENT;
}

static int fake_level(const char *name, void *userdata) {
        static const char *const levels[] = { "low", "high", "mid", "secret" };

        (void) userdata;
        if (strcmp(name, "broken") == 0)
                return -EIO;
        if (strcmp(name, "nomem") == 0)
                return -ENOMEM;
        for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
                if (strcmp(levels[i], name) == 0)
                        return 1;
        return 0;
}

static const struct xfer_lookup fake_lk = { fake_user, fake_group, fake_level, NULL };
/* Level names checked for syntax only. */
static const struct xfer_lookup fake_lk_any_level = { fake_user, fake_group, NULL, NULL };

/* ---- helpers ---- */

static struct xfer_policy *policy_from(const char *text) {
        struct xfer_policy *p = NULL;

        assert_int_equal(xfer_policy_new(&p), 0);
        if (xfer_policy_parse_buffer(p, "test.policy", text, strlen(text), &fake_lk) != 0)
                fail_msg("parse failed: %s", xfer_policy_error(p));
        assert_null(xfer_policy_error(p));
        return p;
}

static enum xfer_verdict decide(const struct xfer_policy *p, const char *src, const char *dst, uid_t uid,
                                struct xfer_decision *d) {
        struct xfer_request_id q = {
                .source = src, .target = dst, .op = XFER_OP_COPY, .uid = uid, .gid = uid,
        };
        return xfer_policy_decide(p, &q, d);
}

/* Every request of a small matrix is denied, with the policy's error as
 * reason. */
static void assert_denies_everything(const struct xfer_policy *p) {
        static const char *const levels[] = { "low", "high", "mid", "secret", "other" };
        static const uid_t uids[] = { 1001, 1002, 1003, 50, 0 };
        static const gid_t groups[] = { 10, 50 };

        for (size_t i = 0; i < 5; i++)
                for (size_t j = 0; j < 5; j++)
                        for (size_t k = 0; k < 5; k++) {
                                struct xfer_request_id q = {
                                        .source = levels[i], .target = levels[j], .op = XFER_OP_COPY,
                                        .uid = uids[k], .gid = uids[k], .groups = groups, .n_groups = 2,
                                };
                                struct xfer_decision d;

                                memset(&d, 0x5a, sizeof d);
                                assert_int_equal(xfer_policy_decide(p, &q, &d), XFER_DENY);
                                assert_int_equal(d.verdict, XFER_DENY);
                                assert_int_equal(d.max_bytes, 0);
                                assert_int_equal(d.max_files, 0);
                                assert_int_equal(d.line, 0);
                                assert_string_equal(d.file, "");
                                if (i != j && xfer_policy_error(p) && !strstr(d.reason, xfer_policy_error(p)))
                                        fail_msg("reason '%s' lacks the policy error", d.reason);
                        }
}

/* text must fail on line `line` with a message containing needle; the
 * policy then denies everything. */
static void expect_error_lk(const char *text, size_t len, unsigned line, const char *needle,
                            const struct xfer_lookup *lk) {
        struct xfer_policy *p = NULL;
        char prefix[64];
        const char *e;

        assert_int_equal(xfer_policy_new(&p), 0);
        assert_int_equal(xfer_policy_parse_buffer(p, "test.policy", text, len, lk), -EINVAL);
        e = xfer_policy_error(p);
        assert_non_null(e);
        (void) snprintf(prefix, sizeof prefix, "test.policy:%u: ", line);
        if (strncmp(e, prefix, strlen(prefix)) != 0 || !strstr(e, needle))
                fail_msg("error '%s' lacks '%s' or '%s'", e, prefix, needle);
        assert_int_equal(xfer_policy_n_rules(p), 0);
        assert_denies_everything(p);
        xfer_policy_free(p);
}

static void expect_error(const char *text, unsigned line, const char *needle) {
        expect_error_lk(text, strlen(text), line, needle, &fake_lk);
}

static char *read_text(const char *path) {
        FILE *f = fopen(path, "re");
        char *buf = calloc(1, 65536);
        size_t n;

        assert_non_null(f);
        assert_non_null(buf);
        n = fread(buf, 1, 65535, f);
        assert_true(n > 0 && n < 65535);
        assert_int_equal(fclose(f), 0);
        return buf;
}

/* ---- directories ---- */

static char tmpdir[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) flag;
        (void) ftw;
        return remove(path);
}

static void make_dir(void) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/test-xfer-policy.XXXXXX");
        assert_non_null(mkdtemp(tmpdir));
}

static void remove_dir(void) {
        assert_int_equal(nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static void write_file(const char *name, const char *text, mode_t mode) {
        char path[256];
        int fd;

        snprintf(path, sizeof path, "%s/%s", tmpdir, name);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        assert_int_equal(fchmod(fd, mode), 0);
        assert_int_equal(close(fd), 0);
}

static struct xfer_policy *load_dir(void) {
        struct xfer_policy *p = NULL;

        assert_int_equal(xfer_policy_load(tmpdir, &fake_lk, &p), 0);
        assert_non_null(p);
        return p;
}

static void expect_load_error(const char *needle) {
        struct xfer_policy *p = load_dir();
        const char *e = xfer_policy_error(p);

        if (!e || !strstr(e, needle))
                fail_msg("load error '%s' lacks '%s'", e ? e : "(none)", needle);
        assert_denies_everything(p);
        xfer_policy_free(p);
}

/* ---- tests ---- */

static void test_names(void **state) {
        (void) state;
        assert_true(xfer_level_name_valid("low"));
        assert_true(xfer_level_name_valid("a-b_2"));
        assert_true(xfer_level_name_valid("abcdefghijklmnopqrstuvwxyz01234"));
        assert_false(xfer_level_name_valid("abcdefghijklmnopqrstuvwxyz012345"));
        assert_false(xfer_level_name_valid(""));
        assert_false(xfer_level_name_valid(NULL));
        assert_false(xfer_level_name_valid("*"));
        assert_false(xfer_level_name_valid("High"));
        assert_false(xfer_level_name_valid("1low"));
        assert_string_equal(xfer_verdict_name(XFER_ALLOW), "allow");
        assert_string_equal(xfer_verdict_name(XFER_DENY), "deny");
        assert_string_equal(xfer_verdict_name(XFER_CONFIRM), "confirm");
        assert_string_equal(xfer_verdict_name((enum xfer_verdict) 42), "deny");
        assert_string_equal(xfer_op_name(XFER_OP_COPY), "copy");
        assert_string_equal(xfer_op_name((enum xfer_op) 42), "?");
}

/* The policy shipped in the image: upward allowed, downward confirmed,
 * everything else denied. */
static void test_default_policy(void **state) {
        char *text = read_text(DEFAULT_POLICY);
        struct xfer_policy *p = NULL;
        struct xfer_decision d;

        (void) state;
        assert_int_equal(xfer_policy_new(&p), 0);
        assert_int_equal(xfer_policy_parse_buffer(p, "10-default.policy", text, strlen(text), &fake_lk), 0);
        assert_null(xfer_policy_error(p));
        assert_int_equal(xfer_policy_n_rules(p), 2);

        assert_int_equal(decide(p, "low", "high", 1001, &d), XFER_ALLOW);
        assert_int_equal(d.verdict, XFER_ALLOW);
        assert_int_equal(d.max_bytes, XFER_DEFAULT_MAX_BYTES);
        assert_int_equal(d.max_files, XFER_DEFAULT_MAX_FILES);
        assert_string_equal(d.file, "10-default.policy");
        assert_true(d.line > 0);
        assert_non_null(strstr(d.reason, "allowed by 10-default.policy:"));

        assert_int_equal(decide(p, "high", "low", 1002, &d), XFER_CONFIRM);
        assert_int_equal(d.max_bytes, XFER_DEFAULT_MAX_BYTES);
        assert_non_null(strstr(d.reason, "confirmation"));

        /* Levels the policy does not name, same level, invalid names. */
        assert_int_equal(decide(p, "low", "mid", 1001, &d), XFER_DENY);
        assert_string_equal(d.reason, "denied: no rule matches (default deny)");
        assert_int_equal(d.max_bytes + d.max_files + d.line, 0);
        assert_int_equal(decide(p, "mid", "high", 1001, NULL), XFER_DENY);
        assert_int_equal(decide(p, "nosuch", "high", 1001, NULL), XFER_DENY);
        assert_int_equal(decide(p, "high", "high", 1001, &d), XFER_DENY);
        assert_non_null(strstr(d.reason, "same level"));
        assert_int_equal(decide(p, "low", "low", 1001, NULL), XFER_DENY);
        assert_int_equal(decide(p, "Low", "high", 1001, &d), XFER_DENY);
        assert_non_null(strstr(d.reason, "invalid request"));
        assert_int_equal(decide(p, "low", "high/../x", 1001, NULL), XFER_DENY);
        assert_int_equal(decide(p, "", "high", 1001, NULL), XFER_DENY);
        assert_int_equal(decide(p, NULL, "high", 1001, NULL), XFER_DENY);
        xfer_policy_free(p);
        free(text);
}

static void test_no_policy(void **state) {
        struct xfer_decision d;
        struct xfer_policy *p = NULL;

        (void) state;
        assert_int_equal(decide(NULL, "low", "high", 1001, &d), XFER_DENY);
        assert_non_null(strstr(d.reason, "no transfer policy"));
        assert_non_null(xfer_policy_error(NULL));
        assert_int_equal(xfer_policy_n_rules(NULL), 0);
        xfer_policy_free(NULL);

        /* Empty text, only comments: no rules, not an error, denies. */
        p = policy_from("");
        assert_int_equal(xfer_policy_n_rules(p), 0);
        assert_int_equal(decide(p, "low", "high", 1001, &d), XFER_DENY);
        assert_string_equal(d.reason, "denied: no rule matches (default deny)");
        xfer_policy_free(p);
        p = policy_from("# nothing\n\n   \t\n#allow low high\n");
        assert_int_equal(xfer_policy_n_rules(p), 0);
        xfer_policy_free(p);
}

static void test_bad_requests(void **state) {
        struct xfer_policy *p = policy_from("allow * *\n");
        gid_t groups[2] = { 1, 2 };
        struct xfer_request_id q = { .source = "low", .target = "high", .op = XFER_OP_COPY, .uid = 1001, .gid = 1001 };
        struct xfer_decision d;

        (void) state;
        assert_int_equal(xfer_policy_decide(p, &q, &d), XFER_ALLOW);
        /* allow * * never allows a transfer within a level */
        q.target = "low";
        assert_int_equal(xfer_policy_decide(p, &q, &d), XFER_DENY);
        q.target = "high";
        q.op = (enum xfer_op) 7;
        assert_int_equal(xfer_policy_decide(p, &q, &d), XFER_DENY);
        assert_non_null(strstr(d.reason, "operation"));
        q.op = XFER_OP_COPY;
        q.uid = (uid_t) -1;
        assert_int_equal(xfer_policy_decide(p, &q, NULL), XFER_DENY);
        q.uid = 1001;
        q.gid = (gid_t) -1;
        assert_int_equal(xfer_policy_decide(p, &q, NULL), XFER_DENY);
        q.gid = 1001;
        q.n_groups = 2;
        assert_int_equal(xfer_policy_decide(p, &q, NULL), XFER_DENY); /* groups NULL */
        q.groups = groups;
        assert_int_equal(xfer_policy_decide(p, &q, NULL), XFER_ALLOW);
        q.n_groups = XFER_MAX_GROUPS + 1;
        assert_int_equal(xfer_policy_decide(p, &q, &d), XFER_DENY); /* never read */
        assert_non_null(strstr(d.reason, "group"));
        assert_int_equal(xfer_policy_decide(p, NULL, &d), XFER_DENY);
        xfer_policy_free(p);
}

static void test_first_match(void **state) {
        struct xfer_policy *p = policy_from("# comment\n"
                                            "deny low high user=bob\n"
                                            "confirm low high user=@staff\n"
                                            "allow low high max_bytes=10M\n"
                                            "allow low high\n"
                                            "deny * high\n"
                                            "confirm * *\n");
        gid_t staff = 50;
        struct xfer_request_id q = { .source = "low", .target = "high", .op = XFER_OP_COPY, .uid = 1003, .gid = 1003 };
        struct xfer_decision d;

        (void) state;
        assert_int_equal(xfer_policy_n_rules(p), 6);
        assert_int_equal(decide(p, "low", "high", 1002, &d), XFER_DENY);
        assert_int_equal(d.line, 2);
        assert_string_equal(d.file, "test.policy");
        assert_string_equal(d.reason, "denied by test.policy:2");
        assert_int_equal(d.max_bytes + d.max_files, 0);
        /* carol in staff as a supplementary group */
        q.groups = &staff;
        q.n_groups = 1;
        assert_int_equal(xfer_policy_decide(p, &q, &d), XFER_CONFIRM);
        assert_int_equal(d.line, 3);
        /* carol without staff: the first allow, with its quota */
        assert_int_equal(decide(p, "low", "high", 1003, &d), XFER_ALLOW);
        assert_int_equal(d.line, 4);
        assert_int_equal(d.max_bytes, 10 << 20);
        assert_int_equal(d.max_files, XFER_DEFAULT_MAX_FILES);
        assert_int_equal(decide(p, "mid", "high", 1003, &d), XFER_DENY);
        assert_int_equal(d.line, 6);
        assert_int_equal(decide(p, "high", "mid", 1003, &d), XFER_CONFIRM);
        assert_int_equal(d.line, 7);
        xfer_policy_free(p);
}

static void test_users(void **state) {
        struct xfer_policy *p = policy_from("allow low high user=alice\n"
                                            "allow low mid user=1002\n"
                                            "allow mid high user=@wheel\n"
                                            "allow mid low user=@77\n"
                                            "allow high low user=*\n"
                                            "allow high mid user=0\n");
        gid_t g[3] = { 3, 4, 77 };
        struct xfer_request_id q = { .source = "mid", .target = "low", .op = XFER_OP_COPY, .uid = 1001, .gid = 1001 };

        (void) state;
        assert_int_equal(decide(p, "low", "high", 1001, NULL), XFER_ALLOW);
        assert_int_equal(decide(p, "low", "high", 1002, NULL), XFER_DENY);
        assert_int_equal(decide(p, "low", "mid", 1002, NULL), XFER_ALLOW);
        assert_int_equal(decide(p, "low", "mid", 1001, NULL), XFER_DENY);
        /* @wheel: primary group 10 */
        assert_int_equal(decide(p, "mid", "high", 10, NULL), XFER_ALLOW);
        assert_int_equal(decide(p, "mid", "high", 11, NULL), XFER_DENY);
        /* @77: last supplementary group; not the uid */
        assert_int_equal(xfer_policy_decide(p, &q, NULL), XFER_DENY);
        q.groups = g;
        q.n_groups = 3;
        assert_int_equal(xfer_policy_decide(p, &q, NULL), XFER_ALLOW);
        q.n_groups = 2; /* only the first two are read */
        assert_int_equal(xfer_policy_decide(p, &q, NULL), XFER_DENY);
        assert_int_equal(decide(p, "mid", "low", 77, NULL), XFER_ALLOW); /* primary gid 77 */
        assert_int_equal(decide(p, "high", "low", 4242, NULL), XFER_ALLOW);
        assert_int_equal(decide(p, "high", "mid", 0, NULL), XFER_ALLOW);
        assert_int_equal(decide(p, "high", "mid", 1001, NULL), XFER_DENY);
        xfer_policy_free(p);
}

static void test_ops(void **state) {
        struct xfer_policy *p = policy_from("allow low high op=copy\nconfirm high low op=*\n");

        (void) state;
        assert_int_equal(decide(p, "low", "high", 1001, NULL), XFER_ALLOW);
        assert_int_equal(decide(p, "high", "low", 1001, NULL), XFER_CONFIRM);
        xfer_policy_free(p);
        expect_error("allow low high op=move\n", 1, "unknown operation 'move' (expected copy or *)");
        expect_error("allow low high op=COPY\n", 1, "unknown operation");
}

static void test_quotas(void **state) {
        struct xfer_policy *p = policy_from("allow low high max_bytes=100M max_files=10 user=alice\n"
                                            "confirm high low max_files=1\n"
                                            "allow low mid max_bytes=1T max_files=10000000\n"
                                            "allow mid low max_bytes=1\n"
                                            "allow mid high max_bytes=4k\n");
        struct xfer_decision d;

        (void) state;
        assert_int_equal(decide(p, "low", "high", 1001, &d), XFER_ALLOW);
        assert_int_equal(d.max_bytes, 100 << 20);
        assert_int_equal(d.max_files, 10);
        assert_int_equal(decide(p, "high", "low", 1001, &d), XFER_CONFIRM);
        assert_int_equal(d.max_bytes, XFER_DEFAULT_MAX_BYTES);
        assert_int_equal(d.max_files, 1);
        assert_int_equal(decide(p, "low", "mid", 1001, &d), XFER_ALLOW);
        assert_int_equal(d.max_bytes, XFER_LIMIT_MAX_BYTES);
        assert_int_equal(d.max_files, XFER_LIMIT_MAX_FILES);
        assert_int_equal(decide(p, "mid", "low", 1001, &d), XFER_ALLOW);
        assert_int_equal(d.max_bytes, 1);
        assert_int_equal(decide(p, "mid", "high", 1001, &d), XFER_ALLOW);
        assert_int_equal(d.max_bytes, 4096);
        xfer_policy_free(p);

        expect_error("allow low high max_bytes=0\n", 1, "invalid max_bytes '0'");
        expect_error("allow low high max_bytes=1025G\n", 1, "invalid max_bytes");
        expect_error("allow low high max_bytes=1099511627777\n", 1, "invalid max_bytes");
        expect_error("allow low high max_bytes=max\n", 1, "invalid max_bytes");
        expect_error("allow low high max_bytes=-1\n", 1, "invalid max_bytes");
        expect_error("allow low high max_bytes=10Q\n", 1, "invalid max_bytes");
        expect_error("allow low high max_bytes=99999999999999999999999\n", 1, "invalid max_bytes");
        expect_error("allow low high max_bytes= 1\n", 1, "empty value for option 'max_bytes'");
        expect_error("allow low high max_files=0\n", 1, "invalid max_files '0' (a number from 1 to 10000000)");
        expect_error("allow low high max_files=10000001\n", 1, "invalid max_files");
        expect_error("allow low high max_files=1k\n", 1, "invalid max_files");
        expect_error("deny low high max_files=1\n", 1, "option 'max_files' on a deny rule");
        expect_error("deny low high user=alice max_bytes=1M\n", 1, "option 'max_bytes' on a deny rule");
}

static void test_parse_errors(void **state) {
        (void) state;
        /* Earlier good lines do not matter: the line number does. */
        expect_error("allow low high\n# c\nalow low high\n", 3, "unknown action 'alow' (expected allow, deny or confirm)");
        expect_error("ALLOW low high\n", 1, "unknown action");
        expect_error("allow low\n", 1, "expected ACTION SOURCE TARGET");
        expect_error("allow\n", 1, "expected ACTION SOURCE TARGET");
        expect_error("allow low high op=copy user=alice max_bytes=1 max_files=1 x=y\n", 1, "too many words");
        expect_error("allow low high a b c d e f g h i j k l m n o p\n", 1, "too many words");
        expect_error("allow High low\n", 1, "invalid source level 'High'");
        expect_error("allow low hi/gh\n", 1, "invalid target level 'hi/gh'");
        expect_error("allow low **\n", 1, "invalid target level");
        expect_error("allow hihg low\n", 1, "unknown source level 'hihg'");
        expect_error("allow low broken\n", 1, "cannot check target level 'broken'");
        expect_error("allow low low\n", 1, "source and target are both 'low'");
        expect_error("confirm high high user=alice\n", 1, "source and target are both 'high'");
        expect_error("allow low high user\n", 1, "unexpected word 'user'");
        expect_error("allow low high frob=1\n", 1, "unknown option 'frob'");
        expect_error("allow low high =1\n", 1, "unknown option ''");
        expect_error("allow low high user=alice user=bob\n", 1, "duplicate option 'user'");
        expect_error("allow low high op=copy op=copy\n", 1, "duplicate option 'op'");
        expect_error("allow low high user=\n", 1, "empty value for option 'user'");
        expect_error("allow low high user=dave\n", 1, "unknown user 'dave'");
        expect_error("allow low high user=broken\n", 1, "cannot look up user 'broken'");
        expect_error("allow low high user=nobody4\n", 1, "never an id");
        expect_error("allow low high user=@admins\n", 1, "unknown group 'admins'");
        expect_error("allow low high user=@broken\n", 1, "cannot look up group 'broken'");
        expect_error("allow low high user=@\n", 1, "invalid group name ''");
        expect_error("allow low high user=@*\n", 1, "invalid group name '*'");
        expect_error("allow low high user=4294967295\n", 1, "invalid uid '4294967295'");
        expect_error("allow low high user=@4294967295\n", 1, "invalid gid");
        expect_error("allow low high user=12ab\n", 1, "invalid uid '12ab'");
        expect_error("allow low high user=al!ce\n", 1, "invalid user name 'al!ce'");
        expect_error("allow low high user=abcdefghijklmnopqrstuvwxyzabcdefg\n", 1, "invalid user name");
        /* '#' only starts a comment at the start of a word */
        expect_error("allow low high#x\n", 1, "invalid target level 'high#x'");
        /* Long words are cut in messages (at a character boundary). */
        {
                char line[300], word[201];
                memset(word, 'a', 200);
                word[200] = '\0';
                (void) snprintf(line, sizeof line, "allow low high user=%s", word);
                expect_error(line, 1, "invalid user name 'aaaaaaaa");
                expect_error(line, 1, "...'");
        }
}

static void test_bytes(void **state) {
        char *big;

        (void) state;
        expect_error("allow low high\x01\n", 1, "control character");
        expect_error("allow low high\x7f\n", 1, "control character");
        expect_error("allow low\vhigh\n", 1, "control character");
        expect_error("allow low high\r\r\n", 1, "control character");
        expect_error("allow low high # \xc2\x85 NEL\n", 1, "control character");
        expect_error_lk("allow low high\0x\n", 17, 1, "NUL byte", &fake_lk);
        expect_error_lk("\n\nallow\0", 8, 3, "NUL byte", &fake_lk);
        expect_error("# caf\xe9\n", 1, "invalid UTF-8");
        expect_error("#\n# \xc0\xaf overlong\n", 2, "invalid UTF-8");
        expect_error("# \xed\xa0\x80 surrogate\n", 1, "invalid UTF-8");
        expect_error("# \xf4\x90\x80\x80 too big\n", 1, "invalid UTF-8");
        expect_error("# cut \xe2\x82", 1, "invalid UTF-8");
        expect_error("# \xff\n", 1, "invalid UTF-8");
        expect_error("\xEF\xBB\xBF#\n\xEF\xBB\xBF allow low high\n", 2, "unknown action"); /* BOM only at the start */

        /* Lines of exactly XFER_POLICY_MAX_LINE bytes are fine, one more is not. */
        big = malloc(XFER_POLICY_MAX_LINE + 3);
        assert_non_null(big);
        memset(big, ' ', XFER_POLICY_MAX_LINE + 2);
        memcpy(big, "allow low high", 14);
        big[XFER_POLICY_MAX_LINE] = '\n';
        big[XFER_POLICY_MAX_LINE + 1] = '\0';
        xfer_policy_free(policy_from(big));
        big[XFER_POLICY_MAX_LINE] = '\r'; /* a CR before the newline does not count */
        big[XFER_POLICY_MAX_LINE + 1] = '\n';
        big[XFER_POLICY_MAX_LINE + 2] = '\0';
        xfer_policy_free(policy_from(big));
        big[XFER_POLICY_MAX_LINE] = ' ';
        big[XFER_POLICY_MAX_LINE + 1] = '\0';
        expect_error(big, 1, "line longer than 4096 bytes");
        free(big);
}

static void test_hash_in_word(void **state) {
        (void) state;
        expect_error("confirm high low user=alice#x\n", 1, "invalid user name 'alice#x'");
}

static void test_lines_and_rules(void **state) {
        struct xfer_policy *p = policy_from("\xEF\xBB\xBF# BOM, CRLF, tabs, comments \xc3\xa9\xe2\x86\x92\xf0\x9f\x94\x92\r\n"
                                            "\r\n"
                                            "  \tallow\tlow   high\t# upward \xe2\x86\x91\r\n"
                                            "#\n"
                                            "deny mid low # last line without newline");
        struct xfer_decision d;

        (void) state;
        assert_int_equal(xfer_policy_n_rules(p), 2);
        assert_int_equal(decide(p, "low", "high", 1001, &d), XFER_ALLOW);
        assert_int_equal(d.line, 3);
        assert_int_equal(decide(p, "mid", "low", 1001, &d), XFER_DENY);
        assert_int_equal(d.line, 5);
        xfer_policy_free(p);
}

/* Several sources: concatenated in the order given; an error in any of
 * them fails everything, and the first error stays. */
static void test_sources(void **state) {
        struct xfer_policy *p = NULL;
        struct xfer_decision d;
        const char *a = "allow low high max_files=5\n";
        const char *b = "deny low high\nconfirm high low\n";

        (void) state;
        assert_int_equal(xfer_policy_new(&p), 0);
        assert_int_equal(xfer_policy_parse_buffer(p, "dir/10-a.policy", a, strlen(a), &fake_lk), 0);
        assert_int_equal(xfer_policy_parse_buffer(p, "dir/20-b.policy", b, strlen(b), &fake_lk), 0);
        assert_int_equal(xfer_policy_n_rules(p), 3);
        assert_int_equal(decide(p, "low", "high", 1001, &d), XFER_ALLOW);
        assert_string_equal(d.file, "dir/10-a.policy");
        assert_int_equal(d.line, 1);
        assert_int_equal(d.max_files, 5);
        assert_int_equal(decide(p, "high", "low", 1001, &d), XFER_CONFIRM);
        assert_string_equal(d.file, "dir/20-b.policy");
        assert_int_equal(d.line, 2);
        assert_string_equal(d.reason, "needs confirmation, by dir/20-b.policy:2");

        assert_int_equal(xfer_policy_parse_buffer(p, "dir/30-c.policy", "\n\nbad\n", 6, &fake_lk), -EINVAL);
        assert_string_equal(xfer_policy_error(p), "dir/30-c.policy:3: expected ACTION SOURCE TARGET [op=OP] [user=USER] [max_bytes=SIZE] [max_files=N]");
        assert_int_equal(xfer_policy_n_rules(p), 0);
        assert_denies_everything(p);
        assert_int_equal(decide(p, "low", "high", 1001, &d), XFER_DENY);
        assert_string_equal(d.reason, "denied: transfer policy refused: dir/30-c.policy:3: expected ACTION SOURCE TARGET [op=OP] [user=USER] [max_bytes=SIZE] [max_files=N]");
        /* Nothing more is read; the first error stays. */
        assert_int_equal(xfer_policy_parse_buffer(p, "dir/40-d.policy", a, strlen(a), &fake_lk), -EINVAL);
        assert_int_equal(xfer_policy_parse_buffer(p, "dir/50-e.policy", "x\n", 2, &fake_lk), -EINVAL);
        assert_non_null(strstr(xfer_policy_error(p), "30-c.policy:3"));
        assert_denies_everything(p);
        assert_int_equal(xfer_policy_parse_buffer(NULL, "x", a, strlen(a), &fake_lk), -EINVAL);
        xfer_policy_free(p);

        /* Source names: a default, a bound. */
        assert_int_equal(xfer_policy_new(&p), 0);
        assert_int_equal(xfer_policy_parse_buffer(p, NULL, a, strlen(a), &fake_lk), 0);
        assert_int_equal(decide(p, "low", "high", 1001, &d), XFER_ALLOW);
        assert_string_equal(d.file, "(policy)");
        xfer_policy_free(p);
        {
                char path[XFER_PATH_MAX + 1];
                memset(path, 'p', sizeof path - 1);
                path[sizeof path - 1] = '\0';
                assert_int_equal(xfer_policy_new(&p), 0);
                assert_int_equal(xfer_policy_parse_buffer(p, path, a, strlen(a), &fake_lk), -EINVAL);
                assert_non_null(strstr(xfer_policy_error(p), "path too long"));
                assert_denies_everything(p);
                xfer_policy_free(p);
                assert_int_equal(xfer_policy_new(&p), 0);
                assert_int_equal(xfer_policy_parse_buffer(p, "x.policy", NULL, 3, &fake_lk), -EINVAL);
                assert_string_equal(xfer_policy_error(p), "x.policy: no data");
                xfer_policy_free(p);
                assert_int_equal(xfer_policy_new(&p), 0);
                assert_int_equal(xfer_policy_parse_buffer(p, "x.policy", NULL, 0, &fake_lk), 0);
                xfer_policy_free(p);
        }
}

static void test_bounds(void **state) {
        const size_t per_rule = sizeof "allow low high\n" - 1;
        struct xfer_policy *p = NULL;
        char *text;
        size_t n;

        (void) state;
        /* XFER_POLICY_MAX_RULES rules in all, then one more. */
        text = malloc(per_rule * (XFER_POLICY_MAX_RULES + 1) + 1);
        assert_non_null(text);
        for (unsigned i = 0; i < XFER_POLICY_MAX_RULES + 1; i++)
                memcpy(text + i * per_rule, "allow low high\n", per_rule);
        assert_int_equal(xfer_policy_new(&p), 0);
        assert_int_equal(xfer_policy_parse_buffer(p, "a.policy", text, per_rule * (XFER_POLICY_MAX_RULES / 2), &fake_lk), 0);
        assert_int_equal(xfer_policy_parse_buffer(p, "b.policy", text, per_rule * (XFER_POLICY_MAX_RULES / 2), &fake_lk), 0);
        assert_int_equal(xfer_policy_n_rules(p), XFER_POLICY_MAX_RULES);
        assert_int_equal(xfer_policy_parse_buffer(p, "c.policy", "\nallow high low\n", 16, &fake_lk), -EINVAL);
        assert_string_equal(xfer_policy_error(p), "c.policy:2: too many rules (at most 4096 in all policy files)");
        assert_denies_everything(p);
        xfer_policy_free(p);
        expect_error_lk(text, per_rule * (XFER_POLICY_MAX_RULES + 1), XFER_POLICY_MAX_RULES + 1, "too many rules",
                        &fake_lk);
        free(text);

        /* A file larger than XFER_POLICY_MAX_FILE_SIZE, even of comments. */
        n = XFER_POLICY_MAX_FILE_SIZE + 1;
        text = malloc(n);
        assert_non_null(text);
        memset(text, '\n', n);
        text[0] = '#';
        assert_int_equal(xfer_policy_new(&p), 0);
        assert_int_equal(xfer_policy_parse_buffer(p, "big.policy", text, n - 1, &fake_lk), 0);
        assert_int_equal(xfer_policy_parse_buffer(p, "big.policy", text, n, &fake_lk), -EINVAL);
        assert_string_equal(xfer_policy_error(p), "big.policy: larger than 1048576 bytes");
        xfer_policy_free(p);
        free(text);

        /* At most XFER_POLICY_MAX_FILES sources. */
        assert_int_equal(xfer_policy_new(&p), 0);
        for (unsigned i = 0; i < XFER_POLICY_MAX_FILES; i++)
                assert_int_equal(xfer_policy_parse_buffer(p, "f.policy", "", 0, &fake_lk), 0);
        assert_int_equal(xfer_policy_parse_buffer(p, "g.policy", "", 0, &fake_lk), -EINVAL);
        assert_string_equal(xfer_policy_error(p), "g.policy: too many policy files (at most 64)");
        xfer_policy_free(p);
}

static void test_lookups(void **state) {
        struct xfer_policy *p = NULL;
        const char *t = "allow low nomem\n";

        (void) state;
        /* Out of memory in a lookup: -ENOMEM, and the policy is failed. */
        assert_int_equal(xfer_policy_new(&p), 0);
        assert_int_equal(xfer_policy_parse_buffer(p, "t.policy", t, strlen(t), &fake_lk), -ENOMEM);
        assert_string_equal(xfer_policy_error(p), "t.policy:1: out of memory");
        assert_denies_everything(p);
        xfer_policy_free(p);
        t = "allow low high user=nomem\n";
        assert_int_equal(xfer_policy_new(&p), 0);
        assert_int_equal(xfer_policy_parse_buffer(p, "t.policy", t, strlen(t), &fake_lk), -ENOMEM);
        assert_denies_everything(p);
        xfer_policy_free(p);

        /* Without level_exists, any valid level name is accepted. */
        t = "allow hihg low\n";
        assert_int_equal(xfer_policy_new(&p), 0);
        assert_int_equal(xfer_policy_parse_buffer(p, "t.policy", t, strlen(t), &fake_lk_any_level), 0);
        assert_int_equal(decide(p, "hihg", "low", 1, NULL), XFER_ALLOW);
        xfer_policy_free(p);
}

/* NULL lookups: the system's databases.  root (uid 0, group 0) exists on
 * every system; the odd name below on none. */
static void test_system_lookup(void **state) {
        struct xfer_policy *p = NULL;
        const char *t = "allow low high user=root\nconfirm high low user=@root\n";

        (void) state;
        assert_int_equal(xfer_policy_new(&p), 0);
        assert_int_equal(xfer_policy_parse_buffer(p, "t.policy", t, strlen(t), NULL), 0);
        assert_int_equal(decide(p, "low", "high", 0, NULL), XFER_ALLOW);
        assert_int_equal(decide(p, "low", "high", 1, NULL), XFER_DENY);
        assert_int_equal(decide(p, "high", "low", 0, NULL), XFER_CONFIRM);
        xfer_policy_free(p);
        t = "allow low high user=no-such-user-rempart.x\n";
        expect_error_lk(t, strlen(t), 1, "unknown user 'no-such-user-rempart.x'", NULL);
        t = "allow low high user=@no-such-group-rempart\n";
        expect_error_lk(t, strlen(t), 1, "unknown group 'no-such-group-rempart'", NULL);
}

static void test_load_dir(void **state) {
        struct xfer_policy *p = NULL;
        struct xfer_decision d;
        char path[256];

        (void) state;
        /* Empty directory: no rules, not an error. */
        make_dir();
        p = load_dir();
        assert_null(xfer_policy_error(p));
        assert_int_equal(xfer_policy_n_rules(p), 0);
        assert_int_equal(decide(p, "low", "high", 1001, &d), XFER_DENY);
        assert_string_equal(d.reason, "denied: no rule matches (default deny)");
        xfer_policy_free(p);

        /* Byte order of the names; other names ignored. */
        write_file("50-site.policy", "allow low high\nconfirm mid low\n", 0644);
        write_file("10-early.policy", "# early\ndeny low high user=bob\n", 0600);
        write_file("9-late.policy", "deny * *\n", 0644); /* "9" sorts after "50" */
        write_file("README", "not a policy\n", 0644);
        write_file("50-site.policy~", "garbage\n", 0644);
        write_file("50-site.policy.dpkg-old", "garbage\n", 0644);
        write_file(".hidden.policy", "garbage\n", 0644);
        snprintf(path, sizeof path, "%s/sub", tmpdir);
        assert_int_equal(mkdir(path, 0755), 0);
        p = load_dir();
        assert_null(xfer_policy_error(p));
        assert_int_equal(xfer_policy_n_rules(p), 4);
        assert_int_equal(decide(p, "low", "high", 1002, &d), XFER_DENY);
        snprintf(path, sizeof path, "%s/10-early.policy", tmpdir);
        assert_string_equal(d.file, path);
        assert_int_equal(d.line, 2);
        assert_int_equal(decide(p, "low", "high", 1001, &d), XFER_ALLOW);
        snprintf(path, sizeof path, "%s/50-site.policy", tmpdir);
        assert_string_equal(d.file, path);
        assert_int_equal(d.line, 1);
        assert_int_equal(decide(p, "mid", "low", 1001, NULL), XFER_CONFIRM);
        assert_int_equal(decide(p, "high", "low", 1001, &d), XFER_DENY);
        assert_non_null(strstr(d.reason, "9-late.policy:1"));
        xfer_policy_free(p);

        /* A bad file anywhere: everything denied, the reason names it. */
        write_file("60-bad.policy", "allow low high\n\nallow low high user=dave\n", 0644);
        expect_load_error("/60-bad.policy:3: unknown user 'dave'");
        snprintf(path, sizeof path, "%s/60-bad.policy", tmpdir);
        assert_int_equal(unlink(path), 0);

        /* A symbolic link, even to a good file. */
        snprintf(path, sizeof path, "%s/70-link.policy", tmpdir);
        assert_int_equal(symlink("50-site.policy", path), 0);
        expect_load_error("/70-link.policy: a symbolic link");
        assert_int_equal(unlink(path), 0);

        /* A directory, a FIFO (never opened for reading: no hang). */
        snprintf(path, sizeof path, "%s/80-dir.policy", tmpdir);
        assert_int_equal(mkdir(path, 0755), 0);
        expect_load_error("/80-dir.policy: not a regular file");
        assert_int_equal(rmdir(path), 0);
        snprintf(path, sizeof path, "%s/80-fifo.policy", tmpdir);
        assert_int_equal(mkfifo(path, 0644), 0);
        expect_load_error("/80-fifo.policy: not a regular file");
        assert_int_equal(unlink(path), 0);

        /* Writable by others; names that end in .policy but are not valid. */
        write_file("90-open.policy", "allow low high\n", 0664);
        expect_load_error("/90-open.policy: writable by group or others (mode 0664)");
        snprintf(path, sizeof path, "%s/90-open.policy", tmpdir);
        assert_int_equal(unlink(path), 0);
        write_file("a b.policy", "allow low high\n", 0644);
        expect_load_error("/a b.policy: invalid policy file name");
        snprintf(path, sizeof path, "%s/a b.policy", tmpdir);
        assert_int_equal(unlink(path), 0);
        write_file("caf\xc3\xa9.policy", "allow low high\n", 0644);
        expect_load_error("/caf??.policy: invalid policy file name");
        snprintf(path, sizeof path, "%s/caf\xc3\xa9.policy", tmpdir);
        assert_int_equal(unlink(path), 0);
        write_file(".policy", "", 0644); /* hidden: ignored */

        p = load_dir();
        assert_null(xfer_policy_error(p));
        xfer_policy_free(p);

        /* The directory itself. */
        assert_int_equal(chmod(tmpdir, 0777), 0);
        expect_load_error(": writable by group or others (mode 0777)");
        assert_int_equal(chmod(tmpdir, 0700), 0);
        remove_dir();
        expect_load_error(": cannot open: No such file or directory");
        assert_int_equal(xfer_policy_load("/dev/null", &fake_lk, &p), 0);
        assert_non_null(strstr(xfer_policy_error(p), "/dev/null: cannot open: Not a directory"));
        assert_denies_everything(p);
        xfer_policy_free(p);
}

static void test_load_limits(void **state) {
        struct xfer_policy *p = NULL;
        char name[256], *big;
        int fd;

        (void) state;
        make_dir();
        for (unsigned i = 0; i < XFER_POLICY_MAX_FILES; i++) {
                snprintf(name, sizeof name, "%03u.policy", i);
                write_file(name, i == 7 ? "allow low high\n" : "# empty\n", 0644);
        }
        p = load_dir();
        assert_null(xfer_policy_error(p));
        assert_int_equal(xfer_policy_n_rules(p), 1);
        xfer_policy_free(p);
        write_file("zzz.policy", "", 0644);
        expect_load_error(": more than 64 policy files");
        remove_dir();

        /* A file larger than the bound, then one of exactly the bound. */
        make_dir();
        snprintf(name, sizeof name, "%s/big.policy", tmpdir);
        fd = open(name, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        big = malloc(XFER_POLICY_MAX_FILE_SIZE + 1);
        assert_non_null(big);
        memset(big, '\n', XFER_POLICY_MAX_FILE_SIZE + 1);
        assert_int_equal(write(fd, big, XFER_POLICY_MAX_FILE_SIZE + 1), (ssize_t) XFER_POLICY_MAX_FILE_SIZE + 1);
        assert_int_equal(close(fd), 0);
        free(big);
        expect_load_error("/big.policy: larger than 1048576 bytes");
        assert_int_equal(truncate(name, XFER_POLICY_MAX_FILE_SIZE), 0);
        p = load_dir();
        assert_null(xfer_policy_error(p));
        xfer_policy_free(p);
        remove_dir();

        /* Paths longer than messages can hold. */
        {
                char dir[XFER_PATH_MAX + 8];
                memset(dir, 'd', sizeof dir - 1);
                dir[0] = '/';
                dir[sizeof dir - 1] = '\0';
                assert_int_equal(xfer_policy_load(dir, &fake_lk, &p), 0);
                assert_non_null(strstr(xfer_policy_error(p), "path too long"));
                xfer_policy_free(p);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_default_policy),
                cmocka_unit_test(test_no_policy),
                cmocka_unit_test(test_bad_requests),
                cmocka_unit_test(test_first_match),
                cmocka_unit_test(test_users),
                cmocka_unit_test(test_ops),
                cmocka_unit_test(test_quotas),
                cmocka_unit_test(test_parse_errors),
                cmocka_unit_test(test_bytes),
                cmocka_unit_test(test_hash_in_word),
                cmocka_unit_test(test_lines_and_rules),
                cmocka_unit_test(test_sources),
                cmocka_unit_test(test_bounds),
                cmocka_unit_test(test_lookups),
                cmocka_unit_test(test_system_lookup),
                cmocka_unit_test(test_load_dir),
                cmocka_unit_test(test_load_limits),
        };
        return cmocka_run_group_tests_name("xfer-policy", tests, NULL, NULL);
}
