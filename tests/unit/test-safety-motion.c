/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the safety supervisor's roller rules: neck zone, zone clamps, over-limit retract, hard
 * limit, untrained limits, interlock loss and session time (SR-9..12, SR-16..18 of docs/safety.md).
 * Zones with the scan at 200 mm: neck 90..210, shoulders 210..290, upper-back 290..420, mid-back
 * 420..550, lumbar 550..680; no zone elsewhere. */
#include "test-safety-fixture.h"

/* ---- SR-9 neck zone ---- */

static void test_sr9_neck_zone_from_scan(void **state) {
        static const struct {
                bool scanned;
                double shoulder, from, to;
        } cases[] = {
                {true, 200, 90, 210}, {false, 200, 10, 270}, {true, 119.9, 10, 270},
                {true, 120, 10, 130}, {true, 260, 150, 270}, {true, 260.1, 10, 270},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                setup(NULL);
                si.scanned = cases[i].scanned;
                si.shoulder_mm = cases[i].shoulder;
                step(T0);
                CHECK(i, NEAR(safety_neck_zone(&s)->from_mm, cases[i].from));
                CHECK(i, NEAR(safety_neck_zone(&s)->to_mm, cases[i].to));
                CHECK(i, streq(safety_neck_zone(&s)->name, "neck"));
        }
}

static void test_sr9_zone_at(void **state) {
        static const struct {
                double pos;
                const char *zone;
        } cases[] = {
                {89.9, NULL},       {90, "neck"},    {209.9, "neck"},
                {210, "shoulders"}, {680, "lumbar"}, {680.1, NULL},
        };

        step(T0);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *z = safety_zone_at(&s, cases[i].pos);
                CHECK(i, cases[i].zone ? z && streq(z, cases[i].zone) : !z);
        }
}

