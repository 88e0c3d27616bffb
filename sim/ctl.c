/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* chair-sim's control socket: press buttons, seat an occupant, inject bus and sensor faults and read
 * the whole simulated state as key=value lines. One request a line; every reply ends with a line
 * "ok" or "error <text>" (docs/chair-sim.md). */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "sim.h"

#define CTL_MAX_ARGS 16
#define CTL_MAX_KEYS 128

static const char *const airbag_zones[4] = {"shoulders", "arms", "hips", "legs"};

/* ---- keys ------------------------------------------------------------------------------------------- */

static void emit_num(KeyCallback cb, void *ud, const char *key, double v) {
        char buf[64];

        /* Three decimals are finer than any register's resolution; drop the trailing zeros. */
        snprintf(buf, sizeof(buf), "%.3f", v);
        char *dot = strchr(buf, '.');
        if (dot) {
                char *end = buf + strlen(buf) - 1;
                while (end > dot && *end == '0')
                        *end-- = 0;
                if (end == dot)
                        *end = 0;
        }
        if (streq(buf, "-0"))
                strcpy(buf, "0");
        cb(key, buf, ud);
}

static void emit_u64(KeyCallback cb, void *ud, const char *key, uint64_t v) {
        char buf[32];

        snprintf(buf, sizeof(buf), "%" PRIu64, v);
        cb(key, buf, ud);
}

static void emit_str(KeyCallback cb, void *ud, const char *value, const char *prefix, const char *name,
                     const char *suffix) {
        char key[96];

        snprintf(key, sizeof(key), "%s%s%s", prefix, name, suffix);
        cb(key, value, ud);
}

static void emit_board_keys(Sim *s, SimBoardId b, KeyCallback cb, void *ud) {
        const SimBoard *board = &s->model.boards[b];
        const char *name = sim_board_to_string(b);
        char key[64], value[32];

        snprintf(key, sizeof(key), "board.%s.tripped", name);
        emit_u64(cb, ud, key, board->tripped);
        snprintf(key, sizeof(key), "board.%s.requests", name);
        emit_u64(cb, ud, key, board->requests);
        snprintf(key, sizeof(key), "board.%s.heartbeat", name);
        emit_u64(cb, ud, key, board->map->tab_registers[board->heartbeat_reg]);
        snprintf(key, sizeof(key), "board.%s.comm_timeout", name);
        emit_u64(cb, ud, key, board->map->tab_registers[board->comm_timeout_reg]);
        if (board->fault == BUS_FAULT_EXCEPTION || board->fault == BUS_FAULT_SLOW)
                snprintf(value, sizeof(value), "%s:%u", bus_fault_to_string(board->fault), board->fault_arg);
        else
                snprintf(value, sizeof(value), "%s", bus_fault_to_string(board->fault));
        emit_str(cb, ud, value, "board.", name, ".fault");
}

static void emit_sensor_keys(Sim *s, KeyCallback cb, void *ud) {
        for (int i = 0; i < _SIM_SENSOR_MAX; i++) {
                const SimSensor *sensor = &s->model.sensors[i];
                char key[96], value[48];

                snprintf(key, sizeof(key), "%s.reported", sim_sensor_to_string(i));
                emit_num(cb, ud, key, model_sensor_register(&s->model, i));
                if (sensor->fault == SENSOR_SPIKE || sensor->fault == SENSOR_OFFSET)
                        snprintf(value, sizeof(value), "%s:%g", sensor_fault_to_string(sensor->fault),
                                 sensor->arg);
                else
                        snprintf(value, sizeof(value), "%s", sensor_fault_to_string(sensor->fault));
                emit_str(cb, ud, value, "sensor.", sim_sensor_to_string(i), "");
        }
}

