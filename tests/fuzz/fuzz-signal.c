/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: register decoding and encoding (signal_decode/signal_encode) for any register
 * type, scale and offset a config could give, and any register contents a board could send. Checks the
 * round trip: a value that encodes decodes back to within half a scale step, and registers that decode
 * to a finite value encode back to the same registers. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz-util.h"

static double take_double(const uint8_t **data, size_t *size) {
        double v = 0;

        if (*size >= sizeof v) {
                memcpy(&v, *data, sizeof v);
                *data += sizeof v;
                *size -= sizeof v;
        }
        return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        SignalConfig s = {};
        uint16_t regs[2] = {}, back[2] = {};

        if (size < 1 + 4)
                return 0;
        s.type = (ValueType) (data[0] % _VALUE_TYPE_MAX);
        memcpy(regs, data + 1, sizeof regs);
        data += 5, size -= 5;
        s.scale = take_double(&data, &size);
        s.offset = take_double(&data, &size);
        double value = take_double(&data, &size);

        /* what a board sends → engineering value → registers */
        double decoded = signal_decode(&s, regs);
        bool exact = isfinite(s.scale) && s.scale != 0 && fabs(s.scale) >= 1e-6 && fabs(s.scale) <= 1e6 &&
                     isfinite(s.offset) && fabs(s.offset) <= 1e9;
        if (exact && isfinite(decoded) && signal_encode(&s, decoded, back) == 0) {
                unsigned n = value_type_registers(s.type);
                if (s.type == VALUE_BOOL) {
                        if ((back[0] != 0) != (regs[0] != 0))
                                abort();
                } else if (memcmp(back, regs, n * sizeof(uint16_t)) != 0)
                        abort();
        }

        /* what the daemon wants to send → registers → what the board will see */
        if (signal_encode(&s, value, back) == 0) {
                if (!isfinite(value) || !isfinite(s.scale) || s.scale == 0)
                        abort(); /* NaN, inf or no scale never reaches a register */
                double seen = signal_decode(&s, back);
                if (exact && fabs(value) <= 1e12 && fabs(seen - value) > fabs(s.scale) / 2 * (1 + 1e-9) + 1e-9 * fabs(value))
                        abort();
        }
        return 0;
}
