/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The chair's logical vocabulary: the signals (Modbus values) and lines (GPIO) the daemon knows by
 * name. OEM config maps each name to hardware; safety, programs and the manager only see these ids.
 * No hardware or bus headers here: the safety supervisor includes this file. */
#pragma once

#include <stdbool.h>

#include "macro.h"
#include "time-util.h"

typedef enum SignalDirection {
        SIGNAL_IN,  /* read from a board every poll */
        SIGNAL_OUT, /* written to a board every cycle */
} SignalDirection;

/* Order matters only for tables; names are the config contract (see docs/config.md). */
typedef enum SignalId {
        /* inputs */
        SIGNAL_ROLLER_POSITION,       /* "roller.position"  mm from the top of the track (head end) */
        SIGNAL_ROLLER_SPEED,          /* "roller.speed"     mm/s, signed, + = toward the seat */
        SIGNAL_ROLLER_FORCE,          /* "roller.force"     N, measured contact force */
        SIGNAL_ROLLER_STATUS,         /* "roller.status"    board status bits */
        SIGNAL_AIRBAG_SHOULDERS_PRESSURE, /* "airbag.shoulders.pressure" kPa */
        SIGNAL_AIRBAG_ARMS_PRESSURE,
        SIGNAL_AIRBAG_HIPS_PRESSURE,
        SIGNAL_AIRBAG_LEGS_PRESSURE,
        SIGNAL_AIRBAG_STATUS,         /* "airbag.status" */
        SIGNAL_HEAT_TEMPERATURE,      /* "heat.temperature" °C */
        SIGNAL_RECLINE_ANGLE,         /* "recline.angle" degrees */
        SIGNAL_BASE_STATUS,           /* "base.status" */
        /* outputs */
        SIGNAL_ROLLER_TARGET,         /* "roller.target"          mm */
        SIGNAL_ROLLER_SPEED_LIMIT,    /* "roller.speed-limit"     mm/s */
        SIGNAL_ROLLER_FORCE_SETPOINT, /* "roller.force-setpoint"  N */
        SIGNAL_ROLLER_TECHNIQUE,      /* "roller.technique"       Technique code */
        SIGNAL_ROLLER_WIDTH,          /* "roller.width"           mm */
        SIGNAL_ROLLER_ENABLE,         /* "roller.enable"          0/1 */
        SIGNAL_AIRBAG_SHOULDERS_COMMAND, /* "airbag.shoulders.command" AirbagCommand */
        SIGNAL_AIRBAG_ARMS_COMMAND,
        SIGNAL_AIRBAG_HIPS_COMMAND,
        SIGNAL_AIRBAG_LEGS_COMMAND,
        SIGNAL_HEAT_SETPOINT,         /* "heat.setpoint" °C */
        SIGNAL_HEAT_ENABLE,           /* "heat.enable" 0/1 */
        SIGNAL_RECLINE_TARGET,        /* "recline.target" degrees */
        SIGNAL_RECLINE_ENABLE,        /* "recline.enable" 0/1 */
        _SIGNAL_MAX,
        _SIGNAL_INVALID = -EINVAL,
} SignalId;

typedef enum LineId {
        LINE_ESTOP,       /* "estop"      in:  active = stop requested (pressed or wire broken) */
        LINE_INTERLOCK,   /* "interlock"  in:  active = untrained-mode key engaged */
        LINE_SEAT,        /* "seat"       in:  active = someone sitting */
        LINE_POWER_RELAY, /* "power-relay" out: active = actuator power enabled; safe value inactive */
        LINE_HEARTBEAT,   /* "heartbeat"  out: toggled while healthy, for an external watchdog */
        _LINE_MAX,
        _LINE_INVALID = -EINVAL,
} LineId;

typedef enum AirbagCommand {
        AIRBAG_VENT = 0, /* safe value: never leave a person clamped */
        AIRBAG_HOLD = 1,
        AIRBAG_INFLATE = 2,
        _AIRBAG_COMMAND_MAX,
} AirbagCommand;

typedef enum Technique {
        TECHNIQUE_NONE = 0,
        TECHNIQUE_KNEAD = 1,
        TECHNIQUE_TAP = 2,
        TECHNIQUE_KNEAD_TAP = 3,
        TECHNIQUE_PRESS = 4,
        TECHNIQUE_ROLLING = 5,
        TECHNIQUE_GLIDE = 6,
        _TECHNIQUE_MAX,
        _TECHNIQUE_INVALID = -EINVAL,
} Technique;

const char *signal_id_to_string(SignalId id) _pure_;
SignalId signal_id_from_string(const char *s) _pure_;
SignalDirection signal_id_direction(SignalId id) _pure_;
bool signal_id_required(SignalId id) _pure_; /* the daemon refuses a config without it */
double signal_id_safe_value(SignalId id) _pure_; /* value written in the safe state */

const char *line_id_to_string(LineId id) _pure_;
LineId line_id_from_string(const char *s) _pure_;
bool line_id_is_output(LineId id) _pure_;

const char *technique_to_string(Technique t) _pure_;
Technique technique_from_string(const char *s) _pure_;

/* One snapshot of everything the daemon knows about the chair at one instant. Filled by the hardware
 * layer, read by safety and programs. valid[] is false when the signal is not configured or its board
 * did not answer this cycle (the value then holds the last good reading). */
typedef struct ChairInputs {
        usec_t now; /* CLOCK_MONOTONIC of this cycle */
        double value[_SIGNAL_MAX];
        bool valid[_SIGNAL_MAX];
        usec_t updated[_SIGNAL_MAX]; /* when value was last read good */
        bool line[_LINE_MAX];       /* logical (active-level applied, debounced) input line states */
        bool line_valid[_LINE_MAX]; /* configured and readable */
} ChairInputs;

/* The outputs the daemon wants (before safety) or allows (after). Only SIGNAL_OUT entries are used. */
typedef struct ChairOutputs {
        double value[_SIGNAL_MAX];
        bool line[_LINE_MAX]; /* only output lines are used */
} ChairOutputs;

/* Fills every output with its safe value: relay off, motors disabled, heat off, airbags venting. */
void chair_outputs_safe(ChairOutputs *o);
