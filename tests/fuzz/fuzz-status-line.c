/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the level indicator filter (src/ctl/status-line.c)
 * reads what a level writes to its terminal, untrusted input.  Checks:
 * the output stays within STATUS_OUT_MAX, and no scrolling region it lets
 * through reaches the indicator row.  The first byte splits the input in
 * two chunks (sequences cut across reads). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "status-line.h"

#define ROWS 24

/* Every "ESC [ params r" in out (no private marker, no intermediate)
 * must have a second parameter, and it must end above the last row. */
static void check_regions(const uint8_t *out, size_t n) {
        for (size_t i = 0; i + 2 < n; i++) {
                if (out[i] != 0x1b || out[i + 1] != '[')
                        continue;
                size_t k = i + 2;
                unsigned v[2] = { 0, 0 };
                size_t nv = 0;
                while (k < n && ((out[k] >= '0' && out[k] <= '9') || out[k] == ';' || out[k] == ':')) {
                        if (out[k] == ';' || out[k] == ':')
                                nv++;
                        else if (nv < 2 && v[nv] < 100000)
                                v[nv] = v[nv] * 10 + (unsigned) (out[k] - '0');
                        k++;
                }
                if (k < n && out[k] == 'r' && (nv == 0 || v[1] == 0 || v[1] >= ROWS))
                        abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static uint8_t out[STATUS_OUT_MAX(4096)];
        struct status_line s;
        bool pending;
        size_t cut, n;

        if (size < 1 || size > 4096)
                return 0;
        cut = data[0] % size;
        status_line_init(&s, "level x", 31, ROWS, 80);
        n = status_line_filter(&s, data + 1, cut, out, STATUS_OUT_MAX(cut), &pending);
        if (n > STATUS_OUT_MAX(cut))
                abort();
        check_regions(out, n);
        n = status_line_filter(&s, data + 1 + cut, size - 1 - cut, out, STATUS_OUT_MAX(size - 1 - cut), &pending);
        if (n > STATUS_OUT_MAX(size - 1 - cut))
                abort();
        check_regions(out, n);
        n = status_line_flush(&s, out, sizeof out);
        check_regions(out, n);
        return 0;
}
