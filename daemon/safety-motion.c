/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The safety supervisor's per-cycle rules on the outputs: zones and the neck, force clamp, over-limit
 * retract and hard limit, controlled stop, session time, occupancy, heat, airbags and sensor
 * plausibility. Pure, like daemon/safety.c; every rule names its SR (docs/safety.md). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "safety.h"

/* a controlled stop parks the roller this far past the neck zone, toward the seat */
#define NECK_EXIT_MM 10.0
/* how close counts as "there" for a controlled stop or a retract */
#define POSITION_TOLERANCE_MM 1.0
/* a controlled stop travels at this share of the speed cap */
#define STOP_SPEED_SHARE 0.5
/* a retract lowers the force setpoint to this share of the zone limit */
#define RETRACT_FORCE_SHARE 0.5
/* a roller told to go further than this that does not move is stuck */
#define STUCK_MIN_TRAVEL_MM 2.0
/* SR-21: the roller position may move at most this many times the speed cap between two readings,
 * plus a margin for the sensor's resolution and jitter of the read times. */
#define POSITION_RATE_FACTOR 2.0
#define POSITION_JUMP_MARGIN_MM 5.0

/* ---- zones (SR-9) ---- */

bool safety_scan_usable(const Safety *s, bool scanned, double shoulder_mm) {
        const LimitsConfig *l = &s->config->limits;

        /* a scan outside what the OEM allows is not trusted: the conservative zones apply */
        return scanned && shoulder_mm >= l->shoulder_min_mm && shoulder_mm <= l->shoulder_max_mm;
}

/* The zone on the track: from the scan, or the union over every shoulder height the OEM allows. */
static void zone_span(const Safety *s, const ZoneConfig *z, double *ret_lo, double *ret_hi) {
        const LimitsConfig *l = &s->config->limits;

        *ret_lo = (s->scanned ? s->shoulder_mm : l->shoulder_min_mm) + z->from_mm;
        *ret_hi = (s->scanned ? s->shoulder_mm : l->shoulder_max_mm) + z->to_mm;
}

void safety_zones_update(Safety *s, bool scanned, double shoulder_mm) {
        s->scanned = safety_scan_usable(s, scanned, shoulder_mm);
        s->shoulder_mm = shoulder_mm;
        s->neck.name = s->neck_config->name;
        zone_span(s, s->neck_config, &s->neck.from_mm, &s->neck.to_mm);
}

const char *safety_zone_at(const Safety *s, double position_mm) {
        double lo, hi;

        for (size_t i = 0; i < s->config->n_zones; i++) {
                zone_span(s, &s->config->zones[i], &lo, &hi);
                if (position_mm >= lo && position_mm <= hi)
                        return s->config->zones[i].name;
        }
        return NULL;
}

/* Is some point of [a, b] in no zone? A gap starts at a or right after the end of a zone. */
static bool path_uncovered(const Safety *s, double a, double b) {
        const Config *c = s->config;
        double lo, hi, lo2, hi2;
        bool covered = false;

        for (size_t i = 0; i < c->n_zones; i++) {
                zone_span(s, &c->zones[i], &lo, &hi);
                covered = covered || (lo <= a && a <= hi);
        }
        if (!covered)
                return true;
        for (size_t i = 0; i < c->n_zones; i++) {
                zone_span(s, &c->zones[i], &lo, &hi);
                if (hi < a || hi >= b)
                        continue;
                covered = false;
                for (size_t j = 0; j < c->n_zones; j++) {
                        zone_span(s, &c->zones[j], &lo2, &hi2);
                        covered = covered || (lo2 <= hi && hi2 > hi);
                }
                if (!covered)
                        return true;
        }
        return false;
}

double safety_zone_force_limit(const Safety *s, const ZoneConfig *z, bool untrained) {
        double v = untrained ? z->untrained_max_force_n : z->max_force_n;

        /* SR-13: the technician's lowered neck limit applies in both modes */
        return z->neck ? MIN(v, s->limit[SAFETY_LIMIT_NECK_FORCE]) : v;
}