void ctl_foreach_key(Sim *s, KeyCallback cb, void *ud) {
        const Model *m = &s->model;
        const uint16_t *roller = m->boards[SIM_BOARD_ROLLER].map->tab_registers;
        const uint16_t *airbag = m->boards[SIM_BOARD_AIRBAG].map->tab_registers;
        const uint16_t *base = m->boards[SIM_BOARD_BASE].map->tab_registers;
        const uint8_t *coils = m->boards[SIM_BOARD_BASE].map->tab_bits;

        sim_advance(s);
        emit_u64(cb, ud, "relay", m->power_en);
        emit_u64(cb, ud, "power", model_actuator_power(m));
        emit_u64(cb, ud, "wdt.heartbeat", m->wdt_level);
        emit_u64(cb, ud, "wdt.tripped", model_wdt_tripped(m));
        emit_u64(cb, ud, "estop", model_estop_level(m));
        emit_u64(cb, ud, "estop.pressed", m->estop_pressed);
        emit_u64(cb, ud, "estop.broken", m->estop_broken);
        emit_u64(cb, ud, "interlock", m->interlock);
        emit_u64(cb, ud, "seat", m->seated);

        emit_num(cb, ud, "roller.position", m->roller_pos);
        emit_num(cb, ud, "roller.speed", m->roller_speed);
        emit_num(cb, ud, "roller.force", m->roller_force);
        emit_num(cb, ud, "roller.target", roller[ROLLER_HR_TARGET] * 0.1);
        emit_num(cb, ud, "roller.speed_limit", roller[ROLLER_HR_SPEED_LIMIT] * 0.1);
        emit_num(cb, ud, "roller.force_setpoint", roller[ROLLER_HR_FORCE] * 0.1);
        emit_u64(cb, ud, "roller.technique", roller[ROLLER_HR_TECHNIQUE]);
        emit_u64(cb, ud, "roller.width", roller[ROLLER_HR_WIDTH]);
        emit_u64(cb, ud, "roller.enable", roller[ROLLER_HR_ENABLE]);
        emit_u64(cb, ud, "roller.powered", model_roller_can_move(m));

        for (unsigned i = 0; i < 4; i++) {
                char key[64];

                snprintf(key, sizeof(key), "airbag.%s.pressure", airbag_zones[i]);
                emit_num(cb, ud, key, m->pressure[i]);
                snprintf(key, sizeof(key), "airbag.%s.command", airbag_zones[i]);
                emit_u64(cb, ud, key, airbag[i]);
        }

        emit_num(cb, ud, "heat.temperature", m->temperature);
        emit_num(cb, ud, "heat.setpoint", (int16_t)base[BASE_HR_SETPOINT] * 0.1);
        emit_u64(cb, ud, "heat.enable", coils[BASE_COIL_HEAT]);
        emit_num(cb, ud, "recline.angle", m->angle);
        emit_num(cb, ud, "recline.target", base[BASE_HR_RECLINE_TARGET] * 0.1);
        emit_u64(cb, ud, "recline.enable", coils[BASE_COIL_RECLINE]);

        for (int b = 0; b < _SIM_BOARD_MAX; b++)
                emit_board_keys(s, b, cb, ud);
        emit_sensor_keys(s, cb, ud);

        emit_u64(cb, ud, "occupant.seated", m->seated);
        emit_num(cb, ud, "occupant.shoulder", m->shoulder_mm);
        emit_num(cb, ud, "occupant.stiffness", m->stiffness);
        emit_u64(cb, ud, "t.now_ns", mono_nsec());
        emit_u64(cb, ud, "t.relay_off_ns", m->relay_off_ns);
        emit_u64(cb, ud, "t.estop_press_ns", m->estop_press_ns);
        emit_u64(cb, ud, "t.motors_zero_ns", m->motors_zero_ns);
}

/* ---- commands --------------------------------------------------------------------------------------- */

typedef struct KeyList {
        size_t n;
        char key[CTL_MAX_KEYS][64];
        char value[CTL_MAX_KEYS][48];
} KeyList;

static void key_list_add(const char *key, const char *value, void *userdata) {
        KeyList *l = userdata;

        if (l->n >= CTL_MAX_KEYS)
                return;
        snprintf(l->key[l->n], sizeof(l->key[0]), "%s", key);
        snprintf(l->value[l->n], sizeof(l->value[0]), "%s", value);
        l->n++;
}

typedef struct CtlError {
        char text[SIM_LINE_MAX];
} CtlError;

static int ctl_fail(CtlError *e, const char *fmt, ...) _printf_(2, 3);
static int ctl_fail(CtlError *e, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(e->text, sizeof(e->text), fmt, ap);
        va_end(ap);
        return -EINVAL;
}

