/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the hardware layer (daemon/hw.c) against mock backends at the ops table: board health,
 * error mapping, poll scheduling, heartbeat, output encoding, all-stop and line debounce. Time is
 * passed in, except for the one test that runs the debounce timer on a real sd-event loop. */
#include <limits.h>
#include <math.h>
#include <modbus/modbus.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#undef MIN /* from <modbus.h>'s <sys/param.h>; common/macro.h defines its own */
#undef MAX

#include "hw.h"

#define MS(x) ((usec_t) (x) * USEC_PER_MSEC)
#define T0 MS(1000) /* tests start at an arbitrary, non-zero monotonic time */
#define N_BOARDS 3
#define MOCK_REGS 64
#define MOCK_LOG 64

/* ---- mock bus: a register file per board and kind, an operation log, injectable errors ---- */

typedef struct MockOp {
        HwBlock block;
        uint16_t values[16];
} MockOp;

typedef struct MockBus {
        HwBackend head;
        int open_result;
        unsigned opens, closes;
        uint16_t regs[N_BOARDS][_REGISTER_KIND_MAX][MOCK_REGS];
        int fail_errno[N_BOARDS]; /* libmodbus/system errno to fail every request with; 0 = answer */
        unsigned reads[N_BOARDS];
        MockOp log[MOCK_LOG]; /* writes, in order */
        size_t n_log;
        size_t n_ops;         /* reads and writes */
        size_t first_read_op[N_BOARDS]; /* n_ops at the first read of each board, +1; 0 = none */
        size_t first_write_op[N_BOARDS];
} MockBus;

static int mock_bus_open(HwBackend *b) {
        MockBus *m = (MockBus *) b;

        m->opens++;
        if (m->open_result < 0)
                return m->open_result;
        b->connected = true;
        return 0;
}

static void mock_bus_close(HwBackend *b) {
        ((MockBus *) b)->closes++;
        b->connected = false;
}

static void mock_free(HwBackend *b) {
        free(b);
}

static int mock_bus_fail(MockBus *m, const HwBlock *block, int *ret_exception) {
        if (!m->head.connected)
                return -ENOTCONN;
        if (m->fail_errno[block->board] == 0) {
                *ret_exception = 0;
                return 0;
        }
        /* The mapping under test is the real one the Modbus backend uses. */
        return modbus_error_to_errno(m->fail_errno[block->board], ret_exception);
}

static int mock_read_block(HwBackend *b, const HwBlock *block, uint16_t *ret_values, int *ret_exception) {
        MockBus *m = (MockBus *) b;
        int r;

        m->n_ops++;
        if (!m->first_read_op[block->board])
                m->first_read_op[block->board] = m->n_ops;
        r = mock_bus_fail(m, block, ret_exception);
        if (r < 0)
                return r;
        m->reads[block->board]++;
        memcpy(ret_values, &m->regs[block->board][block->kind][block->address], block->count * sizeof(uint16_t));
        return 0;
}

static int mock_write_block(HwBackend *b, const HwBlock *block, const uint16_t *values, int *ret_exception) {
        MockBus *m = (MockBus *) b;
        int r;

        m->n_ops++;
        if (!m->first_write_op[block->board])
                m->first_write_op[block->board] = m->n_ops;
        r = mock_bus_fail(m, block, ret_exception);
        if (r < 0)
                return r;
        assert_true(block->write);
        assert_true(block->count <= 16);
        memcpy(&m->regs[block->board][block->kind][block->address], values, block->count * sizeof(uint16_t));
        if (m->n_log < MOCK_LOG) {
                m->log[m->n_log].block = *block;
                memcpy(m->log[m->n_log].values, values, block->count * sizeof(uint16_t));
                m->n_log++;
        }
        return 0;
}

static const HwOps mock_bus_ops = {
        .name = "mock",
        .open = mock_bus_open,
        .close = mock_bus_close,
        .free = mock_free,
        .read_block = mock_read_block,
        .write_block = mock_write_block,
};

/* ---- mock lines ---- */

typedef struct MockLines {
        HwBackend head;
        int open_result;
        int get_result;
        unsigned opens, sets;
        bool level[_LINE_MAX];
} MockLines;

static int mock_lines_open(HwBackend *b) {
        MockLines *m = (MockLines *) b;

        m->opens++;
        if (m->open_result < 0)
                return m->open_result;
        b->connected = true;
        return 0;
}

static void mock_lines_close(HwBackend *b) {
        b->connected = false;
}

static int mock_line_get(HwBackend *b, LineId line, bool *ret_active) {
        MockLines *m = (MockLines *) b;

        if (m->get_result < 0)
                return m->get_result;
        *ret_active = m->level[line];
        return 0;
}

static int mock_line_set(HwBackend *b, LineId line, bool active) {
        MockLines *m = (MockLines *) b;

        m->sets++;
        m->level[line] = active;
        return 0;
}

static const HwOps mock_lines_ops = {
        .name = "mock-lines",
        .open = mock_lines_open,
        .close = mock_lines_close,
        .free = mock_free,
        .line_get = mock_line_get,
        .line_set = mock_line_set,
};

/* ---- the chair: config/examples/chaird.conf built by hand ---- */

typedef struct Fixture {
        Config config;
        BoardConfig boards[N_BOARDS];
        SignalConfig signals[_SIGNAL_MAX];
        MockBus *bus;
        MockLines *lines;
        Hw *hw;
        ChairInputs in;
        unsigned n_reports;
        LineId report_line[16];
        bool report_active[16];
        usec_t report_time[16];
} Fixture;

