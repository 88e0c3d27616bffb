/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sessions: the massage programs, the body scan and untrained-mode manual control. Each turns into
 * wanted outputs every cycle (engine, scan, manual); the safety supervisor decides what is sent. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bus-error.h"
#include "log.h"
#include "maint.h"
#include "manager.h"

static int verdict_to_errno(const SafetyVerdict *v, int fallback) {
        switch (v->refusal) {
        case SAFETY_REFUSAL_ESTOP:
                return -CHAIR_ERR_ESTOP;
        case SAFETY_REFUSAL_INTERLOCK:
                return -CHAIR_ERR_INTERLOCK;
        case SAFETY_REFUSAL_NOT_OCCUPIED:
                return -CHAIR_ERR_NOT_OCCUPIED;
        case SAFETY_REFUSAL_BUSY:
                return -CHAIR_ERR_BUSY;
        case SAFETY_REFUSAL_NOT_PERMITTED:
                return -CHAIR_ERR_NOT_PERMITTED;
        case SAFETY_REFUSAL_HARDWARE:
                return -EIO;
        case SAFETY_REFUSAL_INVALID:
                return -EINVAL;
        default:
                return fallback < 0 ? fallback : -EIO;
        }
}

static int refuse(char **ret_why, int r, const char *why) {
        if (ret_why)
                *ret_why = strdup(why);
        return r;
}

static int refuse_verdict(char **ret_why, int r, const SafetyVerdict *v) {
        char buf[SAFETY_TEXT_MAX + 16];

        snprintf(buf, sizeof buf, "%s (%s)", v->reason, safety_rule_to_string(v->rule));
        return refuse(ret_why, verdict_to_errno(v, r), buf);
}

void manager_safety_input(Manager *m, SafetyInput *si) {
        SafetyBoard *boards = m->safety_boards;

        for (size_t i = 0; i < m->config->n_boards; i++) {
                const BoardState *b = hw_board_state(m->hw, i);
                boards[i] = (SafetyBoard){
                        .name = m->config->boards[i].name,
                        .required = m->config->boards[i].required,
                        .lost = b && b->health == BOARD_LOST,
                };
        }
        *si = (SafetyInput){
                .in = &m->in,
                .boards = boards,
                .n_boards = m->config->n_boards,
                .scanned = m->scanned,
                .shoulder_mm = m->shoulder_mm,
                .session_active = m->session_active || m->scanning,
                .jog_active = m->jog.active,
                .session_start = m->session_start,
                .intensity = m->session_active ? m->intensity : 0,
        };
}

int manager_programs_load(Manager *m) {
        ProgramList *l = NULL;
        int r;

        /* The engine borrows the running program: never swap the list under it. */
        if (m->program)
                return log_warning_errno(-EBUSY, "Not reloading programs while %s runs.", m->program->id);

        r = program_list_load(m->root, m->config, &m->safety, &l);
        if (r < 0)
                return log_error_errno(r, "Failed to load programs: %m");
        for (size_t i = 0; i < l->n_errors; i++)
                log_warning("Program rejected: %s", l->errors[i]);
        program_list_free(m->programs);
        m->programs = l;
        log_info("%zu programs loaded, %zu rejected.", l->n_programs, l->n_errors);
        return 0;
}

/* Common gate of everything that starts motion. */
int manager_check_start(Manager *m, bool jog, char **ret_why) {
        SafetyVerdict v = {};
        SafetyInput si;
        int r;

        if (safety_latched(&m->safety))
                return refuse(ret_why, -CHAIR_ERR_ESTOP, "emergency stop latched: reset it first");
        if (m->state != CHAIR_IDLE)
                return refuse(ret_why, -CHAIR_ERR_BUSY, "the chair is busy: stop the current session first");
        if (manager_selftest_running(m)) /* issue 5: the self-test toggles the relay */
                return refuse(ret_why, -CHAIR_ERR_BUSY, "a self-test is running");
        manager_safety_input(m, &si);
        r = safety_check_start(&m->safety, &si, jog, &v);
        if (r < 0)
                return refuse_verdict(ret_why, r, &v);
        return 0;
}

