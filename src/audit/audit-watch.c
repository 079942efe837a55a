/* SPDX-License-Identifier: MIT */
/* rempart-audit watch-kernel: read the kernel log from its first record
 * (the FEC repairs and ext4 warnings of early boot are there) and append
 * an INTEGRITY_ERROR record for every integrity error (audit-kmsg.c).
 * A cursor in /run (this boot's kernel sequence number of the last
 * recorded message) keeps a restarted watcher from recording a message
 * twice. */
#include "audit-watch.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "audit-kmsg.h"
#include "audit.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"

#define BOOT_ID_LEN 36
#define MESSAGE_MAX 1024 /* bytes of the kernel's text kept in a record */

struct watcher {
        const struct watch_opts *o;
        struct audit_log *log;
        const char *state_dev;
        char state_buf[KMSG_DEVICE_MAX];
        char boot[BOOT_ID_LEN + 1];
        bool have_cursor, cursor_warned;
        uint64_t last; /* cursor: sequence number of the last recorded message */
        unsigned recorded, failed;
};

static int read_boot_id(char buf[BOOT_ID_LEN + 1]) {
        _cleanup_close_ int fd = open("/proc/sys/kernel/random", O_PATH | O_DIRECTORY | O_CLOEXEC);
        char text[64];
        ssize_t n;

        if (fd < 0)
                return negative_errno();
        n = read_string_at(fd, "boot_id", text, sizeof text);
        if (n < 0)
                return (int) n;
        if (n != BOOT_ID_LEN || strspn(text, "0123456789abcdef-") != BOOT_ID_LEN)
                return -EBADMSG;
        memcpy(buf, text, BOOT_ID_LEN + 1);
        return 0;
}

/* The kernel's name of the block device holding path ("vda6"). */
static int device_of(const char *path, char *buf, size_t size) {
        char link[64], target[512];
        struct stat st;
        const char *base;
        ssize_t n;

        if (stat(path, &st) < 0)
                return negative_errno();
        if (major(st.st_dev) == 0)
                return -ENODEV; /* not a block device (tmpfs, overlay...) */
        (void) snprintf(link, sizeof link, "/sys/dev/block/%u:%u", major(st.st_dev), minor(st.st_dev));
        n = readlink(link, target, sizeof target - 1);
        if (n <= 0)
                return n < 0 ? negative_errno() : -ENOENT;
        target[n] = '\0';
        base = strrchr(target, '/');
        base = base ? base + 1 : target;
        if (strlen(base) == 0 || strlen(base) >= size)
                return -ENAMETOOLONG;
        memcpy(buf, base, strlen(base) + 1);
        return 0;
}

/* "boot=ID seq=N\n".  1 when it is this boot's, 0 when there is none (or
 * another boot's, or unreadable: the whole log is read again). */
