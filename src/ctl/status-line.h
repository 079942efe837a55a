/* SPDX-License-Identifier: MIT */
/* The level indicator of an interactive session: the last row of the real
 * terminal belongs to the core and always shows which level the session
 * is in.  The level's output passes through status_line_filter(), which
 *   - keeps the level's scrolling region above the last row (DECSTBM
 *     sequences are rewritten with their bottom clamped),
 *   - drops any control sequence longer than STATUS_SEQ_MAX bytes (it
 *     could hide a region change from the clamp), window operations
 *     (CSI ... t) and every string sequence (OSC, DCS, APC, PM, SOS: OSC 52
 *     would let a level read the core's clipboard through the terminal),
 *   - replaces bytes that are not UTF-8 (raw C1 controls included) by '?',
 *   - repaints the indicator after every chunk of output, at a point where
 *     the terminal is between sequences and characters (never inside an
 *     escape sequence or a UTF-8 character, where it would be misread).
 * Anything the level draws on the last row is overwritten at once.  If the
 * level leaves a sequence unfinished, status_line_flush() cancels it (CAN)
 * and repaints.  Pure logic: bytes in, bytes out, no I/O. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATUS_SEQ_MAX 64
#define STATUS_TEXT_MAX 160
#define STATUS_REDRAW_MAX ((size_t) STATUS_TEXT_MAX + 128)
/* Room out needs for len bytes of input: a rewritten region ("\033[r",
 * 3 bytes) may grow to 14, a held sequence is released, one repaint. */
#define STATUS_OUT_MAX(len) ((size_t) 5 * (size_t) (len) + (size_t) 2 * STATUS_SEQ_MAX + (size_t) STATUS_REDRAW_MAX)

enum status_scan {
        SCAN_GROUND,
        SCAN_ESC,      /* after ESC */
        SCAN_ESC_INT,  /* ESC + intermediate bytes (charset designation...) */
        SCAN_CSI,      /* ESC [ ... until a final byte */
        SCAN_STRING,   /* OSC, DCS, SOS, PM, APC: until BEL or ESC \ */
        SCAN_STRING_ESC,
};

struct status_line {
        unsigned rows, cols;         /* the real terminal */
        char text[STATUS_TEXT_MAX];  /* printable ASCII, shown reversed */
        int sgr;                     /* colour: 31..37 */
        enum status_scan scan;
        unsigned utf8_left;          /* continuation bytes still expected */
        uint8_t seq[STATUS_SEQ_MAX]; /* the CSI being held back */
        size_t seq_len;
        bool seq_overflow;
};

/* text is copied, non-printable bytes replaced by '?'. */
void status_line_init(struct status_line *s, const char *text, int sgr, unsigned rows, unsigned cols);
/* The real terminal changed size (the caller sets the level's terminal to
 * rows-1).  Writes the new region and the indicator to out; returns bytes. */
size_t status_line_resize(struct status_line *s, unsigned rows, unsigned cols, uint8_t *out, size_t size);
/* Session start: clear, set the region to rows 1..rows-1, draw. */
size_t status_line_begin(struct status_line *s, uint8_t *out, size_t size);
/* Session end: full region again, clear the indicator row. */
size_t status_line_end(struct status_line *s, uint8_t *out, size_t size);
/* Filter len bytes of level output into out (size >= STATUS_OUT_MAX(len));
 * returns the bytes written.  *pending is set when the
 * stream stopped inside a sequence and the indicator is owed a repaint. */
size_t status_line_filter(struct status_line *s, const uint8_t *in, size_t len, uint8_t *out, size_t size,
                          bool *pending);
/* Cancel an unfinished sequence (CAN) and repaint; returns bytes. */
size_t status_line_flush(struct status_line *s, uint8_t *out, size_t size);
/* Just the repaint (cursor saved and restored around it). */
size_t status_line_draw(const struct status_line *s, uint8_t *out, size_t size);
