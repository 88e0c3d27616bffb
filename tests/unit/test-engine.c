/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of daemon/engine.c, driven by time: a simulated roller follows the engine's target at its
 * speed limit every 10 ms cycle, and the tests check the step sequence and durations, repeats, the sweep
 * within the zone relative to the shoulder line, intensity, pause/resume, stop and park, and the
 * remaining seconds, against the example chair (config/examples/chaird.conf). */
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "engine.h"
#include "program.h"
#include "example-config.h"

#define T0 ((usec_t)5000 * USEC_PER_SEC)
#define CYCLE (10 * USEC_PER_MSEC)
#define SEC(x) ((usec_t)llround((x) * (double)USEC_PER_SEC))
#define SHOULDER 200.0


/* The chair as the engine sees it: inputs, the outputs of the last cycle, and the clock. */
typedef struct Rig {
        Engine e;
        ChairInputs in;
        ChairOutputs out;
        usec_t now;
} Rig;


/* shoulders 10 s × 2 (knead), lumbar 9 s in 3 points (press), neck-to-shoulders glide 5 s */
static ProgramStep steps[] = {
        {.technique = TECHNIQUE_KNEAD,
         .zone = (char *)"shoulders",
         .from_mm = 10,
         .to_mm = 90,
         .speed_mm_s = 20,
         .width_mm = 90,
         .force_n = 80,
         .seconds = 10,
         .repeat = 2,
         .airbags = 1u << AIRBAG_GROUP_SHOULDERS,
         .heat = true,
         .heat_c = 40},
        {.technique = TECHNIQUE_PRESS,
         .zone = (char *)"lumbar",
         .from_mm = 350,
         .to_mm = 480,
         .speed_mm_s = 30,
         .width_mm = 70,
         .force_n = 100,
         .points = 3,
         .seconds = 9,
         .repeat = 1},
        {.technique = TECHNIQUE_GLIDE,
         .from_mm = -40,
         .to_mm = 90,
         .speed_mm_s = 60,
         .width_mm = 120,
         .force_n = 25,
         .seconds = 5,
         .repeat = 1,
         .recline = true,
         .recline_deg = 20},
};
static const Program program = {
        .id = (char *)"test",
        .name = (char *)"Test",
        .steps = steps,
        .n_steps = 3,
        .total_seconds = 34,
};

static void rig_start(Rig *r, double shoulder, unsigned intensity, double roller_mm) {
        *r = (Rig){.now = T0};
        r->in.valid[SIGNAL_ROLLER_POSITION] = true;
        r->in.value[SIGNAL_ROLLER_POSITION] = roller_mm;
        r->in.valid[SIGNAL_RECLINE_ANGLE] = true;
        assert_int_equal(engine_start(&r->e, &program, chair, shoulder, intensity, r->now), 0);
        assert_int_equal(engine_state(&r->e), ENGINE_RUNNING);
}

/* One control cycle: the engine writes into outputs full of NAN (so anything it leaves alone shows), then
 * the roller and backrest follow what it asked for during the cycle. */
static EngineState rig_cycle(Rig *r) {
        double *pos = &r->in.value[SIGNAL_ROLLER_POSITION], *angle = &r->in.value[SIGNAL_RECLINE_ANGLE];
        EngineState s;

        for (int i = 0; i < _SIGNAL_MAX; i++)
                r->out.value[i] = NAN;
        r->in.now = r->now;
        s = engine_step(&r->e, &r->in, r->now, &r->out);
        if (!isnan(r->out.value[SIGNAL_ROLLER_TARGET])) {
                double step = r->out.value[SIGNAL_ROLLER_SPEED_LIMIT] * CYCLE / USEC_PER_SEC;
                double d = r->out.value[SIGNAL_ROLLER_TARGET] - *pos;
                *pos += CLAMP(d, -step, step);
        }
        if (r->out.value[SIGNAL_RECLINE_ENABLE] == 1) {
                double d = r->out.value[SIGNAL_RECLINE_TARGET] - *angle;
                *angle += CLAMP(d, -0.1, 0.1); /* 10 °/s */
        }
        r->now += CYCLE;
        return s;
}

