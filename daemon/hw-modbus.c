/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Modbus backend (libmodbus): one context for the link, TCP or RTU, shared by every board on it.
 * Converts libmodbus's own errno range to -ETIMEDOUT/-EPROTO/-EIO at this edge and keeps the RTU
 * inter-frame gap that libmodbus does not keep on the master side. */
#include <modbus/modbus.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* <modbus.h> pulls in <sys/param.h>, whose MIN/MAX clash with common/macro.h's: use ours. */
#undef MIN
#undef MAX

#include "hw.h"
#include "log.h"
#include "time-util.h"

typedef struct HwModbus {
        HwBackend head;
        modbus_t *ctx;
        bool rtu;
        usec_t gap_usec;       /* RTU: silence required between a reply and the next request */
        usec_t last_frame_end; /* CLOCK_MONOTONIC when the bus last went quiet; 0 = never */
        usec_t settle_max_usec; /* RTU: longest wait for a late reply to pass (the longest response timeout) */
} HwModbus;

/* Byte timeout bounds: short, so a board that stops mid-frame costs little more than its response
 * timeout, yet long enough for a reply split over two TCP segments or a USB-serial latency tick. */
#define MODBUS_BYTE_TIMEOUT_MIN_USEC (5 * USEC_PER_MSEC)

int modbus_error_to_errno(int error, int *ret_exception) {
        int exception = 0, r;

        if (error < 0)
                error = -error;

        if (error >= EMBXILFUN && error <= EMBXGTAR) {
                /* The board answered with an exception: it is alive but refused the request. */
                exception = error - MODBUS_ENOBASE;
                r = -EPROTO;
        } else if (error == ETIMEDOUT)
                r = -ETIMEDOUT;
        else if (error == EMBBADCRC || error == EMBBADDATA || error == EMBBADEXC || error == EMBUNKEXC ||
                 error == EMBMDATA || error == EMBBADSLAVE)
                r = -EPROTO;
        else
                r = -EIO;

        if (ret_exception)
                *ret_exception = exception;
        return r;
}

/* 3.5 character times; a character is start + data + parity + stop bits. */
static usec_t modbus_rtu_gap_usec(const ModbusConfig *mc) {
        unsigned bits = 1 + mc->data_bits + (mc->parity != PARITY_NONE ? 1 : 0) + mc->stop_bits;

        if (mc->inter_frame_gap_us > 0)
                return mc->inter_frame_gap_us;
        if (mc->baud == 0)
                return 0;
        return ((usec_t) 7 * bits * USEC_PER_SEC + 2 * mc->baud - 1) / (2 * (usec_t) mc->baud);
}

static void modbus_set_timeouts(modbus_t *ctx, usec_t response, usec_t gap) {
        usec_t byte = MIN(response, MAX(MODBUS_BYTE_TIMEOUT_MIN_USEC, 2 * gap));

        response = MAX(response, USEC_PER_MSEC);
        (void) modbus_set_response_timeout(ctx, (uint32_t) (response / USEC_PER_SEC),
                                           (uint32_t) (response % USEC_PER_SEC));
        (void) modbus_set_byte_timeout(ctx, (uint32_t) (byte / USEC_PER_SEC), (uint32_t) (byte % USEC_PER_SEC));
}

static modbus_t *modbus_context_new(const ModbusConfig *mc) {
        if (mc->transport == TRANSPORT_TCP) {
                char port[16];

                if (!mc->host)
                        return errno = EINVAL, NULL;
                (void) snprintf(port, sizeof(port), "%u", (unsigned) mc->port);
                /* The _pi variant resolves host names too, not only dotted IPv4. */
                return modbus_new_tcp_pi(mc->host, port);
        }

        if (!mc->device)
                return errno = EINVAL, NULL;
        return modbus_new_rtu(mc->device, (int) mc->baud,
                              mc->parity == PARITY_EVEN ? 'E' : mc->parity == PARITY_ODD ? 'O' : 'N',
                              (int) mc->data_bits, (int) mc->stop_bits);
}

