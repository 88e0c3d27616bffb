/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* chair-sim's physical model: roller travel and contact force on a simulated occupant, airbag pressure,
 * heater temperature, recline angle, the boards' own comm timeout and the external watchdog. Advanced
 * to "now" on every Modbus request and on a timer; reads its setpoints straight from the registers. */
#include <math.h>
#include <string.h>

#include "sim.h"

#define ROLLER_MAX_SPEED 250.0 /* mm/s, whatever the speed limit register says */
#define FORCE_LAG_USEC 30000.0 /* first-order lag of the contact force */
#define AIRBAG_MAX_KPA 35.0
#define AIRBAG_INFLATE_KPA_S 10.0
#define AIRBAG_VENT_KPA_S 20.0
#define HEAT_RATE_C_S 0.5
#define COOL_RATE_C_S 0.2
#define AMBIENT_C 24.0
#define RECLINE_RATE_DEG_S 5.0
#define RECLINE_MAX_DEG 60.0
#define WDT_TIMEOUT_USEC (500 * USEC_PER_MSEC)

static const char *const board_table[_SIM_BOARD_MAX] = {
        [SIM_BOARD_ROLLER] = "roller",
        [SIM_BOARD_AIRBAG] = "airbag",
        [SIM_BOARD_BASE] = "base",
};

static const char *const bus_fault_table[_BUS_FAULT_MAX] = {
        [BUS_FAULT_NONE] = "none",
        [BUS_FAULT_TIMEOUT] = "timeout",
        [BUS_FAULT_EXCEPTION] = "exception",
        [BUS_FAULT_DISCONNECT] = "disconnect",
        [BUS_FAULT_SLOW] = "slow",
        [BUS_FAULT_GARBAGE] = "garbage",
        [BUS_FAULT_CRC] = "crc",
};

static const char *const sensor_fault_table[_SENSOR_FAULT_MAX] = {
        [SENSOR_NORMAL] = "normal",
        [SENSOR_STUCK] = "stuck",
        [SENSOR_SPIKE] = "spike",
        [SENSOR_OFFSET] = "offset",
        [SENSOR_RAMP] = "ramp",
};

/* Where each sensor lives and how it is scaled: value = raw * scale. */
static const struct {
        const char *name;
        SimBoardId board;
        unsigned reg;
        double scale;
        bool is_signed;
} sensor_table[_SIM_SENSOR_MAX] = {
        [SIM_SENSOR_ROLLER_POSITION] = {"roller.position", SIM_BOARD_ROLLER, ROLLER_IN_POSITION, 0.1, false},
        [SIM_SENSOR_ROLLER_SPEED] = {"roller.speed", SIM_BOARD_ROLLER, ROLLER_IN_SPEED, 0.1, true},
        [SIM_SENSOR_ROLLER_FORCE] = {"roller.force", SIM_BOARD_ROLLER, ROLLER_IN_FORCE, 0.1, false},
        [SIM_SENSOR_SHOULDERS_PRESSURE] = {"airbag.shoulders.pressure", SIM_BOARD_AIRBAG, 0, 0.1, false},
        [SIM_SENSOR_ARMS_PRESSURE] = {"airbag.arms.pressure", SIM_BOARD_AIRBAG, 1, 0.1, false},
        [SIM_SENSOR_HIPS_PRESSURE] = {"airbag.hips.pressure", SIM_BOARD_AIRBAG, 2, 0.1, false},
        [SIM_SENSOR_LEGS_PRESSURE] = {"airbag.legs.pressure", SIM_BOARD_AIRBAG, 3, 0.1, false},
        [SIM_SENSOR_HEAT_TEMPERATURE] = {"heat.temperature", SIM_BOARD_BASE, BASE_IN_TEMPERATURE, 0.1, true},
        [SIM_SENSOR_RECLINE_ANGLE] = {"recline.angle", SIM_BOARD_BASE, BASE_IN_ANGLE, 0.1, false},
};

static int table_lookup(const char *const *table, size_t n, const char *s) {
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (table[i] && streq(table[i], s))
                        return (int)i;
        return -EINVAL;
}

