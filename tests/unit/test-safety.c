/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the safety supervisor's core: safe state, e-stop and reset, start-up, watchdogs,
 * comm loss, caps, program checks and untrained-mode entry (SR-1..8, SR-13..15 of docs/safety.md). */
#include "test-safety-fixture.h"

/* ---- SR-1 safe state ---- */

static void test_sr1_latched_outputs_safe(void **state) {
        step(T0);
        assert_true(res.out.line[LINE_POWER_RELAY]);
        assert_int_equal(safety_estop(&s, SAFETY_STOP_REMOTE, NULL, T0 + MS(5), &res), 0);
        assert_true(outputs_all_safe(&res.out));
        step(T0 + MS(10));
        assert_true(outputs_all_safe(&res.out));
        assert_true(res.actions & SAFETY_ACTION_END_SESSION);
        /* no session, no jog: nothing to end */
        si.session_active = false;
        step(T0 + MS(20));
        assert_false(res.actions & SAFETY_ACTION_END_SESSION);
        si.jog_active = true;
        step(T0 + MS(30));
        assert_true(res.actions & SAFETY_ACTION_END_SESSION);
        assert_true(outputs_all_safe(&res.out));
}

static void test_sr1_relay_only_when_not_latched(void **state) {
        static const struct {
                bool wanted, latched, expected;
        } cases[] = {
                {true, false, true},
                {false, false, false},
                {true, true, false},
                {false, true, false},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                setup(NULL);
                want.line[LINE_POWER_RELAY] = cases[i].wanted;
                if (cases[i].latched)
                        (void)safety_estop(&s, SAFETY_STOP_REMOTE, NULL, T0, &res);
                step(T0 + MS(10));
                CHECK(i, res.out.line[LINE_POWER_RELAY] == cases[i].expected);
                CHECK(i, res.out.value[SIGNAL_ROLLER_ENABLE] == (cases[i].latched ? 0 : 1));
        }
}

static void test_sr1_non_finite_output_safe(void **state) {
        static const SignalId ids[] = {SIGNAL_ROLLER_TARGET, SIGNAL_ROLLER_FORCE_SETPOINT,
                                       SIGNAL_HEAT_SETPOINT, SIGNAL_RECLINE_TARGET,
                                       SIGNAL_AIRBAG_LEGS_COMMAND};

        for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
                setup(NULL);
                want.value[ids[i]] = i % 2 ? NAN : INFINITY;
                step(T0);
                CHECK(i, res.out.value[ids[i]] == signal_id_safe_value(ids[i]));
                CHECK(i, events(SAFETY_EVENT_LIMIT, SR_SAFE_STATE) == 1);
                CHECK(i, res.out.value[SIGNAL_RECLINE_ENABLE] == 1);
        }
}

/* ---- SR-2 e-stop sources ---- */

static void test_sr2_button_line(void **state) {
        static const struct {
                GpioBackend backend;
                bool configured, valid, active, latched;
                const char *text;
        } cases[] = {
                {GPIO_BACKEND_SIM, true, true, false, false, ""},
                {GPIO_BACKEND_SIM, true, true, true, true, "button"},
                {GPIO_BACKEND_SIM, true, false, false, true, "button:unreadable"},
                {GPIO_BACKEND_GPIOD, true, false, true, true, "button:unreadable"},
                {GPIO_BACKEND_SIM, false, false, true, false, ""},
                {GPIO_BACKEND_NONE, true, true, true, false, ""},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                setup(NULL);
                cfg.gpio.backend = cases[i].backend;
                cfg.gpio.lines[LINE_ESTOP].configured = cases[i].configured;
                in.line_valid[LINE_ESTOP] = cases[i].valid;
                in.line[LINE_ESTOP] = cases[i].active;
                step(T0);
                CHECK(i, safety_latched(&s) == cases[i].latched);
                CHECK(i, streq(safety_estop_text(&s), cases[i].text));
                CHECK(i, !!(res.actions & SAFETY_ACTION_CUT_RELAY) == cases[i].latched);
                CHECK(i, events(SAFETY_EVENT_ESTOP, SR_ESTOP_SOURCES) == (cases[i].latched ? 1u : 0u));
                CHECK(i, res.out.line[LINE_POWER_RELAY] == !cases[i].latched);
        }
}

