/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* chair-sim's Modbus request handling, shared by the TCP and RTU transports: picks the board, applies
 * the injected bus fault, checks written values the way a board would, and builds the reply with
 * libmodbus. libmodbus writes the reply into a socketpair we read back, so that faults (delay, wrong
 * CRC, garbage) can be applied to the real bytes before they go out. */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "sim.h"

uint16_t modbus_crc16(const uint8_t *data, size_t len) {
        uint16_t crc = 0xFFFF;

        for (size_t i = 0; i < len; i++) {
                crc ^= data[i];
                for (int bit = 0; bit < 8; bit++)
                        crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
        }
        return crc;
}

int modbus_pdu_length(const uint8_t *pdu, size_t avail) {
        if (avail < 1)
                return 0;
        switch (pdu[0]) {
        case MODBUS_FC_READ_COILS:
        case MODBUS_FC_READ_DISCRETE_INPUTS:
        case MODBUS_FC_READ_HOLDING_REGISTERS:
        case MODBUS_FC_READ_INPUT_REGISTERS:
        case MODBUS_FC_WRITE_SINGLE_COIL:
        case MODBUS_FC_WRITE_SINGLE_REGISTER:
        case 0x08: /* diagnostics: sub-function and one word */
                return 5;
        case MODBUS_FC_READ_EXCEPTION_STATUS:
        case 0x0B: /* get comm event counter */
        case 0x0C: /* get comm event log */
        case MODBUS_FC_REPORT_SLAVE_ID:
                return 1;
        case MODBUS_FC_WRITE_MULTIPLE_COILS:
        case MODBUS_FC_WRITE_MULTIPLE_REGISTERS:
                return avail < 6 ? 0 : 6 + pdu[5];
        case MODBUS_FC_MASK_WRITE_REGISTER:
                return 7;
        case MODBUS_FC_WRITE_AND_READ_REGISTERS:
                return avail < 10 ? 0 : 10 + pdu[9];
        default:
                return -EBADMSG;
        }
}

int sim_modbus_setup(Sim *s) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, s->capture) < 0)
                return log_error_errno(negative_errno(), "Failed to create the reply socketpair: %m");

        /* The contexts never connect: they only format replies into the capture socket. */
        s->tcp_ctx = modbus_new_tcp("127.0.0.1", MODBUS_TCP_DEFAULT_PORT);
        s->rtu_ctx = modbus_new_rtu("/dev/null", (int)s->opts.baud, s->opts.parity, 8, s->opts.stop_bits);
        if (!s->tcp_ctx || !s->rtu_ctx)
                return log_oom();

        modbus_t *ctxs[] = {s->tcp_ctx, s->rtu_ctx};
        for (size_t i = 0; i < ELEMENTSOF(ctxs); i++) {
                if (modbus_set_socket(ctxs[i], s->capture[0]) < 0)
                        return log_error_errno(-EIO, "modbus_set_socket() failed: %s",
                                               modbus_strerror(errno));
                /* libmodbus sleeps for the response timeout before some exception replies (to flush a
                 * line on which the client is still talking); a server with many clients must not. */
                (void)modbus_set_response_timeout(ctxs[i], 0, 1);
        }
        return 0;
}

void sim_modbus_done(Sim *s) {
        if (s->tcp_ctx)
                modbus_free(s->tcp_ctx);
        if (s->rtu_ctx)
                modbus_free(s->rtu_ctx);
        s->tcp_ctx = s->rtu_ctx = NULL;
        for (int i = 0; i < 2; i++)
                if (s->capture[i] >= 0)
                        (void)close(s->capture[i]);
        s->capture[0] = s->capture[1] = -1;
}

/* Takes the bytes libmodbus just "sent" back out of the capture socket. */
static int capture_reply(Sim *s, int rc, uint8_t *rsp) {
        if (rc < 0)
                return log_warning_errno(-EIO, "Failed to build a Modbus reply: %s", modbus_strerror(errno));
        if (rc == 0)
                return 0; /* RTU broadcast: no reply */

        ssize_t n = read(s->capture[1], rsp, SIM_ADU_MAX);
        if (n != rc)
                return log_warning_errno(n < 0 ? negative_errno() : -EIO, "Lost a Modbus reply in capture");
        return (int)n;
}

