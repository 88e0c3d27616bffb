/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Manager lifecycle: start-up in a safe order, signals (SIGTERM → safe state and exit, SIGHUP → reload
 * when idle), sd_notify, and the STATUS line systemctl shows. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "maint.h"
#include "manager.h"

static const char *const chair_state_table[_CHAIR_STATE_MAX] = {
        [CHAIR_IDLE] = "idle",         [CHAIR_SCANNING] = "scanning", [CHAIR_RUNNING] = "running",
        [CHAIR_PAUSED] = "paused",     [CHAIR_STOPPING] = "stopping", [CHAIR_ESTOP] = "estop",
        [CHAIR_FAULT] = "fault",
};

const char *chair_state_to_string(ChairState s) {
        if (s < 0 || s >= _CHAIR_STATE_MAX)
                return NULL;
        return chair_state_table[s];
}

ChairState manager_latched_state(const Manager *m) {
        return safety_faulted(&m->safety) ? CHAIR_FAULT : CHAIR_ESTOP;
}

int manager_new(const char *root, Config *config, Manager **ret) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        m->config = config;
        m->root = strdup(root ? root : "/");
        if (!m->root)
                return -ENOMEM;
        m->period = USEC_PER_SEC / config->control_rate_hz;
        m->state = CHAIR_IDLE;
        chair_outputs_safe(&m->wanted);
        chair_outputs_safe(&m->allowed);

        /* Sized once: the board list never changes while running (reload refuses hardware changes). */
        m->safety_boards = calloc(config->n_boards + 1, sizeof(SafetyBoard));
        if (!m->safety_boards)
                return -ENOMEM;

        r = sd_event_default(&m->event);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        sd_event_source_disable_unref(m->control_timer);
        sd_event_source_disable_unref(m->status_timer);
        manager_selftest_cancel(m); /* issue 5: answer a pending SelfTest() before the bus goes */
        m->hw = hw_free(m->hw);
        sd_bus_flush_close_unref(m->bus);
        sd_event_unref(m->event);
        program_list_free(m->programs);
        free(m->published);
        config_free(m->config);
        free(m->safety_boards);
        m->maint = maint_free(m->maint);
        free(m->root);
        free(m);
        return NULL;
}

static void manager_update_status(Manager *m) {
        const SafetyZone *neck = safety_neck_zone(&m->safety);
        char buf[256];

        if (chair_state_latched(m->state))
                snprintf(buf, sizeof buf, "STATUS=estop (%s); roller %.1f mm, %.1f N",
                         safety_estop_text(&m->safety),
                         m->in.value[SIGNAL_ROLLER_POSITION], m->in.value[SIGNAL_ROLLER_FORCE]);
        else
                snprintf(buf, sizeof buf, "STATUS=%s; roller %.1f mm, %.1f N; zone %s; neck %.0f-%.0f mm",
                         chair_state_to_string(m->state), m->in.value[SIGNAL_ROLLER_POSITION],
                         m->in.value[SIGNAL_ROLLER_FORCE],
                         safety_zone_at(&m->safety, m->in.value[SIGNAL_ROLLER_POSITION]) ?: "-",
                         neck->from_mm, neck->to_mm);
        (void) sd_notify(false, buf);
}

static int status_timer_cb(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        manager_update_status(m);
        return sd_event_source_set_time_relative(s, 500 * USEC_PER_MSEC);
}

static void manager_enter_safe_state(Manager *m) {
        /* Relay first: it removes actuator power without needing any board to answer. */
        (void) hw_set_line(m->hw, LINE_POWER_RELAY, false);
        (void) hw_all_stop(m->hw, mono_usec());
}

static int on_sigterm(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;

        (void) sd_notify(false, "STOPPING=1\nSTATUS=Stopping: actuators to the safe state");
        log_info("Received %s, stopping the chair and exiting.", strsignal((int) si->ssi_signo));
        manager_enter_safe_state(m);
        (void) manager_state_save(m);
        (void) manager_state_mark_running(m, false);
        return sd_event_exit(m->event, 0);
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;

        m->reload_requested = true;
        if (m->state != CHAIR_IDLE && !chair_state_latched(m->state)) {
                log_info("Reload requested while %s; it runs when the chair is idle.",
                         chair_state_to_string(m->state));
                return 0;
        }
        (void) manager_reload(m);
        return 0;
}

static int manager_setup_signals(Manager *m) {
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;

        r = sd_event_add_signal(m->event, NULL, SIGTERM, on_sigterm, m);
        if (r < 0)
                return r;
        r = sd_event_add_signal(m->event, NULL, SIGINT, on_sigterm, m);
        if (r < 0)
                return r;
        return sd_event_add_signal(m->event, NULL, SIGHUP, on_sighup, m);
}

