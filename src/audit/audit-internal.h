/* SPDX-License-Identifier: MIT */
/* Shared by the files of the audit module, the unit tests and the fuzzer;
 * not part of the API. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit.h"

#define AUDIT_HASH_SIZE 32
#define AUDIT_LOG_ID_SIZE 16
#define AUDIT_KEY_ID_SIZE 8
#define AUDIT_TIME_LEN 27 /* 2026-11-05T12:34:56.123456Z */
#define AUDIT_FORMAT_VERSION 1
#define AUDIT_HEAD_MAX 256 /* bytes of the head file */

/* A parsed record.  Values are decoded, NUL-terminated, in values[]. */
struct audit_record {
        uint64_t seq;
        char time[AUDIT_TIME_LEN + 1];
        enum audit_type type;
        unsigned n_fields;
        struct audit_field fields[AUDIT_FIELDS_MAX];
        char keys[AUDIT_FIELDS_MAX][AUDIT_KEY_NAME_MAX + 1];
        char values[AUDIT_RECORD_MAX];
        uint8_t prev[AUDIT_HASH_SIZE];
        uint8_t hash[AUDIT_HASH_SIZE]; /* as written in the record */
        uint8_t mac[AUDIT_HASH_SIZE];
        size_t hashed_len;             /* bytes of the line the hash covers */
};

/* ---- audit-record.c ---- */

/* Parse one line (without its newline) into r.  Strict: exactly one
 * canonical spelling of every record is accepted.  Returns 0 or -EBADMSG,
 * with a reason in why (static string) when why is not NULL. */
int audit_record_parse(const char *line, size_t len, struct audit_record *r, const char **why);
/* Format a record ending in " prev=HEX", without hash, MAC and newline,
 * into buf.  Returns its length, -E2BIG unless the sealed record fits in
 * both AUDIT_RECORD_MAX and buf (with a NUL), or -EINVAL for bad keys. */
int audit_record_format_body(char *buf, size_t size, uint64_t seq, const char *time, enum audit_type type,
                             const struct audit_field *fields, size_t n, const uint8_t prev[AUDIT_HASH_SIZE]);
/* Complete a body of len bytes in buf: append " hash=HEX mac=HEX\n"
 * (hash of the body, also stored in hash; MAC of that hash).  Returns the
 * record's total length or -errno. */
int audit_record_seal(char *buf, size_t size, size_t len, const uint8_t key[AUDIT_KEY_SIZE],
                      const uint8_t log_id[AUDIT_LOG_ID_SIZE], uint64_t seq, uint8_t hash[AUDIT_HASH_SIZE]);
/* Check a field name; 0 or -EINVAL. */
int audit_check_key(const char *key);
/* Value of the first field named key, or NULL. */
const char *audit_record_get(const struct audit_record *r, const char *key);
/* Format a CLOCK_REALTIME time; 0 or -errno. */
int audit_format_time(char buf[AUDIT_TIME_LEN + 1]);

/* Lowercase hex; parse accepts lowercase only, exactly 2*n digits. */
void audit_hex(const uint8_t *b, size_t n, char *out);
int audit_unhex(const char *s, size_t len, uint8_t *b, size_t n);

/* ---- audit-crypto.c ---- */

int audit_sha256(const void *data, size_t len, uint8_t out[AUDIT_HASH_SIZE]);
/* prev of record 0: commits to the log id. */
int audit_genesis(const uint8_t log_id[AUDIT_LOG_ID_SIZE], uint8_t out[AUDIT_HASH_SIZE]);
int audit_key_id(const uint8_t key[AUDIT_KEY_SIZE], uint8_t out[AUDIT_KEY_ID_SIZE]);
/* MAC of a record: over (log id, seq, the record's hash). */
int audit_record_mac(const uint8_t key[AUDIT_KEY_SIZE], const uint8_t log_id[AUDIT_LOG_ID_SIZE], uint64_t seq,
                     const uint8_t hash[AUDIT_HASH_SIZE], uint8_t out[AUDIT_HASH_SIZE]);
int audit_head_mac(const uint8_t key[AUDIT_KEY_SIZE], const uint8_t log_id[AUDIT_LOG_ID_SIZE], uint64_t seq,
                   uint64_t anchor_seq, const uint8_t hash[AUDIT_HASH_SIZE], uint8_t out[AUDIT_HASH_SIZE]);
/* Constant-time comparison of two MACs. */
bool audit_mac_equal(const uint8_t a[AUDIT_HASH_SIZE], const uint8_t b[AUDIT_HASH_SIZE]);
int audit_random(void *buf, size_t n);
/* audit_key_load() relative to a directory fd. */
int audit_key_load_at(int dir_fd, const char *name, uint8_t key[AUDIT_KEY_SIZE]);

/* ---- the head file ---- */

struct audit_head {
        uint8_t log_id[AUDIT_LOG_ID_SIZE];
        uint64_t seq;        /* last record */
        uint64_t anchor_seq; /* last ANCHOR record */
        uint8_t hash[AUDIT_HASH_SIZE];
        uint8_t mac[AUDIT_HASH_SIZE];
};

/* "rempart-audit-head 1 log=HEX seq=N anchor=N hash=HEX mac=HEX\n" */
int audit_head_parse(const char *text, size_t len, struct audit_head *h);
int audit_head_format(const struct audit_head *h, char *buf, size_t size);
/* 0, or -EBADMSG when the MAC is wrong. */
int audit_head_check(const struct audit_head *h, const uint8_t key[AUDIT_KEY_SIZE]);

/* ---- audit-verify.c: the verifier, fed line by line ---- */

struct audit_verifier;

/* key may be NULL.  cb may be NULL (problems are only counted). */
int audit_verifier_new(const uint8_t *key, audit_problem_cb cb, void *userdata, struct audit_verifier **ret);
void audit_verifier_free(struct audit_verifier *v);
/* One line without its newline, starting at byte offset of the file;
 * newline says whether it had one (only the last line of a file may lack
 * it); overlong: longer than any record (line/len then unused).  Returns
 * 0, or the callback's negative return. */
int audit_verifier_line(struct audit_verifier *v, uint64_t offset, const char *line, size_t len, bool newline,
                        bool overlong);
/* End of the log: compare with the head file (NULL: missing; head_len 0
 * with head_text set: empty).  Fills result. */
int audit_verifier_finish(struct audit_verifier *v, const char *head_text, size_t head_len,
                          struct audit_verify_result *result);
