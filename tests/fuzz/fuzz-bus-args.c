/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the D-Bus adaptors' argument reading and validation. Builds a real method call
 * (sd_bus_message) for one of the adaptors' methods with arguments from the fuzz bytes (any string,
 * double incl. NaN and inf, integers) and calls the adaptor's handler from the exported vtables the
 * way sd-bus would. The caller is an unprivileged user, so every handler must stop at its caller check
 * at the latest: the manager is never reached (userdata is NULL; reaching it crashes).
 * Checks: an over-long string is refused as InvalidArgument, a non-finite number is never accepted. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "bus.h"
#include "fuzz-util.h"

static sd_bus *bus;

int LLVMFuzzerInitialize(int *argc, char ***argv);
/* A connected AF_UNIX socket whose peer is an unprivileged user (nobody), so that sd-bus, which on a
 * peer-to-peer connection takes the socket's peer as the sender of every message, reports a caller that
 * is neither root nor in chair-ui/chair-tech. Not root already: a plain socketpair does. */
static int unprivileged_peer_fd(void) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fds[2], lfd, cfd;

        if (getuid() != 0) {
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
                        abort();
                return fds[0];
        }
        lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        snprintf(sa.sun_path, sizeof sa.sun_path, "/tmp/fuzz-bus-args.%d", (int) getpid());
        (void) unlink(sa.sun_path);
        if (lfd < 0 || bind(lfd, (struct sockaddr *) &sa, sizeof sa) < 0 || chmod(sa.sun_path, 0666) < 0 ||
            listen(lfd, 1) < 0)
                abort();
        pid_t pid = fork();
        if (pid < 0)
                abort();
        if (pid == 0) {
                int fd = socket(AF_UNIX, SOCK_STREAM, 0);
                if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0 ||
                    connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                        _exit(1);
                /* stays connected (sd-bus writes its AUTH line) until the fuzzer exits */
                char c;
                while (read(fd, &c, 1) > 0)
                        ;
                _exit(0);
        }
        cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        (void) unlink(sa.sun_path);
        close(lfd);
        if (cfd < 0)
                abort();
        return cfd;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        int fd = unprivileged_peer_fd();

        /* Messages need a bus that has started; the peer never answers, nothing is ever sent. */
        if (sd_bus_new(&bus) < 0 || sd_bus_set_fd(bus, fd, fd) < 0 || sd_bus_start(bus) < 0)
                abort();
        return 0;
}

typedef struct Reader {
        const uint8_t *data;
        size_t size;
} Reader;

static void take(Reader *r, void *ret, size_t n) {
        memset(ret, 0, n);
        n = n < r->size ? n : r->size;
        memcpy(ret, r->data, n);
        r->data += n, r->size -= n;
}

/* A string of up to 255 bytes; may be invalid UTF-8 (sd-bus then refuses to append it). */
static char *take_string(Reader *r, char *buf) {
        uint8_t n = 0;

        take(r, &n, 1);
        take(r, buf, n);
        buf[n] = 0;
        return buf;
}

static const sd_bus_vtable *method_by_index(unsigned i, const char **ret_iface) {
        const sd_bus_vtable *tables[] = { chair_vtable, maintenance_vtable };
        const char *ifaces[] = { IFACE_CHAIR, IFACE_MAINT };
        const sd_bus_vtable *found[64];
        const char *found_iface[64];
        size_t n = 0;

        for (size_t t = 0; t < 2; t++)
                for (const sd_bus_vtable *v = tables[t]; v->type != _SD_BUS_VTABLE_END && n < 64; v++)
                        if (v->type == _SD_BUS_VTABLE_METHOD && v->x.method.signature &&
                            v->x.method.signature[0]) { /* only methods that take arguments */
                                found_iface[n] = ifaces[t];
                                found[n++] = v;
                        }
        if (n == 0)
                abort();
        *ret_iface = found_iface[i % n];
        return found[i % n];
}

static int append_args(sd_bus_message *m, const char *sig, Reader *r, bool *long_string, bool *non_finite) {
        char buf[256];
        int k;

        for (const char *c = sig; *c; c++) {
                uint32_t u = 0;
                uint16_t q = 0;
                double d = 0;

                switch (*c) {
                case 's':
                        take_string(r, buf);
                        *long_string = *long_string || strlen(buf) > BUS_STRING_MAX;
                        k = sd_bus_message_append(m, "s", buf);
                        break;
                case 'u':
                        take(r, &u, sizeof u);
                        k = sd_bus_message_append(m, "u", u);
                        break;
                case 'q':
                        take(r, &q, sizeof q);
                        k = sd_bus_message_append(m, "q", q);
                        break;
                case 'd':
                        take(r, &d, sizeof d);
                        *non_finite = *non_finite || !isfinite(d);
                        k = sd_bus_message_append(m, "d", d);
                        break;
                default:
                        return -EOPNOTSUPP; /* a new argument type: teach the fuzzer */
                }
                if (k < 0)
                        return k;
        }
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *m = NULL;
        Reader r = { data, size };
        bool long_string = false, non_finite = false;
        const char *iface;
        uint8_t pick = 0;

        take(&r, &pick, 1);
        const sd_bus_vtable *v = method_by_index(pick, &iface);
        if (sd_bus_message_new_method_call(bus, &m, BUS_NAME, BUS_PATH, iface, v->x.method.member) < 0)
                abort();
        int k = append_args(m, v->x.method.signature, &r, &long_string, &non_finite);
        if (k == -EOPNOTSUPP)
                abort();
        if (k < 0 || sd_bus_message_seal(m, 1, 0) < 0 || sd_bus_message_rewind(m, true) < 0) {
                sd_bus_message_unref(m);
                return 0;
        }

        int ret = v->x.method.handler(m, NULL, &e);
        if (ret >= 0 && !sd_bus_error_is_set(&e))
                abort(); /* accepted without credentials */
        if (long_string && !sd_bus_error_has_name(&e, "org.chaird.Error.InvalidArgument"))
                abort();
        sd_bus_message_unref(m);
        return 0;
}
