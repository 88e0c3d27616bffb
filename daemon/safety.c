/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The safety supervisor's core: the e-stop latch and its reset, the mode, the effective limits, the
 * checks the manager asks before it starts something, and the per-cycle step that runs the rules of
 * daemon/safety-motion.c. Pure: no I/O, no clock, no logging (docs/safety.md). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "safety.h"

/* SR-6: a heartbeat older than this many control periods means the loop has stalled */
#define HEARTBEAT_STALE_PERIODS 3

static const char *const rule_table[_SR_MAX] = {
        [SR_NONE] = "none",
        [SR_SAFE_STATE] = "SR-1",
        [SR_ESTOP_SOURCES] = "SR-2",
        [SR_ESTOP_RESET] = "SR-3",
        [SR_STARTUP] = "SR-4",
        [SR_WATCHDOG] = "SR-5",
        [SR_HEARTBEAT_GPIO] = "SR-6",
        [SR_HEARTBEAT_BOARD] = "SR-7",
        [SR_COMM_LOSS] = "SR-8",
        [SR_NECK_ZONE] = "SR-9",
        [SR_ZONE_CLAMP] = "SR-10",
        [SR_OVER_LIMIT] = "SR-11",
        [SR_HARD_FORCE] = "SR-12",
        [SR_CAPS] = "SR-13",
        [SR_PROGRAM_CHECK] = "SR-14",
        [SR_UNTRAINED_ENTRY] = "SR-15",
        [SR_UNTRAINED_LIMITS] = "SR-16",
        [SR_INTERLOCK_LOSS] = "SR-17",
        [SR_SESSION_TIME] = "SR-18",
        [SR_HEAT] = "SR-19",
        [SR_OCCUPANCY] = "SR-20",
        [SR_PLAUSIBILITY] = "SR-21",
        [SR_MOTION_LIMITS] = "SR-22",
        [SR_AIRBAG] = "SR-23",
};

static const char *const stop_reason_table[_SAFETY_STOP_MAX] = {
        [SAFETY_STOP_NONE] = "none",
        [SAFETY_STOP_BUTTON] = "button",
        [SAFETY_STOP_REMOTE] = "remote",
        [SAFETY_STOP_INTERNAL] = "internal",
        [SAFETY_STOP_UNCLEAN_RESTART] = "unclean-restart",
        [SAFETY_STOP_COMM_LOSS] = "comm-loss",
        [SAFETY_STOP_HARD_FORCE] = "hard-force",
        [SAFETY_STOP_SENSOR_FAULT] = "sensor-fault",
};

static const char *const event_kind_table[_SAFETY_EVENT_KIND_MAX] = {
        [SAFETY_EVENT_ESTOP] = "estop",
        [SAFETY_EVENT_RESET] = "reset",
        [SAFETY_EVENT_LIMIT] = "limit",
        [SAFETY_EVENT_RETRACT] = "retract",
        [SAFETY_EVENT_CONTROLLED_STOP] = "controlled-stop",
        [SAFETY_EVENT_SESSION_END] = "session-end",
        [SAFETY_EVENT_FAULT] = "fault",
        [SAFETY_EVENT_INTERLOCK] = "interlock",
        [SAFETY_EVENT_MODE] = "mode",
};

static const char *const mode_table[_SAFETY_MODE_MAX] = {
        [SAFETY_MODE_PROGRAM] = "program",
        [SAFETY_MODE_UNTRAINED] = "untrained",
};

static const char *const limit_table[_SAFETY_LIMIT_MAX] = {
        [SAFETY_LIMIT_MAX_FORCE] = "max-force-n",
        [SAFETY_LIMIT_NECK_FORCE] = "neck-max-force-n",
        [SAFETY_LIMIT_MAX_SPEED] = "max-speed-mm-s",
        [SAFETY_LIMIT_SESSION] = "max-session-s",
        [SAFETY_LIMIT_HEAT_TEMP] = "heat-max-temp-c",
        [SAFETY_LIMIT_UNTRAINED_FORCE] = "untrained-max-force-n",
};

