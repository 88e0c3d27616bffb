/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by the unit tests that run against the shipped example chair: finds config/examples/chaird.conf
 * from the test binary (or $CHAIRD_SRCDIR) and loads it once per group into `chair`. Include after
 * cmocka.h and config.h. */
#pragma once

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static Config *chair; /* config/examples/chaird.conf */

_unused_ static void source_path(const char *rel, char *buf, size_t size) {
        char exe[PATH_MAX];
        ssize_t n;

        if (getenv("CHAIRD_SRCDIR")) {
                snprintf(buf, size, "%s/%s", getenv("CHAIRD_SRCDIR"), rel);
                if (access(buf, R_OK) == 0)
                        return;
        }
        n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        assert_true(n > 0);
        exe[n] = '\0';
        for (char *dir = dirname(exe); strcmp(dir, "/") != 0; dir = dirname(dir)) {
                snprintf(buf, size, "%s/%s", dir, rel);
                if (access(buf, R_OK) == 0)
                        return;
        }
        fail_msg("%s not found above the test binary; set CHAIRD_SRCDIR", rel);
}

_unused_ static int group_setup(void **state) {
        char path[PATH_MAX], *files[1] = {path}, *err = NULL;

        source_path("config/examples/chaird.conf", path, sizeof path);
        if (config_load_files(files, 1, &chair, &err) < 0) {
                fprintf(stderr, "example config: %s\n", err);
                free(err);
                return -1;
        }
        return 0;
}

_unused_ static int group_teardown(void **state) {
        chair = config_free(chair);
        return 0;
}
