/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the parser and classifier of kernel messages that
 * rempart-audit watch-kernel reads from /dev/kmsg.  The text of a kernel
 * message can carry strings that a user chose (file and device names),
 * and any process can write records into /dev/kmsg.  Besides memory
 * errors, it checks that:
 *  - a parsed record's text lies inside the input and holds no newline;
 *  - only kernel-facility records are ever classified as integrity errors;
 *  - a classification names a known subsystem and event, and a device
 *    name that is NUL-terminated within its buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit-kmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct kmsg_record r;
        struct kmsg_integrity ev;
        const char *buf = (const char *) data;

        if (size > KMSG_RECORD_MAX || kmsg_parse(buf, size, &r) < 0)
                return 0;
        if (r.text < buf || r.text + r.text_len > buf + size || memchr(r.text, '\n', r.text_len))
                abort();
        for (int k = 0; k < 2; k++) {
                memset(&ev, 0xa5, sizeof ev);
                if (!kmsg_integrity_classify(&r, k ? "vda6" : NULL, &ev))
                        continue;
                if (r.facility != 0 || !ev.subsystem || !ev.event || !memchr(ev.device, '\0', sizeof ev.device))
                        abort();
        }
        return 0;
}