static void fixture_board(Fixture *f, const char *name, unsigned poll_ms, unsigned loss_ms, int hb, int ct,
                          unsigned ct_ms) {
        f->boards[f->config.n_boards++] = (BoardConfig) {
                .name = (char *) name,
                .slave_id = (unsigned) f->config.n_boards + 1,
                .response_timeout_ms = 20,
                .poll_interval_ms = poll_ms,
                .required = true,
                .max_missed_polls = 3,
                .comm_loss_ms = loss_ms,
                .heartbeat_register = hb,
                .comm_timeout_register = ct,
                .comm_timeout_ms = ct_ms,
        };
}

static void fixture_signal(Fixture *f, SignalId id, unsigned board, RegisterKind kind, unsigned address,
                           ValueType type, double scale, double min, double max) {
        f->signals[f->config.n_signals++] = (SignalConfig) {
                .id = id,
                .board = board,
                .kind = kind,
                .address = address,
                .type = type,
                .scale = scale,
                .has_range = min < max,
                .min = min,
                .max = max,
        };
}

static void fixture_config(Fixture *f) {
        Config *c = &f->config;

        c->boards = f->boards;
        c->signals = f->signals;
        c->modbus = (ModbusConfig) { .transport = TRANSPORT_TCP, .reconnect_min_ms = 100, .reconnect_max_ms = 5000 };

        fixture_board(f, "roller", 0, 100, 6, 7, 250);
        fixture_board(f, "airbag", 50, 300, 4, 5, 500);
        fixture_board(f, "base", 100, 500, 2, 3, 1000);

        fixture_signal(f, SIGNAL_ROLLER_POSITION, 0, REGISTER_INPUT, 0, VALUE_U16, 0.1, 0, 700);
        fixture_signal(f, SIGNAL_ROLLER_SPEED, 0, REGISTER_INPUT, 1, VALUE_S16, 0.1, -300, 300);
        fixture_signal(f, SIGNAL_ROLLER_FORCE, 0, REGISTER_INPUT, 2, VALUE_U16, 0.1, 0, 400);
        fixture_signal(f, SIGNAL_ROLLER_TARGET, 0, REGISTER_HOLDING, 0, VALUE_U16, 0.1, 0, 700);
        fixture_signal(f, SIGNAL_ROLLER_SPEED_LIMIT, 0, REGISTER_HOLDING, 1, VALUE_U16, 0.1, 0, 300);
        fixture_signal(f, SIGNAL_ROLLER_FORCE_SETPOINT, 0, REGISTER_HOLDING, 2, VALUE_U16, 0.1, 0, 200);
        fixture_signal(f, SIGNAL_ROLLER_TECHNIQUE, 0, REGISTER_HOLDING, 3, VALUE_U16, 1, 0, 6);
        fixture_signal(f, SIGNAL_ROLLER_WIDTH, 0, REGISTER_HOLDING, 4, VALUE_U16, 1, 0, 200);
        fixture_signal(f, SIGNAL_ROLLER_ENABLE, 0, REGISTER_HOLDING, 5, VALUE_U16, 1, 0, 1);
        fixture_signal(f, SIGNAL_AIRBAG_SHOULDERS_PRESSURE, 1, REGISTER_INPUT, 0, VALUE_U16, 0.1, 0, 60);
        fixture_signal(f, SIGNAL_AIRBAG_SHOULDERS_COMMAND, 1, REGISTER_HOLDING, 0, VALUE_U16, 1, 0, 2);
        fixture_signal(f, SIGNAL_AIRBAG_ARMS_COMMAND, 1, REGISTER_HOLDING, 1, VALUE_U16, 1, 0, 2);
        fixture_signal(f, SIGNAL_AIRBAG_HIPS_COMMAND, 1, REGISTER_HOLDING, 2, VALUE_U16, 1, 0, 2);
        fixture_signal(f, SIGNAL_AIRBAG_LEGS_COMMAND, 1, REGISTER_HOLDING, 3, VALUE_U16, 1, 0, 2);
        fixture_signal(f, SIGNAL_HEAT_TEMPERATURE, 2, REGISTER_INPUT, 0, VALUE_S16, 0.1, -10, 80);
        fixture_signal(f, SIGNAL_HEAT_SETPOINT, 2, REGISTER_HOLDING, 0, VALUE_S16, 0.1, 0, 50);
        fixture_signal(f, SIGNAL_RECLINE_TARGET, 2, REGISTER_HOLDING, 1, VALUE_U16, 0.1, 0, 60);
        fixture_signal(f, SIGNAL_HEAT_ENABLE, 2, REGISTER_COIL, 0, VALUE_BOOL, 1, 0, 0);
        fixture_signal(f, SIGNAL_RECLINE_ENABLE, 2, REGISTER_COIL, 1, VALUE_BOOL, 1, 0, 0);

        c->gpio.backend = GPIO_BACKEND_SIM;
        c->gpio.lines[LINE_ESTOP] = (LineConfig) { .configured = true, .name = (char *) "ESTOP", .debounce_ms = 20 };
        c->gpio.lines[LINE_INTERLOCK] = (LineConfig) { .configured = true, .name = (char *) "INTERLOCK",
                                                       .debounce_ms = 20 };
        c->gpio.lines[LINE_SEAT] = (LineConfig) { .configured = true, .name = (char *) "SEAT", .debounce_ms = 200 };
        c->gpio.lines[LINE_POWER_RELAY] = (LineConfig) { .configured = true, .name = (char *) "POWER_EN" };
        c->gpio.lines[LINE_HEARTBEAT] = (LineConfig) { .configured = true, .name = (char *) "WDT" };
}

