/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the safety supervisor's output rules: neck zone, zone clamps, over-limit retract, hard
 * limit, untrained limits, interlock loss, session time, heat, occupancy, plausibility, motion and
 * airbag limits (SR-9..12, SR-16..23 of docs/safety.md). Zones with the scan at 200 mm: neck 90..210,
 * shoulders 210..290, upper-back 290..420, mid-back 420..550, lumbar 550..680; no zone elsewhere. */
#include "test-safety-fixture.h"

static void at(double pos, double target) {
        in.value[SIGNAL_ROLLER_POSITION] = pos;
        want.value[SIGNAL_ROLLER_TARGET] = target;
}

static void no_rate_check(void) {
        cfg.limits.force_max_rate_n_s = 1e12;
}

static void untrained_session(void) {
        SafetyVerdict v;

        si.session_active = false;
        in.line[LINE_INTERLOCK] = true;
        assert_int_equal(safety_enter_untrained(&s, &si, &v), 0);
        si.session_active = true;
        want.value[SIGNAL_ROLLER_SPEED_LIMIT] = 50;
}

/* ---- SR-9 neck zone ---- */

static void test_sr9_neck_zone_from_scan(void **state) {
        static const struct {
                bool scanned;
                double shoulder, from, to;
        } cases[] = {
                { true, 200, 90, 210 },    { false, 200, 10, 270 },  { true, 119.9, 10, 270 },
                { true, 120, 10, 130 },    { true, 260, 150, 270 },  { true, 260.1, 10, 270 },
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
                { 89.9, NULL }, { 90, "neck" }, { 210, "neck" }, { 210.1, "shoulders" }, { 680, "lumbar" },
                { 680.1, NULL },
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
                { true, 89.9, 35, SR_NECK_ZONE, "force 200.0 N clamped to 35.0 N (no zone)" },
                { true, 90, 35, SR_NECK_ZONE, "force 200.0 N clamped to 35.0 N (neck)" },
                { true, 210, 35, SR_NECK_ZONE, "force 200.0 N clamped to 35.0 N (neck)" },
                { true, 210.1, 90, SR_ZONE_CLAMP, "force 200.0 N clamped to 90.0 N (shoulders)" },
                { true, 290, 90, SR_ZONE_CLAMP, "force 200.0 N clamped to 90.0 N (shoulders)" },
                { true, 290.1, 120, SR_CAPS, "force 200.0 N clamped to 120.0 N (cap)" },
                { true, 680, 110, SR_ZONE_CLAMP, "force 200.0 N clamped to 110.0 N (lumbar)" },
                { true, 680.1, 35, SR_NECK_ZONE, "force 200.0 N clamped to 35.0 N (no zone)" },
                { true, 700, 35, SR_NECK_ZONE, "force 200.0 N clamped to 35.0 N (no zone)" },
                { false, 9.9, 35, SR_NECK_ZONE, "force 200.0 N clamped to 35.0 N (no zone)" },
                { false, 270, 35, SR_NECK_ZONE, "force 200.0 N clamped to 35.0 N (neck)" },
                { false, 270.1, 90, SR_ZONE_CLAMP, "force 200.0 N clamped to 90.0 N (shoulders)" },
                { false, 350.1, 120, SR_CAPS, "force 200.0 N clamped to 120.0 N (cap)" },
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
                bool gap, pos_invalid;
        } cases[] = {
                { 300, 100, 35, false, false },            /* heading through the neck */
                { 100, 300, 35, false, false },            /* leaving the neck */
                { 300, 215, 90, false, false },            /* shoulders and upper-back */
                { 215, 290, 90, false, false },            /* a zone that ends exactly at the target */
                { 89, 95, 35, false, false },              /* from no zone into the neck */
                { 600, 690, 35, false, false },            /* past the last zone */
                { 600, 680, 110, false, false },           /* up to the end of the last zone */
                { 250, 300, 35, true, false },  /* shoulders end at 280, upper-back starts at 290 */
                { 250, 280, 80, true, false },
                { 285, 300, 35, true, false },  /* starts in the gap */
                { 300, 300, 35, false, true },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                setup(NULL);
                if (cases[i].gap) {
                        zones[1].to_mm = 80;
                        zones[1].max_force_n = 80;
                }
                at(cases[i].pos, cases[i].target);
                in.valid[SIGNAL_ROLLER_POSITION] = !cases[i].pos_invalid;
                want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = 200;
                want.value[SIGNAL_ROLLER_TECHNIQUE] = TECHNIQUE_NONE;
                step(T0);
                CHECK(i, NEAR(res.out.value[SIGNAL_ROLLER_FORCE_SETPOINT], cases[i].limit));
                CHECK(i, NEAR(res.out.value[SIGNAL_ROLLER_TARGET], cases[i].target));
        }
}

