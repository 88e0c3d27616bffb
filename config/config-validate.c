/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Checks the merged config as one chair: how keys relate (register map, limits, zones, GPIO), fills the
 * defaults that depend on other keys, and names the file:line of the first thing wrong. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-internal.h"

/* ISO/TS 15066 Annex A: 150 N quasi-static is adult pain onset at the neck. A neck limit must stay below. */
#define NECK_FORCE_CEILING_N 150.0

/* Fails naming the entry section/key (its file:line and value) when it was written, else the fallback
 * origin (the section's first line, or the main file when NULL). */
_printf_(6, 7) static int fail(const Config *c, char **ret_error, const char *section, const char *key,
                               const ConfigOrigin *fallback, const char *fmt, ...) {
        const ConfigEntry *e = key ? config_entry_find(c, section, key) : NULL;
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        return config_error(c, ret_error, -EINVAL, e ? &e->origin : fallback, section, key,
                            e ? e->value : NULL, "%s", msg);
}

/* Where key was written, else fallback: a key missing because of another is reported at that other. */
static const ConfigOrigin *origin_of(const Config *c, const char *section, const char *key,
                                     const ConfigOrigin *fallback) {
        const ConfigEntry *e = config_entry_find(c, section, key);
        return e ? &e->origin : fallback;
}

static bool given(const Config *c, const char *section, const char *key) {
        return config_entry_given(c, section, key) != NULL;
}

/* Of two keys whose relation is wrong, blame the one the OEM wrote. */
static const char *blame(const Config *c, const char *section, const char *a, const char *b) {
        return given(c, section, a) || !given(c, section, b) ? a : b;
}

/* Reports "a must be below b" on whichever of the two keys the OEM wrote. */
static int fail_order(const Config *c, char **ret_error, const char *section, const char *low_key,
                      double low, const char *high_key, double high, const char *above, const char *below) {
        const char *k = blame(c, section, high_key, low_key);

        if (streq(k, high_key))
                return fail(c, ret_error, section, k, NULL, "%s %s=%.10g", below, low_key, low);
        return fail(c, ret_error, section, k, NULL, "%s %s=%.10g", above, high_key, high);
}

static int validate_chair(Config *c, char **ret_error) {
        const ConfigEntry *e = config_entry_given(c, "Chair", "StateDirectory");

        /* Relative to the root like every path the daemon owns, so a test tree keeps its state inside. */
        free(c->state_dir);
        c->state_dir = config_path_join(c->root, e ? e->value : "var/lib/chaird");
        return c->state_dir ? 0 : -ENOMEM;
}

static bool baud_is_standard(unsigned baud) {
        static const unsigned rates[] = {1200,  2400,   4800,   9600,   19200, 38400,
                                         57600, 115200, 230400, 460800, 921600};
        for (size_t i = 0; i < ELEMENTSOF(rates); i++)
                if (rates[i] == baud)
                        return true;
        return false;
}

static int validate_modbus(const Config *c, char **ret_error) {
        const ModbusConfig *m = &c->modbus;

        if (m->transport == TRANSPORT_TCP && !m->host)
                return fail(c, ret_error, "Modbus", "Host", origin_of(c, "Modbus", "Transport", NULL),
                            "required with Transport=tcp");
        if (m->transport == TRANSPORT_RTU && !m->device)
                return fail(c, ret_error, "Modbus", "Device", origin_of(c, "Modbus", "Transport", NULL),
                            "required with Transport=rtu");
        if (!baud_is_standard(m->baud))
                return fail(c, ret_error, "Modbus", "Baud", NULL,
                            "not a standard baud rate (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, "
                            "230400, 460800, 921600)");
        if (m->reconnect_min_ms > m->reconnect_max_ms)
                return fail_order(c, ret_error, "Modbus", "ReconnectMinMs", m->reconnect_min_ms,
                                  "ReconnectMaxMs", m->reconnect_max_ms, "above", "below");
        return 0;
}

