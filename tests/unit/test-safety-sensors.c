/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the safety supervisor's rules on heat, occupancy, sensor plausibility, motion and airbag
 * limits (SR-19..23 of docs/safety.md). */
#include "test-safety-fixture.h"

/* ---- SR-19 heat ---- */

static void test_sr19_heat_temperature_cap(void **state) {
        static const struct {
                double lowered, setpoint, expected, temperature;
                bool temp_invalid, session, on;
        } cases[] = {
                {0, 45, 45, 44.9, false, true, true}, {0, 45.1, 45, 44.9, false, true, true},
                {0, 40, 40, 45, false, true, false},  {0, 40, 40, 30, true, true, false},
                {0, 40, 40, 30, false, false, false}, {40, 40, 40, 39.9, false, true, true},
                {40, 42, 40, 40, false, true, false},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                setup(NULL);
                if (cases[i].lowered > 0)
                        CHECK(i, safety_limit_set(&s, SAFETY_LIMIT_HEAT_TEMP, cases[i].lowered) == 0);
                want.value[SIGNAL_HEAT_SETPOINT] = cases[i].setpoint;
                in.value[SIGNAL_HEAT_TEMPERATURE] = cases[i].temperature;
                in.valid[SIGNAL_HEAT_TEMPERATURE] = !cases[i].temp_invalid;
                si.session_active = cases[i].session;
                step(T0);
                CHECK(i, NEAR(res.out.value[SIGNAL_HEAT_SETPOINT], cases[i].expected));
                CHECK(i, res.out.value[SIGNAL_HEAT_ENABLE] == (cases[i].on ? 1 : 0));
                CHECK(i, events(SAFETY_EVENT_LIMIT, SR_HEAT) ==
                                 (size_t)((cases[i].setpoint > cases[i].expected) + !cases[i].on));
        }
        /* heater not wanted: nothing to report */
        setup(NULL);
        want.value[SIGNAL_HEAT_ENABLE] = 0;
        in.valid[SIGNAL_HEAT_TEMPERATURE] = false;
        step(T0);
        assert_int_equal(res.n_events, 0);
}

static void test_sr19_heater_max_on_time(void **state) {
        static const struct {
                usec_t at;
                bool wanted, session, on;
        } cases[] = {
                {0, true, true, true},
                {SEC(600), true, true, true},      /* 600 s on */
                {SEC(700), false, true, false},    /* 700 s, then off */
                {SEC(800), true, true, true},      /* off time does not count */
                {SEC(1300) - 1, true, true, true}, /* 1200 s - 1 µs */
                {SEC(1300), true, true, false},    /* 1200 s */
                {SEC(1400), true, true, false},
                {SEC(1500), true, false, false}, /* session over: count reset */
                {SEC(1600), true, true, true},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                want.value[SIGNAL_HEAT_ENABLE] = cases[i].wanted;
                si.session_active = cases[i].session;
                si.session_start = T0 + cases[i].at;
                step(T0 + cases[i].at);
                CHECK(i, res.out.value[SIGNAL_HEAT_ENABLE] == (cases[i].on ? 1 : 0));
        }
        assert_int_equal(s.heat_on_usec, 0);
}

/* ---- SR-20 occupancy ---- */

static void test_sr20_occupancy_to_start(void **state) {
        static const struct {
                bool configured, valid, active, jog;
                int ret;
        } cases[] = {
                {true, true, true, false, 0},       {true, true, false, false, -EPERM},
                {true, false, true, false, -EPERM}, {true, true, false, true, 0},
                {false, false, false, false, 0},
        };
        SafetyVerdict v;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                setup(NULL);
                cfg.gpio.lines[LINE_SEAT].configured = cases[i].configured;
                in.line_valid[LINE_SEAT] = cases[i].valid;
                in.line[LINE_SEAT] = cases[i].active;
                CHECK(i, safety_check_start(&s, &si, cases[i].jog, &v) == cases[i].ret);
                CHECK(i, v.refusal == (cases[i].ret ? SAFETY_REFUSAL_NOT_OCCUPIED : SAFETY_REFUSAL_NONE));
                CHECK(i, v.rule == (cases[i].ret ? SR_OCCUPANCY : SR_NONE));
        }
}