static void test_sr9_force_clamp_by_position(void **state) {
        static const struct {
                bool scanned;
                double pos, limit;
                SafetyRule rule;
                const char *detail;
        } cases[] = {
                {true, 89.9, 35, SR_NECK_ZONE, "force 200.0 N clamped to 35.0 N (no zone)"},
                {true, 90, 35, SR_NECK_ZONE, "force 200.0 N clamped to 35.0 N (neck)"},
                {true, 210, 35, SR_NECK_ZONE, "force 200.0 N clamped to 35.0 N (neck)"},
                {true, 210.1, 90, SR_ZONE_CLAMP, "force 200.0 N clamped to 90.0 N (shoulders)"},
                {true, 290, 90, SR_ZONE_CLAMP, "force 200.0 N clamped to 90.0 N (shoulders)"},
                {true, 290.1, 120, SR_CAPS, "force 200.0 N clamped to 120.0 N (cap)"},
                {true, 680, 110, SR_ZONE_CLAMP, "force 200.0 N clamped to 110.0 N (lumbar)"},
                {true, 680.1, 35, SR_NECK_ZONE, "force 200.0 N clamped to 35.0 N (no zone)"},
                {true, 700, 35, SR_NECK_ZONE, "force 200.0 N clamped to 35.0 N (no zone)"},
                {false, 9.9, 35, SR_NECK_ZONE, "force 200.0 N clamped to 35.0 N (no zone)"},
                {false, 270, 35, SR_NECK_ZONE, "force 200.0 N clamped to 35.0 N (neck)"},
                {false, 270.1, 90, SR_ZONE_CLAMP, "force 200.0 N clamped to 90.0 N (shoulders)"},
                {false, 350.1, 120, SR_CAPS, "force 200.0 N clamped to 120.0 N (cap)"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                setup(NULL);
                si.scanned = cases[i].scanned;
                at(cases[i].pos, cases[i].pos);
                want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = 200;
                want.value[SIGNAL_ROLLER_TECHNIQUE] = TECHNIQUE_NONE;
                step(T0);
                CHECK(i, NEAR(res.out.value[SIGNAL_ROLLER_FORCE_SETPOINT], cases[i].limit));
                CHECK(i, events(SAFETY_EVENT_LIMIT, cases[i].rule) == 1);
                CHECK(i, res.n_events == 1);
                CHECK(i, streq(res.events[0].detail, cases[i].detail));
                /* exactly at the limit: sent as is, no event */
                want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = cases[i].limit;
                step(T0 + MS(10));
                CHECK(i, NEAR(res.out.value[SIGNAL_ROLLER_FORCE_SETPOINT], cases[i].limit));
                CHECK(i, res.n_events == 0);
        }
}

static void test_sr9_force_clamp_along_path(void **state) {
        static const struct {
                double pos, target, limit;
                bool gap, pos_invalid, overlap;
        } cases[] = {
                {300, 100, 35, false, false, false},  /* heading through the neck */
                {100, 300, 35, false, false, false},  /* leaving the neck */
                {300, 215, 90, false, false, false},  /* shoulders and upper-back */
                {215, 290, 90, false, false, false},  /* a zone that ends exactly at the target */
                {89, 95, 35, false, false, false},    /* from no zone into the neck */
                {600, 690, 35, false, false, false},  /* past the last zone */
                {600, 680, 110, false, false, false}, /* up to the end of the last zone */
                {250, 300, 35, true, false, false},   /* shoulders end at 280, upper-back starts at 290 */
                {250, 280, 80, true, false, false},
                {285, 300, 35, true, false, false},   /* starts in the gap */
                {290, 300, 120, true, false, false},  /* starts where upper-back starts */
                {300, 380, 90, false, false, true},   /* upper-back ends inside the long shoulders */
                {600, 500, 110, false, false, false}, /* heading back from lumbar */
                {300, 300, 35, false, true, false},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                setup(NULL);
                if (cases[i].gap) {
                        zones[Z_SHOULDERS].to_mm = 80;
                        zones[Z_SHOULDERS].max_force_n = 80;
                }
                if (cases[i].overlap) {
                        /* shoulders 210..400 hold upper-back 290..320 */
                        zones[Z_SHOULDERS].to_mm = 200;
                        zones[Z_UPPER].to_mm = 120;
                }
                at(cases[i].pos, cases[i].target);
                in.valid[SIGNAL_ROLLER_POSITION] = !cases[i].pos_invalid;
                want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = 200;
                want.value[SIGNAL_ROLLER_TECHNIQUE] = TECHNIQUE_NONE;
                step(T0);
                CHECK(i, NEAR(res.out.value[SIGNAL_ROLLER_FORCE_SETPOINT], cases[i].limit));
                CHECK(i, NEAR(res.out.value[SIGNAL_ROLLER_TARGET], cases[i].target));
        }
        /* the neck and no zone both at 35: the event names the zone */
        setup(NULL);
        at(89, 95);
        want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = 200;
        want.value[SIGNAL_ROLLER_TECHNIQUE] = TECHNIQUE_NONE;
        step(T0);
        assert_string_equal(res.events[0].detail, "force 200.0 N clamped to 35.0 N (neck)");
        assert_int_equal(res.events[0].rule, SR_NECK_ZONE);
}

/* ---- SR-10 zone clamp (force and technique) ---- */

static void test_sr10_technique_by_zone(void **state) {
        static const struct {
                double pos, target, technique, expected;
                SafetyRule rule;
        } cases[] = {
                {150, 150, TECHNIQUE_KNEAD, TECHNIQUE_KNEAD, SR_NONE},
                {150, 150, TECHNIQUE_GLIDE, TECHNIQUE_GLIDE, SR_NONE},
                {150, 150, TECHNIQUE_TAP, TECHNIQUE_NONE, SR_ZONE_CLAMP},
                {150, 150, TECHNIQUE_PRESS, TECHNIQUE_NONE, SR_ZONE_CLAMP},
                {250, 250, TECHNIQUE_TAP, TECHNIQUE_TAP, SR_NONE},
                {300, 100, TECHNIQUE_TAP, TECHNIQUE_NONE, SR_ZONE_CLAMP},
                {300, 211, TECHNIQUE_TAP, TECHNIQUE_TAP, SR_NONE},
                {50, 50, TECHNIQUE_TAP, TECHNIQUE_NONE, SR_ZONE_CLAMP},
                {50, 50, TECHNIQUE_ROLLING, TECHNIQUE_ROLLING, SR_NONE},
                {690, 690, TECHNIQUE_KNEAD_TAP, TECHNIQUE_NONE, SR_ZONE_CLAMP},
                {250, 250, TECHNIQUE_NONE, TECHNIQUE_NONE, SR_NONE},
                {250, 250, 7, TECHNIQUE_NONE, SR_MOTION_LIMITS},
                {250, 250, 6, TECHNIQUE_GLIDE, SR_NONE},
                {250, 250, -1, TECHNIQUE_NONE, SR_MOTION_LIMITS},
                {250, 250, 1.5, TECHNIQUE_NONE, SR_MOTION_LIMITS},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                setup(NULL);
                at(cases[i].pos, cases[i].target);
                want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = 20;
                want.value[SIGNAL_ROLLER_TECHNIQUE] = cases[i].technique;
                step(T0);
                CHECK(i, res.out.value[SIGNAL_ROLLER_TECHNIQUE] == cases[i].expected);
                CHECK(i, res.n_events == (cases[i].rule ? 1u : 0u));
                CHECK(i, events(SAFETY_EVENT_LIMIT, cases[i].rule) == res.n_events);
        }
        /* the detail names technique and zone */
        setup(NULL);
        at(150, 150);
        want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = 20;
        want.value[SIGNAL_ROLLER_TECHNIQUE] = TECHNIQUE_TAP;
        step(T0);
        assert_string_equal(res.events[0].detail, "technique tap not allowed in zone neck");
        /* a path that only touches a restricted zone at one end */
        static const struct {
                size_t zone;
                double pos, target, expected;
        } touch[] = {
                {Z_SHOULDERS, 250, 250, TECHNIQUE_NONE}, {Z_LUMBAR, 500, 550, TECHNIQUE_NONE},
                {Z_LUMBAR, 500, 549.9, TECHNIQUE_TAP},   {Z_MID, 550, 560, TECHNIQUE_NONE},
                {Z_MID, 550.1, 560, TECHNIQUE_TAP},
        };
        for (size_t i = 0; i < ELEMENTSOF(touch); i++) {
                setup(NULL);
                zones[touch[i].zone].allowed_techniques = BIT(TECHNIQUE_KNEAD);
                at(touch[i].pos, touch[i].target);
                want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = 20;
                want.value[SIGNAL_ROLLER_TECHNIQUE] = TECHNIQUE_TAP;
                step(T0);
                CHECK(i, res.out.value[SIGNAL_ROLLER_TECHNIQUE] == touch[i].expected);
        }
        /* a zone with a mask of 0 allows all */
        setup(NULL);
        zones[Z_NECK].allowed_techniques = 0;
        at(150, 150);
        want.value[SIGNAL_ROLLER_TECHNIQUE] = TECHNIQUE_TAP;
        want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = 20;
        step(T0);
        assert_true(res.out.value[SIGNAL_ROLLER_TECHNIQUE] == TECHNIQUE_TAP);
}

static void test_sr10_one_event_per_clamp_episode(void **state) {
        static const struct {
                double force;
                size_t events;
        } cases[] = {
                {121, 1}, {130, 0}, {125, 0}, {120, 0}, {121, 1}, {122, 0},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = cases[i].force;
                step(T0 + i * MS(10));
                CHECK(i, res.n_events == cases[i].events);
                CHECK(i, NEAR(res.out.value[SIGNAL_ROLLER_FORCE_SETPOINT], MIN(cases[i].force, 120)));
        }
        /* two different clamps in one cycle: one event each */
        want.value[SIGNAL_ROLLER_SPEED_LIMIT] = 151;
        want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = 10;
        want.value[SIGNAL_ROLLER_TARGET] = 800;
        step(T0 + SEC(1));
        assert_int_equal(res.n_events, 2);
        /* a negative force after an over-limit one in the same episode */
        want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = -5;
        step(T0 + SEC(2));
        assert_int_equal(events(SAFETY_EVENT_LIMIT, SR_MOTION_LIMITS), 1);
}

/* ---- SR-11 over-limit window ---- */

static void test_sr11_over_limit_window(void **state) {
        static const struct {
                double force;
                usec_t at;
                bool retract;
        } cases[] = {
                {120.1, 0, false},
                {120.1, MS(200) - 1, false},
                {120.1, MS(200), true},
        };

        no_rate_check();
        want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = 100;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                in.value[SIGNAL_ROLLER_FORCE] = cases[i].force;
                step(T0 + cases[i].at);
                CHECK(i, !!(res.actions & SAFETY_ACTION_RETRACT) == cases[i].retract);
                CHECK(i, events(SAFETY_EVENT_RETRACT, SR_OVER_LIMIT) == (cases[i].retract ? 1u : 0u));
        }
        assert_true(NEAR(res.stop_target_mm, 340));
        assert_true(NEAR(res.out.value[SIGNAL_ROLLER_TARGET], 340));
        assert_true(NEAR(res.out.value[SIGNAL_ROLLER_FORCE_SETPOINT], 60));
        assert_string_equal(event_detail(SAFETY_EVENT_RETRACT),
                            "120.1 N over the cap limit 120.0 N: roller to 340.0 mm");
        /* the retract holds until the roller is there and the force is down */
        in.value[SIGNAL_ROLLER_POSITION] = 338.9;
        in.value[SIGNAL_ROLLER_FORCE] = 50;
        step(T0 + MS(210));
        assert_true(res.actions & SAFETY_ACTION_RETRACT);
        assert_true(NEAR(res.out.value[SIGNAL_ROLLER_TARGET], 340));
        in.value[SIGNAL_ROLLER_POSITION] = 339;
        in.value[SIGNAL_ROLLER_FORCE] = 120.1;
        step(T0 + MS(220));
        assert_true(res.actions & SAFETY_ACTION_RETRACT);
        in.value[SIGNAL_ROLLER_FORCE] = 120;
        step(T0 + MS(230));
        assert_false(res.actions & SAFETY_ACTION_RETRACT);
        assert_true(NEAR(res.out.value[SIGNAL_ROLLER_TARGET], 300));
        assert_true(NEAR(res.out.value[SIGNAL_ROLLER_FORCE_SETPOINT], 100));
}