static void test_sr2_estop_request(void **state) {
        static const struct {
                SafetyStopReason reason;
                const char *detail, *text;
                SafetyStopReason expected;
                int ret;
        } cases[] = {
                {SAFETY_STOP_BUTTON, NULL, "button", SAFETY_STOP_BUTTON, 0},
                {SAFETY_STOP_REMOTE, NULL, "remote", SAFETY_STOP_REMOTE, 0},
                {SAFETY_STOP_INTERNAL, "watchdog", "internal:watchdog", SAFETY_STOP_INTERNAL, 0},
                {SAFETY_STOP_SENSOR_FAULT, NULL, "sensor-fault", SAFETY_STOP_SENSOR_FAULT, 0},
                {SAFETY_STOP_NONE, "x", "internal:bad-reason", SAFETY_STOP_INTERNAL, -EINVAL},
                {_SAFETY_STOP_MAX, NULL, "internal:bad-reason", SAFETY_STOP_INTERNAL, -EINVAL},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                setup(NULL);
                step(T0);
                CHECK(i, res.out.line[LINE_HEARTBEAT] == false);
                CHECK(i, safety_cycle_done(&s, T0 + MS(10), T0 + MS(1)));
                step(T0 + MS(10));
                CHECK(i, res.out.line[LINE_HEARTBEAT] == true);
                CHECK(i,
                      safety_estop(&s, cases[i].reason, cases[i].detail, T0 + MS(11), &res) == cases[i].ret);
                CHECK(i, res.actions & SAFETY_ACTION_CUT_RELAY);
                CHECK(i, safety_latched(&s));
                CHECK(i, safety_estop_reason(&s) == cases[i].expected);
                CHECK(i, streq(safety_estop_text(&s), cases[i].text));
                CHECK(i, events(SAFETY_EVENT_ESTOP, SR_ESTOP_SOURCES) == 1);
                CHECK(i, streq(res.events[0].detail, cases[i].text));
                /* the heartbeat is not an actuator: it keeps its level */
                CHECK(i, res.out.line[LINE_HEARTBEAT] == true);
                CHECK(i, !res.out.line[LINE_POWER_RELAY] && res.out.value[SIGNAL_ROLLER_ENABLE] == 0);
                CHECK(i, s.estops == 1);
                /* again: relay cut again, no second event, first reason kept */
                CHECK(i, safety_estop(&s, SAFETY_STOP_REMOTE, NULL, T0 + MS(12), &res) == 0);
                CHECK(i, res.actions & SAFETY_ACTION_CUT_RELAY);
                CHECK(i, res.n_events == 0 && s.estops == 1);
                CHECK(i, streq(safety_estop_text(&s), cases[i].text));
        }
}

static void test_sr2_start_needs_button(void **state) {
        SafetyVerdict v;

        assert_int_equal(safety_check_start(&s, &si, false, &v), 0);
        assert_int_equal(v.refusal, SAFETY_REFUSAL_NONE);
        cfg.gpio.lines[LINE_ESTOP].configured = false;
        assert_int_equal(safety_check_start(&s, &si, true, &v), -EPERM);
        assert_int_equal(v.rule, SR_ESTOP_SOURCES);
        assert_int_equal(v.refusal, SAFETY_REFUSAL_NOT_PERMITTED);
        cfg.gpio.lines[LINE_ESTOP].configured = true;
        cfg.gpio.backend = GPIO_BACKEND_NONE;
        assert_int_equal(safety_check_start(&s, &si, true, &v), -EPERM);
}

/* ---- SR-3 latch and reset ---- */

static void test_sr3_reset_conditions(void **state) {
        static const struct {
                bool pressed, unreadable, board_lost, optional_lost, bad_force;
                int ret;
                SafetyRule rule;
                SafetyRefusal refusal;
        } cases[] = {
                {false, false, false, false, false, 0, SR_NONE, SAFETY_REFUSAL_NONE},
                {true, false, false, false, false, -EBUSY, SR_ESTOP_RESET, SAFETY_REFUSAL_ESTOP},
                {false, true, false, false, false, -EBUSY, SR_ESTOP_RESET, SAFETY_REFUSAL_ESTOP},
                {false, false, true, false, false, -EBUSY, SR_COMM_LOSS, SAFETY_REFUSAL_HARDWARE},
                {false, false, false, true, false, 0, SR_NONE, SAFETY_REFUSAL_NONE},
                {false, false, false, false, true, -EBUSY, SR_PLAUSIBILITY, SAFETY_REFUSAL_HARDWARE},
        };
        SafetyVerdict v;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                setup(NULL);
                (void)safety_estop(&s, SAFETY_STOP_REMOTE, NULL, T0, &res);
                in.line[LINE_ESTOP] = cases[i].pressed;
                in.line_valid[LINE_ESTOP] = !cases[i].unreadable;
                boards[1].lost = cases[i].board_lost;
                boards[2].lost = cases[i].optional_lost;
                in.value[SIGNAL_ROLLER_FORCE] = cases[i].bad_force ? 400.1 : 400;
                CHECK(i, safety_reset(&s, &si, T0 + MS(10), &v, &res) == cases[i].ret);
                CHECK(i, v.rule == cases[i].rule && v.refusal == cases[i].refusal);
                CHECK(i, safety_latched(&s) == (cases[i].ret < 0));
                CHECK(i, events(SAFETY_EVENT_RESET, SR_ESTOP_RESET) == (cases[i].ret < 0 ? 0u : 1u));
                CHECK(i, cases[i].ret < 0 || (safety_estop_reason(&s) == SAFETY_STOP_NONE &&
                                              streq(safety_estop_text(&s), "")));
        }
        /* the refusal names the board */
        setup(NULL);
        boards[1].lost = true;
        step(T0);
        assert_string_equal(safety_estop_text(&s), "comm-loss:airbag");
        assert_int_equal(safety_reset(&s, &si, T0, &v, &res), -EBUSY);
        assert_string_equal(v.reason, "board airbag not answering");
}

