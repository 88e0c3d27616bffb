/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The OEM's description of the chair, parsed from systemd-style INI files (libinih) with drop-ins.
 * Pure data: no hardware or bus headers, so the safety supervisor and chairctl can include it.
 * Every key is documented in docs/config.md. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "chair.h"

/* Search order (DESIGN §3). Paths are relative to the root (default "/"), so tests and the demo point
 * the daemon at a tree of their own with --root. */
#define CONFIG_MAIN_FILE "etc/chaird/chaird.conf"
#define CONFIG_DROPIN_DIRS { "etc/chaird/chaird.conf.d", "run/chaird/chaird.conf.d", "usr/lib/chaird/chaird.conf.d" }
#define CONFIG_PROGRAM_DIRS { "etc/chaird/programs", "usr/share/chaird/programs" }

typedef enum TransportKind {
        TRANSPORT_TCP,
        TRANSPORT_RTU,
        _TRANSPORT_MAX,
        _TRANSPORT_INVALID = -EINVAL,
} TransportKind;

typedef enum Parity {
        PARITY_NONE,
        PARITY_EVEN,
        PARITY_ODD,
        _PARITY_MAX,
        _PARITY_INVALID = -EINVAL,
} Parity;

typedef enum RegisterKind {
        REGISTER_COIL,     /* FC1 read, FC5/FC15 write; 1 bit */
        REGISTER_DISCRETE, /* FC2 read only; 1 bit */
        REGISTER_INPUT,    /* FC4 read only; 16 bit */
        REGISTER_HOLDING,  /* FC3 read, FC6/FC16 write; 16 bit */
        _REGISTER_KIND_MAX,
        _REGISTER_KIND_INVALID = -EINVAL,
} RegisterKind;

typedef enum ValueType {
        VALUE_BOOL, /* coils and discrete inputs */
        VALUE_U16,
        VALUE_S16,
        VALUE_U32, /* two registers, high word first */
        VALUE_S32, /* two registers, high word first */
        _VALUE_TYPE_MAX,
        _VALUE_TYPE_INVALID = -EINVAL,
} ValueType;

typedef enum GpioBackend {
        GPIO_BACKEND_NONE,  /* no lines: only for bench setups; safety then refuses to run programs */
        GPIO_BACKEND_GPIOD, /* libgpiod 1.6 on a kernel gpiochip */
        GPIO_BACKEND_SIM,   /* chair-sim's virtual lines over its Unix socket */
        _GPIO_BACKEND_MAX,
        _GPIO_BACKEND_INVALID = -EINVAL,
} GpioBackend;

typedef enum LineBias {
        LINE_BIAS_AS_IS,
        LINE_BIAS_DISABLE,
        LINE_BIAS_PULL_UP,
        LINE_BIAS_PULL_DOWN,
        _LINE_BIAS_MAX,
        _LINE_BIAS_INVALID = -EINVAL,
} LineBias;

/* Where a value came from, for error messages and --check-config. */
typedef struct ConfigOrigin {
        const char *file; /* points into Config.files */
        unsigned line;
} ConfigOrigin;

/* One merged "Key=Value" of the effective configuration (last writer wins). */
typedef struct ConfigEntry {
        char *section; /* e.g. "Board roller" */
        char *key;
        char *value;
        ConfigOrigin origin;
} ConfigEntry;

typedef struct ModbusConfig {
        TransportKind transport;
        /* TCP */
        char *host;
        uint16_t port;
        /* RTU */
        char *device;
        unsigned baud;
        Parity parity;
        unsigned data_bits; /* 7 or 8 */
        unsigned stop_bits; /* 1 or 2 */
        unsigned inter_frame_gap_us; /* 0 = 3.5 character times from the baud rate */
        unsigned reconnect_min_ms; /* backoff after a failed connect, doubling up to ..._max_ms */
        unsigned reconnect_max_ms;
} ModbusConfig;

typedef struct BoardConfig {
        char *name;                   /* from "[Board NAME]" */
        unsigned slave_id;            /* 1..247 */
        unsigned response_timeout_ms; /* per request; the longest a dead board holds the loop */
        unsigned poll_interval_ms;    /* 0 = every control cycle */
        bool required;                /* a required board that is lost triggers e-stop (SR comm-loss) */
        unsigned max_missed_polls;    /* consecutive failed polls before it counts as lost; default 3 */
        unsigned comm_loss_ms;        /* or no good poll for this long; default 100 */
        int heartbeat_register;       /* holding register written every cycle; -1 = none */
        int comm_timeout_register;    /* holding register: board-side timeout in ms, written at connect; -1 */
        unsigned comm_timeout_ms;     /* value written there */
        unsigned read_gap;            /* unmapped registers that may be read through to merge requests */
        ConfigOrigin origin;
} BoardConfig;

typedef struct SignalConfig {
        SignalId id;
        unsigned board; /* index into Config.boards */
        RegisterKind kind;
        unsigned address;
        ValueType type;
        double scale;  /* value = raw * scale + offset */
        double offset;
        char *unit;
        bool has_range;
        double min, max; /* valid range in engineering units; outside → implausible (inputs) / refused (outputs) */
        ConfigOrigin origin;
} SignalConfig;