static void test_sr20_occupancy_loss_stops(void **state) {
        static const struct {
                bool configured, valid, active, session, stop;
        } cases[] = {
                {true, true, true, true, false},   {true, true, false, true, true},
                {true, false, true, true, true},   {false, true, false, true, false},
                {true, true, false, false, false},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                setup(NULL);
                cfg.gpio.lines[LINE_SEAT].configured = cases[i].configured;
                in.line_valid[LINE_SEAT] = cases[i].valid;
                in.line[LINE_SEAT] = cases[i].active;
                si.session_active = cases[i].session;
                at(150, 150);
                want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = 20;
                step(T0);
                CHECK(i, events(SAFETY_EVENT_CONTROLLED_STOP, SR_OCCUPANCY) == (cases[i].stop ? 1u : 0u));
                CHECK(i, !cases[i].stop || NEAR(res.out.value[SIGNAL_ROLLER_TARGET], 220));
                CHECK(i, !cases[i].stop || streq(res.events[0].detail, "seat empty: roller to 220.0 mm"));
        }
}

/* ---- SR-21 plausibility ---- */

static void test_sr21_range(void **state) {
        static const struct {
                SignalId id;
                double value;
                bool valid, fault;
                const char *text;
        } cases[] = {
                {SIGNAL_ROLLER_FORCE, 0, true, false, ""},
                {SIGNAL_ROLLER_FORCE, -0.1, true, true, "sensor-fault:roller.force:range"},
                {SIGNAL_ROLLER_POSITION, 700, true, false, ""},
                {SIGNAL_ROLLER_POSITION, 700.1, true, true, "sensor-fault:roller.position:range"},
                {SIGNAL_ROLLER_POSITION, -0.1, true, true, "sensor-fault:roller.position:range"},
                {SIGNAL_ROLLER_POSITION, NAN, true, true, "sensor-fault:roller.position:range"},
                {SIGNAL_ROLLER_POSITION, 900, false, false, ""},
                {SIGNAL_ROLLER_STATUS, 99999, true, false, ""},
                {SIGNAL_ROLLER_TARGET, 900, true, false, ""},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                setup(NULL);
                no_rate_check();
                in.value[cases[i].id] = cases[i].value;
                in.valid[cases[i].id] = cases[i].valid;
                step(T0);
                CHECK(i, streq(safety_estop_text(&s), cases[i].text));
                CHECK(i, safety_faulted(&s) == cases[i].fault);
                CHECK(i, !!(res.actions & SAFETY_ACTION_RAISE_FAULT) == cases[i].fault);
                CHECK(i, events(SAFETY_EVENT_FAULT, SR_PLAUSIBILITY) == (cases[i].fault ? 1u : 0u));
                CHECK(i, events(SAFETY_EVENT_ESTOP, SR_PLAUSIBILITY) == (cases[i].fault ? 1u : 0u));
        }
}

static void test_sr21_fault_clears_on_reset(void **state) {
        SafetyVerdict v;

        in.value[SIGNAL_ROLLER_FORCE] = 400.1;
        step(T0);
        assert_true(safety_faulted(&s));
        (void)safety_cycle_done(&s, T0 + MS(10), T0 + MS(1));
        assert_false(safety_heartbeat_ok(&s, T0 + MS(1)));
        assert_int_equal(safety_reset(&s, &si, T0 + MS(10), &v, &res), -EBUSY);
        assert_string_equal(v.reason, "fault active: roller.force:range");
        assert_true(safety_faulted(&s));
        in.value[SIGNAL_ROLLER_FORCE] = 10;
        assert_int_equal(safety_reset(&s, &si, T0 + MS(20), &v, &res), 0);
        assert_false(safety_faulted(&s));
        assert_true(safety_heartbeat_ok(&s, T0 + MS(20)));
}

