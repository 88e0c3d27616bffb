/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What survives a restart, seen from the Manager: the "running" marker that tells a clean exit from a
 * crash or watchdog kill, and the counters, fault log and lowered limits of daemon/persist.c. E-stops
 * and faults are saved at once; operating seconds once a minute and when the work ends. */
#include <dirent.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "log.h"
#include "maint.h"
#include "manager.h"

#define RUNNING_FILE "running"
#define SAVE_INTERVAL_USEC USEC_PER_SEC
/* Operating time alone is saved this often while the chair works, and when the work ends: the save
 * (with its fsyncs) runs inside the control loop, and on flash it can take tens of milliseconds. A
 * crash loses at most this much operating time, never a count. */
#define OPERATING_SAVE_USEC (60 * USEC_PER_SEC)

static int state_dir_ensure(Manager *m) {
        int r = mkdir_p(m->config->state_dir, 0750);
        if (r < 0)
                return log_error_errno(r, "Failed to create state directory %s: %m", m->config->state_dir);
        return 0;
}

/* A write killed between creating its temp file and the rename leaves ".#state.PID": never read, but
 * it should not pile up over many crashes. */
static void state_remove_stale_temp(Manager *m) {
        DIR *d = opendir(m->config->state_dir);
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d)))
                if (strncmp(de->d_name, ".#", 2) == 0)
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
}

static Maint *state_maint(Manager *m) {
        if (!m->maint) {
                m->maint = calloc(1, sizeof(Maint));
                if (m->maint) {
                        m->maint->board_health = calloc(m->config->n_boards + 1, sizeof(BoardHealth));
                        m->maint->board_losses = calloc(m->config->n_boards + 1, sizeof(unsigned));
                }
                if (m->maint && (!m->maint->board_health || !m->maint->board_losses))
                        m->maint = maint_free(m->maint);
        }
        return m->maint;
}

int manager_state_load(Manager *m) {
        char path[4096];
        struct stat st;
        Maint *x;
        int r;

        r = state_dir_ensure(m);
        if (r < 0)
                return r;
        x = state_maint(m);
        if (!x)
                return log_oom();

        /* A marker left from the last run means it never reached its clean exit: crash, SIGKILL, watchdog
         * kill or power cut. Start latched (SR-4: unclean-restart). */
        snprintf(path, sizeof path, "%s/%s", m->config->state_dir, RUNNING_FILE);
        m->unclean_start = stat(path, &st) >= 0;

        state_remove_stale_temp(m);
        /* Never fatal: a bad file is logged, moved aside and replaced by what was readable. */
        (void) persist_load(m->config->state_dir, &x->persist);
        x->saved_seconds = x->persist.operating_usec / USEC_PER_SEC;
        for (size_t i = 0; i < m->config->n_boards; i++)
                x->board_health[i] = BOARD_OK;
        return 0;
}