int manager_start(Manager *m) {
        int r;

        r = manager_setup_signals(m);
        if (r < 0)
                return log_error_errno(r, "Failed to set up signal handling: %m");

        /* Outputs first: hw_new() requests every output line at its safe value before returning,
         * then every board gets its safe setpoints, before anything else can move. */
        r = hw_new(m->config, m->event, &m->hw);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the hardware layer: %m");
        hw_set_line_callback(m->hw, manager_on_line, m);
        (void) hw_all_stop(m->hw, mono_usec());

        r = manager_state_load(m);
        if (r < 0)
                return r;

        r = safety_init(&m->safety, m->config, m->unclean_start, mono_usec());
        if (r < 0)
                log_error_errno(r, "The safety supervisor rejects this configuration; staying latched: %m");
        manager_state_apply_limits(m); /* issue 5: technician-lowered limits survive a restart */
        if (m->unclean_start) {
                m->state = CHAIR_ESTOP;
                log_struct_internal(LOG_WARNING, SAFETY_MESSAGE_ID_ESTOP,
                                    (const char *const[]){ "CHAIRD_ESTOP_REASON=unclean-restart", NULL },
                                    "Previous run did not exit cleanly: starting with the emergency stop "
                                    "latched (unclean-restart).");
                manager_state_estop(m); /* issue 5: counted by reason, fault log, saved */
        }
        r = manager_state_mark_running(m, true);
        if (r < 0)
                return r;

        /* Programs are validated against the supervisor's caps: load them after safety_init(). A bad
         * program file is logged and skipped; the others still load. */
        r = manager_programs_load(m);
        if (r < 0)
                return r;

        r = bus_setup(m);
        if (r < 0)
                return r;

        if (sd_watchdog_enabled(false, &m->watchdog_usec) <= 0)
                m->watchdog_usec = 0;

        /* One full cycle before READY=1: a client that calls the moment the name appears must see the
         * chair as it is (seat, e-stop button, boards), not an empty snapshot. */
        manager_control_cycle(m, mono_usec());

        r = manager_control_start(m);
        if (r < 0)
                return r;

        r = sd_event_add_time_relative(m->event, &m->status_timer, CLOCK_MONOTONIC, 0, 10 * USEC_PER_MSEC,
                                       status_timer_cb, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add status timer: %m");

        log_info("chaird %s ready: %zu boards over %s, control at %u Hz%s.", CHAIRD_VERSION,
                 m->config->n_boards, transport_kind_to_string(m->config->modbus.transport),
                 m->config->control_rate_hz, m->watchdog_usec ? ", systemd watchdog on" : "");
        (void) sd_notify(false, "READY=1");
        manager_update_status(m);
        return 0;
}

int manager_run(Manager *m) {
        int r = sd_event_loop(m->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return 0;
}

static bool section_is_hardware(const char *section) {
        static const char *const prefixes[] = { "Modbus", "Board ", "Signal ", "GPIO", "Line " };
        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
                if (strncmp(section, prefixes[i], strlen(prefixes[i])) == 0)
                        return true;
        return false;
}

/* The first hardware key whose effective value differs between a and b, or NULL. */
static const ConfigEntry *config_hardware_diff(const Config *a, const Config *b) {
        for (int pass = 0; pass < 2; pass++) {
                const Config *x = pass ? b : a, *y = pass ? a : b;
                for (size_t i = 0; i < x->n_entries; i++) {
                        const ConfigEntry *e = &x->entries[i];
                        bool same = false;
                        if (!section_is_hardware(e->section))
                                continue;
                        for (size_t j = 0; j < y->n_entries && !same; j++)
                                same = streq(e->section, y->entries[j].section) &&
                                       streq(e->key, y->entries[j].key) && streq(e->value, y->entries[j].value);
                        if (!same)
                                return e;
                }
        }
        return NULL;
}

int manager_reload(Manager *m) {
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *error = NULL;
        int r;

        m->reload_requested = false;
        (void) sd_notify(false, "RELOADING=1");
        r = config_load(m->root, &c, &error);
        if (r < 0) {
                (void) sd_notify(false, "READY=1");
                manager_state_reload_refused(m, "%s", error); /* issue 5: fault log, Reload() reply */
                return log_error_errno(r, "Reload refused, keeping the running configuration: %s", error);
        }

        /* The hardware map and transport are fixed for the life of the process: changing them safely
         * needs a restart (the relay and every board go through the safe state). Limits and zones apply
         * at once, through the safety supervisor. Nothing is half-applied. */
        const ConfigEntry *d = config_hardware_diff(m->config, c);
        if (d) {
                (void) sd_notify(false, "READY=1");
                manager_state_reload_refused(m, "[%s] %s changed (%s:%u); the hardware map applies only at start, "
                                             "restart chaird to apply it", d->section, d->key,
                                             d->origin.file ?: "default", d->origin.line); /* issue 5 */
                return log_error_errno(-EBUSY, "Reload refused: [%s] %s changed (%s:%u); the hardware map "
                                       "applies only at start, restart chaird to apply it.",
                                       d->section, d->key, d->origin.file ?: "default", d->origin.line);
        }
        r = safety_update_config(&m->safety, c);
        if (r < 0) {
                (void) sd_notify(false, "READY=1");
                manager_state_reload_refused(m, "the safety supervisor rejects the new configuration: %s",
                                             strerror(-r)); /* issue 5 */
                return log_error_errno(r, "Reload refused by the safety supervisor: %m");
        }
        /* Same hardware map: point the layer at the new (equal) copy before freeing the old one. */
        hw_set_config(m->hw, c);
        config_free(m->config);
        m->config = TAKE_PTR(c);
        (void) manager_programs_load(m);
        log_info("Configuration reloaded.");
        (void) sd_notify(false, "READY=1");
        return 0;
}
