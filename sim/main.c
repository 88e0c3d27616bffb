/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* chair-sim's command line: "serve" runs the simulated chair, every other verb is a client of a running
 * one over <run-dir>/ctl.sock. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "sim.h"

static void help(void) {
        printf("chair-sim [--run-dir DIR] [--verbose] COMMAND ...\n"
               "Simulated massage chair: Modbus boards (TCP and RTU), GPIO lines, fault injection.\n\n"
               "Commands:\n"
               "  serve [OPTIONS]                 Run the simulated chair until SIGTERM/SIGINT\n"
               "      --tcp HOST:PORT             Modbus TCP server (unit id 1 roller, 2 airbag, 3 base)\n"
               "      --rtu PATH                  Modbus RTU on an existing tty or pty (slave ids 1..3)\n"
               "      --baud N                    RTU baud rate (default 115200)\n"
               "      --parity none|even|odd      RTU parity (default none)\n"
               "      --stop-bits 1|2             RTU stop bits (default 1)\n"
               "      --wire-time                 RTU: reply when request+reply would have taken their\n"
               "                                  real time on the wire at the baud rate\n"
               "      --shoulder MM               Occupant's shoulder line from the head end (default 180)\n"
               "      --stiffness N_PER_MM        Occupant's tissue stiffness (default 1.5)\n"
               "      --empty                     Start with nobody sitting\n"
               "  ping                            Check that the simulator answers\n"
               "  wait-ready [--timeout SEC]      Wait until the simulator answers (default 10 s)\n"
               "  estop press|release|break|repair  E-stop button; break = cut wire, reads pressed\n"
               "  interlock on|off                Untrained-mode key\n"
               "  sit [--shoulder MM] [--stiffness K]  Seat an occupant (or change the seated one)\n"
               "  stand                           The occupant leaves\n"
               "  fault BOARD none|timeout|exception CODE|disconnect|slow MS|garbage|crc\n"
               "                                  Bus fault of roller, airbag or base\n"
               "  sensor SIGNAL normal|stuck|spike VALUE|offset VALUE|ramp VALUE RATE\n"
               "                                  Sensor fault (roller.force, heat.temperature, ...)\n"
               "  get [KEY...]                    Print key=value lines (all keys when none given)\n"
               "  wait EXPR... [--timeout SEC]    Wait until every KEY==V, KEY!=V, KEY<V, KEY>V, KEY<=V,\n"
               "                                  KEY>=V holds (default timeout 10 s)\n\n"
               "Options:\n"
               "  --run-dir DIR                   Sockets directory (default " SIM_DEFAULT_RUN_DIR ")\n"
               "  -v --verbose                    Debug logging\n"
               "  -h --help                       This help\n"
               "     --version                    Print the version\n"
               "See docs/chair-sim.md for the control protocol, the register map and the model.\n");
}

static int parse_unsigned(const char *s, unsigned lo, unsigned hi, unsigned *ret) {
        char *end;

        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno != 0 || end == s || *end || *s == '-' || v < lo || v > hi)
                return -EINVAL;
        *ret = (unsigned)v;
        return 0;
}

static int parse_positive(const char *s, double lo, double hi, double *ret) {
        char *end;

        errno = 0;
        double v = strtod(s, &end);
        if (errno != 0 || end == s || *end || !(v >= lo && v <= hi))
                return -EINVAL;
        *ret = v;
        return 0;
}

static int parse_serve_option(int c, const char *arg, SimOptions *o) {
        unsigned u;

        switch (c) {
        case 't':
                o->tcp = arg;
                return 0;
        case 'r':
                o->rtu = arg;
                return 0;
        case 'b':
                if (parse_unsigned(arg, 1200, 921600, &o->baud) < 0)
                        return log_error_errno(-EINVAL, "--baud: expected 1200..921600, got '%s'", arg);
                return 0;
        case 'p':
                if (streq(arg, "none") || streq(arg, "even") || streq(arg, "odd")) {
                        o->parity = arg[0] == 'n' ? 'N' : arg[0] == 'e' ? 'E' : 'O';
                        return 0;
                }
                return log_error_errno(-EINVAL, "--parity: expected none, even or odd, got '%s'", arg);
        case 's':
                if (parse_unsigned(arg, 1, 2, &u) < 0)
                        return log_error_errno(-EINVAL, "--stop-bits: expected 1 or 2, got '%s'", arg);
                o->stop_bits = (int)u;
                return 0;
        case 'w':
                o->wire_time = true;
                return 0;
        case 'S':
                if (parse_positive(arg, 50, 650, &o->shoulder_mm) < 0)
                        return log_error_errno(-EINVAL, "--shoulder: expected 50..650 mm, got '%s'", arg);
                return 0;
        case 'k':
                if (parse_positive(arg, 0.1, 20, &o->stiffness) < 0)
                        return log_error_errno(-EINVAL, "--stiffness: expected 0.1..20 N/mm, got '%s'", arg);
                return 0;
        case 'e':
                o->empty = true;
                return 0;
        default:
                return -EINVAL;
        }
}

static int verb_serve(const char *run_dir, int argc, char **argv) {
        static const struct option options[] = {
                {"tcp", required_argument, NULL, 't'},
                {"rtu", required_argument, NULL, 'r'},
                {"baud", required_argument, NULL, 'b'},
                {"parity", required_argument, NULL, 'p'},
                {"stop-bits", required_argument, NULL, 's'},
                {"wire-time", no_argument, NULL, 'w'},
                {"shoulder", required_argument, NULL, 'S'},
                {"stiffness", required_argument, NULL, 'k'},
                {"empty", no_argument, NULL, 'e'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        SimOptions o = {
                .run_dir = run_dir,
                .baud = 115200,
                .parity = 'N',
                .stop_bits = 1,
                .shoulder_mm = SIM_DEFAULT_SHOULDER_MM,
                .stiffness = SIM_DEFAULT_STIFFNESS,
        };
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                if (c == 'h') {
                        help();
                        return 0;
                }
                if (c == '?' || parse_serve_option(c, optarg, &o) < 0)
                        return -EINVAL;
        }
        if (optind < argc)
                return log_error_errno(-EINVAL, "serve: unexpected argument '%s'", argv[optind]);
        if (!o.tcp && !o.rtu)
                log_warning("Neither --tcp nor --rtu given: only the GPIO and control sockets will be up");
        return sim_serve(&o);
}

int main(int argc, char **argv) {
        enum { ARG_VERSION = 0x100, ARG_RUN_DIR };
        static const struct option options[] = {
                {"run-dir", required_argument, NULL, ARG_RUN_DIR},
                {"verbose", no_argument, NULL, 'v'},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, ARG_VERSION},
                {},
        };
        const char *run_dir = SIM_DEFAULT_RUN_DIR;
        int c;

        log_setup("chair-sim", LOG_TARGET_STDERR);
        while ((c = getopt_long(argc, argv, "+vh", options, NULL)) >= 0) {
                switch (c) {
                case ARG_RUN_DIR:
                        run_dir = optarg;
                        break;
                case 'v':
                        log_set_max_level(LOG_DEBUG);
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("chair-sim %s\n", CHAIRD_VERSION);
                        return 0;
                default:
                        return 1;
                }
        }
        if (optind >= argc) {
                fprintf(stderr, "chair-sim: missing command, see --help\n");
                return 1;
        }

        argc -= optind;
        argv += optind;
        if (streq(argv[0], "serve"))
                return verb_serve(run_dir, argc, argv) < 0 ? 1 : 0;
        return client_main(run_dir, argc, argv) < 0 ? 1 : 0;
}