static const char *const refusal_table[_SAFETY_REFUSAL_MAX] = {
        [SAFETY_REFUSAL_NONE] = "",
        [SAFETY_REFUSAL_ESTOP] = "EmergencyStop",
        [SAFETY_REFUSAL_INTERLOCK] = "Interlock",
        [SAFETY_REFUSAL_NOT_OCCUPIED] = "NotOccupied",
        [SAFETY_REFUSAL_BUSY] = "Busy",
        [SAFETY_REFUSAL_NOT_PERMITTED] = "NotPermitted",
        [SAFETY_REFUSAL_HARDWARE] = "Hardware",
        [SAFETY_REFUSAL_INVALID] = "InvalidArgument",
};

static const char *table_lookup(const char *const *table, int n, int i) {
        if (i < 0 || i >= n)
                return NULL;
        return table[i];
}

static int table_find(const char *const *table, int n, const char *s) {
        if (!s)
                return -EINVAL;
        for (int i = 0; i < n; i++)
                if (streq(table[i], s))
                        return i;
        return -EINVAL;
}

const char *safety_rule_to_string(SafetyRule r) {
        return table_lookup(rule_table, _SR_MAX, r);
}

const char *safety_stop_reason_to_string(SafetyStopReason r) {
        return table_lookup(stop_reason_table, _SAFETY_STOP_MAX, r);
}

SafetyStopReason safety_stop_reason_from_string(const char *s) {
        return table_find(stop_reason_table, _SAFETY_STOP_MAX, s);
}

const char *safety_event_kind_to_string(SafetyEventKind k) {
        return table_lookup(event_kind_table, _SAFETY_EVENT_KIND_MAX, k);
}

const char *safety_mode_to_string(SafetyMode m) {
        return table_lookup(mode_table, _SAFETY_MODE_MAX, m);
}

const char *safety_limit_to_string(SafetyLimit l) {
        return table_lookup(limit_table, _SAFETY_LIMIT_MAX, l);
}

SafetyLimit safety_limit_from_string(const char *s) {
        return table_find(limit_table, _SAFETY_LIMIT_MAX, s);
}

const char *safety_refusal_to_string(SafetyRefusal r) {
        return table_lookup(refusal_table, _SAFETY_REFUSAL_MAX, r);
}

void safety_event_add(SafetyResult *r, SafetyEventKind kind, SafetyRule rule, const char *fmt, ...) {
        va_list ap;

        if (r->n_events >= SAFETY_EVENTS_MAX) {
                r->events_dropped++;
                return;
        }
        SafetyEvent *e = &r->events[r->n_events++];
        e->kind = kind;
        e->rule = rule;
        va_start(ap, fmt);
        (void)vsnprintf(e->detail, sizeof e->detail, fmt, ap);
        va_end(ap);
}

/* One event per clamp episode: a clamp that holds for many cycles is reported when it starts. */
void safety_clamp_hit(Safety *s, SafetyResult *r, SafetyClamp clamp, SafetyRule rule, const char *fmt, ...) {
        va_list ap;

        if (!s->clamp_active[clamp]) {
                char buf[SAFETY_TEXT_MAX];

                va_start(ap, fmt);
                (void)vsnprintf(buf, sizeof buf, fmt, ap);
                va_end(ap);
                safety_event_add(r, SAFETY_EVENT_LIMIT, rule, "%s", buf);
        }
        s->clamp_active[clamp] = true;
        s->clamp_now[clamp] = true;
}

static int refuse(SafetyVerdict *v, int error, SafetyRule rule, SafetyRefusal refusal, const char *fmt, ...)
        _printf_(5, 6);
static int refuse(SafetyVerdict *v, int error, SafetyRule rule, SafetyRefusal refusal, const char *fmt,
                  ...) {
        va_list ap;

        v->rule = rule;
        v->refusal = refusal;
        va_start(ap, fmt);
        (void)vsnprintf(v->reason, sizeof v->reason, fmt, ap);
        va_end(ap);
        return error;
}

/* ---- configuration and limits (SR-13) ---- */

static const ZoneConfig *config_find_neck(const Config *c) {
        if (c->n_zones > SAFETY_ZONES_MAX)
                return NULL;
        for (size_t i = 0; i < c->n_zones; i++)
                if (c->zones[i].neck)
                        return &c->zones[i];
        return NULL;
}