static void test_sr3_reset_when_not_latched(void **state) {
        SafetyVerdict v;

        assert_int_equal(safety_reset(&s, &si, T0, &v, &res), 0);
        assert_int_equal(res.n_events, 0);
        assert_false(safety_latched(&s));
}

static void test_sr3_no_automatic_resume(void **state) {
        SafetyVerdict v;

        step(T0);
        (void)safety_estop(&s, SAFETY_STOP_BUTTON, NULL, T0 + MS(1), &res);
        /* released and reset while the manager still holds the session: motion stays off */
        assert_int_equal(safety_reset(&s, &si, T0 + MS(20), &v, &res), 0);
        assert_false(safety_latched(&s));
        step(T0 + MS(30));
        assert_true(res.out.line[LINE_POWER_RELAY]);
        assert_true(res.out.value[SIGNAL_ROLLER_ENABLE] == 0 && res.out.value[SIGNAL_HEAT_ENABLE] == 0);
        assert_true(res.out.value[SIGNAL_ROLLER_FORCE_SETPOINT] == 0);
        assert_true(res.actions & SAFETY_ACTION_END_SESSION);
        assert_int_equal(safety_check_start(&s, &si, false, &v), -EBUSY);
        assert_int_equal(v.refusal, SAFETY_REFUSAL_BUSY);
        /* a jog keeps the hold too */
        si.session_active = false;
        si.jog_active = true;
        step(T0 + MS(40));
        assert_true(res.out.value[SIGNAL_ROLLER_ENABLE] == 0);
        /* the manager ended it: the next session may run */
        si.jog_active = false;
        step(T0 + MS(50));
        assert_false(res.actions & SAFETY_ACTION_END_SESSION);
        assert_int_equal(safety_check_start(&s, &si, false, &v), 0);
        si.session_active = true;
        step(T0 + MS(60));
        assert_true(res.out.value[SIGNAL_ROLLER_ENABLE] == 1);
}

static void test_sr3_reset_without_session_goes_idle(void **state) {
        SafetyVerdict v;

        (void)safety_estop(&s, SAFETY_STOP_REMOTE, NULL, T0, &res);
        si.session_active = false;
        assert_int_equal(safety_reset(&s, &si, T0 + MS(10), &v, &res), 0);
        assert_int_equal(safety_check_start(&s, &si, false, &v), 0);
        si.jog_active = true;
        assert_int_equal(safety_reset(&s, &si, T0 + MS(10), &v, &res), 0);
        (void)safety_estop(&s, SAFETY_STOP_REMOTE, NULL, T0, &res);
        assert_int_equal(safety_reset(&s, &si, T0 + MS(10), &v, &res), 0);
        assert_int_equal(safety_check_start(&s, &si, true, &v), -EBUSY);
}

static void test_sr3_start_refused_while_latched(void **state) {
        SafetyVerdict v;

        (void)safety_estop(&s, SAFETY_STOP_REMOTE, NULL, T0, &res);
        assert_int_equal(safety_check_start(&s, &si, true, &v), -ECANCELED);
        assert_int_equal(v.refusal, SAFETY_REFUSAL_ESTOP);
        assert_int_equal(v.rule, SR_ESTOP_RESET);
        assert_string_equal(v.reason, "emergency stop latched (remote)");
}

static void test_sr3_latch_leaves_untrained(void **state) {
        SafetyVerdict v;

        si.session_active = false;
        in.line[LINE_INTERLOCK] = true;
        assert_int_equal(safety_enter_untrained(&s, &si, &v), 0);
        (void)safety_estop(&s, SAFETY_STOP_REMOTE, NULL, T0, &res);
        assert_true(res.actions & SAFETY_ACTION_LEAVE_UNTRAINED);
        assert_int_equal(safety_mode(&s), SAFETY_MODE_PROGRAM);
        (void)safety_estop(&s, SAFETY_STOP_REMOTE, NULL, T0, &res);
        assert_false(res.actions & SAFETY_ACTION_LEAVE_UNTRAINED);
}

/* ---- SR-4 start-up ---- */

