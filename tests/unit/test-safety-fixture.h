/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared fixture of the safety supervisor tests: a Config built by hand with the example chair's
 * zones and limits (config/examples/chaird.conf), a healthy input snapshot and a busy wanted output. */
#pragma once

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "safety.h"

#define T0 ((usec_t)1000 * USEC_PER_SEC)
#define MS(x) ((usec_t)(x)*USEC_PER_MSEC)
#define SEC(x) ((usec_t)(x)*USEC_PER_SEC)
#define SHOULDER 200.0 /* scan result used by most tests: neck 90..210, shoulders 210..290, ... */

#define BIT(t) (1u << (t))
/* zones[] order: not the neck first, so that a loop skipping zone 0 shows */
#define Z_SHOULDERS 0
#define Z_NECK 1
#define Z_UPPER 2
#define Z_MID 3
#define Z_LUMBAR 4
#define NEAR(a, b) (fabs((double)(a) - (double)(b)) < 1e-6)
#define CHECK(i, cond)                                                                                      \
        do {                                                                                                \
                if (!(cond))                                                                                \
                        fail_msg("case %zu: %s (line %d)", (size_t)(i), #cond, __LINE__);                   \
        } while (0)

_unused_ static Config cfg;
/* exactly as many as configured, so that a read past the end is caught (make mutation uses ASan) */
_unused_ static ZoneConfig zones[5];
_unused_ static SignalConfig signals[4];
_unused_ static Safety s;
_unused_ static ChairInputs in;
_unused_ static SafetyBoard boards[3];
_unused_ static SafetyInput si;
_unused_ static ChairOutputs want;
_unused_ static SafetyResult res;

_unused_ static void fixture_config(void) {
        static const ZoneConfig z[] = {
                {.name = (char *)"shoulders",
                 .from_mm = 10,
                 .to_mm = 90,
                 .max_force_n = 90,
                 .untrained_max_force_n = 60},
                {.name = (char *)"neck",
                 .from_mm = -110,
                 .to_mm = 10,
                 .max_force_n = 35,
                 .hard_force_n = 60,
                 .untrained_max_force_n = 20,
                 .neck = true,
                 .allowed_techniques = BIT(TECHNIQUE_KNEAD) | BIT(TECHNIQUE_ROLLING) | BIT(TECHNIQUE_GLIDE),
                 .untrained_techniques = BIT(TECHNIQUE_ROLLING) | BIT(TECHNIQUE_GLIDE)},
                {.name = (char *)"upper-back",
                 .from_mm = 90,
                 .to_mm = 220,
                 .max_force_n = 120,
                 .untrained_max_force_n = 70},
                {.name = (char *)"mid-back",
                 .from_mm = 220,
                 .to_mm = 350,
                 .max_force_n = 120,
                 .untrained_max_force_n = 70},
                {.name = (char *)"lumbar",
                 .from_mm = 350,
                 .to_mm = 480,
                 .max_force_n = 110,
                 .untrained_max_force_n = 70},
        };
        static const SignalConfig sig[] = {
                {.id = SIGNAL_ROLLER_POSITION, .has_range = true, .min = 0, .max = 700},
                {.id = SIGNAL_ROLLER_FORCE, .has_range = true, .min = 0, .max = 400},
                {.id = SIGNAL_ROLLER_STATUS},
                {.id = SIGNAL_ROLLER_TARGET, .has_range = true, .min = 0, .max = 700},
        };

        memcpy(zones, z, sizeof z);
        memcpy(signals, sig, sizeof sig);
        cfg = (Config){
                .control_rate_hz = 100,
                .max_intensity = 10,
                .signals = signals,
                .n_signals = ELEMENTSOF(signals),
                .zones = zones,
                .n_zones = ELEMENTSOF(z),
                .gpio = {.backend = GPIO_BACKEND_SIM},
                .limits = {.track_length_mm = 700,
                           .shoulder_min_mm = 120,
                           .shoulder_max_mm = 260,
                           .max_force_n = 120,
                           .hard_force_n = 180,
                           .over_limit_window_ms = 200,
                           .max_speed_mm_s = 150,
                           .max_session_s = 1800,
                           .heat_max_temp_c = 45,
                           .heat_max_on_s = 1200,
                           .airbag_max_kpa = 40,
                           .force_max_rate_n_s = 2000,
                           .stuck_ms = 2000,
                           .retract_mm = 40},
                .untrained = {.enabled = true, .max_intensity = 4, .max_force_n = 60, .max_speed_mm_s = 80},
        };
        for (int i = 0; i < _LINE_MAX; i++)
                cfg.gpio.lines[i].configured = true;
}

_unused_ static void fixture_inputs(void) {
        in = (ChairInputs){};
        for (int i = 0; i < _LINE_MAX; i++)
                in.line_valid[i] = true;
        in.line[LINE_SEAT] = true;
        in.value[SIGNAL_ROLLER_POSITION] = 300;
        in.valid[SIGNAL_ROLLER_POSITION] = true;
        in.value[SIGNAL_ROLLER_FORCE] = 10;
        in.valid[SIGNAL_ROLLER_FORCE] = true;
        in.value[SIGNAL_HEAT_TEMPERATURE] = 30;
        in.valid[SIGNAL_HEAT_TEMPERATURE] = true;
        for (int i = SIGNAL_AIRBAG_SHOULDERS_PRESSURE; i <= SIGNAL_AIRBAG_LEGS_PRESSURE; i++) {
                in.value[i] = 10;
                in.valid[i] = true;
        }
        boards[0] = (SafetyBoard){.name = "roller", .required = true};
        boards[1] = (SafetyBoard){.name = "airbag", .required = true};
        boards[2] = (SafetyBoard){.name = "base", .required = false};
        si = (SafetyInput){.in = &in,
                           .boards = boards,
                           .n_boards = ELEMENTSOF(boards),
                           .scanned = true,
                           .shoulder_mm = SHOULDER,
                           .session_active = true,
                           .session_start = T0,
                           .intensity = 5};
}

_unused_ static void fixture_wanted(void) {
        chair_outputs_safe(&want);
        want.line[LINE_POWER_RELAY] = true;
        want.line[LINE_HEARTBEAT] = true;
        want.value[SIGNAL_ROLLER_TARGET] = 300;
        want.value[SIGNAL_ROLLER_SPEED_LIMIT] = 100;
        want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = 50;
        want.value[SIGNAL_ROLLER_TECHNIQUE] = TECHNIQUE_KNEAD;
        want.value[SIGNAL_ROLLER_WIDTH] = 100;
        want.value[SIGNAL_ROLLER_ENABLE] = 1;
        for (int i = SIGNAL_AIRBAG_SHOULDERS_COMMAND; i <= SIGNAL_AIRBAG_LEGS_COMMAND; i++)
                want.value[i] = AIRBAG_INFLATE;
        want.value[SIGNAL_HEAT_SETPOINT] = 40;
        want.value[SIGNAL_HEAT_ENABLE] = 1;
        want.value[SIGNAL_RECLINE_TARGET] = 20;
        want.value[SIGNAL_RECLINE_ENABLE] = 1;
}

_unused_ static int setup(void **state) {
        fixture_config();
        fixture_inputs();
        fixture_wanted();
        assert_int_equal(safety_init(&s, &cfg, false, T0), 0);
        return 0;
}

/* One cycle at now; the force reading counts as fresh. */
_unused_ static void step(usec_t now) {
        in.now = now;
        in.updated[SIGNAL_ROLLER_FORCE] = now;
        safety_step(&s, &si, &want, now, &res);
}

_unused_ static size_t events(SafetyEventKind kind, SafetyRule rule) {
        size_t n = 0;

        for (size_t i = 0; i < res.n_events; i++)
                if (res.events[i].kind == kind && res.events[i].rule == rule)
                        n++;
        return n;
}

_unused_ static const char *event_detail(SafetyEventKind kind) {
        for (size_t i = 0; i < res.n_events; i++)
                if (res.events[i].kind == kind)
                        return res.events[i].detail;
        return "";
}

_unused_ static bool outputs_all_safe(const ChairOutputs *o) {
        ChairOutputs safe;

        chair_outputs_safe(&safe);
        for (int i = 0; i < _SIGNAL_MAX; i++)
                if (signal_id_direction(i) == SIGNAL_OUT && o->value[i] != safe.value[i])
                        return false;
        return !o->line[LINE_POWER_RELAY];
}

_unused_ static void at(double pos, double target) {
        in.value[SIGNAL_ROLLER_POSITION] = pos;
        want.value[SIGNAL_ROLLER_TARGET] = target;
}

_unused_ static void no_rate_check(void) {
        cfg.limits.force_max_rate_n_s = 1e12;
}

_unused_ static void untrained_session(void) {
        SafetyVerdict v;

        si.session_active = false;
        in.line[LINE_INTERLOCK] = true;
        assert_int_equal(safety_enter_untrained(&s, &si, &v), 0);
        si.session_active = true;
        want.value[SIGNAL_ROLLER_SPEED_LIMIT] = 50;
}
