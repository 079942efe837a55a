/* SPDX-License-Identifier: MIT */
/* libFuzzer target: what rempart-audit verify reads, an audit log that may
 * have been tampered with.  The input is a log; a last line starting with
 * "rempart-audit-head " is taken as the head file.  Checks:
 *   - a line the record parser accepts is canonical: formatting the
 *     parsed record gives back exactly the bytes its hash covers, and the
 *     parsed values stay within their bounds;
 *   - a head line the parser accepts formats back to the same bytes;
 *   - the verifier (with a fixed key, the one the seed corpus was written
 *     with) reports as many problems as it counts, never more records than
 *     lines, and finds nothing wrong only when every line is a record. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The seed corpus was made with a key file holding these bytes. */
static const uint8_t fuzz_key[AUDIT_KEY_SIZE] = {
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
        0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20,
};

static int count(const struct audit_problem *p, void *userdata) {
        if ((unsigned) p->kind >= _AUDIT_PROBLEM_MAX || strnlen(p->msg, sizeof p->msg) >= sizeof p->msg)
                abort();
        (*(uint64_t *) userdata)++;
        return 0;
}

static void check_record(struct audit_record *r, char *buf, const char *line, size_t len) {
        int n;

        if (audit_record_parse(line, len, r, NULL) < 0)
                return;
        if (r->n_fields > AUDIT_FIELDS_MAX || r->hashed_len >= len || r->seq > INT64_MAX ||
            strlen(r->time) != AUDIT_TIME_LEN || !audit_type_to_string(r->type))
                abort();
        for (unsigned i = 0; i < r->n_fields; i++)
                if (audit_check_key(r->fields[i].key) < 0 || r->fields[i].value < r->values ||
                    r->fields[i].value + strlen(r->fields[i].value) >= r->values + sizeof r->values)
                        abort();
        n = audit_record_format_body(buf, AUDIT_RECORD_MAX + 1, r->seq, r->time, r->type, r->fields, r->n_fields, r->prev);
        if (n < 0 || (size_t) n != r->hashed_len || memcmp(buf, line, (size_t) n) != 0)
                abort();
}

static void check_head(char *buf, const char *line, size_t len) {
        struct audit_head h;
        int n;

        if (audit_head_parse(line, len, &h) < 0)
                return;
        n = audit_head_format(&h, buf, AUDIT_HEAD_MAX + 1);
        if (n < 0 || (size_t) n != len || memcmp(buf, line, len) != 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *text = (const char *) data, *head = NULL;
        struct audit_record *r = malloc(sizeof *r);
        char *buf = malloc(AUDIT_RECORD_MAX + 1);
        struct audit_verifier *v = NULL;
        struct audit_verify_result res;
        uint64_t seen = 0, lines = 0, records = 0;
        size_t log_len = size, head_len = 0, start = 0;

        if (!r || !buf || audit_verifier_new(fuzz_key, count, &seen, &v) < 0)
                goto out;
        /* the head file: the last line, if it looks like one */
        {
                size_t k = size > 0 && text[size - 1] == '\n' ? size - 1 : size;
                while (k > 0 && text[k - 1] != '\n')
                        k--;
                if (size - k > 19 && memcmp(text + k, "rempart-audit-head ", 19) == 0) {
                        head = text + k;
                        head_len = size - k;
                        log_len = k;
                        check_head(buf, head, head_len);
                }
        }
        while (start < log_len) {
                const char *nl = memchr(text + start, '\n', log_len - start);
                size_t len = (nl ? (size_t) (nl - text) : log_len) - start;

                lines++;
                check_record(r, buf, text + start, len);
                if (audit_record_parse(text + start, len, r, NULL) >= 0 && nl)
                        records++;
                if (audit_verifier_line(v, start, text + start, len, nl != NULL, false) < 0)
                        abort();
                start += len + (nl ? 1 : 0);
        }
        if (audit_verifier_finish(v, head, head_len, &res) < 0)
                abort();
        if (res.problems != seen || res.lines != lines || res.records > lines)
                abort();
        /* an intact verdict: every line is a well-formed record (sealed
         * partial lines excepted: each needs one RECOVERY record) */
        if (res.problems == 0 && (lines == 0 || records + res.recoveries < lines || !res.macs_checked))
                abort();
out:
        audit_verifier_free(v);
        free(buf);
        free(r);
        return 0;
}
