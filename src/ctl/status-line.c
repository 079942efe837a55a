/* SPDX-License-Identifier: MIT */
/* The trusted level indicator of interactive sessions (see status-line.h).
 * The scanner follows the VT500 parser's states closely enough to know
 * when the terminal is between sequences; everything it does not need to
 * understand is passed through untouched, except what could reach outside
 * the level's rows or out of the terminal. */
#include "status-line.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ESC 0x1b
#define CAN 0x18
#define SUB 0x1a
#define BEL 0x07

struct out {
        uint8_t *buf;
        size_t size, len;
};

static void put(struct out *o, const void *b, size_t n) {
        if (n > o->size - o->len)
                n = o->size - o->len; /* never past the end; callers size out for the worst case */
        memcpy(o->buf + o->len, b, n);
        o->len += n;
}

/* A string literal, its length counted by the compiler. */
#define PUTS(o, lit) put((o), (lit), sizeof(lit) - 1)

static void putc_(struct out *o, uint8_t c) {
        put(o, &c, 1);
}

static void putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct out *o, const char *fmt, ...) {
        char tmp[48];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(tmp, sizeof tmp, fmt, ap);
        va_end(ap);
        if (n > 0)
                put(o, tmp, (size_t) n < sizeof tmp ? (size_t) n : sizeof tmp - 1);
}

static unsigned bottom_row(const struct status_line *s) {
        return s->rows > 1 ? s->rows - 1 : 1;
}

void status_line_init(struct status_line *s, const char *text, int sgr, unsigned rows, unsigned cols) {
        size_t i;

        memset(s, 0, sizeof *s);
        for (i = 0; i < sizeof s->text - 1 && text[i]; i++) {
                unsigned char ch = (unsigned char) text[i];
                s->text[i] = ch >= 0x20 && ch < 0x7f ? (char) ch : '?';
        }
        s->text[i] = '\0';
        s->sgr = sgr >= 31 && sgr <= 37 ? sgr : 37;
        s->rows = rows ? rows : 24;
        s->cols = cols ? cols : 80;
        s->scan = SCAN_GROUND;
}

static void draw(const struct status_line *s, struct out *o) {
        size_t n = strlen(s->text);

        if (s->rows < 2)
                return;
        if (n > s->cols - 1)
                n = s->cols - 1; /* never the last column: no pending wrap */
        /* Save the level's cursor (position, attributes, charset, origin
         * mode), absolute addressing, ASCII charset, reverse colours. */
        PUTS(o, "\0337\033[?6l");
        putf(o, "\033[%u;%uH", s->rows, 1);
        PUTS(o, "\033(B\017");
        putf(o, "\033[0;%u;97;%um", 1, (unsigned) s->sgr + 10);
        PUTS(o, "\033[2K");
        put(o, s->text, n);
        PUTS(o, "\033[0m\0338");
}

size_t status_line_draw(const struct status_line *s, uint8_t *out, size_t size) {
        struct out o = { out, size, 0 };
        draw(s, &o);
        return o.len;
}

size_t status_line_begin(struct status_line *s, uint8_t *out, size_t size) {
        struct out o = { out, size, 0 };

        PUTS(&o, "\033[0m\033[H\033[2J");
        if (s->rows >= 2)
                putf(&o, "\033[%u;%ur", 1, bottom_row(s));
        PUTS(&o, "\033[H");
        draw(s, &o);
        return o.len;
}

size_t status_line_end(struct status_line *s, uint8_t *out, size_t size) {
        struct out o = { out, size, 0 };

        if (s->scan != SCAN_GROUND)
                putc_(&o, CAN);
        s->scan = SCAN_GROUND;
        s->seq_len = 0;
        s->utf8_left = 0;
        PUTS(&o, "\033[0m\033[r");
        putf(&o, "\033[%u;%uH\033[2K", s->rows, 1);
        return o.len;
}

size_t status_line_resize(struct status_line *s, unsigned rows, unsigned cols, uint8_t *out, size_t size) {
        struct out o = { out, size, 0 };

        s->rows = rows ? rows : s->rows;
        s->cols = cols ? cols : s->cols;
        if (s->scan != SCAN_GROUND)
                return 0; /* the next repaint at ground state follows */
        PUTS(&o, "\0337");
        if (s->rows >= 2)
                putf(&o, "\033[%u;%ur", 1, bottom_row(s));
        PUTS(&o, "\0338");
        draw(s, &o);
        return o.len;
}

/* A complete CSI sequence in s->seq: pass it, rewrite it or drop it. */
static void csi_done(struct status_line *s, struct out *o) {
        uint8_t final = s->seq[s->seq_len - 1];
        const uint8_t *p = s->seq + 2;
        size_t plen = s->seq_len - 3;
        unsigned v[2] = { 0, 0 };
        size_t nv = 0;
        bool plain = true;

        if (s->seq_overflow || final == 't')
                return; /* too long to check, or a window operation: dropped */
        if (final != 'r') {
                put(o, s->seq, s->seq_len);
                return;
        }
        /* "CSI ? ... r" (private) and "CSI ... $ r" (an intermediate byte:
         * rectangle attributes) are other sequences: passed. */
        if (plen > 0 && (p[0] == '<' || p[0] == '=' || p[0] == '>' || p[0] == '?'))
                plain = false;
        for (size_t i = 0; i < plen; i++)
                if (p[i] >= 0x20 && p[i] <= 0x2f)
                        plain = false;
        if (!plain) {
                put(o, s->seq, s->seq_len);
                return;
        }
        /* DECSTBM "CSI top ; bottom r": terminals use the first two
         * parameters and ignore the rest; anything but digits and ';' (a
         * sub-parameter ':') is dropped rather than guessed at. */
        for (size_t i = 0; i < plen; i++) {
                if (p[i] >= '0' && p[i] <= '9') {
                        if (nv < 2 && v[nv] < 100000)
                                v[nv] = v[nv] * 10 + (unsigned) (p[i] - '0');
                } else if (p[i] == ';')
                        nv++;
                else
                        return;
        }
        unsigned top = v[0] ? v[0] : 1, bottom = v[1] ? v[1] : bottom_row(s);
        if (bottom > bottom_row(s))
                bottom = bottom_row(s);
        if (top >= bottom)
                return; /* invalid region: terminals ignore it, so do we */
        putf(o, "\033[%u;%ur", top, bottom);
}