static void test_sr4_unclean_restart_latched(void **state) {
        static const struct {
                bool unclean;
                const char *text;
        } cases[] = {
                {false, ""},
                {true, "unclean-restart"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                fixture_config();
                CHECK(i, safety_init(&s, &cfg, cases[i].unclean, T0) == 0);
                CHECK(i, outputs_all_safe(&s.last_out) && !s.last_out.line[LINE_HEARTBEAT]);
                CHECK(i, safety_latched(&s) == cases[i].unclean);
                CHECK(i, streq(safety_estop_text(&s), cases[i].text));
                CHECK(i, s.estops == (cases[i].unclean ? 1u : 0u));
                CHECK(i, safety_mode(&s) == SAFETY_MODE_PROGRAM);
                step(T0 + MS(10));
                CHECK(i, outputs_all_safe(&res.out) == cases[i].unclean);
                /* the first cycle: the heartbeat waits for a finished cycle */
                CHECK(i, !res.out.line[LINE_HEARTBEAT]);
        }
}

static void test_sr4_bad_config_stays_latched(void **state) {
        SafetyVerdict v;

        zones[Z_NECK].neck = false;
        assert_int_equal(safety_init(&s, &cfg, false, T0), -EINVAL);
        assert_true(safety_latched(&s));
        assert_string_equal(safety_estop_text(&s), "internal:config");
        assert_int_equal(safety_limit_get(&s, SAFETY_LIMIT_NECK_FORCE), 0);
        step(T0);
        assert_true(outputs_all_safe(&res.out));
        assert_int_equal(safety_reset(&s, &si, T0, &v, &res), -EINVAL);
        assert_int_equal(v.rule, SR_STARTUP);
        assert_true(safety_limit_cap(&s, SAFETY_LIMIT_NECK_FORCE) == 0);
        /* too many zones; the last one is the neck */
        static ZoneConfig many[SAFETY_ZONES_MAX + 1];
        many[SAFETY_ZONES_MAX] = zones[Z_NECK];
        many[SAFETY_ZONES_MAX].neck = true;
        cfg.zones = many;
        cfg.n_zones = SAFETY_ZONES_MAX + 1;
        assert_int_equal(safety_init(&s, &cfg, false, T0), -EINVAL);
        many[SAFETY_ZONES_MAX - 1] = many[SAFETY_ZONES_MAX];
        cfg.n_zones = SAFETY_ZONES_MAX;
        assert_int_equal(safety_init(&s, &cfg, false, T0), 0);
        assert_true(s.neck_config == &many[SAFETY_ZONES_MAX - 1]);
        /* the neck as the first zone */
        many[0] = many[SAFETY_ZONES_MAX];
        cfg.n_zones = 1;
        assert_int_equal(safety_init(&s, &cfg, false, T0), 0);
        assert_true(s.neck_config == &many[0]);
}

static void test_sr4_update_config(void **state) {
        Config c2;
        ZoneConfig z2[5];

        assert_int_equal(safety_limit_set(&s, SAFETY_LIMIT_MAX_FORCE, 100), 0);
        assert_int_equal(safety_limit_set(&s, SAFETY_LIMIT_SESSION, 600), 0);
        assert_int_equal(safety_limit_set(&s, SAFETY_LIMIT_HEAT_TEMP, 0.5), 0);
        memcpy(z2, zones, sizeof z2);
        c2 = cfg;
        c2.zones = z2;
        c2.limits.max_force_n = 90;
        c2.limits.max_session_s = 900;
        c2.limits.max_speed_mm_s = 200;
        c2.control_rate_hz = 50;
        z2[Z_NECK].to_mm = 0;
        assert_int_equal(safety_update_config(&s, &c2), 0);
        assert_true(s.config == &c2);
        assert_true(NEAR(safety_limit_get(&s, SAFETY_LIMIT_MAX_FORCE), 90));
        assert_true(NEAR(safety_limit_get(&s, SAFETY_LIMIT_SESSION), 600));
        assert_true(NEAR(safety_limit_get(&s, SAFETY_LIMIT_NECK_FORCE), 35));
        assert_true(NEAR(safety_limit_get(&s, SAFETY_LIMIT_HEAT_TEMP), 0.5));
        /* not lowered: follows the new cap up */
        assert_true(NEAR(safety_limit_get(&s, SAFETY_LIMIT_MAX_SPEED), 200));
        assert_int_equal(s.period, MS(20));
        /* the neck follows the new zones at once (conservative: no scan yet) */
        assert_true(NEAR(safety_neck_zone(&s)->to_mm, 260));
        /* a config without a neck is refused, nothing changes */
        z2[Z_NECK].neck = false;
        assert_int_equal(safety_update_config(&s, &c2), -EINVAL);
        assert_true(s.config == &c2 && s.neck_config == &z2[Z_NECK]);
        z2[Z_NECK].neck = true;
        c2.control_rate_hz = 0;
        assert_int_equal(safety_update_config(&s, &c2), 0);
        assert_int_equal(s.period, SEC(1));
        /* after a failed init the caps apply */
        zones[Z_NECK].neck = false;
        assert_int_equal(safety_init(&s, &cfg, false, T0), -EINVAL);
        assert_int_equal(safety_update_config(&s, &c2), 0);
        assert_true(NEAR(safety_limit_get(&s, SAFETY_LIMIT_MAX_FORCE), 90));
        assert_true(safety_latched(&s));
}

/* ---- SR-5 systemd watchdog ---- */

static void test_sr5_watchdog_on_time_only(void **state) {
        static const struct {
                usec_t finished;
                bool kick;
        } cases[] = {
                {T0 + MS(10) - 1, true},
                {T0 + MS(10), true},
                {T0 + MS(10) + 1, false},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                CHECK(i, safety_cycle_done(&s, T0 + MS(10), cases[i].finished) == cases[i].kick);
                CHECK(i, s.cycle_on_time == cases[i].kick);
        }
}

/* ---- SR-6 GPIO heartbeat ---- */

static void test_sr6_heartbeat_only_while_healthy(void **state) {
        static const struct {
                bool stepped, on_time, fault;
                usec_t age;
                bool ok;
        } cases[] = {
                {true, true, false, 0, true},           {true, true, false, MS(30), true},
                {true, true, false, MS(30) + 1, false}, {false, true, false, 0, false},
                {true, false, false, 0, false},         {true, true, true, 0, false},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                setup(NULL);
                if (cases[i].stepped)
                        step(T0);
                (void)safety_cycle_done(&s, T0 + MS(10), cases[i].on_time ? T0 : T0 + MS(11));
                s.fault = cases[i].fault;
                CHECK(i, safety_heartbeat_ok(&s, T0 + cases[i].age) == cases[i].ok);
        }
}

static void test_sr6_heartbeat_line_frozen(void **state) {
        step(T0);
        assert_false(res.out.line[LINE_HEARTBEAT]);
        (void)safety_cycle_done(&s, T0 + MS(10), T0 + MS(1));
        step(T0 + MS(10));
        assert_true(res.out.line[LINE_HEARTBEAT]);
        /* a late cycle freezes the line at its last level, whatever the manager wants */
        (void)safety_cycle_done(&s, T0 + MS(20), T0 + MS(21));
        want.line[LINE_HEARTBEAT] = false;
        step(T0 + MS(20));
        assert_true(res.out.line[LINE_HEARTBEAT]);
        (void)safety_cycle_done(&s, T0 + MS(30), T0 + MS(21));
        step(T0 + MS(30));
        assert_false(res.out.line[LINE_HEARTBEAT]);
}

/* ---- SR-8 communication loss ---- */

static void test_sr8_comm_loss(void **state) {
        static const struct {
                size_t board;
                bool lost;
                const char *text;
        } cases[] = {
                {0, false, ""},
                {0, true, "comm-loss:roller"},
                {1, true, "comm-loss:airbag"},
                {2, true, ""}, /* not required */
        };
        SafetyVerdict v;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                setup(NULL);
                boards[cases[i].board].lost = cases[i].lost;
                step(T0);
                CHECK(i, streq(safety_estop_text(&s), cases[i].text));
                CHECK(i, safety_latched(&s) == (cases[i].text[0] != '\0'));
                CHECK(i, events(SAFETY_EVENT_ESTOP, SR_COMM_LOSS) == (cases[i].text[0] ? 1u : 0u));
                CHECK(i, safety_estop_reason(&s) ==
                                 (cases[i].text[0] ? SAFETY_STOP_COMM_LOSS : SAFETY_STOP_NONE));
        }
        /* a start with a required board lost is refused even before a step latched */
        setup(NULL);
        boards[0].lost = true;
        assert_int_equal(safety_check_start(&s, &si, true, &v), -EIO);
        assert_int_equal(v.refusal, SAFETY_REFUSAL_HARDWARE);
        assert_int_equal(v.rule, SR_COMM_LOSS);
}

