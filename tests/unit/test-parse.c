/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"
#include "parse.h"

static void test_bool(void **state) {
        bool b;
        (void) state;
        assert_int_equal(parse_bool("yes", &b), 0);
        assert_true(b);
        assert_int_equal(parse_bool("off", &b), 0);
        assert_false(b);
        assert_int_equal(parse_bool("Yes ", &b), -EINVAL);
        assert_int_equal(parse_bool("", &b), -EINVAL);
}

static void test_u64(void **state) {
        uint64_t v;
        (void) state;
        assert_int_equal(parse_u64("42", 100, &v), 0);
        assert_int_equal(v, 42);
        assert_int_equal(parse_u64("101", 100, &v), -ERANGE);
        assert_int_equal(parse_u64("-1", UINT64_MAX, &v), -EINVAL);
        assert_int_equal(parse_u64(" 1", 100, &v), -EINVAL);
        assert_int_equal(parse_u64("1x", 100, &v), -EINVAL);
        assert_int_equal(parse_u64("99999999999999999999999", UINT64_MAX, &v), -ERANGE);
}

static void test_size(void **state) {
        uint64_t v;
        bool max;
        (void) state;
        assert_int_equal(parse_size("512M", &v, &max), 0);
        assert_int_equal(v, 512ULL << 20);
        assert_false(max);
        assert_int_equal(parse_size("max", &v, &max), 0);
        assert_true(max);
        assert_int_equal(parse_size("max", &v, NULL), -EINVAL);
        assert_int_equal(parse_size("20000000T", &v, &max), -ERANGE);
        assert_int_equal(parse_size("M", &v, &max), -EINVAL);
}

static void test_paths(void **state) {
        (void) state;
        assert_true(path_is_normalized_absolute("/"));
        assert_true(path_is_normalized_absolute("/usr/lib"));
        assert_false(path_is_normalized_absolute("usr"));
        assert_false(path_is_normalized_absolute("/usr/"));
        assert_false(path_is_normalized_absolute("/usr//lib"));
        assert_false(path_is_normalized_absolute("/usr/./lib"));
        assert_false(path_is_normalized_absolute("/usr/.."));
        assert_false(path_is_normalized_absolute("/a:b"));
        assert_false(path_is_normalized_absolute("/a\nb"));
        assert_true(path_is_normalized_absolute("/a/..b/.c"));
}

static int count_cb(const char *w, void *u) {
        (void) w;
        (*(int *) u)++;
        return 0;
}

static void test_split(void **state) {
        int n = 0;
        char big[400];
        (void) state;
        assert_int_equal(split_words("  a b\tc  ", count_cb, &n), 0);
        assert_int_equal(n, 3);
        memset(big, 'x', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        assert_int_equal(split_words(big, count_cb, &n), -ENAMETOOLONG);
}

static void test_json_escape(void **state) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        (void) state;
        json_write_escaped(f, "a\"b\\c\n\x01");
        assert_int_equal(fclose(f), 0);
        assert_string_equal(buf, "\"a\\\"b\\\\c\\n\\u0001\"");
        free(buf);
}

static void test_cpu_max(void **state) {
        uint64_t q = 7, per = 7;
        (void) state;
        assert_int_equal(parse_cpu_max("50%", &q, &per), 0);
        assert_int_equal(q, 50000);
        assert_int_equal(per, 100000);
        assert_int_equal(parse_cpu_max("20000 50000", &q, &per), 0);
        assert_int_equal(q, 20000);
        assert_int_equal(per, 50000);
        assert_int_equal(parse_cpu_max("max", &q, &per), 0);
        assert_int_equal(q, UINT64_MAX);
        q = per = 7;
        assert_int_equal(parse_cpu_max("0%", &q, &per), -EDOM);
        assert_int_equal(parse_cpu_max("100001%", &q, &per), -EDOM);
        assert_int_equal(parse_cpu_max("10 20", &q, &per), -ERANGE);
        assert_int_equal(parse_cpu_max("20000/50000", &q, &per), -EINVAL);
        assert_int_equal(parse_cpu_max("20000 50000 1", &q, &per), -EINVAL);
        assert_int_equal(parse_cpu_max("", &q, &per), -EINVAL);
        assert_int_equal(q, 7);
        assert_int_equal(per, 7);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bool), cmocka_unit_test(test_u64),   cmocka_unit_test(test_size),
                cmocka_unit_test(test_paths), cmocka_unit_test(test_split), cmocka_unit_test(test_json_escape),
                cmocka_unit_test(test_cpu_max),
        };
        return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
