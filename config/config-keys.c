/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The key table: every section and key the config accepts, with its type, range and default, and the
 * typed parse/format of one value. Adding a key is adding a row here (and a line in docs/config.md). */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config-internal.h"

#define DEFINE_ENUM_NAMES(name, type, list)                                                                 \
        static const char *name##_to_string_int(int v) {                                                    \
                return name##_to_string((type)v);                                                           \
        }                                                                                                   \
        static int name##_from_string_int(const char *s) {                                                  \
                return name##_from_string(s);                                                               \
        }                                                                                                   \
        static const EnumNames name##_names = {                                                             \
                name##_to_string_int,                                                                       \
                name##_from_string_int,                                                                     \
                list,                                                                                       \
        };

DEFINE_ENUM_NAMES(transport_kind, TransportKind, "tcp, rtu")
DEFINE_ENUM_NAMES(parity, Parity, "none, even, odd")
DEFINE_ENUM_NAMES(register_kind, RegisterKind, "coil, discrete, input, holding")
DEFINE_ENUM_NAMES(value_type, ValueType, "bool, u16, s16, u32, s32")
DEFINE_ENUM_NAMES(gpio_backend, GpioBackend, "none, gpiod, sim")
DEFINE_ENUM_NAMES(line_bias, LineBias, "as-is, disable, pull-up, pull-down")

static const char *const section_kind_table[_SECTION_KIND_MAX] = {
        [SECTION_CHAIR] = "Chair",   [SECTION_MODBUS] = "Modbus", [SECTION_BOARD] = "Board",
        [SECTION_SIGNAL] = "Signal", [SECTION_GPIO] = "GPIO",     [SECTION_LINE] = "Line",
        [SECTION_ZONE] = "Zone",     [SECTION_LIMITS] = "Limits", [SECTION_UNTRAINED] = "Untrained",
};

const char *section_kind_to_string(SectionKind k) {
        if (k < 0 || k >= _SECTION_KIND_MAX)
                return NULL;
        return section_kind_table[k];
}

SectionKind section_kind_from_string(const char *s) {
        for (int i = 0; i < _SECTION_KIND_MAX; i++)
                if (streq(section_kind_table[i], s))
                        return (SectionKind)i;
        return _SECTION_KIND_INVALID;
}

bool section_kind_is_named(SectionKind k) {
        return k == SECTION_BOARD || k == SECTION_SIGNAL || k == SECTION_LINE || k == SECTION_ZONE;
}

#define CHAIR(f) offsetof(Config, f)
#define MODBUS(f) offsetof(ModbusConfig, f)
#define BOARD(f) offsetof(BoardConfig, f)
#define SIGNAL(f) offsetof(SignalConfig, f)
#define GPIO(f) offsetof(GpioConfig, f)
#define LINE(f) offsetof(LineConfig, f)
#define ZONE(f) offsetof(ZoneConfig, f)
#define LIMITS(f) offsetof(LimitsConfig, f)
#define UNTRAINED(f) offsetof(UntrainedConfig, f)
#define NO_RANGE 0, 0
#define FORCE_RANGE 0, 1000

/* Ranges are what an OEM may write, not what is wise: the validator checks how values relate. Limits
 * defaults are deliberately conservative (docs/config.md, "Defaults"). */
