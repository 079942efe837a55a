/* SPDX-License-Identifier: MIT */
/* rempart-probe --serve-fixtures: the host side of the escape battery.
 * Listeners the jailed probes try to reach (TCP on 127.0.0.1 and [::1], UDP
 * on 127.0.0.1, an abstract and a path UNIX socket), and a long-lived root
 * process (this one) to see, signal, trace and setns into. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "probe.h"

static int listen_tcp(int family, int *port) {
        struct sockaddr_storage ss = { 0 };
        socklen_t len;
        int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

        if (fd < 0)
                return -errno;
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)); /* quick restarts only */
        if (family == AF_INET) {
                struct sockaddr_in *in = (struct sockaddr_in *) &ss;
                in->sin_family = AF_INET;
                in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                in->sin_port = htons((uint16_t) *port);
                len = sizeof(*in);
        } else {
                struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;
                in6->sin6_family = AF_INET6;
                in6->sin6_addr = in6addr_loopback;
                in6->sin6_port = htons((uint16_t) *port);
                (void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
                len = sizeof(*in6);
        }
        if (bind(fd, (struct sockaddr *) &ss, len) < 0 || listen(fd, 16) < 0 ||
            getsockname(fd, (struct sockaddr *) &ss, &len) < 0) {
                int e = errno;
                (void) close(fd);
                return -e;
        }
        *port = ntohs(family == AF_INET ? ((struct sockaddr_in *) &ss)->sin_port
                                        : ((struct sockaddr_in6 *) &ss)->sin6_port);
        return fd;
}

static int listen_unix(const char *name, bool abstract) {
        struct sockaddr_un sun = { .sun_family = AF_UNIX };
        size_t len = strlen(name);
        int fd;

        if (len + 2 > sizeof(sun.sun_path))
                return -ENAMETOOLONG;
        memcpy(sun.sun_path + (abstract ? 1 : 0), name, len);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &sun,
                 (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len + (abstract ? 1 : 0))) < 0 ||
            listen(fd, 16) < 0) {
                int e = errno;
                (void) close(fd);
                return -e;
        }
        return fd;
}

/* Host side of the battery: listeners the jailed probes try to reach, and a
 * long-lived process (ourselves) to see, signal and trace.  Prints
 * "FIXTURES pid=P tcp=N udp=N tcp6=0|1" once ready, then serves until
 * killed or until the parent dies. */
int serve_fixtures(const char *abstract, const char *unix_path) {
        struct pollfd pf[5];
        struct sockaddr_in in = { .sin_family = AF_INET };
        socklen_t inlen = sizeof(in);
        int tcp_port = 0, tcp6_port, nfds = 0, udp;

        (void) prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the driver */
        pf[nfds].fd = listen_tcp(AF_INET, &tcp_port);
        if (pf[nfds].fd < 0) {
                fprintf(stderr, "rempart-probe: tcp listener: %s\n", strerror(-pf[nfds].fd));
                return 1;
        }
        nfds++;
        tcp6_port = tcp_port;
        pf[nfds].fd = listen_tcp(AF_INET6, &tcp6_port);
        bool have6 = pf[nfds].fd >= 0;
        if (have6)
                nfds++;
        udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (udp < 0 || bind(udp, (struct sockaddr *) &in, sizeof(in)) < 0 ||
            getsockname(udp, (struct sockaddr *) &in, &inlen) < 0) {
                perror("rempart-probe: udp listener");
                return 1;
        }
        pf[nfds++].fd = udp;
        if (abstract) {
                pf[nfds].fd = listen_unix(abstract, true);
                if (pf[nfds].fd < 0) {
                        fprintf(stderr, "rempart-probe: abstract listener: %s\n", strerror(-pf[nfds].fd));
                        return 1;
                }
                nfds++;
        }
        if (unix_path) {
                pf[nfds].fd = listen_unix(unix_path, false);
                if (pf[nfds].fd < 0) {
                        fprintf(stderr, "rempart-probe: unix listener: %s\n", strerror(-pf[nfds].fd));
                        return 1;
                }
                nfds++;
        }
        printf("FIXTURES pid=%d tcp=%d udp=%d tcp6=%d\n", (int) getpid(), tcp_port, ntohs(in.sin_port),
               have6 && tcp6_port == tcp_port ? 1 : 0);
        (void) fflush(stdout);
        for (;;) {
                for (int i = 0; i < nfds; i++)
                        pf[i].events = POLLIN;
                if (poll(pf, (nfds_t) nfds, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return 1;
                }
                for (int i = 0; i < nfds; i++) {
                        char buf[64];
                        if (!(pf[i].revents & POLLIN))
                                continue;
                        if (pf[i].fd == udp) {
                                (void) !recv(udp, buf, sizeof(buf), MSG_DONTWAIT); /* discard */
                        } else {
                                int c = accept4(pf[i].fd, NULL, NULL, SOCK_CLOEXEC);
                                if (c >= 0)
                                        (void) close(c);
                        }
                }
        }
}