const char *sim_board_to_string(SimBoardId b) {
        return b >= 0 && b < _SIM_BOARD_MAX ? board_table[b] : NULL;
}

SimBoardId sim_board_from_string(const char *s) {
        return (SimBoardId)table_lookup(board_table, _SIM_BOARD_MAX, s);
}

const char *bus_fault_to_string(BusFault f) {
        return f >= 0 && f < _BUS_FAULT_MAX ? bus_fault_table[f] : NULL;
}

BusFault bus_fault_from_string(const char *s) {
        return (BusFault)table_lookup(bus_fault_table, _BUS_FAULT_MAX, s);
}

const char *sensor_fault_to_string(SensorFault f) {
        return f >= 0 && f < _SENSOR_FAULT_MAX ? sensor_fault_table[f] : NULL;
}

SensorFault sensor_fault_from_string(const char *s) {
        return (SensorFault)table_lookup(sensor_fault_table, _SENSOR_FAULT_MAX, s);
}

const char *sim_sensor_to_string(SimSensorId s) {
        return s >= 0 && s < _SIM_SENSOR_MAX ? sensor_table[s].name : NULL;
}

SimSensorId sim_sensor_from_string(const char *s) {
        if (!s)
                return _SIM_SENSOR_INVALID;
        for (int i = 0; i < _SIM_SENSOR_MAX; i++)
                if (streq(sensor_table[i].name, s))
                        return (SimSensorId)i;
        return _SIM_SENSOR_INVALID;
}

int model_init(Model *m, usec_t now) {
        /* coils, discrete inputs, holding registers, input registers */
        static const int sizes[_SIM_BOARD_MAX][4] = {
                [SIM_BOARD_ROLLER] = {0, 0, _ROLLER_HR_MAX, _ROLLER_IN_MAX},
                [SIM_BOARD_AIRBAG] = {0, 0, _AIRBAG_HR_MAX, _AIRBAG_IN_MAX},
                [SIM_BOARD_BASE] = {_BASE_COIL_MAX, 0, _BASE_HR_MAX, _BASE_IN_MAX},
        };
        static const unsigned hb[_SIM_BOARD_MAX][2] = {
                [SIM_BOARD_ROLLER] = {ROLLER_HR_HEARTBEAT, ROLLER_HR_COMM_TIMEOUT},
                [SIM_BOARD_AIRBAG] = {AIRBAG_HR_HEARTBEAT, AIRBAG_HR_COMM_TIMEOUT},
                [SIM_BOARD_BASE] = {BASE_HR_HEARTBEAT, BASE_HR_COMM_TIMEOUT},
        };

        *m = (Model){
                .now = now,
                .shoulder_mm = SIM_DEFAULT_SHOULDER_MM,
                .stiffness = SIM_DEFAULT_STIFFNESS,
                .temperature = AMBIENT_C,
                .motors_zero = true,
        };
        for (int b = 0; b < _SIM_BOARD_MAX; b++) {
                m->boards[b].map = modbus_mapping_new(sizes[b][0], sizes[b][1], sizes[b][2], sizes[b][3]);
                if (!m->boards[b].map) {
                        model_done(m);
                        return -ENOMEM;
                }
                m->boards[b].heartbeat_reg = hb[b][0];
                m->boards[b].comm_timeout_reg = hb[b][1];
                m->boards[b].last_heartbeat = now;
        }
        model_update_inputs(m);
        return 0;
}

void model_done(Model *m) {
        for (int b = 0; b < _SIM_BOARD_MAX; b++) {
                if (m->boards[b].map)
                        modbus_mapping_free(m->boards[b].map);
                m->boards[b].map = NULL;
        }
}

static uint16_t holding(const Model *m, SimBoardId b, unsigned reg) {
        return m->boards[b].map->tab_registers[reg];
}

static bool coil(const Model *m, SimBoardId b, unsigned bit) {
        return m->boards[b].map->tab_bits[bit] != 0;
}

bool model_wdt_tripped(const Model *m) {
        return m->wdt_started && m->now > m->wdt_last_toggle + WDT_TIMEOUT_USEC;
}

