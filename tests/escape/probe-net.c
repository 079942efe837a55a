/* SPDX-License-Identifier: MIT */
/* Probes on networking, IPC endpoints, devices and terminals: reaching the
 * host's listeners (abstract and path UNIX sockets, TCP, UDP, IPv6), any
 * route out, raw/packet/vsock sockets, privileged network operations,
 * device nodes outside the allowlist, and terminal input injection. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/tiocl.h>
#include <linux/vm_sockets.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "probe.h"

/* A network attempt: success is ALLOWED; "nothing there" (unreachable,
 * refused, unknown name, no such address family) and permission refusals
 * are DENIED; anything else is inconclusive. */
static void judge_net(struct probe_result *r, int rc, int err, const char *what) {
        switch (rc == 0 ? 0 : err) {
        case 0:
                set_result(r, PROBE_ALLOWED, "%s", what);
                break;
        case ENETUNREACH:
        case EHOSTUNREACH:
        case EADDRNOTAVAIL:
        case ECONNREFUSED:
        case ENOENT:
        case EAFNOSUPPORT:
                set_result(r, PROBE_DENIED, "%s (unreachable)", errname(err));
                break;
        default:
                judge_err(r, -1, err, 0, "");
        }
}

static int stream_connect(int family, const struct sockaddr *sa, socklen_t len, int *err) {
        struct timeval tv = { .tv_sec = 3 };
        int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

        if (fd < 0) {
                *err = errno;
                return -1;
        }
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)); /* bounded wait only */
        rc = connect(fd, sa, len);
        *err = errno;
        (void) close(fd);
        return rc;
}

static void unix_connect(const char *name, bool abstract, struct probe_result *r) {
        struct sockaddr_un sun = { .sun_family = AF_UNIX };
        size_t len = strlen(name);
        int rc, err = 0;

        if (len + 2 > sizeof(sun.sun_path)) {
                set_result(r, PROBE_ERROR, "socket name too long");
                return;
        }
        memcpy(sun.sun_path + (abstract ? 1 : 0), name, len);
        rc = stream_connect(AF_UNIX, (struct sockaddr *) &sun,
                            (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len + (abstract ? 1 : 0)), &err);
        judge_net(r, rc, err, abstract ? "connected to the host abstract socket" : "connected to the host socket");
}

static void probe_abstract_unix_connect(const struct probe_ctx *ctx, struct probe_result *r) {
        if (!ctx->abstract_name)
                set_result(r, PROBE_SKIP, "no --abstract");
        else
                unix_connect(ctx->abstract_name, true, r);
}

static void probe_unix_path_connect(const struct probe_ctx *ctx, struct probe_result *r) {
        if (!ctx->unix_path)
                set_result(r, PROBE_SKIP, "no --unix-path");
        else
                unix_connect(ctx->unix_path, false, r);
}

static void probe_tcp_connect_host(const struct probe_ctx *ctx, struct probe_result *r) {
        struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons((uint16_t) ctx->tcp_port) };
        int rc, err = 0;

        if (!ctx->tcp_port) {
                set_result(r, PROBE_SKIP, "no --tcp-port");
                return;
        }
        in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        rc = stream_connect(AF_INET, (struct sockaddr *) &in, sizeof(in), &err);
        judge_net(r, rc, err, "connected to the host listener on 127.0.0.1");
}

static void probe_tcp6_connect_host(const struct probe_ctx *ctx, struct probe_result *r) {
        struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t) ctx->tcp_port) };
        int rc, err = 0;

        if (!ctx->tcp_port) {
                set_result(r, PROBE_SKIP, "no --tcp-port");
                return;
        }
        in6.sin6_addr = in6addr_loopback;
        rc = stream_connect(AF_INET6, (struct sockaddr *) &in6, sizeof(in6), &err);
        judge_net(r, rc, err, "connected to the host listener on [::1]");
}

static void probe_udp_send_host(const struct probe_ctx *ctx, struct probe_result *r) {
        struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons((uint16_t) ctx->udp_port) };
        int fd;
        ssize_t n;

        if (!ctx->udp_port) {
                set_result(r, PROBE_SKIP, "no --udp-port");
                return;
        }
        in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                judge_net(r, -1, errno, "");
                return;
        }
        n = sendto(fd, "x", 1, 0, (struct sockaddr *) &in, sizeof(in));
        judge_net(r, n == 1 ? 0 : -1, errno, "sent a datagram to the host listener");
        (void) close(fd);
}

