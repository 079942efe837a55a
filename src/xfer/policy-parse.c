/* SPDX-License-Identifier: MIT */
/* The rule syntax of transfer policy files (rempart-xfer.policy(5)):
 *
 *     ACTION SOURCE TARGET [op=OP] [user=USER] [max_bytes=SIZE] [max_files=N]
 *
 * one rule per line, '#' comments, blanks between words.  Every line is
 * checked as bytes first (length, NUL, UTF-8, control characters), then
 * split into words; the first problem fails the whole policy with
 * "FILE:LINE: why". */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parse.h"
#include "policy-internal.h"

#define MAX_WORDS 7             /* ACTION SOURCE TARGET and 4 options */
#define WORD_SHOWN 64           /* bytes of a word quoted in a message */
#define NAME_MAX_LEN 32         /* user and group names */
#define GETXX_BUF_MAX ((size_t) 1024 * 1024)
#define USAGE "ACTION SOURCE TARGET [op=OP] [user=USER] [max_bytes=SIZE] [max_files=N]"

struct line_ctx {
        struct xfer_policy *p;
        const struct xfer_lookup *lk;
        const char *path;
        unsigned file;
        unsigned line;
};

/* ---- messages ---- */

/* Quote at most WORD_SHOWN bytes of w, cut at a character boundary (the
 * line is valid UTF-8, so is the result), "..." when cut. */
static const char *shown(const char *w, char buf[static WORD_SHOWN + 4]) {
        size_t n = strlen(w);

        if (n <= WORD_SHOWN)
                return w;
        n = WORD_SHOWN;
        while (n > 0 && ((unsigned char) w[n] & 0xc0) == 0x80)
                n--;
        (void) snprintf(buf, WORD_SHOWN + 4, "%.*s...", (int) n, w);
        return buf;
}

static int line_error(const struct line_ctx *c, const char *fmt, ...) _printf_(2, 3);
static int line_error(const struct line_ctx *c, const char *fmt, ...) {
        char msg[XFER_REASON_MAX];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        return xfer_policy_fail(c->p, "%s:%u: %s", c->path, c->line, msg);
}

/* ---- bytes of a line ---- */

/* Valid UTF-8 (no overlong forms, no surrogates, at most U+10FFFF) without
 * control characters other than tab (C0, DEL; C1 are U+0080-U+009F). */
static bool line_text_ok(const unsigned char *s, size_t n, const char **why) {
        size_t i = 0;

        while (i < n) {
                unsigned c = s[i], len;
                uint32_t cp;

                if (c < 0x80) {
                        if ((c < 0x20 && c != '\t') || c == 0x7f) {
                                *why = c == 0 ? "NUL byte" : "control character";
                                return false;
                        }
                        i++;
                        continue;
                }
                *why = "invalid UTF-8";
                if (c >= 0xc2 && c <= 0xdf) {
                        len = 2;
                        cp = c & 0x1f;
                } else if (c >= 0xe0 && c <= 0xef) {
                        len = 3;
                        cp = c & 0x0f;
                } else if (c >= 0xf0 && c <= 0xf4) {
                        len = 4;
                        cp = c & 0x07;
                } else
                        return false;
                if (n - i < len)
                        return false;
                for (unsigned k = 1; k < len; k++) {
                        if ((s[i + k] & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (s[i + k] & 0x3f);
                }
                if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
                    (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                if (cp <= 0x9f) {
                        *why = "control character";
                        return false;
                }
                i += len;
        }
        return true;
}

/* ---- names ---- */

bool xfer_level_name_valid(const char *name) {
        size_t n;

        if (!name || !(name[0] >= 'a' && name[0] <= 'z'))
                return false;
        n = strnlen(name, XFER_LEVEL_NAME_MAX);
        if (n >= XFER_LEVEL_NAME_MAX)
                return false;
        for (size_t i = 1; i < n; i++) {
                char c = name[i];
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
                        return false;
        }
        return true;
}

/* User and group names: a letter or '_', then letters, digits, '_', '-',
 * '.'; at most NAME_MAX_LEN bytes. */
static bool account_name_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > NAME_MAX_LEN)
                return false;
        if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
                return false;
        for (const char *c = s; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                      *c == '_' || *c == '-' || *c == '.'))
                        return false;
        return true;
}

/* ---- default lookups (getpwnam_r, getgrnam_r) ---- */

static int buf_size_hint(int name) {
        long hint = sysconf(name);
        return hint > 0 && hint <= 65536 ? (int) hint : 4096;
}

