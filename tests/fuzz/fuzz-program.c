/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the program parser (program_load_file) on arbitrary bytes, against the example
 * chair's caps. A program that loads must respect what the loader promises: bounded steps, repeats and
 * seconds, a total that adds up, and forces no step may exceed at the top intensity. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "fuzz-util.h"
#include "macro.h"
#include "program.h"

static Config *config;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
        char *files[] = { (char *) FUZZ_EXAMPLE_CONFIG };
        _cleanup_free_ char *error = NULL;

        if (config_load_files(files, 1, &config, &error) < 0) {
                fprintf(stderr, "fuzz-program: %s: %s\n", FUZZ_EXAMPLE_CONFIG, error ? error : "failed");
                abort();
        }
        return 0;
}

static void program_check(const Program *p) {
        unsigned total = 0;

        if (!p->id || p->n_steps == 0 || p->n_steps > PROGRAM_STEPS_MAX)
                abort();
        for (size_t i = 0; i < p->n_steps; i++) {
                const ProgramStep *s = &p->steps[i];

                if (s->seconds == 0 || s->seconds > PROGRAM_STEP_SECONDS_MAX || s->repeat == 0 ||
                    s->repeat > PROGRAM_REPEAT_MAX || s->points > PROGRAM_POINTS_MAX)
                        abort();
                if (!isfinite(s->force_n) || s->force_n < 0 || s->force_n > config->limits.max_force_n)
                        abort();
                if (!isfinite(s->speed_mm_s) || s->speed_mm_s > config->limits.max_speed_mm_s)
                        abort();
                total += s->seconds * s->repeat;
        }
        if (total != p->total_seconds)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *error = NULL;
        Program *p = NULL;
        char path[64];
        int fd = fuzz_memfd(data, size, path, sizeof path);

        if (fd < 0)
                return 0;
        if (program_load_file(path, config, NULL, &p, &error) >= 0) {
                program_check(p);
                program_free(p);
        } else if (!error || !error[0])
                abort(); /* a rejection always names file:line and why */
        close(fd);
        return 0;
}