typedef struct WriteInfo {
        bool is_write, registers;
        unsigned address, count;
        uint16_t values[MODBUS_MAX_WR_WRITE_REGISTERS];
} WriteInfo;

static uint16_t get16(const uint8_t *p) {
        return (uint16_t)((p[0] << 8) | p[1]);
}

/* Decodes what a request writes. pdu is the function code onwards; its length was checked. */
static void write_info_parse(const uint8_t *pdu, const modbus_mapping_t *map, WriteInfo *w) {
        *w = (WriteInfo){.address = get16(pdu + 1)};

        switch (pdu[0]) {
        case MODBUS_FC_WRITE_SINGLE_COIL:
                *w = (WriteInfo){.is_write = true, .address = get16(pdu + 1), .count = 1};
                break;
        case MODBUS_FC_WRITE_MULTIPLE_COILS:
                *w = (WriteInfo){.is_write = true, .address = get16(pdu + 1), .count = get16(pdu + 3)};
                break;
        case MODBUS_FC_WRITE_SINGLE_REGISTER:
                w->is_write = w->registers = true;
                w->count = 1;
                w->values[0] = get16(pdu + 3);
                break;
        case MODBUS_FC_MASK_WRITE_REGISTER: {
                uint16_t and_mask = get16(pdu + 3), or_mask = get16(pdu + 5);
                uint16_t cur = w->address < (unsigned)map->nb_registers ? map->tab_registers[w->address] : 0;
                w->is_write = w->registers = true;
                w->count = 1;
                w->values[0] = (uint16_t)((cur & and_mask) | (or_mask & ~and_mask));
                break;
        }
        case MODBUS_FC_WRITE_MULTIPLE_REGISTERS:
        case MODBUS_FC_WRITE_AND_READ_REGISTERS: {
                const uint8_t *p = pdu[0] == MODBUS_FC_WRITE_MULTIPLE_REGISTERS ? pdu + 1 : pdu + 5;
                w->is_write = w->registers = true;
                w->address = get16(p);
                w->count = MIN(get16(p + 2), (unsigned)MODBUS_MAX_WR_WRITE_REGISTERS);
                w->count = MIN(w->count, (unsigned)p[4] / 2);
                for (unsigned i = 0; i < w->count; i++)
                        w->values[i] = get16(p + 5 + 2 * i);
                break;
        }
        default:
                break;
        }
}

static bool write_covers(const WriteInfo *w, unsigned reg) {
        return w->is_write && w->registers && reg >= w->address && reg < w->address + w->count;
}

/* Answers one request addressed to board b (no fault): checks values, lets libmodbus read/write the
 * map and reply, then tells the model what was written. */
static int board_reply(Sim *s, modbus_t *ctx, SimBoardId b, const uint8_t *req, size_t len, unsigned offset,
                       uint8_t *rsp) {
        SimBoard *board = &s->model.boards[b];
        size_t pdu_len = len - offset - (offset == 1 ? 2 : 0); /* RTU frames end with the CRC */
        WriteInfo w;

        /* An MBAP length that disagrees with the function's own byte counts is refused before libmodbus
         * looks at it: it trusts the counts inside the PDU. */
        int expected = modbus_pdu_length(req + offset, pdu_len);
        if (expected == 0 || (expected > 0 && (size_t)expected != pdu_len))
                return capture_reply(
                        s, modbus_reply_exception(ctx, req, MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE), rsp);

        write_info_parse(req + offset, board->map, &w);
        for (unsigned i = 0; w.registers && i < w.count; i++)
                if (!model_register_value_ok(b, w.address + i, w.values[i])) {
                        log_debug("%s: refusing value %u for register %u", sim_board_to_string(b),
                                  w.values[i], w.address + i);
                        return capture_reply(
                                s, modbus_reply_exception(ctx, req, MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE),
                                rsp);
                }

        int n = capture_reply(s, modbus_reply(ctx, req, (int)len, board->map), rsp);
        if (n < 0 || !w.is_write)
                return n;
        if (n > 0 && (rsp[offset] & 0x80))
                return n; /* libmodbus refused it (address outside the map): nothing was written */

        model_after_write(&s->model, b, write_covers(&w, board->heartbeat_reg),
                          write_covers(&w, board->comm_timeout_reg));
        return n;
}