static int passwd_lookup(const char *name, uid_t *uid) {
        size_t size = (size_t) buf_size_hint(_SC_GETPW_R_SIZE_MAX);
        int r;

        for (;;) {
                struct passwd pw, *res = NULL;
                char *buf = malloc(size);

                if (!buf)
                        return -ENOMEM;
                r = getpwnam_r(name, &pw, buf, size, &res);
                if (r == 0 && res)
                        *uid = pw.pw_uid;
                free(buf);
                if (r == 0)
                        return res ? 0 : -ENOENT;
                if (r != ERANGE || size >= GETXX_BUF_MAX)
                        break;
                size *= 2;
        }
        if (r == ENOENT || r == ESRCH)
                return -ENOENT;
        return r > 0 ? -r : -EIO;
}

static int group_lookup(const char *name, gid_t *gid) {
        size_t size = (size_t) buf_size_hint(_SC_GETGR_R_SIZE_MAX);
        int r;

        for (;;) {
                struct group gr, *res = NULL;
                char *buf = malloc(size);

                if (!buf)
                        return -ENOMEM;
                r = getgrnam_r(name, &gr, buf, size, &res);
                if (r == 0 && res)
                        *gid = gr.gr_gid;
                free(buf);
                if (r == 0)
                        return res ? 0 : -ENOENT;
                if (r != ERANGE || size >= GETXX_BUF_MAX)
                        break;
                size *= 2;
        }
        if (r == ENOENT || r == ESRCH)
                return -ENOENT;
        return r > 0 ? -r : -EIO;
}

/* ---- words ---- */

static int parse_action(const struct line_ctx *c, const char *w, enum xfer_verdict *ret) {
        char b[WORD_SHOWN + 4];

        if (strcmp(w, "allow") == 0)
                *ret = XFER_ALLOW;
        else if (strcmp(w, "deny") == 0)
                *ret = XFER_DENY;
        else if (strcmp(w, "confirm") == 0)
                *ret = XFER_CONFIRM;
        else
                return line_error(c, "unknown action '%s' (expected allow, deny or confirm)", shown(w, b));
        return 0;
}

static int parse_level(const struct line_ctx *c, const char *w, const char *what, char ret[XFER_LEVEL_NAME_MAX]) {
        char b[WORD_SHOWN + 4];
        int r;

        if (strcmp(w, "*") == 0) {
                ret[0] = '\0';
                return 0;
        }
        if (!xfer_level_name_valid(w))
                return line_error(c, "invalid %s level '%s' (a level name matching [a-z][a-z0-9_-]{0,30}, or *)", what,
                                  shown(w, b));
        if (c->lk && c->lk->level_exists) {
                r = c->lk->level_exists(w, c->lk->userdata);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return line_error(c, "cannot check %s level '%s': %s", what, w, strerror(-r));
                if (r == 0)
                        return line_error(c, "unknown %s level '%s' (no such level)", what, w);
        }
        memcpy(ret, w, strlen(w) + 1);
        return 0;
}

static int parse_op(const struct line_ctx *c, const char *v, struct xfer_rule *rule) {
        char b[WORD_SHOWN + 4];

        if (strcmp(v, "*") == 0) {
                rule->any_op = true;
                return 0;
        }
        for (unsigned i = 0; i < _XFER_OP_COUNT; i++)
                if (strcmp(v, xfer_op_name((enum xfer_op) i)) == 0) {
                        rule->any_op = false;
                        rule->op = (enum xfer_op) i;
                        return 0;
                }
        return line_error(c, "unknown operation '%s' (expected copy or *)", shown(v, b));
}

/* A numeric id: 0 to 4294967294 ((uid_t) -1 is never an id). */
static int parse_id(const char *v, uint32_t *ret) {
        uint64_t id;

        if (strspn(v, "0123456789") != strlen(v))
                return -EINVAL;
        if (parse_u64(v, UINT32_MAX - 1, &id) < 0)
                return -ERANGE;
        *ret = (uint32_t) id;
        return 0;
}

static int lookup_error(const struct line_ctx *c, int r, const char *what, const char *name) {
        if (r == -ENOMEM)
                return r;
        if (r == -ENOENT)
                return line_error(c, "unknown %s '%s'", what, name);
        return line_error(c, "cannot look up %s '%s': %s", what, name, strerror(r < 0 ? -r : EIO));
}