bool model_actuator_power(const Model *m) {
        /* The external watchdog circuit opens the relay's supply on its own: that is its whole point. */
        return m->power_en && !model_wdt_tripped(m);
}

bool model_roller_can_move(const Model *m) {
        return model_actuator_power(m) && holding(m, SIM_BOARD_ROLLER, ROLLER_HR_ENABLE) != 0 &&
               !m->boards[SIM_BOARD_ROLLER].tripped;
}

bool model_estop_level(const Model *m) {
        /* Normally-closed loop: pressed or a cut wire both open it and the pull-up raises the line. */
        return m->estop_pressed || m->estop_broken;
}

/* Force factor along the back, d = position - shoulder line (mm, + toward the seat): the neck curves
 * away (0.6), the shoulder blades stand out in a clear peak (1.6 at the line, gone ~25 mm either side),
 * the back below presses evenly (1.0). The smooth shape keeps one unique maximum for the body scan. */
static double body_contour(double d) {
        double base = 0.6 + 0.4 / (1.0 + exp(-d / 6.0));
        double peak = 0.8 * exp(-(d * d) / (2.0 * 12.5 * 12.5));
        return base + peak;
}

static double approach(double value, double target, double max_step) {
        if (value < target)
                return MIN(value + max_step, target);
        return MAX(value - max_step, target);
}

static void model_check_comm_timeouts(Model *m) {
        for (int b = 0; b < _SIM_BOARD_MAX; b++) {
                SimBoard *board = &m->boards[b];
                usec_t timeout = holding(m, b, board->comm_timeout_reg) * USEC_PER_MSEC;

                if (timeout > 0 && !board->tripped && m->now > board->last_heartbeat + timeout)
                        board->tripped = true;
        }
}

static void model_step_roller(Model *m, double dt) {
        double target = holding(m, SIM_BOARD_ROLLER, ROLLER_HR_TARGET) * 0.1;
        double limit = MIN(holding(m, SIM_BOARD_ROLLER, ROLLER_HR_SPEED_LIMIT) * 0.1, ROLLER_MAX_SPEED);
        double old = m->roller_pos;

        if (!model_roller_can_move(m)) {
                m->roller_speed = 0;
                m->roller_force = 0;
                return;
        }

        target = CLAMP(target, 0.0, SIM_TRACK_MM);
        m->roller_pos = approach(m->roller_pos, target, limit * dt);
        /* Report the commanded speed while travelling, 0 once at the target (not an average over the
         * step that would show a partial speed on arrival). */
        m->roller_speed = m->roller_pos == target || limit <= 0 ? 0 : (target > old ? limit : -limit);

        if (!m->seated) {
                m->roller_force = 0;
                return;
        }
        double setpoint = holding(m, SIM_BOARD_ROLLER, ROLLER_HR_FORCE) * 0.1;
        double wanted = setpoint * body_contour(m->roller_pos - m->shoulder_mm) * (m->stiffness / 1.5);
        m->roller_force += (wanted - m->roller_force) * (1.0 - exp(-dt * 1e6 / FORCE_LAG_USEC));
}

static void model_step_airbags(Model *m, double dt) {
        bool live = model_actuator_power(m) && !m->boards[SIM_BOARD_AIRBAG].tripped;

        for (unsigned i = 0; i < 4; i++) {
                uint16_t cmd = live ? holding(m, SIM_BOARD_AIRBAG, i) : AIRBAG_VENT;

                if (cmd == AIRBAG_INFLATE)
                        m->pressure[i] = approach(m->pressure[i], AIRBAG_MAX_KPA, AIRBAG_INFLATE_KPA_S * dt);
                else if (cmd != AIRBAG_HOLD)
                        m->pressure[i] = approach(m->pressure[i], 0.0, AIRBAG_VENT_KPA_S * dt);
        }
}

