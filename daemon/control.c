/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The control cycle (read inputs → wanted outputs → safety supervisor → write outputs) on a CLOCK_MONOTONIC
 * timer, the e-stop path that bypasses it, and the motion the daemon offers before programs: jog. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "bus-error.h"
#include "log.h"
#include "maint.h"
#include "manager.h"

/* A technician's jog moves slowly and touches lightly, so the force sensor can be checked without
 * pressing anyone; both still pass the safety supervisor's caps. */
#define JOG_SPEED_MM_S 60.0
#define JOG_CONTACT_FORCE_N 15.0
#define JOG_RECLINE_TOLERANCE 0.5
#define JOG_ROLLER_TOLERANCE_MM 1.0
#define ROLLER_DEFAULT_WIDTH_MM 100.0

static const char *const jog_actuator_table[_JOG_ACTUATOR_MAX] = {
        [JOG_ROLLER] = "roller",
        [JOG_RECLINE] = "recline",
};

const char *jog_actuator_to_string(JogActuator a) {
        if (a < 0 || a >= _JOG_ACTUATOR_MAX)
                return NULL;
        return jog_actuator_table[a];
}

JogActuator jog_actuator_from_string(const char *s) {
        for (int i = 0; i < _JOG_ACTUATOR_MAX; i++)
                if (s && streq(s, jog_actuator_table[i]))
                        return (JogActuator) i;
        return _JOG_ACTUATOR_INVALID;
}

/* One journal MESSAGE_ID per safety event kind, so `journalctl MESSAGE_ID=…` finds every e-stop, every
 * clamp, etc. Stable: documented in docs/safety.md; never reuse one for another meaning. */
static const char *const event_message_id[_SAFETY_EVENT_KIND_MAX] = {
        [SAFETY_EVENT_ESTOP] = SAFETY_MESSAGE_ID_ESTOP,
        [SAFETY_EVENT_RESET] = "2acfbfb389ca43f5b094b25481d0b208",
        [SAFETY_EVENT_LIMIT] = "619d5cc5ae1a4854878f19a6e6a4eb9d",
        [SAFETY_EVENT_RETRACT] = "d7c24448b7f84081afa148d2ac409a95",
        [SAFETY_EVENT_CONTROLLED_STOP] = "82a879a1dbac417ab644fe4d4d27d051",
        [SAFETY_EVENT_SESSION_END] = "a5d968339fbc4ce6aa2d1f62734e5781",
        [SAFETY_EVENT_FAULT] = "3df74b6a2d3d49dfa325a7495fd54327",
        [SAFETY_EVENT_INTERLOCK] = "28cae7012d8e402fbb80647c1b46ecef",
        [SAFETY_EVENT_MODE] = "79f9b82dd03d46a6b75c38d16c00138c",
};

static void control_log_event(Manager *m, const SafetyEvent *ev) {
        bool estop = ev->kind == SAFETY_EVENT_ESTOP;
        char rule[64], kind[96], reason[160];
        const char *const fields[] = { rule, kind, estop ? reason : NULL, NULL };

        snprintf(rule, sizeof rule, "CHAIRD_SAFETY_RULE=%s", safety_rule_to_string(ev->rule));
        snprintf(kind, sizeof kind, "CHAIRD_SAFETY_EVENT=%s", safety_event_kind_to_string(ev->kind));
        snprintf(reason, sizeof reason, "CHAIRD_ESTOP_REASON=%s", safety_estop_text(&m->safety));
        log_struct_internal(estop ? LOG_WARNING : LOG_NOTICE,
                            event_message_id[ev->kind] ?: SAFETY_MESSAGE_ID_EVENT, fields, "%s: %s (%s)",
                            safety_event_kind_to_string(ev->kind), ev->detail, safety_rule_to_string(ev->rule));
        bus_emit_safety_event(m, safety_event_kind_to_string(ev->kind), ev->detail);
        if (ev->kind == SAFETY_EVENT_FAULT) /* issue 5: every sensor fault goes to the fault log */
                manager_state_fault(m, "sensor-fault", "%s (%s)", ev->detail, safety_rule_to_string(ev->rule));
}

/* Called whenever the supervisor latched: relay first (no Modbus needed), then every board to its safe
 * setpoints, then bookkeeping. Stop category 0 for rollers and heat (IEC 60204-1). */
static void control_on_latched(Manager *m, usec_t now) {
        (void) hw_set_line(m->hw, LINE_POWER_RELAY, false);
        (void) hw_all_stop(m->hw, now);
        manager_session_end(m, "emergency stop");
        m->state = manager_latched_state(m);
        manager_state_estop(m); /* issue 5: counted by reason kind, fault log, saved at once */
}

void manager_handle_safety_result(Manager *m, const SafetyResult *res, usec_t now) {
        for (size_t i = 0; i < res->n_events; i++)
                control_log_event(m, &res->events[i]);
        if (res->events_dropped > 0)
                log_warning("%u more safety events in this cycle were not logged.", res->events_dropped);
        if (res->actions & SAFETY_ACTION_CUT_RELAY) {
                if (!chair_state_latched(m->state))
                        control_on_latched(m, now);
                return;
        }
        if (res->actions & SAFETY_ACTION_END_SESSION)
                manager_session_end(m, "ended by the safety supervisor");
        else if (res->actions & SAFETY_ACTION_CONTROLLED_STOP)
                m->state = CHAIR_STOPPING;
}