double safety_limit_cap(const Safety *s, SafetyLimit id) {
        const Config *c = s->config;

        switch (id) {
        case SAFETY_LIMIT_MAX_FORCE:
                return c->limits.max_force_n;
        case SAFETY_LIMIT_NECK_FORCE:
                return s->neck_config ? s->neck_config->max_force_n : 0;
        case SAFETY_LIMIT_MAX_SPEED:
                return c->limits.max_speed_mm_s;
        case SAFETY_LIMIT_SESSION:
                return c->limits.max_session_s;
        case SAFETY_LIMIT_HEAT_TEMP:
                return c->limits.heat_max_temp_c;
        case SAFETY_LIMIT_UNTRAINED_FORCE:
                return c->untrained.max_force_n;
        default:
                return 0;
        }
}

double safety_limit_get(const Safety *s, SafetyLimit id) {
        if (id < 0 || id >= _SAFETY_LIMIT_MAX)
                return 0;
        return s->limit[id];
}

int safety_limit_set(Safety *s, SafetyLimit id, double value) {
        if (id < 0 || id >= _SAFETY_LIMIT_MAX)
                return -EINVAL;
        /* written so that NaN fails too */
        if (!(value > 0))
                return -EINVAL;
        /* SR-13: technicians may lower a limit, never raise it above the OEM cap */
        if (value > safety_limit_cap(s, id))
                return -EPERM;
        s->limit[id] = value;
        s->lowered[id] = value < safety_limit_cap(s, id);
        return 0;
}

int safety_update_config(Safety *s, const Config *c) {
        const ZoneConfig *neck = config_find_neck(c);

        if (!neck)
                return -EINVAL;
        s->config = c;
        s->neck_config = neck;
        s->period = USEC_PER_SEC / MAX(c->control_rate_hz, 1u);
        /* SR-13: a lowered limit survives a reload, but never above the new cap */
        for (int i = 0; i < _SAFETY_LIMIT_MAX; i++)
                s->limit[i] =
                        s->lowered[i] ? MIN(s->limit[i], safety_limit_cap(s, i)) : safety_limit_cap(s, i);
        safety_zones_update(s, s->scanned, s->shoulder_mm);
        return 0;
}

/* ---- latch (SR-1, SR-2, SR-3) ---- */

void safety_latch(Safety *s, SafetyResult *r, SafetyStopReason reason, SafetyRule rule, const char *detail) {
        r->actions |= SAFETY_ACTION_CUT_RELAY | SAFETY_ACTION_END_SESSION;
        if (s->latched)
                return;
        s->latched = true;
        s->reason = reason;
        s->estops++;
        if (detail)
                (void)snprintf(s->reason_text, sizeof s->reason_text, "%s:%s",
                               safety_stop_reason_to_string(reason), detail);
        else
                (void)snprintf(s->reason_text, sizeof s->reason_text, "%s",
                               safety_stop_reason_to_string(reason));
        /* whatever was going on is over: reset never resumes it (SR-3) */
        s->hold = true;
        s->stopping = false;
        s->retracting = false;
        s->over_limit = false;
        if (s->mode == SAFETY_MODE_UNTRAINED) {
                s->mode = SAFETY_MODE_PROGRAM;
                r->actions |= SAFETY_ACTION_LEAVE_UNTRAINED;
        }
        safety_event_add(r, SAFETY_EVENT_ESTOP, rule, "%s", s->reason_text);
}

static bool estop_configured(const Safety *s) {
        return s->config->gpio.backend != GPIO_BACKEND_NONE && s->config->gpio.lines[LINE_ESTOP].configured;
}

/* SR-2: normally-closed wiring makes a broken wire read as pressed; an unreadable line counts too */
static bool estop_pressed(const Safety *s, const ChairInputs *in) {
        return estop_configured(s) && (!in->line_valid[LINE_ESTOP] || in->line[LINE_ESTOP]);
}

static const SafetyBoard *required_board_lost(const SafetyInput *si) {
        for (size_t i = 0; i < si->n_boards; i++)
                if (si->boards[i].required && si->boards[i].lost)
                        return &si->boards[i];
        return NULL;
}

