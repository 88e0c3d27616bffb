/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The program engine: turns a loaded program, the shoulder position and the intensity into the outputs
 * the daemon wants, one control cycle at a time. Pure and deterministic: time and inputs are passed in,
 * no I/O, no clock. Everything it wants still goes through the safety supervisor. docs/programs.md. */
#pragma once

#include <stdbool.h>

#include "chair.h"
#include "config.h"
#include "program.h"
#include "time-util.h"

/* The roller sweeps this far inside a step's range, so that its path never touches the next zone's
 * boundary (the supervisor counts a boundary as part of both zones). */
#define ENGINE_EDGE_MM 5.0
/* how close counts as "there" */
#define ENGINE_TOLERANCE_MM 1.0
/* travel between zones (no pressure) is at least this fast, capped by [Limits] MaxSpeedMmS */
#define ENGINE_TRANSIT_SPEED_MM_S 80.0
/* airbag rhythm of a step: inflate, hold, vent, each this long */
#define ENGINE_AIRBAG_PHASE_USEC (4 * USEC_PER_SEC)
/* parking travels at this share of [Limits] MaxSpeedMmS */
#define ENGINE_PARK_SPEED_SHARE 0.5
/* parking gives up waiting for the roller (and the backrest) after this long: done anyway */
#define ENGINE_PARK_TIMEOUT_USEC (60 * USEC_PER_SEC)
/* the backrest counts as upright below this angle */
#define ENGINE_UPRIGHT_DEG 1.0

typedef enum EngineState {
        ENGINE_IDLE,    /* "idle": never started */
        ENGINE_RUNNING, /* "running" */
        ENGINE_PAUSED,  /* "paused": roller holds without pressure, airbags vent, heat off */
        ENGINE_PARKING, /* "parking": stopped or finished, roller on its way to the park position */
        ENGINE_DONE,    /* "done": parked; the engine drives nothing any more */
        _ENGINE_STATE_MAX,
        _ENGINE_STATE_INVALID = -EINVAL,
} EngineState;

typedef struct Engine {
        const Program *program; /* borrowed: the caller keeps it alive until the engine is done */
        const Config *config;   /* borrowed, likewise */
        EngineState state;
        double shoulder_mm;
        unsigned intensity;

        usec_t total; /* program length */
        usec_t started;
        usec_t paused_total; /* time spent paused before the current pause */
        usec_t paused_at;

        size_t step; /* the step and run the sweep state belongs to */
        unsigned run;
        bool positioned; /* to_hi is set for this step and run */
        bool to_hi;      /* the sweep heads for the high (seat) end of the range */

        bool hold_set; /* pause: hold_mm has been taken from the roller position */
        double hold_mm;
        double last_target;

        double park_mm;
        usec_t park_deadline;
        bool uses_recline; /* some step moves the backrest: parking brings it upright */
} Engine;

/* Starts the program at now. shoulder_mm is the scan result; NAN (no scan) takes the middle of
 * [Limits] ShoulderMinMm..ShoulderMaxMm (the supervisor still applies the conservative neck zone).
 * -EINVAL no program or no steps, -ERANGE intensity not in 1..[Chair] MaxIntensity. */
int engine_start(Engine *e, const Program *p, const Config *c, double shoulder_mm, unsigned intensity,
                 usec_t now);

/* One control cycle: writes the outputs the engine drives into wanted (roller target, speed, force,
 * technique, width and enable, the four airbag commands, heat setpoint and enable, and the recline
 * outputs when the program moves the backrest) and leaves every other entry alone. Nothing is written
 * when idle or done. Returns the state after the cycle. */
EngineState engine_step(Engine *e, const ChairInputs *in, usec_t now, ChairOutputs *wanted);

/* -ESRCH when nothing runs (or is paused); pausing a paused / resuming a running engine is a no-op. */
int engine_pause(Engine *e, usec_t now);
int engine_resume(Engine *e, usec_t now);
/* Controlled park: force off, airbags vent, heat off, roller to the park position, then done. A no-op
 * while parking or done; -ESRCH when never started. */
int engine_stop(Engine *e, usec_t now);
/* 1..[Chair] MaxIntensity, else -ERANGE; takes effect at the next cycle. */
int engine_set_intensity(Engine *e, unsigned intensity);

/* Whole seconds left (rounded up) of the program; paused time does not count. 0 once parking. */
unsigned engine_remaining_seconds(const Engine *e, usec_t now);
/* Program time elapsed (paused time excluded), capped at the program length. */
usec_t engine_elapsed(const Engine *e, usec_t now);
/* Index of the step running at now, -ENOENT when none (idle, parking, done). */
int engine_current_step(const Engine *e, usec_t now);

static inline EngineState engine_state(const Engine *e) {
        return e->state;
}

const char *engine_state_to_string(EngineState s);
