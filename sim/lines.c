/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* chair-sim's text-line socket servers (the GPIO and control sockets share the plumbing) and the
 * simulated GPIO lines, exactly as docs/sim-gpio-protocol.md describes them. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "sim.h"

/* ---- line servers ----------------------------------------------------------------------------------- */

static void line_client_free(LineClient *c) {
        LineServer *ls = c->server;

        for (LineClient **i = &ls->clients; *i; i = &(*i)->next)
                if (*i == c) {
                        *i = c->next;
                        break;
                }
        if (ls->on_disconnect)
                ls->on_disconnect(c);
        c->src = sd_event_source_disable_unref(c->src);
        (void)close(c->fd);
        free(c);
}

int line_client_send(LineClient *c, const char *fmt, ...) {
        char buf[SIM_LINE_MAX * 2];
        va_list ap;

        va_start(ap, fmt);
        int n = vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= sizeof(buf))
                return -ENOBUFS;
        /* The peer reads its replies; a full socket buffer means it stopped doing so. */
        if (send(c->fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
                return negative_errno();
        return 0;
}

/* Splits the buffer into lines and hands each to the server's handler. Returns <0 to drop the client. */
static int line_client_process(LineClient *c) {
        LineServer *ls = c->server;
        size_t start = 0;
        int r;

        for (size_t i = 0; i < c->len; i++) {
                if (c->buf[i] != '\n')
                        continue;
                c->buf[i] = 0;
                if (i > start && c->buf[i - 1] == '\r')
                        c->buf[i - 1] = 0;
                if (c->overflow)
                        c->overflow = false; /* the tail of a line already refused */
                else {
                        r = ls->on_line(c, c->buf + start);
                        if (r < 0)
                                return r;
                }
                start = i + 1;
        }
        memmove(c->buf, c->buf + start, c->len - start);
        c->len -= start;

        if (c->len > ls->max_line) {
                if (!c->overflow)
                        (void)line_client_send(c, "error line longer than %zu bytes\n", ls->max_line);
                c->overflow = true;
                c->len = 0;
        }
        return 0;
}

static int line_client_on_io(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        LineClient *c = userdata;
        ssize_t n = read(fd, c->buf + c->len, sizeof(c->buf) - c->len - 1);

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n <= 0) {
                line_client_free(c);
                return 0;
        }
        c->len += (size_t)n;
        if (line_client_process(c) < 0)
                line_client_free(c);
        return 0;
}

static int line_server_on_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        LineServer *ls = userdata;

        _cleanup_close_ int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0)
                return log_debug_errno(negative_errno(), "accept() on %s failed, ignoring: %m", ls->path), 0;

        LineClient *c = calloc(1, sizeof(LineClient));
        if (!c)
                return log_oom(), 0;
        int r = sd_event_add_io(ls->sim->event, &c->src, cfd, EPOLLIN, line_client_on_io, c);
        if (r < 0) {
                free(c);
                return log_error_errno(r, "Failed to watch a client of %s: %m", ls->path), 0;
        }
        c->server = ls;
        c->fd = TAKE_FD(cfd);
        c->next = ls->clients;
        ls->clients = c;
        if (ls->on_connect)
                ls->on_connect(c);
        return 0;
}

/* A socket file left by a crashed sim is removed; one that still answers belongs to a live sim. */
static int socket_path_claim(const struct sockaddr_un *sa) {
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return negative_errno();
        if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) >= 0)
                return log_error_errno(-EADDRINUSE, "%s: another chair-sim is running there", sa->sun_path);
        if (unlink(sa->sun_path) < 0 && errno != ENOENT)
                return log_error_errno(negative_errno(), "Failed to remove stale %s: %m", sa->sun_path);
        return 0;
}

int line_server_start(LineServer *ls, Sim *s, const char *path, LineHandler on_line) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int r;

        if (strlen(path) >= sizeof(sa.sun_path))
                return log_error_errno(-ENAMETOOLONG, "Socket path too long: %s", path);
        strcpy(sa.sun_path, path);
        r = socket_path_claim(&sa);
        if (r < 0)
                return r;

        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0)
                return log_error_errno(negative_errno(), "Failed to listen on %s: %m", path);
        /* The daemon runs as its own user; the simulator is a test and demo tool, so let it in. */
        (void)chmod(path, 0666);

        ls->sim = s;
        ls->on_line = on_line;
        ls->max_line = SIM_LINE_MAX;
        ls->path = strdup(path);
        if (!ls->path)
                return log_oom();
        r = sd_event_add_io(s->event, &ls->src, fd, EPOLLIN, line_server_on_accept, ls);
        if (r < 0)
                return log_error_errno(r, "Failed to watch %s: %m", path);
        ls->fd = TAKE_FD(fd);
        return 0;
}