/* ---- SR-10 zone clamp (force and technique) ---- */

static void test_sr10_technique_by_zone(void **state) {
        static const struct {
                double pos, target, technique, expected;
                SafetyRule rule;
        } cases[] = {
                { 150, 150, TECHNIQUE_KNEAD, TECHNIQUE_KNEAD, SR_NONE },
                { 150, 150, TECHNIQUE_GLIDE, TECHNIQUE_GLIDE, SR_NONE },
                { 150, 150, TECHNIQUE_TAP, TECHNIQUE_NONE, SR_ZONE_CLAMP },
                { 150, 150, TECHNIQUE_PRESS, TECHNIQUE_NONE, SR_ZONE_CLAMP },
                { 250, 250, TECHNIQUE_TAP, TECHNIQUE_TAP, SR_NONE },
                { 300, 100, TECHNIQUE_TAP, TECHNIQUE_NONE, SR_ZONE_CLAMP },
                { 300, 211, TECHNIQUE_TAP, TECHNIQUE_TAP, SR_NONE },
                { 50, 50, TECHNIQUE_TAP, TECHNIQUE_NONE, SR_ZONE_CLAMP },
                { 50, 50, TECHNIQUE_ROLLING, TECHNIQUE_ROLLING, SR_NONE },
                { 690, 690, TECHNIQUE_KNEAD_TAP, TECHNIQUE_NONE, SR_ZONE_CLAMP },
                { 250, 250, TECHNIQUE_NONE, TECHNIQUE_NONE, SR_NONE },
                { 250, 250, 7, TECHNIQUE_NONE, SR_MOTION_LIMITS },
                { 250, 250, 6, TECHNIQUE_GLIDE, SR_NONE },
                { 250, 250, -1, TECHNIQUE_NONE, SR_MOTION_LIMITS },
                { 250, 250, 1.5, TECHNIQUE_NONE, SR_MOTION_LIMITS },
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
        /* a zone with a mask of 0 allows all */
        setup(NULL);
        zones[0].allowed_techniques = 0;
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
                { 121, 1 }, { 130, 0 }, { 125, 0 }, { 120, 0 }, { 121, 1 }, { 122, 0 },
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
                { 120.1, 0, false },
                { 120.1, MS(200) - 1, false },
                { 120.1, MS(200), true },
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
                { 120.1, 0, false },       { 120, MS(100), false },     { 120.1, MS(150), false },
                { 120.1, MS(300), false }, { 120.1, MS(350) - 1, false }, { 120.1, MS(350), true },
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
                { 300, 120.1, 340, 60 },  /* upper-back: the cap 120 */
                { 250, 90.1, 290, 45 },   /* shoulders 90 */
                { 680, 110.1, 700, 35 },  /* the track ends at 700; the way there is in no zone */
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                setup(NULL);
                no_rate_check();
                at(cases[i].pos, cases[i].pos);
                want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = 60;
                want.value[SIGNAL_ROLLER_TECHNIQUE] = TECHNIQUE_NONE;
                in.value[SIGNAL_ROLLER_FORCE] = cases[i].force;
                step(T0);
                step(T0 + MS(200));
                CHECK(i, NEAR(res.stop_target_mm, cases[i].target));
                step(T0 + MS(210));
                CHECK(i, NEAR(res.out.value[SIGNAL_ROLLER_TARGET], cases[i].target));
                CHECK(i, NEAR(res.out.value[SIGNAL_ROLLER_FORCE_SETPOINT], MIN(60, cases[i].setpoint)));
                CHECK(i, res.actions & SAFETY_ACTION_RETRACT);
                CHECK(i, NEAR(res.stop_target_mm, cases[i].target));
        }
}

