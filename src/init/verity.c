/* SPDX-License-Identifier: MIT */
#include "verity.h"

#include <errno.h>
#include <fcntl.h>
#include <libcryptsetup.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "macro.h"

#define PROBE_SUFFIX "-probe"

static void crypt_freep(struct crypt_device **cd) {
        if (*cd)
                crypt_free(*cd);
}

_printf_(3, 4) static int fail(struct verity_error *err, int r, const char *fmt, ...) {
        char msg[200];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        if (r < 0)
                (void) snprintf(err->msg, sizeof err->msg, "%s: %s", msg, strerror(-r));
        else
                (void) snprintf(err->msg, sizeof err->msg, "%s", msg);
        return r < 0 ? r : -EINVAL;
}

/* libcryptsetup logs to stderr by default; errors are useful on the console
 * (they explain a refused header), the rest is noise. */
static void log_cb(int level, const char *msg, void *userdata) {
        if (level == CRYPT_LOG_ERROR)
                (void) fprintf(stderr, "rempart-init: libcryptsetup: %s", msg);
}

static int device_size(const char *path, uint64_t *ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return negative_errno();
        if (ioctl(fd, BLKGETSIZE64, ret) < 0)
                return negative_errno();
        return 0;
}

/* Load the unauthenticated verity superblock and check that it asks for what
 * Rempart builds.  The root hash covers the salt and the tree geometry, so a
 * forged superblock can only make verification fail; these checks make it
 * fail early and with a clear message, and refuse any weaker algorithm. */
static int load(const struct verity_request *req, struct crypt_device **ret, struct verity_error *err) {
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        struct crypt_params_verity p = {
                .hash_area_offset = 0,
                .fec_device = req->hash_device,
                .fec_area_offset = req->fec_offset,
                .fec_roots = req->fec_roots,
        };
        struct crypt_params_verity info = {};
        uint64_t data_size = 0, hash_size = 0;
        int r;

        r = crypt_init(&cd, req->hash_device);
        if (r < 0)
                return fail(err, r, "cannot open verity partition %s", req->hash_device);
        crypt_set_log_callback(cd, log_cb, NULL);
        r = crypt_load(cd, CRYPT_VERITY, &p);
        if (r < 0)
                return fail(err, r, "no valid verity superblock on %s", req->hash_device);
        r = crypt_set_data_device(cd, req->data_device);
        if (r < 0)
                return fail(err, r, "cannot use %s as verity data device", req->data_device);
        r = crypt_get_verity_info(cd, &info);
        if (r < 0)
                return fail(err, r, "cannot read verity parameters");
        if (!info.hash_name || strcmp(info.hash_name, "sha256") != 0 || info.hash_type != 1)
                return fail(err, 0, "verity superblock asks for hash %s format %u, only sha256 format 1 is accepted",
                            info.hash_name ? info.hash_name : "?", info.hash_type);
        if (info.data_block_size != VERITY_BLOCK_SIZE || info.hash_block_size != VERITY_BLOCK_SIZE)
                return fail(err, 0, "verity block sizes %u/%u, expected %u", info.data_block_size,
                            info.hash_block_size, VERITY_BLOCK_SIZE);
        if (crypt_get_volume_key_size(cd) != (int) ROOT_HASH_SIZE)
                return fail(err, 0, "verity root hash size %d, expected %zu", crypt_get_volume_key_size(cd),
                            ROOT_HASH_SIZE);
        r = device_size(req->data_device, &data_size);
        if (r < 0)
                return fail(err, r, "cannot get the size of %s", req->data_device);
        if (info.data_size == 0 || info.data_size > data_size / VERITY_BLOCK_SIZE)
                return fail(err, 0, "verity superblock claims %llu data blocks, partition %s holds %llu",
                            (unsigned long long) info.data_size, req->data_device,
                            (unsigned long long) (data_size / VERITY_BLOCK_SIZE));
        r = device_size(req->hash_device, &hash_size);
        if (r < 0)
                return fail(err, r, "cannot get the size of %s", req->hash_device);
        if (req->fec_offset >= hash_size)
                return fail(err, 0, "rempart.fec_offset %llu is beyond the end of %s (%llu bytes)",
                            (unsigned long long) req->fec_offset, req->hash_device,
                            (unsigned long long) hash_size);
        *ret = TAKE_PTR(cd);
        return 0;
}

