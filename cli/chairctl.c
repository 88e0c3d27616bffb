/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* chairctl: the technician's tool. Talks to chaird over D-Bus only (never to hardware), in the manner of
 * systemctl and hostnamectl: a verb table, `status` by default, --json for scripts, a pager on a tty. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chairctl.h"

bool arg_json = false;
bool arg_no_pager = false;
const char *arg_bus_address = NULL;
unsigned arg_intensity = 5;
bool arg_clear = false;
unsigned arg_count = 0;
unsigned arg_timeout_s = 120;

static pid_t pager_pid = 0;

static void help(void) {
        printf("chairctl [OPTIONS...] COMMAND ...\n\n"
               "Show and service the massage chair through chaird (D-Bus).\n\n"
               "Commands:\n"
               "  status                 Show the chair's state (default)\n"
               "  programs               List the massage programs\n"
               "  start ID               Start a program (--intensity=N)\n"
               "  pause                  Pause the running program\n"
               "  resume                 Resume a paused program\n"
               "  stop                   Stop the session (controlled stop)\n"
               "  estop                  Emergency stop (latched)\n"
               "  reset                  Reset the emergency stop\n"
               "  scan                   Run the body scan and wait for its result\n"
               "  monitor                Live view of the chair (Ctrl-C ends it)\n"
               "  faults                 Show active faults and the fault log (--clear empties the log)\n"
               "  counters               Show operating time, sessions and e-stops\n"
               "  limits [NAME VALUE]    Show the limits, or lower one\n"
               "  registers BOARD KIND ADDR [COUNT]\n"
               "                         Read raw registers (KIND: coil, discrete, input, holding)\n"
               "  jog ACTUATOR TARGET    Move the roller (mm) or recline (degrees) while idle\n"
               "  selftest               Check boards, lines, relay and heater; print a table\n"
               "  config check [ROOT]    Check an OEM configuration offline (no daemon needed)\n"
               "  reload                 Make chaird re-read its configuration\n"
               "\nOptions:\n"
               "  -h --help              Show this help\n"
               "     --version           Show the version\n"
               "     --json              Print JSON (monitor: one object per line)\n"
               "     --no-pager          Do not pipe output into a pager\n"
               "     --bus-address=ADDR  Talk to chaird on this bus (default: $DBUS_SYSTEM_BUS_ADDRESS,\n"
               "                         else the system bus)\n"
               "     --intensity=N       Intensity for start (default 5)\n"
               "     --clear             With faults: empty the fault log\n"
               "     --count=N           With monitor: exit after N updates\n"
               "     --timeout=SEC       With scan and selftest: wait at most SEC seconds (default 120)\n"
               "\nExit status: 0 success, 1 refused or failed, 2 usage error, 3 chaird not reachable,\n"
               "4 not permitted. See chairctl(1).\n");
}

int chairctl_usage_error(const char *fmt, ...) {
        va_list ap;

        fputs("chairctl: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs(" (see --help)\n", stderr);
        return EXIT_USAGE;
}

int parse_double(const char *s, double *ret) {
        char *end;
        double d;

        errno = 0;
        d = strtod(s, &end);
        if (errno != 0 || end == s || *end != '\0' || !isfinite(d))
                return -EINVAL;
        *ret = d;
        return 0;
}

int parse_unsigned(const char *s, unsigned max, unsigned *ret) {
        unsigned long v;
        char *end;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 0);
        if (errno != 0 || *end != '\0' || v > max)
                return -ERANGE;
        *ret = (unsigned) v;
        return 0;
}

bool colors_enabled(void) {
        static int cached = -1;
        const char *term = getenv("TERM");

        if (cached < 0)
                cached = isatty(STDOUT_FILENO) && !getenv("NO_COLOR") && !(term && streq(term, "dumb"));
        return cached;
}

const char *ansi(const char *code) {
        return colors_enabled() ? code : "";
}

static void pager_close(void) {
        if (pager_pid <= 0)
                return;
        fflush(stdout);
        (void) close(STDOUT_FILENO);
        (void) waitpid(pager_pid, NULL, 0);
        pager_pid = 0;
}

/* Long output goes through less (or $PAGER) on a tty, like systemctl; "cat" or an empty PAGER means none. */
void pager_open(void) {
        const char *pager = getenv("PAGER");
        int fds[2];

        if (arg_no_pager || arg_json || pager_pid > 0 || !isatty(STDOUT_FILENO))
                return;
        if (pager && (pager[0] == '\0' || streq(pager, "cat")))
                return;
        (void) colors_enabled(); /* decided on the tty, before stdout becomes the pipe */
        if (pipe(fds) < 0)
                return;
        fflush(stdout);
        pager_pid = fork();
        if (pager_pid < 0) {
                close(fds[0]);
                close(fds[1]);
                pager_pid = 0;
                return;
        }
        if (pager_pid == 0) {
                (void) dup2(fds[0], STDIN_FILENO);
                close(fds[0]);
                close(fds[1]);
                (void) setenv("LESS", "FRSXMK", 0);
                if (pager)
                        execl("/bin/sh", "sh", "-c", pager, (char *) NULL);
                execlp("less", "less", (char *) NULL);
                execlp("more", "more", (char *) NULL);
                execlp("cat", "cat", (char *) NULL);
                _exit(EXIT_FAILURE);
        }
        (void) dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        atexit(pager_close);
}

