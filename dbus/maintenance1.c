/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.chaird.Maintenance1: the technician's interface (chair-tech and root only). */
#include <math.h>

#include "bus-error.h"
#include "bus.h"
#include "log.h"

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

const sd_bus_vtable maintenance_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_NAMES("Jog", "sd", SD_BUS_PARAM(actuator) SD_BUS_PARAM(target), "", , method_jog,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