bool safety_technique_allowed(const Safety *s, const ZoneConfig *z, Technique t, bool untrained) {
        unsigned bit = 1u << t;

        if (t == TECHNIQUE_NONE)
                return true;
        /* SR-10: the zone's AllowedTechniques (0 = all) */
        if (z->allowed_techniques != 0 && !(z->allowed_techniques & bit))
                return false;
        /* SR-16: in untrained mode the neck allows only its UntrainedTechniques */
        return !(untrained && z->neck && !(z->untrained_techniques & bit));
}

/* The force limit on the path [a, b]: the lowest of every zone it touches, the neck's where no zone
 * covers it (SR-9: the head end and gaps count as neck), the global cap and the untrained caps. */
static double path_force_limit(const Safety *s, double a, double b, SafetyRule *ret_rule,
                               const char **ret_zone) {
        const Config *c = s->config;
        bool untrained = s->mode == SAFETY_MODE_UNTRAINED;
        SafetyRule zone_rule = untrained ? SR_UNTRAINED_LIMITS : SR_ZONE_CLAMP;
        double best = s->limit[SAFETY_LIMIT_MAX_FORCE], lo, hi, v;

        *ret_rule = SR_CAPS;
        *ret_zone = "cap";
        if (untrained && s->limit[SAFETY_LIMIT_UNTRAINED_FORCE] < best) {
                best = s->limit[SAFETY_LIMIT_UNTRAINED_FORCE];
                *ret_rule = SR_UNTRAINED_LIMITS;
                *ret_zone = "untrained cap";
        }
        for (size_t i = 0; i < c->n_zones; i++) {
                zone_span(s, &c->zones[i], &lo, &hi);
                v = safety_zone_force_limit(s, &c->zones[i], untrained);
                if (lo <= b && hi >= a && v < best) {
                        best = v;
                        *ret_rule = c->zones[i].neck && !untrained ? SR_NECK_ZONE : zone_rule;
                        *ret_zone = c->zones[i].name;
                }
        }
        v = safety_zone_force_limit(s, s->neck_config, untrained);
        if (v < best && path_uncovered(s, a, b)) {
                best = v;
                *ret_rule = untrained ? SR_UNTRAINED_LIMITS : SR_NECK_ZONE;
                *ret_zone = "no zone";
        }
        return best;
}

/* SR-12: the hard limit where the roller is: the lowest zone HardForceN (0 = none) or the global one. */
static double hard_force_limit(const Safety *s, double pos, const char **ret_zone) {
        const Config *c = s->config;
        double best = c->limits.hard_force_n, lo, hi, v;

        *ret_zone = "global";
        for (size_t i = 0; i < c->n_zones; i++) {
                zone_span(s, &c->zones[i], &lo, &hi);
                v = c->zones[i].hard_force_n;
                if (lo <= pos && pos <= hi && v > 0 && v < best) {
                        best = v;
                        *ret_zone = c->zones[i].name;
                }
        }
        v = s->neck_config->hard_force_n;
        if (v > 0 && v < best && path_uncovered(s, pos, pos)) {
                best = v;
                *ret_zone = "no zone";
        }
        return best;
}

/* ---- measured force (SR-11, SR-12) ---- */