static void test_sr11_window_restarts_below_limit(void **state) {
        static const struct {
                double force;
                usec_t at;
                bool retract;
        } cases[] = {
                {120.1, 0, false},       {120, MS(100), false},       {120.1, MS(150), false},
                {120.1, MS(300), false}, {120.1, MS(350) - 1, false}, {120.1, MS(350), true},
        };

        no_rate_check();
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                in.value[SIGNAL_ROLLER_FORCE] = cases[i].force;
                step(T0 + cases[i].at);
                CHECK(i, !!(res.actions & SAFETY_ACTION_RETRACT) == cases[i].retract);
        }
        /* force invalid restarts the window too */
        setup(NULL);
        no_rate_check();
        in.value[SIGNAL_ROLLER_FORCE] = 120.1;
        step(T0);
        in.valid[SIGNAL_ROLLER_FORCE] = false;
        step(T0 + MS(100));
        in.valid[SIGNAL_ROLLER_FORCE] = true;
        step(T0 + MS(150));
        step(T0 + MS(349));
        assert_false(res.actions & SAFETY_ACTION_RETRACT);
        step(T0 + MS(350));
        assert_true(res.actions & SAFETY_ACTION_RETRACT);
}

static void test_sr11_retract_targets(void **state) {
        static const struct {
                double pos, force, target, setpoint;
        } cases[] = {
                {300, 120.1, 340, 50}, /* upper-back: the cap 120, half is 60 > 50 wanted */
                {250, 90.1, 290, 45},  /* shoulders 90 */
                {680, 110.1, 700, 35}, /* the track ends at 700; the way there is in no zone */
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                setup(NULL);
                no_rate_check();
                at(cases[i].pos, cases[i].pos);
                want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = 50;
                want.value[SIGNAL_ROLLER_TECHNIQUE] = TECHNIQUE_NONE;
                in.value[SIGNAL_ROLLER_FORCE] = cases[i].force;
                step(T0);
                step(T0 + MS(200));
                CHECK(i, NEAR(res.stop_target_mm, cases[i].target));
                step(T0 + MS(210));
                CHECK(i, NEAR(res.out.value[SIGNAL_ROLLER_TARGET], cases[i].target));
                CHECK(i, NEAR(res.out.value[SIGNAL_ROLLER_FORCE_SETPOINT], cases[i].setpoint));
                CHECK(i, res.actions & SAFETY_ACTION_RETRACT);
                CHECK(i, NEAR(res.stop_target_mm, cases[i].target));
        }
}