static int parse_double(const char *s, double lo, double hi, double *ret) {
        char *end;

        errno = 0;
        double v = strtod(s, &end);
        if (errno != 0 || end == s || *end || !isfinite(v) || v < lo || v > hi)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* Changes an input line's model state and tells the GPIO clients when its level moved. */
static void ctl_input_changed(Sim *s, LineId line, bool before, uint64_t ns) {
        bool after = gpio_level(s, line);

        if (after != before) {
                log_info("%s line now %d", line_id_to_string(line), after);
                gpio_broadcast_edge(s, line, after, ns);
        }
}

static int ctl_estop(Sim *s, LineClient *c, int argc, char **argv, CtlError *e) {
        Model *m = &s->model;
        bool before = gpio_level(s, LINE_ESTOP);
        uint64_t ns = mono_nsec();

        if (argc != 2)
                return ctl_fail(e, "usage: estop press|release|break|repair");
        if (streq(argv[1], "press")) {
                m->estop_pressed = true;
                m->estop_press_ns = ns;
        } else if (streq(argv[1], "release"))
                m->estop_pressed = false;
        else if (streq(argv[1], "break"))
                m->estop_broken = true;
        else if (streq(argv[1], "repair"))
                m->estop_broken = false;
        else
                return ctl_fail(e, "estop: unknown action '%s'", argv[1]);
        ctl_input_changed(s, LINE_ESTOP, before, ns);
        return 0;
}

static int ctl_interlock(Sim *s, LineClient *c, int argc, char **argv, CtlError *e) {
        bool before = gpio_level(s, LINE_INTERLOCK);

        if (argc != 2 || (!streq(argv[1], "on") && !streq(argv[1], "off")))
                return ctl_fail(e, "usage: interlock on|off");
        s->model.interlock = streq(argv[1], "on");
        ctl_input_changed(s, LINE_INTERLOCK, before, mono_nsec());
        return 0;
}

static int ctl_sit(Sim *s, LineClient *c, int argc, char **argv, CtlError *e) {
        double shoulder = s->model.shoulder_mm, stiffness = s->model.stiffness;
        bool before = gpio_level(s, LINE_SEAT);

        for (int i = 1; i < argc; i++) {
                if (strncmp(argv[i], "shoulder=", 9) == 0) {
                        if (parse_double(argv[i] + 9, 50, 650, &shoulder) < 0)
                                return ctl_fail(e, "sit: shoulder must be 50..650 mm, got '%s'",
                                                argv[i] + 9);
                } else if (strncmp(argv[i], "stiffness=", 10) == 0) {
                        if (parse_double(argv[i] + 10, 0.1, 20, &stiffness) < 0)
                                return ctl_fail(e, "sit: stiffness must be 0.1..20 N/mm, got '%s'",
                                                argv[i] + 10);
                } else
                        return ctl_fail(e, "usage: sit [shoulder=MM] [stiffness=N_PER_MM]");
        }
        sim_advance(s);
        s->model.seated = true;
        s->model.shoulder_mm = shoulder;
        s->model.stiffness = stiffness;
        ctl_input_changed(s, LINE_SEAT, before, mono_nsec());
        return 0;
}

static int ctl_stand(Sim *s, LineClient *c, int argc, char **argv, CtlError *e) {
        bool before = gpio_level(s, LINE_SEAT);

        if (argc != 1)
                return ctl_fail(e, "usage: stand");
        sim_advance(s);
        s->model.seated = false;
        ctl_input_changed(s, LINE_SEAT, before, mono_nsec());
        return 0;
}

static int ctl_fault(Sim *s, LineClient *c, int argc, char **argv, CtlError *e) {
        SimBoardId b = argc >= 2 ? sim_board_from_string(argv[1]) : _SIM_BOARD_INVALID;
        BusFault f = argc >= 3 ? bus_fault_from_string(argv[2]) : _BUS_FAULT_INVALID;
        bool wants_arg = f == BUS_FAULT_EXCEPTION || f == BUS_FAULT_SLOW;
        double arg = 0;

        if (b < 0 || f < 0 || argc != (wants_arg ? 4 : 3))
                return ctl_fail(e, "usage: fault roller|airbag|base none|timeout|exception CODE|disconnect|"
                                   "slow MS|garbage|crc");
        if (f == BUS_FAULT_EXCEPTION && parse_double(argv[3], 1, MODBUS_EXCEPTION_MAX - 1, &arg) < 0)
                return ctl_fail(e, "fault: exception code must be 1..%d", MODBUS_EXCEPTION_MAX - 1);
        if (f == BUS_FAULT_SLOW && parse_double(argv[3], 0, 60000, &arg) < 0)
                return ctl_fail(e, "fault: slow wants 0..60000 ms");

        s->model.boards[b].fault = f;
        s->model.boards[b].fault_arg = (unsigned)arg;
        log_info("%s board: bus fault %s%s%s", argv[1], argv[2], wants_arg ? " " : "",
                 wants_arg ? argv[3] : "");
        tcp_server_apply_faults(s);
        return 0;
}

static int ctl_sensor(Sim *s, LineClient *c, int argc, char **argv, CtlError *e) {
        SimSensorId id = argc >= 2 ? sim_sensor_from_string(argv[1]) : _SIM_SENSOR_INVALID;
        SensorFault f = argc >= 3 ? sensor_fault_from_string(argv[2]) : _SENSOR_FAULT_INVALID;
        bool wants_arg = f == SENSOR_SPIKE || f == SENSOR_OFFSET || f == SENSOR_RAMP;
        double arg = 0, rate = 0;

        if (id < 0 || f < 0 || argc != (f == SENSOR_RAMP ? 5 : wants_arg ? 4 : 3))
                return ctl_fail(e, "usage: sensor SIGNAL normal|stuck|spike VALUE|offset VALUE|ramp VALUE RATE");
        if (wants_arg && parse_double(argv[3], -1e6, 1e6, &arg) < 0)
                return ctl_fail(e, "sensor: '%s' is not a number", argv[3]);
        if (f == SENSOR_RAMP && parse_double(argv[4], 0.001, 1e6, &rate) < 0)
                return ctl_fail(e, "sensor: ramp rate '%s' must be a positive number", argv[4]);

        sim_advance(s);
        (void)model_set_sensor_fault(&s->model, id, f, arg, rate);
        model_update_inputs(&s->model);
        log_info("Sensor %s: %s%s%s", argv[1], argv[2], wants_arg ? " " : "", wants_arg ? argv[3] : "");
        return 0;
}

static int ctl_get(Sim *s, LineClient *c, int argc, char **argv, CtlError *e) {
        _cleanup_free_ KeyList *l = calloc(1, sizeof(KeyList));

        if (!l)
                return ctl_fail(e, "out of memory");
        ctl_foreach_key(s, key_list_add, l);

        /* Check every key first so that a typo gives an error, not half an answer. */
        for (int i = 1; i < argc; i++) {
                size_t k = 0;
                while (k < l->n && !streq(l->key[k], argv[i]))
                        k++;
                if (k == l->n)
                        return ctl_fail(e, "unknown key '%s'", argv[i]);
        }
        for (size_t k = 0; k < l->n; k++) {
                bool wanted = argc == 1;
                for (int i = 1; i < argc && !wanted; i++)
                        wanted = streq(l->key[k], argv[i]);
                if (wanted)
                        (void)line_client_send(c, "%s=%s\n", l->key[k], l->value[k]);
        }
        return 0;
}

static int ctl_ping(Sim *s, LineClient *c, int argc, char **argv, CtlError *e) {
        return argc == 1 ? 0 : ctl_fail(e, "usage: ping");
}

static const struct {
        const char *name;
        int (*run)(Sim *s, LineClient *c, int argc, char **argv, CtlError *e);
} ctl_verbs[] = {
        {"ping", ctl_ping},   {"estop", ctl_estop}, {"interlock", ctl_interlock}, {"sit", ctl_sit},
        {"stand", ctl_stand}, {"fault", ctl_fault}, {"sensor", ctl_sensor},       {"get", ctl_get},
};

static int ctl_on_line(LineClient *c, char *line) {
        char *argv[CTL_MAX_ARGS + 1];
        int argc = 0;
        CtlError e = {};
        char *save = NULL;

        for (char *t = strtok_r(line, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
                if (argc == CTL_MAX_ARGS)
                        return line_client_send(c, "error too many arguments\n"), 0;
                argv[argc++] = t;
        }
        if (argc == 0)
                return line_client_send(c, "error empty request\n"), 0;

        for (size_t i = 0; i < ELEMENTSOF(ctl_verbs); i++) {
                if (!streq(ctl_verbs[i].name, argv[0]))
                        continue;
                if (ctl_verbs[i].run(c->server->sim, c, argc, argv, &e) < 0)
                        return line_client_send(c, "error %s\n", e.text), 0;
                return line_client_send(c, "ok\n"), 0;
        }
        return line_client_send(c, "error unknown command '%s'\n", argv[0]), 0;
}

int ctl_server_start(Sim *s, const char *path) {
        int r = line_server_start(&s->ctl, s, path, ctl_on_line);
        if (r < 0)
                return r;
        /* "get" of many keys takes one request line; long lines are only a mistake here. */
        s->ctl.max_line = SIM_LINE_MAX * 3;
        return 0;
}