static int validate_boards(const Config *c, char **ret_error) {
        char sec[256], other[256];

        for (size_t i = 0; i < c->n_boards; i++) {
                const BoardConfig *b = &c->boards[i];

                snprintf(sec, sizeof(sec), "Board %s", b->name);
                if (!given(c, sec, "SlaveId"))
                        return fail(c, ret_error, sec, "SlaveId", &b->origin, "missing (required)");
                for (size_t j = 0; j < i; j++)
                        if (c->boards[j].slave_id == b->slave_id) {
                                snprintf(other, sizeof(other), "Board %s", c->boards[j].name);
                                return fail(c, ret_error, sec, "SlaveId", &b->origin,
                                            "duplicate slave id (also [%s])", other);
                        }
                if (b->comm_timeout_register >= 0 && b->comm_timeout_ms == 0)
                        return fail(c, ret_error, sec, "CommTimeoutMs",
                                    origin_of(c, sec, "CommTimeoutRegister", &b->origin),
                                    "required with CommTimeoutRegister=");
                if (b->comm_timeout_register >= 0 && b->comm_timeout_register == b->heartbeat_register)
                        return fail(c, ret_error, sec, "CommTimeoutRegister", &b->origin,
                                    "same register as HeartbeatRegister=");
        }
        return 0;
}

/* The checks of one signal on its own; resolves Board= and fills Type= and the range. */
static int validate_signal(Config *c, SignalConfig *s, const char *board_name, char **ret_error) {
        const char *sec_name = signal_id_to_string(s->id);
        bool bits, out = signal_id_direction(s->id) == SIGNAL_OUT;
        char sec[256];
        int b;

        snprintf(sec, sizeof(sec), "Signal %s", sec_name);
        if (!board_name)
                return fail(c, ret_error, sec, "Board", &s->origin, "missing (required)");
        b = config_board_index(c, board_name);
        if (b < 0)
                return fail(c, ret_error, sec, "Board", &s->origin, "unknown board");
        s->board = (unsigned)b;
        if (!given(c, sec, "Kind"))
                return fail(c, ret_error, sec, "Kind", &s->origin, "missing (required)");
        if (!given(c, sec, "Address"))
                return fail(c, ret_error, sec, "Address", &s->origin, "missing (required)");

        bits = s->kind == REGISTER_COIL || s->kind == REGISTER_DISCRETE;
        if (!given(c, sec, "Type"))
                s->type = bits ? VALUE_BOOL : VALUE_U16;
        if (out && s->kind != REGISTER_HOLDING && s->kind != REGISTER_COIL)
                return fail(c, ret_error, sec, "Kind", &s->origin,
                            "an output signal must be holding or coil");
        if (bits && s->type != VALUE_BOOL)
                return fail(c, ret_error, sec, "Type", &s->origin,
                            "coil and discrete registers hold Type=bool");
        if (!bits && s->type == VALUE_BOOL)
                return fail(c, ret_error, sec, "Type", &s->origin,
                            "Type=bool needs Kind=coil or Kind=discrete");
        if (s->address + value_type_registers(s->type) - 1 > 65535)
                return fail(c, ret_error, sec, "Address", &s->origin,
                            "Type=%s takes %u registers, past the last address 65535",
                            value_type_to_string(s->type), value_type_registers(s->type));
        if (s->scale == 0)
                return fail(c, ret_error, sec, "Scale", &s->origin, "must not be zero");

        s->has_range = given(c, sec, "Min") || given(c, sec, "Max");
        if (!given(c, sec, "Min"))
                s->min = -INFINITY;
        if (!given(c, sec, "Max"))
                s->max = INFINITY;
        if (s->min > s->max)
                return fail(c, ret_error, sec, "Min", &s->origin, "above Max=%.10g", s->max);
        return 0;
}

static int signal_compare(const void *a, const void *b) {
        return (int)((const SignalConfig *)a)->id - (int)((const SignalConfig *)b)->id;
}

static bool ranges_overlap(unsigned a, unsigned na, unsigned b, unsigned nb) {
        return a < b + nb && b < a + na;
}

/* Two signals on one register would fight (outputs) or lie (inputs); the board's heartbeat and comm
 * timeout registers are holding registers the daemon writes too. */
