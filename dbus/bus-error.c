/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* errno → org.chaird.Error.* (DESIGN §3). One table so every method reports the same condition the
 * same way; the touchscreen switches on these names. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus-error.h"
#include "macro.h"

static const struct {
        int error;
        const char *name;
} error_table[] = {
        { CHAIR_ERR_ESTOP, "org.chaird.Error.EmergencyStop" },
        { CHAIR_ERR_INTERLOCK, "org.chaird.Error.Interlock" },
        { CHAIR_ERR_NOT_OCCUPIED, "org.chaird.Error.NotOccupied" },
        { CHAIR_ERR_BUSY, "org.chaird.Error.Busy" },
        { CHAIR_ERR_NO_PROGRAM, "org.chaird.Error.NoSuchProgram" },
        { CHAIR_ERR_NOT_PERMITTED, "org.chaird.Error.NotPermitted" },
        { EACCES, "org.chaird.Error.NotPermitted" },
        { EINVAL, "org.chaird.Error.InvalidArgument" },
        { ERANGE, "org.chaird.Error.InvalidArgument" },
        { EIO, "org.chaird.Error.Hardware" },
        { ETIMEDOUT, "org.chaird.Error.Hardware" },
        { EPROTO, "org.chaird.Error.Hardware" },
        { ENOTCONN, "org.chaird.Error.Hardware" },
};

const char *bus_error_name_from_errno(int r) {
        for (size_t i = 0; i < ELEMENTSOF(error_table); i++)
                if (error_table[i].error == abs(r))
                        return error_table[i].name;
        return "org.chaird.Error.Failed";
}

int bus_error_from_errno(sd_bus_error *e, int r, const char *message) {
        if (r >= 0)
                r = -EIO;
        (void) sd_bus_error_setf(e, bus_error_name_from_errno(r), "%s", message ?: strerror(-r));
        return r;
}