int manager_state_save(Manager *m) {
        int r;

        if (!m->maint)
                return 0;
        r = persist_save(m->config->state_dir, &m->maint->persist);
        if (r < 0)
                return log_warning_errno(r, "Failed to write %s/%s: %m", m->config->state_dir, PERSIST_FILE);
        m->maint->dirty = false;
        m->maint->last_save = mono_usec();
        m->maint->saved_seconds = m->maint->persist.operating_usec / USEC_PER_SEC;
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

static void state_fault_va(Manager *m, const char *code, const char *fmt, va_list ap) {
        char message[PERSIST_MESSAGE_MAX];

        if (!m->maint)
                return;
        vsnprintf(message, sizeof message, fmt, ap);
        persist_fault_add(&m->maint->persist, now_usec(CLOCK_REALTIME), code, message);
        (void) manager_state_save(m);
}

void manager_state_fault(Manager *m, const char *code, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        state_fault_va(m, code, fmt, ap);
        va_end(ap);
}

void manager_state_reload_refused(Manager *m, const char *fmt, ...) {
        va_list ap;

        if (!m->maint)
                return;
        va_start(ap, fmt);
        vsnprintf(m->maint->last_reload_error, sizeof m->maint->last_reload_error, fmt, ap);
        va_end(ap);
        manager_state_fault(m, "reload-refused", "%s", m->maint->last_reload_error);
}

void manager_state_estop(Manager *m) {
        const char *reason = safety_estop_text(&m->safety);
        char code[SAFETY_TEXT_MAX + 8]; /* the log keeps PERSIST_CODE_MAX of it */

        if (!m->maint)
                return;
        persist_count_estop(&m->maint->persist, reason);
        snprintf(code, sizeof code, "estop:%s", reason[0] ? reason : "unknown");
        manager_state_fault(m, code, "emergency stop latched (%s)", reason[0] ? reason : "unknown");
}

static void state_boards_tick(Manager *m) {
        Maint *x = m->maint;

        for (size_t i = 0; i < m->config->n_boards; i++) {
                const BoardState *b = hw_board_state(m->hw, i);
                bool lost, was_lost;
                char code[PERSIST_CODE_MAX];

                if (!b)
                        continue;
                /* A loss that came and went between two looks (a stall, a flapping link) still counts. */
                was_lost = x->board_health[i] == BOARD_LOST;
                lost = b->losses != x->board_losses[i] || (b->health == BOARD_LOST && !was_lost);
                x->board_losses[i] = b->losses;
                x->board_health[i] = lost ? BOARD_LOST : b->health;
                if (!lost && !(was_lost && b->health == BOARD_OK))
                        continue;
                snprintf(code, sizeof code, "board-%s:%s", lost ? "lost" : "recovered", m->config->boards[i].name);
                if (lost)
                        manager_state_fault(m, code, "board %s stopped answering (last error: %s)",
                                            m->config->boards[i].name,
                                            b->last_error ? strerror(-b->last_error) : "none");
                else
                        manager_state_fault(m, code, "board %s answers again", m->config->boards[i].name);
        }
}

void manager_state_tick(Manager *m, usec_t now) {
        Maint *x = m->maint;
        bool busy;

        if (!x)
                return;
        state_boards_tick(m);

        /* Sessions start in session.c; counting the rising edge here keeps the hook out of every path. */
        if (m->session_active && !x->was_session) {
                x->persist.sessions++;
                x->dirty = true;
                x->last_save = 0; /* save now */
        }
        x->was_session = m->session_active;
        if (x->was_scanning && !m->scanning && m->scan_error[0])
                manager_state_fault(m, "scan-failed", "body scan failed: %s", m->scan_error);
        x->was_scanning = m->scanning;

        /* Operating time: whatever moves the chair on a person's or technician's behalf. */
        busy = m->session_active || m->scanning || m->jog.active;
        if (busy && x->last_tick && now > x->last_tick)
                x->persist.operating_usec += MIN(now - x->last_tick, SAVE_INTERVAL_USEC);
        x->last_tick = now;
        if (x->persist.operating_usec / USEC_PER_SEC != x->saved_seconds)
                x->dirty = true;
        bool ended = x->was_busy && !busy;
        x->was_busy = busy;
        if (x->dirty && (x->last_save == 0 || ended || now - x->last_save >= OPERATING_SAVE_USEC))
                (void) manager_state_save(m);
}

void manager_state_apply_limits(Manager *m) {
        if (!m->maint)
                return;
        for (int i = 0; i < _SAFETY_LIMIT_MAX; i++) {
                PersistState *p = &m->maint->persist;
                int r;

                if (!p->limit_set[i])
                        continue;
                r = safety_limit_set(&m->safety, i, p->limit[i]);
                if (r < 0) {
                        /* The OEM cap went below it since: the cap is the stricter, keep that. */
                        log_warning_errno(r, "Stored limit %s=%g not applied (cap %g): %m", safety_limit_to_string(i),
                                          p->limit[i], safety_limit_cap(&m->safety, i));
                        p->limit_set[i] = false;
                        continue;
                }
                log_info("Limit %s lowered to %g by a technician (cap %g).", safety_limit_to_string(i), p->limit[i],
                         safety_limit_cap(&m->safety, i));
        }
}

int manager_set_limit(Manager *m, SafetyLimit id, double value) {
        int r;

        if (id < 0 || id >= _SAFETY_LIMIT_MAX)
                return -EINVAL;
        r = safety_limit_set(&m->safety, id, value);
        if (r < 0)
                return r;
        log_notice("Limit %s set to %g by a technician (cap %g).", safety_limit_to_string(id), value,
                   safety_limit_cap(&m->safety, id));
        if (!m->maint)
                return 0;
        m->maint->persist.limit_set[id] = value < safety_limit_cap(&m->safety, id);
        m->maint->persist.limit[id] = value;
        return manager_state_save(m);
}

int manager_clear_faults(Manager *m) {
        if (!m->maint)
                return 0;
        persist_faults_clear(&m->maint->persist);
        log_info("Fault log cleared by a technician.");
        return manager_state_save(m);
}

const PersistState *manager_persist(Manager *m) {
        return m->maint ? &m->maint->persist : NULL;
}
