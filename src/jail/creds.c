/* SPDX-License-Identifier: MIT */
/* Privilege drop of the jail's PID 1, after pivot_root and before Landlock
 * and seccomp.  Everything here is done with raw syscalls (capget/capset,
 * prctl) so that no capability library is needed, and every step is read
 * back from the kernel before it is reported as enforced.
 *
 * Securebits and uid changes.  By default the kernel "fixes up" capabilities
 * when a thread's uids go from root to non-root: permitted and effective are
 * cleared unless SECBIT_KEEP_CAPS is set, and ambient is always cleared.  We
 * set and lock SECBIT_NO_SETUID_FIXUP *before* switching ids, which turns
 * that fix-up off entirely (KEEP_CAPS is not consulted at all then), so the
 * uid switch changes no capability set, for uid 0 and non-zero uids alike.
 * The capability sets are then written explicitly afterwards (step 3), which
 * is the single place where the kept set is decided.  Consequently
 * SECBIT_KEEP_CAPS is not needed even temporarily: it is cleared and locked
 * off (KEEP_CAPS_LOCKED), so that nothing inside the jail can toggle it.
 * Consequence for the jailed program: a uid change it makes itself later
 * (only possible with a kept CAP_SETUID) does not clear its capabilities;
 * those are bounded by the kept list in every case.
 *
 * SECBIT_NOROOT means execve() grants nothing to uid 0 either, so kept
 * capabilities reach the command only through the ambient set, which is
 * set to exactly the kept list (ambient requires permitted and inheritable,
 * so all of inheritable, permitted, effective, ambient and bounding equal
 * the kept list).  Once ambient is final, SECBIT_NO_CAP_AMBIENT_RAISE is
 * locked on as well, so the ambient set can only shrink. */
#include "creds.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "missing.h"
#include "parse.h"

/* capset/capget with two 32-bit words cover capabilities 0..63. */
#define CAP_WORDS 2
#define CAP_MAX_SUPPORTED 63

#define SECBITS_BASE                                                                  \
        (SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |              \
         SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED)
#define SECBITS_NO_AMBIENT (SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED)
#define SECBITS_EXEC                                                                  \
        (SECBIT_EXEC_RESTRICT_FILE | SECBIT_EXEC_RESTRICT_FILE_LOCKED |               \
         SECBIT_EXEC_DENY_INTERACTIVE | SECBIT_EXEC_DENY_INTERACTIVE_LOCKED)

static uint64_t cap_bit(int cap) {
        return UINT64_C(1) << (unsigned) cap;
}

static bool cap_known(int cap) {
        /* PR_CAPBSET_READ fails with EINVAL for a capability the kernel
         * does not know, which is how the highest one is found. */
        return prctl(PR_CAPBSET_READ, (unsigned long) cap, 0, 0, 0) >= 0;
}

static bool capbset_has(int cap) {
        return prctl(PR_CAPBSET_READ, (unsigned long) cap, 0, 0, 0) == 1;
}

/* Highest capability number of the running kernel.  /proc may be absent
 * inside the jail, and a file can lie, so the value read is confirmed with
 * PR_CAPBSET_READ and replaced by probing when it does not match. */
static int cap_last_cap(void) {
        char buf[16];
        uint64_t v;

        if (read_string_at(AT_FDCWD, "/proc/sys/kernel/cap_last_cap", buf, sizeof(buf)) >= 0 &&
            parse_u64(buf, CAP_MAX_SUPPORTED, &v) >= 0 && cap_known((int) v) &&
            ((int) v == CAP_MAX_SUPPORTED || !cap_known((int) v + 1)))
                return (int) v;

        int last = -1;
        for (int c = 0; c <= CAP_MAX_SUPPORTED && cap_known(c); c++)
                last = c;
        return last >= 0 ? last : -ENOSYS;
}

