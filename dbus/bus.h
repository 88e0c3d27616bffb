/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by the D-Bus adaptors: names, the caller check, and the vtables each adaptor file exports. */
#pragma once

#include <systemd/sd-bus.h>

#include "manager.h"

#define BUS_NAME "org.chaird.Chair1"
#define BUS_PATH "/org/chaird/Chair1"
#define IFACE_CHAIR "org.chaird.Chair1"
#define IFACE_MAINT "org.chaird.Maintenance1"

/* Longest string argument accepted (program ids, techniques, actuator names). */
#define BUS_STRING_MAX 64

typedef enum CallerRole {
        CALLER_UI,   /* chair-ui, chair-tech or root */
        CALLER_TECH, /* chair-tech or root */
} CallerRole;

/* 0 when the sender may act in this role, else sets e (NotPermitted) and returns -EACCES. */
int bus_check_caller(sd_bus_message *msg, CallerRole need, sd_bus_error *e);

/* Reads one string argument and checks its length; sets InvalidArgument. */
int bus_read_string(sd_bus_message *msg, const char **ret, sd_bus_error *e);

extern const sd_bus_vtable chair_vtable[];
extern const sd_bus_vtable maintenance_vtable[];

/* A copy of every slowly changing property as last published. */
typedef struct BusSnapshot {
        ChairState state;
        SafetyMode mode;
        char active_program[BUS_STRING_MAX + 1];
        unsigned intensity;
        bool scanned;
        double shoulder;
        double neck_from, neck_to;
        bool estop;
        char estop_reason[SAFETY_TEXT_MAX];
        bool estop_pressed, interlock, occupied;
        char faults[256];
        char scan_error[96];
        /* fast-changing: compared at most every 100 ms */
        double roller_position, roller_force;
        char roller_zone[32];
        unsigned remaining;
} BusSnapshot;

void bus_snapshot_take(Manager *m, BusSnapshot *ret);
/* "board-lost:airbag", "sensor-fault:…": the Faults property, joined with '\n' into buf. */
void bus_faults_format(Manager *m, char *buf, size_t size);
