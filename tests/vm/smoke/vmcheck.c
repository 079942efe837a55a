/* Probes for the VM smoke test (tests/vm/smoke.sh), run inside the VM.
 *   vmcheck landlock-abi   print the Landlock ABI version the kernel offers
 *   vmcheck userns-nobody  as uid/gid 65534, create a user namespace, map
 *                          ourselves to root in it and print the new uid
 * Built as a dynamic executable on purpose: it also proves that the
 * initramfs builder ships shared libraries and the loader. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/landlock.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int landlock_abi(void)
{
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

    if (abi < 0) {
        fprintf(stderr, "landlock_create_ruleset: %s\n", strerror(errno));
        return 1;
    }
    printf("%ld\n", abi);
    return 0;
}

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    size_t len = strlen(text);
    ssize_t n;

    if (fd < 0) {
        fprintf(stderr, "open %s: %s\n", path, strerror(errno));
        return -1;
    }
    n = write(fd, text, len);
    if (n < 0 || (size_t)n != len) {
        fprintf(stderr, "write %s: %s\n", path, n < 0 ? strerror(errno) : "short write");
        (void)close(fd); /* already failing: the write error is the one reported */
        return -1;
    }
    return close(fd);
}

static int userns_nobody(void)
{
    const unsigned nobody = 65534;
    char map[64];

    /* Drop every privilege first so that the namespace is created by a truly
     * unprivileged user, as a jail's callers may be. */
    if (setgroups(0, NULL) < 0 || setresgid(nobody, nobody, nobody) < 0 ||
        setresuid(nobody, nobody, nobody) < 0) {
        fprintf(stderr, "dropping to nobody: %s\n", strerror(errno));
        return 1;
    }
    /* The uid change made us non-dumpable, which leaves /proc/self owned by
     * root: the id maps below would then be unwritable. */
    if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0) {
        fprintf(stderr, "PR_SET_DUMPABLE: %s\n", strerror(errno));
        return 1;
    }
    if (unshare(CLONE_NEWUSER) < 0) {
        fprintf(stderr, "unshare(CLONE_NEWUSER) as nobody: %s\n", strerror(errno));
        return 1;
    }
    if (write_file("/proc/self/setgroups", "deny") < 0)
        return 1;
    (void)snprintf(map, sizeof(map), "0 %u 1\n", nobody); /* cannot truncate */
    if (write_file("/proc/self/uid_map", map) < 0 || write_file("/proc/self/gid_map", map) < 0)
        return 1;
    printf("%u\n", (unsigned)getuid());
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "landlock-abi") == 0)
        return landlock_abi();
    if (argc == 2 && strcmp(argv[1], "userns-nobody") == 0)
        return userns_nobody();
    fprintf(stderr, "usage: vmcheck landlock-abi|userns-nobody\n");
    return 2;
}
