/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GPIO backend for chair-sim's virtual lines: a text protocol over a Unix socket
 * (docs/sim-gpio-protocol.md). Same shape as the gpiod backend: an fd in sd-event that turns edges
 * into hw_line_edge(); ActiveLow= is applied here because the sim speaks physical levels. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "hw.h"
#include "log.h"

#define SIM_LINE_MAX 128          /* protocol: at most 128 bytes a line */
#define SIM_ANNOUNCED_MAX 32
#define SIM_PREAMBLE_TIMEOUT_USEC (200 * USEC_PER_MSEC) /* chair-sim sends it at once on connect */

typedef struct SimAnnounced {
        char name[SIM_LINE_MAX];
        bool output;
        bool level;
} SimAnnounced;

typedef struct HwSimGpio {
        HwBackend head;
        int fd;
        sd_event_source *io;
        char buf[4 * SIM_LINE_MAX];
        size_t len;
        bool ready;
        bool resolved; /* announced lines mapped to ours: edges can be applied */
        SimAnnounced announced[SIM_ANNOUNCED_MAX];
        size_t n_announced;
        const char *name[_LINE_MAX]; /* resolved sim name of each configured line */
        bool active[_LINE_MAX];       /* logical level, ActiveLow= applied */
} HwSimGpio;

static bool sim_physical(const HwSimGpio *m, LineId l, bool active) {
        return active != m->head.config->gpio.lines[l].active_low;
}

static LineId sim_line_by_name(const HwSimGpio *m, const char *name) {
        for (LineId l = 0; l < _LINE_MAX; l++)
                if (m->name[l] && streq(m->name[l], name))
                        return l;
        return _LINE_INVALID;
}

static int sim_parse_level(const char *s, bool *ret) {
        if (!s || (!streq(s, "0") && !streq(s, "1")))
                return -EPROTO;
        *ret = streq(s, "1");
        return 0;
}

static int sim_handle_announce(HwSimGpio *m, char *args) {
        char *name = args ? strtok(args, " ") : NULL, *dir = name ? strtok(NULL, " ") : NULL;
        char *level = dir ? strtok(NULL, " ") : NULL;
        SimAnnounced *a;
        bool v;

        if (!name || !dir || sim_parse_level(level, &v) < 0 || strlen(name) >= SIM_LINE_MAX ||
            (!streq(dir, "in") && !streq(dir, "out")))
                return -EPROTO;
        if (m->n_announced >= SIM_ANNOUNCED_MAX)
                return 0; /* more lines than we could ever map: ignore the rest */
        a = &m->announced[m->n_announced++];
        (void) snprintf(a->name, sizeof(a->name), "%s", name);
        a->output = streq(dir, "out");
        a->level = v;
        return 0;
}

/* "edge NAME V NS" or "value NAME V": the sim's clock is not ours, so the edge is stamped on arrival. */
static int sim_handle_level(HwSimGpio *m, char *args, bool edge) {
        char *name = args ? strtok(args, " ") : NULL, *level = name ? strtok(NULL, " ") : NULL;
        LineId l;
        bool v;

        if (!name || sim_parse_level(level, &v) < 0)
                return -EPROTO;
        l = sim_line_by_name(m, name);
        if (l < 0 || line_id_is_output(l))
                return 0; /* a line the config does not use */

        m->active[l] = sim_physical(m, l, v);
        if (edge && m->head.hw)
                hw_line_edge(m->head.hw, l, m->active[l], mono_usec());
        return 0;
}

static int sim_handle_message(HwSimGpio *m, char *msg) {
        char *args = strchr(msg, ' ');

        if (args)
                *args++ = '\0';

        if (streq(msg, "hello")) {
                if (!args || !streq(args, "chair-sim 1"))
                        return log_error_errno(-EPROTO, "Unsupported GPIO simulator: %s", args ?: "");
                return 0;
        }
        if (streq(msg, "line"))
                return m->ready ? 0 : sim_handle_announce(m, args);
        if (streq(msg, "ready")) {
                m->ready = true;
                return 0;
        }
        if (streq(msg, "edge") || streq(msg, "value"))
                return sim_handle_level(m, args, streq(msg, "edge"));
        if (streq(msg, "error")) {
                log_warning("GPIO simulator refused a message: %s", args ?: "");
                return 0;
        }
        return log_debug_errno(-EPROTO, "Unknown GPIO simulator message '%s', ignoring.", msg), 0;
}

