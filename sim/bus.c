/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* chair-sim's Modbus transports: a TCP server for any number of clients (MBAP framing) and one RTU
 * multi-drop link on a tty carrying all three boards (our own framing, since a libmodbus RTU server
 * listens to one slave id only), plus the queue that sends replies at their due time. */
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "log.h"
#include "sim.h"

#define TCP_MAX_CONNS 32
#define RTU_MIN_GAP_USEC 1750 /* Modbus spec: fixed t3.5 above 19200 baud */

/* ---- reply queue ------------------------------------------------------------------------------------ */

static int reply_queue_on_timer(sd_event_source *src, uint64_t usec, void *userdata);

void reply_queue_init(ReplyQueue *q, Sim *s, int fd) {
        *q = (ReplyQueue){.sim = s, .fd = fd};
}

void reply_queue_done(ReplyQueue *q) {
        while (q->head) {
                Pending *p = q->head;
                q->head = p->next;
                free(p);
        }
        q->timer = sd_event_source_disable_unref(q->timer);
}

static void reply_write(ReplyQueue *q, const uint8_t *data, size_t len) {
        ssize_t n = write(q->fd, data, len);

        /* A peer that does not read its replies loses them; one that went away is noticed by its reader. */
        if (n != (ssize_t)len)
                log_debug_errno(n < 0 ? negative_errno() : -EAGAIN, "Dropped a %zu byte reply: %m", len);
}

static int reply_queue_arm(ReplyQueue *q) {
        int r;

        if (!q->head)
                return q->timer ? sd_event_source_set_enabled(q->timer, SD_EVENT_OFF) : 0;
        if (!q->timer) {
                r = sd_event_add_time(q->sim->event, &q->timer, CLOCK_MONOTONIC, q->head->due, 1,
                                      reply_queue_on_timer, q);
                if (r < 0)
                        return log_error_errno(r, "Failed to add the reply timer: %m");
                return 0;
        }
        r = sd_event_source_set_time(q->timer, q->head->due);
        if (r >= 0)
                r = sd_event_source_set_enabled(q->timer, SD_EVENT_ONESHOT);
        if (r < 0)
                return log_error_errno(r, "Failed to arm the reply timer: %m");
        return 0;
}

static int reply_queue_on_timer(sd_event_source *src, uint64_t usec, void *userdata) {
        ReplyQueue *q = userdata;
        usec_t now = mono_usec();

        while (q->head && q->head->due <= now) {
                Pending *p = q->head;
                q->head = p->next;
                reply_write(q, p->data, p->len);
                free(p);
        }
        return reply_queue_arm(q);
}

int reply_queue_push(ReplyQueue *q, const uint8_t *data, size_t len, usec_t due) {
        if (!q->head && due <= mono_usec()) {
                reply_write(q, data, len);
                return 0;
        }

        Pending *p = calloc(1, sizeof(Pending));
        if (!p)
                return log_oom();
        p->due = due;
        p->len = MIN(len, sizeof(p->data));
        memcpy(p->data, data, p->len);

        /* Sorted by due time; equal times keep their order. */
        Pending **where = &q->head;
        while (*where && (*where)->due <= due)
                where = &(*where)->next;
        p->next = *where;
        *where = p;
        return reply_queue_arm(q);
}

/* ---- Modbus TCP ------------------------------------------------------------------------------------- */

static void tcp_conn_free(TcpConn *c) {
        Sim *s = c->sim;

        for (TcpConn **i = &s->tcp_conns; *i; i = &(*i)->next)
                if (*i == c) {
                        *i = c->next;
                        break;
                }
        reply_queue_done(&c->queue);
        c->src = sd_event_source_disable_unref(c->src);
        (void)close(c->fd);
        free(c);
}

/* Handles every complete ADU in the buffer. Returns -ECONNRESET when the connection must go. */
static int tcp_conn_process(TcpConn *c) {
        size_t pos = 0;
        int r = 0;

        while (c->len - pos >= 7) {
                const uint8_t *adu = c->buf + pos;
                unsigned proto = (unsigned)(adu[2] << 8 | adu[3]), mlen = (unsigned)(adu[4] << 8 | adu[5]);

                if (proto != 0 || mlen < 2 || mlen > MODBUS_TCP_MAX_ADU_LENGTH - 6) {
                        log_debug("TCP: malformed MBAP header (protocol %u, length %u), closing", proto,
                                  mlen);
                        return -ECONNRESET;
                }
                if (c->len - pos < 6 + mlen)
                        break;

                uint8_t rsp[SIM_ADU_MAX];
                usec_t delay;
                SimBoardId b;
                int n = sim_modbus_handle(c->sim, SIM_TRANSPORT_TCP, adu, 6 + mlen, rsp, &delay, &b);
                if (b >= 0)
                        c->boards_addressed |= 1u << b;
                if (n == -ECONNRESET)
                        return n;
                if (n > 0)
                        r = reply_queue_push(&c->queue, rsp, (size_t)n, mono_usec() + delay);
                if (r < 0)
                        return r;
                pos += 6 + mlen;
        }
        memmove(c->buf, c->buf + pos, c->len - pos);
        c->len -= pos;
        return 0;
}