/* ---- SR-12 hard limit ---- */

static void test_sr12_hard_force_estop(void **state) {
        static const struct {
                double pos, force;
                size_t zone;
                double zone_hard;
                bool force_invalid, pos_invalid;
                const char *text;
        } cases[] = {
                {300, 180, Z_SHOULDERS, 0, false, false, ""},
                {300, 180.1, Z_SHOULDERS, 0, false, false, "hard-force:global 180.1 N > 180.0 N"},
                {150, 60, Z_SHOULDERS, 0, false, false, ""},
                {150, 60.1, Z_SHOULDERS, 0, false, false, "hard-force:neck 60.1 N > 60.0 N"},
                {50, 60.1, Z_SHOULDERS, 0, false, false, "hard-force:no zone 60.1 N > 60.0 N"},
                {690, 60.1, Z_SHOULDERS, 0, false, false, "hard-force:no zone 60.1 N > 60.0 N"},
                {50, 60.1, Z_NECK, 0, false, false, ""},
                {50, 180.1, Z_NECK, 0, false, false, "hard-force:global 180.1 N > 180.0 N"},
                {50, 1.1, Z_NECK, 1, false, false, "hard-force:no zone 1.1 N > 1.0 N"},
                {50, 180.1, Z_NECK, 180, false, false, "hard-force:global 180.1 N > 180.0 N"},
                {250, 100.1, Z_SHOULDERS, 100, false, false, "hard-force:shoulders 100.1 N > 100.0 N"},
                {250, 100, Z_SHOULDERS, 100, false, false, ""},
                {250, 1.1, Z_SHOULDERS, 1, false, false, "hard-force:shoulders 1.1 N > 1.0 N"},
                {250, 180.1, Z_SHOULDERS, 200, false, false, "hard-force:global 180.1 N > 180.0 N"},
                {250, 180.1, Z_SHOULDERS, 180, false, false, "hard-force:global 180.1 N > 180.0 N"},
                {290, 100.1, Z_UPPER, 100, false, false, "hard-force:upper-back 100.1 N > 100.0 N"},
                {420, 100.1, Z_UPPER, 100, false, false, "hard-force:upper-back 100.1 N > 100.0 N"},
                {420.1, 100.1, Z_UPPER, 100, false, false, ""},
                {300, 500, Z_SHOULDERS, 0, true, false, ""},
                {300, 500, Z_SHOULDERS, 0, false, true, ""},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                setup(NULL);
                no_rate_check();
                zones[cases[i].zone].hard_force_n = cases[i].zone_hard;
                signals[1].max = 1000;
                at(cases[i].pos, cases[i].pos);
                in.value[SIGNAL_ROLLER_FORCE] = cases[i].force;
                in.valid[SIGNAL_ROLLER_FORCE] = !cases[i].force_invalid;
                in.valid[SIGNAL_ROLLER_POSITION] = !cases[i].pos_invalid;
                step(T0);
                CHECK(i, streq(safety_estop_text(&s), cases[i].text));
                CHECK(i, safety_latched(&s) == (cases[i].text[0] != '\0'));
                CHECK(i, events(SAFETY_EVENT_ESTOP, SR_HARD_FORCE) == (cases[i].text[0] ? 1u : 0u));
                CHECK(i, !cases[i].text[0] || (res.actions & SAFETY_ACTION_CUT_RELAY));
                CHECK(i, !cases[i].text[0] || outputs_all_safe(&res.out));
        }
}