/* Reads what is there without blocking and handles every complete line. 0 when the socket would block,
 * -ENOTCONN when the sim went away, -EPROTO on a line longer than the protocol allows. */
static int sim_drain(HwSimGpio *m) {
        for (;;) {
                char *nl;
                ssize_t n;
                int r;

                while ((nl = memchr(m->buf, '\n', m->len))) {
                        size_t used = (size_t) (nl - m->buf) + 1;

                        *nl = '\0';
                        r = sim_handle_message(m, m->buf);
                        memmove(m->buf, m->buf + used, m->len - used);
                        m->len -= used;
                        if (r < 0)
                                return r;
                        /* What follows "ready" waits until the lines are mapped (open() does that). */
                        if (m->ready && !m->resolved)
                                return 0;
                }
                if (m->len >= sizeof(m->buf) - 1)
                        return -EPROTO;

                n = recv(m->fd, m->buf + m->len, sizeof(m->buf) - 1 - m->len, MSG_DONTWAIT);
                if (n == 0)
                        return -ENOTCONN;
                if (n < 0)
                        return errno == EAGAIN || errno == EINTR ? 0 : -ENOTCONN;
                m->len += (size_t) n;
        }
}

static int sim_send(HwSimGpio *m, const char *name, bool level) {
        char msg[SIM_LINE_MAX];
        int n;

        n = snprintf(msg, sizeof(msg), "set %s %d\n", name, level ? 1 : 0);
        if (n < 0 || (size_t) n >= sizeof(msg))
                return -EINVAL;
        /* MSG_NOSIGNAL: a sim that died must give us EPIPE, not kill the daemon with SIGPIPE. */
        if (send(m->fd, msg, (size_t) n, MSG_NOSIGNAL | MSG_DONTWAIT) != n)
                return errno == EAGAIN ? -EAGAIN : -ENOTCONN;
        return 0;
}

static int sim_connect_socket(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (!path)
                return -EINVAL;
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return negative_errno();
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return negative_errno();
        r = fd;
        fd = -EBADF; /* ownership to the caller */
        return r;
}

