/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* chairctl's shared pieces: options, exit codes, the bus connection and call helpers, output helpers
 * (colour only on a tty, pager, JSON through json-c) and the verbs each file implements. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "macro.h"

#define CHAIRCTL_BUS_NAME "org.chaird.Chair1"
#define CHAIRCTL_BUS_PATH "/org/chaird/Chair1"
#define CHAIRCTL_IFACE_CHAIR "org.chaird.Chair1"
#define CHAIRCTL_IFACE_MAINT "org.chaird.Maintenance1"

/* Exit codes, documented in chairctl(1) and --help. */
enum {
        EXIT_OK = 0,
        EXIT_FAILED = 1,      /* refused by the daemon, a check failed, a broken config */
        EXIT_USAGE = 2,       /* bad command line */
        EXIT_UNREACHABLE = 3, /* no bus, or chaird not running on it */
        EXIT_DENIED = 4,      /* not permitted (caller, or a limit above the OEM cap) */
};

/* options (the only globals, as the style guide allows) */
extern bool arg_json;
extern bool arg_no_pager;
extern const char *arg_bus_address;
extern unsigned arg_intensity;
extern bool arg_clear;
extern unsigned arg_count;
extern unsigned arg_timeout_s;

typedef int (*VerbFunction)(int argc, char *argv[]);

/* chairctl.c */
int chairctl_connect(sd_bus **ret);                   /* exit code on failure, 0 on success */
int chairctl_error(const sd_bus_error *e, int r, const char *what); /* prints, returns the exit code */
/* Calls a method on chaird and prints any error; returns 0 or the exit code. reply may be NULL. */
int chairctl_call(sd_bus *bus, const char *iface, const char *method, sd_bus_message **reply,
                  const char *types, ...);
void pager_open(void);
bool colors_enabled(void);
const char *ansi(const char *code); /* code when colours are on, else "" */
#define ANSI_RED "\033[31;1m"
#define ANSI_GREEN "\033[32m"
#define ANSI_YELLOW "\033[33;1m"
#define ANSI_BOLD "\033[1m"
#define ANSI_GREY "\033[2m"
#define ANSI_RESET "\033[0m"
void json_print(json_object *o); /* pretty, with a newline, and drops the reference */
/* Reads the next complete value of the message (any D-Bus type) into JSON. */
int json_from_bus(sd_bus_message *m, json_object **ret);
int chairctl_usage_error(const char *fmt, ...) _printf_(1, 2);
int parse_double(const char *s, double *ret);
int parse_unsigned(const char *s, unsigned max, unsigned *ret);

/* chairctl-show.c: state and programs */
int verb_status(int argc, char *argv[]);
int verb_programs(int argc, char *argv[]);
int verb_monitor(int argc, char *argv[]);
int status_fetch(sd_bus *bus, json_object **ret); /* Chair1's properties as a JSON object */

/* chairctl-session.c: what the touchscreen can do too */
int verb_start(int argc, char *argv[]);
int verb_simple(int argc, char *argv[]); /* pause, resume, stop, estop, reset */
int verb_scan(int argc, char *argv[]);

/* chairctl-maint.c: Maintenance1 */
int verb_faults(int argc, char *argv[]);
int verb_counters(int argc, char *argv[]);
int verb_limits(int argc, char *argv[]);
int verb_registers(int argc, char *argv[]);
int verb_jog(int argc, char *argv[]);
int verb_selftest(int argc, char *argv[]);
int verb_reload(int argc, char *argv[]);

/* chairctl-config.c: offline */
int verb_config(int argc, char *argv[]);