static void rig_run(Rig *r, usec_t duration) {
        for (usec_t end = r->now + duration; r->now < end;)
                rig_cycle(r);
}

static void test_start_refused(void **state) {
        Engine e;
        Program empty = {.id = (char *)"empty"};

        assert_int_equal(engine_start(&e, NULL, chair, SHOULDER, 5, T0), -EINVAL);
        assert_int_equal(engine_start(&e, &empty, chair, SHOULDER, 5, T0), -EINVAL);
        assert_int_equal(engine_start(&e, &program, chair, SHOULDER, 0, T0), -ERANGE);
        assert_int_equal(engine_start(&e, &program, chair, SHOULDER, chair->max_intensity + 1, T0), -ERANGE);
        e = (Engine){};
        assert_int_equal(engine_state(&e), ENGINE_IDLE);
        assert_int_equal(engine_pause(&e, T0), -ESRCH);
        assert_int_equal(engine_resume(&e, T0), -ESRCH);
        assert_int_equal(engine_stop(&e, T0), -ESRCH);
        assert_string_equal(engine_state_to_string(ENGINE_PARKING), "parking");
}

/* Steps follow each other at exactly Σ seconds × repeat; the remaining time counts down exactly. */
static void test_sequence_and_remaining(void **state) {
        static const struct {
                double at;
                int step;
                unsigned remaining;
        } expect[] = {
                {0, 0, 34},     {0.5, 0, 34}, {1, 0, 33},    {9.99, 0, 25}, {10, 0, 24},
                {19.99, 0, 15}, {20, 1, 14},  {28.99, 1, 6}, {29, 2, 5},    {33.99, 2, 1},
        };
        Rig r;
        size_t k = 0;

        rig_start(&r, SHOULDER, 10, 300);
        while (k < ELEMENTSOF(expect)) {
                if (r.now == T0 + SEC(expect[k].at)) {
                        if (engine_current_step(&r.e, r.now) != expect[k].step ||
                            engine_remaining_seconds(&r.e, r.now) != expect[k].remaining)
                                fail_msg("at %.2f s: step %d remaining %u, want %d and %u", expect[k].at,
                                         engine_current_step(&r.e, r.now),
                                         engine_remaining_seconds(&r.e, r.now), expect[k].step,
                                         expect[k].remaining);
                        k++;
                }
                assert_int_equal(rig_cycle(&r), ENGINE_RUNNING);
        }
        /* the program is over at 34 s: parking, no time left */
        while (r.now < T0 + SEC(34))
                rig_cycle(&r);
        assert_int_equal(rig_cycle(&r), ENGINE_PARKING);
        assert_int_equal(engine_remaining_seconds(&r.e, r.now), 0);
        assert_int_equal(engine_current_step(&r.e, r.now), -ENOENT);
        assert_int_equal(engine_elapsed(&r.e, r.now), SEC(34));
}

/* Inside its range the roller sweeps back and forth between the zone's ends (relative to the shoulder
 * line, ENGINE_EDGE_MM inside); on the way there it travels without pressure or technique. */
