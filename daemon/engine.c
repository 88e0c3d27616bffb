/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The program engine: where the program is in time, which step runs, where the roller sweeps within the
 * step's zone relative to the shoulder line, how hard it presses at this intensity, and the pause,
 * resume and park that wrap it. Pure (daemon/engine.h); the safety supervisor has the last word. */
#include <math.h>

#include "engine.h"

static const char *const engine_state_table[_ENGINE_STATE_MAX] = {
        [ENGINE_IDLE] = "idle",       [ENGINE_RUNNING] = "running", [ENGINE_PAUSED] = "paused",
        [ENGINE_PARKING] = "parking", [ENGINE_DONE] = "done",
};

const char *engine_state_to_string(EngineState s) {
        if (s < 0 || s >= _ENGINE_STATE_MAX)
                return NULL;
        return engine_state_table[s];
}

static usec_t step_length(const ProgramStep *st) {
        return (usec_t)st->seconds * st->repeat * USEC_PER_SEC;
}

int engine_start(Engine *e, const Program *p, const Config *c, double shoulder_mm, unsigned intensity,
                 usec_t now) {
        const LimitsConfig *l;
        usec_t total = 0;

        if (!p || p->n_steps == 0 || !c)
                return -EINVAL;
        if (intensity < 1 || intensity > c->max_intensity)
                return -ERANGE;
        l = &c->limits;
        for (size_t i = 0; i < p->n_steps; i++)
                total += step_length(&p->steps[i]);

        *e = (Engine){
                .program = p,
                .config = c,
                .state = ENGINE_RUNNING,
                /* no scan: the middle of what the OEM allows; the supervisor widens the neck zone anyway */
                .shoulder_mm =
                        isfinite(shoulder_mm) ? shoulder_mm : (l->shoulder_min_mm + l->shoulder_max_mm) / 2,
                .intensity = intensity,
                .total = total,
                .started = now,
                /* parked toward the seat: the way there never crosses the neck (as the supervisor's stops)
                 */
                .park_mm = l->track_length_mm,
        };
        for (size_t i = 0; i < p->n_steps; i++)
                e->uses_recline = e->uses_recline || p->steps[i].recline;
        return 0;
}

usec_t engine_elapsed(const Engine *e, usec_t now) {
        usec_t until, t;

        switch (e->state) {
        case ENGINE_RUNNING:
                until = now;
                break;
        case ENGINE_PAUSED:
                until = e->paused_at;
                break;
        case ENGINE_PARKING:
        case ENGINE_DONE:
                return e->total;
        default:
                return 0;
        }
        if (until < e->started + e->paused_total)
                return 0;
        t = until - e->started - e->paused_total;
        return MIN(t, e->total);
}

unsigned engine_remaining_seconds(const Engine *e, usec_t now) {
        usec_t left;

        if (e->state != ENGINE_RUNNING && e->state != ENGINE_PAUSED)
                return 0;
        left = e->total - engine_elapsed(e, now);
        return (unsigned)((left + USEC_PER_SEC - 1) / USEC_PER_SEC);
}

/* The step at program time t, its run (repetition) and the time into the step. */
static int locate(const Engine *e, usec_t t, unsigned *ret_run, usec_t *ret_in_step) {
        const Program *p = e->program;

        for (size_t i = 0; i < p->n_steps; i++) {
                usec_t d = step_length(&p->steps[i]);
                if (t < d) {
                        *ret_run = (unsigned)(t / ((usec_t)p->steps[i].seconds * USEC_PER_SEC));
                        *ret_in_step = t;
                        return (int)i;
                }
                t -= d;
        }
        return -ENOENT;
}

int engine_current_step(const Engine *e, usec_t now) {
        unsigned run;
        usec_t in_step;

        if (e->state != ENGINE_RUNNING && e->state != ENGINE_PAUSED)
                return -ENOENT;
        return locate(e, engine_elapsed(e, now), &run, &in_step);
}

int engine_pause(Engine *e, usec_t now) {
        if (e->state == ENGINE_PAUSED)
                return 0;
        if (e->state != ENGINE_RUNNING)
                return -ESRCH;
        e->state = ENGINE_PAUSED;
        e->paused_at = MAX(now, e->started + e->paused_total);
        e->hold_set = false;
        return 0;
}

int engine_resume(Engine *e, usec_t now) {
        if (e->state == ENGINE_RUNNING)
                return 0;
        if (e->state != ENGINE_PAUSED)
                return -ESRCH;
        /* the paused time is added to the offset, so the program continues where it was */
        e->paused_total += now > e->paused_at ? now - e->paused_at : 0;
        e->state = ENGINE_RUNNING;
        return 0;
}

