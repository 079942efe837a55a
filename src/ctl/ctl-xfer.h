/* SPDX-License-Identifier: MIT */
/* rempartctl xfer list|show|confirm|deny (ctl-xfer.c). */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include "pending.h"

/* argv[0] is the verb ("list"...).  Returns the exit status. */
int ctl_xfer(int argc, char **argv);

/* IDs of the transfers waiting for the caller's confirmation (at most
 * max); 0 when there are none or the service does not answer. */
int ctl_xfer_pending_ids(char ids[][XFER_ID_LEN + 1], size_t max);

/* For the login menu: show each waiting transfer in full on out and ask
 * on in: "yes" confirms, "no" refuses, anything else leaves it waiting. */
void ctl_xfer_review(FILE *in, FILE *out);
