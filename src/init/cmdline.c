/* SPDX-License-Identifier: MIT */
#include "cmdline.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "parse.h"

#define PREFIX "rempart."

enum key {
        KEY_ROOT,
        KEY_VERITY,
        KEY_STATE,
        KEY_ROOTHASH,
        KEY_SLOT,
        KEY_FEC_OFFSET,
        KEY_FEC_ROOTS,
        _KEY_MAX,
};

static const struct {
        const char *name; /* without the prefix */
        bool mandatory;
} keys[_KEY_MAX] = {
        [KEY_ROOT] = { "root", true },
        [KEY_VERITY] = { "verity", true },
        [KEY_STATE] = { "state", true },
        [KEY_ROOTHASH] = { "roothash", true },
        [KEY_SLOT] = { "slot", true },
        [KEY_FEC_OFFSET] = { "fec_offset", true },
        [KEY_FEC_ROOTS] = { "fec_roots", false },
};

_printf_(2, 3) static int fail(struct cmdline_error *err, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

/* The key comes from outside and lands on the console: keep it short and
 * printable. */
static void sanitize(const char *s, char *buf, size_t size) {
        size_t i;

        for (i = 0; s[i] && i + 1 < size; i++)
                buf[i] = isprint((unsigned char) s[i]) ? s[i] : '?';
        buf[i] = '\0';
}

static int unhex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Canonical 8-4-4-4-12 form, either case; stored lowercase (as blkid reports
 * GPT partition UUIDs).  The nil UUID is refused: it is what a blank partition
 * entry carries. */
static int parse_uuid(const char *s, char out[static UUID_STRING_LEN + 1]) {
        bool nonzero = false;

        if (strlen(s) != UUID_STRING_LEN)
                return -EINVAL;
        for (size_t i = 0; i < UUID_STRING_LEN; i++) {
                if (i == 8 || i == 13 || i == 18 || i == 23) {
                        if (s[i] != '-')
                                return -EINVAL;
                        out[i] = '-';
                        continue;
                }
                int v = unhex(s[i]);
                if (v < 0)
                        return -EINVAL;
                nonzero = nonzero || v != 0;
                out[i] = "0123456789abcdef"[v];
        }
        out[UUID_STRING_LEN] = '\0';
        return nonzero ? 0 : -EINVAL;
}

static int parse_hash(const char *s, uint8_t out[static ROOT_HASH_SIZE]) {
        if (strlen(s) != 2 * ROOT_HASH_SIZE)
                return -EINVAL;
        for (size_t i = 0; i < ROOT_HASH_SIZE; i++) {
                int hi = unhex(s[2 * i]), lo = unhex(s[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                out[i] = (uint8_t) (hi << 4 | lo);
        }
        return 0;
}

static int set_value(struct init_cmdline *c, enum key k, const char *v) {
        uint64_t u;
        int r;

        switch (k) {
        case KEY_ROOT:
                return parse_uuid(v, c->root_partuuid);
        case KEY_VERITY:
                return parse_uuid(v, c->verity_partuuid);
        case KEY_STATE:
                return parse_uuid(v, c->state_partuuid);
        case KEY_ROOTHASH:
                return parse_hash(v, c->root_hash);
        case KEY_SLOT:
                if (strcmp(v, "a") != 0 && strcmp(v, "b") != 0)
                        return -EINVAL;
                c->slot = v[0];
                return 0;
        case KEY_FEC_OFFSET:
                /* The kernel takes the FEC start in data blocks: the offset
                 * must be block aligned.  0 would overlap the superblock. */
                r = parse_u64(v, UINT64_MAX - VERITY_BLOCK_SIZE, &u);
                if (r < 0 || u == 0 || u % VERITY_BLOCK_SIZE != 0)
                        return -EINVAL;
                c->fec_offset = u;
                return 0;
        case KEY_FEC_ROOTS:
                r = parse_u64(v, FEC_ROOTS_MAX, &u);
                if (r < 0 || u < FEC_ROOTS_MIN)
                        return -EINVAL;
                c->fec_roots = (unsigned) u;
                return 0;
        case _KEY_MAX:
                break;
        }
        return -EINVAL;
}

/* One word of the command line, quotes already grouped.  Quote removal follows
 * the kernel (lib/cmdline.c next_arg()): a leading quote of the word or of the
 * value is dropped together with the word's last character if that is a
 * quote; other quotes stay. */
static int handle_word(char *w, struct init_cmdline *c, unsigned *seen, struct cmdline_error *err) {
        char name[72];
        bool quoted = w[0] == '"';
        char *eq, *v = NULL;
        size_t len;
        int k;

        if (quoted)
                w++;
        len = strlen(w);
        eq = strchr(w, '=');
        if (eq) {
                *eq = '\0';
                v = eq + 1;
                if (*v == '"') {
                        v++;
                        if (len > 0 && w[len - 1] == '"')
                                w[len - 1] = '\0';
                }
        }
        if (quoted && len > 0 && w[len - 1] == '"')
                w[len - 1] = '\0';

        if (strncmp(w, PREFIX, strlen(PREFIX)) != 0)
                return 0;

        sanitize(w, name, sizeof name);
        for (k = 0; k < _KEY_MAX; k++)
                if (strcmp(w + strlen(PREFIX), keys[k].name) == 0)
                        break;
        if (k == _KEY_MAX)
                return fail(err, "unknown parameter %s", name);
        if (*seen & (1U << k))
                return fail(err, "parameter %s given more than once", name);
        *seen |= 1U << k;
        if (!v || !*v)
                return fail(err, "parameter %s needs a value", name);
        if (set_value(c, (enum key) k, v) < 0)
                return fail(err, "parameter %s: malformed value", name);
        return 0;
}

static int parse_words(char *p, struct init_cmdline *c, struct cmdline_error *err) {
        unsigned seen = 0;
        int r;

        for (;;) {
                bool in_quote = false;
                char *w;

                while (*p && isspace((unsigned char) *p))
                        p++;
                if (!*p)
                        break;
                w = p;
                for (; *p; p++) {
                        if (isspace((unsigned char) *p) && !in_quote)
                                break;
                        if (*p == '"')
                                in_quote = !in_quote;
                }
                if (*p)
                        *p++ = '\0';
                r = handle_word(w, c, &seen, err);
                if (r < 0)
                        return r;
        }

        for (int k = 0; k < _KEY_MAX; k++)
                if (keys[k].mandatory && !(seen & (1U << k)))
                        return fail(err, "missing parameter " PREFIX "%s", keys[k].name);
        if (strcmp(c->root_partuuid, c->verity_partuuid) == 0 || strcmp(c->root_partuuid, c->state_partuuid) == 0 ||
            strcmp(c->verity_partuuid, c->state_partuuid) == 0)
                return fail(err, "parameters " PREFIX "root, " PREFIX "verity and " PREFIX
                                 "state must name three different partitions");
        return 0;
}

int cmdline_parse(const char *line, struct init_cmdline *ret, struct cmdline_error *err) {
        struct init_cmdline c = { .fec_roots = FEC_ROOTS_DEFAULT };
        size_t n = strnlen(line, CMDLINE_MAX_SIZE + 1);
        char *buf;
        int r;

        err->msg[0] = '\0';
        if (n > CMDLINE_MAX_SIZE) {
                (void) fail(err, "command line longer than %zu bytes", CMDLINE_MAX_SIZE);
                return -E2BIG;
        }
        /* A private copy: words are cut in place. */
        buf = strndup(line, n);
        if (!buf) {
                (void) fail(err, "out of memory");
                return -ENOMEM;
        }
        r = parse_words(buf, &c, err);
        free(buf);
        if (r < 0)
                return r;
        *ret = c;
        return 0;
}

void cmdline_root_hash_hex(const struct init_cmdline *c, char buf[static 2 * ROOT_HASH_SIZE + 1]) {
        for (size_t i = 0; i < ROOT_HASH_SIZE; i++) {
                buf[2 * i] = "0123456789abcdef"[c->root_hash[i] >> 4];
                buf[2 * i + 1] = "0123456789abcdef"[c->root_hash[i] & 0xf];
        }
        buf[2 * ROOT_HASH_SIZE] = '\0';
}
