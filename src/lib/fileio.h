/* SPDX-License-Identifier: MIT */
/* Small, bounded file helpers relative to a directory fd. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Write the whole string to dirfd/name (O_WRONLY|O_CLOEXEC|O_NOFOLLOW, no
 * O_CREAT, no truncation: suited to sysfs/cgroupfs/procfs attribute files).
 * Returns 0 or -errno. */
int write_string_at(int dirfd, const char *name, const char *s);
/* Read at most size-1 bytes of dirfd/name into buf, NUL-terminate, strip
 * one trailing newline.  Returns the length or -errno (-EFBIG when the file
 * is larger than the buffer). */
ssize_t read_string_at(int dirfd, const char *name, char *buf, size_t size);
/* Read a whole regular file of at most max bytes into a malloc'd,
 * NUL-terminated buffer.  Returns 0 or -errno (-EFBIG when too large). */
int read_full_file(const char *path, size_t max, char **ret, size_t *ret_len);
/* write(2) all of buf, retrying on EINTR and short writes. */
int write_all(int fd, const void *buf, size_t len);
/* read(2) exactly len bytes; returns 0, -EPIPE on early EOF, or -errno. */
int read_exact(int fd, void *buf, size_t len);