void safety_check_force(Safety *s, const SafetyInput *si, usec_t now, SafetyResult *r) {
        const ChairInputs *in = si->in;
        double f = in->value[SIGNAL_ROLLER_FORCE], pos = in->value[SIGNAL_ROLLER_POSITION], hard, limit;
        const char *zone;
        SafetyRule rule;
        char buf[SAFETY_TEXT_MAX];

        if (!in->valid[SIGNAL_ROLLER_FORCE] || !in->valid[SIGNAL_ROLLER_POSITION]) {
                s->over_limit = false;
                return;
        }
        /* SR-12: over the hard limit is an e-stop at once */
        hard = hard_force_limit(s, pos, &zone);
        if (f > hard) {
                (void)snprintf(buf, sizeof buf, "%s %.1f N > %.1f N", zone, f, hard);
                safety_latch(s, r, SAFETY_STOP_HARD_FORCE, SR_HARD_FORCE, buf);
                return;
        }
        /* SR-11: over the zone limit for OverLimitWindowMs → back off and press less */
        limit = path_force_limit(s, pos, pos, &rule, &zone);
        if (f <= limit)
                s->over_limit = false;
        else if (!s->over_limit) {
                s->over_limit = true;
                s->over_since = now;
        }
        if (s->retracting && fabs(pos - s->retract_target) <= POSITION_TOLERANCE_MM && f <= limit)
                s->retracting = false;
        if (s->over_limit && now - s->over_since >= s->config->limits.over_limit_window_ms * USEC_PER_MSEC) {
                s->over_limit = false;
                s->retracting = true;
                s->retract_target =
                        MIN(pos + s->config->limits.retract_mm, s->config->limits.track_length_mm);
                s->retract_force = limit * RETRACT_FORCE_SHARE;
                r->actions |= SAFETY_ACTION_RETRACT;
                safety_event_add(r, SAFETY_EVENT_RETRACT, SR_OVER_LIMIT,
                                 "%.1f N over the %s limit %.1f N: roller to %.1f mm", f, zone, limit,
                                 s->retract_target);
        }
}

/* ---- controlled stop and session rules (SR-17, SR-18, SR-20) ---- */

static void controlled_stop(Safety *s, const SafetyInput *si, SafetyResult *r, SafetyRule rule,
                            const char *why) {
        const ChairInputs *in = si->in;
        double pos = in->value[SIGNAL_ROLLER_POSITION];

        s->stopping = true;
        s->retracting = false;
        /* out of the neck toward the seat; a roller elsewhere stops where it is */
        if (in->valid[SIGNAL_ROLLER_POSITION] && pos > s->neck.to_mm)
                s->stop_target = pos;
        else
                s->stop_target = MIN(s->neck.to_mm + NECK_EXIT_MM, s->config->limits.track_length_mm);
        safety_event_add(r, SAFETY_EVENT_CONTROLLED_STOP, rule, "%s: roller to %.1f mm", why,
                         s->stop_target);
}

void safety_mode_leave(Safety *s, const SafetyInput *si, SafetyResult *r, SafetyRule rule, const char *why) {
        s->mode = SAFETY_MODE_PROGRAM;
        r->actions |= SAFETY_ACTION_LEAVE_UNTRAINED;
        safety_event_add(r, SAFETY_EVENT_MODE, rule, "%s", why);
        if (si->session_active && !s->stopping && !s->hold)
                controlled_stop(s, si, r, rule, why);
}

static void check_session(Safety *s, const SafetyInput *si, usec_t now, SafetyResult *r) {
        const ChairInputs *in = si->in;

        /* SR-17: the key out in untrained mode: out of the neck and back to program mode */
        if (s->mode == SAFETY_MODE_UNTRAINED &&
            !(in->line_valid[LINE_INTERLOCK] && in->line[LINE_INTERLOCK])) {
                safety_event_add(r, SAFETY_EVENT_INTERLOCK, SR_INTERLOCK_LOSS, "interlock key released");
                safety_mode_leave(s, si, r, SR_INTERLOCK_LOSS, "interlock lost");
        }
        if (!si->session_active || s->stopping || s->hold)
                return;
        /* SR-20 */
        if (s->config->gpio.lines[LINE_SEAT].configured &&
            !(in->line_valid[LINE_SEAT] && in->line[LINE_SEAT]))
                controlled_stop(s, si, r, SR_OCCUPANCY, "seat empty");
        /* SR-18 */
        else if ((double)(now - si->session_start) >= s->limit[SAFETY_LIMIT_SESSION] * USEC_PER_SEC)
                controlled_stop(s, si, r, SR_SESSION_TIME, "maximum session time");
}

/* Signals to their safe values, lines (relay, heartbeat) as they are. */
static void motion_off(ChairOutputs *o) {
        bool relay = o->line[LINE_POWER_RELAY];

        chair_outputs_safe(o);
        o->line[LINE_POWER_RELAY] = relay;
}