int manager_start_program(Manager *m, const char *id, unsigned intensity, char **ret_why) {
        const Program *p;
        SafetyVerdict v = {};
        int r;

        p = m->programs ? program_list_find(m->programs, id) : NULL;
        if (!p)
                return refuse(ret_why, -CHAIR_ERR_NO_PROGRAM, "no such program");
        r = safety_check_intensity(&m->safety, intensity, &v);
        if (r < 0)
                return refuse_verdict(ret_why, -EINVAL, &v);
        if (safety_mode(&m->safety) != SAFETY_MODE_PROGRAM)
                return refuse(ret_why, -CHAIR_ERR_BUSY, "leave untrained mode before starting a program");
        r = manager_check_start(m, false, ret_why);
        if (r < 0)
                return r;

        usec_t now = mono_usec();
        r = engine_start(&m->engine, p, m->config, m->scanned ? m->shoulder_mm : NAN, intensity, now);
        if (r < 0)
                return refuse(ret_why, r == -ERANGE ? -EINVAL : r, "the program cannot start");
        m->program = p;
        m->intensity = intensity;
        m->session_active = true;
        m->session_start = now;
        m->state = CHAIR_RUNNING;
        log_info("Program %s started at intensity %u (%s shoulder position).", p->id, intensity,
                 m->scanned ? "scanned" : "conservative");
        return 0;
}

int manager_pause(Manager *m) {
        if (!m->program || m->state != CHAIR_RUNNING)
                return m->state == CHAIR_PAUSED ? 0 : -CHAIR_ERR_BUSY;
        (void) engine_pause(&m->engine, mono_usec());
        m->state = CHAIR_PAUSED;
        return 0;
}

int manager_resume(Manager *m) {
        if (safety_latched(&m->safety))
                return -CHAIR_ERR_ESTOP;
        if (!m->program || m->state != CHAIR_PAUSED)
                return m->state == CHAIR_RUNNING && m->program ? 0 : -CHAIR_ERR_BUSY;
        (void) engine_resume(&m->engine, mono_usec());
        m->state = CHAIR_RUNNING;
        return 0;
}

/* A controlled stop, not an e-stop: the program parks its roller; a manual session, a scan or a jog
 * stop where they are without pressure. Stopping an idle chair is not an error. */
int manager_stop(Manager *m) {
        if (m->program) {
                (void) engine_stop(&m->engine, mono_usec());
                m->state = CHAIR_STOPPING;
                log_info("Program %s stopping: parking the roller.", m->program->id);
                return 0;
        }
        if (m->manual.active || m->scanning || m->jog.active)
                manager_session_end(m, "stopped on request");
        return 0;
}

int manager_set_intensity(Manager *m, unsigned intensity, char **ret_why) {
        SafetyVerdict v = {};
        int r;

        r = safety_check_intensity(&m->safety, intensity, &v);
        if (r < 0)
                return refuse_verdict(ret_why, -EINVAL, &v);
        if (m->program)
                (void) engine_set_intensity(&m->engine, intensity);
        m->intensity = intensity;
        return 0;
}

int manager_start_scan(Manager *m, char **ret_why) {
        int r;

        if (safety_mode(&m->safety) != SAFETY_MODE_PROGRAM)
                return refuse(ret_why, -CHAIR_ERR_BUSY, "leave untrained mode before scanning");
        r = manager_check_start(m, false, ret_why);
        if (r < 0)
                return r;
        m->session_start = mono_usec(); /* the scan is part of the session (SR-18 counts it) */
        scan_start(&m->scan, m->config, m->session_start);
        m->scanning = true;
        m->scan_error[0] = '\0';
        m->state = CHAIR_SCANNING;
        log_info("Body scan started.");
        return 0;
}

int manager_enter_untrained(Manager *m, char **ret_why) {
        SafetyVerdict v = {};
        SafetyInput si;
        int r;

        if (m->state != CHAIR_IDLE && !safety_latched(&m->safety))
                return refuse(ret_why, -CHAIR_ERR_BUSY, "the chair is busy: stop the current session first");
        manager_safety_input(m, &si);
        r = safety_enter_untrained(&m->safety, &si, &v);
        if (r < 0)
                return refuse_verdict(ret_why, r, &v);
        log_notice("Untrained mode entered: manual control with the tighter limits.");
        bus_emit_safety_event(m, "mode", "untrained mode entered");
        return 0;
}

int manager_leave_untrained(Manager *m) {
        SafetyResult res;
        SafetyInput si;

        if (safety_mode(&m->safety) != SAFETY_MODE_UNTRAINED)
                return 0;
        manager_safety_input(m, &si);
        safety_leave_untrained(&m->safety, &si, &res);
        manager_handle_safety_result(m, &res, mono_usec());
        log_notice("Untrained mode left.");
        return 0;
}