static int parse_user(const struct line_ctx *c, const char *v, struct xfer_rule *rule) {
        char b[WORD_SHOWN + 4];
        bool group = v[0] == '@';
        const char *name = group ? v + 1 : v;
        const char *what = group ? "group" : "user";
        int r;

        if (strcmp(v, "*") == 0) {
                rule->user_kind = XFER_USER_ANY;
                return 0;
        }
        rule->user_kind = group ? XFER_USER_GID : XFER_USER_UID;
        if (name[0] >= '0' && name[0] <= '9') {
                r = parse_id(name, &rule->id);
                if (r < 0)
                        return line_error(c, "invalid %s '%s' (a name, or a number from 0 to %u)",
                                          group ? "gid" : "uid", shown(name, b), UINT32_MAX - 1);
                return 0;
        }
        if (!account_name_valid(name))
                return line_error(c, "invalid %s name '%s' (expected %s)", what, shown(name, b),
                                  group ? "@GROUP, @GID" : "a user name, a uid, @GROUP, @GID or *");
        if (group) {
                gid_t gid = 0;

                if (c->lk && c->lk->group_by_name)
                        r = c->lk->group_by_name(name, &gid, c->lk->userdata);
                else
                        r = group_lookup(name, &gid);
                if (r < 0)
                        return lookup_error(c, r, what, name);
                rule->id = (uint32_t) gid;
        } else {
                uid_t uid = 0;

                if (c->lk && c->lk->user_by_name)
                        r = c->lk->user_by_name(name, &uid, c->lk->userdata);
                else
                        r = passwd_lookup(name, &uid);
                if (r < 0)
                        return lookup_error(c, r, what, name);
                rule->id = (uint32_t) uid;
        }
        if (rule->id == UINT32_MAX)
                return line_error(c, "%s '%s' has id %u, which is never an id", what, name, UINT32_MAX);
        return 0;
}

static int parse_max_bytes(const struct line_ctx *c, const char *v, struct xfer_rule *rule) {
        char b[WORD_SHOWN + 4];
        uint64_t n = 0;

        if (parse_size(v, &n, NULL) < 0 || n == 0 || n > XFER_LIMIT_MAX_BYTES)
                return line_error(c, "invalid max_bytes '%s' (a size from 1 to 1T: N, NK, NM, NG or NT)",
                                  shown(v, b));
        rule->max_bytes = n;
        return 0;
}

static int parse_max_files(const struct line_ctx *c, const char *v, struct xfer_rule *rule) {
        char b[WORD_SHOWN + 4];
        uint64_t n = 0;

        if (parse_u64(v, XFER_LIMIT_MAX_FILES, &n) < 0 || n == 0)
                return line_error(c, "invalid max_files '%s' (a number from 1 to %llu)", shown(v, b),
                                  (unsigned long long) XFER_LIMIT_MAX_FILES);
        rule->max_files = n;
        return 0;
}

static const struct {
        const char *key;
        int (*parse)(const struct line_ctx *c, const char *v, struct xfer_rule *rule);
        bool quota;
} options[] = {
        { "op", parse_op, false },
        { "user", parse_user, false },
        { "max_bytes", parse_max_bytes, true },
        { "max_files", parse_max_files, true },
};

static int parse_option(const struct line_ctx *c, char *w, struct xfer_rule *rule, unsigned *seen) {
        char b[WORD_SHOWN + 4];
        char *eq = strchr(w, '=');

        if (!eq)
                return line_error(c, "unexpected word '%s' (options are op=, user=, max_bytes= and max_files=)",
                                  shown(w, b));
        *eq = '\0';
        for (unsigned i = 0; i < ELEMENTSOF(options); i++) {
                if (strcmp(w, options[i].key) != 0)
                        continue;
                if (*seen & (1U << i))
                        return line_error(c, "duplicate option '%s' (it may be given only once)", w);
                *seen |= 1U << i;
                if (eq[1] == '\0')
                        return line_error(c, "empty value for option '%s'", w);
                if (options[i].quota && rule->action == XFER_DENY)
                        return line_error(c, "option '%s' on a deny rule (quotas are for allow and confirm)", w);
                return options[i].parse(c, eq + 1, rule);
        }
        return line_error(c, "unknown option '%s' (expected op, user, max_bytes or max_files)", shown(w, b));
}

static int append_rule(const struct line_ctx *c, const struct xfer_rule *rule) {
        struct xfer_policy *p = c->p;

        if (p->n_rules >= XFER_POLICY_MAX_RULES)
                return line_error(c, "too many rules (at most %d in all policy files)", XFER_POLICY_MAX_RULES);
        if (p->n_rules >= p->n_allocated) {
                unsigned n = p->n_allocated == 0 ? 16 : p->n_allocated * 2;
                struct xfer_rule *rules;

                if (n > XFER_POLICY_MAX_RULES)
                        n = XFER_POLICY_MAX_RULES;
                rules = reallocarray(p->rules, n, sizeof *rules);
                if (!rules)
                        return -ENOMEM;
                p->rules = rules;
                p->n_allocated = n;
        }
        p->rules[p->n_rules++] = *rule;
        return 0;
}