static void test_sr21_stuck(void **state) {
        static const struct {
                double target, speed, enable;
                bool pos_invalid;
                usec_t moved_at;
                usec_t fault_at;
        } cases[] = {
                {400, 100, 1, false, 0, MS(2000)},
                {302.1, 100, 1, false, 0, MS(2000)},
                {297.9, 100, 1, false, 0, MS(2000)},
                {400, 100, 1, false, MS(1000), MS(3000)},
                {302, 100, 1, false, 0, 0},
                {298, 100, 1, false, 0, 0},
                {400, 0, 1, false, 0, 0},
                {400, 0.5, 1, false, 0, MS(2000)},
                {400, 100, 0, false, 0, 0},
                {400, 100, 1, true, 0, 0},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                usec_t end = cases[i].fault_at ?: MS(5000);

                setup(NULL);
                want.value[SIGNAL_ROLLER_TARGET] = cases[i].target;
                want.value[SIGNAL_ROLLER_SPEED_LIMIT] = cases[i].speed;
                want.value[SIGNAL_ROLLER_ENABLE] = cases[i].enable;
                want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = 20;
                want.value[SIGNAL_ROLLER_TECHNIQUE] = TECHNIQUE_NONE;
                in.valid[SIGNAL_ROLLER_POSITION] = !cases[i].pos_invalid;
                step(T0);
                if (cases[i].moved_at) {
                        step(T0 + cases[i].moved_at - MS(10));
                        in.value[SIGNAL_ROLLER_POSITION] = 300.1;
                        step(T0 + cases[i].moved_at);
                }
                step(T0 + end - 1);
                CHECK(i, !safety_faulted(&s));
                step(T0 + end);
                CHECK(i, safety_faulted(&s) == (cases[i].fault_at != 0));
                CHECK(i, !cases[i].fault_at ||
                                 streq(safety_estop_text(&s), "sensor-fault:roller.position:stuck"));
        }
}

static void test_sr21_force_rate(void **state) {
        static const struct {
                double from, to;
                usec_t dt;
                bool fault;
        } cases[] = {
                {10, 30, MS(10), false},  {10, 30.1, MS(10), true}, {30, 10, MS(10), false},
                /* a fall of any size is less force (the occupant leaned away), not a sensor fault */
                {30.1, 10, MS(10), false}, {80, 0, MS(1), false},
                {10, 50, MS(20), false},  {10, 50.1, MS(20), true},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                setup(NULL);
                in.value[SIGNAL_ROLLER_FORCE] = cases[i].from;
                step(T0); /* the roller is told to press from here on */
                step(T0 + MS(10));
                in.value[SIGNAL_ROLLER_FORCE] = cases[i].to;
                step(T0 + MS(10) + cases[i].dt);
                CHECK(i, safety_faulted(&s) == cases[i].fault);
                CHECK(i, !cases[i].fault || streq(safety_estop_text(&s), "sensor-fault:roller.force:rate"));
        }
        /* no new reading (same timestamp), or none at all: nothing to compare */
        setup(NULL);
        in.value[SIGNAL_ROLLER_FORCE] = 10;
        step(T0); /* the roller is told to press from here on */
        step(T0 + MS(5));
        in.value[SIGNAL_ROLLER_FORCE] = 100;
        safety_step(&s, &si, &want, T0 + MS(10), &res);
        assert_false(safety_faulted(&s));
        in.valid[SIGNAL_ROLLER_FORCE] = false;
        step(T0 + MS(20));
        in.valid[SIGNAL_ROLLER_FORCE] = true;
        step(T0 + MS(30)); /* 10 → 100 N in 25 ms: the invalid reading did not hide the rise */
        assert_true(safety_faulted(&s));
        /* the first reading has nothing before it */
        setup(NULL);
        in.value[SIGNAL_ROLLER_FORCE] = 100;
        in.updated[SIGNAL_ROLLER_FORCE] = 0;
        safety_step(&s, &si, &want, T0, &res);
        assert_false(safety_faulted(&s));
        /* the roller released (enable 0 sent): its force falling away at once is not a fault, and the
         * next reading under pressure starts a new comparison */
        setup(NULL);
        in.value[SIGNAL_ROLLER_FORCE] = 40;
        step(T0);
        want.value[SIGNAL_ROLLER_ENABLE] = 0;
        step(T0 + MS(10));
        in.value[SIGNAL_ROLLER_FORCE] = 0;
        step(T0 + MS(12));
        assert_false(safety_faulted(&s));
        /* released, someone leans back onto the roller: a rise that is not ours to judge */
        in.value[SIGNAL_ROLLER_FORCE] = 40;
        step(T0 + MS(13));
        assert_false(safety_faulted(&s));
        in.value[SIGNAL_ROLLER_FORCE] = 0;
        want.value[SIGNAL_ROLLER_ENABLE] = 1;
        step(T0 + MS(14));
        in.value[SIGNAL_ROLLER_FORCE] = 10;
        step(T0 + MS(24));
        assert_false(safety_faulted(&s));
        in.value[SIGNAL_ROLLER_FORCE] = 40.1;
        step(T0 + MS(34));
        assert_true(safety_faulted(&s));
        /* across an e-stop: the relay cut drops the force at once; after the reset that drop is not a
         * rate fault (found by the touchscreen integration test) */
        SafetyVerdict v;
        setup(NULL);
        in.value[SIGNAL_ROLLER_FORCE] = 40;
        step(T0);
        assert_int_equal(safety_estop(&s, SAFETY_STOP_REMOTE, NULL, T0 + MS(1), &res), 0);
        in.value[SIGNAL_ROLLER_FORCE] = 0;
        assert_int_equal(safety_reset(&s, &si, T0 + MS(5), &v, &res), 0);
        step(T0 + MS(10));
        assert_false(safety_faulted(&s));
        assert_false(safety_latched(&s));
}

