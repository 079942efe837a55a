/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the session broker's message decoder.  The broker
 * decodes what the core sends, inside a level; the core decodes what a
 * level's broker answers: each side treats the other's bytes as hostile.
 * Whatever is accepted must be canonical (encoding the decoded message
 * gives back the same bytes) and within every documented bound. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker-proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_accepted(const struct broker_msg *m, const uint8_t *data, size_t size, uint8_t *again) {
        size_t n = 0;
        int r = -1;

        switch (m->type) {
        case BROKER_MSG_RUN:
                if (m->argc > BROKER_ARGC_MAX || m->envc > BROKER_ENVC_MAX || m->argv[m->argc] || m->env[m->envc])
                        abort();
                for (unsigned i = 0; i < m->argc; i++)
                        if (strlen(m->argv[i]) > BROKER_STRING_MAX)
                                abort();
                for (unsigned i = 0; i < m->envc; i++)
                        if (!broker_env_allowed(m->env[i]))
                                abort();
                r = broker_encode_run(again, BROKER_MSG_MAX, &n, m->flags, m->argv, m->env);
                break;
        case BROKER_MSG_SERVICE:
                if (!broker_service_name_valid(m->service))
                        abort();
                r = broker_encode_service(again, BROKER_MSG_MAX, &n, m->service);
                break;
        case BROKER_MSG_SIGNAL:
                if (!broker_signal_allowed(m->signo))
                        abort();
                r = broker_encode_signal(again, BROKER_MSG_MAX, &n, m->signo);
                break;
        case BROKER_MSG_WINSIZE:
                r = broker_encode_winsize(again, BROKER_MSG_MAX, &n, m->rows, m->cols);
                break;
        case BROKER_MSG_STARTED:
                if (m->pid <= 0)
                        abort();
                r = broker_encode_started(again, BROKER_MSG_MAX, &n, m->pid);
                break;
        case BROKER_MSG_EXIT:
                r = broker_encode_exit(again, BROKER_MSG_MAX, &n, m->exit_kind, m->exit_code);
                break;
        case BROKER_MSG_ERROR:
                for (const char *p = m->message; *p; p++)
                        if (*p < 0x20 || *p > 0x7e)
                                abort(); /* would reach the core's terminal */
                r = broker_encode_error(again, BROKER_MSG_MAX, &n, m->error, m->message);
                break;
        }
        if (r != 0 || n != size || memcmp(again, data, size) != 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct broker_msg *m = malloc(sizeof *m);
        uint8_t *again = malloc(BROKER_MSG_MAX);

        if (m && again && broker_decode(data, size, m) == 0)
                check_accepted(m, data, size, again);
        free(again);
        free(m);
        return 0;
}