static int tcp_conn_on_io(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        TcpConn *c = userdata;
        ssize_t n = read(fd, c->buf + c->len, sizeof(c->buf) - c->len);

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n <= 0) {
                log_debug("TCP: client closed the connection");
                tcp_conn_free(c);
                return 0;
        }
        c->len += (size_t)n;
        if (tcp_conn_process(c) < 0)
                tcp_conn_free(c);
        return 0;
}

static int tcp_on_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        Sim *s = userdata;
        unsigned n = 0;
        int one = 1, r;

        _cleanup_close_ int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0)
                return log_debug_errno(negative_errno(), "accept() failed, ignoring: %m"), 0;
        for (TcpConn *c = s->tcp_conns; c; c = c->next)
                n++;
        if (n >= TCP_MAX_CONNS)
                return log_warning("TCP: %u connections already, refusing another", n), 0;
        (void)setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

        TcpConn *c = calloc(1, sizeof(TcpConn));
        if (!c)
                return log_oom(), 0;
        c->sim = s;
        c->fd = TAKE_FD(cfd);
        reply_queue_init(&c->queue, s, c->fd);
        r = sd_event_add_io(s->event, &c->src, c->fd, EPOLLIN, tcp_conn_on_io, c);
        if (r < 0) {
                (void)close(c->fd);
                free(c);
                return log_error_errno(r, "Failed to watch a TCP connection: %m"), 0;
        }
        c->next = s->tcp_conns;
        s->tcp_conns = c;
        log_debug("TCP: client connected");
        return 0;
}

static int tcp_listen(Sim *s) {
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
        struct addrinfo *ai = NULL;
        int one = 1, r;

        r = getaddrinfo(s->tcp_host, s->tcp_port, &hints, &ai);
        if (r != 0)
                return log_error_errno(-EADDRNOTAVAIL, "Cannot resolve %s:%s: %s", s->tcp_host, s->tcp_port,
                                       gai_strerror(r));

        _cleanup_close_ int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 16) < 0) {
                r = negative_errno();
                freeaddrinfo(ai);
                return log_error_errno(r, "Failed to listen on %s:%s: %m", s->tcp_host, s->tcp_port);
        }
        freeaddrinfo(ai);

        r = sd_event_add_io(s->event, &s->tcp_src, fd, EPOLLIN, tcp_on_accept, s);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the TCP listener: %m");
        s->tcp_fd = TAKE_FD(fd);
        return 0;
}

static void tcp_unlisten(Sim *s) {
        s->tcp_src = sd_event_source_disable_unref(s->tcp_src);
        if (s->tcp_fd >= 0)
                (void)close(s->tcp_fd);
        s->tcp_fd = -1;
}

int tcp_server_start(Sim *s) {
        const char *colon = strrchr(s->opts.tcp, ':');

        if (!colon || colon == s->opts.tcp || !colon[1])
                return log_error_errno(-EINVAL, "--tcp wants HOST:PORT, got '%s'", s->opts.tcp);
        /* Allow "[::1]:1502" as well as "127.0.0.1:1502". */
        const char *host = s->opts.tcp;
        size_t hlen = (size_t)(colon - host);
        if (host[0] == '[' && hlen >= 2 && host[hlen - 1] == ']')
                host++, hlen -= 2;
        s->tcp_host = strndup(host, hlen);
        s->tcp_port = strdup(colon + 1);
        if (!s->tcp_host || !s->tcp_port)
                return log_oom();

        int r = tcp_listen(s);
        if (r < 0)
                return r;
        log_info("Modbus TCP on %s:%s", s->tcp_host, s->tcp_port);
        return 0;
}

void tcp_server_stop(Sim *s) {
        while (s->tcp_conns)
                tcp_conn_free(s->tcp_conns);
        tcp_unlisten(s);
        free(s->tcp_host);
        free(s->tcp_port);
        s->tcp_host = s->tcp_port = NULL;
}

