/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* chairctl faults, counters, limits, registers, jog, selftest and reload: org.chaird.Maintenance1 as
 * tables for a technician and JSON for scripts. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "chairctl.h"

static int connect_and_call(sd_bus **bus, const char *method, sd_bus_message **reply, const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char what[96];
        va_list ap;
        int r;

        r = chairctl_connect(bus);
        if (r != 0)
                return r;
        r = sd_bus_message_new_method_call(*bus, &msg, CHAIRCTL_BUS_NAME, CHAIRCTL_BUS_PATH, CHAIRCTL_IFACE_MAINT,
                                           method);
        if (r >= 0 && types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(msg, types, ap);
                va_end(ap);
        }
        if (r >= 0)
                r = sd_bus_call(*bus, msg, (uint64_t) arg_timeout_s * 1000000ULL + 5000000ULL, &e, reply);
        if (r < 0) {
                snprintf(what, sizeof what, "%s failed", method);
                r = chairctl_error(&e, r, what);
                sd_bus_error_free(&e);
                return r;
        }
        return 0;
}

static void format_time(uint64_t usec, char *buf, size_t size) {
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;

        if (!localtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                snprintf(buf, size, "%" PRIu64, usec);
}

int verb_faults(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        json_object *status = NULL, *active = NULL, *log, *o;
        const char *code, *message;
        uint64_t t;
        int r;

        r = connect_and_call(&bus, arg_clear ? "ClearFaults" : "GetFaults", &reply, NULL);
        if (r != 0)
                return r;
        if (arg_clear) {
                if (arg_json)
                        json_print(json_object_new_object());
                else
                        printf("Fault log cleared.\n");
                return EXIT_OK;
        }
        r = sd_bus_message_enter_container(reply, 'a', "(tss)");
        if (r < 0)
                return chairctl_error(NULL, r, "Bad GetFaults reply");
        log = json_object_new_array();
        while ((r = sd_bus_message_read(reply, "(tss)", &t, &code, &message)) > 0) {
                json_object *f = json_object_new_object();
                json_object_object_add(f, "time_usec", json_object_new_uint64(t));
                json_object_object_add(f, "code", json_object_new_string(code));
                json_object_object_add(f, "message", json_object_new_string(message));
                json_object_array_add(log, f);
        }
        /* The active faults come from Chair1's Faults property: what stops the chair right now. */
        if (r >= 0 && status_fetch(bus, &status) == 0 && json_object_object_get_ex(status, "Faults", &active))
                json_object_get(active);
        json_object_put(status);
        o = json_object_new_object();
        json_object_object_add(o, "active", active ?: json_object_new_array());
        json_object_object_add(o, "log", log);
        if (arg_json) {
                json_print(o);
                return EXIT_OK;
        }
        pager_open();
        active = json_object_object_get(o, "active");
        printf("Active faults: %s\n", json_object_array_length(active) ? "" : "none");
        for (size_t i = 0; i < json_object_array_length(active); i++)
                printf("  %s%s%s\n", ansi(ANSI_RED), json_object_get_string(json_object_array_get_idx(active, i)),
                       ansi(ANSI_RESET));
        printf("\n%s%-19s  %-28s %s%s\n", ansi(ANSI_BOLD), "TIME", "CODE", "MESSAGE", ansi(ANSI_RESET));
        for (size_t i = 0; i < json_object_array_length(log); i++) {
                json_object *f = json_object_array_get_idx(log, i), *v;
                char when[32];
                json_object_object_get_ex(f, "time_usec", &v);
                format_time(json_object_get_uint64(v), when, sizeof when);
                printf("%-19s  %-28s %s\n", when, json_object_get_string(json_object_object_get(f, "code")),
                       json_object_get_string(json_object_object_get(f, "message")));
        }
        printf("\n%zu entries in the fault log.\n", json_object_array_length(log));
        json_object_put(o);
        return EXIT_OK;
}

int verb_counters(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        json_object *o = NULL;
        int r;

        r = connect_and_call(&bus, "GetCounters", &reply, NULL);
        if (r != 0)
                return r;
        if (json_from_bus(reply, &o) < 0)
                return chairctl_error(NULL, -EBADMSG, "Bad GetCounters reply");
        if (arg_json) {
                json_print(o);
                return EXIT_OK;
        }
        pager_open();
        json_object_object_foreach(o, key, val) {
                uint64_t v = json_object_get_uint64(val);
                if (streq(key, "operating-seconds"))
                        printf("%24s: %" PRIu64 " s (%" PRIu64 " h %02" PRIu64 " min)\n", key, v, v / 3600,
                               v / 60 % 60);
                else
                        printf("%24s: %" PRIu64 "\n", key, v);
        }
        json_object_put(o);
        return EXIT_OK;
}

int verb_limits(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        json_object *list;
        const char *name;
        double value, cap;
        int r;

        if (argc == 2)
                return chairctl_usage_error("limits: give NAME and VALUE, or neither");
        if (argc == 3) {
                if (parse_double(argv[2], &value) < 0)
                        return chairctl_usage_error("limits: \"%s\" is not a number", argv[2]);
                r = connect_and_call(&bus, "SetLimit", NULL, "sd", argv[1], value);
                if (r != 0)
                        return r;
                if (arg_json)
                        json_print(json_object_new_object());
                else
                        printf("Limit %s set to %g.\n", argv[1], value);
                return EXIT_OK;
        }
        r = connect_and_call(&bus, "GetLimits", &reply, NULL);
        if (r != 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(sdd)");
        if (r < 0)
                return chairctl_error(NULL, r, "Bad GetLimits reply");
        list = json_object_new_array();
        while ((r = sd_bus_message_read(reply, "(sdd)", &name, &value, &cap)) > 0) {
                json_object *l = json_object_new_object();
                json_object_object_add(l, "name", json_object_new_string(name));
                json_object_object_add(l, "value", json_object_new_double(value));
                json_object_object_add(l, "cap", json_object_new_double(cap));
                json_object_object_add(l, "lowered", json_object_new_boolean(value < cap));
                json_object_array_add(list, l);
        }
        if (arg_json) {
                json_print(list);
                return EXIT_OK;
        }
        pager_open();
        printf("%s%-24s %10s %10s%s\n", ansi(ANSI_BOLD), "LIMIT", "VALUE", "OEM CAP", ansi(ANSI_RESET));
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                json_object *l = json_object_array_get_idx(list, i);
                bool lowered = json_object_get_boolean(json_object_object_get(l, "lowered"));
                printf("%-24s %s%10g%s %10g%s\n", json_object_get_string(json_object_object_get(l, "name")),
                       ansi(lowered ? ANSI_YELLOW : ""), json_object_get_double(json_object_object_get(l, "value")),
                       ansi(lowered ? ANSI_RESET : ""), json_object_get_double(json_object_object_get(l, "cap")),
                       lowered ? "  (lowered)" : "");
        }
        json_object_put(list);
        return EXIT_OK;
}

int verb_registers(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        unsigned address, count = 1;
        const uint16_t *values;
        size_t size;
        json_object *o, *list;
        int r;

        if (parse_unsigned(argv[3], UINT16_MAX, &address) < 0)
                return chairctl_usage_error("registers: address \"%s\" is not 0..65535", argv[3]);
        if (argc > 4 && (parse_unsigned(argv[4], 125, &count) < 0 || count == 0))
                return chairctl_usage_error("registers: count \"%s\" is not 1..125", argv[4]);
        r = connect_and_call(&bus, "ReadRegisters", &reply, "ssqq", argv[1], argv[2], (uint16_t) address,
                             (uint16_t) count);
        if (r != 0)
                return r;
        r = sd_bus_message_read_array(reply, 'q', (const void **) &values, &size);
        if (r < 0)
                return chairctl_error(NULL, r, "Bad ReadRegisters reply");
        list = json_object_new_array();
        for (size_t i = 0; i < size / sizeof values[0]; i++)
                json_object_array_add(list, json_object_new_int(values[i]));
        if (arg_json) {
                o = json_object_new_object();
                json_object_object_add(o, "board", json_object_new_string(argv[1]));
                json_object_object_add(o, "kind", json_object_new_string(argv[2]));
                json_object_object_add(o, "address", json_object_new_int((int) address));
                json_object_object_add(o, "values", list);
                json_print(o);
                return EXIT_OK;
        }
        pager_open();
        printf("%s%7s %7s %7s%s\n", ansi(ANSI_BOLD), "ADDRESS", "VALUE", "HEX", ansi(ANSI_RESET));
        for (size_t i = 0; i < size / sizeof values[0]; i++)
                printf("%7zu %7u  0x%04x\n", address + i, values[i], values[i]);
        json_object_put(list);
        return EXIT_OK;
}

int verb_jog(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        double target;
        int r;

        if (parse_double(argv[2], &target) < 0)
                return chairctl_usage_error("jog: target \"%s\" is not a number", argv[2]);
        r = connect_and_call(&bus, "Jog", NULL, "sd", argv[1], target);
        if (r != 0)
                return r;
        if (arg_json)
                json_print(json_object_new_object());
        else
                printf("Jog of the %s to %g started.\n", argv[1], target);
        return EXIT_OK;
}

int verb_selftest(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *name, *detail;
        json_object *list;
        bool all = true;
        int passed, r;

        if (!arg_json && isatty(STDERR_FILENO))
                fprintf(stderr, "Self-test running (the relay will switch off, on and off)...\n");
        r = connect_and_call(&bus, "SelfTest", &reply, NULL);
        if (r != 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(sbs)");
        if (r < 0)
                return chairctl_error(NULL, r, "Bad SelfTest reply");
        list = json_object_new_array();
        while ((r = sd_bus_message_read(reply, "(sbs)", &name, &passed, &detail)) > 0) {
                json_object *t = json_object_new_object();
                json_object_object_add(t, "name", json_object_new_string(name));
                json_object_object_add(t, "passed", json_object_new_boolean(passed));
                json_object_object_add(t, "detail", json_object_new_string(detail));
                json_object_array_add(list, t);
                all = all && passed;
        }
        if (arg_json) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "passed", json_object_new_boolean(all));
                json_object_object_add(o, "results", list);
                json_print(o);
                return all ? EXIT_OK : EXIT_FAILED;
        }
        printf("%s%-20s %-6s %s%s\n", ansi(ANSI_BOLD), "CHECK", "RESULT", "DETAIL", ansi(ANSI_RESET));
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                json_object *t = json_object_array_get_idx(list, i);
                bool ok = json_object_get_boolean(json_object_object_get(t, "passed"));
                printf("%-20s %s%-6s%s %s\n", json_object_get_string(json_object_object_get(t, "name")),
                       ansi(ok ? ANSI_GREEN : ANSI_RED), ok ? "pass" : "FAIL", ansi(ANSI_RESET),
                       json_object_get_string(json_object_object_get(t, "detail")));
        }
        printf("\nSelf-test %s.\n", all ? "passed" : "FAILED");
        json_object_put(list);
        return all ? EXIT_OK : EXIT_FAILED;
}

int verb_reload(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        r = connect_and_call(&bus, "Reload", NULL, NULL);
        if (r != 0)
                return r;
        if (arg_json)
                json_print(json_object_new_object());
        else
                printf("Configuration reloaded.\n");
        return EXIT_OK;
}