/* ---- SR-12 hard limit ---- */

static void test_sr12_hard_force_estop(void **state) {
        static const struct {
                double pos, force, zone_hard;
                bool force_invalid, pos_invalid, neck_hard_off;
                const char *text;
        } cases[] = {
                { 300, 180, 0, .text = "" },
                { 300, 180.1, 0, .text = "hard-force:global 180.1 N > 180.0 N" },
                { 150, 60, 0, .text = "" },
                { 150, 60.1, 0, .text = "hard-force:neck 60.1 N > 60.0 N" },
                { 50, 60.1, 0, .text = "hard-force:no zone 60.1 N > 60.0 N" },
                { 690, 60.1, 0, .text = "hard-force:no zone 60.1 N > 60.0 N" },
                { 50, 60.1, 0, .neck_hard_off = true, .text = "" },
                { 50, 180.1, 0, .neck_hard_off = true, .text = "hard-force:global 180.1 N > 180.0 N" },
                { 250, 100.1, 100, .text = "hard-force:shoulders 100.1 N > 100.0 N" },
                { 250, 100, 100, .text = "" },
                { 250, 180.1, 200, .text = "hard-force:global 180.1 N > 180.0 N" },
                { 300, 500, 0, .force_invalid = true, .text = "" },
                { 300, 500, 0, .pos_invalid = true, .text = "" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                setup(NULL);
                no_rate_check();
                zones[1].hard_force_n = cases[i].zone_hard;
                if (cases[i].neck_hard_off)
                        zones[0].hard_force_n = 0;
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
                { 150, 20, 0, "neck" },
                { 250, 60, 0, "untrained cap" },
                { 300, 60, 0, "untrained cap" },
                { 300, 50, 50, "untrained cap" },
                { 250, 55, 0, "shoulders" },
                { 50, 20, 0, "no zone" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                setup(NULL);
                if (i == 4)
                        zones[1].untrained_max_force_n = 55;
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
}

static void test_sr16_untrained_speed_and_technique(void **state) {
        static const struct {
                bool untrained;
                double lowered, speed, expected;
                SafetyRule rule;
        } cases[] = {
                { true, 0, 80, 80, SR_NONE },
                { true, 0, 80.1, 80, SR_UNTRAINED_LIMITS },
                { true, 70, 75, 70, SR_MOTION_LIMITS },
                { false, 0, 150, 150, SR_NONE },
                { false, 0, 150.1, 150, SR_MOTION_LIMITS },
                { false, 0, -0.1, 0, SR_MOTION_LIMITS },
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
                { 150, TECHNIQUE_ROLLING, TECHNIQUE_ROLLING },
                { 150, TECHNIQUE_KNEAD, TECHNIQUE_NONE },
                { 250, TECHNIQUE_TAP, TECHNIQUE_TAP },
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
                { false, 4, 0, -ERANGE, 50 },
                { false, 4, 1, 0, 50 },
                { false, 4, 10, 0, 50 },
                { false, 4, 11, -ERANGE, 50.0 * 10 / 11 },
                { true, 4, 4, 0, 20 },
                { true, 4, 5, -ERANGE, 16 },
                { true, 12, 10, 0, 20 },
                { true, 12, 11, -ERANGE, 20.0 * 10 / 11 },
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
                CHECK(i, v.rule == (cases[i].ret ? (cases[i].untrained ? SR_UNTRAINED_LIMITS : SR_MOTION_LIMITS)
                                                 : SR_NONE));
                CHECK(i, v.refusal == (cases[i].ret ? SAFETY_REFUSAL_INVALID : SAFETY_REFUSAL_NONE));
                step(T0);
                CHECK(i, NEAR(res.out.value[SIGNAL_ROLLER_FORCE_SETPOINT], cases[i].force));
                CHECK(i, res.n_events == (cases[i].ret && cases[i].intensity ? 1u : 0u));
        }
}

/* ---- SR-17 interlock loss ---- */

static void test_sr17_interlock_loss_controlled_stop(void **state) {
        static const struct {
                double pos;
                bool pos_invalid;
                double track, target;
        } cases[] = {
                { 150, false, 700, 220 }, /* in the neck: out of it toward the seat */
                { 50, false, 700, 220 },  /* above the neck (head end) */
                { 210, false, 700, 220 },
                { 300, true, 700, 220 },  /* unknown position: as if in the neck */
                { 150, false, 215, 215 }, /* short track */
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
                { 0, SEC(1800) - 1, true, false },
                { 0, SEC(1800), true, true },
                { 600, SEC(600) - 1, true, false },
                { 600, SEC(600), true, true },
                { 0, SEC(4000), false, false },
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

/* ---- SR-19 heat ---- */

static void test_sr19_heat_temperature_cap(void **state) {
        static const struct {
                double lowered, setpoint, expected, temperature;
                bool temp_invalid, session, on;
        } cases[] = {
                { 0, 45, 45, 44.9, false, true, true },
                { 0, 45.1, 45, 44.9, false, true, true },
                { 0, 40, 40, 45, false, true, false },
                { 0, 40, 40, 30, true, true, false },
                { 0, 40, 40, 30, false, false, false },
                { 40, 40, 40, 39.9, false, true, true },
                { 40, 42, 40, 40, false, true, false },
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
                                 (size_t) ((cases[i].setpoint > cases[i].expected) + !cases[i].on));
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
                { 0, true, true, true },
                { SEC(600), true, true, true },        /* 600 s on */
                { SEC(700), false, true, false },      /* 700 s, then off */
                { SEC(800), true, true, true },        /* off time does not count */
                { SEC(1300) - 1, true, true, true },   /* 1200 s - 1 µs */
                { SEC(1300), true, true, false },      /* 1200 s */
                { SEC(1400), true, true, false },
                { SEC(1500), true, false, false },     /* session over: count reset */
                { SEC(1600), true, true, true },
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
                { true, true, true, false, 0 },
                { true, true, false, false, -EPERM },
                { true, false, true, false, -EPERM },
                { true, true, false, true, 0 },
                { false, false, false, false, 0 },
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
                { true, true, true, true, false },
                { true, true, false, true, true },
                { true, false, true, true, true },
                { false, true, false, true, false },
                { true, true, false, false, false },
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
                { SIGNAL_ROLLER_FORCE, 0, true, false, "" },
                { SIGNAL_ROLLER_FORCE, -0.1, true, true, "sensor-fault:roller.force:range" },
                { SIGNAL_ROLLER_POSITION, 700, true, false, "" },
                { SIGNAL_ROLLER_POSITION, 700.1, true, true, "sensor-fault:roller.position:range" },
                { SIGNAL_ROLLER_POSITION, -0.1, true, true, "sensor-fault:roller.position:range" },
                { SIGNAL_ROLLER_POSITION, NAN, true, true, "sensor-fault:roller.position:range" },
                { SIGNAL_ROLLER_POSITION, 900, false, false, "" },
                { SIGNAL_ROLLER_STATUS, 99999, true, false, "" },
                { SIGNAL_ROLLER_TARGET, 900, true, false, "" },
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
        (void) safety_cycle_done(&s, T0 + MS(10), T0 + MS(1));
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
                { 400, 100, 1, false, 0, MS(2000) },
                { 302.1, 100, 1, false, 0, MS(2000) },
                { 297.9, 100, 1, false, 0, MS(2000) },
                { 400, 100, 1, false, MS(1000), MS(3000) },
                { 302, 100, 1, false, 0, 0 },
                { 298, 100, 1, false, 0, 0 },
                { 400, 0, 1, false, 0, 0 },
                { 400, 100, 0, false, 0, 0 },
                { 400, 100, 1, true, 0, 0 },
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
                CHECK(i, !cases[i].fault_at || streq(safety_estop_text(&s), "sensor-fault:roller.position:stuck"));
        }
}

static void test_sr21_force_rate(void **state) {
        static const struct {
                double from, to;
                usec_t dt;
                bool fault;
        } cases[] = {
                { 10, 30, MS(10), false },
                { 10, 30.1, MS(10), true },
                { 30, 10, MS(10), false },
                { 30.1, 10, MS(10), true },
                { 10, 50, MS(20), false },
                { 10, 50.1, MS(20), true },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                setup(NULL);
                in.value[SIGNAL_ROLLER_FORCE] = cases[i].from;
                step(T0);
                in.value[SIGNAL_ROLLER_FORCE] = cases[i].to;
                step(T0 + cases[i].dt);
                CHECK(i, safety_faulted(&s) == cases[i].fault);
                CHECK(i, !cases[i].fault || streq(safety_estop_text(&s), "sensor-fault:roller.force:rate"));
        }
        /* no new reading (same timestamp), or none at all: nothing to compare */
        setup(NULL);
        step(T0);
        in.value[SIGNAL_ROLLER_FORCE] = 100;
        safety_step(&s, &si, &want, T0 + MS(10), &res);
        assert_false(safety_faulted(&s));
        in.valid[SIGNAL_ROLLER_FORCE] = false;
        step(T0 + MS(20));
        in.valid[SIGNAL_ROLLER_FORCE] = true;
        in.value[SIGNAL_ROLLER_FORCE] = 10;
        step(T0 + MS(30));
        assert_true(safety_faulted(&s));
        /* the first reading has nothing before it */
        setup(NULL);
        in.value[SIGNAL_ROLLER_FORCE] = 100;
        in.updated[SIGNAL_ROLLER_FORCE] = 0;
        safety_step(&s, &si, &want, T0, &res);
        assert_false(safety_faulted(&s));
}

/* ---- SR-22 motion limits ---- */

static void test_sr22_target_on_track(void **state) {
        static const struct {
                double target, expected;
        } cases[] = {
                { -0.1, 0 }, { 0, 0 }, { 700, 700 }, { 700.1, 700 },
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
        want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = -0.1;
        step(T0);
        assert_true(res.out.value[SIGNAL_ROLLER_FORCE_SETPOINT] == 0);
        assert_int_equal(events(SAFETY_EVENT_LIMIT, SR_MOTION_LIMITS), 1);
        want.value[SIGNAL_ROLLER_FORCE_SETPOINT] = 0;
        step(T0 + MS(10));
        assert_int_equal(res.n_events, 0);
}

/* ---- SR-23 airbags ---- */

static void test_sr23_airbag_pressure_cap(void **state) {
        static const struct {
                double command, pressure;
                bool valid;
                double expected;
        } cases[] = {
                { AIRBAG_INFLATE, 39.9, true, AIRBAG_INFLATE },
                { AIRBAG_INFLATE, 40, true, AIRBAG_HOLD },
                { AIRBAG_INFLATE, 10, false, AIRBAG_HOLD },
                { AIRBAG_HOLD, 50, true, AIRBAG_HOLD },
                { AIRBAG_VENT, 50, true, AIRBAG_VENT },
                { 3, 10, true, AIRBAG_VENT },
                { -1, 10, true, AIRBAG_VENT },
                { 1.5, 10, true, AIRBAG_VENT },
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
                        /* the others keep inflating */
                        CHECK(i, res.out.value[SIGNAL_AIRBAG_SHOULDERS_COMMAND + (bag + 1) % 4] == AIRBAG_INFLATE);
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
                cmocka_unit_test_setup(test_sr19_heat_temperature_cap, setup),
                cmocka_unit_test_setup(test_sr19_heater_max_on_time, setup),
                cmocka_unit_test_setup(test_sr20_occupancy_to_start, setup),
                cmocka_unit_test_setup(test_sr20_occupancy_loss_stops, setup),
                cmocka_unit_test_setup(test_sr21_range, setup),
                cmocka_unit_test_setup(test_sr21_fault_clears_on_reset, setup),
                cmocka_unit_test_setup(test_sr21_stuck, setup),
                cmocka_unit_test_setup(test_sr21_force_rate, setup),
                cmocka_unit_test_setup(test_sr22_target_on_track, setup),
                cmocka_unit_test_setup(test_sr22_negative_force, setup),
                cmocka_unit_test_setup(test_sr23_airbag_pressure_cap, setup),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
