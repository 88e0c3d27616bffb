#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# The demo's live line, twice a second, read the way a touchscreen would: chaird's properties over
# the (private) system bus with python3-dbus, plus what the simulated hardware shows (the relay).
import subprocess
import sys
import time

import os

import dbus

sim, run_dir = sys.argv[1], sys.argv[2]
start = float(os.environ.get("DEMO_T0", time.monotonic()))  # CLOCK_MONOTONIC, shared by every process
bus = dbus.SystemBus()
chair = bus.get_object("org.chaird.Chair1", "/org/chaird/Chair1")
props = dbus.Interface(chair, "org.freedesktop.DBus.Properties")

while True:
    try:
        p = props.GetAll("org.chaird.Chair1")
        relay = subprocess.run([sim, "--run-dir", run_dir, "get", "relay"], capture_output=True,
                               text=True).stdout.strip().split("=")[-1]
        neck = p["NeckZone"]
        line = "  [%5.1fs] %-8s roller=%6.1f mm  force=%5.1f N  zone=%-10s (neck %.0f-%.0f)  relay=%s" % (
            time.monotonic() - start, p["State"], p["RollerPosition"], p["RollerForce"],
            p["RollerZone"] or "-", neck[0], neck[1], relay)
        if p["ActiveProgram"]:
            line += "  %s %d:%02d left" % (p["ActiveProgram"], p["RemainingSeconds"] // 60,
                                          p["RemainingSeconds"] % 60)
        if p["EStop"]:
            line += "  estop-reason=%s" % p["EStopReason"]
        print(line, flush=True)
    except dbus.exceptions.DBusException as e:
        print("  (chaird not answering: %s)" % e.get_dbus_name(), flush=True)
    if len(sys.argv) > 3:
        break
    time.sleep(0.5)