static void apply_stop(Safety *s, const SafetyInput *si, SafetyResult *r) {
        const ChairInputs *in = si->in;

        if (s->stopping) {
                r->actions |= SAFETY_ACTION_CONTROLLED_STOP;
                r->stop_target_mm = s->stop_target;
                if (in->valid[SIGNAL_ROLLER_POSITION] &&
                    fabs(in->value[SIGNAL_ROLLER_POSITION] - s->stop_target) <= POSITION_TOLERANCE_MM) {
                        s->stopping = false;
                        s->hold = true;
                        safety_event_add(r, SAFETY_EVENT_SESSION_END, SR_SAFE_STATE, "controlled stop done");
                } else {
                        motion_off(&r->out);
                        r->out.value[SIGNAL_ROLLER_TARGET] = s->stop_target;
                        r->out.value[SIGNAL_ROLLER_SPEED_LIMIT] =
                                s->limit[SAFETY_LIMIT_MAX_SPEED] * STOP_SPEED_SHARE;
                        r->out.value[SIGNAL_ROLLER_ENABLE] = 1;
                        return;
                }
        }
        if (!s->hold)
                return;
        if (si->session_active || si->jog_active) {
                /* SR-3: never resume: motion stays off until the manager has ended the session */
                motion_off(&r->out);
                r->actions |= SAFETY_ACTION_END_SESSION;
                return;
        }
        s->hold = false;
        s->retracting = false;
}

/* ---- clamps on the outputs ---- */

static void clamp_non_finite(Safety *s, SafetyResult *r) {
        for (int i = 0; i < _SIGNAL_MAX; i++)
                if (signal_id_direction(i) == SIGNAL_OUT && !isfinite(r->out.value[i])) {
                        /* SR-1: garbage from upstream becomes the safe value */
                        r->out.value[i] = signal_id_safe_value(i);
                        safety_clamp_hit(s, r, SAFETY_CLAMP_INVALID, SR_SAFE_STATE,
                                         "%s not a number: safe value", signal_id_to_string(i));
                }
}

static void clamp_technique(Safety *s, SafetyResult *r, double a, double b) {
        const Config *c = s->config;
        bool untrained = s->mode == SAFETY_MODE_UNTRAINED;
        double v = r->out.value[SIGNAL_ROLLER_TECHNIQUE], lo, hi;
        const ZoneConfig *bad = NULL;

        if (!(v >= 0 && v < _TECHNIQUE_MAX) || v != (int)v) {
                r->out.value[SIGNAL_ROLLER_TECHNIQUE] = TECHNIQUE_NONE;
                safety_clamp_hit(s, r, SAFETY_CLAMP_TECHNIQUE, SR_MOTION_LIMITS, "technique %g unknown", v);
                return;
        }
        for (size_t i = 0; i < c->n_zones; i++) {
                zone_span(s, &c->zones[i], &lo, &hi);
                if (lo <= b && hi >= a &&
                    !safety_technique_allowed(s, &c->zones[i], (Technique)v, untrained))
                        bad = &c->zones[i];
        }
        if (!bad && path_uncovered(s, a, b) &&
            !safety_technique_allowed(s, s->neck_config, (Technique)v, untrained))
                bad = s->neck_config;
        if (bad) {
                r->out.value[SIGNAL_ROLLER_TECHNIQUE] = TECHNIQUE_NONE;
                /* SR-10 (zone), SR-16 (untrained in the neck) */
                safety_clamp_hit(s, r, SAFETY_CLAMP_TECHNIQUE,
                                 untrained && bad->neck ? SR_UNTRAINED_LIMITS : SR_ZONE_CLAMP,
                                 "technique %s not allowed in zone %s", technique_to_string((Technique)v),
                                 bad->name);
        }
}