const ConfigKey config_keys[] = {
        {SECTION_CHAIR, "ControlRateHz", KEY_UINT, CHAIR(control_rate_hz), 1, 1000, "100", false, NULL},
        {SECTION_CHAIR, "MaxIntensity", KEY_UINT, CHAIR(max_intensity), 1, 100, "10", false, NULL},
        {SECTION_CHAIR, "StateDirectory", KEY_PATH, CHAIR(state_dir), NO_RANGE, NULL, true, NULL},

        {SECTION_MODBUS, "Transport", KEY_ENUM, MODBUS(transport), NO_RANGE, "tcp", false,
         &transport_kind_names},
        {SECTION_MODBUS, "Host", KEY_STRING, MODBUS(host), NO_RANGE, NULL, false, NULL},
        {SECTION_MODBUS, "Port", KEY_PORT, MODBUS(port), 1, 65535, "502", false, NULL},
        {SECTION_MODBUS, "Device", KEY_PATH, MODBUS(device), NO_RANGE, NULL, false, NULL},
        {SECTION_MODBUS, "Baud", KEY_UINT, MODBUS(baud), 1, 4000000, "19200", false, NULL},
        {SECTION_MODBUS, "Parity", KEY_ENUM, MODBUS(parity), NO_RANGE, "none", false, &parity_names},
        {SECTION_MODBUS, "DataBits", KEY_UINT, MODBUS(data_bits), 7, 8, "8", false, NULL},
        {SECTION_MODBUS, "StopBits", KEY_UINT, MODBUS(stop_bits), 1, 2, "1", false, NULL},
        {SECTION_MODBUS, "InterFrameGapUs", KEY_UINT, MODBUS(inter_frame_gap_us), 0, 1000000, "0", false,
         NULL},
        {SECTION_MODBUS, "ReconnectMinMs", KEY_UINT, MODBUS(reconnect_min_ms), 1, 600000, "100", false,
         NULL},
        {SECTION_MODBUS, "ReconnectMaxMs", KEY_UINT, MODBUS(reconnect_max_ms), 1, 600000, "5000", false,
         NULL},

        {SECTION_BOARD, "SlaveId", KEY_UINT, BOARD(slave_id), 1, 247, NULL, false, NULL},
        {SECTION_BOARD, "ResponseTimeoutMs", KEY_UINT, BOARD(response_timeout_ms), 1, 10000, "20", false,
         NULL},
        {SECTION_BOARD, "PollIntervalMs", KEY_UINT, BOARD(poll_interval_ms), 0, 60000, "0", false, NULL},
        {SECTION_BOARD, "Required", KEY_BOOL, BOARD(required), NO_RANGE, "yes", false, NULL},
        {SECTION_BOARD, "MaxMissedPolls", KEY_UINT, BOARD(max_missed_polls), 1, 1000, "3", false, NULL},
        {SECTION_BOARD, "CommLossMs", KEY_UINT, BOARD(comm_loss_ms), 1, 600000, "100", false, NULL},
        {SECTION_BOARD, "HeartbeatRegister", KEY_INT_OPT, BOARD(heartbeat_register), 0, 65535, NULL, false,
         NULL},
        {SECTION_BOARD, "CommTimeoutRegister", KEY_INT_OPT, BOARD(comm_timeout_register), 0, 65535, NULL,
         false, NULL},
        {SECTION_BOARD, "CommTimeoutMs", KEY_UINT, BOARD(comm_timeout_ms), 1, 65535, NULL, false, NULL},
        {SECTION_BOARD, "ReadGap", KEY_UINT, BOARD(read_gap), 0, 124, "0", false, NULL},

        {SECTION_SIGNAL, "Board", KEY_BOARD, SIGNAL(board), NO_RANGE, NULL, false, NULL},
        {SECTION_SIGNAL, "Kind", KEY_ENUM, SIGNAL(kind), NO_RANGE, NULL, false, &register_kind_names},
        {SECTION_SIGNAL, "Address", KEY_UINT, SIGNAL(address), 0, 65535, NULL, false, NULL},
        {SECTION_SIGNAL, "Type", KEY_ENUM, SIGNAL(type), NO_RANGE, NULL, true, &value_type_names},
        {SECTION_SIGNAL, "Scale", KEY_DOUBLE, SIGNAL(scale), -1e9, 1e9, "1", false, NULL},
        {SECTION_SIGNAL, "Offset", KEY_DOUBLE, SIGNAL(offset), -1e9, 1e9, "0", false, NULL},
        {SECTION_SIGNAL, "Unit", KEY_STRING, SIGNAL(unit), NO_RANGE, NULL, false, NULL},
        {SECTION_SIGNAL, "Min", KEY_DOUBLE, SIGNAL(min), -1e12, 1e12, NULL, false, NULL},
        {SECTION_SIGNAL, "Max", KEY_DOUBLE, SIGNAL(max), -1e12, 1e12, NULL, false, NULL},

        {SECTION_GPIO, "Backend", KEY_ENUM, GPIO(backend), NO_RANGE, "none", false, &gpio_backend_names},
        {SECTION_GPIO, "Chip", KEY_STRING, GPIO(chip), NO_RANGE, NULL, false, NULL},
        {SECTION_GPIO, "SimSocket", KEY_PATH, GPIO(sim_socket), NO_RANGE, NULL, false, NULL},
        {SECTION_GPIO, "HeartbeatPeriodMs", KEY_UINT, GPIO(heartbeat_period_ms), 0, 60000, "0", false, NULL},

        {SECTION_LINE, "Name", KEY_STRING, LINE(name), NO_RANGE, NULL, false, NULL},
        {SECTION_LINE, "Offset", KEY_INT_OPT, LINE(offset), 0, 65535, NULL, false, NULL},
        {SECTION_LINE, "ActiveLow", KEY_BOOL, LINE(active_low), NO_RANGE, "no", false, NULL},
        {SECTION_LINE, "Bias", KEY_ENUM, LINE(bias), NO_RANGE, "as-is", false, &line_bias_names},
        {SECTION_LINE, "DebounceMs", KEY_UINT, LINE(debounce_ms), 0, 10000, "0", false, NULL},

        {SECTION_ZONE, "Neck", KEY_BOOL, ZONE(neck), NO_RANGE, NULL, true, NULL},
        {SECTION_ZONE, "From", KEY_DOUBLE, ZONE(from_mm), -5000, 5000, NULL, false, NULL},
        {SECTION_ZONE, "To", KEY_DOUBLE, ZONE(to_mm), -5000, 5000, NULL, false, NULL},
        {SECTION_ZONE, "MaxForceN", KEY_DOUBLE, ZONE(max_force_n), FORCE_RANGE, NULL, true, NULL},
        {SECTION_ZONE, "HardForceN", KEY_DOUBLE, ZONE(hard_force_n), FORCE_RANGE, "0", false, NULL},
        {SECTION_ZONE, "UntrainedMaxForceN", KEY_DOUBLE, ZONE(untrained_max_force_n), FORCE_RANGE, NULL,
         true, NULL},
        {SECTION_ZONE, "AllowedTechniques", KEY_TECHNIQUES, ZONE(allowed_techniques), NO_RANGE, "", false,
         NULL},
        {SECTION_ZONE, "UntrainedTechniques", KEY_TECHNIQUES, ZONE(untrained_techniques), NO_RANGE, "",
         false, NULL},

        {SECTION_LIMITS, "TrackLengthMm", KEY_DOUBLE, LIMITS(track_length_mm), 1, 5000, "700", false, NULL},
        {SECTION_LIMITS, "ShoulderMinMm", KEY_DOUBLE, LIMITS(shoulder_min_mm), 0, 5000, "100", false, NULL},
        {SECTION_LIMITS, "ShoulderMaxMm", KEY_DOUBLE, LIMITS(shoulder_max_mm), 0, 5000, "300", false, NULL},
        {SECTION_LIMITS, "MaxForceN", KEY_DOUBLE, LIMITS(max_force_n), 1, 1000, "80", false, NULL},
        {SECTION_LIMITS, "HardForceN", KEY_DOUBLE, LIMITS(hard_force_n), 1, 1000, "150", false, NULL},
        {SECTION_LIMITS, "OverLimitWindowMs", KEY_UINT, LIMITS(over_limit_window_ms), 1, 10000, "200", false,
         NULL},
        {SECTION_LIMITS, "MaxSpeedMmS", KEY_DOUBLE, LIMITS(max_speed_mm_s), 1, 1000, "100", false, NULL},
        {SECTION_LIMITS, "MaxSessionMinutes", KEY_MINUTES, LIMITS(max_session_s), 1, 240, "20", false, NULL},
        {SECTION_LIMITS, "HeatMaxTempC", KEY_DOUBLE, LIMITS(heat_max_temp_c), 20, 70, "42", false, NULL},
        {SECTION_LIMITS, "HeatMaxOnMinutes", KEY_MINUTES, LIMITS(heat_max_on_s), 1, 240, "15", false, NULL},
        {SECTION_LIMITS, "AirbagMaxKPa", KEY_DOUBLE, LIMITS(airbag_max_kpa), 1, 200, "30", false, NULL},
        {SECTION_LIMITS, "ForceMaxRateNPerS", KEY_DOUBLE, LIMITS(force_max_rate_n_s), 1, 100000, "2000",
         false, NULL},
        {SECTION_LIMITS, "StuckMs", KEY_UINT, LIMITS(stuck_ms), 100, 600000, "2000", false, NULL},
        {SECTION_LIMITS, "RetractMm", KEY_DOUBLE, LIMITS(retract_mm), 0, 500, "30", false, NULL},

        {SECTION_UNTRAINED, "Enabled", KEY_BOOL, UNTRAINED(enabled), NO_RANGE, "no", false, NULL},
        {SECTION_UNTRAINED, "MaxIntensity", KEY_UINT, UNTRAINED(max_intensity), 1, 100, "3", false, NULL},
        {SECTION_UNTRAINED, "MaxForceN", KEY_DOUBLE, UNTRAINED(max_force_n), 1, 1000, "50", false, NULL},
        {SECTION_UNTRAINED, "MaxSpeedMmS", KEY_DOUBLE, UNTRAINED(max_speed_mm_s), 1, 1000, "60", false,
         NULL},
};

