/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one place that turns a negative errno from manager_*() into an org.chaird.Error.* name. */
#pragma once

#include <systemd/sd-bus.h>

/* Errnos with a chair meaning (manager functions return these). */
#define CHAIR_ERR_ESTOP ESHUTDOWN      /* the emergency stop is latched */
#define CHAIR_ERR_INTERLOCK ENOLCK     /* the untrained-mode key is not engaged */
#define CHAIR_ERR_NOT_OCCUPIED ENXIO   /* nobody sits in the chair */
#define CHAIR_ERR_BUSY EBUSY           /* not in a state that allows it */
#define CHAIR_ERR_NO_PROGRAM ENOENT    /* unknown program id */
#define CHAIR_ERR_NOT_PERMITTED EPERM  /* caller or limit not allowed */

/* Sets *e from r (negative errno) with a message; returns r. */
int bus_error_from_errno(sd_bus_error *e, int r, const char *message);
const char *bus_error_name_from_errno(int r);