/* A UDP connect only looks the route up, it sends nothing: a documentation
 * address (TEST-NET-3 / 2001:db8::) that nobody answers. */
static void route_out(int family, struct probe_result *r) {
        struct sockaddr_storage ss = { 0 };
        socklen_t len;
        int fd, rc;

        if (family == AF_INET) {
                struct sockaddr_in *in = (struct sockaddr_in *) &ss;
                in->sin_family = AF_INET;
                in->sin_port = htons(9);
                (void) inet_pton(AF_INET, "203.0.113.1", &in->sin_addr);
                len = sizeof(*in);
        } else {
                struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons(9);
                (void) inet_pton(AF_INET6, "2001:db8::1", &in6->sin6_addr);
                len = sizeof(*in6);
        }
        fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                judge_net(r, -1, errno, "");
                return;
        }
        rc = connect(fd, (struct sockaddr *) &ss, len);
        judge_net(r, rc, errno, "a route to the outside exists");
        (void) close(fd);
}

static void probe_route_external(const struct probe_ctx *ctx, struct probe_result *r) {
        route_out(AF_INET, r);
}

static void probe_route_external6(const struct probe_ctx *ctx, struct probe_result *r) {
        route_out(AF_INET6, r);
}

static void probe_net_interfaces(const struct probe_ctx *ctx, struct probe_result *r) {
        struct if_nameindex *ifs = if_nameindex();
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        unsigned others = 0;

        if (!ifs) {
                set_result(r, PROBE_ERROR, "if_nameindex: %s", errname(errno));
                if (fd >= 0)
                        (void) close(fd);
                return;
        }
        set_result(r, PROBE_DENIED, "interfaces:");
        for (struct if_nameindex *i = ifs; i->if_index; i++) {
                struct ifreq ifr;
                bool up = false;

                memset(&ifr, 0, sizeof(ifr));
                (void) snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", i->if_name);
                if (fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0)
                        up = ifr.ifr_flags & IFF_UP;
                append_detail(r, " %s(%s)", i->if_name, up ? "up" : "down");
                if (strcmp(i->if_name, "lo") != 0)
                        others++;
        }
        if_freenameindex(ifs);
        if (fd >= 0)
                (void) close(fd);
        if (others > 0)
                r->status = PROBE_ALLOWED;
}

static void open_socket(int family, int type, int proto, const char *what, struct probe_result *r) {
        int fd = socket(family, type | SOCK_CLOEXEC, proto);

        if (fd >= 0)
                (void) close(fd);
        judge_net(r, fd < 0 ? -1 : 0, errno, what);
}

static void probe_raw_socket(const struct probe_ctx *ctx, struct probe_result *r) {
        open_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP, "opened a raw IPv4 socket", r);
}

/* Protocol 0: the socket is not bound to any traffic until bind(). */
static void probe_packet_socket(const struct probe_ctx *ctx, struct probe_result *r) {
        open_socket(AF_PACKET, SOCK_RAW, 0, "opened a packet socket", r);
}

/* vsock bypasses network namespaces (it talks to the hypervisor). */
static void probe_vsock_socket(const struct probe_ctx *ctx, struct probe_result *r) {
        open_socket(AF_VSOCK, SOCK_STREAM, 0, "opened an AF_VSOCK socket (not confined by the net namespace)", r);
}

/* RTM_SETLINK on an interface index that does not exist: rtnetlink checks
 * CAP_NET_ADMIN before the handler, which then answers ENODEV. */
static void probe_netlink_route_modify(const struct probe_ctx *ctx, struct probe_result *r) {
        struct {
                struct nlmsghdr nh;
                struct ifinfomsg ifi;
        } req;
        char buf[1024];
        struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
        struct timeval tv = { .tv_sec = 3 };
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        ssize_t n;

        if (fd < 0) {
                judge(r, -1, 0, "");
                return;
        }
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)); /* bounded wait only */
        memset(&req, 0, sizeof(req));
        req.nh.nlmsg_len = sizeof(req);
        req.nh.nlmsg_type = RTM_SETLINK;
        req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
        req.nh.nlmsg_seq = 1;
        req.ifi.ifi_family = AF_UNSPEC;
        req.ifi.ifi_index = 0x7ffffff0;
        if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *) &kernel, sizeof(kernel)) < 0) {
                judge(r, -1, 0, "");
        } else if ((n = recv(fd, buf, sizeof(buf), 0)) < (ssize_t) (sizeof(struct nlmsghdr) + sizeof(int))) {
                set_result(r, PROBE_ERROR, "no netlink answer: %s", errname(n < 0 ? errno : EIO));
        } else {
                const struct nlmsghdr *nh = (const struct nlmsghdr *) buf;
                const struct nlmsgerr *e = NLMSG_DATA(nh);
                if (nh->nlmsg_type != NLMSG_ERROR)
                        set_result(r, PROBE_ERROR, "unexpected netlink answer type %u", nh->nlmsg_type);
                else
                        judge_err(r, e->error == 0 ? 0 : -1, -e->error, ENODEV, "RTM_SETLINK accepted");
        }
        (void) close(fd);
}