int manager_manual_control(Manager *m, double position_mm, const char *technique, unsigned intensity,
                           char **ret_why) {
        SafetyVerdict v = {};
        Technique t;
        int r;

        if (safety_mode(&m->safety) != SAFETY_MODE_UNTRAINED)
                return refuse(ret_why, -CHAIR_ERR_NOT_PERMITTED, "manual control needs untrained mode");
        if (!isfinite(position_mm) || position_mm < 0 || position_mm > m->config->limits.track_length_mm)
                return refuse(ret_why, -EINVAL, "position outside the roller track");
        t = technique_from_string(technique);
        if (t <= TECHNIQUE_NONE)
                return refuse(ret_why, -EINVAL, "unknown technique");
        r = safety_check_intensity(&m->safety, intensity, &v);
        if (r < 0)
                return refuse_verdict(ret_why, -EINVAL, &v);
        if (!m->manual.active) {
                r = manager_check_start(m, false, ret_why);
                if (r < 0)
                        return r;
                m->session_active = true;
                m->session_start = mono_usec();
                m->state = CHAIR_RUNNING;
        }
        m->manual = (Manual){ .active = true, .position_mm = position_mm, .technique = t };
        m->intensity = intensity;
        return 0;
}

void manager_session_end(Manager *m, const char *why) {
        if (m->session_active || m->scanning || m->jog.active)
                log_info("Session ended: %s.", why);
        m->program = NULL;
        m->engine = (Engine){};
        m->manual.active = false;
        m->scanning = false;
        m->jog.active = false;
        m->session_active = false;
        m->state = safety_latched(&m->safety) ? manager_latched_state(m) : CHAIR_IDLE;
}

static void session_scan_step(Manager *m, usec_t now) {
        ScanStatus st = scan_step(&m->scan, &m->in, now, &m->wanted);

        if (st == SCAN_RUNNING)
                return;
        m->scanning = false;
        m->state = CHAIR_IDLE;
        if (st == SCAN_DONE && scan_result(&m->scan, &m->shoulder_mm) >= 0) {
                m->scanned = true;
                log_info("Body scan done: shoulders at %.1f mm.", m->shoulder_mm);
                bus_emit_scan_finished(m, true, "");
                return;
        }
        /* The zones stay where they were: the last good scan, or the conservative ones. */
        snprintf(m->scan_error, sizeof m->scan_error, "%s", scan_error(&m->scan));
        log_warning("Body scan failed (%s): %s", scan_error_to_string(scan_error_code(&m->scan)), m->scan_error);
        bus_emit_scan_finished(m, false, m->scan_error);
}

/* Manual work starts this close to the requested position (mm). */
#define MANUAL_ARRIVED_MM 3.0

static void session_manual_step(Manager *m) {
        const UntrainedConfig *u = &m->config->untrained;
        ChairOutputs *w = &m->wanted;
        double share = u->max_intensity > 0 ? (double) m->intensity / u->max_intensity : 0;

        w->value[SIGNAL_ROLLER_ENABLE] = 1;
        w->value[SIGNAL_ROLLER_TARGET] = m->manual.position_mm;
        w->value[SIGNAL_ROLLER_SPEED_LIMIT] = u->max_speed_mm_s;
        /* Travel without pressure: on the way the roller crosses the shoulder line, where the body
         * pushes back hardest; work starts only where the user asked for it. */
        if (!m->in.valid[SIGNAL_ROLLER_POSITION] ||
            fabs(m->in.value[SIGNAL_ROLLER_POSITION] - m->manual.position_mm) > MANUAL_ARRIVED_MM)
                return;
        w->value[SIGNAL_ROLLER_FORCE_SETPOINT] = u->max_force_n * MIN(share, 1.0);
        w->value[SIGNAL_ROLLER_TECHNIQUE] = m->manual.technique;
}

void manager_session_wanted(Manager *m, usec_t now) {
        if (m->scanning) {
                session_scan_step(m, now);
                return;
        }
        if (m->program) {
                EngineState es = engine_step(&m->engine, &m->in, now, &m->wanted);
                if (es == ENGINE_DONE) {
                        log_info("Program %s finished.", m->program->id);
                        manager_session_end(m, "program finished");
                } else if (es == ENGINE_PARKING && !chair_state_latched(m->state))
                        m->state = CHAIR_STOPPING;
                return;
        }
        if (m->manual.active)
                session_manual_step(m);
}

unsigned manager_remaining_seconds(Manager *m, usec_t now) {
        return m->program ? engine_remaining_seconds(&m->engine, now) : 0;
}