static void engine_park(Engine *e, usec_t now) {
        e->state = ENGINE_PARKING;
        e->park_deadline = now + ENGINE_PARK_TIMEOUT_USEC;
}

int engine_stop(Engine *e, usec_t now) {
        if (e->state == ENGINE_IDLE)
                return -ESRCH;
        if (e->state == ENGINE_RUNNING || e->state == ENGINE_PAUSED)
                engine_park(e, now);
        return 0;
}

int engine_set_intensity(Engine *e, unsigned intensity) {
        if (!e->config || intensity < 1 || intensity > e->config->max_intensity)
                return -ERANGE;
        e->intensity = intensity;
        return 0;
}

static bool roller_at(const ChairInputs *in, double mm) {
        return in->valid[SIGNAL_ROLLER_POSITION] &&
               fabs(in->value[SIGNAL_ROLLER_POSITION] - mm) <= ENGINE_TOLERANCE_MM;
}

/* The step's range on the track: relative to the shoulders, kept ENGINE_EDGE_MM inside its ends. */
static void step_range(const Engine *e, const ProgramStep *st, double *ret_lo, double *ret_hi) {
        double track = e->config->limits.track_length_mm;
        double lo = CLAMP(e->shoulder_mm + st->from_mm + ENGINE_EDGE_MM, 0, track);
        double hi = CLAMP(e->shoulder_mm + st->to_mm - ENGINE_EDGE_MM, 0, track);

        if (hi < lo)
                lo = hi = (lo + hi) / 2;
        *ret_lo = lo;
        *ret_hi = hi;
}

/* Where the roller goes: the next point of a Points= step, else the end of the sweep it heads for (the
 * nearer end when the step or run begins; the other one each time it arrives). */
static double step_target(Engine *e, const ProgramStep *st, const ChairInputs *in, double lo, double hi,
                          usec_t in_run) {
        double pos = in->value[SIGNAL_ROLLER_POSITION];

        if (st->points >= 2) {
                usec_t slice = (usec_t)st->seconds * USEC_PER_SEC / st->points;
                unsigned k = (unsigned)MIN(in_run / MAX(slice, 1u), (usec_t)st->points - 1);
                return lo + (hi - lo) * k / (st->points - 1);
        }
        if (!e->positioned) {
                e->positioned = true;
                e->to_hi = in->valid[SIGNAL_ROLLER_POSITION] && fabs(pos - hi) < fabs(pos - lo);
        } else if (roller_at(in, e->to_hi ? hi : lo))
                e->to_hi = !e->to_hi;
        return e->to_hi ? hi : lo;
}

static void write_airbags(ChairOutputs *o, unsigned groups, usec_t in_step) {
        static const SignalId cmd[_AIRBAG_GROUP_MAX] = {
                [AIRBAG_GROUP_SHOULDERS] = SIGNAL_AIRBAG_SHOULDERS_COMMAND,
                [AIRBAG_GROUP_ARMS] = SIGNAL_AIRBAG_ARMS_COMMAND,
                [AIRBAG_GROUP_HIPS] = SIGNAL_AIRBAG_HIPS_COMMAND,
                [AIRBAG_GROUP_LEGS] = SIGNAL_AIRBAG_LEGS_COMMAND,
        };
        /* inflate, hold, vent: a squeeze that always lets go */
        static const AirbagCommand rhythm[] = {AIRBAG_INFLATE, AIRBAG_HOLD, AIRBAG_VENT};
        AirbagCommand now = rhythm[(in_step / ENGINE_AIRBAG_PHASE_USEC) % ELEMENTSOF(rhythm)];

        for (int g = 0; g < _AIRBAG_GROUP_MAX; g++)
                o->value[cmd[g]] = groups & (1u << g) ? now : AIRBAG_VENT;
}

/* Nothing pressing, nothing squeezing, nothing heating: pause and park. */
static void write_relaxed(ChairOutputs *o, double target, double speed) {
        o->value[SIGNAL_ROLLER_ENABLE] = 1;
        o->value[SIGNAL_ROLLER_TARGET] = target;
        o->value[SIGNAL_ROLLER_SPEED_LIMIT] = speed;
        o->value[SIGNAL_ROLLER_FORCE_SETPOINT] = 0;
        o->value[SIGNAL_ROLLER_TECHNIQUE] = TECHNIQUE_NONE;
        write_airbags(o, 0, 0);
        o->value[SIGNAL_HEAT_SETPOINT] = 0;
        o->value[SIGNAL_HEAT_ENABLE] = 0;
}

