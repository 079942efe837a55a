/* SPDX-License-Identifier: MIT */
/* A minimal streaming JSON writer: enough for reports, with correct string
 * escaping.  State lives in the caller's struct, never in globals. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct json_writer {
        FILE *f;
        unsigned depth;
        bool need_comma[32];
};

void json_begin_object(struct json_writer *w, const char *key);
void json_end_object(struct json_writer *w);
void json_begin_array(struct json_writer *w, const char *key);
void json_end_array(struct json_writer *w);
void json_string(struct json_writer *w, const char *key, const char *value);
void json_int(struct json_writer *w, const char *key, int64_t value);
void json_bool(struct json_writer *w, const char *key, bool value);
/* Write s as a JSON string literal (quotes included). */
void json_write_escaped(FILE *f, const char *s);
