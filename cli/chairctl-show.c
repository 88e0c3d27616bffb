/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* chairctl status, programs and monitor: Chair1's properties as a table, as JSON, or live, with the
 * roller drawn on its track and the neck zone marked. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chairctl.h"

#define TRACK_COLUMNS 50

static const char *jstr(json_object *o, const char *key) {
        json_object *v;
        return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
                       ? json_object_get_string(v)
                       : "";
}

static double jnum(json_object *o, const char *key) {
        json_object *v;
        return json_object_object_get_ex(o, key, &v) ? json_object_get_double(v) : NAN;
}

static bool jbool(json_object *o, const char *key) {
        json_object *v;
        return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

static double jindex(json_object *o, const char *key, size_t i) {
        json_object *v;
        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array) ||
            json_object_array_length(v) <= i)
                return NAN;
        return json_object_get_double(json_object_array_get_idx(v, i));
}

int status_fetch(sd_bus *bus, json_object **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = chairctl_call(bus, "org.freedesktop.DBus.Properties", "GetAll", &reply, "s", CHAIRCTL_IFACE_CHAIR);
        if (r != 0)
                return r;
        if (json_from_bus(reply, ret) < 0) {
                fprintf(stderr, "Failed to parse the chair's properties.\n");
                return EXIT_FAILED;
        }
        return 0;
}

static void status_print(json_object *s) {
        json_object *faults;
        const char *state = jstr(s, "State");
        bool latched = jbool(s, "EStop");
        size_t n_faults = 0;

        printf("        State: %s%s%s\n", ansi(latched ? ANSI_RED : ANSI_BOLD), state, ansi(ANSI_RESET));
        printf("         Mode: %s\n", jstr(s, "Mode"));
        if (jstr(s, "ActiveProgram")[0])
                printf("      Program: %s (intensity %.0f, %.0f s left)\n", jstr(s, "ActiveProgram"),
                       jnum(s, "Intensity"), jnum(s, "RemainingSeconds"));
        else
                printf("      Program: -\n");
        if (jbool(s, "BodyScanned"))
                printf("    Body scan: shoulders at %.1f mm\n", jnum(s, "ShoulderPosition"));
        else if (jstr(s, "LastScanError")[0])
                printf("    Body scan: %sfailed%s: %s\n", ansi(ANSI_YELLOW), ansi(ANSI_RESET), jstr(s, "LastScanError"));
        else
                printf("    Body scan: not done (conservative neck zone)\n");
        printf("       Roller: %.1f mm, %.1f N, zone %s\n", jnum(s, "RollerPosition"), jnum(s, "RollerForce"),
               jstr(s, "RollerZone")[0] ? jstr(s, "RollerZone") : "-");
        printf("    Neck zone: %.1f–%.1f mm\n", jindex(s, "NeckZone", 0), jindex(s, "NeckZone", 1));
        if (latched)
                printf("       E-stop: %slatched: %s%s%s\n", ansi(ANSI_RED), jstr(s, "EStopReason"), ansi(ANSI_RESET),
                       jbool(s, "EStopPressed") ? " (button still pressed)" : "");
        else
                printf("       E-stop: %s\n", jbool(s, "EStopPressed") ? "button pressed" : "released");
        printf("    Interlock: %s\n", jbool(s, "InterlockEngaged") ? "engaged" : "off");
        printf("     Occupied: %s\n", jbool(s, "Occupied") ? "yes" : "no");
        if (json_object_object_get_ex(s, "Faults", &faults))
                n_faults = json_object_array_length(faults);
        if (n_faults == 0)
                printf("       Faults: none\n");
        for (size_t i = 0; i < n_faults; i++)
                printf("%s%s%s%s\n", i == 0 ? "       Faults: " : "               ", ansi(ANSI_RED),
                       json_object_get_string(json_object_array_get_idx(faults, i)), ansi(ANSI_RESET));
}

int verb_status(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        json_object *s = NULL;
        int r;

        r = chairctl_connect(&bus);
        if (r != 0)
                return r;
        r = status_fetch(bus, &s);
        if (r != 0)
                return r;
        if (arg_json) {
                json_print(s);
                return EXIT_OK;
        }
        pager_open();
        status_print(s);
        json_object_put(s);
        return EXIT_OK;
}

