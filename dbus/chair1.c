/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.chaird.Chair1: the touchscreen's interface (dbus/org.chaird.Chair1.xml). Each handler reads,
 * validates, authorizes, calls manager_*() and replies; refusals map through bus-error.c. */
#include <math.h>
#include <string.h>

#include "bus-error.h"
#include "bus.h"
#include "log.h"

#define PROPERTY_GETTER(name)                                                                       \
        static int name(sd_bus *bus, const char *path, const char *interface, const char *property, \
                        sd_bus_message *reply, void *userdata, sd_bus_error *e)

PROPERTY_GETTER(property_get_state) {
        Manager *m = userdata;
        return sd_bus_message_append(reply, "s", chair_state_to_string(m->state));
}

PROPERTY_GETTER(property_get_mode) {
        Manager *m = userdata;
        return sd_bus_message_append(reply, "s", safety_mode_to_string(safety_mode(&m->safety)));
}

PROPERTY_GETTER(property_get_active_program) {
        Manager *m = userdata;
        return sd_bus_message_append(reply, "s", m->program ? m->program->id : "");
}

PROPERTY_GETTER(property_get_intensity) {
        Manager *m = userdata;
        return sd_bus_message_append(reply, "u", m->intensity);
}

PROPERTY_GETTER(property_get_remaining) {
        Manager *m = userdata;
        return sd_bus_message_append(reply, "u", manager_remaining_seconds(m, mono_usec()));
}

PROPERTY_GETTER(property_get_body_scanned) {
        Manager *m = userdata;
        return sd_bus_message_append(reply, "b", m->scanned);
}

PROPERTY_GETTER(property_get_shoulder) {
        Manager *m = userdata;
        return sd_bus_message_append(reply, "d", m->scanned ? m->shoulder_mm : 0.0);
}

PROPERTY_GETTER(property_get_scan_error) {
        Manager *m = userdata;
        return sd_bus_message_append(reply, "s", m->scan_error);
}

PROPERTY_GETTER(property_get_neck_zone) {
        Manager *m = userdata;
        const SafetyZone *z = safety_neck_zone(&m->safety);
        return sd_bus_message_append(reply, "(dd)", z->from_mm, z->to_mm);
}

PROPERTY_GETTER(property_get_signal) {
        Manager *m = userdata;
        SignalId id = streq(property, "RollerPosition") ? SIGNAL_ROLLER_POSITION : SIGNAL_ROLLER_FORCE;
        return sd_bus_message_append(reply, "d", m->in.value[id]);
}

PROPERTY_GETTER(property_get_roller_zone) {
        Manager *m = userdata;
        return sd_bus_message_append(reply, "s",
                                     safety_zone_at(&m->safety, m->in.value[SIGNAL_ROLLER_POSITION]) ?: "");
}

PROPERTY_GETTER(property_get_estop) {
        Manager *m = userdata;
        return sd_bus_message_append(reply, "b", safety_latched(&m->safety));
}

PROPERTY_GETTER(property_get_estop_reason) {
        Manager *m = userdata;
        return sd_bus_message_append(reply, "s", safety_latched(&m->safety) ? safety_estop_text(&m->safety) : "");
}

PROPERTY_GETTER(property_get_line) {
        Manager *m = userdata;
        LineId id = streq(property, "InterlockEngaged") ? LINE_INTERLOCK
                    : streq(property, "EStopPressed")   ? LINE_ESTOP
                                                        : LINE_SEAT;
        return sd_bus_message_append(reply, "b", m->in.line[id]);
}

