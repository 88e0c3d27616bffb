/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Names of the config enums, and the conversion between a signal's engineering value and its raw Modbus
 * registers (scale, offset, 16/32-bit, signedness). Pure: the hardware layer links this on its own. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "config-internal.h"
#include "config.h"

static const char *const transport_kind_table[_TRANSPORT_MAX] = {
        [TRANSPORT_TCP] = "tcp",
        [TRANSPORT_RTU] = "rtu",
};

static const char *const parity_table[_PARITY_MAX] = {
        [PARITY_NONE] = "none",
        [PARITY_EVEN] = "even",
        [PARITY_ODD] = "odd",
};

static const char *const register_kind_table[_REGISTER_KIND_MAX] = {
        [REGISTER_COIL] = "coil",
        [REGISTER_DISCRETE] = "discrete",
        [REGISTER_INPUT] = "input",
        [REGISTER_HOLDING] = "holding",
};

static const char *const value_type_table[_VALUE_TYPE_MAX] = {
        [VALUE_BOOL] = "bool", [VALUE_U16] = "u16", [VALUE_S16] = "s16",
        [VALUE_U32] = "u32",   [VALUE_S32] = "s32",
};

static const char *const gpio_backend_table[_GPIO_BACKEND_MAX] = {
        [GPIO_BACKEND_NONE] = "none",
        [GPIO_BACKEND_GPIOD] = "gpiod",
        [GPIO_BACKEND_SIM] = "sim",
};

static const char *const line_bias_table[_LINE_BIAS_MAX] = {
        [LINE_BIAS_AS_IS] = "as-is",
        [LINE_BIAS_DISABLE] = "disable",
        [LINE_BIAS_PULL_UP] = "pull-up",
        [LINE_BIAS_PULL_DOWN] = "pull-down",
};

static const char *table_to_string(const char *const *table, int n, int v) {
        if (v < 0 || v >= n)
                return NULL;
        return table[v];
}

static int table_from_string(const char *const *table, int n, const char *s) {
        if (!s)
                return -EINVAL;
        for (int i = 0; i < n; i++)
                if (table[i] && streq(table[i], s))
                        return i;
        return -EINVAL;
}

const char *transport_kind_to_string(TransportKind t) {
        return table_to_string(transport_kind_table, _TRANSPORT_MAX, t);
}

TransportKind transport_kind_from_string(const char *s) {
        return table_from_string(transport_kind_table, _TRANSPORT_MAX, s);
}

const char *parity_to_string(Parity p) {
        return table_to_string(parity_table, _PARITY_MAX, p);
}

Parity parity_from_string(const char *s) {
        return table_from_string(parity_table, _PARITY_MAX, s);
}

const char *register_kind_to_string(RegisterKind k) {
        return table_to_string(register_kind_table, _REGISTER_KIND_MAX, k);
}

RegisterKind register_kind_from_string(const char *s) {
        return table_from_string(register_kind_table, _REGISTER_KIND_MAX, s);
}

const char *value_type_to_string(ValueType t) {
        return table_to_string(value_type_table, _VALUE_TYPE_MAX, t);
}

ValueType value_type_from_string(const char *s) {
        return table_from_string(value_type_table, _VALUE_TYPE_MAX, s);
}

const char *gpio_backend_to_string(GpioBackend b) {
        return table_to_string(gpio_backend_table, _GPIO_BACKEND_MAX, b);
}

GpioBackend gpio_backend_from_string(const char *s) {
        return table_from_string(gpio_backend_table, _GPIO_BACKEND_MAX, s);
}

const char *line_bias_to_string(LineBias b) {
        return table_to_string(line_bias_table, _LINE_BIAS_MAX, b);
}

LineBias line_bias_from_string(const char *s) {
        return table_from_string(line_bias_table, _LINE_BIAS_MAX, s);
}

unsigned value_type_registers(ValueType t) {
        return t == VALUE_U32 || t == VALUE_S32 ? 2 : 1;
}

/* The raw integer the registers hold, before scale and offset. 32-bit values are high word first (the
 * common Modbus convention, and what chair-sim serves). */
static double signal_raw_decode(ValueType t, const uint16_t *regs) {
        uint32_t u32;

        switch (t) {
        case VALUE_BOOL:
                return regs[0] != 0;
        case VALUE_U16:
                return regs[0];
        case VALUE_S16:
                return (int16_t)regs[0];
        case VALUE_U32:
        case VALUE_S32:
                u32 = (uint32_t)regs[0] << 16 | regs[1];
                return t == VALUE_U32 ? (double)u32 : (double)(int32_t)u32;
        default:
                return NAN;
        }
}

double signal_decode(const SignalConfig *s, const uint16_t *regs) {
        return signal_raw_decode(s->type, regs) * s->scale + s->offset;
}

static int signal_raw_range(ValueType t, double *ret_min, double *ret_max) {
        switch (t) {
        case VALUE_BOOL:
                *ret_min = 0, *ret_max = 1;
                return 0;
        case VALUE_U16:
                *ret_min = 0, *ret_max = UINT16_MAX;
                return 0;
        case VALUE_S16:
                *ret_min = INT16_MIN, *ret_max = INT16_MAX;
                return 0;
        case VALUE_U32:
                *ret_min = 0, *ret_max = UINT32_MAX;
                return 0;
        case VALUE_S32:
                *ret_min = INT32_MIN, *ret_max = INT32_MAX;
                return 0;
        default:
                return -EINVAL;
        }
}

int signal_encode(const SignalConfig *s, double value, uint16_t *ret_regs) {
        double raw, lo, hi;
        int64_t v;
        int r;

        if (s->scale == 0 || !isfinite(s->scale))
                return -EINVAL;
        r = signal_raw_range(s->type, &lo, &hi);
        if (r < 0)
                return r;

        /* round() and not a cast: 70.0 / 0.1 is 699.9999..., which must become 700. */
        raw = round((value - s->offset) / s->scale);
        if (!isfinite(raw) || raw < lo || raw > hi)
                return -ERANGE;

        v = (int64_t)raw;
        switch (s->type) {
        case VALUE_U32:
        case VALUE_S32:
                ret_regs[0] = (uint16_t)((uint32_t)v >> 16);
                ret_regs[1] = (uint16_t)((uint32_t)v & 0xffff);
                break;
        default:
                ret_regs[0] = (uint16_t)v; /* s16: two's complement in the register */
                break;
        }
        return 0;
}