int safety_init(Safety *s, const Config *c, bool unclean_restart, usec_t now) {
        SafetyResult scratch;
        int r;

        /* SR-4: everything safe before anything else */
        *s = (Safety){.config = c, .mode = SAFETY_MODE_PROGRAM, .last_step = now};
        chair_outputs_safe(&s->last_out);
        scratch = (SafetyResult){};

        r = safety_update_config(s, c);
        if (r < 0) {
                safety_latch(s, &scratch, SAFETY_STOP_INTERNAL, SR_STARTUP, "config");
                return r;
        }
        /* SR-4: after a crash or a watchdog kill nobody knows what the chair was doing */
        if (unclean_restart)
                safety_latch(s, &scratch, SAFETY_STOP_UNCLEAN_RESTART, SR_STARTUP, NULL);
        return 0;
}

int safety_estop(Safety *s, SafetyStopReason reason, const char *detail, usec_t now, SafetyResult *ret) {
        bool bad = reason <= SAFETY_STOP_NONE || reason >= _SAFETY_STOP_MAX;

        *ret = (SafetyResult){};
        chair_outputs_safe(&ret->out);
        ret->out.line[LINE_HEARTBEAT] = s->last_out.line[LINE_HEARTBEAT];
        /* SR-2: a request with a bad reason still stops the chair */
        safety_latch(s, ret, bad ? SAFETY_STOP_INTERNAL : reason, SR_ESTOP_SOURCES,
                     bad ? "bad-reason" : detail);
        s->last_out = ret->out;
        return bad ? -EINVAL : 0;
}

int safety_reset(Safety *s, const SafetyInput *si, usec_t now, SafetyVerdict *ret_verdict,
                 SafetyResult *ret) {
        const SafetyBoard *b;
        char buf[SAFETY_TEXT_MAX];

        *ret = (SafetyResult){.out = s->last_out};
        *ret_verdict = (SafetyVerdict){};
        if (!s->latched)
                return 0;
        /* SR-3: reset only with the button released, faults gone and every required board answering */
        if (!s->neck_config)
                return refuse(ret_verdict, -EINVAL, SR_STARTUP, SAFETY_REFUSAL_NOT_PERMITTED,
                              "configuration invalid");
        if (estop_pressed(s, si->in))
                return refuse(ret_verdict, -EBUSY, SR_ESTOP_RESET, SAFETY_REFUSAL_ESTOP,
                              "e-stop button pressed or unreadable");
        if (safety_range_fault(s, si->in, buf, sizeof buf))
                return refuse(ret_verdict, -EBUSY, SR_PLAUSIBILITY, SAFETY_REFUSAL_HARDWARE,
                              "fault active: %s", buf);
        b = required_board_lost(si);
        if (b)
                return refuse(ret_verdict, -EBUSY, SR_COMM_LOSS, SAFETY_REFUSAL_HARDWARE,
                              "board %s not answering", b->name);

        s->latched = false;
        s->fault = false;
        s->reason = SAFETY_STOP_NONE;
        s->reason_text[0] = '\0';
        /* SR-3: to idle; a session the manager still holds stays stopped until it ends it */
        s->hold = si->session_active || si->jog_active;
        /* SR-21: the rate of change is judged between consecutive readings of one unlatched stretch; the
         * drop when the relay cut the motors is not a sensor fault. */
        s->have_force = false;
        s->have_position = false;
        safety_event_add(ret, SAFETY_EVENT_RESET, SR_ESTOP_RESET, "emergency stop reset");
        return 0;
}

/* ---- checks before the manager starts something ---- */

int safety_check_start(const Safety *s, const SafetyInput *si, bool jog, SafetyVerdict *ret_verdict) {
        const ChairInputs *in = si->in;
        const SafetyBoard *b;

        *ret_verdict = (SafetyVerdict){};
        if (s->latched)
                return refuse(ret_verdict, -ECANCELED, SR_ESTOP_RESET, SAFETY_REFUSAL_ESTOP,
                              "emergency stop latched (%s)", s->reason_text);
        /* SR-2: without a button nothing may move (bench setups only) */
        if (!estop_configured(s))
                return refuse(ret_verdict, -EPERM, SR_ESTOP_SOURCES, SAFETY_REFUSAL_NOT_PERMITTED,
                              "no e-stop button configured");
        b = required_board_lost(si);
        if (b)
                return refuse(ret_verdict, -EIO, SR_COMM_LOSS, SAFETY_REFUSAL_HARDWARE,
                              "board %s not answering", b->name);
        if (s->hold)
                return refuse(ret_verdict, -EBUSY, SR_ESTOP_RESET, SAFETY_REFUSAL_BUSY,
                              "the previous session is still ending");
        /* SR-20: a session needs someone in the chair; a technician's jog does not */
        if (!jog && s->config->gpio.lines[LINE_SEAT].configured &&
            !(in->line_valid[LINE_SEAT] && in->line[LINE_SEAT]))
                return refuse(ret_verdict, -EPERM, SR_OCCUPANCY, SAFETY_REFUSAL_NOT_OCCUPIED,
                              "nobody in the chair");
        return 0;
}