static void on_line(Hw *hw, LineId line, bool active, usec_t timestamp, void *userdata) {
        Fixture *f = userdata;

        assert_true(f->n_reports < ELEMENTSOF(f->report_line));
        f->report_line[f->n_reports] = line;
        f->report_active[f->n_reports] = active;
        f->report_time[f->n_reports] = timestamp;
        f->n_reports++;
}

static void fixture_start(Fixture *f, sd_event *event) {
        f->bus = calloc(1, sizeof(MockBus));
        f->lines = calloc(1, sizeof(MockLines));
        assert_non_null(f->bus);
        assert_non_null(f->lines);
        f->bus->head.ops = &mock_bus_ops;
        f->lines->head.ops = &mock_lines_ops;

        assert_int_equal(hw_new_with_backends(&f->config, event, &f->bus->head, &f->lines->head, &f->hw), 0);
        hw_set_line_callback(f->hw, on_line, f);
}

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(Fixture));

        assert_non_null(f);
        fixture_config(f);
        fixture_start(f, NULL);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;

        hw_free(f->hw);
        free(f);
        return 0;
}

static const BoardState *board(Fixture *f, unsigned b) {
        const BoardState *st = hw_board_state(f->hw, b);

        assert_non_null(st);
        return st;
}

/* ---- tests ---- */

static void test_read_decodes_and_inits_first(void **state) {
        Fixture *f = *state;

        f->bus->regs[0][REGISTER_INPUT][0] = 1234;            /* 123.4 mm */
        f->bus->regs[0][REGISTER_INPUT][1] = (uint16_t) -50;  /* -5.0 mm/s */
        f->bus->regs[2][REGISTER_INPUT][0] = (uint16_t) -25;  /* -2.5 °C */

        assert_int_equal(hw_read_inputs(f->hw, T0, &f->in), 0);
        assert_int_equal(f->in.now, T0);
        assert_float_equal(f->in.value[SIGNAL_ROLLER_POSITION], 123.4, 1e-9);
        assert_float_equal(f->in.value[SIGNAL_ROLLER_SPEED], -5.0, 1e-9);
        assert_float_equal(f->in.value[SIGNAL_HEAT_TEMPERATURE], -2.5, 1e-9);
        assert_true(f->in.valid[SIGNAL_ROLLER_POSITION]);
        assert_int_equal(f->in.updated[SIGNAL_ROLLER_POSITION], T0);
        assert_false(f->in.valid[SIGNAL_RECLINE_ANGLE]); /* not configured */

        /* each board: CommTimeoutMs to its register before it is read */
        for (unsigned b = 0; b < N_BOARDS; b++) {
                assert_int_equal(board(f, b)->health, BOARD_OK);
                assert_int_equal(board(f, b)->last_good, T0);
                assert_true(f->bus->first_write_op[b] > 0);
                assert_true(f->bus->first_write_op[b] < f->bus->first_read_op[b]);
                assert_int_equal(f->bus->regs[b][REGISTER_HOLDING][f->boards[b].comm_timeout_register],
                                 f->boards[b].comm_timeout_ms);
        }
        assert_int_equal(f->bus->n_log, 3);

        /* once is enough while the board answers */
        assert_int_equal(hw_read_inputs(f->hw, T0 + MS(10), &f->in), 0);
        assert_int_equal(f->bus->n_log, 3);
}

static void test_error_mapping(void **state) {
        Fixture *f = *state;
        static const struct {
                int error;
                int expect;
                int exception;
        } cases[] = {
                { ETIMEDOUT, -ETIMEDOUT, 0 },
                { EMBXILADD, -EPROTO, MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS },
                { EMBXSBUSY, -EPROTO, MODBUS_EXCEPTION_SLAVE_OR_SERVER_BUSY },
                { EMBBADCRC, -EPROTO, 0 },
                { EMBBADSLAVE, -EPROTO, 0 },
        };
        usec_t now = T0;

        f->bus->regs[0][REGISTER_INPUT][0] = 1000;
        assert_int_equal(hw_read_inputs(f->hw, now, &f->in), 0);

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                double good = 100.0 + 10.0 * (double) i;
                usec_t good_at = now;

                f->bus->regs[0][REGISTER_INPUT][0] = (uint16_t) (1100 + 100 * i);
                f->bus->fail_errno[0] = cases[i].error;
                now += MS(1);
                assert_int_equal(hw_read_inputs(f->hw, now, &f->in), cases[i].expect);
                assert_int_equal(board(f, 0)->last_error, cases[i].expect);
                assert_int_equal(board(f, 0)->last_exception, cases[i].exception);
                assert_int_equal(board(f, 0)->missed, 1);
                assert_int_equal(board(f, 0)->health, BOARD_DEGRADED);
                /* invalid this cycle, last good value kept; the other boards unaffected */
                assert_false(f->in.valid[SIGNAL_ROLLER_POSITION]);
                assert_float_equal(f->in.value[SIGNAL_ROLLER_POSITION], good, 1e-9);
                assert_int_equal(f->in.updated[SIGNAL_ROLLER_POSITION], good_at);
                assert_true(f->in.valid[SIGNAL_AIRBAG_SHOULDERS_PRESSURE]);
                assert_int_equal(board(f, 1)->health, BOARD_OK);

                /* and one good poll makes it whole again */
                f->bus->fail_errno[0] = 0;
                now += MS(1);
                assert_int_equal(hw_read_inputs(f->hw, now, &f->in), 0);
                assert_int_equal(board(f, 0)->health, BOARD_OK);
                assert_int_equal(board(f, 0)->missed, 0);
                assert_float_equal(f->in.value[SIGNAL_ROLLER_POSITION], good + 10.0, 1e-9);
        }
        assert_int_equal(board(f, 0)->failures, ELEMENTSOF(cases));
}

