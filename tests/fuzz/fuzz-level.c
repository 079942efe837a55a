/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the level file parser and level_validate() (level
 * files are read by root to set up user sessions).  Users come from a fake
 * database, so that runs do not depend on the host's passwd.  Besides
 * memory errors, it checks that every refusal says why, that a refused
 * file leaves the caller's struct untouched and that accepted configs keep
 * their bounds. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "level.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fake_by_name(const char *name, uid_t *uid, gid_t *gid, void *userdata) {
        (void) userdata;
        if (strcmp(name, "alice") == 0) {
                *uid = *gid = 1001;
                return 0;
        }
        if (strcmp(name, "bob") == 0) {
                *uid = 1002;
                *gid = 100;
                return 0;
        }
        if (strcmp(name, "root") == 0) {
                *uid = *gid = 0;
                return 0;
        }
        if (strcmp(name, "broken") == 0)
                return -EIO;
        return -ENOENT;
}

static void check_bounds(const struct level_config *l) {
        if (l->n_users > LEVEL_MAX_USERS || l->n_system > LEVEL_MAX_PATHS || l->n_devices > LEVEL_MAX_DEVICES ||
            l->n_services > LEVEL_MAX_SERVICES)
                abort();
        if (strnlen(l->label, sizeof l->label) >= sizeof l->label || strnlen(l->data, sizeof l->data) >= sizeof l->data)
                abort();
        for (unsigned i = 0; i < l->n_users; i++)
                if (l->users[i].uid == 0)
                        abort(); /* no root sessions, ever */
        for (unsigned i = 0; i < l->n_services; i++) {
                const struct level_service *s = &l->services[i];
                if (s->argc == 0 || s->argc > LEVEL_MAX_ARGS || s->argv[s->argc] != NULL || s->argv[0][0] != '/' ||
                    s->user.uid == 0)
                        abort();
                for (unsigned k = 0; k < s->argc; k++)
                        if (s->argv[k] < s->exec_words || s->argv[k] >= s->exec_words + sizeof s->exec_words)
                                abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const struct level_userdb db = { fake_by_name, NULL };
        struct level_config *l = malloc(sizeof *l), *before = malloc(sizeof *before);
        struct jail_error err;
        int r;

        if (!l || !before)
                goto out;
        memset(l, 0xa5, sizeof *l);
        memcpy(before, l, sizeof *l);
        err.msg[0] = '\0';
        r = level_parse_buffer(l, "fuzz", "fuzz.conf", (const char *) data, size, &db, &err);
        if (r < 0) {
                if (r != -ENOMEM && strlen(err.msg) == 0)
                        abort(); /* every refusal must say why */
                /* No half-parsed state: not one byte written, padding
                 * included (both copies come from the same memset). */
                if (memcmp(l, before, sizeof *l) != 0) // NOLINT(bugprone-suspicious-memory-comparison)
                        abort();
                goto out;
        }
        check_bounds(l);
        err.msg[0] = '\0';
        if (level_validate(l, &err) < 0) {
                if (strlen(err.msg) == 0)
                        abort();
        } else if (l->n_users == 0 || !level_user_allowed(l, l->users[0].uid)) {
                abort();
        }
        /* A copy works once rebased. */
        memcpy(before, l, sizeof *l);
        level_config_rebase(before);
        check_bounds(before);
out:
        free(l);
        free(before);
        return 0;
}
