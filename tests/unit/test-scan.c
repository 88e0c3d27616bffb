/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of daemon/scan.c: a simulated roller follows the scan's target at its speed limit, and the
 * measured force comes from an occupant whose back has the shape chair-sim models (neck 0.6×, a peak of
 * about 1.6× at the shoulder line, 1.0× below), with sensor noise and lag. Checks the shoulder is found
 * for several heights, and every failure: flat, nobody seated, out of range, stuck roller, timeout. */
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "scan.h"
#include "example-config.h"

#define T0 ((usec_t)7000 * USEC_PER_SEC)
#define CYCLE (10 * USEC_PER_MSEC)


typedef enum Body {
        BODY_CONTOUR, /* a seated adult */
        BODY_FLAT,    /* something that presses evenly: a cushion, a bag */
        BODY_NONE,    /* seat sensor says seated, but nobody leans on the roller */
        BODY_STEP,    /* light above the line, firm all the way below it: an edge, not a peak */
} Body;

typedef struct Rig {
        Scan scan;
        ChairInputs in;
        ChairOutputs out;
        usec_t now;
        Body body;
        double shoulder_mm;
        double speed_factor; /* 1 = the roller keeps up; 0 = stuck */
        double force;        /* lagging measured force */
        uint32_t noise;      /* LCG state */
        double top_reached;  /* smallest position seen */
} Rig;


/* Force factor along the back at d mm below the shoulder line: the neck (d < 0) curves away from the
 * roller, the shoulder blades stand out within about ±25 mm, the back below presses evenly. */
static double back_shape(double d) {
        double below = 0.5 * (1 + tanh(d / 10.0));           /* 0 above the line, 1 below */
        double blades = exp(-0.5 * (d / 11.0) * (d / 11.0)); /* the bump of the shoulder blades */
        return 0.6 + 0.4 * below + 0.85 * blades;
}

/* ±0.4 N of deterministic noise */
static double noise(Rig *r) {
        r->noise = r->noise * 1664525u + 1013904223u;
        return ((double)(r->noise >> 8) / (double)(1u << 24) - 0.5) * 0.8;
}

static void rig_start(Rig *r, Body body, double shoulder_mm, double roller_mm) {
        *r = (Rig){.now = T0,
                   .body = body,
                   .shoulder_mm = shoulder_mm,
                   .speed_factor = 1,
                   .noise = 12345,
                   .top_reached = roller_mm};
        r->in.valid[SIGNAL_ROLLER_POSITION] = r->in.valid[SIGNAL_ROLLER_FORCE] = true;
        r->in.value[SIGNAL_ROLLER_POSITION] = roller_mm;
        r->in.line_valid[LINE_SEAT] = true;
        r->in.line[LINE_SEAT] = true;
        scan_start(&r->scan, chair, r->now);
        assert_int_equal(scan_status(&r->scan), SCAN_RUNNING);
}

static ScanStatus rig_cycle(Rig *r) {
        double *pos = &r->in.value[SIGNAL_ROLLER_POSITION], wanted_force = 0;
        ScanStatus s;

        for (int i = 0; i < _SIGNAL_MAX; i++)
                r->out.value[i] = NAN;
        r->in.now = r->now;
        s = scan_step(&r->scan, &r->in, r->now, &r->out);
        if (!isnan(r->out.value[SIGNAL_ROLLER_TARGET])) {
                double step =
                        r->speed_factor * r->out.value[SIGNAL_ROLLER_SPEED_LIMIT] * CYCLE / USEC_PER_SEC;
                *pos += CLAMP(r->out.value[SIGNAL_ROLLER_TARGET] - *pos, -step, step);
                r->top_reached = MIN(r->top_reached, *pos);
                wanted_force = r->out.value[SIGNAL_ROLLER_FORCE_SETPOINT];
        }
        if (r->body == BODY_CONTOUR)
                wanted_force *= back_shape(*pos - r->shoulder_mm);
        else if (r->body == BODY_NONE)
                wanted_force = 0;
        else if (r->body == BODY_STEP)
                wanted_force *= *pos < r->shoulder_mm ? 0.6 : 1.6;
        /* 30 ms first-order lag, like a loaded roller */
        r->force += (wanted_force - r->force) * (1 - exp(-(double)CYCLE / 30000.0));
        r->in.value[SIGNAL_ROLLER_FORCE] = MAX(r->force + (r->body == BODY_NONE ? 0 : noise(r)), 0);
        r->now += CYCLE;
        return s;
}

