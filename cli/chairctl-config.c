/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* chairctl config check [ROOT]: the daemon's own parser and validator, offline, so an OEM can check a
 * configuration and its programs before deploying it. Any error (a rejected program too) → exit 1. */
#include <stdio.h>
#include <string.h>

#include "chairctl.h"
#include "config.h"
#include "program.h"

static int config_check(const char *root) {
        _cleanup_(program_list_freep) ProgramList *programs = NULL;
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *error = NULL;
        json_object *o = NULL, *errors = NULL;
        size_t n_errors = 0;
        int r;

        r = config_load(root, &c, &error);
        if (r >= 0) {
                /* NULL supervisor: the steps are checked against the OEM caps alone, as the daemon does at
                 * start before any technician lowered a limit. */
                r = program_list_load(root, c, NULL, &programs);
                if (r < 0) {
                        fprintf(stderr, "%s: failed to read the program folders: %s\n", root, strerror(-r));
                        return EXIT_FAILED;
                }
                n_errors = programs->n_errors;
        } else
                n_errors = 1;

        if (arg_json) {
                o = json_object_new_object();
                errors = json_object_new_array();
                json_object_object_add(o, "root", json_object_new_string(root));
                json_object_object_add(o, "valid", json_object_new_boolean(n_errors == 0));
                if (error)
                        json_object_array_add(errors, json_object_new_string(error));
                for (size_t i = 0; programs && i < programs->n_errors; i++)
                        json_object_array_add(errors, json_object_new_string(programs->errors[i]));
                json_object_object_add(o, "errors", errors);
                if (c) {
                        json_object *files = json_object_new_array(), *ids = json_object_new_array();
                        for (size_t i = 0; i < c->n_files; i++)
                                json_object_array_add(files, json_object_new_string(c->files[i]));
                        for (size_t i = 0; i < programs->n_programs; i++)
                                json_object_array_add(ids, json_object_new_string(programs->programs[i]->id));
                        json_object_object_add(o, "files", files);
                        json_object_object_add(o, "programs", ids);
                }
                json_print(o);
                return n_errors ? EXIT_FAILED : EXIT_OK;
        }

        if (error) {
                fprintf(stderr, "%s\n", error);
                fprintf(stderr, "%s: configuration %sinvalid%s: chaird would refuse to start.\n", root,
                        ansi(ANSI_RED), ansi(ANSI_RESET));
                return EXIT_FAILED;
        }
        for (size_t i = 0; i < c->n_files; i++)
                printf("  read %s\n", c->files[i]);
        for (size_t i = 0; i < programs->n_errors; i++)
                fprintf(stderr, "%s\n", programs->errors[i]);
        printf("%s: configuration valid (%zu boards, %zu signals, %zu zones); %zu programs loaded, %s%zu "
               "rejected%s.\n",
               root, c->n_boards, c->n_signals, c->n_zones, programs->n_programs,
               ansi(n_errors ? ANSI_RED : ""), n_errors, ansi(n_errors ? ANSI_RESET : ""));
        return n_errors ? EXIT_FAILED : EXIT_OK;
}

int verb_config(int argc, char *argv[]) {
        if (!streq(argv[1], "check"))
                return chairctl_usage_error("config: unknown subcommand \"%s\" (only \"check\")", argv[1]);
        return config_check(argc > 2 ? argv[2] : "/");
}