/* Read the first data block through the mapping: the kernel then checks the
 * top hash block against the root hash (and the path down to block 0). */
static int read_first_block(const char *name) {
        char path[128];
        _cleanup_free_ void *buf = NULL;
        _cleanup_close_ int fd = -1;

        (void) snprintf(path, sizeof path, "/dev/mapper/%s", name);
        fd = open(path, O_RDONLY | O_CLOEXEC | O_DIRECT);
        if (fd < 0)
                return negative_errno();
        if (posix_memalign(&buf, VERITY_BLOCK_SIZE, VERITY_BLOCK_SIZE) != 0)
                return -ENOMEM;
        ssize_t n = pread(fd, buf, VERITY_BLOCK_SIZE, 0);
        if (n < 0)
                return negative_errno();
        return n == VERITY_BLOCK_SIZE ? 0 : -EIO;
}

static int check_flags(struct crypt_device *cd, const char *name, uint32_t want, struct verity_error *err) {
        struct crypt_active_device cad = {};
        int r;

        crypt_status_info st = crypt_status(cd, name);
        /* BUSY is "active and open", e.g. mounted. */
        if (st != CRYPT_ACTIVE && st != CRYPT_BUSY)
                return fail(err, -ENXIO, "verity device %s is not active", name);
        r = crypt_get_active_device(cd, name, &cad);
        if (r < 0)
                return fail(err, r, "cannot query verity device %s", name);
        if (cad.flags & CRYPT_ACTIVATE_CORRUPTED)
                return fail(err, -EBADMSG, "verity device %s reports corruption", name);
        if ((cad.flags & want) != want)
                return fail(err, 0, "verity device %s lacks flags 0x%x (has 0x%x)", name, want, cad.flags);
        return 0;
}

int verity_check_active(const char *name, struct verity_error *err) {
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        int r;

        r = crypt_init_by_name(&cd, name);
        if (r < 0)
                return fail(err, r, "cannot find verity device %s", name);
        crypt_set_log_callback(cd, log_cb, NULL);
        return check_flags(cd, name, CRYPT_ACTIVATE_READONLY | CRYPT_ACTIVATE_RESTART_ON_CORRUPTION, err);
}

int verity_activate(const struct verity_request *req, struct verity_error *err) {
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        char probe[64];
        int r, q;

        err->msg[0] = '\0';
        if (snprintf(probe, sizeof probe, "%s" PROBE_SUFFIX, req->name) >= (int) sizeof probe)
                return fail(err, -ENAMETOOLONG, "device name %s", req->name);
        r = load(req, &cd, err);
        if (r < 0)
                return r;

        /* 1. Probe mapping, I/O errors on corruption. */
        r = crypt_activate_by_volume_key(cd, probe, (const char *) req->root_hash, ROOT_HASH_SIZE,
                                         CRYPT_ACTIVATE_READONLY);
        if (r < 0)
                return fail(err, r, "cannot activate verity probe mapping");
        r = read_first_block(probe);
        q = check_flags(cd, probe, CRYPT_ACTIVATE_READONLY, err);
        {
                int d = crypt_deactivate(cd, probe);
                if (d < 0 && r >= 0 && q >= 0)
                        return fail(err, d, "cannot remove verity probe mapping");
        }
        if (r < 0)
                return fail(err, r, "first block of %s does not verify against rempart.roothash (wrong root hash, or data damaged beyond FEC repair)",
                            req->data_device);
        if (q < 0)
                return fail(err, q, "verification failed: %s", err->msg);

        /* 2. The real mapping: from now on a bad block that FEC cannot repair
         * restarts the machine, never reaches a reader. */
        r = crypt_activate_by_volume_key(cd, req->name, (const char *) req->root_hash, ROOT_HASH_SIZE,
                                         CRYPT_ACTIVATE_READONLY | CRYPT_ACTIVATE_RESTART_ON_CORRUPTION);
        if (r < 0)
                return fail(err, r, "cannot activate verity device %s", req->name);
        return check_flags(cd, req->name, CRYPT_ACTIVATE_READONLY | CRYPT_ACTIVATE_RESTART_ON_CORRUPTION, err);
}