static void clamp_force(Safety *s, const SafetyInput *si, SafetyResult *r, double a, double b) {
        double f = r->out.value[SIGNAL_ROLLER_FORCE_SETPOINT], limit;
        unsigned max_intensity = safety_max_intensity(s);
        const char *zone;
        SafetyRule rule;

        /* SR-16/SR-22: an intensity over the cap scales the force down (setpoints scale with intensity) */
        if (si->intensity > max_intensity) {
                f = f * max_intensity / si->intensity;
                safety_clamp_hit(s, r, SAFETY_CLAMP_INTENSITY,
                                 s->mode == SAFETY_MODE_UNTRAINED ? SR_UNTRAINED_LIMITS : SR_MOTION_LIMITS,
                                 "intensity %u over %u", si->intensity, max_intensity);
        }
        /* SR-9/10/13/16: clamped to every zone on the way from here to the target, before it is sent */
        limit = path_force_limit(s, a, b, &rule, &zone);
        if (f > limit) {
                safety_clamp_hit(s, r, SAFETY_CLAMP_FORCE, rule, "force %.1f N clamped to %.1f N (%s)", f,
                                 limit, zone);
                f = limit;
        }
        if (f < 0) {
                safety_clamp_hit(s, r, SAFETY_CLAMP_FORCE, SR_MOTION_LIMITS, "force %.1f N negative", f);
                f = 0;
        }
        r->out.value[SIGNAL_ROLLER_FORCE_SETPOINT] = f;
}

static void clamp_motion(Safety *s, const SafetyInput *si, SafetyResult *r) {
        const ChairInputs *in = si->in;
        const LimitsConfig *l = &s->config->limits;
        double *o = r->out.value;
        double t = o[SIGNAL_ROLLER_TARGET], pos = in->value[SIGNAL_ROLLER_POSITION], vmax, a, b;
        SafetyRule rule = SR_MOTION_LIMITS;

        /* SR-22: the target stays on the track */
        o[SIGNAL_ROLLER_TARGET] = CLAMP(t, 0, l->track_length_mm);
        if (o[SIGNAL_ROLLER_TARGET] != t)
                safety_clamp_hit(s, r, SAFETY_CLAMP_TARGET, SR_MOTION_LIMITS, "target %.1f mm off the track",
                                 t);
        /* SR-22, SR-16: speed caps */
        vmax = s->limit[SAFETY_LIMIT_MAX_SPEED];
        if (s->mode == SAFETY_MODE_UNTRAINED && s->config->untrained.max_speed_mm_s < vmax) {
                vmax = s->config->untrained.max_speed_mm_s;
                rule = SR_UNTRAINED_LIMITS;
        }
        if (!(o[SIGNAL_ROLLER_SPEED_LIMIT] >= 0 && o[SIGNAL_ROLLER_SPEED_LIMIT] <= vmax)) {
                safety_clamp_hit(s, r, SAFETY_CLAMP_SPEED, rule, "speed %.1f mm/s outside 0..%.1f",
                                 o[SIGNAL_ROLLER_SPEED_LIMIT], vmax);
                o[SIGNAL_ROLLER_SPEED_LIMIT] = CLAMP(o[SIGNAL_ROLLER_SPEED_LIMIT], 0, vmax);
        }
        /* the path: from where the roller is (unknown: anywhere) to where it is sent */
        a = in->valid[SIGNAL_ROLLER_POSITION] ? MIN(pos, o[SIGNAL_ROLLER_TARGET]) : -INFINITY;
        b = in->valid[SIGNAL_ROLLER_POSITION] ? MAX(pos, o[SIGNAL_ROLLER_TARGET]) : INFINITY;
        clamp_technique(s, r, a, b);
        clamp_force(s, si, r, a, b);
}

/* ---- heat and airbags (SR-19, SR-23) ---- */