typedef struct LineConfig {
        bool configured;
        char *name;  /* kernel/sim line name, or NULL when given by offset */
        int offset;  /* -1 when given by name */
        bool active_low;
        LineBias bias;
        unsigned debounce_ms; /* applied to releases only: a press always acts at once */
        ConfigOrigin origin;
} LineConfig;

typedef struct GpioConfig {
        GpioBackend backend;
        char *chip;       /* gpiod: "gpiochip0", a path, or a chip label */
        char *sim_socket; /* sim: path of chair-sim's GPIO socket */
        unsigned heartbeat_period_ms; /* LINE_HEARTBEAT toggle period; 0 = off */
        LineConfig lines[_LINE_MAX];
} GpioConfig;

/* A named body zone on the roller track, relative to the shoulder position (mm, + = toward the seat). */
typedef struct ZoneConfig {
        char *name; /* "neck", "shoulders", "upper-back", "mid-back", "lumbar", ... */
        double from_mm, to_mm;
        double max_force_n;           /* commanded force is clamped to this */
        double hard_force_n;          /* measured force above this → e-stop; 0 = only the global hard limit */
        double untrained_max_force_n; /* clamp in untrained mode */
        bool neck;                    /* the neck zone: the stricter rules apply */
        unsigned allowed_techniques;  /* bit (1 << Technique); 0 = all */
        unsigned untrained_techniques; /* bit mask allowed in untrained mode; 0 = none */
        ConfigOrigin origin;
} ZoneConfig;

typedef struct LimitsConfig {
        double track_length_mm;       /* roller travel: 0 (head end) .. track_length_mm */
        double shoulder_min_mm;       /* the shoulder positions the OEM allows a scan to find */
        double shoulder_max_mm;
        double max_force_n;           /* global commanded force cap (OEM cap) */
        double hard_force_n;          /* global measured force → e-stop */
        unsigned over_limit_window_ms; /* measured force over a zone limit this long → retract */
        double max_speed_mm_s;
        unsigned max_session_s;
        double heat_max_temp_c;
        unsigned heat_max_on_s;
        double airbag_max_kpa;
        double force_max_rate_n_s;    /* plausibility: faster change than this → fault */
        unsigned stuck_ms;            /* plausibility: an input that never changes while moving */
        double retract_mm;            /* how far to back off after an over-limit window */
} LimitsConfig;

typedef struct UntrainedConfig {
        bool enabled;
        unsigned max_intensity; /* 1..10 */
        double max_force_n;     /* force cap outside the neck in untrained mode */
        double max_speed_mm_s;
} UntrainedConfig;

typedef struct Config {
        char *root; /* "/" or a test tree */
        unsigned control_rate_hz; /* default 100 */
        unsigned max_intensity;   /* intensity levels offered: 1..max_intensity */
        char *state_dir;          /* default <root>/var/lib/chaird */
        ModbusConfig modbus;
        BoardConfig *boards;
        size_t n_boards;
        SignalConfig *signals; /* at most one per SignalId */
        size_t n_signals;
        GpioConfig gpio;
        ZoneConfig *zones;
        size_t n_zones;
        LimitsConfig limits;
        UntrainedConfig untrained;

        /* the effective key/value list, in section then file order, for --check-config */
        ConfigEntry *entries;
        size_t n_entries;
        char **files; /* every file read, in the order read */
        size_t n_files;
} Config;

/* Reads <root>/etc/chaird/chaird.conf and the drop-ins (DESIGN §3 precedence), validates the whole
 * chair and returns it. On error logs nothing: writes one message naming file:line and key into
 * ret_error (caller frees) and returns a negative errno; *ret is untouched. */
int config_load(const char *root, Config **ret, char **ret_error);

/* Same, from explicit files (main file first, then drop-ins in the order given): for unit tests. */
int config_load_files(char **files, size_t n_files, Config **ret, char **ret_error);

Config *config_free(Config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Config *, config_free);

/* Prints the merged config, each value with "# file:line" it came from. */
void config_dump(const Config *c, FILE *f);

/* Lookups; NULL / -ENOENT when not configured. */
const SignalConfig *config_signal(const Config *c, SignalId id);
int config_board_index(const Config *c, const char *name);
const ZoneConfig *config_zone(const Config *c, const char *name);
const ZoneConfig *config_neck_zone(const Config *c);

const char *transport_kind_to_string(TransportKind t);
const char *register_kind_to_string(RegisterKind k);
RegisterKind register_kind_from_string(const char *s);
const char *value_type_to_string(ValueType t);
unsigned value_type_registers(ValueType t); /* 1 or 2 */

/* Engineering value <-> raw registers, with scale/offset/type. Pure; used by the hardware layer and
 * unit tested. encode fails with -ERANGE when the value does not fit the type. */
double signal_decode(const SignalConfig *s, const uint16_t *regs);
int signal_encode(const SignalConfig *s, double value, uint16_t *ret_regs);