static void step_running(Engine *e, const ChairInputs *in, usec_t now, ChairOutputs *o) {
        const LimitsConfig *l = &e->config->limits;
        usec_t t = engine_elapsed(e, now), in_step = 0;
        unsigned run = 0;
        int i = locate(e, t, &run, &in_step);
        const ProgramStep *st;
        double pos = in->value[SIGNAL_ROLLER_POSITION], lo, hi, target;
        bool transit;

        if (i < 0) /* past the last step: engine_step() parks before we get here */
                return;
        st = &e->program->steps[i];

        if ((size_t)i != e->step || run != e->run) {
                e->step = (size_t)i;
                e->run = run;
                e->positioned = false;
        }
        step_range(e, st, &lo, &hi);
        target = step_target(e, st, in, lo, hi, in_step - (usec_t)run * st->seconds * USEC_PER_SEC);
        /* on the way into the range (or blind): travel without pressure or technique */
        transit = !in->valid[SIGNAL_ROLLER_POSITION] || pos < lo - ENGINE_TOLERANCE_MM ||
                  pos > hi + ENGINE_TOLERANCE_MM;

        o->value[SIGNAL_ROLLER_ENABLE] = 1;
        o->value[SIGNAL_ROLLER_TARGET] = target;
        o->value[SIGNAL_ROLLER_SPEED_LIMIT] =
                transit ? MAX(st->speed_mm_s, MIN(ENGINE_TRANSIT_SPEED_MM_S, l->max_speed_mm_s))
                        : st->speed_mm_s;
        o->value[SIGNAL_ROLLER_FORCE_SETPOINT] =
                transit ? 0 : program_step_force(st, e->intensity, e->config->max_intensity);
        o->value[SIGNAL_ROLLER_TECHNIQUE] = transit ? TECHNIQUE_NONE : st->technique;
        o->value[SIGNAL_ROLLER_WIDTH] = st->width_mm;
        write_airbags(o, st->airbags, in_step);
        o->value[SIGNAL_HEAT_SETPOINT] = st->heat ? st->heat_c : 0;
        o->value[SIGNAL_HEAT_ENABLE] = st->heat;
        if (st->recline) {
                o->value[SIGNAL_RECLINE_TARGET] = st->recline_deg;
                o->value[SIGNAL_RECLINE_ENABLE] = 1;
        }
        e->last_target = target;
}

static void step_paused(Engine *e, const ChairInputs *in, ChairOutputs *o) {
        /* the roller stays where the pause found it, without pressure */
        if (!e->hold_set && in->valid[SIGNAL_ROLLER_POSITION]) {
                e->hold_mm = in->value[SIGNAL_ROLLER_POSITION];
                e->hold_set = true;
        }
        write_relaxed(o, e->hold_set ? e->hold_mm : e->last_target, 0);
        if (e->uses_recline)
                o->value[SIGNAL_RECLINE_ENABLE] = 0;
}

static void step_parking(Engine *e, const ChairInputs *in, usec_t now, ChairOutputs *o) {
        bool upright = !e->uses_recline || (in->valid[SIGNAL_RECLINE_ANGLE] &&
                                            in->value[SIGNAL_RECLINE_ANGLE] <= ENGINE_UPRIGHT_DEG);

        if ((roller_at(in, e->park_mm) && upright) || now >= e->park_deadline) {
                e->state = ENGINE_DONE;
                return;
        }
        write_relaxed(o, e->park_mm, e->config->limits.max_speed_mm_s * ENGINE_PARK_SPEED_SHARE);
        if (e->uses_recline) {
                o->value[SIGNAL_RECLINE_TARGET] = 0;
                o->value[SIGNAL_RECLINE_ENABLE] = 1;
        }
}

EngineState engine_step(Engine *e, const ChairInputs *in, usec_t now, ChairOutputs *wanted) {
        if (e->state == ENGINE_RUNNING && engine_elapsed(e, now) >= e->total)
                engine_park(e, now); /* the program is over: park like a stop */

        switch (e->state) {
        case ENGINE_RUNNING:
                step_running(e, in, now, wanted);
                break;
        case ENGINE_PAUSED:
                step_paused(e, in, wanted);
                break;
        case ENGINE_PARKING:
                step_parking(e, in, now, wanted);
                break;
        default:
                break;
        }
        return e->state;
}
