/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's bus connection: objects, name, the caller check both interfaces use, and the
 * PropertiesChanged/SafetyEvent emission (fast-changing properties rate-limited). */
#include <grp.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bus-error.h"
#include "bus.h"
#include "log.h"

/* Fast-changing properties are published at most this often (DESIGN §3: ≤ 20 Hz). */
#define FAST_PROPERTY_INTERVAL_USEC (100 * USEC_PER_MSEC)

static bool creds_in_group(sd_bus_creds *creds, const char *name) {
        const gid_t *gids = NULL;
        struct group *gr;
        gid_t gid;
        int n;

        gr = getgrnam(name);
        if (!gr)
                return false;
        if (sd_bus_creds_get_egid(creds, &gid) >= 0 && gid == gr->gr_gid)
                return true;
        n = sd_bus_creds_get_supplementary_gids(creds, &gids);
        for (int i = 0; i < n; i++)
                if (gids[i] == gr->gr_gid)
                        return true;
        return false;
}

/* Defence in depth: the bus policy already filters, but a mis-installed policy must not open the
 * chair to everyone. root may do everything; chair-tech both interfaces; chair-ui Chair1 only. */
int bus_check_caller(sd_bus_message *msg, CallerRole need, sd_bus_error *e) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        uid_t uid;
        int r;

        r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID | SD_BUS_CREDS_EGID |
                                                   SD_BUS_CREDS_SUPPLEMENTARY_GIDS | SD_BUS_CREDS_AUGMENT,
                                      &creds);
        if (r < 0)
                return bus_error_from_errno(e, -EACCES, "Cannot determine the caller's credentials");
        r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0)
                return bus_error_from_errno(e, -EACCES, "Cannot determine the caller's user");
        if (uid == 0 || creds_in_group(creds, "chair-tech"))
                return 0;
        if (need == CALLER_UI && creds_in_group(creds, "chair-ui"))
                return 0;
        return bus_error_from_errno(e, -EACCES,
                                    need == CALLER_UI ? "Only chair-ui and chair-tech may control the chair"
                                                      : "Only chair-tech may use maintenance functions");
}

int bus_read_string(sd_bus_message *msg, const char **ret, sd_bus_error *e) {
        int r = sd_bus_message_read(msg, "s", ret);
        if (r < 0)
                return r;
        if (strlen(*ret) > BUS_STRING_MAX)
                return bus_error_from_errno(e, -EINVAL, "String argument too long");
        return 0;
}

void bus_faults_format(Manager *m, char *buf, size_t size) {
        size_t n = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < m->config->n_boards && n < size; i++) {
                const BoardState *b = hw_board_state(m->hw, i);
                if (b && b->health == BOARD_LOST)
                        n += (size_t) snprintf(buf + n, size - n, "%sboard-lost:%s", n ? "\n" : "",
                                               m->config->boards[i].name);
        }
        if (n < size && safety_faulted(&m->safety))
                n += (size_t) snprintf(buf + n, size - n, "%s%s", n ? "\n" : "", safety_estop_text(&m->safety));
}

void bus_snapshot_take(Manager *m, BusSnapshot *s) {
        const SafetyZone *neck = safety_neck_zone(&m->safety);

        *s = (BusSnapshot){
                .state = m->state,
                .mode = safety_mode(&m->safety),
                .intensity = m->intensity,
                .scanned = m->scanned,
                .shoulder = m->scanned ? m->shoulder_mm : 0,
                .neck_from = neck->from_mm,
                .neck_to = neck->to_mm,
                .estop = safety_latched(&m->safety),
                .estop_pressed = m->in.line[LINE_ESTOP],
                .interlock = m->in.line[LINE_INTERLOCK],
                .occupied = m->in.line[LINE_SEAT],
        };
        snprintf(s->active_program, sizeof s->active_program, "%s", m->program ? m->program->id : "");
        snprintf(s->estop_reason, sizeof s->estop_reason, "%s", s->estop ? safety_estop_text(&m->safety) : "");
        snprintf(s->scan_error, sizeof s->scan_error, "%s", m->scan_error);
        bus_faults_format(m, s->faults, sizeof s->faults);
        /* rounded to what a display shows, so noise in the last digit does not flood the bus */
        s->roller_position = round(m->in.value[SIGNAL_ROLLER_POSITION] * 10) / 10;
        s->roller_force = round(m->in.value[SIGNAL_ROLLER_FORCE] * 10) / 10;
        snprintf(s->roller_zone, sizeof s->roller_zone, "%s",
                 safety_zone_at(&m->safety, m->in.value[SIGNAL_ROLLER_POSITION]) ?: "");
        s->remaining = manager_remaining_seconds(m, mono_usec());
}

