/* SPDX-License-Identifier: MIT */
/* The record line: formatting for the writer, strict parsing for the
 * verifier.
 *
 *   SEQ SP TIME SP TYPE *(SP KEY=VALUE) SP prev=HEX64 SP hash=HEX64 SP mac=HEX64 LF
 *
 * hash is the SHA-256 of the line up to the end of prev=HEX64 (so each
 * record commits to the one before it), mac the HMAC of (log id, seq,
 * hash) under the log's key.
 * Only printable ASCII and single spaces appear in a line: values escape
 * every other byte, and '%', as %XX (uppercase).  The parser accepts one
 * spelling only (no lowercase escapes, no needless escapes, no leading
 * zeros, lowercase hashes): the hash covers the bytes, so two spellings of
 * one record would be two records to an auditor reading the text. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "audit-internal.h"
#include "macro.h"

static const char *const type_names[_AUDIT_TYPE_MAX] = {
        [AUDIT_HEADER] = "HEADER",
        [AUDIT_ANCHOR] = "ANCHOR",
        [AUDIT_RECOVERY] = "RECOVERY",
        [AUDIT_XFER_ALLOWED] = "XFER_ALLOWED",
        [AUDIT_XFER_DENIED] = "XFER_DENIED",
        [AUDIT_XFER_CONFIRMED] = "XFER_CONFIRMED",
        [AUDIT_XFER_EXPIRED] = "XFER_EXPIRED",
        [AUDIT_XFER_FAILED] = "XFER_FAILED",
        [AUDIT_XFER_HELD] = "XFER_HELD",
        [AUDIT_XFER_CONFIRM_REFUSED] = "XFER_CONFIRM_REFUSED",
        [AUDIT_JAIL_REFUSED] = "JAIL_REFUSED",
        [AUDIT_LEVEL_RESTART] = "LEVEL_RESTART",
        [AUDIT_INTEGRITY_ERROR] = "INTEGRITY_ERROR",
};

const char *audit_type_to_string(enum audit_type t) {
        if ((unsigned) t >= _AUDIT_TYPE_MAX)
                return NULL;
        return type_names[t];
}

int audit_type_from_string(const char *s, enum audit_type *ret) {
        for (unsigned i = 0; i < _AUDIT_TYPE_MAX; i++)
                if (strcmp(s, type_names[i]) == 0) {
                        *ret = (enum audit_type) i;
                        return 0;
                }
        return -EINVAL;
}

bool audit_type_is_event(enum audit_type t) {
        return (unsigned) t < _AUDIT_TYPE_MAX && t != AUDIT_HEADER && t != AUDIT_ANCHOR && t != AUDIT_RECOVERY;
}

/* ---- hex ---- */

void audit_hex(const uint8_t *b, size_t n, char *out) {
        static const char digits[] = "0123456789abcdef";
        for (size_t i = 0; i < n; i++) {
                out[2 * i] = digits[b[i] >> 4];
                out[2 * i + 1] = digits[b[i] & 15];
        }
        out[2 * n] = '\0';
}