/* ---- SR-13 caps ---- */

static void test_sr13_limits_only_lowered(void **state) {
        static const struct {
                SafetyLimit id;
                double cap;
        } caps[] = {
                {SAFETY_LIMIT_MAX_FORCE, 120}, {SAFETY_LIMIT_NECK_FORCE, 35},
                {SAFETY_LIMIT_MAX_SPEED, 150}, {SAFETY_LIMIT_SESSION, 1800},
                {SAFETY_LIMIT_HEAT_TEMP, 45},  {SAFETY_LIMIT_UNTRAINED_FORCE, 60},
        };

        for (size_t i = 0; i < ELEMENTSOF(caps); i++) {
                SafetyLimit id = caps[i].id;

                CHECK(i, NEAR(safety_limit_cap(&s, id), caps[i].cap));
                CHECK(i, NEAR(safety_limit_get(&s, id), caps[i].cap));
                CHECK(i, safety_limit_set(&s, id, caps[i].cap + 0.001) == -EPERM);
                CHECK(i, safety_limit_set(&s, id, 0) == -EINVAL);
                CHECK(i, safety_limit_set(&s, id, -1) == -EINVAL);
                CHECK(i, safety_limit_set(&s, id, NAN) == -EINVAL);
                CHECK(i, NEAR(safety_limit_get(&s, id), caps[i].cap));
                CHECK(i, safety_limit_set(&s, id, 0.001) == 0);
                CHECK(i, NEAR(safety_limit_get(&s, id), 0.001));
                CHECK(i, s.lowered[id]);
                CHECK(i, safety_limit_set(&s, id, caps[i].cap) == 0);
                CHECK(i, NEAR(safety_limit_get(&s, id), caps[i].cap));
                CHECK(i, !s.lowered[id]);
        }
        assert_int_equal(safety_limit_set(&s, _SAFETY_LIMIT_MAX, 1), -EINVAL);
        assert_int_equal(safety_limit_set(&s, -1, 1), -EINVAL);
        assert_true(safety_limit_get(&s, _SAFETY_LIMIT_MAX) == 0);
        assert_true(safety_limit_get(&s, -1) == 0);
        assert_true(safety_limit_cap(&s, _SAFETY_LIMIT_MAX) == 0);
}