/* ---- SR-16 untrained limits ---- */

static void test_sr16_untrained_force(void **state) {
        static const struct {
                double pos, limit, lowered;
                const char *zone;
        } cases[] = {
                {150, 20, 0, "neck"},           {250, 60, 0, "untrained cap"}, {300, 60, 0, "untrained cap"},
                {300, 50, 50, "untrained cap"}, {250, 55, 0, "shoulders"},     {50, 20, 0, "no zone"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                setup(NULL);
                if (i == 4)
                        zones[Z_SHOULDERS].untrained_max_force_n = 55;
                if (cases[i].lowered > 0)
                        CHECK(i, safety_limit_set(&s, SAFETY_LIMIT_UNTRAINED_FORCE, cases[i].lowered) == 0);
                untrained_session();
                at(cases[i].pos, cases[i].pos);
                want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = 100;
                want.value[SIGNAL_ROLLER_TECHNIQUE] = TECHNIQUE_NONE;
                si.intensity = 4;
                step(T0);
                CHECK(i, NEAR(res.out.value[SIGNAL_ROLLER_FORCE_SETPOINT], cases[i].limit));
                CHECK(i, events(SAFETY_EVENT_LIMIT, SR_UNTRAINED_LIMITS) == 1);
                CHECK(i, strstr(res.events[0].detail, cases[i].zone) != NULL);
        }
        /* untrained cap equal to the global cap: the global one is named */
        setup(NULL);
        cfg.untrained.max_force_n = 120;
        zones[Z_UPPER].untrained_max_force_n = 130;
        assert_int_equal(safety_update_config(&s, &cfg), 0);
        untrained_session();
        want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = 125;
        want.value[SIGNAL_ROLLER_TECHNIQUE] = TECHNIQUE_NONE;
        si.intensity = 1;
        step(T0);
        assert_true(NEAR(res.out.value[SIGNAL_ROLLER_FORCE_SETPOINT], 120));
        assert_string_equal(res.events[0].detail, "force 125.0 N clamped to 120.0 N (cap)");
}

static void test_sr16_untrained_speed_and_technique(void **state) {
        static const struct {
                bool untrained;
                double lowered, speed, expected;
                SafetyRule rule;
        } cases[] = {
                {true, 0, 80, 80, SR_NONE},
                {true, 0, 80.1, 80, SR_UNTRAINED_LIMITS},
                {true, 70, 75, 70, SR_MOTION_LIMITS},
                {true, 80, 90, 80, SR_MOTION_LIMITS},
                {false, 0, 0, 0, SR_NONE},
                {false, 0, 0.5, 0.5, SR_NONE},
                {false, 0, 150, 150, SR_NONE},
                {false, 0, 150.1, 150, SR_MOTION_LIMITS},
                {false, 0, -0.1, 0, SR_MOTION_LIMITS},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                setup(NULL);
                if (cases[i].lowered > 0)
                        CHECK(i, safety_limit_set(&s, SAFETY_LIMIT_MAX_SPEED, cases[i].lowered) == 0);
                if (cases[i].untrained)
                        untrained_session();
                want.value[SIGNAL_ROLLER_SPEED_LIMIT] = cases[i].speed;
                want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = 20;
                si.intensity = 1;
                step(T0);
                CHECK(i, NEAR(res.out.value[SIGNAL_ROLLER_SPEED_LIMIT], cases[i].expected));
                CHECK(i, res.n_events == (cases[i].rule ? 1u : 0u));
                CHECK(i, events(SAFETY_EVENT_LIMIT, cases[i].rule) == res.n_events);
        }
        /* in the neck: only the untrained techniques */
        static const struct {
                double pos, technique, expected;
        } t[] = {
                {150, TECHNIQUE_ROLLING, TECHNIQUE_ROLLING},
                {150, TECHNIQUE_KNEAD, TECHNIQUE_NONE},
                {250, TECHNIQUE_TAP, TECHNIQUE_TAP},
        };
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                setup(NULL);
                untrained_session();
                at(t[i].pos, t[i].pos);
                want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = 10;
                want.value[SIGNAL_ROLLER_TECHNIQUE] = t[i].technique;
                si.intensity = 1;
                step(T0);
                CHECK(i, res.out.value[SIGNAL_ROLLER_TECHNIQUE] == t[i].expected);
                CHECK(i, events(SAFETY_EVENT_LIMIT, SR_UNTRAINED_LIMITS) ==
                                 (t[i].expected == t[i].technique ? 0u : 1u));
        }
}

