/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* chair-sim serve: sets up the model, the Modbus transports and the GPIO and control sockets on one
 * sd-event loop, says READY=1 once every one of them is up, and runs until SIGTERM/SIGINT. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "sim.h"

#define TICK_USEC (5 * USEC_PER_MSEC)

void sim_advance(Sim *s) {
        bool tripped[_SIM_BOARD_MAX], wdt = model_wdt_tripped(&s->model);

        for (int b = 0; b < _SIM_BOARD_MAX; b++)
                tripped[b] = s->model.boards[b].tripped;

        model_advance(&s->model, mono_usec());
        model_update_inputs(&s->model);

        /* Log the model's own safety reactions: they explain what a test sees. */
        for (int b = 0; b < _SIM_BOARD_MAX; b++)
                if (tripped[b] != s->model.boards[b].tripped)
                        log_info("%s board: comm timeout %s", sim_board_to_string(b),
                                 s->model.boards[b].tripped ? "tripped, outputs off" : "cleared");
        if (wdt != model_wdt_tripped(&s->model))
                log_info("External watchdog %s", wdt ? "re-armed" : "tripped: actuator power cut");
}

static int on_tick(sd_event_source *src, uint64_t usec, void *userdata) {
        Sim *s = userdata;

        sim_advance(s);
        int r = sd_event_source_set_time_relative(src, TICK_USEC);
        if (r >= 0)
                r = sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
        return r;
}

static int on_signal(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata) {
        Sim *s = userdata;

        log_info("Received %s, exiting", strsignal((int)si->ssi_signo));
        return sd_event_exit(s->event, 0);
}

static int mkdir_p(const char *path) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *slash = p + 1;; slash++) {
                bool end = *slash == 0;
                if (*slash != '/' && !end)
                        continue;
                *slash = 0;
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return negative_errno();
                if (end)
                        return 0;
                *slash = '/';
        }
}

static int sim_setup(Sim *s) {
        _cleanup_free_ char *gpio_path = NULL, *ctl_path = NULL;
        int r;

        r = sd_event_default(&s->event);
        if (r < 0)
                return log_error_errno(r, "Failed to get an event loop: %m");
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        (void)sigprocmask(SIG_BLOCK, &mask, NULL);
        (void)signal(SIGPIPE, SIG_IGN);
        if (sd_event_add_signal(s->event, NULL, SIGTERM, on_signal, s) < 0 ||
            sd_event_add_signal(s->event, NULL, SIGINT, on_signal, s) < 0)
                return log_error_errno(-EIO, "Failed to watch signals");

        r = model_init(&s->model, mono_usec());
        if (r < 0)
                return log_error_errno(r, "Failed to set up the model: %m");
        s->model.seated = !s->opts.empty;
        s->model.shoulder_mm = s->opts.shoulder_mm;
        s->model.stiffness = s->opts.stiffness;

        r = sim_modbus_setup(s);
        if (r < 0)
                return r;

        r = mkdir_p(s->opts.run_dir);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %m", s->opts.run_dir);
        if (asprintf(&gpio_path, "%s/gpio.sock", s->opts.run_dir) < 0 ||
            asprintf(&ctl_path, "%s/ctl.sock", s->opts.run_dir) < 0)
                return log_oom();
        r = gpio_server_start(s, gpio_path);
        if (r < 0)
                return r;
        r = ctl_server_start(s, ctl_path);
        if (r < 0)
                return r;

        if (s->opts.tcp && (r = tcp_server_start(s)) < 0)
                return r;
        if (s->opts.rtu && (r = rtu_port_open(s)) < 0)
                return r;

        r = sd_event_add_time_relative(s->event, &s->tick, CLOCK_MONOTONIC, TICK_USEC, 1, on_tick, s);
        if (r < 0)
                return log_error_errno(r, "Failed to add the model timer: %m");
        return 0;
}

static void sim_teardown(Sim *s) {
        tcp_server_stop(s);
        rtu_port_close(s);
        line_server_stop(&s->gpio);
        line_server_stop(&s->ctl);
        s->tick = sd_event_source_disable_unref(s->tick);
        sim_modbus_done(s);
        model_done(&s->model);
        s->event = sd_event_unref(s->event);
}

int sim_serve(const SimOptions *o) {
        Sim s = {
                .opts = *o,
                .capture = {-1, -1},
                .tcp_fd = -1,
                .gpio.fd = -1,
                .ctl.fd = -1,
        };
        int r;

        r = sim_setup(&s);
        if (r >= 0) {
                log_info("chair-sim ready: run dir %s, %s, shoulder %.0f mm, stiffness %.2f N/mm",
                         o->run_dir, s.model.seated ? "occupied" : "empty", s.model.shoulder_mm,
                         s.model.stiffness);
                (void)sd_notify(false, "READY=1\nSTATUS=Simulating the chair");
                r = sd_event_loop(s.event);
                if (r < 0)
                        log_error_errno(r, "Event loop failed: %m");
                (void)sd_notify(false, "STOPPING=1");
        }
        sim_teardown(&s);
        return r;
}