static void test_sr13_lowered_limit_applies(void **state) {
        /* upper-back allows 120: the technician's 100 wins */
        assert_int_equal(safety_limit_set(&s, SAFETY_LIMIT_MAX_FORCE, 100), 0);
        want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = 100.5;
        step(T0);
        assert_true(NEAR(res.out.value[SIGNAL_ROLLER_FORCE_SETPOINT], 100));
        assert_int_equal(events(SAFETY_EVENT_LIMIT, SR_CAPS), 1);
        assert_string_equal(event_detail(SAFETY_EVENT_LIMIT), "force 100.5 N clamped to 100.0 N (cap)");
        /* the neck: 30 instead of 35 (after a cycle without a clamp: a new episode) */
        want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = 30;
        step(T0 + MS(10));
        assert_int_equal(res.n_events, 0);
        assert_int_equal(safety_limit_set(&s, SAFETY_LIMIT_NECK_FORCE, 30), 0);
        in.value[SIGNAL_ROLLER_POSITION] = want.value[SIGNAL_ROLLER_TARGET] = 150;
        want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = 30.5;
        step(T0 + MS(20));
        assert_true(NEAR(res.out.value[SIGNAL_ROLLER_FORCE_SETPOINT], 30));
        assert_int_equal(events(SAFETY_EVENT_LIMIT, SR_NECK_ZONE), 1);
}

/* ---- SR-14 program steps ---- */

static void test_sr14_program_step_check(void **state) {
        static const struct {
                const char *zone;
                Technique t;
                double force, speed;
                int ret;
                SafetyRule rule;
        } cases[] = {
                {"neck", TECHNIQUE_KNEAD, 35, 150, 0, SR_NONE},
                {"neck", TECHNIQUE_KNEAD, 35.1, 10, -ERANGE, SR_NECK_ZONE},
                {"neck", TECHNIQUE_TAP, 10, 10, -EPERM, SR_ZONE_CLAMP},
                {"neck", TECHNIQUE_NONE, 0, 0, 0, SR_NONE},
                {"shoulders", TECHNIQUE_TAP, 90, 10, 0, SR_NONE},
                {"shoulders", TECHNIQUE_TAP, 90.1, 10, -ERANGE, SR_ZONE_CLAMP},
                {"upper-back", TECHNIQUE_PRESS, 120, 150.1, -ERANGE, SR_MOTION_LIMITS},
                {"upper-back", TECHNIQUE_PRESS, 120.1, 10, -ERANGE, SR_ZONE_CLAMP},
                {"hips", TECHNIQUE_KNEAD, 10, 10, -ENOENT, SR_PROGRAM_CHECK},
                {NULL, TECHNIQUE_KNEAD, 10, 10, -ENOENT, SR_PROGRAM_CHECK},
                {"lumbar", _TECHNIQUE_MAX, 10, 10, -EINVAL, SR_PROGRAM_CHECK},
                {"lumbar", -1, 10, 10, -EINVAL, SR_PROGRAM_CHECK},
                {"lumbar", TECHNIQUE_KNEAD, -0.1, 10, -EINVAL, SR_PROGRAM_CHECK},
                {"lumbar", TECHNIQUE_KNEAD, NAN, 10, -EINVAL, SR_PROGRAM_CHECK},
                {"lumbar", TECHNIQUE_KNEAD, 10, -0.1, -EINVAL, SR_PROGRAM_CHECK},
                {"lumbar", TECHNIQUE_KNEAD, 10, NAN, -EINVAL, SR_PROGRAM_CHECK},
        };
        SafetyVerdict v;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                CHECK(i, safety_check_step(&s, cases[i].zone, cases[i].t, cases[i].force, cases[i].speed,
                                           &v) == cases[i].ret);
                CHECK(i, v.rule == cases[i].rule);
                CHECK(i, v.refusal == (cases[i].ret ? (cases[i].ret == -EPERM ? SAFETY_REFUSAL_NOT_PERMITTED
                                                                              : SAFETY_REFUSAL_INVALID)
                                                    : SAFETY_REFUSAL_NONE));
        }
        /* against the effective (lowered) caps, and in program mode whatever the current mode */
        assert_int_equal(safety_limit_set(&s, SAFETY_LIMIT_MAX_FORCE, 100), 0);
        assert_int_equal(safety_check_step(&s, "upper-back", TECHNIQUE_KNEAD, 100.1, 10, &v), -ERANGE);
        assert_int_equal(v.rule, SR_CAPS);
        assert_string_equal(v.reason, "force 100.1 N over the cap 100.0 N");
        assert_int_equal(safety_check_step(&s, "upper-back", TECHNIQUE_KNEAD, 100, 10, &v), 0);
        assert_int_equal(safety_limit_set(&s, SAFETY_LIMIT_NECK_FORCE, 30), 0);
        assert_int_equal(safety_check_step(&s, "neck", TECHNIQUE_KNEAD, 30.1, 10, &v), -ERANGE);
        s.mode = SAFETY_MODE_UNTRAINED;
        assert_int_equal(safety_check_step(&s, "neck", TECHNIQUE_KNEAD, 30, 10, &v), 0);
}