static void test_sr16_intensity_cap(void **state) {
        static const struct {
                bool untrained;
                unsigned untrained_max, intensity;
                int ret;
                double force;
        } cases[] = {
                {false, 4, 0, -ERANGE, 50}, {false, 4, 1, 0, 50},
                {false, 4, 10, 0, 50},      {false, 4, 11, -ERANGE, 50.0 * 10 / 11},
                {true, 4, 4, 0, 20},        {true, 4, 5, -ERANGE, 16},
                {true, 12, 10, 0, 20},      {true, 12, 11, -ERANGE, 20.0 * 10 / 11},
        };
        SafetyVerdict v;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                setup(NULL);
                cfg.untrained.max_intensity = cases[i].untrained_max;
                if (cases[i].untrained)
                        untrained_session();
                want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = cases[i].untrained ? 20 : 50;
                want.value[SIGNAL_ROLLER_TECHNIQUE] = TECHNIQUE_NONE;
                si.intensity = cases[i].intensity;
                CHECK(i, safety_check_intensity(&s, cases[i].intensity, &v) == cases[i].ret);
                CHECK(i,
                      v.rule == (cases[i].ret ? (cases[i].untrained ? SR_UNTRAINED_LIMITS : SR_MOTION_LIMITS)
                                              : SR_NONE));
                CHECK(i, v.refusal == (cases[i].ret ? SAFETY_REFUSAL_INVALID : SAFETY_REFUSAL_NONE));
                step(T0);
                CHECK(i, NEAR(res.out.value[SIGNAL_ROLLER_FORCE_SETPOINT], cases[i].force));
                CHECK(i, res.n_events == (cases[i].ret && cases[i].intensity ? 1u : 0u));
                CHECK(i, events(SAFETY_EVENT_LIMIT, v.rule) == res.n_events);
        }
}

/* ---- SR-17 interlock loss ---- */