/* Binding a port below 1024 needs CAP_NET_BIND_SERVICE; EADDRINUSE comes
 * after that check. Nothing listens. */
static void probe_bind_privileged_port(const struct probe_ctx *ctx, struct probe_result *r) {
        struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(1023) };
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0) {
                judge(r, -1, 0, "");
                return;
        }
        in.sin_addr.s_addr = htonl(INADDR_ANY);
        judge(r, bind(fd, (struct sockaddr *) &in, sizeof(in)), EADDRINUSE, "bound port 1023");
        (void) close(fd);
}

/* Device nodes no default jail lists.  Opened read-only, never read;
 * none is harmful to open (no watchdog, no QoS or serial console). */
static void probe_dev_outside_allowlist(const struct probe_ctx *ctx, struct probe_result *r) {
        static const char *const devs[] = { "/dev/mem",          "/dev/kmem",     "/dev/port",   "/dev/kmsg",
                                            "/dev/console",      "/dev/tty0",     "/dev/tty1",   "/dev/vda",
                                            "/dev/sda",          "/dev/nvme0n1",  "/dev/loop0",  "/dev/loop-control",
                                            "/dev/fuse",         "/dev/net/tun",  "/dev/vsock",  "/dev/kvm",
                                            "/dev/userfaultfd",  "/dev/btrfs-control", "/dev/mapper/control",
                                            "/dev/ptmx",         NULL };
        char opened[PROBE_DETAIL_MAX] = "", refused[PROBE_DETAIL_MAX] = "";
        unsigned n_open = 0, n_refused = 0;

        for (const char *const *d = devs; *d; d++) {
                int fd = open(*d, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
                if (fd >= 0) {
                        (void) close(fd);
                        n_open++;
                        buf_append(opened, sizeof(opened), " %s", *d);
                } else if (errno != ENOENT && errno != ENXIO && errno != ENODEV) {
                        n_refused++;
                        buf_append(refused, sizeof(refused), " %s(%s)",
                                        *d, errname(errno));
                }
        }
        if (n_open)
                set_result(r, PROBE_ALLOWED, "opened%s", opened);
        else if (n_refused)
                set_result(r, PROBE_DENIED, "refused:%s; the others are absent", refused);
        else
                set_result(r, PROBE_DENIED, "none present (ENOENT/ENXIO)");
}

/* A device node given by the driver that the jail can reach but does not
 * allowlist (e.g. /proc/self/fd/0 on a host device): the three refusals
 * are told apart because only EPERM proves the cgroup device program. */
static void probe_device_cgroup(const struct probe_ctx *ctx, struct probe_result *r) {
        int fd;

        if (!ctx->device) {
                set_result(r, PROBE_SKIP, "no --device");
                return;
        }
        fd = open(ctx->device, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd >= 0) {
                (void) close(fd);
                set_result(r, PROBE_ALLOWED, "opened %s", ctx->device);
        } else if (errno == EPERM) {
                set_result(r, PROBE_DENIED, "EPERM (cgroup device program) on %s", ctx->device);
        } else if (errno == EACCES) {
                set_result(r, PROBE_DENIED, "EACCES (nodev mount, file mode or Landlock) on %s", ctx->device);
        } else if (errno == ENOENT) {
                set_result(r, PROBE_DENIED, "ENOENT (not visible) on %s", ctx->device);
        } else {
                set_result(r, PROBE_ERROR, "%s on %s", errname(errno), ctx->device);
        }
}

/* A pty pair of our own, so that an injected byte reaches nobody; without
 * /dev/ptmx, /dev/null (a filter must refuse the ioctl before the driver
 * says ENOTTY). */
static int own_tty(char *what, size_t size) {
        int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), s = -1;
        char name[64];

        if (m >= 0 && unlockpt(m) == 0 && ptsname_r(m, name, sizeof(name)) == 0)
                s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        /* The master stays open (leaked on purpose until the probe child
         * exits): closing it would hang the slave up. */
        if (s >= 0) {
                (void) snprintf(what, size, "a pty of our own (%s)", name);
                return s;
        }
        (void) snprintf(what, size, "/dev/null (no pty available)");
        return open("/dev/null", O_RDWR | O_CLOEXEC);
}

