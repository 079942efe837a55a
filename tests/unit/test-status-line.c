/* SPDX-License-Identifier: MIT */
/* The level indicator filter (src/ctl/status-line.c): what a level writes
 * to its terminal may not move the indicator row out of the core's hands. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "status-line.h"

#define ROWS 24
#define COLS 80

struct run {
        struct status_line s;
        uint8_t out[STATUS_OUT_MAX(512) + 1];
        size_t len;
        bool pending;
};

static void setup(struct run *r) {
        memset(r, 0, sizeof *r);
        status_line_init(&r->s, " level low | Low | rempart ", 32, ROWS, COLS);
}

static const char *feed(struct run *r, const char *in) {
        size_t n = strlen(in);
        assert_true(n <= 512);
        r->len = status_line_filter(&r->s, (const uint8_t *) in, n, r->out, sizeof r->out - 1, &r->pending);
        assert_true(r->len <= STATUS_OUT_MAX(n));
        r->out[r->len] = '\0';
        return (const char *) r->out;
}

/* The output without the trailing repaint (which starts with ESC 7). */
static size_t body_len(const struct run *r) {
        const char *p = strstr((const char *) r->out, "\0337\033[?6l");
        return p ? (size_t) (p - (const char *) r->out) : r->len;
}

static void test_plain_text_then_repaint(void **state) {
        struct run r;
        (void) state;
        setup(&r);
        const char *o = feed(&r, "hello\r\n");
        assert_false(r.pending);
        assert_int_equal(body_len(&r), 7);
        assert_memory_equal(o, "hello\r\n", 7);
        assert_non_null(strstr(o, "\033[24;1H"));
        assert_non_null(strstr(o, " level low | Low | rempart "));
        assert_non_null(strstr(o, "\0338")); /* cursor restored */
}

static void test_region_clamped(void **state) {
        struct run r;
        (void) state;
        setup(&r);
        feed(&r, "\033[r");
        assert_memory_equal(r.out, "\033[1;23r", 7);
        feed(&r, "\033[5;30r");
        assert_memory_equal(r.out, "\033[5;23r", 7);
        feed(&r, "\033[3;10r");
        assert_memory_equal(r.out, "\033[3;10r", 7); /* inside the level's rows: unchanged */
        feed(&r, "\033[;r");
        assert_memory_equal(r.out, "\033[1;23r", 7);
        feed(&r, "\033[30;40r"); /* entirely on or below the indicator: dropped */
        assert_int_equal(body_len(&r), 0);
        feed(&r, "\033[5;30;40r"); /* extra parameters: the first two count */
        assert_memory_equal(r.out, "\033[5;23r", 7);
        feed(&r, "\033[5:30r"); /* sub-parameters: dropped */
        assert_int_equal(body_len(&r), 0);
        feed(&r, "\033[?5;30r\033[1;2;3;4;5$r"); /* other sequences: passed */
        assert_int_equal(body_len(&r), 21);
}

static void test_split_sequence_held(void **state) {
        struct run r;
        (void) state;
        setup(&r);
        feed(&r, "ab\033[1");
        assert_true(r.pending);
        assert_int_equal(r.len, 2); /* no repaint in the middle of a sequence */
        feed(&r, "0;99r");
        assert_false(r.pending);
        assert_memory_equal(r.out, "\033[10;23r", 8);
}

static void test_flush_cancels(void **state) {
        struct run r;
        uint8_t out[STATUS_OUT_MAX(1)];
        (void) state;
        setup(&r);
        feed(&r, "\033[12");
        assert_true(r.pending);
        size_t n = status_line_flush(&r.s, out, sizeof out);
        assert_true(n > 1);
        assert_int_equal(out[0], 0x18); /* CAN */
        /* Next output starts fresh. */
        feed(&r, "r");
        assert_memory_equal(r.out, "r", 1);
}

static void test_strings_dropped(void **state) {
        struct run r;
        (void) state;
        setup(&r);
        /* OSC 52: read the clipboard of the terminal (the core's) */
        feed(&r, "x\033]52;c;?\007y");
        assert_int_equal(body_len(&r), 2);
        assert_memory_equal(r.out, "xy", 2);
        feed(&r, "\033]0;title\033\\z");
        assert_int_equal(body_len(&r), 1);
        assert_memory_equal(r.out, "z", 1);
        feed(&r, "\033P$q\"p\033\\"); /* DCS query */
        assert_int_equal(body_len(&r), 0);
        feed(&r, "\033]52;c;");
        assert_true(r.pending);
        feed(&r, "more\007ok");
        assert_memory_equal(r.out, "ok", 2);
}