void json_print(json_object *o) {
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
}

int chairctl_connect(sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        if (arg_bus_address) {
                r = sd_bus_new(&bus);
                if (r >= 0)
                        r = sd_bus_set_address(bus, arg_bus_address);
                if (r >= 0)
                        r = sd_bus_set_bus_client(bus, true);
                if (r >= 0)
                        r = sd_bus_start(bus);
        } else
                /* honours $DBUS_SYSTEM_BUS_ADDRESS, as chaird does */
                r = sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, "Failed to connect to the bus%s%s: %s\n", arg_bus_address ? " at " : "",
                        arg_bus_address ?: "", strerror(-r));
                return EXIT_UNREACHABLE;
        }
        *ret = TAKE_PTR(bus);
        return 0;
}

int chairctl_error(const sd_bus_error *e, int r, const char *what) {
        const char *name = e && e->name ? e->name : "";
        static const char *const unreachable[] = {
                "org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner",
                "org.freedesktop.DBus.Error.NoReply",        "org.freedesktop.DBus.Error.Disconnected",
                "org.freedesktop.DBus.Error.NoServer",       "org.freedesktop.DBus.Error.UnknownObject",
        };

        fprintf(stderr, "%s: %s%s%s%s\n", what, e && e->message ? e->message : strerror(r < 0 ? -r : EIO),
                name[0] ? " (" : "", name, name[0] ? ")" : "");
        for (size_t i = 0; i < ELEMENTSOF(unreachable); i++)
                if (streq(name, unreachable[i])) {
                        fprintf(stderr, "Is chaird running on this bus?\n");
                        return EXIT_UNREACHABLE;
                }
        if (streq(name, "org.freedesktop.DBus.Error.AccessDenied") || streq(name, "org.chaird.Error.NotPermitted"))
                return EXIT_DENIED;
        if (!name[0] && (r == -ECONNREFUSED || r == -ENOENT || r == -ECONNRESET || r == -ENOTCONN))
                return EXIT_UNREACHABLE;
        return EXIT_FAILED;
}

int chairctl_call(sd_bus *bus, const char *iface, const char *method, sd_bus_message **reply,
                  const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char what[128];
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &msg, CHAIRCTL_BUS_NAME, CHAIRCTL_BUS_PATH, iface, method);
        if (r >= 0 && types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(msg, types, ap);
                va_end(ap);
        }
        if (r < 0) {
                fprintf(stderr, "Failed to build the %s call: %s\n", method, strerror(-r));
                return EXIT_FAILED;
        }
        r = sd_bus_call(bus, msg, (uint64_t) arg_timeout_s * 1000000ULL + 5000000ULL, &e, reply);
        if (r < 0) {
                snprintf(what, sizeof what, "%s failed", method);
                r = chairctl_error(&e, r, what);
                sd_bus_error_free(&e);
                return r;
        }
        return 0;
}

static int json_basic(sd_bus_message *m, char type, json_object **ret) {
        union {
                uint8_t y;
                int b;
                int16_t n;
                uint16_t q;
                int32_t i;
                uint32_t u;
                int64_t x;
                uint64_t t;
                double d;
                const char *s;
        } v;
        int r = sd_bus_message_read_basic(m, type, &v);
        if (r <= 0)
                return r < 0 ? r : -EBADMSG;
        switch (type) {
        case 'y': *ret = json_object_new_int(v.y); break;
        case 'b': *ret = json_object_new_boolean(v.b); break;
        case 'n': *ret = json_object_new_int(v.n); break;
        case 'q': *ret = json_object_new_int(v.q); break;
        case 'i': *ret = json_object_new_int(v.i); break;
        case 'u': *ret = json_object_new_int64(v.u); break;
        case 'x': *ret = json_object_new_int64(v.x); break;
        case 't': *ret = json_object_new_uint64(v.t); break;
        case 'd': *ret = json_object_new_double(v.d); break;
        case 's': case 'o': case 'g': *ret = json_object_new_string(v.s); break;
        default: return -EOPNOTSUPP;
        }
        return 0;
}