static void control_compute_wanted(Manager *m, usec_t now) {
        ChairOutputs *w = &m->wanted;
        const ChairInputs *in = &m->in;

        chair_outputs_safe(w);
        w->line[LINE_POWER_RELAY] = true; /* the supervisor drops it whenever it is not allowed */
        w->value[SIGNAL_ROLLER_TARGET] = in->value[SIGNAL_ROLLER_POSITION];
        w->value[SIGNAL_ROLLER_WIDTH] = ROLLER_DEFAULT_WIDTH_MM;
        w->value[SIGNAL_RECLINE_TARGET] = in->value[SIGNAL_RECLINE_ANGLE];

        manager_session_wanted(m, now);
        manager_selftest_wanted(m, w); /* issue 5: the self-test may hold the relay off */
        if (!m->jog.active)
                return;

        switch (m->jog.actuator) {
        case JOG_ROLLER:
                w->value[SIGNAL_ROLLER_ENABLE] = 1;
                w->value[SIGNAL_ROLLER_TARGET] = m->jog.target;
                w->value[SIGNAL_ROLLER_SPEED_LIMIT] = JOG_SPEED_MM_S;
                w->value[SIGNAL_ROLLER_FORCE_SETPOINT] = JOG_CONTACT_FORCE_N;
                w->value[SIGNAL_ROLLER_TECHNIQUE] = TECHNIQUE_ROLLING;
                if (in->valid[SIGNAL_ROLLER_POSITION] &&
                    fabs(in->value[SIGNAL_ROLLER_POSITION] - m->jog.target) < JOG_ROLLER_TOLERANCE_MM) {
                        log_info("Jog of the roller reached %.1f mm.", m->jog.target);
                        m->jog.active = false;
                        m->state = CHAIR_IDLE;
                }
                break;
        case JOG_RECLINE:
                w->value[SIGNAL_RECLINE_ENABLE] = 1;
                w->value[SIGNAL_RECLINE_TARGET] = m->jog.target;
                if (in->valid[SIGNAL_RECLINE_ANGLE] &&
                    fabs(in->value[SIGNAL_RECLINE_ANGLE] - m->jog.target) < JOG_RECLINE_TOLERANCE) {
                        log_info("Jog of the recline reached %.1f°.", m->jog.target);
                        m->jog.active = false;
                        m->state = CHAIR_IDLE;
                }
                break;
        default:
                break;
        }
}

static void control_heartbeats(Manager *m, usec_t now) {
        unsigned period = m->config->gpio.heartbeat_period_ms;

        /* The external watchdog circuit sees a toggling line only while the supervisor says healthy. */
        if (period > 0 && safety_heartbeat_ok(&m->safety, now) &&
            now - m->heartbeat_toggled >= (usec_t) period * USEC_PER_MSEC) {
                m->heartbeat_level = !m->heartbeat_level;
                m->heartbeat_toggled = now;
        }
        m->allowed.line[LINE_HEARTBEAT] = m->heartbeat_level;
}

void manager_control_cycle(Manager *m, usec_t now) {
        SafetyResult res;
        SafetyInput si;

        (void) hw_read_inputs(m->hw, now, &m->in);
        manager_state_tick(m, now);     /* issue 5: operating time, sessions, board lost/recovered */
        manager_selftest_step(m, now);  /* issue 5: the self-test's state machine */
        control_compute_wanted(m, now);

        manager_safety_input(m, &si);
        safety_step(&m->safety, &si, &m->wanted, now, &res);
        m->allowed = res.out;
        manager_handle_safety_result(m, &res, now);
        control_heartbeats(m, now);

        (void) hw_write_outputs(m->hw, now, &m->allowed);
        bus_emit_changes(m, now);

        if (m->reload_requested && m->state == CHAIR_IDLE)
                (void) manager_reload(m);
}

static void control_kick_watchdog(Manager *m, usec_t now, bool on_time) {
        if (m->watchdog_usec == 0)
                return;
        /* Only a cycle that started and finished on time may feed systemd's watchdog: a stalled or
         * starved loop then gets the daemon killed and restarted latched (unclean-restart). */
        if (!on_time)
                return;
        if (now - m->last_watchdog_kick < m->watchdog_usec / 4)
                return;
        (void) sd_notify(false, "WATCHDOG=1");
        m->last_watchdog_kick = now;
}

