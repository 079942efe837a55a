/* SPDX-License-Identifier: MIT */
/* rempartctl xfer: see and decide the transfers waiting for a confirmation.
 * This runs in the core, on the user's own terminal: the trusted path.  A
 * level cannot reach the control socket, and rempart-xferd refuses any
 * process that is not in the core's pid namespace. */
#include "ctl-xfer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "pending.h"
#include "xfer-proto.h"
#include "xferd.h"

#define ANSWER_MAX ((size_t) 256 * 1024 * 1024)

/* Send one command line, read the whole answer (lines of printable ASCII,
 * the last "OK ..." or "ERR ..."). */
static int ask(const char *sock, const char *line, char **ret, size_t *ret_len) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(sock) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, sock, strlen(sock) + 1);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return negative_errno();
        int r = write_all(fd, line, strlen(line));
        if (r < 0)
                return r;
        size_t cap = 4096, len = 0;
        _cleanup_free_ char *buf = malloc(cap + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (len == cap) {
                        if (cap >= ANSWER_MAX)
                                return -EFBIG;
                        cap *= 2;
                        char *n = realloc(buf, cap + 1);
                        if (!n)
                                return -ENOMEM;
                        buf = n;
                }
                ssize_t n = read(fd, buf + len, cap - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        buf[len] = '\0';
        for (size_t i = 0; i < len; i++)
                if (buf[i] != '\n' && (buf[i] < 0x20 || buf[i] > 0x7e))
                        return -EBADMSG;
        if (len == 0 || buf[len - 1] != '\n')
                return -EBADMSG;
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

/* The last line; 0 for OK (rest in *rest), 1 for ERR. */
static int status_of(char *text, size_t len, const char **rest) {
        if (!text || len == 0) {
                *rest = "no answer";
                return 1;
        }
        text[len - 1] = '\0';
        char *last = strrchr(text, '\n');
        last = last ? last + 1 : text;
        if (strncmp(last, "OK", 2) == 0 && (last[2] == '\0' || last[2] == ' ')) {
                *rest = last[2] ? last + 3 : "";
                *last = '\0';
                return 0;
        }
        if (strncmp(last, "ERR ", 4) == 0) {
                *rest = last + 4;
                *last = '\0';
                return 1;
        }
        *rest = "malformed answer";
        return 1;
}

static void help(void) {
        printf("Usage: rempartctl xfer list\n"
               "       rempartctl xfer show ID\n"
               "       rempartctl xfer confirm [--yes] ID\n"
               "       rempartctl xfer deny ID\n"
               "Transfers between levels that wait for your confirmation (see rempartctl(1)).\n");
}

static int run(const char *sock, const char *cmd, const char *id, char **text, const char **rest) {
        char line[64];
        size_t len;
        (void) snprintf(line, sizeof line, "%s%s%s\n", cmd, id ? " " : "", id ? id : "");
        int r = ask(sock, line, text, &len);
        if (r < 0) {
                fprintf(stderr, "rempartctl: the transfer service (%s): %s\n", sock, strerror(-r));
                return -1;
        }
        return status_of(*text, len, rest);
}

int ctl_xfer(int argc, char **argv) {
        const char *sock = getenv("REMPART_XFERD_SOCKET") ? getenv("REMPART_XFERD_SOCKET") : XFERD_CONTROL_SOCKET;
        bool yes = false;
        int i = 0;

        if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
                help();
                return argc < 1 ? 2 : 0;
        }
        const char *verb = argv[i++];
        if (i < argc && (strcmp(argv[i], "--yes") == 0 || strcmp(argv[i], "-y") == 0)) {
                yes = true;
                i++;
        }
        const char *id = i < argc ? argv[i++] : NULL;
        if (i != argc || (strcmp(verb, "list") == 0) != (id == NULL) || (yes && strcmp(verb, "confirm") != 0)) {
                fprintf(stderr, "rempartctl: xfer: wrong arguments; see rempartctl xfer --help\n");
                return 2;
        }
        if (id && !xfer_id_valid(id)) {
                fprintf(stderr, "rempartctl: xfer: not a request id: '%s'\n", id);
                return 2;
        }
        _cleanup_free_ char *text = NULL;
        const char *rest;
        int r;

        if (strcmp(verb, "list") == 0) {
                r = run(sock, "LIST", NULL, &text, &rest);
                if (r != 0)
                        return r < 0 ? 1 : (fprintf(stderr, "rempartctl: %s\n", rest), 1);
                if (!text[0]) {
                        printf("No transfer waits for a confirmation.\n");
                        return 0;
                }
                printf("%-12s %-8s %-8s %-10s %8s %6s %12s %8s\n", "ID", "FROM", "TO", "USER", "FILES", "DIRS", "BYTES",
                       "EXPIRES");
                for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                        char idb[16], from[32], to[32], user[40];
                        unsigned long long files, dirs, bytes;
                        long long left;
                        if (sscanf(l, "%15s %31s %31s %39s %llu %llu %llu %lld", idb, from, to, user, &files, &dirs, &bytes,
                                   &left) == 8)
                                printf("%-12s %-8s %-8s %-10s %8llu %6llu %12llu %7llds\n", idb, from, to, user, files,
                                       dirs, bytes, left);
                }
                return 0;
        }
        if (strcmp(verb, "show") == 0 || strcmp(verb, "confirm") == 0) {
                r = run(sock, "SHOW", id, &text, &rest);
                if (r != 0)
                        return r < 0 ? 1 : (fprintf(stderr, "rempartctl: %s\n", rest), 1);
                (void) fputs(text, stdout);
                if (strcmp(verb, "show") == 0)
                        return 0;
                if (!yes) {
                        /* The question on the controlling terminal of the core. */
                        FILE *tty = fopen("/dev/tty", "r+e");
                        char answer[16] = "";
                        if (!tty) {
                                fprintf(stderr, "rempartctl: no terminal to ask on; use --yes to confirm\n");
                                return 1;
                        }
                        fprintf(tty, "Confirm this transfer? Type 'yes' to confirm: ");
                        (void) fflush(tty);
                        bool ok = fgets(answer, sizeof answer, tty) && strcmp(answer, "yes\n") == 0;
                        (void) fclose(tty);
                        if (!ok) {
                                printf("Not confirmed (the request still waits; 'rempartctl xfer deny %s' refuses it).\n",
                                       id);
                                return 1;
                        }
                }
                free(text);
                text = NULL;
                r = run(sock, "CONFIRM", id, &text, &rest);
                if (r != 0)
                        return r < 0 ? 1 : (fprintf(stderr, "rempartctl: %s\n", rest), 1);
                printf("confirmed: %s\n", rest);
                return 0;
        }
        if (strcmp(verb, "deny") == 0) {
                r = run(sock, "DENY", id, &text, &rest);
                if (r != 0)
                        return r < 0 ? 1 : (fprintf(stderr, "rempartctl: %s\n", rest), 1);
                printf("denied: request %s\n", id);
                return 0;
        }
        fprintf(stderr, "rempartctl: xfer: unknown command '%s'; see rempartctl xfer --help\n", verb);
        return 2;
}