static void test_modbus_error_to_errno(void **state) {
        int exception = -1;

        assert_int_equal(modbus_error_to_errno(EMBXILFUN, &exception), -EPROTO);
        assert_int_equal(exception, MODBUS_EXCEPTION_ILLEGAL_FUNCTION);
        assert_int_equal(modbus_error_to_errno(EMBXGTAR, &exception), -EPROTO);
        assert_int_equal(exception, MODBUS_EXCEPTION_GATEWAY_TARGET);
        assert_int_equal(modbus_error_to_errno(ETIMEDOUT, &exception), -ETIMEDOUT);
        assert_int_equal(exception, 0);
        assert_int_equal(modbus_error_to_errno(EMBBADDATA, &exception), -EPROTO);
        assert_int_equal(modbus_error_to_errno(EMBBADEXC, &exception), -EPROTO);
        assert_int_equal(modbus_error_to_errno(EMBMDATA, &exception), -EPROTO);
        assert_int_equal(exception, 0);
        assert_int_equal(modbus_error_to_errno(ECONNRESET, &exception), -EIO);
        assert_int_equal(modbus_error_to_errno(EPIPE, NULL), -EIO);
}

static void test_lost_at_max_missed(void **state) {
        Fixture *f = *state;
        usec_t now = T0;

        f->boards[0].comm_loss_ms = 0; /* only the count decides here */
        assert_int_equal(hw_read_inputs(f->hw, now, &f->in), 0);

        f->bus->fail_errno[0] = ETIMEDOUT;
        for (unsigned i = 1; i <= 2; i++) {
                now += MS(10);
                assert_int_equal(hw_read_inputs(f->hw, now, &f->in), -ETIMEDOUT);
                assert_int_equal(board(f, 0)->missed, i);
                assert_int_equal(board(f, 0)->health, BOARD_DEGRADED);
        }
        now += MS(10);
        assert_int_equal(hw_read_inputs(f->hw, now, &f->in), -ETIMEDOUT);
        assert_int_equal(board(f, 0)->missed, 3);
        assert_int_equal(board(f, 0)->health, BOARD_LOST);

        /* Lost: tried once per backoff period (100, then 200 ms), not every cycle. */
        uint64_t requests = board(f, 0)->requests;
        usec_t lost_at = now;
        for (now = lost_at + MS(10); now < lost_at + MS(100); now += MS(10))
                (void) hw_read_inputs(f->hw, now, &f->in);
        assert_int_equal(board(f, 0)->requests, requests);
        assert_int_equal(hw_read_inputs(f->hw, lost_at + MS(100), &f->in), -ETIMEDOUT);
        /* one request: the comm-timeout write that must come first, and it fails */
        assert_int_equal(board(f, 0)->requests, requests + 1);
        requests = board(f, 0)->requests;
        (void) hw_read_inputs(f->hw, lost_at + MS(299), &f->in);
        assert_int_equal(board(f, 0)->requests, requests);

        /* writes skip the lost board too */
        ChairOutputs out;
        chair_outputs_safe(&out);
        (void) hw_write_outputs(f->hw, lost_at + MS(299), &out);
        assert_int_equal(board(f, 0)->requests, requests);

        f->bus->fail_errno[0] = 0;
        assert_int_equal(hw_read_inputs(f->hw, lost_at + MS(300), &f->in), 0);
        assert_int_equal(board(f, 0)->health, BOARD_OK);
        assert_int_equal(board(f, 0)->missed, 0);
        assert_true(f->in.valid[SIGNAL_ROLLER_POSITION]);
}

static void test_lost_at_comm_loss(void **state) {
        Fixture *f = *state;

        f->boards[0].max_missed_polls = 100; /* only the time decides here; CommLossMs = 100 */
        assert_int_equal(hw_read_inputs(f->hw, T0, &f->in), 0);

        f->bus->fail_errno[0] = ETIMEDOUT;
        (void) hw_read_inputs(f->hw, T0 + MS(50), &f->in);
        assert_int_equal(board(f, 0)->health, BOARD_DEGRADED);
        (void) hw_read_inputs(f->hw, T0 + MS(100), &f->in);
        assert_int_equal(board(f, 0)->health, BOARD_DEGRADED); /* exactly CommLossMs: not yet */
        (void) hw_read_inputs(f->hw, T0 + MS(100) + 1, &f->in);
        assert_int_equal(board(f, 0)->health, BOARD_LOST);
        assert_int_equal(board(f, 0)->missed, 3);
        assert_int_equal(board(f, 0)->last_good, T0);
}