static void judge_tty(struct probe_result *r, int rc, int err, const char *what) {
        if (rc < 0 && err == EIO)
                set_result(r, PROBE_DENIED, "EIO (legacy TIOCSTI disabled) on %s", what);
        else if (rc < 0 && err == ENOTTY)
                set_result(r, PROBE_ERROR, "ENOTTY: the ioctl reached %s unfiltered", what);
        else
                judge_err(r, rc, err, 0, what);
        if (r->status == PROBE_DENIED && err != EIO)
                append_detail(r, " on %s", what);
}

static void probe_tiocsti(const struct probe_ctx *ctx, struct probe_result *r) {
        char what[128];
        const char c = ' ';
        int fd = own_tty(what, sizeof(what)), rc;

        if (fd < 0) {
                set_result(r, PROBE_ERROR, "no terminal to try: %s", errname(errno));
                return;
        }
        rc = ioctl(fd, TIOCSTI, &c);
        judge_tty(r, rc, errno, what);
        if (r->status == PROBE_ALLOWED)
                set_result(r, PROBE_ALLOWED, "injected input into %s", what);
        (void) close(fd);
}

/* TIOCLINUX needs a virtual console; TIOCL_GETSHIFTSTATE only reads. */
static void probe_tioclinux(const struct probe_ctx *ctx, struct probe_result *r) {
        static const char *const vts[] = { "/dev/tty0", "/dev/tty1", "/dev/console", "/dev/null", NULL };
        char arg[4] = { TIOCL_GETSHIFTSTATE };
        const char *what = NULL;
        int fd = -1, rc;

        for (const char *const *v = vts; *v && fd < 0; v++) {
                fd = open(*v, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
                what = *v;
        }
        if (fd < 0) {
                set_result(r, PROBE_ERROR, "no terminal to try: %s", errname(errno));
                return;
        }
        rc = ioctl(fd, TIOCLINUX, arg);
        judge_tty(r, rc, errno, what);
        if (r->status == PROBE_ALLOWED)
                set_result(r, PROBE_ALLOWED, "TIOCLINUX answered on %s", what);
        (void) close(fd);
}

const struct probe probes_net[] = {
        { "abstract_unix_connect", probe_abstract_unix_connect, "connect to the host's abstract UNIX socket", 0,
          false },
        { "unix_path_connect", probe_unix_path_connect, "connect to the host's UNIX socket by path", 0, false },
        { "tcp_connect_host", probe_tcp_connect_host, "TCP connect to the host listener on 127.0.0.1", 0, false },
        { "tcp6_connect_host", probe_tcp6_connect_host, "TCP connect to the host listener on [::1]", 0, false },
        { "udp_send_host", probe_udp_send_host, "UDP datagram to the host listener on 127.0.0.1", 0, false },
        { "route_external", probe_route_external, "IPv4 route to the outside (UDP connect, nothing sent)", 0,
          false },
        { "route_external6", probe_route_external6, "IPv6 route to the outside (UDP connect, nothing sent)", 0,
          false },
        { "net_interfaces", probe_net_interfaces, "see a network interface other than lo", 0, false },
        { "raw_socket", probe_raw_socket, "socket(AF_INET, SOCK_RAW)", 0, false },
        { "packet_socket", probe_packet_socket, "socket(AF_PACKET, SOCK_RAW)", 0, false },
        { "vsock_socket", probe_vsock_socket, "socket(AF_VSOCK) (bypasses network namespaces)", 0, false },
        { "netlink_route_modify", probe_netlink_route_modify,
          "RTM_SETLINK (missing interface: ENODEV past the check)", 0, false },
        { "bind_privileged_port", probe_bind_privileged_port, "bind TCP port 1023", 0, false },
        { "dev_outside_allowlist", probe_dev_outside_allowlist, "open device nodes no default jail lists", 0,
          false },
        { "device_cgroup", probe_device_cgroup, "open the --device node (cgroup device program: EPERM)", 0,
          false },
        { "tiocsti", probe_tiocsti, "TIOCSTI input injection", 0, false },
        { "tioclinux", probe_tioclinux, "TIOCLINUX on a virtual console", 0, false },
        { NULL, NULL, NULL, 0, false },
};