static void test_sr17_interlock_loss_controlled_stop(void **state) {
        static const struct {
                double pos;
                bool pos_invalid;
                double track, target;
        } cases[] = {
                {150, false, 700, 220},                        /* in the neck: out of it toward the seat */
                {50, false, 700, 220},                         /* above the neck (head end) */
                {210, false, 700, 220}, {300, true, 700, 220}, /* unknown position: as if in the neck */
                {150, false, 215, 215},                        /* short track */
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                setup(NULL);
                cfg.limits.track_length_mm = cases[i].track;
                untrained_session();
                step(T0);
                at(cases[i].pos, cases[i].pos);
                in.valid[SIGNAL_ROLLER_POSITION] = !cases[i].pos_invalid;
                in.line[LINE_INTERLOCK] = false;
                want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = 15;
                step(T0 + MS(10));
                CHECK(i, safety_mode(&s) == SAFETY_MODE_PROGRAM);
                CHECK(i, res.actions & SAFETY_ACTION_LEAVE_UNTRAINED);
                CHECK(i, res.actions & SAFETY_ACTION_CONTROLLED_STOP);
                CHECK(i, events(SAFETY_EVENT_INTERLOCK, SR_INTERLOCK_LOSS) == 1);
                CHECK(i, events(SAFETY_EVENT_MODE, SR_INTERLOCK_LOSS) == 1);
                CHECK(i, events(SAFETY_EVENT_CONTROLLED_STOP, SR_INTERLOCK_LOSS) == 1);
                CHECK(i, NEAR(res.stop_target_mm, cases[i].target));
                CHECK(i, NEAR(res.out.value[SIGNAL_ROLLER_TARGET], cases[i].target));
                CHECK(i, res.out.value[SIGNAL_ROLLER_FORCE_SETPOINT] == 0);
                CHECK(i, res.out.value[SIGNAL_ROLLER_ENABLE] == 1);
                CHECK(i, res.out.value[SIGNAL_ROLLER_TECHNIQUE] == TECHNIQUE_NONE);
                CHECK(i, NEAR(res.out.value[SIGNAL_ROLLER_SPEED_LIMIT], 75));
                CHECK(i, res.out.value[SIGNAL_HEAT_ENABLE] == 0);
                CHECK(i, res.out.value[SIGNAL_AIRBAG_HIPS_COMMAND] == AIRBAG_VENT);
                CHECK(i, res.out.line[LINE_POWER_RELAY]);
                CHECK(i, !(res.actions & SAFETY_ACTION_END_SESSION));
        }
}

static void test_sr17_controlled_stop_completes(void **state) {
        untrained_session();
        at(150, 150);
        want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = 15;
        step(T0);
        in.line[LINE_INTERLOCK] = false;
        step(T0 + MS(10));
        /* still 1.1 mm short */
        at(218.9, 150);
        step(T0 + MS(20));
        assert_true(res.actions & SAFETY_ACTION_CONTROLLED_STOP);
        assert_true(NEAR(res.out.value[SIGNAL_ROLLER_TARGET], 220));
        assert_int_equal(res.n_events, 0);
        /* there (within 1 mm): the session ends, motion off until the manager ends it */
        at(219, 150);
        step(T0 + MS(30));
        assert_int_equal(events(SAFETY_EVENT_SESSION_END, SR_SAFE_STATE), 1);
        assert_true(res.actions & SAFETY_ACTION_END_SESSION);
        assert_true(res.out.value[SIGNAL_ROLLER_ENABLE] == 0);
        step(T0 + MS(40));
        assert_true(res.actions & SAFETY_ACTION_END_SESSION);
        assert_false(res.actions & SAFETY_ACTION_CONTROLLED_STOP);
        assert_int_equal(res.n_events, 0);
        si.session_active = false;
        step(T0 + MS(50));
        assert_false(res.actions & SAFETY_ACTION_END_SESSION);
        assert_true(res.out.value[SIGNAL_ROLLER_ENABLE] == 1);
}

static void test_sr17_outside_neck_stops_in_place(void **state) {
        untrained_session();
        at(300, 300);
        step(T0);
        in.line[LINE_INTERLOCK] = false;
        step(T0 + MS(10));
        assert_true(NEAR(res.stop_target_mm, 300));
        assert_int_equal(events(SAFETY_EVENT_SESSION_END, SR_SAFE_STATE), 1);
        assert_true(res.actions & SAFETY_ACTION_END_SESSION);
        assert_true(res.out.value[SIGNAL_ROLLER_ENABLE] == 0);
        /* just past the neck counts as outside */
        setup(NULL);
        untrained_session();
        at(210.1, 210.1);
        in.line_valid[LINE_INTERLOCK] = false;
        step(T0);
        assert_true(NEAR(res.stop_target_mm, 210.1));
}

