/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* D-Bus adaptors for org.chaird.Chair1 and org.chaird.Maintenance1: read, validate, authorize, call
 * manager_*(), reply. No chair logic here. */
#include <grp.h>
#include <math.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "bus-error.h"
#include "log.h"
#include "manager.h"

#define BUS_NAME "org.chaird.Chair1"
#define BUS_PATH "/org/chaird/Chair1"
#define IFACE_CHAIR "org.chaird.Chair1"
#define IFACE_MAINT "org.chaird.Maintenance1"

/* Fast-changing properties are published at most this often (DESIGN §3: ≤ 20 Hz). */
#define FAST_PROPERTY_INTERVAL_USEC (100 * USEC_PER_MSEC)

typedef enum CallerRole {
        CALLER_UI,   /* group chair-ui */
        CALLER_TECH, /* group chair-tech */
} CallerRole;

/* Defence in depth: the bus policy already filters, but a mis-installed policy must not open the
 * chair to everyone. root may do everything; chair-tech both interfaces; chair-ui Chair1 only. */
static int bus_check_caller(sd_bus_message *msg, CallerRole need, sd_bus_error *e) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        const gid_t *gids = NULL;
        uid_t uid;
        gid_t gid;
        int n, r;

        r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID | SD_BUS_CREDS_EGID |
                                                   SD_BUS_CREDS_SUPPLEMENTARY_GIDS | SD_BUS_CREDS_AUGMENT,
                                      &creds);
        if (r < 0)
                return bus_error_from_errno(e, -EACCES, "Cannot determine the caller's credentials");
        r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0)
                return bus_error_from_errno(e, -EACCES, "Cannot determine the caller's user");
        if (uid == 0)
                return 0;

        const char *const groups[] = { need == CALLER_UI ? "chair-ui" : "chair-tech", "chair-tech" };
        n = sd_bus_creds_get_supplementary_gids(creds, &gids);
        for (size_t g = 0; g < ELEMENTSOF(groups); g++) {
                struct group *gr = getgrnam(groups[g]);
                if (!gr)
                        continue;
                if (sd_bus_creds_get_egid(creds, &gid) >= 0 && gid == gr->gr_gid)
                        return 0;
                for (int i = 0; i < n; i++)
                        if (gids[i] == gr->gr_gid)
                                return 0;
        }
        return bus_error_from_errno(e, -EACCES, "Caller is not permitted to do this");
}

static int property_get_state(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *e) {
        Manager *m = userdata;
        return sd_bus_message_append(reply, "s", chair_state_to_string(m->state));
}

static int property_get_estop(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *e) {
        Manager *m = userdata;
        return sd_bus_message_append(reply, "b", safety_latched(&m->safety));
}

static int property_get_estop_reason(sd_bus *bus, const char *path, const char *interface,
                                     const char *property, sd_bus_message *reply, void *userdata,
                                     sd_bus_error *e) {
        Manager *m = userdata;
        const char *s = "";
        if (safety_latched(&m->safety))
                s = safety_estop_text(&m->safety);
        return sd_bus_message_append(reply, "s", s);
}

static int property_get_signal(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *e) {
        Manager *m = userdata;
        SignalId id = streq(property, "RollerPosition") ? SIGNAL_ROLLER_POSITION : SIGNAL_ROLLER_FORCE;
        return sd_bus_message_append(reply, "d", m->in.value[id]);
}

static int property_get_roller_zone(sd_bus *bus, const char *path, const char *interface,
                                    const char *property, sd_bus_message *reply, void *userdata,
                                    sd_bus_error *e) {
        Manager *m = userdata;
        return sd_bus_message_append(reply, "s",
                                     safety_zone_at(&m->safety, m->in.value[SIGNAL_ROLLER_POSITION]) ?: "");
}

static int property_get_neck_zone(sd_bus *bus, const char *path, const char *interface,
                                  const char *property, sd_bus_message *reply, void *userdata,
                                  sd_bus_error *e) {
        Manager *m = userdata;
        const SafetyZone *z = safety_neck_zone(&m->safety);
        return sd_bus_message_append(reply, "(dd)", z->from_mm, z->to_mm);
}

