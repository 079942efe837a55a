/* SPDX-License-Identifier: MIT */
#include "parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int parse_bool(const char *s, bool *ret) {
        static const char *const yes[] = { "1", "yes", "true", "on" };
        static const char *const no[] = { "0", "no", "false", "off" };

        for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
                if (strcmp(s, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
                if (strcmp(s, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        }
        return -EINVAL;
}

int parse_u64(const char *s, uint64_t max, uint64_t *ret) {
        char *end = NULL;
        unsigned long long v;

        if (!s || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno == ERANGE || v > max)
                return -ERANGE;
        if (errno != 0 || !end || *end != '\0')
                return -EINVAL;
        *ret = v;
        return 0;
}

int parse_i64(const char *s, int64_t min, int64_t max, int64_t *ret) {
        char *end = NULL;
        long long v;

        if (!s || !(isdigit((unsigned char) s[0]) || ((s[0] == '-' || s[0] == '+') && isdigit((unsigned char) s[1]))))
                return -EINVAL;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno == ERANGE || v < min || v > max)
                return -ERANGE;
        if (errno != 0 || !end || *end != '\0')
                return -EINVAL;
        *ret = v;
        return 0;
}

int parse_size(const char *s, uint64_t *ret, bool *is_max) {
        char buf[32];
        size_t n;
        unsigned shift = 0;
        uint64_t v;
        int r;

        if (!s)
                return -EINVAL;
        if (strcmp(s, "max") == 0 || strcmp(s, "infinity") == 0) {
                if (!is_max)
                        return -EINVAL;
                *is_max = true;
                *ret = UINT64_MAX;
                return 0;
        }
        n = strlen(s);
        if (n == 0 || n >= sizeof buf)
                return -EINVAL;
        memcpy(buf, s, n + 1);
        switch (buf[n - 1]) {
        case 'K': case 'k': shift = 10; break;
        case 'M': case 'm': shift = 20; break;
        case 'G': case 'g': shift = 30; break;
        case 'T': case 't': shift = 40; break;
        default: break;
        }
        if (shift != 0)
                buf[n - 1] = '\0';
        r = parse_u64(buf, UINT64_MAX >> shift, &v);
        if (r < 0)
                return r;
        if (is_max)
                *is_max = false;
        *ret = v << shift;
        return 0;
}

int split_words(const char *s, int (*cb)(const char *word, void *userdata), void *userdata) {
        const char *p = s;

        while (*p) {
                char word[256];
                size_t n;
                int r;

                p += strspn(p, " \t");
                if (*p == '\0')
                        break;
                n = strcspn(p, " \t");
                if (n >= sizeof word)
                        return -ENAMETOOLONG;
                memcpy(word, p, n);
                word[n] = '\0';
                r = cb(word, userdata);
                if (r < 0)
                        return r;
                p += n;
        }
        return 0;
}

bool path_is_normalized_absolute(const char *s) {
        const char *p;

        if (!s || s[0] != '/')
                return false;
        if (strcmp(s, "/") == 0)
                return true;
        for (p = s; *p; p++)
                if (!isprint((unsigned char) *p) || *p == ':')
                        return false;
        if (p[-1] == '/')
                return false;
        /* Walk components. */
        p = s;
        while (*p == '/') {
                const char *c = p + 1;
                size_t n = strcspn(c, "/");

                if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                p = c + n;
        }
        return true;
}

int parse_cpu_max(const char *s, uint64_t *quota_us, uint64_t *period_us) {
        unsigned long long quota, period;
        int consumed = 0;
        size_t n;

        if (!s)
                return -EINVAL;
        n = strlen(s);
        if (strcmp(s, "max") == 0) {
                *quota_us = UINT64_MAX;
                *period_us = 100000;
                return 0;
        }
        if (n > 1 && s[n - 1] == '%') {
                char buf[16];
                uint64_t pct;

                if (n - 1 >= sizeof buf)
                        return -EDOM;
                memcpy(buf, s, n - 1);
                buf[n - 1] = '\0';
                if (parse_u64(buf, 100000, &pct) < 0 || pct == 0)
                        return -EDOM;
                *period_us = 100000;
                *quota_us = pct * 1000;
                return 0;
        }
        if (!isdigit((unsigned char) s[0]) || sscanf(s, "%llu %llu%n", &quota, &period, &consumed) != 2 ||
            s[consumed] != '\0')
                return -EINVAL;
        /* The kernel accepts periods of 1 ms to 1 s and quotas of at least 1 ms. */
        if (period < 1000 || period > 1000000 || quota < 1000 || quota > (1ULL << 40))
                return -ERANGE;
        *quota_us = quota;
        *period_us = period;
        return 0;
}