const size_t config_keys_count = ELEMENTSOF(config_keys);

const ConfigKey *config_key_find(SectionKind section, const char *key) {
        for (size_t i = 0; i < config_keys_count; i++)
                if (config_keys[i].section == section && streq(config_keys[i].key, key))
                        return &config_keys[i];
        return NULL;
}

void *config_section_base(Config *c, SectionKind kind, const char *name) {
        switch (kind) {
        case SECTION_CHAIR:
                return c;
        case SECTION_MODBUS:
                return &c->modbus;
        case SECTION_GPIO:
                return &c->gpio;
        case SECTION_LIMITS:
                return &c->limits;
        case SECTION_UNTRAINED:
                return &c->untrained;
        case SECTION_BOARD: {
                int i = config_board_index(c, name);
                return i < 0 ? NULL : &c->boards[i];
        }
        case SECTION_SIGNAL:
                return (void *)config_signal(c, signal_id_from_string(name));
        case SECTION_ZONE:
                return (void *)config_zone(c, name);
        case SECTION_LINE: {
                LineId id = line_id_from_string(name);
                return id < 0 || !c->gpio.lines[id].configured ? NULL : &c->gpio.lines[id];
        }
        default:
                return NULL;
        }
}

#define FIELD(base, k, type) ((type *)((char *)(base) + (k)->offset))
#define CFIELD(base, k, type) ((const type *)((const char *)(base) + (k)->offset))