void line_server_stop(LineServer *ls) {
        /* No output reset on the way out: the whole simulated chair goes away with us. */
        ls->on_disconnect = NULL;
        while (ls->clients)
                line_client_free(ls->clients);
        ls->src = sd_event_source_disable_unref(ls->src);
        if (ls->fd >= 0)
                (void)close(ls->fd);
        ls->fd = -1;
        if (ls->path)
                (void)unlink(ls->path);
        free(ls->path);
        ls->path = NULL;
}

/* ---- GPIO ------------------------------------------------------------------------------------------- */

static const struct {
        const char *name;
        LineId id;
} gpio_lines[] = {
        /* order of the "line" messages on connect */
        {"ESTOP", LINE_ESTOP},          {"INTERLOCK", LINE_INTERLOCK},     {"SEAT", LINE_SEAT},
        {"POWER_EN", LINE_POWER_RELAY}, {"WDT_HEARTBEAT", LINE_HEARTBEAT},
};

static const char *gpio_line_name(LineId id) {
        for (size_t i = 0; i < ELEMENTSOF(gpio_lines); i++)
                if (gpio_lines[i].id == id)
                        return gpio_lines[i].name;
        return NULL;
}

static LineId gpio_line_from_name(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(gpio_lines); i++)
                if (streq(gpio_lines[i].name, name))
                        return gpio_lines[i].id;
        return _LINE_INVALID;
}

bool gpio_level(const Sim *s, LineId line) {
        const Model *m = &s->model;

        switch (line) {
        case LINE_ESTOP:
                return model_estop_level(m);
        case LINE_INTERLOCK:
                return m->interlock;
        case LINE_SEAT:
                return m->seated;
        case LINE_POWER_RELAY:
                return m->power_en;
        case LINE_HEARTBEAT:
                return m->wdt_level;
        default:
                return false;
        }
}

void gpio_broadcast_edge(Sim *s, LineId line, bool level, uint64_t ns) {
        for (LineClient *c = s->gpio.clients; c; c = c->next)
                if (line_client_send(c, "edge %s %d %" PRIu64 "\n", gpio_line_name(line), level, ns) < 0)
                        log_debug("GPIO: a client is not reading its edges");
}

static void gpio_set_output(Sim *s, LineId line, bool level) {
        Model *m = &s->model;

        /* Bring the physics up to now first: power changes take effect from this instant. */
        sim_advance(s);
        if (line == LINE_POWER_RELAY) {
                if (m->power_en && !level)
                        m->relay_off_ns = mono_nsec();
                if (m->power_en != level)
                        log_info("Power relay %s", level ? "closed" : "opened");
                m->power_en = level;
        } else if (line == LINE_HEARTBEAT) {
                if (m->wdt_level != level) {
                        m->wdt_last_toggle = m->now;
                        m->wdt_started = true;
                }
                m->wdt_level = level;
        }
        model_update_inputs(m);
}

static void gpio_on_connect(LineClient *c) {
        Sim *s = c->server->sim;

        (void)line_client_send(c, "hello chair-sim 1\n");
        for (size_t i = 0; i < ELEMENTSOF(gpio_lines); i++)
                (void)line_client_send(c, "line %s %s %d\n", gpio_lines[i].name,
                                       line_id_is_output(gpio_lines[i].id) ? "out" : "in",
                                       gpio_level(s, gpio_lines[i].id));
        (void)line_client_send(c, "ready\n");
}

static void gpio_on_disconnect(LineClient *c) {
        /* The relay's hold-in circuit: a client that goes away cannot keep its outputs driven. */
        for (int l = 0; l < _LINE_MAX; l++)
                if (c->outputs_set & (1u << l))
                        gpio_set_output(c->server->sim, (LineId)l, false);
}

static int gpio_on_line(LineClient *c, char *line) {
        Sim *s = c->server->sim;
        char verb[16], name[32], value[8], extra[2];
        int n = sscanf(line, "%15s %31s %7s %1s", verb, name, value, extra);

        if (n < 2)
                return line_client_send(c, "error expected 'set NAME 0|1' or 'get NAME'\n"), 0;
        LineId id = gpio_line_from_name(name);
        if (id < 0)
                return line_client_send(c, "error unknown line '%s'\n", name), 0;

        if (streq(verb, "get") && n == 2)
                return line_client_send(c, "value %s %d\n", name, gpio_level(s, id)), 0;
        if (!streq(verb, "set") || n != 3)
                return line_client_send(c, "error expected 'set NAME 0|1' or 'get NAME'\n"), 0;
        if (!line_id_is_output(id))
                return line_client_send(c, "error %s is an input line\n", name), 0;
        if (!streq(value, "0") && !streq(value, "1"))
                return line_client_send(c, "error level must be 0 or 1, got '%s'\n", value), 0;

        c->outputs_set |= 1u << id;
        gpio_set_output(s, id, value[0] == '1');
        return 0;
}

int gpio_server_start(Sim *s, const char *path) {
        int r = line_server_start(&s->gpio, s, path, gpio_on_line);
        if (r < 0)
                return r;
        s->gpio.on_connect = gpio_on_connect;
        s->gpio.on_disconnect = gpio_on_disconnect;
        return 0;
}