/* ---- SR-15 untrained-mode entry ---- */

static void test_sr15_untrained_entry(void **state) {
        static const struct {
                bool disabled, latched, key, key_unreadable, session, jog, hold, scanned;
                double shoulder;
                int ret;
                SafetyRefusal refusal;
        } cases[] = {
                {.key = true, .scanned = true, .shoulder = 200, .ret = 0},
                {.key = true, .scanned = true, .shoulder = 120, .ret = 0},
                {.key = true, .scanned = true, .shoulder = 260, .ret = 0},
                {.disabled = true,
                 .key = true,
                 .scanned = true,
                 .shoulder = 200,
                 .ret = -EPERM,
                 .refusal = SAFETY_REFUSAL_NOT_PERMITTED},
                {.latched = true,
                 .key = true,
                 .scanned = true,
                 .shoulder = 200,
                 .ret = -ECANCELED,
                 .refusal = SAFETY_REFUSAL_ESTOP},
                {.key = false,
                 .scanned = true,
                 .shoulder = 200,
                 .ret = -EPERM,
                 .refusal = SAFETY_REFUSAL_INTERLOCK},
                {.key = true,
                 .key_unreadable = true,
                 .scanned = true,
                 .shoulder = 200,
                 .ret = -EPERM,
                 .refusal = SAFETY_REFUSAL_INTERLOCK},
                {.key = true,
                 .session = true,
                 .scanned = true,
                 .shoulder = 200,
                 .ret = -EBUSY,
                 .refusal = SAFETY_REFUSAL_BUSY},
                {.key = true,
                 .jog = true,
                 .scanned = true,
                 .shoulder = 200,
                 .ret = -EBUSY,
                 .refusal = SAFETY_REFUSAL_BUSY},
                {.key = true,
                 .hold = true,
                 .scanned = true,
                 .shoulder = 200,
                 .ret = -EBUSY,
                 .refusal = SAFETY_REFUSAL_BUSY},
                {.key = true,
                 .scanned = false,
                 .shoulder = 200,
                 .ret = -EPERM,
                 .refusal = SAFETY_REFUSAL_NOT_PERMITTED},
                {.key = true,
                 .scanned = true,
                 .shoulder = 119.9,
                 .ret = -EPERM,
                 .refusal = SAFETY_REFUSAL_NOT_PERMITTED},
                {.key = true,
                 .scanned = true,
                 .shoulder = 260.1,
                 .ret = -EPERM,
                 .refusal = SAFETY_REFUSAL_NOT_PERMITTED},
        };
        SafetyVerdict v;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                setup(NULL);
                cfg.untrained.enabled = !cases[i].disabled;
                if (cases[i].latched)
                        (void)safety_estop(&s, SAFETY_STOP_REMOTE, NULL, T0, &res);
                in.line[LINE_INTERLOCK] = cases[i].key;
                in.line_valid[LINE_INTERLOCK] = !cases[i].key_unreadable;
                si.session_active = cases[i].session;
                si.jog_active = cases[i].jog;
                s.hold = cases[i].hold;
                si.scanned = cases[i].scanned;
                si.shoulder_mm = cases[i].shoulder;
                CHECK(i, safety_enter_untrained(&s, &si, &v) == cases[i].ret);
                CHECK(i, v.refusal == cases[i].refusal);
                CHECK(i, v.rule == (cases[i].ret ? SR_UNTRAINED_ENTRY : SR_NONE));
                CHECK(i, safety_mode(&s) == (cases[i].ret ? SAFETY_MODE_PROGRAM : SAFETY_MODE_UNTRAINED));
        }
}