static void test_sr21_position_jump(void **state) {
        /* example caps: MaxSpeedMmS 150 → in 10 ms at most 5 + 2 × 1.5 = 8 mm */
        static const struct {
                double from, to;
                usec_t dt;
                bool fault;
        } cases[] = {
                {300, 308, MS(10), false}, {300, 308.1, MS(10), true}, {300, 292, MS(10), false},
                {300, 291.9, MS(10), true}, {300, 0, MS(10), true},     {300, 335, MS(100), false},
                {300, 335.1, MS(100), true},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                setup(NULL);
                in.value[SIGNAL_ROLLER_POSITION] = cases[i].from;
                in.updated[SIGNAL_ROLLER_POSITION] = T0;
                step(T0);
                in.value[SIGNAL_ROLLER_POSITION] = cases[i].to;
                in.updated[SIGNAL_ROLLER_POSITION] = T0 + cases[i].dt;
                step(T0 + cases[i].dt);
                CHECK(i, safety_faulted(&s) == cases[i].fault);
                CHECK(i, !cases[i].fault || streq(safety_estop_text(&s), "sensor-fault:roller.position:rate"));
        }
        /* the same reading again (no fresh poll), an invalid one, and the first one: nothing to compare */
        setup(NULL);
        in.value[SIGNAL_ROLLER_POSITION] = 300;
        in.updated[SIGNAL_ROLLER_POSITION] = T0;
        step(T0);
        in.value[SIGNAL_ROLLER_POSITION] = 600;
        step(T0 + MS(10));
        assert_false(safety_faulted(&s));
        /* the stale 600 was not taken as the last reading: a fresh 301 is compared with 300 */
        in.value[SIGNAL_ROLLER_POSITION] = 301;
        in.updated[SIGNAL_ROLLER_POSITION] = T0 + MS(10);
        step(T0 + MS(10));
        assert_false(safety_faulted(&s));
        in.valid[SIGNAL_ROLLER_POSITION] = false;
        in.updated[SIGNAL_ROLLER_POSITION] = T0 + MS(20);
        step(T0 + MS(20));
        assert_false(safety_faulted(&s));
        /* steady travel near the limit: each reading is compared with the one before, not the first */
        setup(NULL);
        for (unsigned k = 0; k <= 6; k++) {
                in.value[SIGNAL_ROLLER_POSITION] = 300 + 7.0 * k;
                in.updated[SIGNAL_ROLLER_POSITION] = T0 + k * MS(10);
                step(T0 + k * MS(10));
                assert_false(safety_faulted(&s));
        }
        /* after a reset the history starts again: the roller may have been moved by hand meanwhile */
        setup(NULL);
        in.value[SIGNAL_ROLLER_POSITION] = 300;
        in.updated[SIGNAL_ROLLER_POSITION] = T0;
        step(T0);
        SafetyVerdict v;
        assert_int_equal(safety_estop(&s, SAFETY_STOP_REMOTE, NULL, T0 + MS(1), &res), 0);
        assert_int_equal(safety_reset(&s, &si, T0 + MS(2), &v, &res), 0);
        in.value[SIGNAL_ROLLER_POSITION] = 500;
        in.updated[SIGNAL_ROLLER_POSITION] = T0 + MS(10);
        step(T0 + MS(10));
        assert_false(safety_faulted(&s));
}