static int hw_modbus_open(HwBackend *b) {
        HwModbus *m = (HwModbus *) b;
        const Config *c = b->config;
        unsigned timeout_ms = 0;
        modbus_t *ctx;

        if (m->ctx)
                return 0;

        ctx = modbus_context_new(&c->modbus);
        if (!ctx)
                return negative_errno();

        /* A TCP connect waits up to the response timeout: use the most patient board's. */
        for (size_t i = 0; i < c->n_boards; i++)
                timeout_ms = MAX(timeout_ms, c->boards[i].response_timeout_ms);
        modbus_set_timeouts(ctx, (usec_t) MAX(timeout_ms, 1u) * USEC_PER_MSEC, m->gap_usec);
        m->settle_max_usec = (usec_t) MAX(timeout_ms, 1u) * USEC_PER_MSEC;

        if (modbus_connect(ctx) < 0) {
                int r = negative_errno();

                modbus_free(ctx);
                return r;
        }

        /* Whatever a board sent before we opened the line is not an answer to us. */
        if (m->rtu)
                (void) modbus_flush(ctx);

        m->ctx = ctx;
        m->last_frame_end = mono_usec();
        b->connected = true;
        return 0;
}

static void hw_modbus_close(HwBackend *b) {
        HwModbus *m = (HwModbus *) b;

        if (m->ctx) {
                modbus_close(m->ctx);
                modbus_free(m->ctx);
                m->ctx = NULL;
        }
        b->connected = false;
}

static void hw_modbus_free(HwBackend *b) {
        if (!b)
                return;
        hw_modbus_close(b);
        free(b);
}

/* libmodbus keeps no gap before a master's request: a slave that is still inside its 3.5-character
 * silence would merge our request with the end of its reply. Wait only for what is left of it. */
static void modbus_wait_gap(HwModbus *m) {
        usec_t until, now;

        if (!m->rtu || m->gap_usec == 0 || m->last_frame_end == 0)
                return;

        until = m->last_frame_end + m->gap_usec;
        now = mono_usec();
        if (now >= until)
                return;

        struct timespec ts = {
                .tv_sec = (time_t) (until / USEC_PER_SEC),
                .tv_nsec = (long) ((until % USEC_PER_SEC) * NSEC_PER_USEC),
        };
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
                ;
}

static int modbus_prepare(HwModbus *m, const HwBlock *block) {
        const BoardConfig *board;

        if (!m->ctx)
                return -ENOTCONN;
        if (block->board >= m->head.config->n_boards)
                return -EINVAL;

        board = &m->head.config->boards[block->board];
        if (modbus_set_slave(m->ctx, (int) block->slave_id) < 0)
                return -EINVAL;
        modbus_set_timeouts(m->ctx, (usec_t) board->response_timeout_ms * USEC_PER_MSEC, m->gap_usec);
        modbus_wait_gap(m);
        return 0;
}

/* RTU: a slave that answers after our timeout still puts its reply on the line; sent now, the next
 * request would be answered by that stale frame. Wait until the line has been quiet for the
 * inter-frame gap (draining whatever arrives), at most one response timeout: a dead board costs only
 * the gap, a slow one at most its late reply. */
static void modbus_rtu_settle(HwModbus *m) {
        int fd = modbus_get_socket(m->ctx);
        usec_t quiet = MAX(m->gap_usec, (usec_t) 1750), deadline = mono_usec() + m->settle_max_usec;

        for (;;) {
                usec_t now = mono_usec();
                struct pollfd p = { .fd = fd, .events = POLLIN };

                (void) modbus_flush(m->ctx);
                if (fd < 0 || now >= deadline)
                        return;
                /* poll() counts in ms: round the quiet period up */
                if (poll(&p, 1, (int) ((MIN(quiet, deadline - now) + USEC_PER_MSEC - 1) / USEC_PER_MSEC)) <= 0)
                        return;
        }
}

static void modbus_tcp_resync(HwModbus *m) {
        modbus_close(m->ctx);
        /* On failure the next request fails with a link error and the layer reconnects with backoff. */
        if (modbus_connect(m->ctx) < 0)
                log_debug_errno(negative_errno(), "Modbus TCP reconnect after a lost reply failed: %m");
}

/* rc is libmodbus's return; expected the count it must have transferred. */
static int modbus_finish(HwModbus *m, int rc, int expected, int *ret_exception) {
        int error = errno, exception = 0, r;

        if (rc >= 0 && rc == expected) {
                m->last_frame_end = mono_usec();
                if (ret_exception)
                        *ret_exception = 0;
                return 0;
        }

        r = rc >= 0 ? -EPROTO : modbus_error_to_errno(error, &exception);

        /* After a timeout or a garbled frame the rest of that reply (or a late one) may still be on its
         * way. RTU: drop what is buffered so the next request starts on a clean frame. TCP: a late reply
         * would be taken for the answer to the next request, and that one's for the one after, on every
         * board sharing the link (libmodbus cannot skip a stale transaction id): start a fresh
         * connection instead, which costs one round trip. */
        if (r == -ETIMEDOUT || (r == -EPROTO && exception == 0)) {
                if (m->rtu)
                        modbus_rtu_settle(m);
                else
                        modbus_tcp_resync(m);
        }

        m->last_frame_end = mono_usec();
        if (ret_exception)
                *ret_exception = exception;
        return r;
}