int safety_enter_untrained(Safety *s, const SafetyInput *si, SafetyVerdict *ret_verdict) {
        const ChairInputs *in = si->in;

        *ret_verdict = (SafetyVerdict){};
        /* SR-15: every entry condition, in the order a user can fix them */
        if (!s->config->untrained.enabled)
                return refuse(ret_verdict, -EPERM, SR_UNTRAINED_ENTRY, SAFETY_REFUSAL_NOT_PERMITTED,
                              "untrained mode is not enabled");
        if (s->latched)
                return refuse(ret_verdict, -ECANCELED, SR_UNTRAINED_ENTRY, SAFETY_REFUSAL_ESTOP,
                              "emergency stop latched");
        if (!(in->line_valid[LINE_INTERLOCK] && in->line[LINE_INTERLOCK]))
                return refuse(ret_verdict, -EPERM, SR_UNTRAINED_ENTRY, SAFETY_REFUSAL_INTERLOCK,
                              "interlock key not engaged");
        if (si->session_active || si->jog_active || s->hold)
                return refuse(ret_verdict, -EBUSY, SR_UNTRAINED_ENTRY, SAFETY_REFUSAL_BUSY,
                              "chair not idle");
        if (!safety_scan_usable(s, si->scanned, si->shoulder_mm))
                return refuse(ret_verdict, -EPERM, SR_UNTRAINED_ENTRY, SAFETY_REFUSAL_NOT_PERMITTED,
                              "body scan needed");
        s->mode = SAFETY_MODE_UNTRAINED;
        return 0;
}

void safety_leave_untrained(Safety *s, const SafetyInput *si, SafetyResult *ret) {
        *ret = (SafetyResult){.out = s->last_out};
        if (s->mode == SAFETY_MODE_UNTRAINED)
                safety_mode_leave(s, si, ret, SR_UNTRAINED_LIMITS, "left untrained mode");
}

unsigned safety_max_intensity(const Safety *s) {
        const Config *c = s->config;

        if (s->mode == SAFETY_MODE_UNTRAINED)
                return MIN(c->untrained.max_intensity, c->max_intensity);
        return c->max_intensity;
}

int safety_check_intensity(const Safety *s, unsigned intensity, SafetyVerdict *ret_verdict) {
        unsigned max = safety_max_intensity(s);

        *ret_verdict = (SafetyVerdict){};
        /* SR-16 (untrained cap), SR-22 (MaxIntensity) */
        if (intensity < 1 || intensity > max)
                return refuse(ret_verdict, -ERANGE,
                              s->mode == SAFETY_MODE_UNTRAINED ? SR_UNTRAINED_LIMITS : SR_MOTION_LIMITS,
                              SAFETY_REFUSAL_INVALID, "intensity %u outside 1..%u", intensity, max);
        return 0;
}

static const ZoneConfig *zone_by_name(const Config *c, const char *name) {
        for (size_t i = 0; i < c->n_zones; i++)
                if (name && streq(c->zones[i].name, name))
                        return &c->zones[i];
        return NULL;
}