static void test_comm_loss_between_polls(void **state) {
        Fixture *f = *state;

        /* base: polled every 100 ms, CommLossMs 500, MaxMissedPolls raised out of the way */
        f->boards[2].max_missed_polls = 100;
        assert_int_equal(hw_read_inputs(f->hw, T0, &f->in), 0);
        f->bus->fail_errno[2] = ETIMEDOUT;
        for (usec_t t = T0 + MS(10); t <= T0 + MS(500); t += MS(10))
                (void) hw_read_inputs(f->hw, t, &f->in);
        assert_int_equal(board(f, 2)->health, BOARD_DEGRADED);
        assert_int_equal(board(f, 2)->missed, 5);
        /* not due at 510 ms, yet past CommLossMs since the last good poll */
        (void) hw_read_inputs(f->hw, T0 + MS(510), &f->in);
        assert_int_equal(board(f, 2)->missed, 5);
        assert_int_equal(board(f, 2)->health, BOARD_LOST);
}

static void test_poll_interval(void **state) {
        Fixture *f = *state;

        /* roller every cycle, airbag every 50 ms, base every 100 ms, over 200 ms of 10 ms cycles */
        for (usec_t t = T0; t <= T0 + MS(200); t += MS(10)) {
                assert_int_equal(hw_read_inputs(f->hw, t, &f->in), 0);
                /* between polls the last reading stays valid */
                assert_true(f->in.valid[SIGNAL_HEAT_TEMPERATURE]);
        }
        assert_int_equal(f->bus->reads[0], 21);
        assert_int_equal(f->bus->reads[1], 5);
        assert_int_equal(f->bus->reads[2], 3);

        /* a late cycle does not push the schedule back: due at 250, polled at 253, next due 300 */
        (void) hw_read_inputs(f->hw, T0 + MS(253), &f->in);
        assert_int_equal(f->bus->reads[1], 6);
        (void) hw_read_inputs(f->hw, T0 + MS(299), &f->in);
        assert_int_equal(f->bus->reads[1], 6);
        (void) hw_read_inputs(f->hw, T0 + MS(300), &f->in);
        assert_int_equal(f->bus->reads[1], 7);
}

static const MockOp *last_write(Fixture *f, unsigned b, RegisterKind kind) {
        for (size_t i = f->bus->n_log; i > 0; i--)
                if (f->bus->log[i - 1].block.board == b && f->bus->log[i - 1].block.kind == kind)
                        return &f->bus->log[i - 1];
        fail_msg("no write to board %u", b);
        return NULL;
}

/* SR-7: the board heartbeat register. */
static void test_heartbeat(void **state) {
        Fixture *f = *state;
        const MockOp *op;
        ChairOutputs out;
        size_t n;

        chair_outputs_safe(&out);
        out.value[SIGNAL_ROLLER_TARGET] = 250.0;
        assert_int_equal(hw_read_inputs(f->hw, T0, &f->in), 0);

        /* first write: everything, the heartbeat with its holding block (not the comm timeout at 7) */
        assert_int_equal(hw_write_outputs(f->hw, T0 + MS(1), &out), 0);
        op = last_write(f, 0, REGISTER_HOLDING);
        assert_int_equal(op->block.address, 0);
        assert_int_equal(op->block.count, 7);
        assert_int_equal(op->values[0], 2500);
        assert_int_equal(op->values[6], 1);
        assert_int_equal(board(f, 0)->heartbeat, 1);
        assert_int_equal(last_write(f, 1, REGISTER_HOLDING)->values[4], 1);
        assert_int_equal(f->bus->regs[0][REGISTER_HOLDING][7], 250);

        /* nothing changed and no heartbeat due: nothing on the bus */
        n = f->bus->n_log;
        assert_int_equal(hw_write_outputs(f->hw, T0 + MS(11), &out), 0);
        assert_int_equal(f->bus->n_log, n);

        /* the roller's heartbeat is due after a quarter of its 250 ms comm timeout, 1 µs early is not */
        assert_int_equal(hw_write_outputs(f->hw, T0 + MS(1) + MS(250) / 4 - 1, &out), 0);
        assert_int_equal(f->bus->n_log, n);
        assert_int_equal(hw_write_outputs(f->hw, T0 + MS(1) + MS(250) / 4, &out), 0);
        assert_int_equal(f->bus->n_log, n + 1);
        assert_int_equal(last_write(f, 0, REGISTER_HOLDING)->values[6], 2);
        assert_int_equal(board(f, 0)->heartbeat, 2);

        /* a changed output goes out in the next write, with the next heartbeat */
        out.value[SIGNAL_ROLLER_TARGET] = 300.0;
        assert_int_equal(hw_write_outputs(f->hw, T0 + MS(70), &out), 0);
        assert_int_equal(f->bus->n_log, n + 2);
        op = last_write(f, 0, REGISTER_HOLDING);
        assert_int_equal(op->values[0], 3000);
        assert_int_equal(op->values[6], 3);

        /* a block without a heartbeat (base coils) is refreshed once a second even when unchanged */
        n = f->bus->n_log;
        assert_int_equal(hw_write_outputs(f->hw, T0 + MS(1) + USEC_PER_SEC - 1, &out), 0);
        for (size_t i = n; i < f->bus->n_log; i++)
                assert_false(f->bus->log[i].block.board == 2 && f->bus->log[i].block.kind == REGISTER_COIL);
        n = f->bus->n_log;
        assert_int_equal(hw_write_outputs(f->hw, T0 + MS(1) + USEC_PER_SEC, &out), 0);
        bool coils = false;
        for (size_t i = n; i < f->bus->n_log; i++)
                coils = coils || (f->bus->log[i].block.board == 2 && f->bus->log[i].block.kind == REGISTER_COIL);
        assert_true(coils);
}