static int validate_signal_overlaps(const Config *c, const SignalConfig *s, char **ret_error) {
        const BoardConfig *b = &c->boards[s->board];
        unsigned n = value_type_registers(s->type);
        char sec[256];

        snprintf(sec, sizeof(sec), "Signal %s", signal_id_to_string(s->id));
        for (const SignalConfig *o = c->signals; o < s; o++) {
                unsigned on = value_type_registers(o->type);
                if (o->board != s->board || o->kind != s->kind ||
                    !ranges_overlap(s->address, n, o->address, on))
                        continue;
                return fail(c, ret_error, sec, "Address", &s->origin,
                            "overlaps [Signal %s] (%s %u..%u on board %s)", signal_id_to_string(o->id),
                            register_kind_to_string(o->kind), o->address, o->address + on - 1, b->name);
        }
        if (s->kind != REGISTER_HOLDING)
                return 0;
        if (b->heartbeat_register >= 0 && ranges_overlap(s->address, n, (unsigned)b->heartbeat_register, 1))
                return fail(c, ret_error, sec, "Address", &s->origin,
                            "overlaps [Board %s] HeartbeatRegister=%d", b->name, b->heartbeat_register);
        if (b->comm_timeout_register >= 0 &&
            ranges_overlap(s->address, n, (unsigned)b->comm_timeout_register, 1))
                return fail(c, ret_error, sec, "Address", &s->origin,
                            "overlaps [Board %s] CommTimeoutRegister=%d", b->name, b->comm_timeout_register);
        return 0;
}

static int validate_signals(Config *c, char **board_names, char **ret_error) {
        char sec[256];
        int r;

        for (size_t i = 0; i < c->n_signals; i++) {
                r = validate_signal(c, &c->signals[i], board_names[c->signals[i].id], ret_error);
                if (r < 0)
                        return r;
        }
        /* In SignalId order: a stable order for the hardware plan and the dump. */
        if (c->n_signals > 0)
                qsort(c->signals, c->n_signals, sizeof(SignalConfig), signal_compare);
        for (size_t i = 0; i < c->n_signals; i++) {
                r = validate_signal_overlaps(c, &c->signals[i], ret_error);
                if (r < 0)
                        return r;
        }
        for (SignalId id = 0; id < _SIGNAL_MAX; id++)
                if (signal_id_required(id) && !config_signal(c, id)) {
                        snprintf(sec, sizeof(sec), "Signal %s", signal_id_to_string(id));
                        return config_error(c, ret_error, -EINVAL, NULL, sec, NULL, NULL,
                                            "required signal missing");
                }
        return 0;
}

static int validate_line(const Config *c, LineId id, char **ret_error) {
        const LineConfig *l = &c->gpio.lines[id];
        char sec[64];

        snprintf(sec, sizeof(sec), "Line %s", line_id_to_string(id));
        if (!l->name && l->offset < 0)
                return fail(c, ret_error, sec, "Name", &l->origin, "missing (Name= or Offset= is required)");
        if (l->name && l->offset >= 0)
                return fail(c, ret_error, sec, "Offset", &l->origin, "Name= and Offset= exclude each other");
        if (line_id_is_output(id) && given(c, sec, "Bias"))
                return fail(c, ret_error, sec, "Bias", &l->origin, "not allowed on an output line");
        if (line_id_is_output(id) && given(c, sec, "DebounceMs"))
                return fail(c, ret_error, sec, "DebounceMs", &l->origin, "not allowed on an output line");
        return 0;
}

static int validate_gpio(const Config *c, char **ret_error) {
        const GpioConfig *g = &c->gpio;
        static const LineId needed[] = {LINE_ESTOP, LINE_POWER_RELAY};
        char sec[64];
        int r;

        if (g->backend == GPIO_BACKEND_SIM && !g->sim_socket)
                return fail(c, ret_error, "GPIO", "SimSocket", origin_of(c, "GPIO", "Backend", NULL),
                            "required with Backend=sim");
        if (g->backend == GPIO_BACKEND_GPIOD && !g->chip)
                return fail(c, ret_error, "GPIO", "Chip", origin_of(c, "GPIO", "Backend", NULL),
                            "required with Backend=gpiod");
        for (LineId id = 0; id < _LINE_MAX; id++)
                if (g->lines[id].configured) {
                        r = validate_line(c, id, ret_error);
                        if (r < 0)
                                return r;
                }
        if (g->backend == GPIO_BACKEND_NONE)
                return 0;
        /* With real lines, the e-stop input and the relay that cuts actuator power are the point of it. */
        for (size_t i = 0; i < ELEMENTSOF(needed); i++)
                if (!g->lines[needed[i]].configured) {
                        snprintf(sec, sizeof(sec), "Line %s", line_id_to_string(needed[i]));
                        return config_error(c, ret_error, -EINVAL, origin_of(c, "GPIO", "Backend", NULL),
                                            sec, NULL, NULL, "required with [GPIO] Backend=%s",
                                            gpio_backend_to_string(g->backend));
                }
        if (g->heartbeat_period_ms > 0 && !g->lines[LINE_HEARTBEAT].configured)
                return fail(c, ret_error, "GPIO", "HeartbeatPeriodMs", NULL, "needs a [Line heartbeat]");
        return 0;
}

