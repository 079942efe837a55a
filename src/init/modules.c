/* SPDX-License-Identifier: MIT */
#include "modules.h"

#include <errno.h>
#include <libkmod.h>
#include <stdbool.h>
#include <string.h>

#include "fileio.h"
#include "macro.h"

#define MODULES_LIST_MAX 64
#define MODULE_NAME_MAX 63

static void kmod_unrefp(struct kmod_ctx **ctx) {
        if (*ctx)
                (void) kmod_unref(*ctx);
}

static void kmod_list_freep(struct kmod_list **l) {
        if (*l)
                (void) kmod_module_unref_list(*l);
}

static int load_one(struct kmod_ctx *ctx, const char *name) {
        _cleanup_(kmod_list_freep) struct kmod_list *list = NULL;
        struct kmod_list *it;
        int r;

        r = kmod_module_new_from_lookup(ctx, name, &list);
        if (r < 0)
                return r;
        if (!list)
                return -ENOENT; /* neither a module file nor built in */
        kmod_list_foreach(it, list) {
                struct kmod_module *mod = kmod_module_get_module(it);

                /* flags 0: "already loaded" and "built in" are success; no
                 * blacklist (the initramfs has none) and no install commands. */
                r = kmod_module_probe_insert_module(mod, 0, NULL, NULL, NULL, NULL);
                (void) kmod_module_unref(mod);
                if (r < 0)
                        return r;
                if (r > 0)
                        return -EIO; /* a KMOD_PROBE_* refusal: not expected with flags 0 */
        }
        return 0;
}

int modules_load(const char *const *names, size_t n, const char *dir, const char **ret_failed) {
        _cleanup_(kmod_unrefp) struct kmod_ctx *ctx = NULL;
        int r;

        *ret_failed = NULL;
        ctx = kmod_new(dir, NULL);
        if (!ctx)
                return -ENOMEM;
        r = kmod_load_resources(ctx);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = load_one(ctx, names[i]);
                if (r < 0) {
                        *ret_failed = names[i];
                        return r;
                }
        }
        return 0;
}

void modules_free_list(char **list) {
        if (!list)
                return;
        for (char **p = list; *p; p++)
                free(*p);
        free(list);
}

static bool valid_name(const char *s, size_t len) {
        if (len == 0 || len > MODULE_NAME_MAX)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
                        return false;
        return true;
}

int modules_read_list(const char *path, char ***ret, size_t *ret_n) {
        _cleanup_free_ char *buf = NULL;
        char **list;
        size_t n = 0, len;
        int r;

        list = calloc(MODULES_LIST_MAX + 1, sizeof(char *));
        if (!list)
                return -ENOMEM;
        r = read_full_file(path, (size_t) 64 * 1024, &buf, &len);
        if (r == -ENOENT) {
                *ret = list;
                *ret_n = 0;
                return 0;
        }
        if (r < 0)
                goto fail;
        for (char *line = buf, *next; line && *line; line = next) {
                size_t l;

                next = strchr(line, '\n');
                l = next ? (size_t) (next - line) : strlen(line);
                if (next)
                        next++;
                while (l > 0 && (line[l - 1] == ' ' || line[l - 1] == '\t' || line[l - 1] == '\r'))
                        l--;
                while (l > 0 && (*line == ' ' || *line == '\t')) {
                        line++;
                        l--;
                }
                if (l == 0 || line[0] == '#')
                        continue;
                if (!valid_name(line, l)) {
                        r = -EINVAL;
                        goto fail;
                }
                if (n == MODULES_LIST_MAX) {
                        r = -E2BIG;
                        goto fail;
                }
                list[n] = strndup(line, l);
                if (!list[n]) {
                        r = -ENOMEM;
                        goto fail;
                }
                n++;
        }
        *ret = list;
        *ret_n = n;
        return 0;
fail:
        modules_free_list(list);
        return r;
}
