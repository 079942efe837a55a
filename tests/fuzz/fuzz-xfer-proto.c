/* SPDX-License-Identifier: MIT */
/* libFuzzer target: what rempart-xferd reads from a level's socket before
 * the stream (the request), what rempart-xfer reads back (replies), and
 * the manifest the daemon reads back from the parser jail.  The first
 * input byte chooses which.  Besides memory errors, it checks that:
 *  - a decoded request has a valid op and level name, and encodes back to
 *    exactly the input;
 *  - a decoded reply holds printable ASCII only and encodes back to the
 *    input;
 *  - a parsed manifest has valid names in strictly increasing stream
 *    order, totals that add up, and is written back to the same text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "names.h"
#include "policy.h"
#include "xfer-proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_request(const uint8_t *d, size_t n) {
        struct xfer_request req;
        int size = xfer_request_size(d, n);
        if (size <= 0 || (size_t) size > n)
                return;
        if (xfer_request_decode(d, (size_t) size, &req) < 0)
                return;
        if (!xfer_level_name_valid(req.target))
                abort();
        uint8_t buf[XFER_REQUEST_MAX];
        int k = xfer_request_encode(&req, buf, sizeof buf);
        if (k != size || memcmp(buf, d, (size_t) k) != 0)
                abort();
}

static void check_reply(const uint8_t *d, size_t n) {
        struct xfer_reply rep;
        int size = xfer_reply_size(d, n);
        if (size <= 0 || (size_t) size > n)
                return;
        if (xfer_reply_decode(d, (size_t) size, &rep) < 0)
                return;
        if (!xfer_text_printable(rep.text, strlen(rep.text)))
                abort();
        uint8_t buf[XFER_REPLY_MAX];
        int k = xfer_reply_encode(rep.code, rep.text, buf, sizeof buf);
        if (k != size || memcmp(buf, d, (size_t) k) != 0)
                abort();
}

static void check_manifest(const uint8_t *d, size_t n) {
        struct xfer_manifest *m = NULL;
        char why[256];
        if (xfer_manifest_parse((const char *) d, n, &m, why, sizeof why) < 0) {
                if (m || !why[0])
                        abort();
                return;
        }
        uint64_t files = 0, dirs = 0, bytes = 0;
        for (size_t i = 0; i < m->n_entries; i++) {
                const struct xfer_manifest_entry *e = &m->entries[i];
                if (xfer_name_valid(e->name, strlen(e->name), NULL, 0) < 0 || e->mode > 0777)
                        abort();
                if (i > 0 && xfer_path_order(m->entries[i - 1].name, e->name) >= 0)
                        abort();
                if (e->type == XFER_TYPE_DIR)
                        dirs++, bytes += 0;
                else
                        files++, bytes += e->size;
        }
        if (files != m->n_files || dirs != m->n_dirs || bytes != m->total_bytes)
                abort();
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f || xfer_manifest_write(m, f) < 0 || fclose(f) != 0)
                abort();
        if (len != n || memcmp(text, d, n) != 0)
                abort();
        free(text);
        xfer_manifest_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1)
                return 0;
        switch (data[0] % 3) {
        case 0: check_request(data + 1, size - 1); break;
        case 1: check_reply(data + 1, size - 1); break;
        default: check_manifest(data + 1, size - 1); break;
        }
        return 0;
}
