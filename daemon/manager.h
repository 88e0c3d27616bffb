/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Manager owns the loop, the bus, the hardware, the safety state and the chair's state machine.
 * D-Bus adaptors and main() call manager_*(); nothing else holds chair state. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "chair.h"
#include "config.h"
#include "engine.h"
#include "hw.h"
#include "program.h"
#include "safety.h"
#include "scan.h"

typedef enum ChairState {
        CHAIR_IDLE,
        CHAIR_SCANNING,
        CHAIR_RUNNING,
        CHAIR_PAUSED,
        CHAIR_STOPPING,
        CHAIR_ESTOP,
        CHAIR_FAULT,
        _CHAIR_STATE_MAX,
        _CHAIR_STATE_INVALID = -EINVAL,
} ChairState;

typedef enum JogActuator {
        JOG_ROLLER,
        JOG_RECLINE,
        _JOG_ACTUATOR_MAX,
        _JOG_ACTUATOR_INVALID = -EINVAL,
} JogActuator;

typedef struct Jog {
        bool active;
        JogActuator actuator;
        double target;
        usec_t started;
} Jog;

/* Manual control in untrained mode: where the user asked the roller to work, and how. */
typedef struct Manual {
        bool active;
        double position_mm;
        Technique technique;
} Manual;

typedef struct CycleStats {
        uint64_t cycles;
        uint64_t late;          /* started more than one period after their deadline */
        uint64_t overruns;      /* took longer than one period */
        usec_t max_lateness;
        usec_t last_duration;
} CycleStats;

typedef struct Manager {
        char *root;
        Config *config;
        sd_event *event;
        sd_bus *bus;
        Hw *hw;
        sd_event_source *control_timer;
        sd_event_source *status_timer;

        usec_t period;
        usec_t next_deadline;
        CycleStats stats;

        ChairInputs in;
        ChairOutputs wanted;
        ChairOutputs allowed;
        Safety safety;
        SafetyBoard *safety_boards; /* n_boards, refreshed every cycle from the hardware layer */

        ChairState state;
        Jog jog;

        /* sessions (daemon/session.c) */
        ProgramList *programs;
        const Program *program; /* the running program, NULL when none */
        Engine engine;
        Scan scan;
        bool scanning;
        bool scanned;
        double shoulder_mm;
        char scan_error[96];
        unsigned intensity;
        Manual manual;
        usec_t session_start;
        bool session_active; /* a program or a manual session runs (or is paused / parking) */

        usec_t watchdog_usec; /* 0 = systemd watchdog off */
        usec_t last_watchdog_kick;
        usec_t heartbeat_toggled;
        bool heartbeat_level;

        /* what D-Bus last published, to emit PropertiesChanged only on change (dbus/bus.c) */
        struct BusSnapshot *published;
        usec_t last_published;

        /* issue 5: counters, fault log, lowered limits and the self-test (daemon/maint.h) */
        struct Maint *maint;
        bool reload_requested;
        bool unclean_start;
} Manager;

int manager_new(const char *root, Config *config, Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Outputs safe, state dir checked (unclean-restart), bus name owned, control timer running, READY=1. */
int manager_start(Manager *m);
int manager_run(Manager *m);

/* daemon/control.c: the control cycle and the operations the adaptors call. */
int manager_control_start(Manager *m);
void manager_control_cycle(Manager *m, usec_t now);
int manager_emergency_stop(Manager *m, SafetyStopReason reason, const char *detail);
int manager_reset_emergency_stop(Manager *m, char **ret_why);
int manager_jog(Manager *m, JogActuator actuator, double target);
void manager_on_line(Hw *hw, LineId line, bool active, usec_t timestamp, void *userdata);
int manager_reload(Manager *m);

/* daemon/session.c: programs, body scan, untrained mode. Negative errno on refusal; *ret_why (optional)
 * gets a sentence for the caller. */
int manager_programs_load(Manager *m);
int manager_start_program(Manager *m, const char *id, unsigned intensity, char **ret_why);
int manager_pause(Manager *m);
int manager_resume(Manager *m);
int manager_stop(Manager *m);
int manager_set_intensity(Manager *m, unsigned intensity, char **ret_why);
int manager_start_scan(Manager *m, char **ret_why);
int manager_enter_untrained(Manager *m, char **ret_why);
int manager_leave_untrained(Manager *m);
int manager_manual_control(Manager *m, double position_mm, const char *technique, unsigned intensity,
                           char **ret_why);
void manager_session_wanted(Manager *m, usec_t now);
int manager_check_start(Manager *m, bool jog, char **ret_why);
void manager_handle_safety_result(Manager *m, const SafetyResult *res, usec_t now);
void manager_session_end(Manager *m, const char *why);
void manager_safety_input(Manager *m, SafetyInput *si);
unsigned manager_remaining_seconds(Manager *m, usec_t now);

/* daemon/state.c: what survives a restart (atomic writes). */
int manager_state_load(Manager *m);
int manager_state_save(Manager *m);
int manager_state_mark_running(Manager *m, bool running);

const char *chair_state_to_string(ChairState s);
/* estop, or fault when a sensor fault latched it (SR-21); never idle while latched. */
ChairState manager_latched_state(const Manager *m);
static inline bool chair_state_latched(ChairState s) {
        return s == CHAIR_ESTOP || s == CHAIR_FAULT;
}
const char *jog_actuator_to_string(JogActuator a);
JogActuator jog_actuator_from_string(const char *s);

/* dbus/bus.c */
int bus_setup(Manager *m);
void bus_emit_changes(Manager *m, usec_t now);
void bus_emit_safety_event(Manager *m, const char *kind, const char *detail);
void bus_emit_scan_finished(Manager *m, bool success, const char *error);
