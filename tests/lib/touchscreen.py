#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# A small touchscreen-like client for the integration tests: subscribes to PropertiesChanged and
# SafetyEvent, scans, starts a program, watches State and RemainingSeconds, presses EmergencyStop and
# resets — the way the real UI uses org.chaird.Chair1. Prints "ok - ..." lines and exits non-zero on
# the first failed expectation. Every wait is on a signal with a timeout.
import sys

import dbus
import dbus.mainloop.glib
from gi.repository import GLib

dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
bus = dbus.SystemBus()
obj = bus.get_object("org.chaird.Chair1", "/org/chaird/Chair1")
chair = dbus.Interface(obj, "org.chaird.Chair1")
props = dbus.Interface(obj, "org.freedesktop.DBus.Properties")
loop = GLib.MainLoop()

seen = {}          # property -> list of values, in the order PropertiesChanged delivered them
events = []        # (kind, detail)
scans = []         # (success, shoulder, error)
changed_count = [0]


def on_changed(iface, changed, invalidated):
    changed_count[0] += 1
    for k, v in changed.items():
        seen.setdefault(str(k), []).append(v)
    if waiting and waiting[0]():
        loop.quit()


def on_event(kind, detail):
    events.append((str(kind), str(detail)))
    if waiting and waiting[0]():
        loop.quit()


def on_scan(success, shoulder, error):
    scans.append((bool(success), float(shoulder), str(error)))
    if waiting and waiting[0]():
        loop.quit()


props.connect_to_signal("PropertiesChanged", on_changed)
chair.connect_to_signal("SafetyEvent", on_event)
chair.connect_to_signal("BodyScanFinished", on_scan)
waiting = []
failures = 0


def wait_until(cond, timeout, what):
    global failures
    if cond():
        print("ok - " + what, flush=True)
        return True
    waiting[:] = [cond]
    timer = GLib.timeout_add(int(timeout * 1000), loop.quit)
    loop.run()
    GLib.source_remove(timer) if cond() else None
    waiting[:] = []
    if cond():
        print("ok - " + what, flush=True)
        return True
    print("not ok - %s (State=%s)" % (what, props.Get("org.chaird.Chair1", "State")), flush=True)
    failures += 1
    return False


def last(name):
    v = seen.get(name)
    return v[-1] if v else None


def check(cond, what):
    global failures
    print(("ok - " if cond else "not ok - ") + what, flush=True)
    if not cond:
        failures += 1


program = sys.argv[1] if len(sys.argv) > 1 else "quick-10"
check(props.Get("org.chaird.Chair1", "State") == "idle", "starts idle")
ids = [str(p[0]) for p in chair.ListPrograms()]
check(program in ids, "ListPrograms lists %s (%d programs)" % (program, len(ids)))

chair.StartBodyScan()
wait_until(lambda: last("State") == "scanning", 5, "State scanning announced by PropertiesChanged")
wait_until(lambda: scans, 90, "BodyScanFinished signal")
check(scans and scans[0][0], "scan succeeded: shoulders at %.1f mm" % (scans[0][1] if scans else -1))
wait_until(lambda: last("BodyScanned") is not None and bool(last("BodyScanned")), 5, "BodyScanned true")
shoulder = float(props.Get("org.chaird.Chair1", "ShoulderPosition"))
expected = float(sys.argv[2]) if len(sys.argv) > 2 else 180.0
check(abs(shoulder - expected) < 15, "shoulder %.1f within 15 mm of the occupant's %.0f" % (shoulder, expected))
neck = props.Get("org.chaird.Chair1", "NeckZone")
check(neck[0] < shoulder < neck[1] + 20, "NeckZone %.0f-%.0f placed at the shoulders" % (neck[0], neck[1]))

chair.StartProgram(program, dbus.UInt32(5))
wait_until(lambda: last("State") == "running", 5, "State running")
wait_until(lambda: last("ActiveProgram") == program, 5, "ActiveProgram announced")
first = int(props.Get("org.chaird.Chair1", "RemainingSeconds"))
wait_until(lambda: last("RemainingSeconds") is not None and int(last("RemainingSeconds")) <= first - 2, 10,
           "RemainingSeconds counts down (from %d)" % first)
wait_until(lambda: last("RollerPosition") is not None, 5, "RollerPosition changes are published")

chair.EmergencyStop()
wait_until(lambda: last("EStop") is not None and bool(last("EStop")), 5, "EStop true")
wait_until(lambda: any(k == "estop" for k, _ in events), 5, "SafetyEvent estop")
check(props.Get("org.chaird.Chair1", "EStopReason") == "remote", "EStopReason remote")
check(props.Get("org.chaird.Chair1", "ActiveProgram") == "", "program ended by the e-stop")
chair.ResetEmergencyStop()
wait_until(lambda: last("State") == "idle", 5, "idle after reset")
check(props.Get("org.chaird.Chair1", "ActiveProgram") == "", "program not resumed after reset")

# Rate limit: fast properties at most 20 per second (DESIGN §3). Count RollerPosition updates over a run.
positions = len(seen.get("RollerPosition", []))
print("# %d PropertiesChanged signals, %d RollerPosition updates" % (changed_count[0], positions))
sys.exit(1 if failures else 0)
