#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Load for the fault matrix: N D-Bus clients, each its own process and bus connection, call chaird's
# methods back to back for a while: property reads, ListPrograms, SetIntensity, the technician's
# read-only calls, and calls that must be refused (unknown program, intensity out of range, a string
# argument over the length limit). Prints one JSON summary; exits 1 when a call got anything but its
# expected answer (a timeout or NoReply is a failure: the daemon stopped answering).
import json
import multiprocessing
import sys
import time

import dbus

NAME, PATH = "org.chaird.Chair1", "/org/chaird/Chair1"
CHAIR, MAINT = "org.chaird.Chair1", "org.chaird.Maintenance1"
PROPS = "org.freedesktop.DBus.Properties"


def calls(obj, n):
    """(callable, expected D-Bus error name or None) for client n."""
    chair = dbus.Interface(obj, CHAIR)
    maint = dbus.Interface(obj, MAINT)
    props = dbus.Interface(obj, PROPS)
    return [
        (lambda: props.GetAll(CHAIR), None),
        (lambda: props.Get(CHAIR, "RollerPosition"), None),
        (lambda: chair.ListPrograms(), None),
        (lambda: chair.SetIntensity(dbus.UInt32(4 + n % 3)), None),
        (lambda: maint.GetCycleStats(), None),
        (lambda: maint.GetLimits(), None),
        (lambda: maint.GetCounters(), None),
        (lambda: chair.StartProgram("no-such-program", dbus.UInt32(3)), "org.chaird.Error.Busy|org.chaird.Error.NoSuchProgram"),
        (lambda: chair.SetIntensity(dbus.UInt32(99)), "org.chaird.Error.InvalidArgument"),
        (lambda: chair.StartProgram("x" * 300, dbus.UInt32(3)), "org.chaird.Error.InvalidArgument|org.chaird.Error.Busy"),
    ]


def client(n, seconds, out):
    bus = dbus.SystemBus(private=True)
    obj = bus.get_object(NAME, PATH, introspect=False)
    table = calls(obj, n)
    done, bad, worst = 0, [], 0.0
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        fn, want = table[i % len(table)]
        i += 1
        t0 = time.monotonic()
        try:
            fn()
            got = None
        except dbus.exceptions.DBusException as e:
            got = e.get_dbus_name()
        worst = max(worst, time.monotonic() - t0)
        done += 1
        if (got is None) != (want is None) or (got is not None and got not in want.split("|")):
            bad.append("call %d: wanted %s, got %s" % (i % len(table), want, got))
    out.put({"client": n, "calls": done, "unexpected": bad[:5], "n_unexpected": len(bad),
             "slowest_ms": round(worst * 1000, 1)})


def main():
    n, seconds = int(sys.argv[1]), float(sys.argv[2])
    out = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=client, args=(i, seconds, out)) for i in range(n)]
    for p in procs:
        p.start()
    results = [out.get(timeout=seconds + 60) for _ in procs]
    for p in procs:
        p.join()
    print(json.dumps({"clients": sorted(results, key=lambda r: r["client"])}))
    sys.exit(1 if any(r["n_unexpected"] for r in results) else 0)


if __name__ == "__main__":
    main()
