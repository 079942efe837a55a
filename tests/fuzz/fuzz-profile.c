/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the profile parser and validator (profiles can come
 * from administrators' files and from level configuration, i.e. they are
 * untrusted input to a root process). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct jail_profile *p = malloc(sizeof *p);
        struct jail_error err;
        FILE *f;

        if (!p)
                return 0;
        profile_init_default(p);
        if (profile_parse_buffer(p, "fuzz", (const char *) data, size, &err) == 0 &&
            profile_validate(p, false, &err) == 0) {
                /* Exercise the printer on whatever was accepted. */
                f = fopen("/dev/null", "we");
                if (f) {
                        (void) profile_dump(p, f);
                        (void) fclose(f);
                }
        } else if (strlen(err.msg) == 0) {
                abort(); /* every refusal must say why */
        }
        free(p);
        return 0;
}
