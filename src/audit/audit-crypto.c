/* SPDX-License-Identifier: MIT */
/* Hashes, MACs, the key file and the head file.  SHA-256 and HMAC-SHA-256
 * come from OpenSSL 3 (EVP); every MAC input starts with its own domain
 * string, so that a MAC made for one purpose is never valid for another. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit-internal.h"
#include "macro.h"

#define DOMAIN_GENESIS "rempart-audit-v1 genesis"
#define DOMAIN_KEY_ID "rempart-audit-v1 key-id"
#define DOMAIN_RECORD "rempart-audit-v1 record"
#define DOMAIN_HEAD "rempart-audit-v1 head"

int audit_sha256(const void *data, size_t len, uint8_t out[AUDIT_HASH_SIZE]) {
        unsigned int n = 0;

        if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != AUDIT_HASH_SIZE)
                return -EIO;
        return 0;
}

static int hmac(const uint8_t key[AUDIT_KEY_SIZE], const void *data, size_t len, uint8_t out[AUDIT_HASH_SIZE]) {
        size_t n = 0;

        if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, AUDIT_KEY_SIZE, data, len, out, AUDIT_HASH_SIZE, &n) ||
            n != AUDIT_HASH_SIZE)
                return -EIO;
        return 0;
}

static void put_be64(uint8_t *p, uint64_t v) {
        for (int i = 7; i >= 0; i--) {
                p[i] = (uint8_t) v;
                v >>= 8;
        }
}

/* The domain strings are written with their NUL, so that no domain is a
 * prefix of another's input. */
int audit_genesis(const uint8_t log_id[AUDIT_LOG_ID_SIZE], uint8_t out[AUDIT_HASH_SIZE]) {
        uint8_t in[sizeof DOMAIN_GENESIS + AUDIT_LOG_ID_SIZE];

        memcpy(in, DOMAIN_GENESIS, sizeof DOMAIN_GENESIS);
        memcpy(in + sizeof DOMAIN_GENESIS, log_id, AUDIT_LOG_ID_SIZE);
        return audit_sha256(in, sizeof in, out);
}

int audit_key_id(const uint8_t key[AUDIT_KEY_SIZE], uint8_t out[AUDIT_KEY_ID_SIZE]) {
        uint8_t mac[AUDIT_HASH_SIZE];
        int r = hmac(key, DOMAIN_KEY_ID, sizeof DOMAIN_KEY_ID, mac);

        if (r < 0)
                return r;
        memcpy(out, mac, AUDIT_KEY_ID_SIZE);
        return 0;
}

int audit_record_mac(const uint8_t key[AUDIT_KEY_SIZE], const uint8_t log_id[AUDIT_LOG_ID_SIZE], uint64_t seq,
                     const uint8_t hash[AUDIT_HASH_SIZE], uint8_t out[AUDIT_HASH_SIZE]) {
        uint8_t in[sizeof DOMAIN_RECORD + AUDIT_LOG_ID_SIZE + 8 + AUDIT_HASH_SIZE];
        uint8_t *p = in;

        memcpy(p, DOMAIN_RECORD, sizeof DOMAIN_RECORD);
        p += sizeof DOMAIN_RECORD;
        memcpy(p, log_id, AUDIT_LOG_ID_SIZE);
        p += AUDIT_LOG_ID_SIZE;
        put_be64(p, seq);
        p += 8;
        memcpy(p, hash, AUDIT_HASH_SIZE);
        return hmac(key, in, sizeof in, out);
}

int audit_head_mac(const uint8_t key[AUDIT_KEY_SIZE], const uint8_t log_id[AUDIT_LOG_ID_SIZE], uint64_t seq,
                   uint64_t anchor_seq, const uint8_t hash[AUDIT_HASH_SIZE], uint8_t out[AUDIT_HASH_SIZE]) {
        uint8_t in[sizeof DOMAIN_HEAD + AUDIT_LOG_ID_SIZE + 16 + AUDIT_HASH_SIZE];
        uint8_t *p = in;

        memcpy(p, DOMAIN_HEAD, sizeof DOMAIN_HEAD);
        p += sizeof DOMAIN_HEAD;
        memcpy(p, log_id, AUDIT_LOG_ID_SIZE);
        p += AUDIT_LOG_ID_SIZE;
        put_be64(p, seq);
        p += 8;
        put_be64(p, anchor_seq);
        p += 8;
        memcpy(p, hash, AUDIT_HASH_SIZE);
        return hmac(key, in, sizeof in, out);
}

bool audit_mac_equal(const uint8_t a[AUDIT_HASH_SIZE], const uint8_t b[AUDIT_HASH_SIZE]) {
        return CRYPTO_memcmp(a, b, AUDIT_HASH_SIZE) == 0;
}