static void byte(struct status_line *s, struct out *o, uint8_t c) {
        switch (s->scan) {
        case SCAN_GROUND:
                if (s->utf8_left) {
                        if ((c & 0xc0) == 0x80) {
                                s->utf8_left--;
                                putc_(o, c);
                                return;
                        }
                        s->utf8_left = 0;
                        putc_(o, '?'); /* the broken character */
                }
                if (c == ESC) {
                        s->scan = SCAN_ESC;
                        return;
                }
                if (c < 0x80) {
                        putc_(o, c);
                        return;
                }
                if (c >= 0xc2 && c <= 0xdf)
                        s->utf8_left = 1;
                else if (c >= 0xe0 && c <= 0xef)
                        s->utf8_left = 2;
                else if (c >= 0xf0 && c <= 0xf4)
                        s->utf8_left = 3;
                else {
                        putc_(o, '?'); /* C1 controls and bytes that never start UTF-8 */
                        return;
                }
                putc_(o, c);
                return;
        case SCAN_ESC:
                if (c == '[') {
                        s->scan = SCAN_CSI;
                        s->seq[0] = ESC;
                        s->seq[1] = '[';
                        s->seq_len = 2;
                        s->seq_overflow = false;
                } else if (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_')
                        s->scan = SCAN_STRING; /* dropped whole */
                else if (c == CAN || c == SUB)
                        s->scan = SCAN_GROUND;
                else if (c == ESC)
                        s->scan = SCAN_ESC;
                else if (c >= 0x20 && c <= 0x2f) {
                        PUTS(o, "\033");
                        putc_(o, c);
                        s->scan = SCAN_ESC_INT;
                } else if (c == 'c') {
                        /* RIS would reset the region and more: a clear instead. */
                        PUTS(o, "\033[0m\033[H\033[2J");
                        if (s->rows >= 2)
                                putf(o, "\033[%u;%ur\033[H", 1, bottom_row(s));
                        s->scan = SCAN_GROUND;
                } else if (c >= 0x30 && c <= 0x7e) {
                        PUTS(o, "\033");
                        putc_(o, c);
                        s->scan = SCAN_GROUND;
                } else if (c < 0x20)
                        putc_(o, c); /* C0 controls act inside sequences */
                else
                        s->scan = SCAN_GROUND;
                return;
        case SCAN_ESC_INT:
                if (c >= 0x20 && c <= 0x2f)
                        putc_(o, c);
                else if (c >= 0x30 && c <= 0x7e) {
                        putc_(o, c);
                        s->scan = SCAN_GROUND;
                } else if (c == ESC)
                        s->scan = SCAN_ESC;
                else if (c == CAN || c == SUB) {
                        putc_(o, c);
                        s->scan = SCAN_GROUND;
                } else if (c < 0x20)
                        putc_(o, c);
                else {
                        putc_(o, CAN);
                        s->scan = SCAN_GROUND;
                }
                return;
        case SCAN_CSI:
                if (c == CAN || c == SUB) {
                        s->scan = SCAN_GROUND; /* aborted: nothing was sent */
                        return;
                }
                if (c == ESC) {
                        s->scan = SCAN_ESC;
                        return;
                }
                if (c < 0x20) {
                        putc_(o, c); /* executed immediately, as terminals do */
                        return;
                }
                if (c > 0x7e) {
                        s->scan = SCAN_GROUND; /* malformed: dropped */
                        return;
                }
                if (s->seq_len < STATUS_SEQ_MAX)
                        s->seq[s->seq_len++] = c;
                else
                        s->seq_overflow = true;
                if (c >= 0x40) {
                        if (!s->seq_overflow)
                                csi_done(s, o);
                        s->seq_len = 0;
                        s->scan = SCAN_GROUND;
                }
                return;
        case SCAN_STRING:
                if (c == BEL || c == CAN || c == SUB)
                        s->scan = SCAN_GROUND;
                else if (c == ESC)
                        s->scan = SCAN_STRING_ESC;
                return;
        case SCAN_STRING_ESC:
                /* ESC \ ends the string; any other ESC sequence also ends it. */
                s->scan = c == '\\' ? SCAN_GROUND : SCAN_ESC;
                if (c != '\\')
                        byte(s, o, c);
                return;
        }
}

size_t status_line_filter(struct status_line *s, const uint8_t *in, size_t len, uint8_t *out, size_t size,
                          bool *pending) {
        struct out o = { out, size, 0 };

        for (size_t i = 0; i < len; i++)
                byte(s, &o, in[i]);
        if (s->scan == SCAN_GROUND && s->utf8_left == 0) {
                draw(s, &o);
                *pending = false;
        } else
                *pending = true;
        return o.len;
}

size_t status_line_flush(struct status_line *s, uint8_t *out, size_t size) {
        struct out o = { out, size, 0 };

        if (s->scan != SCAN_GROUND || s->utf8_left)
                putc_(&o, s->utf8_left ? '?' : CAN);
        s->scan = SCAN_GROUND;
        s->utf8_left = 0;
        s->seq_len = 0;
        draw(s, &o);
        return o.len;
}