/* SR-8: a good poll after more than CommLossMs of silence (a stalled daemon) reports the board lost once. */
static void test_stall_is_comm_loss(void **state) {
        Fixture *f = *state;

        assert_int_equal(hw_read_inputs(f->hw, T0, &f->in), 0);
        assert_int_equal(board(f, 0)->health, BOARD_OK);
        /* the roller's CommLossMs is 100: exactly 100 ms of silence is still fine */
        assert_int_equal(hw_read_inputs(f->hw, T0 + MS(100), &f->in), 0);
        assert_int_equal(board(f, 0)->health, BOARD_OK);
        /* 100 ms + 1 µs: it answers, yet it counts as lost for this poll */
        assert_int_equal(hw_read_inputs(f->hw, T0 + MS(200) + 1, &f->in), 0);
        assert_int_equal(board(f, 0)->health, BOARD_LOST);
        assert_true(f->in.valid[SIGNAL_ROLLER_POSITION]);
        /* and ok again at the next poll */
        assert_int_equal(hw_read_inputs(f->hw, T0 + MS(210), &f->in), 0);
        assert_int_equal(board(f, 0)->health, BOARD_OK);

        /* a board-side comm timeout shorter than CommLossMs decides: past it the board has stopped */
        f->boards[0].comm_loss_ms = 1000;
        assert_int_equal(hw_read_inputs(f->hw, T0 + MS(210) + MS(250), &f->in), 0);
        assert_int_equal(board(f, 0)->health, BOARD_OK);
        assert_int_equal(hw_read_inputs(f->hw, T0 + MS(460) + MS(250) + 1, &f->in), 0);
        assert_int_equal(board(f, 0)->health, BOARD_LOST);
}

static void test_one_timeout_per_board_per_cycle(void **state) {
        Fixture *f = *state;
        ChairOutputs out;
        uint64_t requests;
        size_t writes;

        chair_outputs_safe(&out);
        assert_int_equal(hw_read_inputs(f->hw, T0, &f->in), 0);
        assert_int_equal(hw_write_outputs(f->hw, T0, &out), 0);

        /* the roller times out on its poll: the writes of that cycle skip it, the others get theirs */
        f->bus->fail_errno[0] = ETIMEDOUT;
        assert_int_equal(hw_read_inputs(f->hw, T0 + MS(10), &f->in), -ETIMEDOUT);
        requests = board(f, 0)->requests;
        writes = f->bus->n_log;
        out.value[SIGNAL_AIRBAG_SHOULDERS_COMMAND] = AIRBAG_HOLD; /* a change: the airbag board is written */
        assert_int_equal(hw_write_outputs(f->hw, T0 + MS(10), &out), 0);
        assert_int_equal(board(f, 0)->requests, requests);
        assert_int_equal(f->bus->n_log, writes + 1); /* only the airbag's changed holding block */

        /* next cycle it is degraded, not lost; once it answers again it is re-initialised and every block
         * of it is written at once, changed or not */
        assert_int_equal(board(f, 0)->health, BOARD_DEGRADED);
        f->bus->fail_errno[0] = 0;
        assert_int_equal(hw_read_inputs(f->hw, T0 + MS(20), &f->in), 0);
        assert_int_equal(hw_write_outputs(f->hw, T0 + MS(20), &out), 0);
        assert_int_equal(board(f, 0)->heartbeat, 2);
        assert_int_equal(last_write(f, 0, REGISTER_HOLDING)->values[6], 2);
}

static void test_encode_clamps(void **state) {
        Fixture *f = *state;
        ChairOutputs out;

        chair_outputs_safe(&out);
        out.value[SIGNAL_ROLLER_TARGET] = 1000.0;         /* Max 700 */
        out.value[SIGNAL_ROLLER_FORCE_SETPOINT] = -5.0;    /* Min 0: must not wrap to 65486 */
        out.value[SIGNAL_ROLLER_SPEED_LIMIT] = NAN;        /* safe value */
        out.value[SIGNAL_HEAT_SETPOINT] = 40.0;
        out.value[SIGNAL_HEAT_ENABLE] = 1;
        /* no Min/Max: clamped to what a u16 holds, never 70000 & 0xffff */
        f->signals[7].has_range = false;
        assert_int_equal(f->signals[7].id, SIGNAL_ROLLER_WIDTH);
        out.value[SIGNAL_ROLLER_WIDTH] = 70000.0;

        assert_int_equal(hw_read_inputs(f->hw, T0, &f->in), 0);
        assert_int_equal(hw_write_outputs(f->hw, T0, &out), 0);
        assert_int_equal(f->bus->regs[0][REGISTER_HOLDING][0], 7000);
        assert_int_equal(f->bus->regs[0][REGISTER_HOLDING][1], 0);
        assert_int_equal(f->bus->regs[0][REGISTER_HOLDING][2], 0);
        assert_int_equal(f->bus->regs[0][REGISTER_HOLDING][4], 65535);
        assert_int_equal(f->bus->regs[2][REGISTER_HOLDING][0], 400);
        assert_int_equal(f->bus->regs[2][REGISTER_COIL][0], 1);
        assert_int_equal(f->bus->regs[2][REGISTER_COIL][1], 0);
}

