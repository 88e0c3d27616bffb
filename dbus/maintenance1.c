/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.chaird.Maintenance1: the technician's interface (chair-tech and root only; the bus policy filters
 * first, bus_check_caller() again). Each handler reads, validates, authorizes, calls manager_*() and
 * replies; SelfTest() keeps its message and replies from the control cycle when the test is done. */
#include <math.h>
#include <string.h>

#include "bus-error.h"
#include "bus.h"
#include "log.h"
#include "maint.h"

static int method_jog(sd_bus_message *msg, void *userdata, sd_bus_error *e) {
        Manager *m = userdata;
        const char *actuator;
        JogActuator a;
        double target;
        int r;

        r = bus_read_string(msg, &actuator, e);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "d", &target);
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
                return bus_error_from_errno(e, -EINVAL, "Target outside the actuator's travel");
        if (r < 0)
                return bus_error_from_errno(e, r, "Jog refused");
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_get_faults(sd_bus_message *msg, void *userdata, sd_bus_error *e) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const PersistState *p;
        Manager *m = userdata;
        int r;

        r = bus_check_caller(msg, CALLER_TECH, e);
        if (r < 0)
                return r;
        p = manager_persist(m);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(tss)");
        if (r < 0)
                return r;
        for (size_t i = 0; p && i < p->n_faults; i++) {
                r = sd_bus_message_append(reply, "(tss)", p->faults[i].realtime_usec, p->faults[i].code,
                                          p->faults[i].message);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_clear_faults(sd_bus_message *msg, void *userdata, sd_bus_error *e) {
        int r = bus_check_caller(msg, CALLER_TECH, e);
        if (r < 0)
                return r;
        r = manager_clear_faults(userdata);
        if (r < 0)
                return bus_error_from_errno(e, r, "Failed to write the state file");
        return sd_bus_reply_method_return(msg, NULL);
}

static int append_counter(sd_bus_message *reply, const char *name, uint64_t value) {
        return sd_bus_message_append(reply, "{st}", name, value);
}

static int method_get_counters(sd_bus_message *msg, void *userdata, sd_bus_error *e) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        static const PersistState empty = {};
        Manager *m = userdata;
        const PersistState *p;
        int r;

        r = bus_check_caller(msg, CALLER_TECH, e);
        if (r < 0)
                return r;
        p = manager_persist(m) ?: &empty;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "{st}");
        if (r < 0)
                return r;
        r = append_counter(reply, "operating-seconds", p->operating_usec / USEC_PER_SEC);
        if (r >= 0)
                r = append_counter(reply, "sessions", p->sessions);
        if (r >= 0)
                r = append_counter(reply, "estops", p->estops);
        for (size_t i = 0; r >= 0 && i < p->n_estop_kinds; i++) {
                char name[PERSIST_NAME_MAX + 8];
                snprintf(name, sizeof name, "estops.%s", p->estop_kinds[i].name);
                r = append_counter(reply, name, p->estop_kinds[i].value);
        }
        if (r >= 0)
                r = append_counter(reply, "faults-logged", p->n_faults);
        if (r >= 0)
                r = append_counter(reply, "faults-dropped", p->faults_dropped);
        if (r < 0)
                return r;
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_read_registers(sd_bus_message *msg, void *userdata, sd_bus_error *e) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *why = NULL;
        uint16_t values[MAINT_READ_MAX], address, count;
        const char *board, *kind;
        Manager *m = userdata;
        int r;

        r = bus_read_string(msg, &board, e);
        if (r < 0)
                return r;
        r = bus_read_string(msg, &kind, e);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "qq", &address, &count);
        if (r < 0)
                return r;
        r = bus_check_caller(msg, CALLER_TECH, e);
        if (r < 0)
                return r;
        r = manager_read_registers(m, board, kind, address, count, values, &why);
        if (r < 0)
                return bus_error_from_errno(e, r, why ?: "Read failed");
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_append_array(reply, 'q', values, count * sizeof values[0]);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* Called from the control cycle when the self-test ends; userdata holds the kept method call. */
static void selftest_done(Manager *m, const SelfTestRow *rows, size_t n_rows, int error, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = userdata, *reply = NULL;
        int r;

        if (error < 0) {
                (void) sd_bus_reply_method_errorf(msg, bus_error_name_from_errno(error),
                                                  "Self-test did not finish: %s", strerror(-error));
                return;
        }
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sbs)");
        for (size_t i = 0; r >= 0 && i < n_rows; i++)
                r = sd_bus_message_append(reply, "(sbs)", rows[i].name, (int) rows[i].passed, rows[i].detail);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        if (r < 0)
                log_warning_errno(r, "Failed to send the self-test result: %m");
}

static int method_self_test(sd_bus_message *msg, void *userdata, sd_bus_error *e) {
        Manager *m = userdata;
        int r;

        r = bus_check_caller(msg, CALLER_TECH, e);
        if (r < 0)
                return r;
        r = manager_selftest_start(m, selftest_done, msg);
        if (r < 0)
                return bus_error_from_errno(e, r,
                                            r == -CHAIR_ERR_ESTOP ? "Emergency stop latched: reset it first"
                                            : r == -CHAIR_ERR_BUSY ? "The self-test runs only when the chair is idle"
                                                                   : NULL);
        sd_bus_message_ref(msg); /* released by selftest_done() */
        return 1;
}