static void model_step_base(Model *m, double dt) {
        bool live = model_actuator_power(m) && !m->boards[SIM_BOARD_BASE].tripped;
        double setpoint = (int16_t)holding(m, SIM_BOARD_BASE, BASE_HR_SETPOINT) * 0.1;
        double recline = holding(m, SIM_BOARD_BASE, BASE_HR_RECLINE_TARGET) * 0.1;

        if (live && coil(m, SIM_BOARD_BASE, BASE_COIL_HEAT) && setpoint > m->temperature)
                m->temperature = approach(m->temperature, setpoint, HEAT_RATE_C_S * dt);
        else if (m->temperature > AMBIENT_C || !live || !coil(m, SIM_BOARD_BASE, BASE_COIL_HEAT))
                m->temperature = approach(m->temperature, AMBIENT_C, COOL_RATE_C_S * dt);

        if (live && coil(m, SIM_BOARD_BASE, BASE_COIL_RECLINE))
                m->angle = approach(m->angle, CLAMP(recline, 0.0, RECLINE_MAX_DEG), RECLINE_RATE_DEG_S * dt);
}

void model_advance(Model *m, usec_t now) {
        if (now <= m->now)
                return;
        double dt = (double)(now - m->now) / 1e6;

        m->now = now;
        model_check_comm_timeouts(m);
        model_step_roller(m, dt);
        model_step_airbags(m, dt);
        model_step_base(m, dt);
}

double model_sensor_true_value(const Model *m, SimSensorId s) {
        switch (s) {
        case SIM_SENSOR_ROLLER_POSITION:
                return m->roller_pos;
        case SIM_SENSOR_ROLLER_SPEED:
                return m->roller_speed;
        case SIM_SENSOR_ROLLER_FORCE:
                return m->roller_force;
        case SIM_SENSOR_SHOULDERS_PRESSURE:
        case SIM_SENSOR_ARMS_PRESSURE:
        case SIM_SENSOR_HIPS_PRESSURE:
        case SIM_SENSOR_LEGS_PRESSURE:
                return m->pressure[s - SIM_SENSOR_SHOULDERS_PRESSURE];
        case SIM_SENSOR_HEAT_TEMPERATURE:
                return m->temperature;
        case SIM_SENSOR_RECLINE_ANGLE:
                return m->angle;
        default:
                return 0;
        }
}

/* A slow change (a body tensing), not a step: stays under a rate-of-change check. */
static double sensor_ramp_offset(const Model *m, const SimSensor *sensor) {
        double moved = sensor->rate * (double) (m->now - sensor->since) / USEC_PER_SEC;

        if (sensor->arg >= sensor->base)
                return MIN(sensor->base + moved, sensor->arg);
        return MAX(sensor->base - moved, sensor->arg);
}

static double sensor_offset(const Model *m, const SimSensor *sensor) {
        switch (sensor->fault) {
        case SENSOR_SPIKE:
        case SENSOR_OFFSET:
                return sensor->arg;
        case SENSOR_RAMP:
                return sensor_ramp_offset(m, sensor);
        default:
                return 0;
        }
}

double model_sensor_reported(const Model *m, SimSensorId s) {
        const SimSensor *sensor = &m->sensors[s];
        double v = model_sensor_true_value(m, s);

        switch (sensor->fault) {
        case SENSOR_STUCK:
                return sensor->frozen;
        case SENSOR_SPIKE:
        case SENSOR_OFFSET:
                return v + sensor->arg;
        case SENSOR_RAMP:
                return v + sensor_ramp_offset(m, sensor);
        default:
                return v;
        }
}

int model_set_sensor_fault(Model *m, SimSensorId s, SensorFault f, double arg, double rate) {
        if (s < 0 || s >= _SIM_SENSOR_MAX || f < 0 || f >= _SENSOR_FAULT_MAX)
                return -EINVAL;
        /* Freeze what the board reports right now, so "stuck" never jumps. */
        double frozen = model_sensor_reported(m, s);
        double base = sensor_offset(m, &m->sensors[s]);
        m->sensors[s] = (SimSensor){
                .fault = f, .arg = arg, .frozen = frozen, .rate = rate, .base = base, .since = m->now
        };
        return 0;
}