int verb_programs(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        json_object *list;
        const char *id, *name, *description;
        uint32_t seconds;
        int r;

        r = chairctl_connect(&bus);
        if (r != 0)
                return r;
        r = chairctl_call(bus, CHAIRCTL_IFACE_CHAIR, "ListPrograms", &reply, NULL);
        if (r != 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(sssu)");
        if (r < 0)
                return chairctl_error(NULL, r, "Bad ListPrograms reply");
        list = json_object_new_array();
        while ((r = sd_bus_message_read(reply, "(sssu)", &id, &name, &description, &seconds)) > 0) {
                json_object *p = json_object_new_object();
                json_object_object_add(p, "id", json_object_new_string(id));
                json_object_object_add(p, "name", json_object_new_string(name));
                json_object_object_add(p, "description", json_object_new_string(description));
                json_object_object_add(p, "seconds", json_object_new_int64(seconds));
                json_object_array_add(list, p);
        }
        if (r < 0) {
                json_object_put(list);
                return chairctl_error(NULL, r, "Bad ListPrograms reply");
        }
        if (arg_json) {
                json_print(list);
                return EXIT_OK;
        }
        pager_open();
        printf("%s%-24s %-28s %8s  %s%s\n", ansi(ANSI_BOLD), "ID", "NAME", "DURATION", "DESCRIPTION",
               ansi(ANSI_RESET));
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                json_object *p = json_object_array_get_idx(list, i);
                double s = jnum(p, "seconds");
                printf("%-24s %-28s %4.0f:%02.0f  %s\n", jstr(p, "id"), jstr(p, "name"), floor(s / 60),
                       fmod(s, 60), jstr(p, "description"));
        }
        printf("\n%zu programs.\n", json_object_array_length(list));
        json_object_put(list);
        return EXIT_OK;
}

/* ---- monitor ---- */

typedef struct Monitor {
        sd_bus *bus;
        json_object *state;
        double track_length;
        unsigned updates;
        bool gone;
        char last_event[160];
} Monitor;

static volatile sig_atomic_t monitor_quit = 0;

static void monitor_on_signal(int sig) {
        monitor_quit = 1;
}

static double monitor_get_double(Monitor *mon, const char *property) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        double v = NAN;

        if (sd_bus_get_property_trivial(mon->bus, CHAIRCTL_BUS_NAME, CHAIRCTL_BUS_PATH, CHAIRCTL_IFACE_MAINT,
                                        property, &e, 'd', &v) < 0)
                v = NAN;
        sd_bus_error_free(&e);
        return v;
}

/* |....[NNNN]...R.......| : '.' track, '[N]' the neck zone, 'R' the roller. */
static void monitor_track(Monitor *mon, char *buf, size_t size) {
        double len = mon->track_length > 0 ? mon->track_length : 700;
        double pos = jnum(mon->state, "RollerPosition");
        double from = jindex(mon->state, "NeckZone", 0), to = jindex(mon->state, "NeckZone", 1);
        char cells[TRACK_COLUMNS + 1];
        int r_col = isfinite(pos) ? (int) lround(CLAMP(pos / len, 0.0, 1.0) * (TRACK_COLUMNS - 1)) : -1;
        int n_from = isfinite(from) ? (int) lround(CLAMP(from / len, 0.0, 1.0) * (TRACK_COLUMNS - 1)) : -1;
        int n_to = isfinite(to) ? (int) lround(CLAMP(to / len, 0.0, 1.0) * (TRACK_COLUMNS - 1)) : -1;

        for (int i = 0; i < TRACK_COLUMNS; i++)
                cells[i] = n_from >= 0 && i == n_from ? '[' : n_to >= 0 && i == n_to ? ']'
                         : n_from >= 0 && i > n_from && i < n_to                     ? 'N'
                                                                                      : '.';
        if (r_col >= 0)
                cells[r_col] = 'R';
        cells[TRACK_COLUMNS] = '\0';
        snprintf(buf, size, "|%s|", cells);
}