static int method_get_limits(sd_bus_message *msg, void *userdata, sd_bus_error *e) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        int r;

        r = bus_check_caller(msg, CALLER_TECH, e);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(sdd)");
        if (r < 0)
                return r;
        for (int i = 0; i < _SAFETY_LIMIT_MAX; i++) {
                r = sd_bus_message_append(reply, "(sdd)", safety_limit_to_string(i), safety_limit_get(&m->safety, i),
                                          safety_limit_cap(&m->safety, i));
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_set_limit(sd_bus_message *msg, void *userdata, sd_bus_error *e) {
        Manager *m = userdata;
        const char *name;
        SafetyLimit id;
        double value;
        int r;

        r = bus_read_string(msg, &name, e);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "d", &value);
        if (r < 0)
                return r;
        id = safety_limit_from_string(name);
        if (id < 0)
                return bus_error_from_errno(e, -EINVAL, "name: unknown limit (see GetLimits)");
        if (!isfinite(value) || value <= 0)
                return bus_error_from_errno(e, -EINVAL, "value: must be a finite number above 0");
        r = bus_check_caller(msg, CALLER_TECH, e);
        if (r < 0)
                return r;
        r = manager_set_limit(m, id, value);
        if (r == -EPERM)
                return sd_bus_error_setf(e, "org.chaird.Error.NotPermitted",
                                         "%s may only be lowered: %g is above the OEM cap %g", name, value,
                                         safety_limit_cap(&m->safety, id));
        if (r < 0)
                return bus_error_from_errno(e, r, "Limit refused");
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_reload(sd_bus_message *msg, void *userdata, sd_bus_error *e) {
        Manager *m = userdata;
        int r;

        r = bus_check_caller(msg, CALLER_TECH, e);
        if (r < 0)
                return r;
        if (m->state != CHAIR_IDLE && !chair_state_latched(m->state))
                return bus_error_from_errno(e, -CHAIR_ERR_BUSY, "Reload only while the chair is idle");
        r = manager_reload(m);
        if (r < 0)
                return bus_error_from_errno(e, r == -EBUSY ? -CHAIR_ERR_NOT_PERMITTED : -EINVAL,
                                            m->maint && m->maint->last_reload_error[0] ? m->maint->last_reload_error
                                                                                      : "Reload refused");
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_get_cycle_stats(sd_bus_message *msg, void *userdata, sd_bus_error *e) {
        Manager *m = userdata;
        int r;

        r = bus_check_caller(msg, CALLER_TECH, e);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, "(tttt)", m->stats.cycles, m->stats.late, m->stats.overruns,
                                          (uint64_t) m->stats.max_lateness);
}

static int property_get_track_length(sd_bus *bus, const char *path, const char *interface, const char *property,
                                     sd_bus_message *reply, void *userdata, sd_bus_error *e) {
        Manager *m = userdata;
        return sd_bus_message_append(reply, "d", m->config->limits.track_length_mm);
}

/* The force limit where the roller is now (its zone's limit, lowered limits and mode applied): what
 * chairctl monitor draws the measured force against. Read on demand, not emitted. */
static int property_get_force_limit(sd_bus *bus, const char *path, const char *interface, const char *property,
                                    sd_bus_message *reply, void *userdata, sd_bus_error *e) {
        Manager *m = userdata;
        const char *zone = safety_zone_at(&m->safety, m->in.value[SIGNAL_ROLLER_POSITION]);
        const ZoneConfig *z = zone ? config_zone(m->config, zone) : NULL;
        double limit = safety_limit_get(&m->safety, SAFETY_LIMIT_MAX_FORCE);

        if (z)
                limit = MIN(limit, safety_zone_force_limit(&m->safety, z,
                                                           safety_mode(&m->safety) == SAFETY_MODE_UNTRAINED));
        return sd_bus_message_append(reply, "d", limit);
}

#define METHOD(name, in, in_names, out, out_names, handler) \
        SD_BUS_METHOD_WITH_NAMES(name, in, in_names, out, out_names, handler, SD_BUS_VTABLE_UNPRIVILEGED)

const sd_bus_vtable maintenance_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("TrackLength", "d", property_get_track_length, 0, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
        SD_BUS_PROPERTY("RollerForceLimit", "d", property_get_force_limit, 0, 0),
        METHOD("Jog", "sd", SD_BUS_PARAM(actuator) SD_BUS_PARAM(target), "", , method_jog),
        METHOD("GetFaults", "", , "a(tss)", SD_BUS_PARAM(faults), method_get_faults),
        SD_BUS_METHOD("ClearFaults", "", "", method_clear_faults, SD_BUS_VTABLE_UNPRIVILEGED),
        METHOD("GetCounters", "", , "a{st}", SD_BUS_PARAM(counters), method_get_counters),
        METHOD("ReadRegisters", "ssqq",
               SD_BUS_PARAM(board) SD_BUS_PARAM(kind) SD_BUS_PARAM(address) SD_BUS_PARAM(count), "aq",
               SD_BUS_PARAM(values), method_read_registers),
        METHOD("SelfTest", "", , "a(sbs)", SD_BUS_PARAM(results), method_self_test),
        METHOD("GetLimits", "", , "a(sdd)", SD_BUS_PARAM(limits), method_get_limits),
        METHOD("SetLimit", "sd", SD_BUS_PARAM(name) SD_BUS_PARAM(value), "", , method_set_limit),
        SD_BUS_METHOD("Reload", "", "", method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
        METHOD("GetCycleStats", "", , "(tttt)",
               SD_BUS_PARAM(stats), /* cycles, late, overruns, max lateness µs */
               method_get_cycle_stats),
        SD_BUS_VTABLE_END,
};