double model_sensor_register(const Model *m, SimSensorId s) {
        uint16_t raw = m->boards[sensor_table[s].board].map->tab_input_registers[sensor_table[s].reg];

        return (sensor_table[s].is_signed ? (double)(int16_t)raw : (double)raw) * sensor_table[s].scale;
}

static uint16_t encode(double value, double scale, bool is_signed) {
        double raw = round(value / scale);

        if (is_signed)
                return (uint16_t)(int16_t)CLAMP(raw, -32768.0, 32767.0);
        return (uint16_t)CLAMP(raw, 0.0, 65535.0);
}

void model_update_inputs(Model *m) {
        for (int s = 0; s < _SIM_SENSOR_MAX; s++) {
                modbus_mapping_t *map = m->boards[sensor_table[s].board].map;
                map->tab_input_registers[sensor_table[s].reg] = encode(
                        model_sensor_reported(m, s), sensor_table[s].scale, sensor_table[s].is_signed);
        }

        bool power = model_actuator_power(m);
        m->boards[SIM_BOARD_ROLLER].map->tab_input_registers[ROLLER_IN_STATUS] =
                (model_roller_can_move(m) ? BOARD_STATUS_POWERED : 0) |
                (m->boards[SIM_BOARD_ROLLER].tripped ? BOARD_STATUS_TRIPPED : 0);
        m->boards[SIM_BOARD_AIRBAG].map->tab_input_registers[AIRBAG_IN_STATUS] =
                (power ? BOARD_STATUS_POWERED : 0) |
                (m->boards[SIM_BOARD_AIRBAG].tripped ? BOARD_STATUS_TRIPPED : 0);
        m->boards[SIM_BOARD_BASE].map->tab_input_registers[BASE_IN_STATUS] =
                (power ? BOARD_STATUS_POWERED : 0) |
                (m->boards[SIM_BOARD_BASE].tripped ? BOARD_STATUS_TRIPPED : 0);
}

static bool model_all_motors_zero(const Model *m) {
        if (holding(m, SIM_BOARD_ROLLER, ROLLER_HR_ENABLE) != 0)
                return false;
        for (unsigned i = 0; i < 4; i++)
                if (holding(m, SIM_BOARD_AIRBAG, i) == AIRBAG_INFLATE)
                        return false;
        return !coil(m, SIM_BOARD_BASE, BASE_COIL_HEAT) && !coil(m, SIM_BOARD_BASE, BASE_COIL_RECLINE);
}

void model_after_write(Model *m, SimBoardId b, bool heartbeat_written, bool comm_timeout_written) {
        SimBoard *board = &m->boards[b];

        /* Arming the comm timeout starts its clock, so a board does not trip on its very first write. */
        if (heartbeat_written || comm_timeout_written)
                board->last_heartbeat = m->now;
        if (heartbeat_written)
                board->tripped = false;

        bool zero = model_all_motors_zero(m);
        if (zero && !m->motors_zero)
                m->motors_zero_ns = mono_nsec();
        m->motors_zero = zero;
}

bool model_register_value_ok(SimBoardId b, unsigned reg, uint16_t value) {
        /* The boards' own limits: a real controller refuses nonsense with "illegal data value". These sit
         * above the OEM config's limits on purpose: the daemon clamps, the board only guards. */
        static const unsigned count[_SIM_BOARD_MAX] = {_ROLLER_HR_MAX, _AIRBAG_HR_MAX, _BASE_HR_MAX};
        static const int32_t max[_SIM_BOARD_MAX][8] = {
                [SIM_BOARD_ROLLER] = {7000, 5000, 4000, _TECHNIQUE_MAX - 1, 250, 1, 65535, 60000},
                [SIM_BOARD_AIRBAG] = {2, 2, 2, 2, 65535, 60000},
                [SIM_BOARD_BASE] = {700, 600, 65535, 60000},
        };

        if (b == SIM_BOARD_BASE && reg == BASE_HR_SETPOINT)
                return (int16_t)value >= -100 && (int16_t)value <= 700;
        if (reg >= count[b])
                return true; /* outside the map: libmodbus answers "illegal data address" */
        return value <= max[b][reg];
}