static int caps_get(uint64_t *eff, uint64_t *perm, uint64_t *inh) {
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
        struct __user_cap_data_struct data[CAP_WORDS] = {};

        if (syscall(SYS_capget, &hdr, data) < 0)
                return negative_errno();
        *eff = (uint64_t) data[1].effective << 32 | data[0].effective;
        *perm = (uint64_t) data[1].permitted << 32 | data[0].permitted;
        *inh = (uint64_t) data[1].inheritable << 32 | data[0].inheritable;
        return 0;
}

static int caps_set(uint64_t eff, uint64_t perm, uint64_t inh) {
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
        struct __user_cap_data_struct data[CAP_WORDS] = {
                { .effective = (uint32_t) eff, .permitted = (uint32_t) perm, .inheritable = (uint32_t) inh },
                { .effective = (uint32_t) (eff >> 32),
                  .permitted = (uint32_t) (perm >> 32),
                  .inheritable = (uint32_t) (inh >> 32) },
        };

        return RET_NERRNO(syscall(SYS_capset, &hdr, data));
}

static int securebits_get(void) {
        int r = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
        return r < 0 ? negative_errno() : r;
}

static int securebits_set(unsigned long bits) {
        return RET_NERRNO(prctl(PR_SET_SECUREBITS, bits, 0, 0, 0));
}

/* Step 1: set and lock securebits while CAP_SETPCAP is still held.  *want
 * returns the bits that must read back as set. */
static int securebits_lock(const struct jail_profile *p, struct jail_enforced *e, uint64_t keep,
                           unsigned long *want) {
        int cur = securebits_get();
        if (cur < 0)
                return cur;

        unsigned long bits = ((unsigned long) cur & ~(unsigned long) SECBIT_KEEP_CAPS) | SECBITS_BASE;
        /* With capabilities to keep, ambient raising is still needed in
         * step 3 and is locked off there, once the ambient set is final. */
        if (keep == 0)
                bits |= SECBITS_NO_AMBIENT;

        e->exec_securebits = FEATURE_OFF;
        if (p->exec_securebits) {
                /* Kernels before 6.14 refuse unknown bits with EPERM (the
                 * same answer as for a locked bit); EINVAL is taken the
                 * same way in case a security module answers instead. */
                int r = securebits_set(bits | SECBITS_EXEC);
                if (r >= 0) {
                        e->exec_securebits = FEATURE_ENFORCED;
                        *want = bits | SECBITS_EXEC;
                        return 0;
                }
                if (r != -EINVAL && r != -EPERM)
                        return r;
        }
        int r = securebits_set(bits);
        if (r < 0)
                return r;
        if (p->exec_securebits) {
                /* Only now is it certain that the first refusal was about
                 * the exec bits, not about CAP_SETPCAP. */
                e->exec_securebits = FEATURE_UNAVAILABLE;
                enforced_note(e, "securebits: exec control bits unavailable (Linux 6.14+ needed)");
        }
        *want = bits;
        return 0;
}

static int securebits_verify(unsigned long want) {
        int got = securebits_get();
        if (got < 0)
                return got;
        if (((unsigned long) got & want) != want || ((unsigned long) got & SECBIT_KEEP_CAPS))
                return -EIO;
        return 0;
}

static bool gid_listed(const struct jail_profile *p, gid_t g) {
        for (unsigned i = 0; i < p->n_groups; i++)
                if (p->groups[i] == g)
                        return true;
        return false;
}

/* Step 2: supplementary groups, gid, uid, all three of each (real,
 * effective, saved; the fs ids follow the effective ones). */