static int parse_uint(const char *s, unsigned long long *ret) {
        char *end;

        /* strtoull() accepts "-1" and leading blanks; a config must not. */
        if (*s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        *ret = strtoull(s, &end, 10);
        if (errno != 0 || *end != '\0')
                return errno == ERANGE ? -ERANGE : -EINVAL;
        return 0;
}

static int parse_double(const char *s, double *ret) {
        char *end;

        if (!strchr("+-.0123456789", *s))
                return -EINVAL;
        errno = 0;
        *ret = strtod(s, &end);
        if (errno != 0 || *end != '\0' || !isfinite(*ret))
                return -EINVAL;
        return 0;
}

static int parse_bool(const char *s, bool *ret) {
        static const char *const yes[] = {"yes", "true", "on", "1"}, *const no[] = {"no", "false", "off",
                                                                                    "0"};

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(s, yes[i]) == 0)
                        return *ret = true, 0;
                if (strcasecmp(s, no[i]) == 0)
                        return *ret = false, 0;
        }
        return -EINVAL;
}

static int parse_techniques(const char *s, unsigned *ret, char *why, size_t why_size) {
        _cleanup_free_ char *copy = strdup(s);
        unsigned mask = 0;
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                Technique t = technique_from_string(w);
                if (t < 0) {
                        snprintf(why, why_size, "unknown technique '%s'", w);
                        return -EINVAL;
                }
                mask |= 1u << t;
        }
        *ret = mask;
        return 0;
}

static int check_range(const ConfigKey *k, double v, char *why, size_t why_size) {
        if (v >= k->min && v <= k->max)
                return 0;
        snprintf(why, why_size, "value out of range (%.10g..%.10g)", k->min, k->max);
        return -ERANGE;
}

static int parse_number(const ConfigKey *k, void *base, const char *value, char *why, size_t why_size) {
        unsigned long long u;
        double d;
        int r;

        if (k->type == KEY_DOUBLE) {
                if (parse_double(value, &d) < 0)
                        return snprintf(why, why_size, "not a number"), -EINVAL;
                r = check_range(k, d, why, why_size);
                if (r < 0)
                        return r;
                *FIELD(base, k, double) = d;
                return 0;
        }

        r = parse_uint(value, &u);
        if (r == -EINVAL)
                return snprintf(why, why_size, "not a number"), -EINVAL;
        r = check_range(k, r < 0 ? INFINITY : (double)u, why, why_size);
        if (r < 0)
                return r;
        if (k->type == KEY_PORT)
                *FIELD(base, k, uint16_t) = (uint16_t)u;
        else if (k->type == KEY_INT_OPT)
                *FIELD(base, k, int) = (int)u;
        else if (k->type == KEY_MINUTES)
                *FIELD(base, k, unsigned) = (unsigned)u * 60;
        else
                *FIELD(base, k, unsigned) = (unsigned)u;
        return 0;
}

static int parse_string(const ConfigKey *k, void *base, const char *value, char *why, size_t why_size) {
        char **p = FIELD(base, k, char *), *copy = NULL;

        if (k->type == KEY_PATH && *value && *value != '/') {
                snprintf(why, why_size, "not an absolute path");
                return -EINVAL;
        }
        if (*value) {
                copy = strdup(value);
                if (!copy)
                        return -ENOMEM;
        }
        free(*p);
        *p = copy;
        return 0;
}

