/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* chairctl start, pause, resume, stop, estop, reset and scan: the Chair1 calls a technician needs to
 * exercise the chair the way the touchscreen does. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "chairctl.h"

static void print_done(const char *verb, const char *what) {
        if (arg_json) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "command", json_object_new_string(verb));
                json_object_object_add(o, "result", json_object_new_string("done"));
                json_print(o);
        } else if (what)
                printf("%s\n", what);
}

int verb_start(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        r = chairctl_connect(&bus);
        if (r != 0)
                return r;
        r = chairctl_call(bus, CHAIRCTL_IFACE_CHAIR, "StartProgram", NULL, "su", argv[1], (uint32_t) arg_intensity);
        if (r != 0)
                return r;
        if (!arg_json)
                printf("Program %s started at intensity %u.\n", argv[1], arg_intensity);
        else
                print_done("start", NULL);
        return EXIT_OK;
}

int verb_simple(int argc, char *argv[]) {
        static const struct {
                const char *verb, *method, *done;
        } table[] = {
                { "pause", "Pause", "Paused." },
                { "resume", "Resume", "Resumed." },
                { "stop", "Stop", "Stopping (controlled stop)." },
                { "estop", "EmergencyStop", "Emergency stop latched." },
                { "reset", "ResetEmergencyStop", "Emergency stop reset: the chair is idle." },
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                if (!streq(argv[0], table[i].verb))
                        continue;
                r = chairctl_connect(&bus);
                if (r != 0)
                        return r;
                r = chairctl_call(bus, CHAIRCTL_IFACE_CHAIR, table[i].method, NULL, NULL);
                if (r != 0)
                        return r;
                print_done(table[i].verb, table[i].done);
                return EXIT_OK;
        }
        return chairctl_usage_error("unknown command \"%s\"", argv[0]);
}

typedef struct ScanWait {
        bool finished, success;
        double shoulder;
        char error[128];
} ScanWait;

static int scan_on_finished(sd_bus_message *msg, void *userdata, sd_bus_error *e) {
        ScanWait *w = userdata;
        const char *error;
        int success;

        if (sd_bus_message_read(msg, "bds", &success, &w->shoulder, &error) < 0)
                return 0;
        w->finished = true;
        w->success = success;
        snprintf(w->error, sizeof w->error, "%s", error);
        return 0;
}

int verb_scan(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        ScanWait w = {};
        struct timespec ts;
        uint64_t end;
        int r;

        r = chairctl_connect(&bus);
        if (r != 0)
                return r;
        /* Subscribe before starting: a fast scan must not finish before we listen. */
        r = sd_bus_match_signal(bus, NULL, CHAIRCTL_BUS_NAME, CHAIRCTL_BUS_PATH, CHAIRCTL_IFACE_CHAIR,
                                "BodyScanFinished", scan_on_finished, &w);
        if (r < 0)
                return chairctl_error(NULL, r, "Failed to subscribe to BodyScanFinished");
        r = chairctl_call(bus, CHAIRCTL_IFACE_CHAIR, "StartBodyScan", NULL, NULL);
        if (r != 0)
                return r;
        if (!arg_json)
                fprintf(stderr, "Body scan running...\n");

        clock_gettime(CLOCK_MONOTONIC, &ts);
        end = (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000 + arg_timeout_s * 1000000ULL;
        while (!w.finished) {
                uint64_t now;
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return chairctl_error(NULL, r, "Lost the bus");
                if (r > 0)
                        continue;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                now = (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
                if (now >= end) {
                        fprintf(stderr, "The body scan did not finish within %u s.\n", arg_timeout_s);
                        return EXIT_FAILED;
                }
                r = sd_bus_wait(bus, end - now);
                if (r < 0 && r != -EINTR)
                        return chairctl_error(NULL, r, "Lost the bus");
        }
        if (arg_json) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "success", json_object_new_boolean(w.success));
                json_object_object_add(o, "shoulder_mm", w.success ? json_object_new_double(w.shoulder) : NULL);
                json_object_object_add(o, "error", json_object_new_string(w.error));
                json_print(o);
        } else if (w.success)
                printf("Body scan done: shoulders at %.1f mm.\n", w.shoulder);
        else
                fprintf(stderr, "Body scan failed: %s\n", w.error);
        return w.success ? EXIT_OK : EXIT_FAILED;
}