static int property_get_line(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *e) {
        Manager *m = userdata;
        LineId id = streq(property, "InterlockEngaged") ? LINE_INTERLOCK
                    : streq(property, "EStopPressed")   ? LINE_ESTOP
                                                        : LINE_SEAT;
        return sd_bus_message_append(reply, "b", m->in.line[id]);
}

static int method_emergency_stop(sd_bus_message *msg, void *userdata, sd_bus_error *e) {
        Manager *m = userdata;
        int r;

        /* Open to every caller the policy lets through: stopping is never refused. */
        log_info("Emergency stop requested over D-Bus by %s.", sd_bus_message_get_sender(msg) ?: "?");
        r = manager_emergency_stop(m, SAFETY_STOP_REMOTE, NULL);
        if (r < 0)
                return bus_error_from_errno(e, r, "Emergency stop failed");
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_reset_emergency_stop(sd_bus_message *msg, void *userdata, sd_bus_error *e) {
        _cleanup_free_ char *why = NULL;
        Manager *m = userdata;
        int r;

        r = bus_check_caller(msg, CALLER_UI, e);
        if (r < 0)
                return r;
        r = manager_reset_emergency_stop(m, &why);
        if (r < 0)
                return bus_error_from_errno(e, r, why);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_jog(sd_bus_message *msg, void *userdata, sd_bus_error *e) {
        Manager *m = userdata;
        const char *actuator;
        JogActuator a;
        double target;
        int r;

        r = sd_bus_message_read(msg, "sd", &actuator, &target);
        if (r < 0)
                return r;
        a = jog_actuator_from_string(actuator);
        if (a < 0)
                return bus_error_from_errno(e, -EINVAL, "Unknown actuator (roller, recline)");
        if (!isfinite(target))
                return bus_error_from_errno(e, -EINVAL, "Target must be a finite number");
        r = bus_check_caller(msg, CALLER_TECH, e);
        if (r < 0)
                return r;
        r = manager_jog(m, a, target);
        if (r == -ERANGE)
                return bus_error_from_errno(e, r, "Target outside the actuator's travel");
        if (r < 0)
                return bus_error_from_errno(e, r, "Jog refused");
        return sd_bus_reply_method_return(msg, NULL);
}

static const sd_bus_vtable chair_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("State", "s", property_get_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("EStop", "b", property_get_estop, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("EStopReason", "s", property_get_estop_reason, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("RollerPosition", "d", property_get_signal, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("RollerForce", "d", property_get_signal, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("RollerZone", "s", property_get_roller_zone, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("NeckZone", "(dd)", property_get_neck_zone, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("EStopPressed", "b", property_get_line, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("InterlockEngaged", "b", property_get_line, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Occupied", "b", property_get_line, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD("EmergencyStop", "", "", method_emergency_stop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("ResetEmergencyStop", "", "", method_reset_emergency_stop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL("SafetyEvent", "ss", 0),
        SD_BUS_VTABLE_END,
};

static const sd_bus_vtable maintenance_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Jog", "sd", "", method_jog, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int bus_setup(Manager *m) {
        int r;

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

void bus_emit_changes(Manager *m, usec_t now) {
        bool estop = safety_latched(&m->safety);

        if (!m->bus)
                return;
        if (m->state != m->published_state || estop != m->published_estop) {
                (void) sd_bus_emit_properties_changed(m->bus, BUS_PATH, IFACE_CHAIR, "State", "EStop",
                                                      "EStopReason", NULL);
                m->published_state = m->state;
                m->published_estop = estop;
        }
        if (now - m->last_published >= FAST_PROPERTY_INTERVAL_USEC) {
                (void) sd_bus_emit_properties_changed(m->bus, BUS_PATH, IFACE_CHAIR, "RollerPosition",
                                                      "RollerForce", "RollerZone", NULL);
                m->last_published = now;
        }
}

void bus_emit_safety_event(Manager *m, const char *kind, const char *detail) {
        if (m->bus)
                (void) sd_bus_emit_signal(m->bus, BUS_PATH, IFACE_CHAIR, "SafetyEvent", "ss", kind, detail);
}