static int hw_modbus_read_block(HwBackend *b, const HwBlock *block, uint16_t *ret_values, int *ret_exception) {
        HwModbus *m = (HwModbus *) b;
        uint8_t bits[MODBUS_MAX_READ_BITS];
        int r, rc;

        r = modbus_prepare(m, block);
        if (r < 0)
                return r;

        switch (block->kind) {
        case REGISTER_COIL:
        case REGISTER_DISCRETE:
                if (block->count > MODBUS_MAX_READ_BITS)
                        return -EINVAL;
                rc = block->kind == REGISTER_COIL
                             ? modbus_read_bits(m->ctx, (int) block->address, (int) block->count, bits)
                             : modbus_read_input_bits(m->ctx, (int) block->address, (int) block->count, bits);
                r = modbus_finish(m, rc, (int) block->count, ret_exception);
                if (r < 0)
                        return r;
                for (unsigned i = 0; i < block->count; i++)
                        ret_values[i] = bits[i] ? 1 : 0;
                return 0;

        case REGISTER_INPUT:
        case REGISTER_HOLDING:
                if (block->count > MODBUS_MAX_READ_REGISTERS)
                        return -EINVAL;
                rc = block->kind == REGISTER_INPUT
                             ? modbus_read_input_registers(m->ctx, (int) block->address, (int) block->count,
                                                           ret_values)
                             : modbus_read_registers(m->ctx, (int) block->address, (int) block->count,
                                                     ret_values);
                return modbus_finish(m, rc, (int) block->count, ret_exception);

        default:
                return -EINVAL;
        }
}

static int hw_modbus_write_block(HwBackend *b, const HwBlock *block, const uint16_t *values,
                                 int *ret_exception) {
        HwModbus *m = (HwModbus *) b;
        uint8_t bits[MODBUS_MAX_WRITE_BITS];
        int r, rc;

        r = modbus_prepare(m, block);
        if (r < 0)
                return r;

        /* FC5/FC6 for one item: some small boards implement only the single-write functions. */
        switch (block->kind) {
        case REGISTER_COIL:
                if (block->count > MODBUS_MAX_WRITE_BITS)
                        return -EINVAL;
                if (block->count == 1)
                        rc = modbus_write_bit(m->ctx, (int) block->address, values[0] ? 1 : 0);
                else {
                        for (unsigned i = 0; i < block->count; i++)
                                bits[i] = values[i] ? 1 : 0;
                        rc = modbus_write_bits(m->ctx, (int) block->address, (int) block->count, bits);
                }
                return modbus_finish(m, rc, (int) block->count, ret_exception);

        case REGISTER_HOLDING:
                if (block->count > MODBUS_MAX_WRITE_REGISTERS)
                        return -EINVAL;
                if (block->count == 1)
                        rc = modbus_write_register(m->ctx, (int) block->address, values[0]);
                else
                        rc = modbus_write_registers(m->ctx, (int) block->address, (int) block->count, values);
                return modbus_finish(m, rc, (int) block->count, ret_exception);

        default:
                /* Input registers and discrete inputs are read-only by definition. */
                return -EINVAL;
        }
}

static const HwOps hw_modbus_ops = {
        .name = "modbus",
        .open = hw_modbus_open,
        .close = hw_modbus_close,
        .free = hw_modbus_free,
        .read_block = hw_modbus_read_block,
        .write_block = hw_modbus_write_block,
};

int hw_modbus_new(const Config *c, HwBackend **ret) {
        HwModbus *m;

        if (c->modbus.transport != TRANSPORT_TCP && c->modbus.transport != TRANSPORT_RTU)
                return -EINVAL;

        m = calloc(1, sizeof(HwModbus));
        if (!m)
                return -ENOMEM;

        m->head.ops = &hw_modbus_ops;
        m->head.config = c;
        m->rtu = c->modbus.transport == TRANSPORT_RTU;
        m->gap_usec = m->rtu ? modbus_rtu_gap_usec(&c->modbus) : 0;

        *ret = &m->head;
        return 0;
}
