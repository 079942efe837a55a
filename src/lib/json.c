/* SPDX-License-Identifier: MIT */
#include "json.h"

#include <inttypes.h>

void json_write_escaped(FILE *f, const char *s) {
        (void) fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                switch (*p) {
                case '"': (void) fputs("\\\"", f); break;
                case '\\': (void) fputs("\\\\", f); break;
                case '\n': (void) fputs("\\n", f); break;
                case '\t': (void) fputs("\\t", f); break;
                case '\r': (void) fputs("\\r", f); break;
                default:
                        if (*p < 0x20 || *p == 0x7f)
                                (void) fprintf(f, "\\u%04x", *p);
                        else
                                (void) fputc(*p, f);
                }
        }
        (void) fputc('"', f);
}

static void json_key(struct json_writer *w, const char *key) {
        if (w->need_comma[w->depth])
                (void) fputc(',', w->f);
        w->need_comma[w->depth] = true;
        (void) fputc('\n', w->f);
        for (unsigned i = 0; i < w->depth; i++)
                (void) fputs("  ", w->f);
        if (key) {
                json_write_escaped(w->f, key);
                (void) fputs(": ", w->f);
        }
}

static void json_open(struct json_writer *w, const char *key, char c) {
        if (w->depth > 0 || w->need_comma[0])
                json_key(w, key);
        (void) fputc(c, w->f);
        if (w->depth + 1 < sizeof w->need_comma / sizeof w->need_comma[0])
                w->depth++;
        w->need_comma[w->depth] = false;
}

static void json_close(struct json_writer *w, char c) {
        if (w->depth > 0)
                w->depth--;
        (void) fputc('\n', w->f);
        for (unsigned i = 0; i < w->depth; i++)
                (void) fputs("  ", w->f);
        (void) fputc(c, w->f);
        if (w->depth == 0)
                (void) fputc('\n', w->f);
}

void json_begin_object(struct json_writer *w, const char *key) { json_open(w, key, '{'); }
void json_end_object(struct json_writer *w) { json_close(w, '}'); }
void json_begin_array(struct json_writer *w, const char *key) { json_open(w, key, '['); }
void json_end_array(struct json_writer *w) { json_close(w, ']'); }

void json_string(struct json_writer *w, const char *key, const char *value) {
        json_key(w, key);
        json_write_escaped(w->f, value);
}
void json_int(struct json_writer *w, const char *key, int64_t value) {
        json_key(w, key);
        (void) fprintf(w->f, "%" PRId64, value);
}
void json_bool(struct json_writer *w, const char *key, bool value) {
        json_key(w, key);
        (void) fputs(value ? "true" : "false", w->f);
}
