/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The technician's side of the Manager (org.chaird.Maintenance1): counters and fault log kept in the
 * state directory (daemon/state.c), raw register reads checked against the configured map, lowering
 * limits, and the self-test that runs across control cycles (daemon/maint.c). No sd-bus here: the
 * adaptor gets the self-test's result through a callback. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "manager.h"
#include "persist.h"

#define SELFTEST_ROWS_MAX 24
#define SELFTEST_NAME_MAX 32
#define SELFTEST_DETAIL_MAX 128
/* Registers one ReadRegisters call may ask for (the Modbus read limit for 16-bit registers). */
#define MAINT_READ_MAX 125

typedef struct SelfTestRow {
        char name[SELFTEST_NAME_MAX];
        bool passed;
        char detail[SELFTEST_DETAIL_MAX];
} SelfTestRow;

/* Called once when the self-test ends: error < 0 when it could not finish (daemon stopping). */
typedef void (*SelfTestDone)(Manager *m, const SelfTestRow *rows, size_t n_rows, int error, void *userdata);

typedef enum SelfTestPhase {
        SELFTEST_IDLE,
        SELFTEST_CHECK,     /* boards, lines, e-stop, heater from the current inputs */
        SELFTEST_RELAY_OFF, /* relay wanted off, wait for the boards to report no power */
        SELFTEST_RELAY_ON,
        SELFTEST_RELAY_OFF_AGAIN,
        _SELFTEST_PHASE_MAX,
} SelfTestPhase;

typedef struct Maint {
        PersistState persist;
        bool dirty;           /* operating seconds changed since the last save */
        usec_t last_save;
        usec_t last_tick;
        uint64_t saved_seconds;
        bool was_session, was_scanning;
        bool was_busy; /* a session, scan or jog ran last cycle */
        BoardHealth *board_health; /* last seen, for board-lost/recovered entries */
        unsigned *board_losses;    /* BoardState.losses last seen */
        char last_reload_error[256];

        SelfTestPhase phase;
        usec_t phase_start;
        bool relay_wanted; /* the self-test's wish for the relay during RELAY_* phases */
        unsigned relay_transitions;
        SelfTestRow rows[SELFTEST_ROWS_MAX];
        size_t n_rows;
        SelfTestDone done;
        void *done_userdata;
} Maint;

Maint *maint_free(Maint *x);

/* ---- daemon/state.c: persistence hooks ---- */

/* An e-stop latched: counted by reason kind, fault log "estop:<reason>", saved at once. */
void manager_state_estop(Manager *m);
/* A fault log entry ("board-lost:roller", "sensor-fault", "scan-failed", "reload-refused"), saved at once. */
void manager_state_fault(Manager *m, const char *code, const char *fmt, ...) _printf_(3, 4);
/* A reload was refused: fault log entry plus the sentence Reload() replies with. */
void manager_state_reload_refused(Manager *m, const char *fmt, ...) _printf_(2, 3);
/* Every control cycle: operating seconds (saved at most once a second), new sessions, board lost and
 * recovered transitions, failed scans. */
void manager_state_tick(Manager *m, usec_t now);
/* Re-applies the limits a technician lowered before the restart (after safety_init). */
void manager_state_apply_limits(Manager *m);
/* SetLimit: safety_limit_set() (-EINVAL, -EPERM above the OEM cap), then persisted. */
int manager_set_limit(Manager *m, SafetyLimit id, double value);
int manager_clear_faults(Manager *m);
const PersistState *manager_persist(Manager *m);

/* ---- daemon/maint.c ---- */

/* Raw read of one board's registers; every address must be in the configured map of that board and
 * kind (a configured signal, or the heartbeat/comm-timeout register). -EINVAL with *ret_why naming the
 * argument; -ENOTCONN/-ETIMEDOUT/-EPROTO/-EIO from the bus. */
int manager_read_registers(Manager *m, const char *board, const char *kind, unsigned address, unsigned count,
                           uint16_t *ret_values, char **ret_why);

/* Starts the self-test: only idle and not latched (-CHAIR_ERR_ESTOP, -CHAIR_ERR_BUSY). done is called
 * from a later control cycle. */
int manager_selftest_start(Manager *m, SelfTestDone done, void *userdata);
bool manager_selftest_running(Manager *m);
/* Control-cycle hooks: advance after the inputs are read; override the wanted relay while toggling. */
void manager_selftest_step(Manager *m, usec_t now);
void manager_selftest_wanted(Manager *m, ChairOutputs *wanted);
/* Daemon stopping: finish a running self-test with -ECANCELED. */
void manager_selftest_cancel(Manager *m);
