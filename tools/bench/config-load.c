/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `make bench` only: times chaird's own config_load() and program_list_load() on a root (the bench puts
 * 200 programs in it), in-process, so the figure is the parsing and checking without process start-up.
 * Linked against the build's libchaird.a by tools/bench.sh. Prints one JSON object.
 *
 *   config-load ROOT RUNS */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "config.h"
#include "program.h"

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return x < y ? -1 : x > y;
}

static void print_ms(const char *name, uint64_t *v, int n) {
        qsort(v, (size_t) n, sizeof(uint64_t), cmp_u64);
        printf("\"%s\": {\"n\": %d, \"p50\": %.3f, \"max\": %.3f}", name, n, v[n / 2] / 1e6, v[n - 1] / 1e6);
}

int main(int argc, char **argv) {
        uint64_t config_ns[100], programs_ns[100];
        size_t n_programs = 0, n_rejected = 0;
        int runs;

        if (argc != 3 || (runs = atoi(argv[2])) < 1 || runs > 100)
                return fprintf(stderr, "usage: config-load ROOT RUNS(1..100)\n"), 2;

        for (int i = 0; i < runs; i++) {
                Config *c = NULL;
                ProgramList *l = NULL;
                char *error = NULL;
                uint64_t t0 = now_ns(), t1, t2;
                int r;

                r = config_load(argv[1], &c, &error);
                t1 = now_ns();
                if (r < 0)
                        return fprintf(stderr, "config-load: %s\n", error ? error : "config_load failed"), 1;
                r = program_list_load(argv[1], c, NULL, &l);
                t2 = now_ns();
                if (r < 0)
                        return fprintf(stderr, "config-load: program_list_load failed: %d\n", r), 1;
                config_ns[i] = t1 - t0;
                programs_ns[i] = t2 - t1;
                n_programs = l->n_programs;
                n_rejected = l->n_errors;
                program_list_free(l);
                config_free(c);
        }
        printf("{\"programs\": %zu, \"rejected\": %zu, ", n_programs, n_rejected);
        print_ms("config_ms", config_ns, runs);
        printf(", ");
        print_ms("programs_ms", programs_ns, runs);
        printf("}\n");
        return 0;
}