static int ids_switch(const struct jail_profile *p, struct jail_enforced *e, const char **step) {
        bool groups_set = true;

        *step = "setgroups";
        if (setgroups(p->n_groups, p->groups) < 0) {
                /* In a user namespace whose setgroups file says "deny" the
                 * call is refused; with nothing to set, the groups are left
                 * as the namespace's creator had them. */
                if (errno != EPERM || p->n_groups > 0 || !p->userns)
                        return negative_errno();
                groups_set = false;
                enforced_note(e, "credentials: setgroups denied in the user namespace, groups unchanged");
        }
        *step = "setresgid";
        if (setresgid(p->gid, p->gid, p->gid) < 0)
                return negative_errno();
        *step = "setresuid";
        if (setresuid(p->uid, p->uid, p->uid) < 0)
                return negative_errno();

        *step = "verify ids";
        uid_t ru, eu, su;
        gid_t rg, eg, sg;
        if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
                return negative_errno();
        if (ru != p->uid || eu != p->uid || su != p->uid || rg != p->gid || eg != p->gid || sg != p->gid)
                return -EIO;
        /* setfsuid/setfsgid with an invalid id change nothing and return
         * the current value: the only way to read the fs ids. */
        if ((uid_t) setfsuid((uid_t) -1) != p->uid || (gid_t) setfsgid((gid_t) -1) != p->gid)
                return -EIO;
        if (groups_set) {
                gid_t got[JAIL_MAX_GROUPS];
                int n = getgroups(JAIL_MAX_GROUPS, got);
                if (n < 0)
                        return negative_errno();
                if ((unsigned) n != p->n_groups)
                        return -EIO;
                /* The kernel sorts the list; compare as sets. */
                for (int i = 0; i < n; i++)
                        if (!gid_listed(p, got[i]))
                                return -EIO;
        }
        return 0;
}

/* Step 3: bounding, inheritable, permitted, effective and ambient sets all
 * become the kept list; then ambient raising is locked off. */
static int caps_reduce(int last, uint64_t keep, unsigned long *want, const char **step) {
        uint64_t eff = 0, perm = 0, inh = 0;
        int r;

        *step = "capability bounding set";
        for (int c = 0; c <= last; c++)
                if (!(keep & cap_bit(c)) && prctl(PR_CAPBSET_DROP, (unsigned long) c, 0, 0, 0) < 0)
                        return negative_errno();

        /* Keep CAP_SETPCAP effective until the securebits are final. */
        *step = "capset";
        uint64_t interim = keep | cap_bit(CAP_SETPCAP);
        r = caps_set(interim, interim, keep);
        if (r < 0)
                return r;

        *step = "ambient capabilities";
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
                return negative_errno();
        for (int c = 0; c <= last; c++)
                if ((keep & cap_bit(c)) &&
                    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long) c, 0, 0) < 0)
                        return negative_errno();

        if (keep != 0) {
                *step = "securebits (ambient)";
                *want |= SECBITS_NO_AMBIENT;
                r = securebits_set(*want);
                if (r < 0)
                        return r;
        }

        *step = "capset";
        r = caps_set(keep, keep, keep);
        if (r < 0)
                return r;

        *step = "verify capabilities";
        r = caps_get(&eff, &perm, &inh);
        if (r < 0)
                return r;
        if (eff != keep || perm != keep || inh != keep)
                return -EIO;
        for (int c = 0; c <= last; c++) {
                bool kept = keep & cap_bit(c);
                int amb = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, (unsigned long) c, 0, 0);
                if (amb < 0)
                        return negative_errno();
                if (capbset_has(c) != kept || (amb == 1) != kept)
                        return -EIO;
        }
        return 0;
}

static int mdwe_enable(struct jail_enforced *e) {
        /* Without PR_MDWE_NO_INHERIT: inherited by children and kept across
         * execve, so it covers the command. */
        if (prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) < 0) {
                if (errno != EINVAL)
                        return negative_errno();
                e->mdwe = FEATURE_UNAVAILABLE;
                enforced_note(e, "mdwe: PR_SET_MDWE unavailable (Linux 6.3+ needed)");
                return 0;
        }
        int r = prctl(PR_GET_MDWE, 0, 0, 0, 0);
        if (r < 0)
                return negative_errno();
        if (!((unsigned long) r & PR_MDWE_REFUSE_EXEC_GAIN))
                return -EIO;
        e->mdwe = FEATURE_ENFORCED;
        return 0;
}