/* ---- SR-22 motion limits ---- */

static void test_sr22_target_on_track(void **state) {
        static const struct {
                double target, expected;
        } cases[] = {
                {-0.1, 0},
                {0, 0},
                {700, 700},
                {700.1, 700},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                setup(NULL);
                want.value[SIGNAL_ROLLER_TARGET] = cases[i].target;
                want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = 20;
                want.value[SIGNAL_ROLLER_TECHNIQUE] = TECHNIQUE_NONE;
                step(T0);
                CHECK(i, NEAR(res.out.value[SIGNAL_ROLLER_TARGET], cases[i].expected));
                CHECK(i, events(SAFETY_EVENT_LIMIT, SR_MOTION_LIMITS) ==
                                 (cases[i].target != cases[i].expected ? 1u : 0u));
        }
}

static void test_sr22_negative_force(void **state) {
        static const struct {
                double force, expected;
                size_t events;
        } cases[] = {
                {-0.1, 0, 1},
                {0, 0, 0},
                {0.5, 0.5, 0},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                setup(NULL);
                want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = cases[i].force;
                step(T0);
                CHECK(i, NEAR(res.out.value[SIGNAL_ROLLER_FORCE_SETPOINT], cases[i].expected));
                CHECK(i, res.n_events == cases[i].events);
                CHECK(i, events(SAFETY_EVENT_LIMIT, SR_MOTION_LIMITS) == cases[i].events);
        }
}

/* ---- SR-23 airbags ---- */

static void test_sr23_airbag_pressure_cap(void **state) {
        static const struct {
                double command, pressure;
                bool valid;
                double expected;
        } cases[] = {
                {AIRBAG_INFLATE, 39.9, true, AIRBAG_INFLATE},
                {AIRBAG_INFLATE, 40, true, AIRBAG_HOLD},
                {AIRBAG_INFLATE, 10, false, AIRBAG_HOLD},
                {AIRBAG_HOLD, 50, true, AIRBAG_HOLD},
                {AIRBAG_VENT, 50, true, AIRBAG_VENT},
                {3, 10, true, AIRBAG_VENT},
                {-1, 10, true, AIRBAG_VENT},
                {1.5, 10, true, AIRBAG_VENT},
        };

        for (int bag = 0; bag < 4; bag++)
                for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                        SignalId cmd = SIGNAL_AIRBAG_SHOULDERS_COMMAND + bag;
                        SignalId p = SIGNAL_AIRBAG_SHOULDERS_PRESSURE + bag;

                        setup(NULL);
                        want.value[cmd] = cases[i].command;
                        in.value[p] = cases[i].pressure;
                        in.valid[p] = cases[i].valid;
                        step(T0);
                        CHECK(i, res.out.value[cmd] == cases[i].expected);
                        CHECK(i, events(SAFETY_EVENT_LIMIT, SR_AIRBAG) ==
                                         (cases[i].command != cases[i].expected ? 1u : 0u));
                        CHECK(i, cases[i].command == cases[i].expected ||
                                         strstr(res.events[0].detail, signal_id_to_string(cmd)) ==
                                                 res.events[0].detail);
                        /* the others keep inflating */
                        CHECK(i, res.out.value[SIGNAL_AIRBAG_SHOULDERS_COMMAND + (bag + 1) % 4] ==
                                         AIRBAG_INFLATE);
                }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_sr19_heat_temperature_cap, setup),
                cmocka_unit_test_setup(test_sr19_heater_max_on_time, setup),
                cmocka_unit_test_setup(test_sr20_occupancy_to_start, setup),
                cmocka_unit_test_setup(test_sr20_occupancy_loss_stops, setup),
                cmocka_unit_test_setup(test_sr21_range, setup),
                cmocka_unit_test_setup(test_sr21_fault_clears_on_reset, setup),
                cmocka_unit_test_setup(test_sr21_stuck, setup),
                cmocka_unit_test_setup(test_sr21_force_rate, setup),
                cmocka_unit_test_setup(test_sr21_position_jump, setup),
                cmocka_unit_test_setup(test_sr22_target_on_track, setup),
                cmocka_unit_test_setup(test_sr22_negative_force, setup),
                cmocka_unit_test_setup(test_sr23_airbag_pressure_cap, setup),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