void tcp_server_apply_faults(Sim *s) {
        unsigned down = 0;

        for (int b = 0; b < _SIM_BOARD_MAX; b++)
                if (s->model.boards[b].fault == BUS_FAULT_DISCONNECT)
                        down |= 1u << b;

        for (TcpConn *c = s->tcp_conns, *next; c; c = next) {
                next = c->next;
                if (c->boards_addressed & down) {
                        log_info("TCP: dropping a connection (disconnect fault)");
                        tcp_conn_free(c);
                }
        }
        if (!s->tcp_host)
                return;
        /* Closing the listener makes new connections fail with "connection refused", like a board that
         * is gone; listening again when the fault is cleared. */
        if (down && !s->tcp_refusing) {
                tcp_unlisten(s);
                s->tcp_refusing = true;
        } else if (!down && s->tcp_refusing) {
                if (tcp_listen(s) >= 0)
                        s->tcp_refusing = false;
        }
}

/* ---- Modbus RTU ------------------------------------------------------------------------------------- */

static speed_t baud_to_speed(unsigned baud) {
        static const struct {
                unsigned baud;
                speed_t speed;
        } table[] = {
                {1200, B1200},     {2400, B2400},     {4800, B4800},     {9600, B9600},
                {19200, B19200},   {38400, B38400},   {57600, B57600},   {115200, B115200},
                {230400, B230400}, {460800, B460800}, {921600, B921600},
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (table[i].baud == baud)
                        return table[i].speed;
        return B0;
}

static int rtu_configure(int fd, const SimOptions *o) {
        struct termios tio;
        speed_t speed = baud_to_speed(o->baud);

        if (speed == B0)
                return log_error_errno(-EINVAL, "Unsupported baud rate %u", o->baud);
        if (tcgetattr(fd, &tio) < 0)
                return log_error_errno(negative_errno(), "%s is not a tty: %m", o->rtu);
        cfmakeraw(&tio);
        (void)cfsetispeed(&tio, speed);
        (void)cfsetospeed(&tio, speed);
        tio.c_cflag |= CLOCAL | CREAD;
        tio.c_cflag &= ~(PARENB | PARODD | CSTOPB);
        if (o->parity != 'N')
                tio.c_cflag |= PARENB | (o->parity == 'O' ? PARODD : 0);
        if (o->stop_bits == 2)
                tio.c_cflag |= CSTOPB;
        tio.c_cc[VMIN] = 0;
        tio.c_cc[VTIME] = 0;
        if (tcsetattr(fd, TCSANOW, &tio) < 0)
                return log_error_errno(negative_errno(), "Failed to configure %s: %m", o->rtu);
        return 0;
}

static usec_t rtu_gap(const RtuPort *p) {
        return MAX((usec_t)(3.5 * (double)p->char_usec), (usec_t)RTU_MIN_GAP_USEC);
}

static void rtu_handle_frame(RtuPort *p, const uint8_t *frame, size_t len) {
        uint8_t rsp[SIM_ADU_MAX];
        usec_t delay, due;
        SimBoardId b;

        int n = sim_modbus_handle(p->sim, SIM_TRANSPORT_RTU, frame, len, rsp, &delay, &b);
        if (n <= 0)
                return;
        due = mono_usec() + delay;
        if (p->sim->opts.wire_time) {
                /* The request on the wire, the 3.5-character silence that ends it, then the reply: the
                 * master has the whole reply this long after the request's first byte. The silence after
                 * the reply is the master's to keep before its next request, not ours to add. */
                double chars = (double)len + 3.5 + (double)n;
                due = MAX(due, p->frame_start + (usec_t)(chars * (double)p->char_usec) + delay);
        }
        (void)reply_queue_push(&p->queue, rsp, (size_t)n, due);
}

static bool rtu_crc_ok(const uint8_t *frame, size_t len) {
        if (len < 4)
                return false;
        uint16_t crc = modbus_crc16(frame, len - 2);
        return frame[len - 2] == (crc & 0xFF) && frame[len - 1] == (crc >> 8);
}

static void rtu_start_resync(RtuPort *p, const char *why) {
        log_debug("RTU: %s, dropping %zu bytes until the line is silent", why, p->len);
        p->len = 0;
        p->resync = true;
}

/* Cuts complete frames off the front of the buffer by their function code's request length. */
static void rtu_parse(RtuPort *p) {
        while (!p->resync && p->len >= 2) {
                int pdu = modbus_pdu_length(p->buf + 1, p->len - 1);
                if (pdu <= 0)
                        return; /* need more bytes, or an unknown function: wait for the silence */

                size_t flen = 1 + (size_t)pdu + 2;
                if (flen > MODBUS_RTU_MAX_ADU_LENGTH)
                        return rtu_start_resync(p, "oversized frame");
                if (p->len < flen)
                        return;
                if (!rtu_crc_ok(p->buf, flen))
                        return rtu_start_resync(p, "CRC error");

                rtu_handle_frame(p, p->buf, flen);
                memmove(p->buf, p->buf + flen, p->len - flen);
                p->len -= flen;
        }
}

static int rtu_on_silence(sd_event_source *src, uint64_t usec, void *userdata) {
        RtuPort *p = userdata;

        if (p->resync) {
                p->resync = false;
                p->len = 0;
                return 0;
        }
        if (p->len == 0)
                return 0;
        /* A frame whose length the function code does not tell ends at the silence; libmodbus answers
         * "illegal function" for it. Anything else still here is a truncated frame. */
        if (p->len >= 4 && modbus_pdu_length(p->buf + 1, p->len - 1) < 0 && rtu_crc_ok(p->buf, p->len))
                rtu_handle_frame(p, p->buf, p->len);
        else
                log_debug("RTU: dropping a %zu byte partial frame", p->len);
        p->len = 0;
        return 0;
}

static int rtu_on_io(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        RtuPort *p = userdata;
        uint8_t chunk[256];
        usec_t now;
        int r;

        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n <= 0) {
                /* The other end of the pty went away: stop polling a dead line instead of spinning. */
                log_warning_errno(n < 0 ? negative_errno() : -EPIPE,
                                  "RTU: %s hung up, no longer listening: %m", p->sim->opts.rtu);
                return sd_event_source_set_enabled(src, SD_EVENT_OFF);
        }

        now = mono_usec();
        if (!p->resync) {
                if (p->len == 0)
                        p->frame_start = now;
                if (p->len + (size_t)n > sizeof(p->buf))
                        rtu_start_resync(p, "buffer overflow");
                else {
                        memcpy(p->buf + p->len, chunk, (size_t)n);
                        p->len += (size_t)n;
                        rtu_parse(p);
                        if (p->len == 0)
                                p->frame_start = now;
                }
        }

        r = sd_event_source_set_time(p->silence, now + rtu_gap(p));
        if (r >= 0)
                r = sd_event_source_set_enabled(p->silence, SD_EVENT_ONESHOT);
        if (r < 0)
                return log_error_errno(r, "Failed to arm the RTU silence timer: %m");
        return 0;
}