int audit_random(void *buf, size_t n) {
        uint8_t *p = buf;

        while (n > 0) {
                ssize_t k = getrandom(p, n, 0);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

/* ---- key file ---- */

int audit_key_load(const char *path, uint8_t key[AUDIT_KEY_SIZE]) {
        return audit_key_load_at(AT_FDCWD, path, key);
}

int audit_key_load_at(int dir_fd, const char *name, uint8_t key[AUDIT_KEY_SIZE]) {
        _cleanup_close_ int fd = -1;
        uint8_t buf[AUDIT_KEY_SIZE + 1];
        struct stat st;
        ssize_t n;

        fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EBADMSG;
        /* A key others can read or write protects nothing. */
        if ((st.st_mode & 077) != 0)
                return -EPERM;
        n = read(fd, buf, sizeof buf);
        if (n < 0)
                return negative_errno();
        if (n != AUDIT_KEY_SIZE) {
                OPENSSL_cleanse(buf, sizeof buf);
                return -EBADMSG;
        }
        memcpy(key, buf, AUDIT_KEY_SIZE);
        OPENSSL_cleanse(buf, sizeof buf);
        return 0;
}

/* ---- head file ---- */

#define HEAD_MAGIC "rempart-audit-head 1 "

int audit_head_format(const struct audit_head *h, char *buf, size_t size) {
        char log[2 * AUDIT_LOG_ID_SIZE + 1], hash[2 * AUDIT_HASH_SIZE + 1], mac[2 * AUDIT_HASH_SIZE + 1];
        int n;

        audit_hex(h->log_id, AUDIT_LOG_ID_SIZE, log);
        audit_hex(h->hash, AUDIT_HASH_SIZE, hash);
        audit_hex(h->mac, AUDIT_HASH_SIZE, mac);
        n = snprintf(buf, size, HEAD_MAGIC "log=%s seq=%llu anchor=%llu hash=%s mac=%s\n", log,
                     (unsigned long long) h->seq, (unsigned long long) h->anchor_seq, hash, mac);
        if (n < 0 || (size_t) n >= size)
                return -E2BIG;
        return n;
}

/* Expect "name=" at *p, then a value up to the next space (or the end). */
static int head_word(const char **p, const char *end, const char *name, const char **val, size_t *vlen) {
        size_t nl = strlen(name);
        const char *sp;

        if ((size_t) (end - *p) < nl || memcmp(*p, name, nl) != 0)
                return -EBADMSG;
        *p += nl;
        sp = memchr(*p, ' ', (size_t) (end - *p));
        *val = *p;
        *vlen = (size_t) ((sp ? sp : end) - *p);
        *p = sp ? sp + 1 : end;
        return 0;
}

static int head_u64(const char *s, size_t n, uint64_t *ret) {
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

int audit_head_parse(const char *text, size_t len, struct audit_head *h) {
        const char *p = text, *end, *v;
        size_t vl;

        if (len < 1 || len > AUDIT_HEAD_MAX || text[len - 1] != '\n')
                return -EBADMSG;
        end = text + len - 1;
        if (memchr(text, '\n', len - 1) || memchr(text, '\0', len))
                return -EBADMSG;
        if ((size_t) (end - p) < strlen(HEAD_MAGIC) || memcmp(p, HEAD_MAGIC, strlen(HEAD_MAGIC)) != 0)
                return -EBADMSG;
        p += strlen(HEAD_MAGIC);
        if (head_word(&p, end, "log=", &v, &vl) < 0 || audit_unhex(v, vl, h->log_id, AUDIT_LOG_ID_SIZE) < 0)
                return -EBADMSG;
        if (head_word(&p, end, "seq=", &v, &vl) < 0 || head_u64(v, vl, &h->seq) < 0)
                return -EBADMSG;
        if (head_word(&p, end, "anchor=", &v, &vl) < 0 || head_u64(v, vl, &h->anchor_seq) < 0)
                return -EBADMSG;
        if (head_word(&p, end, "hash=", &v, &vl) < 0 || audit_unhex(v, vl, h->hash, AUDIT_HASH_SIZE) < 0)
                return -EBADMSG;
        if (head_word(&p, end, "mac=", &v, &vl) < 0 || audit_unhex(v, vl, h->mac, AUDIT_HASH_SIZE) < 0)
                return -EBADMSG;
        if (p != end || v + vl != end || h->anchor_seq > h->seq)
                return -EBADMSG;
        return 0;
}

int audit_head_check(const struct audit_head *h, const uint8_t key[AUDIT_KEY_SIZE]) {
        uint8_t mac[AUDIT_HASH_SIZE];
        int r = audit_head_mac(key, h->log_id, h->seq, h->anchor_seq, h->hash, mac);

        if (r < 0)
                return r;
        return audit_mac_equal(mac, h->mac) ? 0 : -EBADMSG;
}
