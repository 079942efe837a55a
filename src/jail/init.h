/* SPDX-License-Identifier: MIT */
/* The jail's PID 1: reaps every orphan and forwards signals to the
 * command; exits with the command's status once it is gone (which makes
 * the kernel kill whatever is left in the pid namespace). */
#pragma once

#include <signal.h>
#include <sys/types.h>

/* Signals rempart-jail forwards (parent -> init -> command). */
void init_forwarded_signals(sigset_t *set);
/* Run the reaper loop for command `child`; never returns. The caller has
 * blocked the forwarded signals and SIGCHLD. */
_Noreturn void init_reaper_loop(pid_t child);