static ScanStatus rig_run(Rig *r, usec_t limit) {
        ScanStatus s = SCAN_RUNNING;

        for (usec_t end = r->now + limit; s == SCAN_RUNNING && r->now < end;)
                s = rig_cycle(r);
        return s;
}

static void test_finds_shoulder(void **state) {
        static const double heights[] = {125, 150, 180, 200, 230, 255};

        for (size_t i = 0; i < ELEMENTSOF(heights); i++) {
                Rig r;
                double found = NAN;

                rig_start(&r, BODY_CONTOUR, heights[i], 400);
                assert_int_equal(scan_result(&r.scan, &found), -EAGAIN);
                if (rig_run(&r, 120 * USEC_PER_SEC) != SCAN_DONE)
                        fail_msg("shoulder %.0f: %s (%s)", heights[i], scan_error(&r.scan),
                                 scan_error_to_string(scan_error_code(&r.scan)));
                assert_int_equal(scan_result(&r.scan, &found), 0);
                print_message("shoulder %.0f found at %.1f\n", heights[i], found);
                if (fabs(found - heights[i]) > 10)
                        fail_msg("shoulder %.0f found at %.1f", heights[i], found);
                assert_string_equal(scan_error(&r.scan), "");
                /* it went to the top first; it ends holding still without pressure */
                assert_true(r.top_reached <= 1.0);
                assert_true(r.out.value[SIGNAL_ROLLER_FORCE_SETPOINT] == 0);
                assert_true(r.out.value[SIGNAL_ROLLER_SPEED_LIMIT] == 0);
                /* once over, nothing more is written */
                assert_int_equal(rig_cycle(&r), SCAN_DONE);
                assert_true(isnan(r.out.value[SIGNAL_ROLLER_TARGET]));
        }
}

/* While sampling: constant light force, no technique, slow constant speed through the search range. */
static void test_sweep_outputs(void **state) {
        Rig r;
        unsigned sampling = 0;

        rig_start(&r, BODY_CONTOUR, 200, 0);
        while (rig_cycle(&r) == SCAN_RUNNING) {
                assert_true(r.out.value[SIGNAL_ROLLER_TECHNIQUE] == TECHNIQUE_NONE);
                assert_true(r.out.value[SIGNAL_ROLLER_FORCE_SETPOINT] <= SCAN_FORCE_N);
                if (r.out.value[SIGNAL_ROLLER_SPEED_LIMIT] == SCAN_SPEED_MM_S) {
                        sampling++;
                        assert_true(r.out.value[SIGNAL_ROLLER_FORCE_SETPOINT] == SCAN_FORCE_N);
                        assert_true(r.out.value[SIGNAL_ROLLER_TARGET] ==
                                    chair->limits.shoulder_max_mm + SCAN_MARGIN_MM);
                }
        }
        /* (260 + 50) - (120 - 50) = 240 mm at 20 mm/s: 12 s of 10 ms cycles */
        assert_in_range(sampling, 1195, 1205);
}

static void test_flat_profile(void **state) {
        Rig r;
        double found;

        rig_start(&r, BODY_FLAT, 200, 300);
        assert_int_equal(rig_run(&r, 120 * USEC_PER_SEC), SCAN_FAILED);
        assert_int_equal(scan_error_code(&r.scan), SCAN_ERROR_FLAT);
        assert_int_equal(scan_result(&r.scan, &found), -EIO);
        assert_non_null(strstr(scan_error(&r.scan), "no clear shoulder peak"));
}