static void test_window_ops_and_long_dropped(void **state) {
        struct run r;
        char longseq[STATUS_SEQ_MAX + 16];
        (void) state;
        setup(&r);
        feed(&r, "\033[8;100;200t");
        assert_int_equal(body_len(&r), 0);
        memset(longseq, 0, sizeof longseq);
        longseq[0] = '\033';
        longseq[1] = '[';
        memset(longseq + 2, '1', STATUS_SEQ_MAX + 4);
        longseq[STATUS_SEQ_MAX + 6] = 'r';
        feed(&r, longseq);
        assert_int_equal(body_len(&r), 0);
        assert_false(r.pending);
}

static void test_other_sequences_pass(void **state) {
        struct run r;
        (void) state;
        setup(&r);
        feed(&r, "\033[?1049h\033[2J\033[31mred\033[0m\0337\0338\033(0q\033(B");
        const char *want = "\033[?1049h\033[2J\033[31mred\033[0m\0337\0338\033(0q\033(B";
        assert_int_equal(body_len(&r), strlen(want));
        assert_memory_equal(r.out, want, strlen(want));
}

static void test_reset_replaced(void **state) {
        struct run r;
        (void) state;
        setup(&r);
        feed(&r, "\033c");
        assert_null(memmem(r.out, body_len(&r), "\033c", 2));
        assert_memory_equal(r.out, "\033[0m\033[H\033[2J\033[1;23r\033[H", 18);
        assert_non_null(strstr((const char *) r.out, "\033[1;23r"));
}

static void test_utf8(void **state) {
        struct run r;
        (void) state;
        setup(&r);
        feed(&r, "\xc3");
        assert_true(r.pending); /* half a character: no repaint yet */
        assert_int_equal(r.len, 1);
        feed(&r, "\xa9!");
        assert_false(r.pending);
        assert_memory_equal(r.out, "\xa9!", 2);
        feed(&r, "\x9b" "2J"); /* raw C1 CSI: not UTF-8, replaced */
        assert_memory_equal(r.out, "?2J", 3);
        feed(&r, "\xc3" "A");
        assert_memory_equal(r.out, "\xc3?A", 3);
}

static void test_label_sanitized(void **state) {
        struct status_line s;
        uint8_t out[STATUS_REDRAW_MAX];
        (void) state;
        status_line_init(&s, "evil\033[2Jlabel\n", 99, ROWS, COLS);
        size_t n = status_line_draw(&s, out, sizeof out);
        assert_null(memmem(out, n, "\033[2J", 4));
        assert_non_null(memmem(out, n, "evil?[2Jlabel?", 14));
        assert_non_null(memmem(out, n, "47m", 3)); /* bad colour: white */
}

static void test_begin_end_resize(void **state) {
        struct status_line s;
        uint8_t out[STATUS_REDRAW_MAX * 2];
        (void) state;
        status_line_init(&s, "x", 31, ROWS, COLS);
        size_t n = status_line_begin(&s, out, sizeof out);
        assert_true(n > 18);
        assert_memory_equal(out, "\033[0m\033[H\033[2J\033[1;23r\033[H", 18);
        n = status_line_resize(&s, 40, 100, out, sizeof out);
        assert_non_null(memmem(out, n, "\033[1;39r", 7));
        assert_non_null(memmem(out, n, "\033[40;1H", 7));
        n = status_line_end(&s, out, sizeof out);
        assert_non_null(memmem(out, n, "\033[r", 3));
        assert_non_null(memmem(out, n, "\033[40;1H\033[2K", 11));
}

static void test_random_bound(void **state) {
        struct run r;
        char buf[513];
        (void) state;
        setup(&r);
        srand(7);
        for (int round = 0; round < 2000; round++) {
                size_t n = (size_t) (rand() % 512) + 1;
                for (size_t i = 0; i < n; i++) {
                        int k = rand() % 8;
                        buf[i] = (char) (k == 0 ? 0x1b : k == 1 ? '[' : k == 2 ? 'r' : k == 3 ? ';' : rand() % 256);
                        if (buf[i] == 0)
                                buf[i] = 'r';
                }
                buf[n] = '\0';
                feed(&r, buf);
                /* Never a region reaching the indicator row. */
                assert_null(memmem(r.out, r.len, "\033[r", 3));
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_plain_text_then_repaint),
                cmocka_unit_test(test_region_clamped),
                cmocka_unit_test(test_split_sequence_held),
                cmocka_unit_test(test_flush_cancels),
                cmocka_unit_test(test_strings_dropped),
                cmocka_unit_test(test_window_ops_and_long_dropped),
                cmocka_unit_test(test_other_sequences_pass),
                cmocka_unit_test(test_reset_replaced),
                cmocka_unit_test(test_utf8),
                cmocka_unit_test(test_label_sanitized),
                cmocka_unit_test(test_begin_end_resize),
                cmocka_unit_test(test_random_bound),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