static void clamp_heat(Safety *s, const SafetyInput *si, usec_t now, SafetyResult *r) {
        const ChairInputs *in = si->in;
        double *o = r->out.value, cap = s->limit[SAFETY_LIMIT_HEAT_TEMP];
        const char *why = NULL;

        if (o[SIGNAL_HEAT_SETPOINT] > cap) {
                safety_clamp_hit(s, r, SAFETY_CLAMP_HEAT_SETPOINT, SR_HEAT,
                                 "heat setpoint %.1f °C over %.1f °C", o[SIGNAL_HEAT_SETPOINT], cap);
                o[SIGNAL_HEAT_SETPOINT] = cap;
        }
        /* heater on-time per session, so that switching it off and on does not reset the count */
        if (!si->session_active)
                s->heat_on_usec = 0;
        else if (s->last_out.value[SIGNAL_HEAT_ENABLE] != 0)
                s->heat_on_usec += now - s->last_step;
        if (o[SIGNAL_HEAT_ENABLE] == 0)
                return;
        if (!si->session_active)
                why = "no session";
        else if (!in->valid[SIGNAL_HEAT_TEMPERATURE])
                why = "temperature unknown";
        else if (in->value[SIGNAL_HEAT_TEMPERATURE] >= cap)
                why = "temperature at the cap";
        else if (s->heat_on_usec >= s->config->limits.heat_max_on_s * USEC_PER_SEC)
                why = "maximum on-time";
        if (why) {
                o[SIGNAL_HEAT_ENABLE] = 0;
                safety_clamp_hit(s, r, SAFETY_CLAMP_HEAT_OFF, SR_HEAT, "heater off: %s", why);
        }
}

static void clamp_airbags(Safety *s, const SafetyInput *si, SafetyResult *r) {
        static const struct {
                SignalId command, pressure;
        } bags[] = {
                {SIGNAL_AIRBAG_SHOULDERS_COMMAND, SIGNAL_AIRBAG_SHOULDERS_PRESSURE},
                {SIGNAL_AIRBAG_ARMS_COMMAND, SIGNAL_AIRBAG_ARMS_PRESSURE},
                {SIGNAL_AIRBAG_HIPS_COMMAND, SIGNAL_AIRBAG_HIPS_PRESSURE},
                {SIGNAL_AIRBAG_LEGS_COMMAND, SIGNAL_AIRBAG_LEGS_PRESSURE},
        };
        const ChairInputs *in = si->in;

        for (size_t i = 0; i < ELEMENTSOF(bags); i++) {
                double *cmd = &r->out.value[bags[i].command];
                SignalId p = bags[i].pressure;

                if (*cmd != AIRBAG_VENT && *cmd != AIRBAG_HOLD && *cmd != AIRBAG_INFLATE) {
                        safety_clamp_hit(s, r, SAFETY_CLAMP_AIRBAG, SR_AIRBAG, "%s %g unknown: vent",
                                         signal_id_to_string(bags[i].command), *cmd);
                        *cmd = AIRBAG_VENT;
                } else if (*cmd == AIRBAG_INFLATE &&
                           !(in->valid[p] && in->value[p] < s->config->limits.airbag_max_kpa)) {
                        /* SR-23: no more air at (or without knowing) the pressure cap */
                        safety_clamp_hit(s, r, SAFETY_CLAMP_AIRBAG, SR_AIRBAG,
                                         "%s at the pressure cap: hold",
                                         signal_id_to_string(bags[i].command));
                        *cmd = AIRBAG_HOLD;
                }
        }
}

/* Everything that shapes the outputs while not latched, in order of precedence (last wins). */
void safety_supervise(Safety *s, const SafetyInput *si, usec_t now, SafetyResult *r) {
        if (s->retracting) {
                r->actions |= SAFETY_ACTION_RETRACT;
                r->stop_target_mm = s->retract_target;
                r->out.value[SIGNAL_ROLLER_TARGET] = s->retract_target;
                r->out.value[SIGNAL_ROLLER_FORCE_SETPOINT] =
                        MIN(r->out.value[SIGNAL_ROLLER_FORCE_SETPOINT], s->retract_force);
        }
        check_session(s, si, now, r);
        apply_stop(s, si, r);
        clamp_non_finite(s, r);
        clamp_motion(s, si, r);
        clamp_heat(s, si, now, r);
        clamp_airbags(s, si, r);
}

/* ---- sensor plausibility (SR-21) ---- */

bool safety_range_fault(const Safety *s, const ChairInputs *in, char *buf, size_t size) {
        const Config *c = s->config;

        for (size_t i = 0; i < c->n_signals; i++) {
                const SignalConfig *sc = &c->signals[i];
                double v = in->value[sc->id];

                if (signal_id_direction(sc->id) != SIGNAL_IN || !sc->has_range || !in->valid[sc->id])
                        continue;
                if (!(v >= sc->min && v <= sc->max)) {
                        (void)snprintf(buf, size, "%s:range", signal_id_to_string(sc->id));
                        return true;
                }
        }
        return false;
}