/* One line, NUL-terminated, already checked as bytes. */
static int parse_line(const struct line_ctx *c, char *text) {
        char *words[MAX_WORDS + 1];
        unsigned n = 0, seen = 0;
        struct xfer_rule rule = {
                .any_op = true,
                .file = c->file,
                .line = c->line,
        };
        int r;

        /* A '#' that starts a word starts a comment. */
        for (char *s = text; *s; s++)
                if (*s == '#' && (s == text || s[-1] == ' ' || s[-1] == '\t')) {
                        *s = '\0';
                        break;
                }
        for (char *s = text;;) {
                s += strspn(s, " \t");
                if (*s == '\0')
                        break;
                if (n > MAX_WORDS)
                        break; /* one too many: enough to refuse the line */
                words[n++] = s;
                s += strcspn(s, " \t");
                if (*s != '\0')
                        *s++ = '\0';
        }
        if (n == 0)
                return 0; /* blank or comment */
        if (n > MAX_WORDS)
                return line_error(c, "too many words (expected " USAGE ")");
        if (n < 3)
                return line_error(c, "expected " USAGE);

        r = parse_action(c, words[0], &rule.action);
        if (r < 0)
                return r;
        r = parse_level(c, words[1], "source", rule.source);
        if (r < 0)
                return r;
        r = parse_level(c, words[2], "target", rule.target);
        if (r < 0)
                return r;
        if (rule.source[0] != '\0' && strcmp(rule.source, rule.target) == 0)
                return line_error(c, "source and target are both '%s' (a transfer goes from one level to another)",
                                  rule.source);
        for (unsigned i = 3; i < n; i++) {
                r = parse_option(c, words[i], &rule, &seen);
                if (r < 0)
                        return r;
        }
        if (rule.action != XFER_DENY) {
                if (rule.max_bytes == 0)
                        rule.max_bytes = XFER_DEFAULT_MAX_BYTES;
                if (rule.max_files == 0)
                        rule.max_files = XFER_DEFAULT_MAX_FILES;
        }
        return append_rule(c, &rule);
}

int xfer_policy_parse_buffer(struct xfer_policy *p, const char *path, const char *buf, size_t len,
                             const struct xfer_lookup *lk) {
        struct line_ctx c = { .p = p, .lk = lk };
        const char *pos = buf, *end;
        size_t plen;
        int r;

        if (!p)
                return -EINVAL;
        if (p->failed)
                return -EINVAL;
        if (!path || path[0] == '\0')
                path = "(policy)";
        plen = strnlen(path, XFER_PATH_MAX);
        if (plen >= XFER_PATH_MAX)
                return xfer_policy_fail(p, "%.200s...: path too long (at most %d bytes)", path, XFER_PATH_MAX - 1);
        if (!buf && len > 0)
                return xfer_policy_fail(p, "%s: no data", path);
        if (len > XFER_POLICY_MAX_FILE_SIZE)
                return xfer_policy_fail(p, "%s: larger than %zu bytes", path, XFER_POLICY_MAX_FILE_SIZE);
        if (p->n_files >= XFER_POLICY_MAX_FILES)
                return xfer_policy_fail(p, "%s: too many policy files (at most %d)", path, XFER_POLICY_MAX_FILES);
        c.file = p->n_files++;
        memcpy(p->files[c.file], path, plen + 1);
        c.path = p->files[c.file];

        end = buf ? buf + len : buf;
        while (pos < end) {
                char text[XFER_POLICY_MAX_LINE + 1];
                const char *nl = memchr(pos, '\n', (size_t) (end - pos));
                const char *stop = nl ? nl : end;
                const char *why = NULL;
                size_t n;

                c.line++;
                if (c.line == 1 && stop - pos >= 3 && memcmp(pos, "\xEF\xBB\xBF", 3) == 0)
                        pos += 3; /* UTF-8 byte order mark */
                n = (size_t) (stop - pos);
                if (n > 0 && pos[n - 1] == '\r')
                        n--; /* CRLF */
                if (n > XFER_POLICY_MAX_LINE)
                        return line_error(&c, "line longer than %d bytes", XFER_POLICY_MAX_LINE);
                if (!line_text_ok((const unsigned char *) pos, n, &why))
                        return line_error(&c, "%s (a policy file is UTF-8 text without control characters)", why);
                memcpy(text, pos, n);
                text[n] = '\0';
                r = parse_line(&c, text);
                if (r == -ENOMEM) {
                        (void) line_error(&c, "out of memory");
                        return r;
                }
                if (r < 0)
                        return r;
                pos = nl ? nl + 1 : end;
        }
        return 0;
}