int bus_setup(Manager *m) {
        int r;

        m->published = calloc(1, sizeof(BusSnapshot));
        if (!m->published)
                return log_oom();
        m->published->state = _CHAIR_STATE_INVALID; /* first cycle publishes everything */

        /* sd_bus_open_system() honours DBUS_SYSTEM_BUS_ADDRESS: tests and the demo use a private bus. */
        r = sd_bus_open_system(&m->bus);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus: %m");
        r = sd_bus_add_object_vtable(m->bus, NULL, BUS_PATH, IFACE_CHAIR, chair_vtable, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add %s: %m", IFACE_CHAIR);
        r = sd_bus_add_object_vtable(m->bus, NULL, BUS_PATH, IFACE_MAINT, maintenance_vtable, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add %s: %m", IFACE_MAINT);
        r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach the bus to the event loop: %m");
        /* Synchronous on purpose: READY=1 must not be sent before the name is ours. */
        r = sd_bus_request_name(m->bus, BUS_NAME, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to own %s (is another chaird running, or the bus policy "
                                          "missing?): %m", BUS_NAME);
        return 0;
}

#define CHANGED(field, name)                                    \
        do {                                                    \
                if (memcmp(&now_s.field, &old->field, sizeof now_s.field) != 0) \
                        names[n++] = name;                      \
        } while (0)

void bus_emit_changes(Manager *m, usec_t now) {
        BusSnapshot now_s, *old = m->published;
        const char *names[24];
        size_t n = 0;

        if (!m->bus || !old)
                return;
        bus_snapshot_take(m, &now_s);
        CHANGED(state, "State");
        CHANGED(mode, "Mode");
        CHANGED(active_program, "ActiveProgram");
        CHANGED(intensity, "Intensity");
        CHANGED(scanned, "BodyScanned");
        CHANGED(shoulder, "ShoulderPosition");
        if (now_s.neck_from != old->neck_from || now_s.neck_to != old->neck_to)
                names[n++] = "NeckZone";
        CHANGED(estop, "EStop");
        CHANGED(estop_reason, "EStopReason");
        CHANGED(estop_pressed, "EStopPressed");
        CHANGED(interlock, "InterlockEngaged");
        CHANGED(occupied, "Occupied");
        CHANGED(faults, "Faults");
        CHANGED(scan_error, "LastScanError");
        /* Fast ones at most every FAST_PROPERTY_INTERVAL_USEC; until then keep what was published so the
         * next comparison still sees the change. */
        if (now - m->last_published >= FAST_PROPERTY_INTERVAL_USEC) {
                size_t before = n;
                CHANGED(roller_position, "RollerPosition");
                CHANGED(roller_force, "RollerForce");
                CHANGED(roller_zone, "RollerZone");
                CHANGED(remaining, "RemainingSeconds");
                if (n > before)
                        m->last_published = now;
        } else {
                now_s.roller_position = old->roller_position;
                now_s.roller_force = old->roller_force;
                memcpy(now_s.roller_zone, old->roller_zone, sizeof now_s.roller_zone);
                now_s.remaining = old->remaining;
        }
        if (n == 0)
                return;
        names[n] = NULL;
        *old = now_s;
        (void) sd_bus_emit_properties_changed_strv(m->bus, BUS_PATH, IFACE_CHAIR, (char **) names);
}

void bus_emit_safety_event(Manager *m, const char *kind, const char *detail) {
        if (m->bus)
                (void) sd_bus_emit_signal(m->bus, BUS_PATH, IFACE_CHAIR, "SafetyEvent", "ss", kind, detail);
}

void bus_emit_scan_finished(Manager *m, bool success, const char *error) {
        if (m->bus)
                (void) sd_bus_emit_signal(m->bus, BUS_PATH, IFACE_CHAIR, "BodyScanFinished", "bds", success,
                                          success ? m->shoulder_mm : 0.0, error ?: "");
}