static int sim_read_preamble(HwSimGpio *m) {
        usec_t deadline = mono_usec() + SIM_PREAMBLE_TIMEOUT_USEC;

        while (!m->ready) {
                usec_t now = mono_usec();
                struct pollfd pfd = { .fd = m->fd, .events = POLLIN };
                int r;

                if (now >= deadline)
                        return -ETIMEDOUT;
                r = poll(&pfd, 1, (int) ((deadline - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC));
                if (r < 0 && errno != EINTR)
                        return negative_errno();
                r = sim_drain(m);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Maps each configured line to an announced one (by name, or by its position for Offset=) and checks
 * its direction. */
static int sim_resolve_lines(HwSimGpio *m) {
        const GpioConfig *gc = &m->head.config->gpio;

        for (LineId l = 0; l < _LINE_MAX; l++) {
                const LineConfig *lc = &gc->lines[l];
                const SimAnnounced *a = NULL;

                m->name[l] = NULL;
                if (!lc->configured)
                        continue;
                for (size_t i = 0; i < m->n_announced; i++)
                        if (lc->name ? streq(lc->name, m->announced[i].name) : (int) i == lc->offset)
                                a = &m->announced[i];
                if (!a)
                        return log_error_errno(-ENOENT, "GPIO simulator has no line %s for %s.",
                                               lc->name ?: "at that offset", line_id_to_string(l));
                if (a->output != line_id_is_output(l))
                        return log_error_errno(-EINVAL, "GPIO simulator line %s is an %s, %s needs an %s.",
                                               a->name, a->output ? "output" : "input", line_id_to_string(l),
                                               line_id_is_output(l) ? "output" : "input");
                m->name[l] = a->name;
                m->active[l] = sim_physical(m, l, a->level);
        }
        m->resolved = true;
        return 0;
}

static void hw_simgpio_close(HwBackend *b) {
        HwSimGpio *m = (HwSimGpio *) b;

        m->io = sd_event_source_disable_unref(m->io);
        if (m->fd >= 0)
                (void) close(m->fd);
        m->fd = -EBADF;
        m->len = 0;
        m->ready = m->resolved = false;
        m->n_announced = 0;
        for (LineId l = 0; l < _LINE_MAX; l++)
                m->name[l] = NULL;
        b->connected = false;
}

static int hw_simgpio_open(HwBackend *b) {
        HwSimGpio *m = (HwSimGpio *) b;
        int r;

        if (m->fd >= 0 && b->connected)
                return 0;
        hw_simgpio_close(b); /* a socket the sim closed on us */

        r = sim_connect_socket(b->config->gpio.sim_socket);
        if (r < 0)
                return r;
        m->fd = r;

        r = sim_read_preamble(m);
        if (r >= 0)
                r = sim_resolve_lines(m);
        if (r >= 0)
                r = sim_drain(m); /* edges that came right behind "ready" */
        /* Outputs to their safe, inactive level at once, whatever the sim had. */
        for (LineId l = 0; r >= 0 && l < _LINE_MAX; l++)
                if (m->name[l] && line_id_is_output(l)) {
                        r = sim_send(m, m->name[l], sim_physical(m, l, false));
                        m->active[l] = false;
                }
        if (r < 0) {
                hw_simgpio_close(b);
                return r;
        }
        b->connected = true;
        return 0;
}

static void hw_simgpio_free(HwBackend *b) {
        if (!b)
                return;
        hw_simgpio_close(b);
        free(b);
}

static void sim_lost(HwSimGpio *m, int error) {
        log_debug_errno(error, "GPIO simulator connection ended: %m");
        /* Stop watching a dead fd; the layer sees -ENOTCONN on its next read and reconnects. */
        if (m->io)
                (void) sd_event_source_set_enabled(m->io, SD_EVENT_OFF);
        m->head.connected = false;
}

static int sim_io_handler(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        HwSimGpio *m = userdata;
        int r;

        r = sim_drain(m);
        if (r < 0 || (revents & (EPOLLHUP | EPOLLERR) && !(revents & EPOLLIN)))
                sim_lost(m, r < 0 ? r : -ENOTCONN);
        return 0;
}

static int hw_simgpio_line_get(HwBackend *b, LineId line, bool *ret_active) {
        HwSimGpio *m = (HwSimGpio *) b;
        int r;

        if (line < 0 || line >= _LINE_MAX)
                return -EINVAL;
        if (m->fd < 0 || !b->connected)
                return -ENOTCONN;
        /* Without a loop nothing else reads the socket. */
        if (!m->io) {
                r = sim_drain(m);
                if (r < 0) {
                        sim_lost(m, r);
                        return -ENOTCONN;
                }
        }
        if (!m->name[line])
                return -ENOENT;
        *ret_active = m->active[line];
        return 0;
}

static int hw_simgpio_line_set(HwBackend *b, LineId line, bool active) {
        HwSimGpio *m = (HwSimGpio *) b;
        int r;

        if (line < 0 || line >= _LINE_MAX || !line_id_is_output(line))
                return -EINVAL;
        if (m->fd < 0 || !b->connected)
                return -ENOTCONN;
        if (!m->name[line])
                return -ENOENT;

        r = sim_send(m, m->name[line], sim_physical(m, line, active));
        if (r == -ENOTCONN)
                sim_lost(m, r);
        if (r < 0)
                return r;
        m->active[line] = active;
        return 0;
}

static int hw_simgpio_attach_event(HwBackend *b, sd_event *event) {
        HwSimGpio *m = (HwSimGpio *) b;
        int r;

        if (m->fd < 0)
                return -ENOTCONN;
        if (m->io)
                return 0;
        r = sd_event_add_io(event, &m->io, m->fd, EPOLLIN, sim_io_handler, m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the GPIO simulator socket: %m");
        (void) sd_event_source_set_priority(m->io, SD_EVENT_PRIORITY_IMPORTANT);
        (void) sd_event_source_set_description(m->io, "sim-gpio");
        /* Edges may have arrived between the preamble and now. */
        r = sim_drain(m);
        if (r < 0)
                sim_lost(m, r);
        return 0;
}

static const HwOps hw_simgpio_ops = {
        .name = "sim-gpio",
        .open = hw_simgpio_open,
        .close = hw_simgpio_close,
        .free = hw_simgpio_free,
        .line_get = hw_simgpio_line_get,
        .line_set = hw_simgpio_line_set,
        .attach_event = hw_simgpio_attach_event,
};

int hw_simgpio_new(const Config *c, HwBackend **ret) {
        HwSimGpio *m;

        m = calloc(1, sizeof(HwSimGpio));
        if (!m)
                return -ENOMEM;
        m->head.ops = &hw_simgpio_ops;
        m->head.config = c;
        m->fd = -EBADF;
        *ret = &m->head;
        return 0;
}