static int validate_limits(const Config *c, char **ret_error) {
        const LimitsConfig *l = &c->limits;

        if (l->hard_force_n <= l->max_force_n)
                return fail_order(c, ret_error, "Limits", "MaxForceN", l->max_force_n, "HardForceN",
                                  l->hard_force_n, "must be below", "must be above");
        if (l->shoulder_min_mm > l->shoulder_max_mm)
                return fail_order(c, ret_error, "Limits", "ShoulderMinMm", l->shoulder_min_mm,
                                  "ShoulderMaxMm", l->shoulder_max_mm, "above", "below");
        if (l->shoulder_max_mm > l->track_length_mm)
                return fail_order(c, ret_error, "Limits", "ShoulderMaxMm", l->shoulder_max_mm,
                                  "TrackLengthMm", l->track_length_mm, "beyond", "shorter than");
        return 0;
}

static int validate_untrained(const Config *c, char **ret_error) {
        const UntrainedConfig *u = &c->untrained;

        if (u->max_intensity > c->max_intensity)
                return fail(c, ret_error, "Untrained", "MaxIntensity", NULL, "above [Chair] MaxIntensity=%u",
                            c->max_intensity);
        if (u->max_force_n > c->limits.max_force_n)
                return fail(c, ret_error, "Untrained", "MaxForceN", NULL, "above [Limits] MaxForceN=%.10g",
                            c->limits.max_force_n);
        if (u->max_speed_mm_s > c->limits.max_speed_mm_s)
                return fail(c, ret_error, "Untrained", "MaxSpeedMmS", NULL,
                            "above [Limits] MaxSpeedMmS=%.10g", c->limits.max_speed_mm_s);
        return 0;
}

/* Without any [Zone], a conservative neck zone stands in so that the neck rules always have a zone to
 * apply (docs/config.md, "Zones"). It covers more than the example chair's neck and allows less. */
static int zones_add_builtin_neck(Config *c) {
        const LimitsConfig *l = &c->limits;

        c->zones = calloc(1, sizeof(ZoneConfig));
        if (!c->zones)
                return -ENOMEM;
        c->zones[0] = (ZoneConfig){
                .name = strdup("neck"),
                .neck = true,
                .from_mm = -120,
                .to_mm = 20,
                .max_force_n = MIN(30.0, l->max_force_n),
                .hard_force_n = MIN(60.0, l->hard_force_n),
                .allowed_techniques = 1u << TECHNIQUE_ROLLING | 1u << TECHNIQUE_GLIDE,
                .untrained_techniques = 1u << TECHNIQUE_GLIDE,
        };
        c->zones[0].untrained_max_force_n = c->zones[0].max_force_n / 2;
        c->n_zones = 1;
        return c->zones[0].name ? 0 : -ENOMEM;
}