static void test_sr17_interlock_loss_without_session(void **state) {
        SafetyResult r;

        untrained_session();
        si.session_active = false;
        in.line[LINE_INTERLOCK] = false;
        step(T0);
        assert_int_equal(safety_mode(&s), SAFETY_MODE_PROGRAM);
        assert_int_equal(events(SAFETY_EVENT_MODE, SR_INTERLOCK_LOSS), 1);
        assert_int_equal(events(SAFETY_EVENT_CONTROLLED_STOP, SR_INTERLOCK_LOSS), 0);
        /* in program mode the key does not matter */
        step(T0 + MS(10));
        assert_int_equal(res.n_events, 0);
        /* leaving by request */
        setup(NULL);
        safety_leave_untrained(&s, &si, &r);
        assert_int_equal(r.n_events, 0);
        assert_int_equal(r.actions, 0);
        untrained_session();
        at(150, 150);
        step(T0);
        safety_leave_untrained(&s, &si, &r);
        assert_int_equal(safety_mode(&s), SAFETY_MODE_PROGRAM);
        assert_true(r.actions & SAFETY_ACTION_LEAVE_UNTRAINED);
        assert_true(NEAR(s.stop_target, 220));
        assert_true(s.stopping);
}

static void test_sr17_no_second_stop(void **state) {
        /* a controlled stop for an empty seat is running when the key goes */
        untrained_session();
        at(150, 150);
        step(T0);
        in.line[LINE_SEAT] = false;
        step(T0 + MS(10));
        assert_int_equal(events(SAFETY_EVENT_CONTROLLED_STOP, SR_OCCUPANCY), 1);
        in.line[LINE_INTERLOCK] = false;
        step(T0 + MS(20));
        assert_int_equal(events(SAFETY_EVENT_MODE, SR_INTERLOCK_LOSS), 1);
        assert_int_equal(events(SAFETY_EVENT_CONTROLLED_STOP, SR_INTERLOCK_LOSS), 0);
        /* held after a finished stop: no new stop either */
        setup(NULL);
        untrained_session();
        at(300, 300);
        in.line[LINE_SEAT] = false;
        step(T0);
        assert_true(s.hold);
        in.line[LINE_INTERLOCK] = false;
        step(T0 + MS(10));
        assert_int_equal(events(SAFETY_EVENT_CONTROLLED_STOP, SR_INTERLOCK_LOSS), 0);
}

/* ---- SR-18 session time ---- */

static void test_sr18_max_session_time(void **state) {
        static const struct {
                double lowered;
                usec_t elapsed;
                bool session, stop;
        } cases[] = {
                {0, SEC(1800) - 1, true, false},  {0, SEC(1800), true, true},
                {600, SEC(600) - 1, true, false}, {600, SEC(600), true, true},
                {0, SEC(4000), false, false},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                setup(NULL);
                if (cases[i].lowered > 0)
                        CHECK(i, safety_limit_set(&s, SAFETY_LIMIT_SESSION, cases[i].lowered) == 0);
                si.session_active = cases[i].session;
                step(T0 + cases[i].elapsed);
                CHECK(i, events(SAFETY_EVENT_CONTROLLED_STOP, SR_SESSION_TIME) == (cases[i].stop ? 1u : 0u));
                CHECK(i, !!(res.actions & SAFETY_ACTION_CONTROLLED_STOP) == cases[i].stop);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_sr9_neck_zone_from_scan, setup),
                cmocka_unit_test_setup(test_sr9_zone_at, setup),
                cmocka_unit_test_setup(test_sr9_force_clamp_by_position, setup),
                cmocka_unit_test_setup(test_sr9_force_clamp_along_path, setup),
                cmocka_unit_test_setup(test_sr10_technique_by_zone, setup),
                cmocka_unit_test_setup(test_sr10_one_event_per_clamp_episode, setup),
                cmocka_unit_test_setup(test_sr11_over_limit_window, setup),
                cmocka_unit_test_setup(test_sr11_window_restarts_below_limit, setup),
                cmocka_unit_test_setup(test_sr11_retract_targets, setup),
                cmocka_unit_test_setup(test_sr12_hard_force_estop, setup),
                cmocka_unit_test_setup(test_sr16_untrained_force, setup),
                cmocka_unit_test_setup(test_sr16_untrained_speed_and_technique, setup),
                cmocka_unit_test_setup(test_sr16_intensity_cap, setup),
                cmocka_unit_test_setup(test_sr17_interlock_loss_controlled_stop, setup),
                cmocka_unit_test_setup(test_sr17_controlled_stop_completes, setup),
                cmocka_unit_test_setup(test_sr17_outside_neck_stops_in_place, setup),
                cmocka_unit_test_setup(test_sr17_interlock_loss_without_session, setup),
                cmocka_unit_test_setup(test_sr17_no_second_stop, setup),
                cmocka_unit_test_setup(test_sr18_max_session_time, setup),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