int creds_drop(const struct jail_profile *p, struct jail_enforced *e, const char **step) {
        const char *dummy;
        unsigned long want = 0;
        uint64_t keep = 0;
        int last, r;

        if (!step)
                step = &dummy;
        *step = "credentials";
        if (p->n_caps_keep > JAIL_MAX_CAPS || p->n_groups > JAIL_MAX_GROUPS ||
            p->uid == (uid_t) -1 || p->gid == (gid_t) -1)
                return -EINVAL;

        *step = "cap_last_cap";
        last = cap_last_cap();
        if (last < 0)
                return last;
        *step = "caps_keep";
        for (unsigned i = 0; i < p->n_caps_keep; i++) {
                if (p->caps_keep[i] < 0 || p->caps_keep[i] > last)
                        return -EINVAL;
                keep |= cap_bit(p->caps_keep[i]);
        }

        *step = "securebits";
        r = securebits_lock(p, e, keep, &want);
        if (r < 0)
                return r;

        r = ids_switch(p, e, step);
        if (r < 0)
                return r;

        r = caps_reduce(last, keep, &want, step);
        if (r < 0)
                return r;
        e->caps_dropped = FEATURE_ENFORCED;

        *step = "verify securebits";
        r = securebits_verify(want);
        if (r < 0)
                return r;
        e->securebits_locked = FEATURE_ENFORCED;

        *step = "no_new_privs";
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return negative_errno();
        if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
                return -EIO;
        e->no_new_privs = FEATURE_ENFORCED;

        *step = "mdwe";
        e->mdwe = FEATURE_OFF;
        if (p->mdwe) {
                r = mdwe_enable(e);
                if (r < 0)
                        return r;
        }

        /* A change of effective ids clears the parent-death signal, so it is
         * armed (again) only now.  A parent that died before this point
         * sends nothing: the caller must check afterwards that the parent
         * is still there (getppid() is 0 for a pid namespace's PID 1, so
         * through the channel it shares with the parent). */
        *step = "pdeathsig";
        if (p->die_with_parent && prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                return negative_errno();

        *step = NULL;
        return 0;
}

int creds_apply_rlimits(const struct jail_profile *p) {
        for (int i = 0; i < JAIL_RLIMIT_COUNT; i++) {
                const struct jail_rlimit *l = &p->rlimits[i];
                struct rlimit rl = { .rlim_cur = l->soft, .rlim_max = l->hard }, got;

                if (!l->set)
                        continue;
                if (l->soft > l->hard)
                        return -EINVAL;
                if (setrlimit(i, &rl) < 0 || getrlimit(i, &got) < 0)
                        return negative_errno();
                if (got.rlim_cur != rl.rlim_cur || got.rlim_max != rl.rlim_max)
                        return -EIO;
        }
        return 0;
}

/* ---- file descriptors ---- */

static int cmp_int(const void *a, const void *b) {
        int x = *(const int *) a, y = *(const int *) b;
        return (x > y) - (x < y);
}

static bool fd_skipped(const int *skip, size_t n, int fd) {
        return bsearch(&fd, skip, n, sizeof(int), cmp_int) != NULL;
}

static int fd_set_cloexec(int fd, bool on) {
        int flags = fcntl(fd, F_GETFD);
        if (flags < 0)
                return negative_errno();
        int nflags = on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
        if (nflags != flags && fcntl(fd, F_SETFD, nflags) < 0)
                return negative_errno();
        return 0;
}

static void closedirp(DIR **d) {
        if (*d)
                (void) closedir(*d); /* read-only directory stream: nothing to report */
}

/* Fallback for kernels without close_range(CLOSE_RANGE_CLOEXEC) (< 5.11):
 * walk the open descriptors. */
static int cloexec_by_proc(const int *skip, size_t n) {
        _cleanup_(closedirp) DIR *d = opendir("/proc/self/fd");
        struct dirent *de;

        if (!d)
                return negative_errno();
        int self = dirfd(d);
        errno = 0;
        while ((de = readdir(d))) {
                uint64_t v;
                if (parse_u64(de->d_name, INT_MAX, &v) < 0)
                        continue; /* "." and ".." */
                int fd = (int) v;
                if (fd < 3 || fd == self || fd_skipped(skip, n, fd))
                        continue;
                int r = fd_set_cloexec(fd, true);
                if (r < 0 && r != -EBADF)
                        return r;
                errno = 0;
        }
        return errno != 0 ? negative_errno() : 0;
}

static int cloexec_range(unsigned first, unsigned last) {
        return RET_NERRNO(close_range(first, last, CLOSE_RANGE_CLOEXEC));
}

int fds_close_on_exec(const struct jail_profile *p, int except) {
        int skip[JAIL_MAX_FDS + 1];
        size_t n = 0;
        int r;

        if (p->n_fds_keep > JAIL_MAX_FDS)
                return -EINVAL;
        for (unsigned i = 0; i < p->n_fds_keep; i++) {
                int fd = p->fds_keep[i];
                if (fd < 0)
                        return -EBADF;
                /* The error pipe keeps its O_CLOEXEC even when listed:
                 * it must never reach the command. */
                if (fd == except)
                        continue;
                r = fd_set_cloexec(fd, false);
                if (r < 0)
                        return r; /* a kept fd that is not open is a setup error */
                skip[n++] = fd;
        }
        if (except >= 0)
                skip[n++] = except;
        qsort(skip, n, sizeof(int), cmp_int);

        unsigned next = 3;
        for (size_t i = 0; i < n; i++) {
                unsigned fd = (unsigned) skip[i];
                if (fd < next)
                        continue; /* below 3, or a duplicate */
                if (fd > next) {
                        r = cloexec_range(next, fd - 1);
                        if (r == -ENOSYS || r == -EINVAL)
                                return cloexec_by_proc(skip, n);
                        if (r < 0)
                                return r;
                }
                next = fd + 1;
        }
        r = cloexec_range(next, UINT_MAX);
        if (r == -ENOSYS || r == -EINVAL)
                return cloexec_by_proc(skip, n);
        return r;
}

/* ---- environment ---- */

static size_t env_name_len(const char *entry) {
        const char *eq = strchr(entry, '=');
        return eq ? (size_t) (eq - entry) : 0;
}

static char *env_find(char *const *env, const char *name, size_t len) {
        for (size_t i = 0; env && env[i]; i++)
                if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
                        return env[i];
        return NULL;
}

/* Index of the entry of ret[0..n) whose name is name[0..len), or n. */
static size_t env_index(char *const *ret, size_t n, const char *name, size_t len) {
        for (size_t i = 0; i < n; i++)
                if (strncmp(ret[i], name, len) == 0 && ret[i][len] == '=')
                        return i;
        return n;
}

char **env_build(const struct jail_profile *p, char *const *host_env) {
        if (p->n_env_keep > JAIL_MAX_ENV || p->n_env_set > JAIL_MAX_ENV) {
                errno = EINVAL;
                return NULL;
        }
        /* Settings were validated; check again before allocating anything,
         * so that the filling below cannot fail. */
        for (unsigned i = 0; i < p->n_env_set; i++)
                if (!memchr(p->env_set[i], '\0', JAIL_PATH_MAX) || env_name_len(p->env_set[i]) == 0) {
                        errno = EINVAL;
                        return NULL;
                }

        char **ret = calloc(p->n_env_keep + p->n_env_set + 1, sizeof(char *));
        size_t n = 0;

        if (!ret)
                return NULL;
        for (unsigned i = 0; i < p->n_env_keep; i++) {
                const char *name = p->env_keep[i];
                size_t len = strnlen(name, JAIL_NAME_MAX);
                /* A malformed name (validated elsewhere) matches nothing. */
                if (len == 0 || len == JAIL_NAME_MAX || memchr(name, '=', len))
                        continue;
                char *v = env_find(host_env, name, len);
                if (v && env_index(ret, n, name, len) == n)
                        ret[n++] = v;
        }
        for (unsigned i = 0; i < p->n_env_set; i++) {
                const char *entry = p->env_set[i];
                size_t len = env_name_len(entry);
                /* A later setting of the same name replaces the earlier one,
                 * in place, so the order stays that of first appearance. */
                size_t idx = env_index(ret, n, entry, len);
                ret[idx] = (char *) entry;
                if (idx == n)
                        n++;
        }
        ret[n] = NULL;
        return ret;
}
