/* SPDX-License-Identifier: MIT */
/* rempart-init's command-line parser: every refusal names the parameter. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmdline.h"

#define R "11111111-2222-4333-8444-555555555555"
#define V "66666666-7777-4888-9999-AAAAAAAAAAAA"
#define S "bbbbbbbb-cccc-4ddd-8eee-ffffffffffff"
#define H "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF"
#define BASE_NO_SLOT \
        "rempart.root=" R " rempart.verity=" V " rempart.state=" S " rempart.roothash=" H " rempart.fec_offset=8192"
#define BASE BASE_NO_SLOT " rempart.slot=a"

static struct init_cmdline c;
static struct cmdline_error err;

static int parse(const char *s) {
        memset(&c, 0, sizeof c);
        return cmdline_parse(s, &c, &err);
}

static void assert_refused(const char *line, const char *needle) {
        assert_int_equal(parse(line), -EINVAL);
        if (!strstr(err.msg, needle))
                fail_msg("message \"%s\" does not contain \"%s\"", err.msg, needle);
}

static void test_good(void **state) {
        char hex[2 * ROOT_HASH_SIZE + 1];
        (void) state;

        assert_int_equal(parse("BOOT_IMAGE=/x console=ttyS0 " BASE " quiet"), 0);
        assert_string_equal(c.root_partuuid, R);
        assert_string_equal(c.verity_partuuid, "66666666-7777-4888-9999-aaaaaaaaaaaa"); /* lowercased */
        assert_string_equal(c.state_partuuid, S);
        assert_int_equal(c.slot, 'a');
        assert_int_equal(c.fec_offset, 8192);
        assert_int_equal(c.fec_roots, FEC_ROOTS_DEFAULT);
        assert_int_equal(c.root_hash[0], 0x00);
        assert_int_equal(c.root_hash[1], 0x11);
        assert_int_equal(c.root_hash[31], 0xff);
        cmdline_root_hash_hex(&c, hex);
        assert_string_equal(hex, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");

        assert_int_equal(parse(BASE_NO_SLOT " rempart.slot=b rempart.fec_roots=24\n"), 0);
        assert_int_equal(c.slot, 'b');
        assert_int_equal(c.fec_roots, 24);
        /* tabs and newlines separate words too */
        assert_int_equal(parse("\trempart.slot=a\n" BASE_NO_SLOT "\n"), 0);
}

static void test_quotes(void **state) {
        (void) state;
        /* Kernel rules: a quoted word or value loses its quotes. */
        assert_int_equal(parse(BASE_NO_SLOT " \"rempart.slot=a\""), 0);
        assert_int_equal(c.slot, 'a');
        assert_int_equal(parse(BASE_NO_SLOT " rempart.slot=\"b\""), 0);
        assert_int_equal(c.slot, 'b');
        /* A quoted space keeps a foreign value together... */
        assert_int_equal(parse("foo=\"a rempart.bogus=1\" " BASE), 0);
        /* ...and makes a rempart value malformed. */
        assert_refused(BASE_NO_SLOT " rempart.slot=\"a b\"", "rempart.slot");
        /* An unterminated quote runs to the end of the line, as in the kernel. */
        assert_int_equal(parse(BASE " x=\"rempart.debug=1"), 0);
}

static void test_strict(void **state) {
        (void) state;
        assert_refused(BASE " rempart.debug=1", "unknown parameter rempart.debug");
        assert_refused(BASE " rempart.fec-roots=2", "unknown parameter rempart.fec-roots");
        assert_refused(BASE " rempart.", "unknown parameter rempart.");
        assert_refused(BASE " rempart.slot=a", "rempart.slot given more than once");
        assert_refused(BASE " rempart.root=" R, "rempart.root given more than once");
        assert_refused("rempart.slot=b " BASE, "rempart.slot given more than once");
        assert_refused(BASE_NO_SLOT, "missing parameter rempart.slot");
        assert_refused("rempart.root=" R, "missing parameter rempart.verity");
        assert_refused("", "missing parameter rempart.root");
        assert_refused(BASE_NO_SLOT " rempart.slot", "rempart.slot needs a value");
        assert_refused(BASE_NO_SLOT " rempart.slot=", "rempart.slot needs a value");
        /* Non-rempart and differently-cased keys are not ours. */
        assert_int_equal(parse(BASE " root=/dev/sda REMPART.debug=1 rempartx=1 rempart=1"), 0);
}