/* ---- names ---- */

static void test_names(void **state) {
        assert_string_equal(safety_rule_to_string(SR_NONE), "none");
        assert_string_equal(safety_mode_to_string(SAFETY_MODE_PROGRAM), "program");
        assert_string_equal(safety_rule_to_string(SR_SAFE_STATE), "SR-1");
        assert_string_equal(safety_rule_to_string(SR_AIRBAG), "SR-23");
        assert_null(safety_rule_to_string(_SR_MAX));
        assert_null(safety_rule_to_string(-1));
        for (int i = 1; i < _SR_MAX; i++) {
                char buf[16];

                (void)snprintf(buf, sizeof buf, "SR-%d", i);
                assert_string_equal(safety_rule_to_string(i), buf);
        }
        assert_string_equal(safety_stop_reason_to_string(SAFETY_STOP_UNCLEAN_RESTART), "unclean-restart");
        assert_int_equal(safety_stop_reason_from_string("comm-loss"), SAFETY_STOP_COMM_LOSS);
        assert_int_equal(safety_stop_reason_from_string("none"), SAFETY_STOP_NONE);
        assert_int_equal(safety_stop_reason_from_string("sensor-fault"), SAFETY_STOP_SENSOR_FAULT);
        assert_int_equal(safety_stop_reason_from_string("nope"), -EINVAL);
        assert_int_equal(safety_stop_reason_from_string(NULL), -EINVAL);
        assert_string_equal(safety_event_kind_to_string(SAFETY_EVENT_CONTROLLED_STOP), "controlled-stop");
        assert_null(safety_event_kind_to_string(_SAFETY_EVENT_KIND_MAX));
        assert_string_equal(safety_mode_to_string(SAFETY_MODE_UNTRAINED), "untrained");
        assert_string_equal(safety_limit_to_string(SAFETY_LIMIT_NECK_FORCE), "neck-max-force-n");
        assert_int_equal(safety_limit_from_string("max-session-s"), SAFETY_LIMIT_SESSION);
        assert_int_equal(safety_limit_from_string("untrained-max-force-n"), SAFETY_LIMIT_UNTRAINED_FORCE);
        assert_string_equal(safety_refusal_to_string(SAFETY_REFUSAL_NOT_OCCUPIED), "NotOccupied");
        assert_null(safety_refusal_to_string(_SAFETY_REFUSAL_MAX));
}

static void test_events_overflow(void **state) {
        SafetyResult r = {};

        for (int i = 0; i < SAFETY_EVENTS_MAX + 2; i++)
                safety_event_add(&r, SAFETY_EVENT_LIMIT, SR_CAPS, "%d", i);
        assert_int_equal(r.n_events, SAFETY_EVENTS_MAX);
        assert_int_equal(r.events_dropped, 2);
        assert_string_equal(r.events[SAFETY_EVENTS_MAX - 1].detail, "15");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_sr1_latched_outputs_safe, setup),
                cmocka_unit_test_setup(test_sr1_relay_only_when_not_latched, setup),
                cmocka_unit_test_setup(test_sr1_non_finite_output_safe, setup),
                cmocka_unit_test_setup(test_sr2_button_line, setup),
                cmocka_unit_test_setup(test_sr2_estop_request, setup),
                cmocka_unit_test_setup(test_sr2_start_needs_button, setup),
                cmocka_unit_test_setup(test_sr3_reset_conditions, setup),
                cmocka_unit_test_setup(test_sr3_reset_when_not_latched, setup),
                cmocka_unit_test_setup(test_sr3_no_automatic_resume, setup),
                cmocka_unit_test_setup(test_sr3_reset_without_session_goes_idle, setup),
                cmocka_unit_test_setup(test_sr3_start_refused_while_latched, setup),
                cmocka_unit_test_setup(test_sr3_latch_leaves_untrained, setup),
                cmocka_unit_test_setup(test_sr4_unclean_restart_latched, setup),
                cmocka_unit_test_setup(test_sr4_bad_config_stays_latched, setup),
                cmocka_unit_test_setup(test_sr4_update_config, setup),
                cmocka_unit_test_setup(test_sr5_watchdog_on_time_only, setup),
                cmocka_unit_test_setup(test_sr6_heartbeat_only_while_healthy, setup),
                cmocka_unit_test_setup(test_sr6_heartbeat_line_frozen, setup),
                cmocka_unit_test_setup(test_sr8_comm_loss, setup),
                cmocka_unit_test_setup(test_sr13_limits_only_lowered, setup),
                cmocka_unit_test_setup(test_sr13_lowered_limit_applies, setup),
                cmocka_unit_test_setup(test_sr14_program_step_check, setup),
                cmocka_unit_test_setup(test_sr15_untrained_entry, setup),
                cmocka_unit_test_setup(test_names, setup),
                cmocka_unit_test_setup(test_events_overflow, setup),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