static void test_all_stop_continues(void **state) {
        Fixture *f = *state;
        ChairOutputs out;

        chair_outputs_safe(&out);
        out.value[SIGNAL_ROLLER_ENABLE] = 1;
        out.value[SIGNAL_AIRBAG_ARMS_COMMAND] = AIRBAG_INFLATE;
        out.value[SIGNAL_HEAT_ENABLE] = 1;
        assert_int_equal(hw_read_inputs(f->hw, T0, &f->in), 0);
        assert_int_equal(hw_write_outputs(f->hw, T0, &out), 0);
        assert_int_equal(f->bus->regs[0][REGISTER_HOLDING][5], 1);
        assert_int_equal(f->bus->regs[2][REGISTER_COIL][0], 1);

        /* the first board fails: the others still get their safe values */
        f->bus->fail_errno[0] = ETIMEDOUT;
        assert_int_equal(hw_all_stop(f->hw, T0 + MS(1)), -ETIMEDOUT);
        assert_int_equal(f->bus->regs[0][REGISTER_HOLDING][5], 1); /* could not reach it */
        assert_int_equal(f->bus->regs[1][REGISTER_HOLDING][1], AIRBAG_VENT);
        assert_int_equal(f->bus->regs[2][REGISTER_COIL][0], 0);
        assert_int_equal(board(f, 0)->missed, 1);

        f->bus->fail_errno[0] = 0;
        assert_int_equal(hw_all_stop(f->hw, T0 + MS(2)), 0);
        assert_int_equal(f->bus->regs[0][REGISTER_HOLDING][5], 0);
}

static void test_link_loss_and_backoff(void **state) {
        Fixture *f = *state;
        usec_t t;

        assert_int_equal(hw_read_inputs(f->hw, T0, &f->in), 0);
        assert_int_equal(f->bus->opens, 1);

        /* connection reset: link closed, boards offline, reconnect after ReconnectMinMs */
        f->bus->fail_errno[0] = ECONNRESET;
        f->bus->open_result = -ECONNREFUSED;
        assert_int_equal(hw_read_inputs(f->hw, T0 + MS(10), &f->in), -EIO);
        assert_int_equal(f->bus->closes, 1);
        for (unsigned b = 0; b < N_BOARDS; b++)
                assert_int_equal(board(f, b)->health, BOARD_OFFLINE);
        assert_false(f->in.valid[SIGNAL_HEAT_TEMPERATURE]);

        /* opens at +100, then +200, +400 ms after each failure: exponential backoff */
        for (t = T0 + MS(20); t <= T0 + MS(720); t += MS(10))
                (void) hw_read_inputs(f->hw, t, &f->in);
        assert_int_equal(f->bus->opens, 1 + 3); /* at 110, 310, 710 */
        assert_int_equal(f->hw->bus_backoff_ms, 800);

        /* offline boards go lost by the same rules */
        assert_int_equal(board(f, 0)->health, BOARD_LOST);
        assert_int_equal(board(f, 2)->health, BOARD_LOST);

        /* back: every board gets its comm timeout again before anything else */
        f->bus->open_result = 0;
        f->bus->fail_errno[0] = 0;
        memset(f->bus->regs[0][REGISTER_HOLDING], 0, sizeof(f->bus->regs[0][REGISTER_HOLDING]));
        for (; f->bus->opens == 4; t += MS(10))
                (void) hw_read_inputs(f->hw, t, &f->in);
        assert_int_equal(f->bus->opens, 5);
        assert_int_equal(f->bus->regs[0][REGISTER_HOLDING][7], 250);
        assert_int_equal(board(f, 0)->health, BOARD_OK);
        assert_true(f->in.valid[SIGNAL_ROLLER_POSITION]);
        /* a link that answers again: the next loss starts over at ReconnectMinMs */
        assert_int_equal(f->hw->bus_backoff_ms, 0);
}

static void test_estop_press_at_once_release_debounced(void **state) {
        Fixture *f = *state;

        assert_int_equal(hw_read_inputs(f->hw, T0, &f->in), 0);
        assert_true(f->in.line_valid[LINE_ESTOP]);
        assert_false(f->in.line[LINE_ESTOP]);

        hw_line_edge(f->hw, LINE_ESTOP, true, T0 + MS(1));
        assert_int_equal(f->n_reports, 1);
        assert_true(f->report_active[0]);
        assert_int_equal(f->report_time[0], T0 + MS(1));

        /* bouncing release: 20 ms of stability after the last release */
        hw_line_edge(f->hw, LINE_ESTOP, false, T0 + MS(2));
        hw_line_edge(f->hw, LINE_ESTOP, true, T0 + MS(5));
        hw_line_edge(f->hw, LINE_ESTOP, false, T0 + MS(6));
        assert_int_equal(f->n_reports, 1);
        (void) hw_read_inputs(f->hw, T0 + MS(25), &f->in);
        assert_true(f->in.line[LINE_ESTOP]);
        assert_int_equal(f->n_reports, 1);
        (void) hw_read_inputs(f->hw, T0 + MS(26), &f->in);
        assert_false(f->in.line[LINE_ESTOP]);
        assert_int_equal(f->n_reports, 2);
        assert_false(f->report_active[1]);

        /* a level seen by polling counts like an edge: press at once */
        f->lines->level[LINE_ESTOP] = true;
        (void) hw_read_inputs(f->hw, T0 + MS(30), &f->in);
        assert_true(f->in.line[LINE_ESTOP]);
        assert_int_equal(f->n_reports, 3);
}