static int control_timer_cb(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        usec_t start = mono_usec(), lateness, duration;
        bool on_time;

        lateness = start > m->next_deadline ? start - m->next_deadline : 0;
        manager_control_cycle(m, start);
        duration = mono_usec() - start;
        /* on time = finished before the next cycle was due */
        on_time = safety_cycle_done(&m->safety, m->next_deadline + m->period, start + duration);

        m->stats.cycles++;
        m->stats.last_duration = duration;
        if (lateness > m->stats.max_lateness)
                m->stats.max_lateness = lateness;
        if (duration > m->period)
                m->stats.overruns++;

        control_kick_watchdog(m, start + duration, on_time);

        /* Fixed-rate schedule on absolute deadlines (no drift); after a stall skip the missed cycles
         * instead of running a burst of them. */
        m->next_deadline += m->period;
        if (m->next_deadline <= start + duration) {
                m->stats.late++;
                m->next_deadline = start + duration + m->period;
        }
        return sd_event_source_set_time(s, m->next_deadline);
}

int manager_control_start(Manager *m) {
        int r;

        m->next_deadline = mono_usec() + m->period;
        /* Accuracy 1 µs: sd-event would otherwise coalesce the wake-up by up to 250 ms. */
        r = sd_event_add_time(m->event, &m->control_timer, CLOCK_MONOTONIC, m->next_deadline, 1,
                              control_timer_cb, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add the control timer: %m");
        (void) sd_event_source_set_priority(m->control_timer, SD_EVENT_PRIORITY_IMPORTANT);
        return sd_event_source_set_enabled(m->control_timer, SD_EVENT_ON);
}

/* Every turn of the interlock key is a SafetyEvent (DESIGN §3). Losing it in untrained mode is the
 * supervisor's own event (SR-17, with the controlled stop), so it is not announced twice. */
static void control_interlock_changed(Manager *m, bool engaged) {
        SafetyEvent ev = { .kind = SAFETY_EVENT_INTERLOCK, .rule = SR_UNTRAINED_ENTRY };

        if (!engaged && safety_mode(&m->safety) == SAFETY_MODE_UNTRAINED)
                return;
        snprintf(ev.detail, sizeof ev.detail, "interlock key %s", engaged ? "engaged" : "released");
        control_log_event(m, &ev);
}

/* The e-stop button: handled in the dispatch that read the edge, before any other Modbus traffic. */
void manager_on_line(Hw *hw, LineId line, bool active, usec_t timestamp, void *userdata) {
        Manager *m = userdata;
        SafetyResult res;

        /* Keep the snapshot current between cycles: a reset judged on the last cycle's inputs would
         * otherwise be accepted right after a press (found by make bench). */
        m->in.line[line] = active;
        if (line == LINE_INTERLOCK)
                control_interlock_changed(m, active);
        if (line != LINE_ESTOP || !active)
                return;
        /* Relay first, unconditionally and before any Modbus traffic (stop category 0). */
        (void) hw_set_line(m->hw, LINE_POWER_RELAY, false);
        (void) safety_estop(&m->safety, SAFETY_STOP_BUTTON, NULL, timestamp, &res);
        m->allowed = res.out;
        manager_handle_safety_result(m, &res, timestamp);
        bus_emit_changes(m, mono_usec());
}

int manager_emergency_stop(Manager *m, SafetyStopReason reason, const char *detail) {
        SafetyResult res;
        usec_t now = mono_usec();
        int r;

        r = safety_estop(&m->safety, reason, detail, now, &res);
        if (r < 0)
                return r;
        m->allowed = res.out;
        manager_handle_safety_result(m, &res, now);
        bus_emit_changes(m, now);
        return 0;
}

int manager_reset_emergency_stop(Manager *m, char **ret_why) {
        SafetyVerdict verdict = {};
        SafetyResult res;
        SafetyInput si;
        usec_t now = mono_usec();
        int r;

        manager_safety_input(m, &si);
        r = safety_reset(&m->safety, &si, now, &verdict, &res);
        if (r < 0) {
                if (ret_why)
                        *ret_why = strdup(verdict.reason);
                log_notice("Emergency stop reset refused: %s", verdict.reason);
                return r;
        }
        manager_handle_safety_result(m, &res, now);
        /* Back to idle, never to what ran before (ISO 13850 4.1.6): the jog and any session are gone. */
        manager_session_end(m, "emergency stop reset");
        log_info("Emergency stop reset: chair idle.");
        bus_emit_changes(m, mono_usec());
        return 0;
}

int manager_jog(Manager *m, JogActuator actuator, double target) {
        const LimitsConfig *l = &m->config->limits;
        int r;

        if (safety_latched(&m->safety))
                return -CHAIR_ERR_ESTOP;
        if (m->state != CHAIR_IDLE)
                return -CHAIR_ERR_BUSY;
        r = manager_check_start(m, true, NULL);
        if (r < 0)
                return r;
        if (actuator == JOG_ROLLER && (target < 0 || target > l->track_length_mm))
                return -ERANGE;
        if (actuator == JOG_RECLINE) {
                const SignalConfig *s = config_signal(m->config, SIGNAL_RECLINE_TARGET);
                if (!s)
                        return -EOPNOTSUPP;
                if (s->has_range && (target < s->min || target > s->max))
                        return -ERANGE;
        }

        m->jog = (Jog){ .active = true, .actuator = actuator, .target = target, .started = mono_usec() };
        m->state = CHAIR_RUNNING;
        log_info("Jog of the %s to %.1f requested.", jog_actuator_to_string(actuator), target);
        return 0;
}