static int validate_zone_forces(Config *c, ZoneConfig *z, const char *sec, char **ret_error) {
        const LimitsConfig *l = &c->limits;

        if (!given(c, sec, "MaxForceN")) {
                if (z->neck)
                        return fail(c, ret_error, sec, "MaxForceN", &z->origin,
                                    "required for the neck zone");
                z->max_force_n = l->max_force_n;
        }
        if (!given(c, sec, "UntrainedMaxForceN"))
                z->untrained_max_force_n = MIN(z->max_force_n / 2, c->untrained.max_force_n);
        if (z->max_force_n > l->max_force_n)
                return fail(c, ret_error, sec, "MaxForceN", &z->origin, "above [Limits] MaxForceN=%.10g",
                            l->max_force_n);
        if (z->hard_force_n > 0 && z->hard_force_n <= z->max_force_n)
                return fail(c, ret_error, sec, "HardForceN", &z->origin, "must be above MaxForceN=%.10g",
                            z->max_force_n);
        if (z->hard_force_n > l->hard_force_n)
                return fail(c, ret_error, sec, "HardForceN", &z->origin, "above [Limits] HardForceN=%.10g",
                            l->hard_force_n);
        if (z->untrained_max_force_n > z->max_force_n)
                return fail(c, ret_error, sec, "UntrainedMaxForceN", &z->origin, "above MaxForceN=%.10g",
                            z->max_force_n);
        if (z->neck && z->max_force_n >= NECK_FORCE_CEILING_N)
                return fail(c, ret_error, sec, "MaxForceN", &z->origin,
                            "must stay below %.0f N in the neck zone (ISO/TS 15066 pain onset)",
                            NECK_FORCE_CEILING_N);
        if (z->neck && z->hard_force_n >= NECK_FORCE_CEILING_N)
                return fail(c, ret_error, sec, "HardForceN", &z->origin,
                            "must stay below %.0f N in the neck zone (ISO/TS 15066 pain onset)",
                            NECK_FORCE_CEILING_N);
        return 0;
}

static int validate_zone(Config *c, size_t i, char **ret_error) {
        ZoneConfig *z = &c->zones[i];
        char sec[256];

        snprintf(sec, sizeof(sec), "Zone %s", z->name);
        if (!given(c, sec, "Neck"))
                z->neck = streq(z->name, "neck");
        if (!given(c, sec, "From"))
                return fail(c, ret_error, sec, "From", &z->origin, "missing (required)");
        if (!given(c, sec, "To"))
                return fail(c, ret_error, sec, "To", &z->origin, "missing (required)");
        if (z->from_mm >= z->to_mm)
                return fail(c, ret_error, sec, "From", &z->origin, "not below To=%.10g", z->to_mm);
        for (size_t j = 0; j < i; j++) {
                const ZoneConfig *o = &c->zones[j];
                if (z->from_mm < o->to_mm && o->from_mm < z->to_mm)
                        return fail(c, ret_error, sec, "From", &z->origin,
                                    "overlaps [Zone %s] (%.10g..%.10g)", o->name, o->from_mm, o->to_mm);
                if (z->neck && o->neck)
                        return fail(c, ret_error, sec, "Neck", &z->origin,
                                    "more than one neck zone (also [Zone %s])", o->name);
        }
        return validate_zone_forces(c, z, sec, ret_error);
}

static int validate_zones(Config *c, char **ret_error) {
        int r;

        if (c->n_zones == 0)
                return zones_add_builtin_neck(c);

        /* Zone limits are checked against the global cap, so a silent default there would make the zones'
         * errors point at a number the OEM never wrote. */
        if (!given(c, "Limits", "MaxForceN"))
                return config_error(c, ret_error, -EINVAL, NULL, "Limits", "MaxForceN", NULL,
                                    "required when zones are configured");
        for (size_t i = 0; i < c->n_zones; i++) {
                r = validate_zone(c, i, ret_error);
                if (r < 0)
                        return r;
        }
        if (!config_neck_zone(c))
                return config_error(c, ret_error, -EINVAL, NULL, "Zone", "Neck", NULL,
                                    "no neck zone: one [Zone] needs Neck=yes");
        return 0;
}

int config_validate(Config *c, char **board_names, char **ret_error) {
        int r;

        r = validate_chair(c, ret_error);
        if (r >= 0)
                r = validate_modbus(c, ret_error);
        if (r >= 0)
                r = validate_boards(c, ret_error);
        if (r >= 0)
                r = validate_signals(c, board_names, ret_error);
        if (r >= 0)
                r = validate_gpio(c, ret_error);
        if (r >= 0)
                r = validate_limits(c, ret_error);
        if (r >= 0)
                r = validate_zones(c, ret_error);
        if (r >= 0)
                r = validate_untrained(c, ret_error);
        return r;
}