/* Arrays become JSON arrays, dictionaries (a{..}) objects, structs arrays, variants their content. */
int json_from_bus(sd_bus_message *m, json_object **ret) {
        const char *contents;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r <= 0)
                return r < 0 ? r : -ENODATA;
        if (!strchr("arve", type))
                return json_basic(m, type, ret);

        bool dict = type == 'a' && contents[0] == '{';
        json_object *o = dict ? json_object_new_object() : json_object_new_array();
        r = sd_bus_message_enter_container(m, type, contents);
        while (r >= 0 && sd_bus_message_at_end(m, false) == 0) {
                json_object *k = NULL, *v = NULL;
                if (dict) {
                        char entry[64]; /* "{sv}" → "sv" */
                        snprintf(entry, sizeof entry, "%.*s", (int) strlen(contents) - 2, contents + 1);
                        r = sd_bus_message_enter_container(m, 'e', entry);
                        if (r >= 0)
                                r = json_from_bus(m, &k);
                        if (r >= 0)
                                r = json_from_bus(m, &v);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                        if (r >= 0)
                                json_object_object_add(o, json_object_get_string(k), v), v = NULL;
                        json_object_put(k);
                        json_object_put(v);
                } else if (type == 'v') {
                        json_object_put(o);
                        o = NULL;
                        r = json_from_bus(m, &o);
                        break;
                } else {
                        r = json_from_bus(m, &v);
                        if (r >= 0)
                                json_object_array_add(o, v);
                }
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0) {
                json_object_put(o);
                return r;
        }
        *ret = o;
        return 0;
}

static int verb_help(int argc, char *argv[]) {
        help();
        return EXIT_OK;
}

typedef struct Verb {
        const char *name;
        unsigned min_args, max_args; /* including the verb itself */
        VerbFunction run;
} Verb;

static const Verb verbs[] = {
        { "status", 1, 1, verb_status },      { "programs", 1, 1, verb_programs },
        { "start", 2, 2, verb_start },        { "pause", 1, 1, verb_simple },
        { "resume", 1, 1, verb_simple },      { "stop", 1, 1, verb_simple },
        { "estop", 1, 1, verb_simple },       { "reset", 1, 1, verb_simple },
        { "scan", 1, 1, verb_scan },          { "monitor", 1, 1, verb_monitor },
        { "faults", 1, 1, verb_faults },      { "counters", 1, 1, verb_counters },
        { "limits", 1, 3, verb_limits },      { "registers", 4, 5, verb_registers },
        { "jog", 3, 3, verb_jog },            { "selftest", 1, 1, verb_selftest },
        { "config", 2, 3, verb_config },      { "reload", 1, 1, verb_reload },
        { "help", 1, 1, verb_help },
};

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_JSON, ARG_NO_PAGER, ARG_BUS_ADDRESS, ARG_INTENSITY, ARG_CLEAR,
               ARG_COUNT, ARG_TIMEOUT };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "json", no_argument, NULL, ARG_JSON },
                { "no-pager", no_argument, NULL, ARG_NO_PAGER },
                { "bus-address", required_argument, NULL, ARG_BUS_ADDRESS },
                { "intensity", required_argument, NULL, ARG_INTENSITY },
                { "clear", no_argument, NULL, ARG_CLEAR },
                { "count", required_argument, NULL, ARG_COUNT },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("chairctl %s\n", CHAIRD_VERSION);
                        return 0;
                case ARG_JSON:
                        arg_json = true;
                        break;
                case ARG_NO_PAGER:
                        arg_no_pager = true;
                        break;
                case ARG_BUS_ADDRESS:
                        arg_bus_address = optarg;
                        break;
                case ARG_INTENSITY:
                        if (parse_unsigned(optarg, 100, &arg_intensity) < 0 || arg_intensity == 0)
                                return -chairctl_usage_error("--intensity=%s: not a level 1..100", optarg);
                        break;
                case ARG_CLEAR:
                        arg_clear = true;
                        break;
                case ARG_COUNT:
                        if (parse_unsigned(optarg, 1000000, &arg_count) < 0)
                                return -chairctl_usage_error("--count=%s: not a number", optarg);
                        break;
                case ARG_TIMEOUT:
                        if (parse_unsigned(optarg, 3600, &arg_timeout_s) < 0 || arg_timeout_s == 0)
                                return -chairctl_usage_error("--timeout=%s: not 1..3600 seconds", optarg);
                        break;
                default:
                        return -EXIT_USAGE;
                }
        return 1;
}

int main(int argc, char *argv[]) {
        char *default_argv[] = { (char *) "status", NULL };
        int r;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return -r;
        argc -= optind;
        argv += optind;
        if (argc == 0) {
                argc = 1;
                argv = default_argv;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                const Verb *v = &verbs[i];
                if (!streq(argv[0], v->name))
                        continue;
                if ((unsigned) argc < v->min_args)
                        return chairctl_usage_error("%s: too few arguments", v->name);
                if ((unsigned) argc > v->max_args)
                        return chairctl_usage_error("%s: too many arguments", v->name);
                r = v->run(argc, argv);
                fflush(stdout);
                return r;
        }
        return chairctl_usage_error("unknown command \"%s\"", argv[0]);
}
