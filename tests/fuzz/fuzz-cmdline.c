/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the stage-1 command-line parser.  The command line is
 * signed in production, but the parser must still never crash or accept
 * something it cannot describe back. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct init_cmdline c;
        struct cmdline_error err;
        char hex[2 * ROOT_HASH_SIZE + 1];
        char *s;

        if (size > CMDLINE_MAX_SIZE)
                return 0;
        s = malloc(size + 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = '\0';
        if (cmdline_parse(s, &c, &err) == 0) {
                /* Accepted: every field must be within its documented range. */
                if ((c.slot != 'a' && c.slot != 'b') || c.fec_roots < FEC_ROOTS_MIN || c.fec_roots > FEC_ROOTS_MAX ||
                    c.fec_offset == 0 || c.fec_offset % VERITY_BLOCK_SIZE != 0 ||
                    strlen(c.root_partuuid) != UUID_STRING_LEN || strlen(c.verity_partuuid) != UUID_STRING_LEN ||
                    strlen(c.state_partuuid) != UUID_STRING_LEN)
                        abort();
                cmdline_root_hash_hex(&c, hex);
                if (strlen(hex) != 2 * ROOT_HASH_SIZE)
                        abort();
        } else if (strlen(err.msg) == 0) {
                abort(); /* every refusal must say why */
        }
        free(s);
        return 0;
}