static void check_sweep(double shoulder) {
        double lo = shoulder + 10 + ENGINE_EDGE_MM, hi = shoulder + 90 - ENGINE_EDGE_MM;
        double min = INFINITY, max = -INFINITY, last = NAN;
        unsigned reversals = 0, transit = 0;
        int dir = 0;
        Rig r;

        rig_start(&r, shoulder, 10, 600);
        while (r.now < T0 + SEC(20)) {
                double pos = r.in.value[SIGNAL_ROLLER_POSITION];
                bool inside = pos >= lo - ENGINE_TOLERANCE_MM && pos <= hi + ENGINE_TOLERANCE_MM;

                rig_cycle(&r);
                if (!inside) {
                        /* only on the way in: once there, it stays within the range */
                        assert_true(isinf(min));
                        transit++;
                        assert_true(r.out.value[SIGNAL_ROLLER_FORCE_SETPOINT] == 0);
                        assert_true(r.out.value[SIGNAL_ROLLER_TECHNIQUE] == TECHNIQUE_NONE);
                        continue;
                }
                assert_true(r.out.value[SIGNAL_ROLLER_TARGET] == lo ||
                            r.out.value[SIGNAL_ROLLER_TARGET] == hi);
                assert_true(r.out.value[SIGNAL_ROLLER_SPEED_LIMIT] == 20);
                assert_true(r.out.value[SIGNAL_ROLLER_FORCE_SETPOINT] == 80);
                assert_true(r.out.value[SIGNAL_ROLLER_TECHNIQUE] == TECHNIQUE_KNEAD);
                assert_true(r.out.value[SIGNAL_ROLLER_WIDTH] == 90);
                min = MIN(min, r.in.value[SIGNAL_ROLLER_POSITION]);
                max = MAX(max, r.in.value[SIGNAL_ROLLER_POSITION]);
                if (!isnan(last) && r.in.value[SIGNAL_ROLLER_POSITION] != last) {
                        int d = r.in.value[SIGNAL_ROLLER_POSITION] > last ? 1 : -1;
                        reversals += dir != 0 && d != dir;
                        dir = d;
                }
                last = r.in.value[SIGNAL_ROLLER_POSITION];
        }
        assert_true(transit > 0);
        /* it turns round on arrival, within the tolerance a real position sensor needs */
        assert_true(fabs(min - lo) <= ENGINE_TOLERANCE_MM && fabs(max - hi) <= ENGINE_TOLERANCE_MM);
        /* 75 mm at 20 mm/s: 3.75 s a pass, so about four passes after the transit */
        assert_in_range(reversals, 3, 5);
}

static void test_sweep_within_zone(void **state) {
        check_sweep(SHOULDER);
        check_sweep(140);
        check_sweep(250);
}

static void test_no_scan_uses_middle(void **state) {
        Rig r;

        rig_start(&r, NAN, 10, 500);
        assert_true(r.e.shoulder_mm == (chair->limits.shoulder_min_mm + chair->limits.shoulder_max_mm) / 2);
}

static void test_intensity(void **state) {
        Rig r;

        rig_start(&r, SHOULDER, 5, SHOULDER + 50);
        rig_cycle(&r);
        assert_true(fabs(r.out.value[SIGNAL_ROLLER_FORCE_SETPOINT] - 80 * (0.4 + 0.6 * 5 / 10.0)) < 1e-9);
        assert_int_equal(engine_set_intensity(&r.e, 10), 0);
        rig_cycle(&r);
        assert_true(fabs(r.out.value[SIGNAL_ROLLER_FORCE_SETPOINT] - 80) < 1e-9);
        assert_int_equal(engine_set_intensity(&r.e, 1), 0);
        rig_cycle(&r);
        assert_true(fabs(r.out.value[SIGNAL_ROLLER_FORCE_SETPOINT] - 80 * 0.46) < 1e-9);
        assert_int_equal(engine_set_intensity(&r.e, 0), -ERANGE);
        assert_int_equal(engine_set_intensity(&r.e, 11), -ERANGE);
        assert_int_equal(r.e.intensity, 1);
}