/* ---- the login menu's part (rempart-login, on the core's console) ---- */

static const char *control_socket(void) {
        return getenv("REMPART_XFERD_SOCKET") ? getenv("REMPART_XFERD_SOCKET") : XFERD_CONTROL_SOCKET;
}

int ctl_xfer_pending_ids(char ids[][XFER_ID_LEN + 1], size_t max) {
        _cleanup_free_ char *text = NULL;
        const char *rest;
        size_t len = 0, n = 0;

        if (ask(control_socket(), "LIST\n", &text, &len) < 0 || status_of(text, len, &rest) != 0)
                return 0; /* no service: nothing to show */
        for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && n < max; l = strtok_r(NULL, "\n", &save)) {
                if (strlen(l) > XFER_ID_LEN && l[XFER_ID_LEN] == ' ') {
                        memcpy(ids[n], l, XFER_ID_LEN);
                        ids[n][XFER_ID_LEN] = '\0';
                        if (xfer_id_valid(ids[n]))
                                n++;
                }
        }
        return (int) n;
}

void ctl_xfer_review(FILE *in, FILE *out) {
        char ids[32][XFER_ID_LEN + 1];
        int n = ctl_xfer_pending_ids(ids, 32);

        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *text = NULL;
                const char *rest;
                size_t len;
                char line[16];
                char cmd[64];

                (void) snprintf(cmd, sizeof cmd, "SHOW %.12s\n", ids[i]);
                if (ask(control_socket(), cmd, &text, &len) < 0 || status_of(text, len, &rest) != 0)
                        continue; /* decided or expired meanwhile */
                fprintf(out, "\n%s", text);
                fprintf(out, "Confirm this transfer? yes / no (refuse it) / Enter (later): ");
                (void) fflush(out);
                if (!fgets(line, sizeof line, in))
                        return;
                const char *verb = strcmp(line, "yes\n") == 0 ? "CONFIRM" : strcmp(line, "no\n") == 0 ? "DENY" : NULL;
                if (!verb) {
                        fprintf(out, "Left waiting.\n");
                        continue;
                }
                free(text);
                text = NULL;
                (void) snprintf(cmd, sizeof cmd, "%s %.12s\n", verb, ids[i]);
                if (ask(control_socket(), cmd, &text, &len) < 0) {
                        fprintf(out, "The transfer service did not answer.\n");
                        continue;
                }
                int r = status_of(text, len, &rest);
                fprintf(out, "%s%s\n", r == 0 ? (verb[0] == 'C' ? "Confirmed: " : "Refused.") : "Not done: ",
                        r == 0 && verb[0] == 'D' ? "" : rest);
        }
}