PROPERTY_GETTER(property_get_faults) {
        Manager *m = userdata;
        char buf[256], *save = NULL;
        int r;

        bus_faults_format(m, buf, sizeof buf);
        r = sd_bus_message_open_container(reply, 'a', "s");
        if (r < 0)
                return r;
        for (char *f = strtok_r(buf, "\n", &save); f; f = strtok_r(NULL, "\n", &save)) {
                r = sd_bus_message_append(reply, "s", f);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int reply_or_error(sd_bus_message *msg, sd_bus_error *e, int r, const char *why, const char *fallback) {
        if (r < 0)
                return bus_error_from_errno(e, r, why ?: fallback);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_list_programs(sd_bus_message *msg, void *userdata, sd_bus_error *e) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        int r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(sssu)");
        if (r < 0)
                return r;
        for (size_t i = 0; m->programs && i < m->programs->n_programs; i++) {
                const Program *p = m->programs->programs[i];
                r = sd_bus_message_append(reply, "(sssu)", p->id, p->name ?: p->id, p->description ?: "",
                                          p->total_seconds);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_start_program(sd_bus_message *msg, void *userdata, sd_bus_error *e) {
        _cleanup_free_ char *why = NULL;
        Manager *m = userdata;
        const char *id;
        uint32_t intensity;
        int r;

        r = bus_read_string(msg, &id, e);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "u", &intensity);
        if (r < 0)
                return r;
        r = bus_check_caller(msg, CALLER_UI, e);
        if (r < 0)
                return r;
        r = manager_start_program(m, id, intensity, &why);
        return reply_or_error(msg, e, r, why, "Program refused");
}

/* Pause, Resume, Stop, LeaveUntrainedMode: no arguments, no reason text. */
static int method_simple(sd_bus_message *msg, void *userdata, sd_bus_error *e) {
        const char *member = sd_bus_message_get_member(msg);
        Manager *m = userdata;
        int r;

        r = bus_check_caller(msg, CALLER_UI, e);
        if (r < 0)
                return r;
        if (streq(member, "Pause"))
                r = manager_pause(m);
        else if (streq(member, "Resume"))
                r = manager_resume(m);
        else if (streq(member, "Stop"))
                r = manager_stop(m);
        else
                r = manager_leave_untrained(m);
        return reply_or_error(msg, e, r, NULL,
                              r == -CHAIR_ERR_BUSY ? "Not possible in the chair's current state" : NULL);
}

/* StartBodyScan, EnterUntrainedMode, ResetEmergencyStop: no arguments; a refusal says why. */
static const struct {
        const char *member;
        int (*verb)(Manager *m, char **ret_why);
        const char *refused;
} why_verbs[] = {
        { "StartBodyScan", manager_start_scan, "Body scan refused" },
        { "EnterUntrainedMode", manager_enter_untrained, "Untrained mode refused" },
        { "ResetEmergencyStop", manager_reset_emergency_stop, "Reset refused" },
};

static int method_with_reason(sd_bus_message *msg, void *userdata, sd_bus_error *e) {
        const char *member = sd_bus_message_get_member(msg);
        _cleanup_free_ char *why = NULL;
        Manager *m = userdata;
        int r;

        r = bus_check_caller(msg, CALLER_UI, e);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(why_verbs); i++)
                if (streq(member, why_verbs[i].member)) {
                        r = why_verbs[i].verb(m, &why);
                        return reply_or_error(msg, e, r, why, why_verbs[i].refused);
                }
        return bus_error_from_errno(e, -EINVAL, "Unknown method");
}

static int method_set_intensity(sd_bus_message *msg, void *userdata, sd_bus_error *e) {
        _cleanup_free_ char *why = NULL;
        Manager *m = userdata;
        uint32_t intensity;
        int r;

        r = sd_bus_message_read(msg, "u", &intensity);
        if (r < 0)
                return r;
        r = bus_check_caller(msg, CALLER_UI, e);
        if (r < 0)
                return r;
        r = manager_set_intensity(m, intensity, &why);
        return reply_or_error(msg, e, r, why, "Intensity refused");
}

static int method_manual_control(sd_bus_message *msg, void *userdata, sd_bus_error *e) {
        _cleanup_free_ char *why = NULL;
        Manager *m = userdata;
        const char *technique;
        uint32_t intensity;
        double position;
        int r;

        r = sd_bus_message_read(msg, "d", &position);
        if (r < 0)
                return r;
        r = bus_read_string(msg, &technique, e);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "u", &intensity);
        if (r < 0)
                return r;
        r = bus_check_caller(msg, CALLER_UI, e);
        if (r < 0)
                return r;
        r = manager_manual_control(m, position, technique, intensity, &why);
        return reply_or_error(msg, e, r, why, "Manual control refused");
}

static int method_emergency_stop(sd_bus_message *msg, void *userdata, sd_bus_error *e) {
        Manager *m = userdata;
        int r;

        /* Open to every caller the policy lets through: stopping is never refused. */
        log_info("Emergency stop requested over D-Bus by %s.", sd_bus_message_get_sender(msg) ?: "?");
        r = manager_emergency_stop(m, SAFETY_STOP_REMOTE, NULL);
        return reply_or_error(msg, e, r, NULL, "Emergency stop failed");
}

#define PROP(name, sig, getter) SD_BUS_PROPERTY(name, sig, getter, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE)

const sd_bus_vtable chair_vtable[] = {
        SD_BUS_VTABLE_START(0),
        PROP("State", "s", property_get_state),
        PROP("Mode", "s", property_get_mode),
        PROP("ActiveProgram", "s", property_get_active_program),
        PROP("Intensity", "u", property_get_intensity),
        PROP("RemainingSeconds", "u", property_get_remaining),
        PROP("BodyScanned", "b", property_get_body_scanned),
        PROP("ShoulderPosition", "d", property_get_shoulder),
        PROP("LastScanError", "s", property_get_scan_error),
        PROP("NeckZone", "(dd)", property_get_neck_zone),
        PROP("RollerPosition", "d", property_get_signal),
        PROP("RollerForce", "d", property_get_signal),
        PROP("RollerZone", "s", property_get_roller_zone),
        PROP("EStop", "b", property_get_estop),
        PROP("EStopReason", "s", property_get_estop_reason),
        PROP("EStopPressed", "b", property_get_line),
        PROP("InterlockEngaged", "b", property_get_line),
        PROP("Occupied", "b", property_get_line),
        PROP("Faults", "as", property_get_faults),
        SD_BUS_METHOD_WITH_NAMES("ListPrograms", "", , "a(sssu)", SD_BUS_PARAM(programs), method_list_programs,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("StartProgram", "su", SD_BUS_PARAM(id) SD_BUS_PARAM(intensity), "", ,
                                 method_start_program, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Pause", "", "", method_simple, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Resume", "", "", method_simple, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Stop", "", "", method_simple, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("SetIntensity", "u", SD_BUS_PARAM(intensity), "", , method_set_intensity,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("StartBodyScan", "", "", method_with_reason, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("EnterUntrainedMode", "", "", method_with_reason, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("LeaveUntrainedMode", "", "", method_simple, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ManualControl", "dsu",
                                 SD_BUS_PARAM(position) SD_BUS_PARAM(technique) SD_BUS_PARAM(intensity), "", ,
                                 method_manual_control, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("EmergencyStop", "", "", method_emergency_stop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("ResetEmergencyStop", "", "", method_with_reason, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_NAMES("SafetyEvent", "ss", SD_BUS_PARAM(kind) SD_BUS_PARAM(detail), 0),
        SD_BUS_SIGNAL_WITH_NAMES("BodyScanFinished", "bds",
                                 SD_BUS_PARAM(success) SD_BUS_PARAM(shoulder) SD_BUS_PARAM(error), 0),
        SD_BUS_VTABLE_END,
};