/* Pause holds the roller without pressure, vents the airbags, stops the heat and does not consume time. */
static void test_pause_resume(void **state) {
        double held;
        Rig r;

        rig_start(&r, SHOULDER, 10, SHOULDER + 50);
        rig_run(&r, SEC(5));
        assert_int_equal(engine_remaining_seconds(&r.e, r.now), 29);
        assert_int_equal(engine_pause(&r.e, r.now), 0);
        assert_int_equal(engine_pause(&r.e, r.now), 0); /* again: no-op */
        held = r.in.value[SIGNAL_ROLLER_POSITION];
        for (usec_t end = r.now + SEC(100); r.now < end;) {
                assert_int_equal(rig_cycle(&r), ENGINE_PAUSED);
                assert_true(r.out.value[SIGNAL_ROLLER_TARGET] == held);
                assert_true(r.out.value[SIGNAL_ROLLER_SPEED_LIMIT] == 0);
                assert_true(r.out.value[SIGNAL_ROLLER_FORCE_SETPOINT] == 0);
                assert_true(r.out.value[SIGNAL_ROLLER_TECHNIQUE] == TECHNIQUE_NONE);
                assert_true(r.out.value[SIGNAL_AIRBAG_SHOULDERS_COMMAND] == AIRBAG_VENT);
                assert_true(r.out.value[SIGNAL_HEAT_ENABLE] == 0);
                assert_int_equal(engine_remaining_seconds(&r.e, r.now), 29);
        }
        assert_int_equal(engine_resume(&r.e, r.now), 0);
        assert_int_equal(engine_resume(&r.e, r.now), 0);
        rig_cycle(&r);
        assert_true(r.out.value[SIGNAL_ROLLER_FORCE_SETPOINT] == 80);
        /* step 2 begins 20 s of program time after the start: 15 s after the resume */
        rig_run(&r, SEC(15) - CYCLE);
        assert_int_equal(engine_current_step(&r.e, r.now - USEC_PER_MSEC), 0);
        assert_int_equal(engine_current_step(&r.e, r.now), 1);
        assert_int_equal(engine_remaining_seconds(&r.e, r.now), 14);
}

/* Points: the step's time is split between evenly spaced points from one end of the range to the other. */
static void test_points(void **state) {
        double lo = SHOULDER + 350 + ENGINE_EDGE_MM, hi = SHOULDER + 480 - ENGINE_EDGE_MM;
        Rig r;

        rig_start(&r, SHOULDER, 10, lo);
        rig_run(&r, SEC(20));
        for (int k = 0; k < 3; k++) {
                rig_cycle(&r);
                assert_true(fabs(r.out.value[SIGNAL_ROLLER_TARGET] - (lo + (hi - lo) * k / 2)) < 1e-9);
                rig_run(&r, SEC(2.99));
                assert_true(fabs(r.out.value[SIGNAL_ROLLER_TARGET] - (lo + (hi - lo) * k / 2)) < 1e-9);
        }
}

/* Airbags: inflate, hold, vent in 4 s phases for the listed groups, the rest vent; heat as written. */
static void test_airbags_and_heat(void **state) {
        static const AirbagCommand rhythm[] = {AIRBAG_INFLATE, AIRBAG_HOLD, AIRBAG_VENT};
        Rig r;

        rig_start(&r, SHOULDER, 10, SHOULDER + 50);
        for (unsigned phase = 0; phase < 5; phase++) {
                rig_cycle(&r);
                assert_true(r.out.value[SIGNAL_AIRBAG_SHOULDERS_COMMAND] == rhythm[phase % 3]);
                assert_true(r.out.value[SIGNAL_AIRBAG_ARMS_COMMAND] == AIRBAG_VENT);
                assert_true(r.out.value[SIGNAL_AIRBAG_LEGS_COMMAND] == AIRBAG_VENT);
                assert_true(r.out.value[SIGNAL_HEAT_ENABLE] == 1 && r.out.value[SIGNAL_HEAT_SETPOINT] == 40);
                /* recline is not driven by a step without Recline= */
                assert_true(isnan(r.out.value[SIGNAL_RECLINE_ENABLE]));
                rig_run(&r, SEC(4) - CYCLE);
        }
}

/* Stop: force off, airbags vent, heat off, roller to the seat end, backrest upright; then done, and the
 * engine writes nothing more. */
