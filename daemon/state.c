/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What survives a restart: the "running" marker that tells a clean exit from a crash or watchdog kill,
 * and the e-stop counter with its last reason. Every write is atomic (common/fileio.c). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "log.h"
#include "manager.h"

#define STATE_FILE "state"
#define RUNNING_FILE "running"

static int state_dir_ensure(Manager *m) {
        int r = mkdir_p(m->config->state_dir, 0750);
        if (r < 0)
                return log_error_errno(r, "Failed to create state directory %s: %m", m->config->state_dir);
        return 0;
}

static void state_parse(Manager *m, char *text, const char *path) {
        char *save = NULL;
        unsigned line = 0;

        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                uint64_t v;

                line++;
                if (sscanf(l, "estops=%" SCNu64, &v) == 1)
                        m->estop_count = v;
                else if (strncmp(l, "last_estop_reason=", 18) == 0)
                        continue; /* informational; the live reason comes from the safety state */
                else
                        log_warning("%s:%u: unknown line \"%s\", ignoring.", path, line, l);
        }
}

int manager_state_load(Manager *m) {
        _cleanup_free_ char *text = NULL;
        char path[4096];
        struct stat st;
        int r;

        r = state_dir_ensure(m);
        if (r < 0)
                return r;

        /* A marker left from the last run means it never reached its clean exit: crash, SIGKILL, watchdog
         * kill or power cut. Start latched (SR: unclean-restart). */
        snprintf(path, sizeof path, "%s/%s", m->config->state_dir, RUNNING_FILE);
        m->unclean_start = stat(path, &st) >= 0;

        snprintf(path, sizeof path, "%s/%s", m->config->state_dir, STATE_FILE);
        r = read_file_full(path, 64 * 1024, &text, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                /* Keep running with what we know; never crash on a bad state file. */
                log_warning_errno(r, "Failed to read %s, starting with empty counters: %m", path);
                return 0;
        }
        state_parse(m, text, path);
        return 0;
}

int manager_state_save(Manager *m) {
        char buf[512];
        int n, r;

        n = snprintf(buf, sizeof buf, "estops=%" PRIu64 "\nlast_estop_reason=%s\n", m->estop_count,
                     safety_estop_text(&m->safety));
        r = write_file_atomic(m->config->state_dir, STATE_FILE, buf, (size_t) n);
        if (r < 0)
                return log_warning_errno(r, "Failed to write %s/%s: %m", m->config->state_dir, STATE_FILE);
        return 0;
}

int manager_state_mark_running(Manager *m, bool running) {
        char path[4096];
        int r;

        if (running) {
                r = write_file_atomic(m->config->state_dir, RUNNING_FILE, "1\n", 2);
                if (r < 0)
                        return log_error_errno(r, "Failed to create %s/%s: %m", m->config->state_dir,
                                               RUNNING_FILE);
                return 0;
        }

        snprintf(path, sizeof path, "%s/%s", m->config->state_dir, RUNNING_FILE);
        if (unlink(path) < 0 && errno != ENOENT)
                return log_warning_errno(errno, "Failed to remove %s: %m", path);
        return 0;
}
