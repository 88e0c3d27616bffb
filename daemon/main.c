/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* chaird: the control daemon of the massage chair. Parses options, loads and validates the whole
 * configuration before touching anything, then hands over to the Manager. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "manager.h"

static const char *arg_root = "/";
static bool arg_check_config = false;

static void help(void) {
        printf("chaird [OPTIONS...]\n\n"
               "Control daemon of the massage chair: drives the actuators over Modbus and GPIO, runs\n"
               "massage programs and enforces the safety rules (docs/safety.md).\n\n"
               "  -h --help              Show this help\n"
               "     --version           Show the version\n"
               "     --root=DIR          Read configuration and state below DIR instead of /\n"
               "     --check-config      Validate the configuration, print it merged with the file\n"
               "                         each value came from, and exit (1 on error)\n"
               "     --log-level=LEVEL   err, warning, notice, info, debug\n"
               "     --log-target=TARGET auto, journal, stderr\n");
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_ROOT, ARG_CHECK_CONFIG, ARG_LOG_LEVEL, ARG_LOG_TARGET };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "root", required_argument, NULL, ARG_ROOT },
                { "check-config", no_argument, NULL, ARG_CHECK_CONFIG },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                { "log-target", required_argument, NULL, ARG_LOG_TARGET },
                {},
        };
        int c, l;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("chaird %s\n", CHAIRD_VERSION);
                        return 0;
                case ARG_ROOT:
                        arg_root = optarg;
                        break;
                case ARG_CHECK_CONFIG:
                        arg_check_config = true;
                        break;
                case ARG_LOG_LEVEL:
                        l = log_parse_level(optarg);
                        if (l < 0)
                                return log_error_errno(l, "--log-level=%s: unknown level", optarg);
                        log_set_max_level(l);
                        break;
                case ARG_LOG_TARGET:
                        if (streq(optarg, "journal"))
                                log_setup(NULL, LOG_TARGET_JOURNAL);
                        else if (streq(optarg, "stderr"))
                                log_setup(NULL, LOG_TARGET_STDERR);
                        else if (!streq(optarg, "auto"))
                                return log_error_errno(-EINVAL, "--log-target=%s: unknown target", optarg);
                        break;
                case '?':
                        return -EINVAL;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return log_error_errno(-EINVAL, "Unexpected argument: %s", argv[optind]);
        return 1;
}

int main(int argc, char *argv[]) {
        _cleanup_(manager_freep) Manager *m = NULL;
        _cleanup_free_ char *error = NULL;
        Config *c = NULL;
        int r;

        log_setup("chaird", LOG_TARGET_AUTO);
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? 2 : 0;

        /* The whole config must validate before any output is touched: a half-understood chair is not
         * driven at all. Outputs stay at their hardware default (relay released) meanwhile. */
        r = config_load(arg_root, &c, &error);
        if (r < 0) {
                if (arg_check_config) {
                        fprintf(stderr, "%s\n", error);
                        return 1;
                }
                log_error_errno(r, "Refusing to start: %s", error);
                (void) sd_notifyf(false, "STATUS=Configuration error: %s\nERRNO=%i", error, -r);
                return 1;
        }
        if (arg_check_config) {
                config_dump(c, stdout);
                config_free(c);
                return 0;
        }

        r = manager_new(arg_root, c, &m);
        if (r < 0) {
                config_free(c);
                return log_error_errno(r, "Failed to allocate the manager: %m"), 1;
        }

        r = manager_start(m);
        if (r < 0) {
                (void) sd_notifyf(false, "STATUS=Failed to start: %s\nERRNO=%i", strerror(-r), -r);
                return 1;
        }

        r = manager_run(m);
        return r < 0 ? 1 : 0;
}
