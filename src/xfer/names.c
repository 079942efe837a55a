/* SPDX-License-Identifier: MIT */
/* Names of transferred files: see names.h for the rules. */
#include "names.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"

static void reason(char *why, size_t whylen, const char *fmt, ...) _printf_(3, 4);
static void reason(char *why, size_t whylen, const char *fmt, ...) {
        if (why && whylen > 0) {
                va_list ap;
                va_start(ap, fmt);
                (void) vsnprintf(why, whylen, fmt, ap); /* cut on purpose when too long */
                va_end(ap);
        }
}

/* -EINVAL with a reason; a macro, so that the static analyser (which does
 * not follow variadic functions) sees the result. */
#define fail(why, whylen, ...) (reason((why), (whylen), __VA_ARGS__), -EINVAL)

/* Decode one UTF-8 sequence at p (n >= 1 bytes available) in its shortest
 * form.  Returns its length (1..4) and sets *cp, or 0 when invalid. */
static size_t utf8_decode(const unsigned char *p, size_t n, uint32_t *cp) {
        unsigned char b0 = p[0];
        size_t len;
        unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
        uint32_t v;

        if (b0 < 0x80) {
                *cp = b0;
                return 1;
        }
        if (b0 >= 0xc2 && b0 <= 0xdf) {
                len = 2;
                v = b0 & 0x1f;
        } else if (b0 >= 0xe0 && b0 <= 0xef) {
                len = 3;
                v = b0 & 0x0f;
                if (b0 == 0xe0)
                        lo = 0xa0; /* overlong */
                else if (b0 == 0xed)
                        hi = 0x9f; /* surrogates */
        } else if (b0 >= 0xf0 && b0 <= 0xf4) {
                len = 4;
                v = b0 & 0x07;
                if (b0 == 0xf0)
                        lo = 0x90; /* overlong */
                else if (b0 == 0xf4)
                        hi = 0x8f; /* above U+10FFFF */
        } else
                return 0; /* continuation byte, C0/C1 (overlong), F5..FF */
        if (n < len || p[1] < lo || p[1] > hi)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if (p[i] < 0x80 || p[i] > 0xbf)
                        return 0;
                v = (v << 6) | (p[i] & 0x3f);
        }
        *cp = v;
        return len;
}

/* Why a code point is not allowed in a name, or NULL. */
static const char *forbidden(uint32_t cp) {
        if (cp == 0)
                return "NUL byte";
        if (cp < 0x20 || cp == 0x7f)
                return "control character";
        if (cp >= 0x80 && cp <= 0x9f)
                return "C1 control character";
        if (cp < 0x80 && strchr("\\:*?\"<>|", (int) cp))
                return "reserved character";
        if (cp == 0x00ad || cp == 0x180e || (cp >= 0x200b && cp <= 0x200d) || (cp >= 0x2060 && cp <= 0x2064) ||
            cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb))
                return "invisible character";
        if (cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
            (cp >= 0x2066 && cp <= 0x2069))
                return "text direction control character";
        if (cp == 0x2028 || cp == 0x2029)
                return "line or paragraph separator";
        if (cp >= 0xe0000 && cp <= 0xe007f)
                return "tag character";
        if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe)
                return "noncharacter";
        return NULL;
}

static int component_check(const unsigned char *c, size_t len, unsigned index, char *why, size_t whylen) {
        if (len == 0)
                return fail(why, whylen, "component %u is empty", index);
        if (len > XFER_COMPONENT_MAX)
                return fail(why, whylen, "component %u is longer than %d bytes", index, XFER_COMPONENT_MAX);
        if ((len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
                return fail(why, whylen, "component %u is \"%.*s\"", index, (int) len, (const char *) c);
        if (c[0] == '-')
                return fail(why, whylen, "component %u starts with '-'", index);
        for (size_t i = 0; i < len;) {
                uint32_t cp = 0;
                size_t n = utf8_decode(c + i, len - i, &cp);
                if (n == 0)
                        return fail(why, whylen, "invalid UTF-8 in component %u at byte %zu", index, i);
                const char *what = cp == '/' ? "'/' inside a component" : forbidden(cp);
                if (what)
                        return fail(why, whylen, "%s U+%04X in component %u at byte %zu", what, (unsigned) cp, index,
                                    i);
                i += n;
        }
        return 0;
}

int xfer_component_valid(const char *c, size_t len, char *why, size_t whylen) {
        if (!c)
                return fail(why, whylen, "no name");
        return component_check((const unsigned char *) c, len, 1, why, whylen);
}

int xfer_name_valid(const char *rel, size_t len, char *why, size_t whylen) {
        const unsigned char *p = (const unsigned char *) rel;
        unsigned index = 0;
        size_t start = 0;

        if (!rel || len == 0)
                return fail(why, whylen, "empty name");
        if (len > XFER_NAME_MAX)
                return fail(why, whylen, "name longer than %d bytes", XFER_NAME_MAX);
        if (p[0] == '/')
                return fail(why, whylen, "absolute name");
        for (size_t i = 0; i <= len; i++) {
                if (i < len && p[i] != '/')
                        continue;
                index++;
                if (index > XFER_DEPTH_MAX)
                        return fail(why, whylen, "more than %d components", XFER_DEPTH_MAX);
                int r = component_check(p + start, i - start, index, why, whylen);
                if (r < 0)
                        return r;
                start = i + 1;
        }
        return 0;
}

unsigned xfer_name_depth(const char *rel, size_t len) {
        unsigned n = 1;
        for (size_t i = 0; i < len; i++)
                if (rel[i] == '/')
                        n++;
        return n;
}

static bool escape_plain(unsigned char ch) {
        return ch >= 0x20 && ch <= 0x7e && ch != '\\' && ch != '\'';
}

char *xfer_name_escape(const void *s, size_t len, char *out, size_t outlen) {
        static const char hex[] = "0123456789abcdef";
        const unsigned char *p = s;
        size_t o = 0, full = 0, limit;

        if (outlen == 0)
                return out;
        for (size_t i = 0; i < len; i++)
                full += escape_plain(p[i]) ? 1 : 4;
        /* Everything when it fits, else as much as fits before "...". */
        limit = full < outlen ? full : outlen >= 4 ? outlen - 4 : outlen - 1;
        for (size_t i = 0; i < len; i++) {
                bool plain = escape_plain(p[i]);
                if (o + (plain ? 1 : 4) > limit)
                        break;
                if (plain)
                        out[o++] = (char) p[i];
                else {
                        out[o++] = '\\';
                        out[o++] = 'x';
                        out[o++] = hex[p[i] >> 4];
                        out[o++] = hex[p[i] & 0xf];
                }
        }
        if (full >= outlen && outlen >= 4) {
                memcpy(out + o, "...", 3);
                o += 3;
        }
        out[o] = '\0';
        return out;
}