int safety_check_step(const Safety *s, const char *zone, Technique technique, double force_n,
                      double speed_mm_s, SafetyVerdict *ret_verdict) {
        const ZoneConfig *z = zone_by_name(s->config, zone);
        double limit;

        *ret_verdict = (SafetyVerdict){};
        /* SR-14: a program is checked whole at load time, against the same rules the clamps apply */
        if (!z)
                return refuse(ret_verdict, -ENOENT, SR_PROGRAM_CHECK, SAFETY_REFUSAL_INVALID,
                              "unknown zone %s", zone ?: "(null)");
        if (technique < 0 || technique >= _TECHNIQUE_MAX || !(force_n >= 0) || !(speed_mm_s >= 0))
                return refuse(ret_verdict, -EINVAL, SR_PROGRAM_CHECK, SAFETY_REFUSAL_INVALID,
                              "invalid technique, force or speed");
        if (!safety_technique_allowed(s, z, technique, false))
                return refuse(ret_verdict, -EPERM, SR_ZONE_CLAMP, SAFETY_REFUSAL_NOT_PERMITTED,
                              "technique %s not allowed in zone %s", technique_to_string(technique),
                              z->name);
        limit = safety_zone_force_limit(s, z, false);
        if (force_n > limit)
                return refuse(ret_verdict, -ERANGE, z->neck ? SR_NECK_ZONE : SR_ZONE_CLAMP,
                              SAFETY_REFUSAL_INVALID, "force %.1f N over the %s limit %.1f N", force_n,
                              z->name, limit);
        if (force_n > s->limit[SAFETY_LIMIT_MAX_FORCE])
                return refuse(ret_verdict, -ERANGE, SR_CAPS, SAFETY_REFUSAL_INVALID,
                              "force %.1f N over the cap %.1f N", force_n, s->limit[SAFETY_LIMIT_MAX_FORCE]);
        if (speed_mm_s > s->limit[SAFETY_LIMIT_MAX_SPEED])
                return refuse(ret_verdict, -ERANGE, SR_MOTION_LIMITS, SAFETY_REFUSAL_INVALID,
                              "speed %.1f mm/s over the cap %.1f mm/s", speed_mm_s,
                              s->limit[SAFETY_LIMIT_MAX_SPEED]);
        return 0;
}

/* ---- watchdogs (SR-5, SR-6) ---- */

bool safety_cycle_done(Safety *s, usec_t deadline, usec_t finished) {
        /* SR-5: a late cycle does not kick: a loop that keeps missing its deadline gets killed */
        s->cycle_on_time = finished <= deadline;
        return s->cycle_on_time;
}

bool safety_heartbeat_ok(const Safety *s, usec_t now) {
        /* SR-6: the external watchdog sees a healthy loop only: stepping, on time, no sensor fault */
        return s->stepped && s->cycle_on_time && !s->fault &&
               now - s->last_step <= HEARTBEAT_STALE_PERIODS * s->period;
}

/* ---- the control cycle ---- */

static void check_latch_inputs(Safety *s, const SafetyInput *si, SafetyResult *r) {
        const SafetyBoard *b;

        /* SR-2 */
        if (estop_pressed(s, si->in))
                safety_latch(s, r, SAFETY_STOP_BUTTON, SR_ESTOP_SOURCES,
                             si->in->line_valid[LINE_ESTOP] ? NULL : "unreadable");
        /* SR-8: the hardware layer decided "lost" from MaxMissedPolls/CommLossMs */
        b = required_board_lost(si);
        if (b)
                safety_latch(s, r, SAFETY_STOP_COMM_LOSS, SR_COMM_LOSS, b->name);
}

void safety_step(Safety *s, const SafetyInput *si, const ChairOutputs *wanted, usec_t now,
                 SafetyResult *ret) {
        *ret = (SafetyResult){};
        memset(s->clamp_now, 0, sizeof s->clamp_now);

        if (!s->latched) {
                safety_zones_update(s, si->scanned, si->shoulder_mm);
                check_latch_inputs(s, si, ret);
                safety_check_plausibility(s, si, now, ret);
                safety_check_force(s, si, now, ret);
        }
        if (s->latched) {
                /* SR-1: everything safe; the relay may be on only when not latched */
                chair_outputs_safe(&ret->out);
                if (si->session_active || si->jog_active)
                        ret->actions |= SAFETY_ACTION_END_SESSION;
        } else {
                ret->out = *wanted;
                safety_supervise(s, si, now, ret);
        }
        /* SR-6: the heartbeat line freezes when unhealthy, whatever the manager wants */
        ret->out.line[LINE_HEARTBEAT] = safety_heartbeat_ok(s, now) ? wanted->line[LINE_HEARTBEAT]
                                                                    : s->last_out.line[LINE_HEARTBEAT];

        memcpy(s->clamp_active, s->clamp_now, sizeof s->clamp_active);
        s->last_out = ret->out;
        s->last_step = now;
        s->stepped = true;
}