static void monitor_render(Monitor *mon) {
        json_object *s = mon->state;
        double limit = monitor_get_double(mon, "RollerForceLimit"), force = jnum(s, "RollerForce");
        char track[TRACK_COLUMNS + 3], when[32];
        bool over = isfinite(limit) && force > limit;
        struct timespec ts;
        struct tm tm;

        if (arg_json) {
                json_object *o = json_object_get(s);
                json_object_object_add(o, "RollerForceLimit", isfinite(limit) ? json_object_new_double(limit) : NULL);
                puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(o);
                fflush(stdout);
                return;
        }
        monitor_track(mon, track, sizeof track);
        clock_gettime(CLOCK_REALTIME, &ts);
        localtime_r(&ts.tv_sec, &tm);
        snprintf(when, sizeof when, "%02d:%02d:%02d.%03ld", tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);

        if (!isatty(STDOUT_FILENO)) {
                printf("%s %s%s%s roller %.1f mm %s force %.1f/%.0f N zone %s%s%s\n", when, jstr(s, "State"),
                       jstr(s, "ActiveProgram")[0] ? " " : "", jstr(s, "ActiveProgram"), jnum(s, "RollerPosition"),
                       track, force, limit, jstr(s, "RollerZone")[0] ? jstr(s, "RollerZone") : "-",
                       jbool(s, "EStop") ? " ESTOP " : "", jbool(s, "EStop") ? jstr(s, "EStopReason") : "");
                fflush(stdout);
                return;
        }
        /* On a terminal: redraw the panel in place. */
        printf("\033[H\033[J");
        status_print(s);
        printf("\n   Track: %s%s%s\n", ansi(ANSI_BOLD), track, ansi(ANSI_RESET));
        printf("          head%*sseat   (N = neck zone, R = roller)\n", TRACK_COLUMNS - 6, "");
        printf("   Force: %s%.1f/%.0f N%s\n", ansi(over ? ANSI_RED : ANSI_GREEN), force, limit, ansi(ANSI_RESET));
        printf("   Event: %s\n\n%s  (Ctrl-C to quit)\n", mon->last_event[0] ? mon->last_event : "-", when);
        fflush(stdout);
}

static int monitor_on_changed(sd_bus_message *msg, void *userdata, sd_bus_error *e) {
        Monitor *mon = userdata;
        json_object *changed = NULL;
        const char *iface;
        int r;

        r = sd_bus_message_read(msg, "s", &iface);
        if (r < 0 || !streq(iface, CHAIRCTL_IFACE_CHAIR))
                return 0;
        r = json_from_bus(msg, &changed);
        if (r < 0)
                return 0;
        json_object_object_foreach(changed, key, val) json_object_object_add(mon->state, key, json_object_get(val));
        json_object_put(changed);
        mon->updates++;
        monitor_render(mon);
        return 0;
}

static int monitor_on_event(sd_bus_message *msg, void *userdata, sd_bus_error *e) {
        Monitor *mon = userdata;
        const char *kind, *detail;

        if (sd_bus_message_read(msg, "ss", &kind, &detail) < 0)
                return 0;
        snprintf(mon->last_event, sizeof mon->last_event, "%s: %s", kind, detail);
        if (!arg_json && !isatty(STDOUT_FILENO))
                printf("safety-event %s: %s\n", kind, detail);
        return 0;
}

static int monitor_on_owner(sd_bus_message *msg, void *userdata, sd_bus_error *e) {
        Monitor *mon = userdata;
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(msg, "sss", &name, &old_owner, &new_owner) >= 0 && !new_owner[0])
                mon->gone = true;
        return 0;
}

int verb_monitor(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        Monitor mon = {};
        int r;

        r = chairctl_connect(&bus);
        if (r != 0)
                return r;
        mon.bus = bus;
        r = sd_bus_match_signal(bus, NULL, CHAIRCTL_BUS_NAME, CHAIRCTL_BUS_PATH, "org.freedesktop.DBus.Properties",
                                "PropertiesChanged", monitor_on_changed, &mon);
        if (r >= 0)
                r = sd_bus_match_signal(bus, NULL, CHAIRCTL_BUS_NAME, CHAIRCTL_BUS_PATH, CHAIRCTL_IFACE_CHAIR,
                                        "SafetyEvent", monitor_on_event, &mon);
        if (r >= 0)
                r = sd_bus_match_signal(bus, NULL, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                        "org.freedesktop.DBus", "NameOwnerChanged", monitor_on_owner, &mon);
        if (r < 0)
                return chairctl_error(NULL, r, "Failed to subscribe to the chair's signals");
        /* Subscribed first, then the snapshot: no change can fall between the two. */
        r = status_fetch(bus, &mon.state);
        if (r != 0)
                return r;
        mon.track_length = monitor_get_double(&mon, "TrackLength");
        signal(SIGINT, monitor_on_signal);
        signal(SIGTERM, monitor_on_signal);
        monitor_render(&mon);

        while (!monitor_quit && !mon.gone && (arg_count == 0 || mon.updates < arg_count)) {
                r = sd_bus_process(bus, NULL);
                if (r < 0) {
                        r = chairctl_error(NULL, r, "Lost the bus");
                        break;
                }
                r = r > 0 ? 0 : sd_bus_wait(bus, UINT64_MAX);
                if (r < 0 && r != -EINTR) {
                        r = chairctl_error(NULL, r, "Lost the bus");
                        break;
                }
                r = EXIT_OK;
        }
        json_object_put(mon.state);
        if (mon.gone) {
                fprintf(stderr, "chaird left the bus.\n");
                return EXIT_UNREACHABLE;
        }
        return r;
}