static void test_lines_lost_estop_active(void **state) {
        Fixture *f = *state;

        f->lines->level[LINE_SEAT] = true;
        assert_int_equal(hw_read_inputs(f->hw, T0, &f->in), 0);
        assert_true(f->in.line[LINE_SEAT]);

        f->lines->get_result = -ENOTCONN;
        f->lines->open_result = -ECONNREFUSED;
        (void) hw_read_inputs(f->hw, T0 + MS(10), &f->in);
        assert_false(f->in.line_valid[LINE_ESTOP]);
        assert_true(f->in.line[LINE_ESTOP]);
        assert_false(f->in.line[LINE_SEAT]);
        /* seat pressed at T0, then on the loss: estop active, seat inactive */
        assert_int_equal(f->n_reports, 3);
        assert_int_equal(f->report_line[1], LINE_ESTOP);
        assert_true(f->report_active[1]);
        assert_int_equal(f->report_line[2], LINE_SEAT);
        assert_false(f->report_active[2]);
        assert_int_equal(f->hw->line_state[LINE_ESTOP], true);

        /* retried with backoff, and when it is back the release is debounced as usual */
        f->lines->get_result = 0;
        f->lines->open_result = 0;
        (void) hw_read_inputs(f->hw, T0 + MS(50), &f->in);
        assert_int_equal(f->lines->opens, 1);
        (void) hw_read_inputs(f->hw, T0 + MS(110), &f->in);
        assert_int_equal(f->lines->opens, 2);
        assert_true(f->in.line_valid[LINE_ESTOP]);
        assert_true(f->in.line[LINE_ESTOP]);
        (void) hw_read_inputs(f->hw, T0 + MS(130), &f->in);
        assert_false(f->in.line[LINE_ESTOP]);
}

static void test_output_lines(void **state) {
        Fixture *f = *state;
        ChairOutputs out;

        /* requested safe at start; written on change only */
        assert_int_equal(f->lines->opens, 1);
        chair_outputs_safe(&out);
        assert_int_equal(hw_write_outputs(f->hw, T0, &out), -ENOTCONN); /* bus not yet connected */
        assert_int_equal(f->lines->sets, 0);
        assert_int_equal(hw_read_inputs(f->hw, T0, &f->in), 0);
        out.line[LINE_POWER_RELAY] = true;
        assert_int_equal(hw_write_outputs(f->hw, T0, &out), 0);
        assert_int_equal(hw_write_outputs(f->hw, T0 + MS(10), &out), 0);
        assert_int_equal(f->lines->sets, 1);
        assert_true(f->lines->level[LINE_POWER_RELAY]);

        assert_int_equal(hw_set_line(f->hw, LINE_POWER_RELAY, false), 0);
        assert_false(f->lines->level[LINE_POWER_RELAY]);
        assert_int_equal(hw_set_line(f->hw, LINE_ESTOP, true), -EINVAL);
}

/* The release timer on a real loop: no hw_read_inputs() call is needed for the release to land. */
static void test_debounce_timer(void **state) {
        Fixture *f = calloc(1, sizeof(Fixture));
        sd_event *event = NULL;
        usec_t start, deadline;

        assert_non_null(f);
        assert_int_equal(sd_event_new(&event), 0);
        fixture_config(f);
        fixture_start(f, event);

        start = mono_usec();
        hw_line_edge(f->hw, LINE_INTERLOCK, true, start);
        hw_line_edge(f->hw, LINE_INTERLOCK, false, start);
        assert_int_equal(f->n_reports, 1);

        deadline = start + 2 * USEC_PER_SEC;
        while (f->n_reports < 2 && mono_usec() < deadline)
                assert_true(sd_event_run(event, 100 * USEC_PER_MSEC) >= 0);

        assert_int_equal(f->n_reports, 2);
        assert_int_equal(f->report_line[1], LINE_INTERLOCK);
        assert_false(f->report_active[1]);
        assert_true(f->report_time[1] >= start + MS(20));
        assert_true(mono_usec() >= start + MS(20));
        assert_false(f->hw->line_state[LINE_INTERLOCK]);

        hw_free(f->hw);
        sd_event_unref(event);
        free(f);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_read_decodes_and_inits_first, setup, teardown),
                cmocka_unit_test_setup_teardown(test_error_mapping, setup, teardown),
                cmocka_unit_test(test_modbus_error_to_errno),
                cmocka_unit_test_setup_teardown(test_lost_at_max_missed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lost_at_comm_loss, setup, teardown),
                cmocka_unit_test_setup_teardown(test_comm_loss_between_polls, setup, teardown),
                cmocka_unit_test_setup_teardown(test_poll_interval, setup, teardown),
                cmocka_unit_test_setup_teardown(test_heartbeat, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stall_is_comm_loss, setup, teardown),
                cmocka_unit_test_setup_teardown(test_one_timeout_per_board_per_cycle, setup, teardown),
                cmocka_unit_test_setup_teardown(test_encode_clamps, setup, teardown),
                cmocka_unit_test_setup_teardown(test_all_stop_continues, setup, teardown),
                cmocka_unit_test_setup_teardown(test_link_loss_and_backoff, setup, teardown),
                cmocka_unit_test_setup_teardown(test_estop_press_at_once_release_debounced, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lines_lost_estop_active, setup, teardown),
                cmocka_unit_test_setup_teardown(test_output_lines, setup, teardown),
                cmocka_unit_test(test_debounce_timer),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