static int key_parse_value(const ConfigKey *k, void *base, const char *value, char *why, size_t why_size) {
        bool b;
        int v;

        switch (k->type) {
        case KEY_UINT:
        case KEY_PORT:
        case KEY_INT_OPT:
        case KEY_MINUTES:
        case KEY_DOUBLE:
                return parse_number(k, base, value, why, why_size);
        case KEY_BOOL:
                if (parse_bool(value, &b) < 0)
                        return snprintf(why, why_size, "not a boolean (yes/no)"), -EINVAL;
                *FIELD(base, k, bool) = b;
                return 0;
        case KEY_STRING:
        case KEY_PATH:
                return parse_string(k, base, value, why, why_size);
        case KEY_ENUM:
                v = k->names->from_string(value);
                if (v < 0)
                        return snprintf(why, why_size, "unknown value (expected %s)", k->names->list),
                               -EINVAL;
                *FIELD(base, k, int) = v;
                return 0;
        case KEY_TECHNIQUES:
                return parse_techniques(value, FIELD(base, k, unsigned), why, why_size);
        default:
                return snprintf(why, why_size, "internal error: unhandled key type"), -EINVAL;
        }
}

int config_key_parse(const ConfigKey *k, void *base, const char *value, char *why, size_t why_size) {
        if (*value == '\0' && k->type != KEY_STRING && k->type != KEY_PATH) {
                /* An empty assignment undoes earlier ones, as in systemd: "HeartbeatRegister=" in a drop-in
                 * removes the heartbeat the main file configured. */
                config_key_set_default(k, base);
                return 0;
        }
        return key_parse_value(k, base, value, why, why_size);
}

void config_key_set_default(const ConfigKey *k, void *base) {
        char why[128];

        if (k->def) {
                /* Defaults are written in config syntax and parse by construction. */
                (void)key_parse_value(k, base, k->def, why, sizeof(why));
                return;
        }
        switch (k->type) {
        case KEY_INT_OPT:
                *FIELD(base, k, int) = -1;
                break;
        case KEY_DOUBLE:
                *FIELD(base, k, double) = NAN;
                break;
        case KEY_STRING:
        case KEY_PATH:
                free(*FIELD(base, k, char *));
                *FIELD(base, k, char *) = NULL;
                break;
        default:
                /* required, or computed by the validator */
                break;
        }
}

static void format_techniques(unsigned mask, char *buf, size_t size) {
        size_t n = 0;

        buf[0] = '\0';
        for (int t = 0; t < _TECHNIQUE_MAX && n < size; t++)
                if (mask & (1u << t))
                        n += snprintf(buf + n, size - n, "%s%s", n ? " " : "", technique_to_string(t));
}

bool config_key_format(const Config *c, const ConfigKey *k, const void *base, char *buf, size_t size) {
        const char *s;
        double d;
        int i;

        switch (k->type) {
        case KEY_UINT:
                return snprintf(buf, size, "%u", *CFIELD(base, k, unsigned)), true;
        case KEY_MINUTES:
                return snprintf(buf, size, "%u", *CFIELD(base, k, unsigned) / 60), true;
        case KEY_PORT:
                return snprintf(buf, size, "%u", (unsigned)*CFIELD(base, k, uint16_t)), true;
        case KEY_INT_OPT:
                i = *CFIELD(base, k, int);
                return i >= 0 ? (snprintf(buf, size, "%d", i), true) : false;
        case KEY_DOUBLE:
                d = *CFIELD(base, k, double);
                return isfinite(d) ? (snprintf(buf, size, "%.10g", d), true) : false;
        case KEY_BOOL:
                return snprintf(buf, size, "%s", *CFIELD(base, k, bool) ? "yes" : "no"), true;
        case KEY_STRING:
        case KEY_PATH:
                s = *CFIELD(base, k, char *);
                return s ? (snprintf(buf, size, "%s", s), true) : false;
        case KEY_ENUM:
                s = k->names->to_string(*CFIELD(base, k, int));
                return s ? (snprintf(buf, size, "%s", s), true) : false;
        case KEY_TECHNIQUES:
                return format_techniques(*CFIELD(base, k, unsigned), buf, size), true;
        case KEY_BOARD:
                i = (int)*CFIELD(base, k, unsigned);
                return i < (int)c->n_boards ? (snprintf(buf, size, "%s", c->boards[i].name), true) : false;
        default:
                return false;
        }
}