int rtu_port_open(Sim *s) {
        int r;

        _cleanup_close_ int fd = open(s->opts.rtu, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(negative_errno(), "Failed to open %s: %m", s->opts.rtu);
        r = rtu_configure(fd, &s->opts);
        if (r < 0)
                return r;

        RtuPort *p = calloc(1, sizeof(RtuPort));
        if (!p)
                return log_oom();
        s->rtu = p;
        p->sim = s;
        p->char_usec = MAX((usec_t)1, (usec_t)(11.0 * 1e6 / s->opts.baud));
        p->fd = TAKE_FD(fd);
        reply_queue_init(&p->queue, s, p->fd);

        r = sd_event_add_io(s->event, &p->src, p->fd, EPOLLIN, rtu_on_io, p);
        if (r >= 0)
                r = sd_event_add_time(s->event, &p->silence, CLOCK_MONOTONIC, USEC_INFINITY, 1,
                                      rtu_on_silence, p);
        if (r >= 0)
                r = sd_event_source_set_enabled(p->silence, SD_EVENT_OFF);
        if (r < 0)
                return log_error_errno(r, "Failed to watch %s: %m", s->opts.rtu);

        log_info("Modbus RTU on %s, %u baud, parity %c, %d stop bit(s)%s", s->opts.rtu, s->opts.baud,
                 s->opts.parity, s->opts.stop_bits, s->opts.wire_time ? ", wire time" : "");
        return 0;
}

void rtu_port_close(Sim *s) {
        RtuPort *p = s->rtu;

        if (!p)
                return;
        reply_queue_done(&p->queue);
        p->src = sd_event_source_disable_unref(p->src);
        p->silence = sd_event_source_disable_unref(p->silence);
        (void)close(p->fd);
        free(p);
        s->rtu = NULL;
}