static void corrupt_reply(SimTransport t, BusFault f, uint8_t *rsp, size_t n) {
        static uint32_t seed = 0x2545F491;

        if (t == SIM_TRANSPORT_TCP) {
                /* A malformed MBAP header: wrong protocol id and a length that does not match. */
                if (n >= 6) {
                        rsp[2] = 0xBE, rsp[3] = 0xEF;
                        rsp[4] = 0x00, rsp[5] = (uint8_t)(n + 17);
                }
                return;
        }
        if (f == BUS_FAULT_CRC) {
                if (n >= 2)
                        rsp[n - 2] ^= 0xA5, rsp[n - 1] ^= 0x5A;
                return;
        }
        for (size_t i = 0; i < n; i++) {
                /* xorshift: noise on the line, no need for good randomness */
                seed ^= seed << 13, seed ^= seed >> 17, seed ^= seed << 5;
                rsp[i] = (uint8_t)seed;
        }
}

static int handle_broadcast(Sim *s, const uint8_t *req, size_t len, uint8_t *rsp) {
        /* RTU broadcast (slave 0): every board that hears it acts on it, none replies. */
        modbus_set_slave(s->rtu_ctx, 0);
        for (int b = 0; b < _SIM_BOARD_MAX; b++) {
                BusFault f = s->model.boards[b].fault;
                if (f == BUS_FAULT_TIMEOUT || f == BUS_FAULT_DISCONNECT || f == BUS_FAULT_EXCEPTION)
                        continue;
                (void)board_reply(s, s->rtu_ctx, b, req, len, 1, rsp);
        }
        return 0;
}

static int handle_checked(Sim *s, SimTransport t, const uint8_t *req, size_t len, uint8_t *rsp,
                          usec_t *ret_delay, SimBoardId *ret_board) {
        modbus_t *ctx = t == SIM_TRANSPORT_TCP ? s->tcp_ctx : s->rtu_ctx;
        unsigned offset = t == SIM_TRANSPORT_TCP ? 7 : 1;
        unsigned unit = req[offset - 1];

        if (t == SIM_TRANSPORT_RTU && unit == 0)
                return handle_broadcast(s, req, len, rsp);
        if (unit < 1 || unit > _SIM_BOARD_MAX) {
                if (t == SIM_TRANSPORT_RTU)
                        return 0; /* another device on the multi-drop link */
                return capture_reply(s, modbus_reply_exception(ctx, req, MODBUS_EXCEPTION_GATEWAY_TARGET),
                                     rsp);
        }

        SimBoardId b = (SimBoardId)(unit - 1);
        SimBoard *board = &s->model.boards[b];
        int n;

        *ret_board = b;
        if (t == SIM_TRANSPORT_RTU)
                modbus_set_slave(ctx, (int)unit);

        switch (board->fault) {
        case BUS_FAULT_TIMEOUT:
                return 0;
        case BUS_FAULT_DISCONNECT:
                return t == SIM_TRANSPORT_TCP ? -ECONNRESET : 0;
        case BUS_FAULT_EXCEPTION:
                n = capture_reply(s, modbus_reply_exception(ctx, req, board->fault_arg), rsp);
                break;
        default:
                n = board_reply(s, ctx, b, req, len, offset, rsp);
                break;
        }
        if (n <= 0)
                return n;

        board->requests++;
        if (board->fault == BUS_FAULT_SLOW)
                *ret_delay = board->fault_arg * USEC_PER_MSEC;
        if (board->fault == BUS_FAULT_GARBAGE || board->fault == BUS_FAULT_CRC)
                corrupt_reply(t, board->fault, rsp, (size_t)n);
        return n;
}

int sim_modbus_handle(Sim *s, SimTransport t, const uint8_t *frame, size_t len, uint8_t *rsp,
                      usec_t *ret_delay, SimBoardId *ret_board) {
        /* A zeroed copy, so libmodbus never reads past what the peer sent. */
        uint8_t req[MODBUS_TCP_MAX_ADU_LENGTH + 16] = {};
        unsigned offset = t == SIM_TRANSPORT_TCP ? 7 : 1;

        *ret_delay = 0;
        *ret_board = _SIM_BOARD_INVALID;
        if (len <= offset || len > MODBUS_TCP_MAX_ADU_LENGTH)
                return 0;
        memcpy(req, frame, len);

        sim_advance(s);
        int n = handle_checked(s, t, req, len, rsp, ret_delay, ret_board);
        model_update_inputs(&s->model);
        return n;
}