static int lower_hex_digit(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

int audit_unhex(const char *s, size_t len, uint8_t *b, size_t n) {
        if (len != 2 * n)
                return -EBADMSG;
        for (size_t i = 0; i < n; i++) {
                int hi = lower_hex_digit(s[2 * i]), lo = lower_hex_digit(s[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return -EBADMSG;
                b[i] = (uint8_t) (hi << 4 | lo);
        }
        return 0;
}

/* ---- escaping ---- */

static bool byte_is_plain(unsigned char c) {
        return c >= 0x21 && c <= 0x7e && c != '%';
}

static int upper_hex_digit(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int audit_check_key(const char *key) {
        size_t n = strlen(key);

        if (n == 0 || n > AUDIT_KEY_NAME_MAX || key[0] < 'a' || key[0] > 'z')
                return -EINVAL;
        for (size_t i = 1; i < n; i++)
                if (!((key[i] >= 'a' && key[i] <= 'z') || (key[i] >= '0' && key[i] <= '9') || key[i] == '_'))
                        return -EINVAL;
        if (strcmp(key, "prev") == 0 || strcmp(key, "hash") == 0 || strcmp(key, "mac") == 0)
                return -EINVAL;
        return 0;
}

/* ---- formatting ---- */

struct out {
        char *buf;
        size_t size, len;
        bool overflow;
};

static void out_bytes(struct out *o, const char *s, size_t n) {
        if (o->overflow || n > o->size - o->len) {
                o->overflow = true;
                return;
        }
        memcpy(o->buf + o->len, s, n);
        o->len += n;
}

static void out_str(struct out *o, const char *s) {
        out_bytes(o, s, strlen(s));
}

static void out_escaped(struct out *o, const char *s) {
        static const char digits[] = "0123456789ABCDEF";
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (byte_is_plain(*p))
                        out_bytes(o, (const char *) p, 1);
                else {
                        char e[3] = { '%', digits[*p >> 4], digits[*p & 15] };
                        out_bytes(o, e, 3);
                }
        }
}

/* Room kept after a body: " hash=HEX64 mac=HEX64" + newline. */
#define SEAL_LEN (6 + 2 * AUDIT_HASH_SIZE + 5 + 2 * AUDIT_HASH_SIZE + 1)

int audit_record_format_body(char *buf, size_t size, uint64_t seq, const char *time, enum audit_type type,
                             const struct audit_field *fields, size_t n, const uint8_t prev[AUDIT_HASH_SIZE]) {
        char num[24], hex[2 * AUDIT_HASH_SIZE + 1];
        const char *name = audit_type_to_string(type);
        struct out o = { buf, 0, 0, false };

        if (!name || n > AUDIT_FIELDS_MAX || strlen(time) != AUDIT_TIME_LEN || seq > INT64_MAX)
                return -EINVAL;
        /* room for audit_record_seal(): the rest of the line and a NUL */
        if (size > AUDIT_RECORD_MAX + 1)
                size = AUDIT_RECORD_MAX + 1;
        if (size <= SEAL_LEN + 1)
                return -E2BIG;
        o.size = size - SEAL_LEN - 1;
        (void) snprintf(num, sizeof num, "%llu", (unsigned long long) seq);
        out_str(&o, num);
        out_str(&o, " ");
        out_str(&o, time);
        out_str(&o, " ");
        out_str(&o, name);
        for (size_t i = 0; i < n; i++) {
                if (!fields[i].key || !fields[i].value || audit_check_key(fields[i].key) < 0)
                        return -EINVAL;
                out_str(&o, " ");
                out_str(&o, fields[i].key);
                out_str(&o, "=");
                out_escaped(&o, fields[i].value);
        }
        audit_hex(prev, AUDIT_HASH_SIZE, hex);
        out_str(&o, " prev=");
        out_str(&o, hex);
        if (o.overflow)
                return -E2BIG;
        return (int) o.len;
}

int audit_record_seal(char *buf, size_t size, size_t len, const uint8_t key[AUDIT_KEY_SIZE],
                      const uint8_t log_id[AUDIT_LOG_ID_SIZE], uint64_t seq, uint8_t hash[AUDIT_HASH_SIZE]) {
        char hex_hash[2 * AUDIT_HASH_SIZE + 1], hex_mac[2 * AUDIT_HASH_SIZE + 1];
        uint8_t mac[AUDIT_HASH_SIZE];
        int r;

        /* room for the NUL that snprintf() writes after the newline */
        if (len + SEAL_LEN >= size || len + SEAL_LEN > AUDIT_RECORD_MAX)
                return -E2BIG;
        r = audit_sha256(buf, len, hash);
        if (r >= 0)
                r = audit_record_mac(key, log_id, seq, hash, mac);
        if (r < 0)
                return r;
        audit_hex(hash, AUDIT_HASH_SIZE, hex_hash);
        audit_hex(mac, AUDIT_HASH_SIZE, hex_mac);
        r = snprintf(buf + len, size - len, " hash=%s mac=%s\n", hex_hash, hex_mac);
        if (r != SEAL_LEN)
                return -EIO;
        return (int) (len + SEAL_LEN);
}

int audit_format_time(char buf[AUDIT_TIME_LEN + 1]) {
        char tmp[96];
        struct timespec ts;
        struct tm tm;
        int n;

        if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
                return negative_errno();
        if (!gmtime_r(&ts.tv_sec, &tm))
                return -EOVERFLOW;
        n = snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long) (ts.tv_nsec / 1000));
        if (n != AUDIT_TIME_LEN)
                return -EOVERFLOW; /* years before 0 or after 9999 */
        memcpy(buf, tmp, AUDIT_TIME_LEN + 1);
        return 0;
}

/* ---- parsing ---- */

static int fail(const char **why, const char *reason) {
        if (why)
                *why = reason;
        return -EBADMSG;
}

static bool digits_in_range(const char *s, unsigned lo, unsigned hi) {
        unsigned v;
        if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
                return false;
        v = (unsigned) (s[0] - '0') * 10 + (unsigned) (s[1] - '0');
        return v >= lo && v <= hi;
}

static bool time_valid(const char *s, size_t n) {
        static const char pattern[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";

        if (n != AUDIT_TIME_LEN)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (pattern[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pattern[i])
                        return false;
        }
        return digits_in_range(s + 5, 1, 12) && digits_in_range(s + 8, 1, 31) && digits_in_range(s + 11, 0, 23) &&
               digits_in_range(s + 14, 0, 59) && digits_in_range(s + 17, 0, 60);
}

static int parse_seq(const char *s, size_t n, uint64_t *ret) {
        uint64_t v = 0;

        if (n == 0 || n > 19 || (n > 1 && s[0] == '0'))
                return -EBADMSG;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EBADMSG;
                v = v * 10 + (uint64_t) (s[i] - '0');
        }
        if (v > INT64_MAX)
                return -EBADMSG;
        *ret = v;
        return 0;
}

/* Decode a value into out (room for n + 1 bytes); canonical only. */
static int decode_value(const char *s, size_t n, char *out) {
        size_t k = 0;

        for (size_t i = 0; i < n; i++) {
                if (s[i] != '%') {
                        out[k++] = s[i];
                        continue;
                }
                if (n - i < 3)
                        return -EBADMSG;
                int hi = upper_hex_digit(s[i + 1]), lo = upper_hex_digit(s[i + 2]);
                if (hi < 0 || lo < 0)
                        return -EBADMSG;
                unsigned char c = (unsigned char) (hi << 4 | lo);
                if (c == 0 || byte_is_plain(c))
                        return -EBADMSG; /* NUL, or a needless escape */
                out[k++] = (char) c;
                i += 2;
        }
        out[k] = '\0';
        return 0;
}

/* "name=HEX64" */
static bool tail_word(const char *t, size_t n, const char *name, uint8_t out[AUDIT_HASH_SIZE]) {
        size_t nl = strlen(name);
        return n > nl && memcmp(t, name, nl) == 0 && audit_unhex(t + nl, n - nl, out, AUDIT_HASH_SIZE) >= 0;
}

int audit_record_parse(const char *line, size_t len, struct audit_record *r, const char **why) {
        const char *tok[AUDIT_FIELDS_MAX + 6];
        size_t tlen[AUDIT_FIELDS_MAX + 6], nt = 0, start = 0, vpos = 0;

        if (len + 1 > AUDIT_RECORD_MAX)
                return fail(why, "line too long");
        for (size_t i = 0; i <= len; i++) {
                if (i < len && line[i] != ' ') {
                        if ((unsigned char) line[i] < 0x21 || (unsigned char) line[i] > 0x7e)
                                return fail(why, "byte outside printable ASCII");
                        continue;
                }
                if (i == start)
                        return fail(why, "empty word (leading, trailing or double space)");
                if (nt == ELEMENTSOF(tok))
                        return fail(why, "too many fields");
                tok[nt] = line + start;
                tlen[nt++] = i - start;
                start = i + 1;
        }
        if (nt < 6)
                return fail(why, "too few words");
        if (parse_seq(tok[0], tlen[0], &r->seq) < 0)
                return fail(why, "bad sequence number");
        if (!time_valid(tok[1], tlen[1]))
                return fail(why, "bad time");
        memcpy(r->time, tok[1], AUDIT_TIME_LEN);
        r->time[AUDIT_TIME_LEN] = '\0';
        {
                char name[24];
                if (tlen[2] >= sizeof name)
                        return fail(why, "unknown record type");
                memcpy(name, tok[2], tlen[2]);
                name[tlen[2]] = '\0';
                if (audit_type_from_string(name, &r->type) < 0)
                        return fail(why, "unknown record type");
        }
        if (!tail_word(tok[nt - 3], tlen[nt - 3], "prev=", r->prev))
                return fail(why, "bad or missing prev=");
        if (!tail_word(tok[nt - 2], tlen[nt - 2], "hash=", r->hash))
                return fail(why, "bad or missing hash=");
        if (!tail_word(tok[nt - 1], tlen[nt - 1], "mac=", r->mac))
                return fail(why, "bad or missing mac=");
        r->hashed_len = (size_t) (tok[nt - 2] - line) - 1;

        r->n_fields = 0;
        for (size_t i = 3; i < nt - 3; i++) {
                const char *eq = memchr(tok[i], '=', tlen[i]);
                size_t klen, vlen;

                if (!eq)
                        return fail(why, "field without '='");
                klen = (size_t) (eq - tok[i]);
                vlen = tlen[i] - klen - 1;
                if (klen == 0 || klen > AUDIT_KEY_NAME_MAX)
                        return fail(why, "bad field name");
                memcpy(r->keys[r->n_fields], tok[i], klen);
                r->keys[r->n_fields][klen] = '\0';
                if (audit_check_key(r->keys[r->n_fields]) < 0)
                        return fail(why, "bad field name");
                /* decoded values (each at most as long as its text, plus
                 * a NUL where the text had '=') fit in values[] */
                if (vpos + vlen + 1 > sizeof r->values)
                        return fail(why, "values too long");
                if (decode_value(eq + 1, vlen, r->values + vpos) < 0)
                        return fail(why, "bad escape in a value");
                r->fields[r->n_fields].key = r->keys[r->n_fields];
                r->fields[r->n_fields].value = r->values + vpos;
                vpos += strlen(r->values + vpos) + 1;
                r->n_fields++;
        }
        return 0;
}

const char *audit_record_get(const struct audit_record *r, const char *key) {
        for (unsigned i = 0; i < r->n_fields; i++)
                if (strcmp(r->fields[i].key, key) == 0)
                        return r->fields[i].value;
        return NULL;
}
