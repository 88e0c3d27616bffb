/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tables behind common/chair.h: names, directions and safe values of every logical signal and line. */
#include <string.h>

#include "chair.h"

typedef struct SignalInfo {
        const char *name;
        SignalDirection direction;
        bool required;
        double safe_value;
} SignalInfo;

static const SignalInfo signal_table[_SIGNAL_MAX] = {
        [SIGNAL_ROLLER_POSITION] = { "roller.position", SIGNAL_IN, true, 0 },
        [SIGNAL_ROLLER_SPEED] = { "roller.speed", SIGNAL_IN, false, 0 },
        [SIGNAL_ROLLER_FORCE] = { "roller.force", SIGNAL_IN, true, 0 },
        [SIGNAL_ROLLER_STATUS] = { "roller.status", SIGNAL_IN, false, 0 },
        [SIGNAL_AIRBAG_SHOULDERS_PRESSURE] = { "airbag.shoulders.pressure", SIGNAL_IN, false, 0 },
        [SIGNAL_AIRBAG_ARMS_PRESSURE] = { "airbag.arms.pressure", SIGNAL_IN, false, 0 },
        [SIGNAL_AIRBAG_HIPS_PRESSURE] = { "airbag.hips.pressure", SIGNAL_IN, false, 0 },
        [SIGNAL_AIRBAG_LEGS_PRESSURE] = { "airbag.legs.pressure", SIGNAL_IN, false, 0 },
        [SIGNAL_AIRBAG_STATUS] = { "airbag.status", SIGNAL_IN, false, 0 },
        [SIGNAL_HEAT_TEMPERATURE] = { "heat.temperature", SIGNAL_IN, false, 0 },
        [SIGNAL_RECLINE_ANGLE] = { "recline.angle", SIGNAL_IN, false, 0 },
        [SIGNAL_BASE_STATUS] = { "base.status", SIGNAL_IN, false, 0 },
        [SIGNAL_ROLLER_TARGET] = { "roller.target", SIGNAL_OUT, true, 0 },
        [SIGNAL_ROLLER_SPEED_LIMIT] = { "roller.speed-limit", SIGNAL_OUT, false, 0 },
        [SIGNAL_ROLLER_FORCE_SETPOINT] = { "roller.force-setpoint", SIGNAL_OUT, false, 0 },
        [SIGNAL_ROLLER_TECHNIQUE] = { "roller.technique", SIGNAL_OUT, false, TECHNIQUE_NONE },
        [SIGNAL_ROLLER_WIDTH] = { "roller.width", SIGNAL_OUT, false, 0 },
        [SIGNAL_ROLLER_ENABLE] = { "roller.enable", SIGNAL_OUT, true, 0 },
        [SIGNAL_AIRBAG_SHOULDERS_COMMAND] = { "airbag.shoulders.command", SIGNAL_OUT, false, AIRBAG_VENT },
        [SIGNAL_AIRBAG_ARMS_COMMAND] = { "airbag.arms.command", SIGNAL_OUT, false, AIRBAG_VENT },
        [SIGNAL_AIRBAG_HIPS_COMMAND] = { "airbag.hips.command", SIGNAL_OUT, false, AIRBAG_VENT },
        [SIGNAL_AIRBAG_LEGS_COMMAND] = { "airbag.legs.command", SIGNAL_OUT, false, AIRBAG_VENT },
        [SIGNAL_HEAT_SETPOINT] = { "heat.setpoint", SIGNAL_OUT, false, 0 },
        [SIGNAL_HEAT_ENABLE] = { "heat.enable", SIGNAL_OUT, false, 0 },
        [SIGNAL_RECLINE_TARGET] = { "recline.target", SIGNAL_OUT, false, 0 },
        [SIGNAL_RECLINE_ENABLE] = { "recline.enable", SIGNAL_OUT, false, 0 },
};

static const char *const line_table[_LINE_MAX] = {
        [LINE_ESTOP] = "estop",
        [LINE_INTERLOCK] = "interlock",
        [LINE_SEAT] = "seat",
        [LINE_POWER_RELAY] = "power-relay",
        [LINE_HEARTBEAT] = "heartbeat",
};

static const char *const technique_table[_TECHNIQUE_MAX] = {
        [TECHNIQUE_NONE] = "none",       [TECHNIQUE_KNEAD] = "knead",     [TECHNIQUE_TAP] = "tap",
        [TECHNIQUE_KNEAD_TAP] = "knead-and-tap", [TECHNIQUE_PRESS] = "press", [TECHNIQUE_ROLLING] = "rolling",
        [TECHNIQUE_GLIDE] = "long-glide",
};

const char *signal_id_to_string(SignalId id) {
        if (id < 0 || id >= _SIGNAL_MAX)
                return NULL;
        return signal_table[id].name;
}

SignalId signal_id_from_string(const char *s) {
        if (!s)
                return _SIGNAL_INVALID;
        for (int i = 0; i < _SIGNAL_MAX; i++)
                if (strcmp(s, signal_table[i].name) == 0)
                        return (SignalId) i;
        return _SIGNAL_INVALID;
}

SignalDirection signal_id_direction(SignalId id) {
        return signal_table[id].direction;
}

bool signal_id_required(SignalId id) {
        return signal_table[id].required;
}

double signal_id_safe_value(SignalId id) {
        return signal_table[id].safe_value;
}

const char *line_id_to_string(LineId id) {
        if (id < 0 || id >= _LINE_MAX)
                return NULL;
        return line_table[id];
}

LineId line_id_from_string(const char *s) {
        if (!s)
                return _LINE_INVALID;
        for (int i = 0; i < _LINE_MAX; i++)
                if (strcmp(s, line_table[i]) == 0)
                        return (LineId) i;
        return _LINE_INVALID;
}

bool line_id_is_output(LineId id) {
        return id == LINE_POWER_RELAY || id == LINE_HEARTBEAT;
}

const char *technique_to_string(Technique t) {
        if (t < 0 || t >= _TECHNIQUE_MAX)
                return NULL;
        return technique_table[t];
}

Technique technique_from_string(const char *s) {
        if (!s)
                return _TECHNIQUE_INVALID;
        for (int i = 0; i < _TECHNIQUE_MAX; i++)
                if (strcmp(s, technique_table[i]) == 0)
                        return (Technique) i;
        return _TECHNIQUE_INVALID;
}

void chair_outputs_safe(ChairOutputs *o) {
        *o = (ChairOutputs){};
        for (int i = 0; i < _SIGNAL_MAX; i++)
                o->value[i] = signal_table[i].safe_value;
        for (int i = 0; i < _LINE_MAX; i++)
                o->line[i] = false;
}