static int cursor_read(struct watcher *w) {
        char text[128], boot[BOOT_ID_LEN + 1];
        _cleanup_close_ int fd = -1;
        unsigned long long seq;
        ssize_t n;
        int end = 0;

        if (!w->o->cursor)
                return 0;
        fd = open(w->o->cursor, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return 0;
        n = read(fd, text, sizeof text - 1);
        if (n <= 0)
                return 0;
        text[n] = '\0';
        if (sscanf(text, "boot=%36[0-9a-f-] seq=%llu\n%n", boot, &seq, &end) != 2 || end != n ||
            strcmp(boot, w->boot) != 0)
                return 0;
        w->last = seq;
        return 1;
}

static void cursor_write(struct watcher *w, uint64_t seq) {
        char tmp[4096], text[128];
        _cleanup_close_ int fd = -1;
        int n, r = 0;

        w->last = seq;
        w->have_cursor = true;
        if (!w->o->cursor)
                return;
        n = snprintf(tmp, sizeof tmp, "%s.tmp", w->o->cursor);
        if (n < 0 || (size_t) n >= sizeof tmp)
                r = -ENAMETOOLONG;
        if (r == 0) {
                fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
                n = snprintf(text, sizeof text, "boot=%s seq=%" PRIu64 "\n", w->boot, seq);
                if (fd < 0 || write_all(fd, text, (size_t) n) < 0 || rename(tmp, w->o->cursor) < 0)
                        r = negative_errno();
        }
        if (r < 0 && !w->cursor_warned) {
                log_warning_errno(r, "cannot write the cursor %s (a restarted watcher may record a message twice)",
                                  w->o->cursor);
                w->cursor_warned = true;
        }
}

static int append_event(struct watcher *w, const struct audit_field *f, size_t n) {
        int64_t seq = 0;
        int r;

        /* A log kept open since an earlier message may have been replaced
         * by an administrator (rempart-audit init) in between: one more try
         * with the log opened again. */
        for (int attempt = 0; attempt < 2; attempt++) {
                bool fresh = !w->log;

                if (!w->log) {
                        r = audit_open(w->o->dir, AUDIT_OPEN_CREATE, 0, &w->log);
                        if (r < 0)
                                return log_error_errno(r, "cannot open the audit log in %s", w->o->dir);
                }
                seq = audit_append(w->log, AUDIT_INTEGRITY_ERROR, f, n);
                if (seq >= 0)
                        return 0;
                audit_log_free(w->log);
                w->log = NULL;
                if (fresh)
                        break;
        }
        return log_error_errno((int) seq, "cannot append to the audit log in %s", w->o->dir);
}

/* One record (one read of /dev/kmsg, or one line of a dump). */
static void handle(struct watcher *w, const char *buf, size_t len) {
        struct kmsg_record rec;
        struct kmsg_integrity ev;
        char seq[24], ktime[48], msg[MESSAGE_MAX + 1];
        struct audit_field f[8];
        size_t n = 0;

        if (kmsg_parse(buf, len, &rec) < 0) {
                log_warning("%s: a record that is not in the kernel's format was skipped", w->o->kmsg);
                return;
        }
        if (w->have_cursor && rec.seq <= w->last)
                return;
        if (!kmsg_integrity_classify(&rec, w->state_dev, &ev))
                return;
        (void) snprintf(seq, sizeof seq, "%" PRIu64, rec.seq);
        (void) snprintf(ktime, sizeof ktime, "%" PRIu64 ".%06" PRIu64, rec.usec / 1000000, rec.usec % 1000000);
        (void) snprintf(msg, sizeof msg, "%.*s", (int) (rec.text_len < MESSAGE_MAX ? rec.text_len : MESSAGE_MAX),
                        rec.text);
        f[n++] = (struct audit_field) { "source", "kernel" };
        f[n++] = (struct audit_field) { "subsystem", ev.subsystem };
        f[n++] = (struct audit_field) { "event", ev.event };
        if (ev.device[0])
                f[n++] = (struct audit_field) { "device", ev.device };
        f[n++] = (struct audit_field) { "boot", w->boot };
        f[n++] = (struct audit_field) { "kmsg_seq", seq };
        f[n++] = (struct audit_field) { "ktime", ktime };
        f[n++] = (struct audit_field) { "message", msg };
        if (append_event(w, f, n) < 0) {
                w->failed++;
                return;
        }
        w->recorded++;
        log_info("recorded INTEGRITY_ERROR: %s %s%s%s (kernel message %s)", ev.subsystem, ev.event,
                 ev.device[0] ? " on " : "", ev.device, seq);
        cursor_write(w, rec.seq);
}

/* A dump: one record per line, continuation lines (" KEY=VALUE") skipped. */
static int read_dump(struct watcher *w, int fd) {
        FILE *f = fdopen(fd, "r"); /* owns fd from here */
        char *line;
        bool skipping = false;
        int r;

        if (!f) {
                r = negative_errno();
                (void) close(fd);
                return r;
        }
        line = malloc(KMSG_RECORD_MAX + 2);
        if (!line) {
                (void) fclose(f);
                return -ENOMEM;
        }
        while (fgets(line, KMSG_RECORD_MAX + 2, f)) {
                size_t len = strlen(line);
                bool complete = len > 0 && line[len - 1] == '\n';

                if (skipping) {
                        skipping = !complete;
                        continue;
                }
                if (!complete && !feof(f)) {
                        log_warning("%s: a line longer than %d bytes was skipped", w->o->kmsg, KMSG_RECORD_MAX);
                        skipping = true;
                        continue;
                }
                if (len == 0 || line[0] == ' ' || line[0] == '\n')
                        continue;
                handle(w, line, len);
        }
        r = ferror(f) ? -EIO : 0;
        free(line);
        (void) fclose(f); /* read-only */
        return r;
}

/* /dev/kmsg: one record per read(2). */
static int read_device(struct watcher *w, int fd) {
        _cleanup_free_ char *buf = malloc(KMSG_RECORD_MAX);

        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(fd, buf, KMSG_RECORD_MAX);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return 0; /* --once: everything read */
                if (n < 0 && errno == EPIPE) {
                        log_warning("%s: kernel messages were overwritten before they could be read", w->o->kmsg);
                        continue;
                }
                if (n < 0)
                        return log_error_errno(negative_errno(), "cannot read %s", w->o->kmsg);
                if (n == 0)
                        return 0;
                handle(w, buf, (size_t) n);
        }
}

int watch_kernel(const struct watch_opts *o) {
        struct watcher w = { .o = o };
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        r = read_boot_id(w.boot);
        if (r < 0)
                return log_error_errno(r, "cannot read the boot id"), 2;
        if (o->state_device) {
                if (o->state_device[0] == '\0' || strlen(o->state_device) >= sizeof w.state_buf)
                        return log_error("bad --state-device '%s'", o->state_device), 2;
                w.state_dev = o->state_device;
        } else {
                r = device_of(o->state, w.state_buf, sizeof w.state_buf);
                if (r < 0)
                        log_warning_errno(r, "cannot find the device of %s: ext4 errors of every device are recorded",
                                          o->state);
                else
                        w.state_dev = w.state_buf;
        }
        w.have_cursor = cursor_read(&w) > 0;

        fd = open(o->kmsg, O_RDONLY | O_CLOEXEC | O_NOCTTY | (o->once ? O_NONBLOCK : 0));
        if (fd < 0)
                return log_error_errno(negative_errno(), "cannot open %s", o->kmsg), 2;
        if (fstat(fd, &st) < 0)
                return log_error_errno(negative_errno(), "cannot stat %s", o->kmsg), 2;
        log_info("watching %s for integrity errors (state partition: %s)%s", o->kmsg,
                 w.state_dev ? w.state_dev : "any device", w.have_cursor ? ", after the last recorded message" : "");
        if (S_ISCHR(st.st_mode))
                r = read_device(&w, fd);
        else if (S_ISREG(st.st_mode))
                r = read_dump(&w, take_fd(&fd));
        else
                r = log_error_errno(-EINVAL, "%s is neither the kernel log device nor a file", o->kmsg);
        if (w.log) {
                int q = audit_close(w.log);
                if (q < 0)
                        log_warning_errno(q, "closing the audit log in %s", o->dir);
        }
        if (r < 0)
                return 2;
        if (o->once)
                log_info("%u integrity error(s) recorded%s", w.recorded, w.failed ? ", some could NOT be" : "");
        return w.failed > 0 ? 1 : 0;
}