static void test_values(void **state) {
        (void) state;
        assert_refused(BASE_NO_SLOT " rempart.slot=c", "rempart.slot: malformed");
        assert_refused(BASE_NO_SLOT " rempart.slot=ab", "rempart.slot: malformed");
        assert_refused(BASE_NO_SLOT " rempart.slot=A", "rempart.slot: malformed");
        assert_refused(BASE " rempart.fec_roots=1", "rempart.fec_roots: malformed");
        assert_refused(BASE " rempart.fec_roots=25", "rempart.fec_roots: malformed");
        assert_refused(BASE " rempart.fec_roots=2x", "rempart.fec_roots: malformed");
        assert_refused(BASE " rempart.fec_roots=-2", "rempart.fec_roots: malformed");
        assert_refused(BASE " rempart.fec_roots=99999999999999999999999", "rempart.fec_roots: malformed");
        assert_refused("rempart.fec_offset=4097 rempart.root=" R, "rempart.fec_offset: malformed");
        assert_refused("rempart.fec_offset=0", "rempart.fec_offset: malformed");
        assert_refused("rempart.fec_offset=+4096", "rempart.fec_offset: malformed");
        /* UUIDs */
        assert_refused("rempart.root=11111111-2222-4333-8444-55555555555", "rempart.root: malformed");
        assert_refused("rempart.root=11111111-2222-4333-8444-5555555555555", "rempart.root: malformed");
        assert_refused("rempart.root=11111111x2222-4333-8444-555555555555", "rempart.root: malformed");
        assert_refused("rempart.root=1111111g-2222-4333-8444-555555555555", "rempart.root: malformed");
        assert_refused("rempart.root=00000000-0000-0000-0000-000000000000", "rempart.root: malformed");
        assert_refused("rempart.root={11111111-2222-4333-8444-555555555555}", "rempart.root: malformed");
        /* Root hash: exactly 64 hex digits. */
        assert_refused("rempart.roothash=" H "0", "rempart.roothash: malformed");
        assert_refused("rempart.roothash=0011", "rempart.roothash: malformed");
        assert_refused("rempart.roothash=0g112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
                       "rempart.roothash: malformed");
        /* Three distinct partitions. */
        assert_refused("rempart.root=" R " rempart.verity=" R " rempart.state=" S " rempart.roothash=" H
                       " rempart.fec_offset=8192 rempart.slot=a",
                       "three different partitions");
}

static void test_limits(void **state) {
        size_t n = CMDLINE_MAX_SIZE + 2;
        char *big = malloc(n);
        (void) state;

        assert_non_null(big);
        memset(big, 'x', n - 1);
        big[n - 1] = '\0';
        assert_int_equal(parse(big), -E2BIG);
        assert_true(strlen(err.msg) > 0);
        /* A long non-printable key is reported shortened and sanitised. */
        memset(big, 'k', 1000);
        memcpy(big, "rempart.\x01", 9);
        strcpy(big + 1000, "=1");
        assert_int_equal(parse(big), -EINVAL);
        assert_non_null(strstr(err.msg, "rempart.?kk"));
        assert_true(strlen(err.msg) < 120);
        free(big);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_good),   cmocka_unit_test(test_quotes), cmocka_unit_test(test_strict),
                cmocka_unit_test(test_values), cmocka_unit_test(test_limits),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