/* An edge is no shoulder: high above the average, but no higher than the back right below it. */
static void test_edge_is_no_peak(void **state) {
        Rig r;

        rig_start(&r, BODY_STEP, 200, 300);
        assert_int_equal(rig_run(&r, 120 * USEC_PER_SEC), SCAN_FAILED);
        assert_int_equal(scan_error_code(&r.scan), SCAN_ERROR_FLAT);
        assert_non_null(strstr(scan_error(&r.scan), "shoulder peak too weak"));
}

static void test_not_seated(void **state) {
        Rig r;

        /* the seat sensor says empty: fails at once */
        rig_start(&r, BODY_CONTOUR, 200, 300);
        r.in.line[LINE_SEAT] = false;
        assert_int_equal(rig_cycle(&r), SCAN_FAILED);
        assert_int_equal(scan_error_code(&r.scan), SCAN_ERROR_NOT_SEATED);
        assert_true(r.out.value[SIGNAL_ROLLER_FORCE_SETPOINT] == 0);

        /* the sensor says seated (a bag on the seat) but nothing leans on the roller */
        rig_start(&r, BODY_NONE, 200, 300);
        assert_int_equal(rig_run(&r, 120 * USEC_PER_SEC), SCAN_FAILED);
        assert_int_equal(scan_error_code(&r.scan), SCAN_ERROR_NOT_SEATED);
        assert_string_equal(scan_error(&r.scan), "nobody seated (median force 0.0 N)");
}

static void test_out_of_range(void **state) {
        Rig r;

        /* shoulders lower than the OEM allows (ShoulderMaxMm=260) */
        rig_start(&r, BODY_CONTOUR, 290, 300);
        assert_int_equal(rig_run(&r, 120 * USEC_PER_SEC), SCAN_FAILED);
        assert_int_equal(scan_error_code(&r.scan), SCAN_ERROR_OUT_OF_RANGE);
        assert_string_equal(scan_error_to_string(SCAN_ERROR_OUT_OF_RANGE), "out-of-range");
}

static void test_roller_stuck(void **state) {
        Rig r;

        rig_start(&r, BODY_CONTOUR, 200, 300);
        r.speed_factor = 0;
        assert_int_equal(rig_run(&r, SCAN_STALL_USEC - CYCLE), SCAN_RUNNING);
        assert_int_equal(rig_run(&r, 2 * CYCLE), SCAN_FAILED);
        assert_int_equal(scan_error_code(&r.scan), SCAN_ERROR_NOT_MOVING);

        /* a position that cannot be read counts as not moving too */
        rig_start(&r, BODY_CONTOUR, 200, 300);
        r.in.valid[SIGNAL_ROLLER_POSITION] = false;
        assert_int_equal(rig_run(&r, SCAN_STALL_USEC + CYCLE), SCAN_FAILED);
        assert_int_equal(scan_error_code(&r.scan), SCAN_ERROR_NOT_MOVING);
}

/* A roller that creeps (too slow to count as stuck) runs into the deadline. */
static void test_timeout(void **state) {
        usec_t start;
        Rig r;

        rig_start(&r, BODY_CONTOUR, 200, 300);
        start = r.now;
        r.speed_factor = 0.05; /* 4 mm/s on the way up: 12 mm per stall window */
        assert_int_equal(rig_run(&r, 600 * USEC_PER_SEC), SCAN_FAILED);
        assert_int_equal(scan_error_code(&r.scan), SCAN_ERROR_TIMEOUT);
        /* the first cycle at or past the deadline ended it */
        assert_true(r.now - CYCLE >= r.scan.deadline && r.now - 2 * CYCLE < r.scan.deadline);
        /* not before the plan could have finished: up, down to the range, through it */
        assert_true(r.now - start >= (usec_t)((700 + 70) / 80.0 + 240 / 20.0) * USEC_PER_SEC);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_finds_shoulder), cmocka_unit_test(test_sweep_outputs),
                cmocka_unit_test(test_flat_profile),   cmocka_unit_test(test_edge_is_no_peak),
                cmocka_unit_test(test_not_seated),     cmocka_unit_test(test_out_of_range),
                cmocka_unit_test(test_roller_stuck),   cmocka_unit_test(test_timeout),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