static void fault(Safety *s, SafetyResult *r, const char *detail) {
        s->fault = true;
        r->actions |= SAFETY_ACTION_RAISE_FAULT;
        safety_event_add(r, SAFETY_EVENT_FAULT, SR_PLAUSIBILITY, "%s", detail);
        safety_latch(s, r, SAFETY_STOP_SENSOR_FAULT, SR_PLAUSIBILITY, detail);
}

static void check_stuck(Safety *s, const ChairInputs *in, usec_t now, SafetyResult *r) {
        const double *o = s->last_out.value;
        double pos = in->value[SIGNAL_ROLLER_POSITION];
        /* moving = what we sent last cycle asks for travel */
        bool moving = in->valid[SIGNAL_ROLLER_POSITION] && o[SIGNAL_ROLLER_ENABLE] != 0 &&
                      o[SIGNAL_ROLLER_SPEED_LIMIT] > 0 &&
                      fabs(o[SIGNAL_ROLLER_TARGET] - pos) > STUCK_MIN_TRAVEL_MM;

        if (!moving || pos != s->stuck_value) {
                s->stuck_value = pos;
                s->stuck_since = now;
        } else if (now - s->stuck_since >= s->config->limits.stuck_ms * USEC_PER_MSEC)
                fault(s, r, "roller.position:stuck");
}

static void check_rate(Safety *s, const ChairInputs *in, SafetyResult *r) {
        double f = in->value[SIGNAL_ROLLER_FORCE];
        usec_t at = in->updated[SIGNAL_ROLLER_FORCE];

        if (!in->valid[SIGNAL_ROLLER_FORCE])
                return;
        /* Only while the roller was told to press: when it is released (end of a jog, a stop, a pause)
         * the contact force falls away as fast as the mechanism lets go, and that is no sensor fault.
         * The next reading under pressure starts a new comparison. */
        if (s->last_out.value[SIGNAL_ROLLER_ENABLE] == 0) {
                s->have_force = false;
                return;
        }
        /* A rise only: a sudden fall (the occupant leaning away or standing up) is less force, not a
         * hazard, and the occupancy and contact rules deal with it. */
        if (s->have_force && at > s->last_force_at &&
            f - s->last_force >
                    s->config->limits.force_max_rate_n_s * (double)(at - s->last_force_at) / USEC_PER_SEC)
                fault(s, r, "roller.force:rate");
        if (s->have_force && at <= s->last_force_at)
                return; /* not a fresh reading: keep comparing with the last fresh one */
        s->have_force = true;
        s->last_force = f;
        s->last_force_at = at;
}

/* A position that jumps further than the roller can travel is a sensor fault: believing it would clamp
 * the force by the wrong body zone. */
static void check_position_rate(Safety *s, const ChairInputs *in, SafetyResult *r) {
        double pos = in->value[SIGNAL_ROLLER_POSITION];
        usec_t at = in->updated[SIGNAL_ROLLER_POSITION];

        if (!in->valid[SIGNAL_ROLLER_POSITION])
                return;
        if (s->have_position && at > s->last_position_at &&
            fabs(pos - s->last_position) > POSITION_JUMP_MARGIN_MM +
                            POSITION_RATE_FACTOR * s->config->limits.max_speed_mm_s *
                                    (double)(at - s->last_position_at) / USEC_PER_SEC)
                fault(s, r, "roller.position:rate");
        if (s->have_position && at <= s->last_position_at)
                return; /* not a fresh reading */
        s->have_position = true;
        s->last_position = pos;
        s->last_position_at = at;
}

void safety_check_plausibility(Safety *s, const SafetyInput *si, usec_t now, SafetyResult *r) {
        char buf[SAFETY_TEXT_MAX];

        if (safety_range_fault(s, si->in, buf, sizeof buf))
                fault(s, r, buf);
        check_stuck(s, si->in, now, r);
        check_rate(s, si->in, r);
        check_position_rate(s, si->in, r);
}