static void test_stop_parks(void **state) {
        Rig r;
        unsigned cycles = 0;

        rig_start(&r, SHOULDER, 10, SHOULDER + 50);
        rig_run(&r, SEC(30)); /* in the reclining step */
        assert_true(r.out.value[SIGNAL_RECLINE_ENABLE] == 1 && r.out.value[SIGNAL_RECLINE_TARGET] == 20);
        assert_true(r.in.value[SIGNAL_RECLINE_ANGLE] > 5);
        /* a pause holds the backrest where it is */
        assert_int_equal(engine_pause(&r.e, r.now), 0);
        assert_int_equal(rig_cycle(&r), ENGINE_PAUSED);
        assert_true(r.out.value[SIGNAL_RECLINE_ENABLE] == 0);
        assert_int_equal(engine_resume(&r.e, r.now), 0);
        assert_int_equal(engine_stop(&r.e, r.now), 0);
        assert_int_equal(engine_remaining_seconds(&r.e, r.now), 0);
        assert_int_equal(engine_pause(&r.e, r.now), -ESRCH);
        while (rig_cycle(&r) == ENGINE_PARKING) {
                assert_true(r.out.value[SIGNAL_ROLLER_TARGET] == chair->limits.track_length_mm);
                assert_true(r.out.value[SIGNAL_ROLLER_FORCE_SETPOINT] == 0);
                assert_true(r.out.value[SIGNAL_ROLLER_TECHNIQUE] == TECHNIQUE_NONE);
                assert_true(r.out.value[SIGNAL_AIRBAG_SHOULDERS_COMMAND] == AIRBAG_VENT);
                assert_true(r.out.value[SIGNAL_HEAT_ENABLE] == 0);
                assert_true(r.out.value[SIGNAL_RECLINE_ENABLE] == 1 &&
                            r.out.value[SIGNAL_RECLINE_TARGET] == 0);
                assert_true(++cycles < 6000);
        }
        assert_int_equal(engine_state(&r.e), ENGINE_DONE);
        assert_true(fabs(r.in.value[SIGNAL_ROLLER_POSITION] - chair->limits.track_length_mm) <=
                    ENGINE_TOLERANCE_MM);
        assert_true(r.in.value[SIGNAL_RECLINE_ANGLE] <= ENGINE_UPRIGHT_DEG);
        for (int i = 0; i < _SIGNAL_MAX; i++)
                assert_true(isnan(r.out.value[i]));
        assert_int_equal(engine_stop(&r.e, r.now), 0);
        assert_int_equal(rig_cycle(&r), ENGINE_DONE);
}

/* A roller that never arrives (position unknown) does not keep the engine parking for ever. */
static void test_park_timeout(void **state) {
        Rig r;

        rig_start(&r, SHOULDER, 10, SHOULDER + 50);
        r.in.valid[SIGNAL_ROLLER_POSITION] = false;
        rig_cycle(&r);
        assert_true(r.out.value[SIGNAL_ROLLER_FORCE_SETPOINT] == 0); /* blind: no pressure */
        assert_int_equal(engine_stop(&r.e, r.now), 0);
        rig_run(&r, ENGINE_PARK_TIMEOUT_USEC - CYCLE);
        assert_int_equal(engine_state(&r.e), ENGINE_PARKING);
        rig_run(&r, 2 * CYCLE);
        assert_int_equal(engine_state(&r.e), ENGINE_DONE);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_start_refused),
                cmocka_unit_test(test_sequence_and_remaining),
                cmocka_unit_test(test_sweep_within_zone),
                cmocka_unit_test(test_no_scan_uses_middle),
                cmocka_unit_test(test_intensity),
                cmocka_unit_test(test_pause_resume),
                cmocka_unit_test(test_points),
                cmocka_unit_test(test_airbags_and_heat),
                cmocka_unit_test(test_stop_parks),
                cmocka_unit_test(test_park_timeout),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
