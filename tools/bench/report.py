#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Turns the JSON pieces of one `make bench` run into the table (each figure, its target and the ratio)
# and bench/results.json. The file's layout is a contract (docs/bench.md): format "chaird-bench/1";
# add fields, never rename or remove them without bumping the format.
import argparse
import datetime
import glob
import json
import os
import platform
import subprocess
import sys

FORMAT = "chaird-bench/1"


def load_pieces(folder):
    pieces = {}
    for path in sorted(glob.glob(os.path.join(folder, "*.json"))):
        with open(path) as f:
            try:
                pieces[os.path.basename(path)[:-5]] = json.load(f)
            except ValueError:
                pass
    return pieces


class Table:
    def __init__(self):
        self.metrics = []

    def add(self, mid, figure, value, unit, shown=None, target=None, op=None, note=None):
        """value: the number compared with target (op "<=" or ">="); shown: the text in the table."""
        m = {"id": mid, "figure": figure, "value": value, "unit": unit, "target": target, "op": op,
             "ratio": None, "met": None, "shown": shown if shown is not None else fmt(value, unit)}
        if note:
            m["note"] = note
        if target is not None and value is not None:
            m["ratio"] = round(value / target, 3) if target else None
            m["met"] = value <= target if op == "<=" else value >= target
        self.metrics.append(m)

    def missing(self, mid, figure, why):
        self.metrics.append({"id": mid, "figure": figure, "value": None, "unit": None, "target": None,
                             "op": None, "ratio": None, "met": None, "shown": "—", "note": why})

    def print(self, out=sys.stdout):
        rows = [("figure", "measured", "target", "ratio", "ok")]
        for m in self.metrics:
            target = "%s %s" % (m["op"], fmt(m["target"], m["unit"])) if m["target"] is not None else ""
            ok = "" if m["met"] is None else ("yes" if m["met"] else "NO")
            shown = m["shown"] + ("  (" + m["note"] + ")" if m.get("note") and m["value"] is None else "")
            rows.append((m["figure"], shown, target, "" if m["ratio"] is None else "%.2f" % m["ratio"], ok))
        w = [max(len(r[i]) for r in rows) for i in range(4)]
        for i, r in enumerate(rows):
            cells = (w[0], r[0], w[1], r[1], w[2], r[2], w[3], r[3], r[4])
            print("%-*s  %-*s  %-*s  %*s  %s" % cells, file=out)
            if i == 0:
                print("-" * (sum(w) + 12), file=out)


def fmt(v, unit):
    if v is None:
        return "—"
    if isinstance(v, float):
        v = ("%.3f" % v).rstrip("0").rstrip(".") if abs(v) < 100 else "%.0f" % v
    return "%s %s" % (v, unit) if unit else str(v)


def triple(s, unit="ms"):
    """p50 / p99 / max of a summary, as shown text."""
    return "%s / %s / %s %s (n=%d)" % (s["p50"], s["p99"], s["max"], unit, s["n"])


ESTOPS = (("tcp", "TCP"), ("tcp-fifo", "TCP, FIFO*"), ("rtu115200", "RTU 115200"))


def add_estop(t, p):
    for label, name in ESTOPS:
        e = p.get("estop-" + label)
        if label == "tcp-fifo" and not e:
            continue  # only measured when the shipped unit does not already run chaird SCHED_FIFO
        if not e or not e["relay_cut_ms"]["n"]:
            t.missing("estop.relay_cut." + label, "E-stop → relay off, %s" % name, "not measured")
            continue
        r, m = e["relay_cut_ms"], e["motors_zero_ms"]
        tcp = label == "tcp"
        t.add("estop.relay_cut." + label, "E-stop → relay off, %s, p50/p99/max" % name, r["p99"], "ms",
              triple(r), 1.0 if tcp else None, "<=" if tcp else None)
        t.add("estop.motors_zero." + label, "E-stop → motor outputs zero, %s" % name, m["p99"], "ms",
              triple(m))
    t.missing("estop.relay_cut.vm", "E-stop → relay off, gpio-sim VM", "not measured: the gpio-sim VM (make vm-check) checks the e-stop path, but has no timing hook yet")


def add_force(t, p):
    for mode in ("spike", "ramp"):
        f = p.get("force-" + mode)
        if not f or not f["cycles"]["n"]:
            t.missing("force.%s.cycles" % mode, "Force %s (neck) → lower setpoint" % mode, "not measured")
            continue
        reasons = ", ".join("%s ×%d" % kv for kv in sorted(f["estop_reasons"].items()))
        c = f["cycles"]
        t.add("force.%s.cycles" % mode, "Force %s (neck) → lower setpoint, cycles" % mode, c["max"],
              "cycles", "max %s, p50 %s (n=%d) by %s" % (c["max"], c["p50"], c["n"], reasons), 1, "<=")
        ca = f.get("cycles_after_injection")
        if ca:
            t.add("force.%s.cycles_after" % mode, "Force %s (neck): reads after injection" % mode, ca["max"],
                  "cycles", "max %s, p50 %s (includes the wait for the next read)" % (ca["max"], ca["p50"]))
        t.add("force.%s.ms" % mode, "Force %s (neck) → lower setpoint, p50/p99/max" % mode,
              f["ms"]["max"], "ms", triple(f["ms"]))


LOOPS = (("tcp-100", "TCP 100 Hz"), ("tcp-100-fifo", "TCP 100 Hz FIFO*"), ("tcp-max", "TCP max"),
         ("rtu115200-100", "RTU 115200 100 Hz"), ("rtu115200-max", "RTU 115200 max"),
         ("rtu19200-100", "RTU 19200 100 Hz"), ("rtu19200-max", "RTU 19200 max"))


def add_loop_one(t, label, name, lp):
    latched = lp.get("state_after") == "estop"
    t.add("loop.%s.rate" % label, "Loop %s: achieved rate" % name, lp["achieved_hz"], "Hz",
          "%s of %s Hz%s" % (lp["achieved_hz"], lp["configured_hz"],
                             ", ended latched: %s" % lp.get("estop_reason_after") if latched else ""))
    lat = lp["lateness_ms"]
    tcp100 = label == "tcp-100"
    t.add("loop.%s.lateness" % label, "Loop %s: start lateness p50/p99/max" % name, lat["p99"], "ms",
          triple(lat), 1.0 if tcp100 else None, "<=" if tcp100 else None)
    split = lp.get("lateness_split_ms")
    if split and label.startswith("tcp-100"):
        t.add("loop.%s.lateness_wake" % label, "Loop %s: lateness p99 wake-up + dispatch" % name,
              split["wake"]["p99"], "ms", "%s + %s ms" % (split["wake"]["p99"], split["dispatch"]["p99"]))
    bus = lp["bus_time_per_cycle_ms"]
    t.add("loop.%s.bus_time" % label, "Loop %s: bus time per cycle, p50" % name, bus["p50"], "ms",
          "%s ms, %s requests" % (bus["p50"], lp["requests_per_cycle"]["p50"]))
    if "bus_efficiency" in lp:
        t.add("loop.%s.bus_efficiency" % label, "Loop %s: bus efficiency" % name, lp["bus_efficiency"], "",
              "%s (wire %s ms / bus %s ms)" % (lp["bus_efficiency"], lp["wire_time_per_cycle_ms"]["p50"],
                                               bus["p50"]), 0.8, ">=")


def add_loop(t, p):
    for label, name in LOOPS:
        lp = p.get("loop-" + label)
        if label == "tcp-100-fifo" and not lp:
            continue
        if not lp or "error" in lp:
            t.missing("loop.%s.rate" % label, "Loop %s" % name, (lp or {}).get("error", "not measured"))
            continue
        add_loop_one(t, label, name, lp)


def add_dbus(t, p):
    d = p.get("dbus")
    if not d:
        t.missing("dbus", "D-Bus round trips", "not measured")
        return
    runs = {(r["call"], r["clients"]): r for r in d["runs"]}
    for n in (1, 8):
        rate = {}
        for call in ("get-state", "ping-chaird", "ping-bus"):
            r = runs.get((call, n), {})
            if "rate_per_s" not in r:
                t.missing("dbus.%s.%d" % (call, n), "D-Bus %s ×%d" % (call, n),
                          r.get("error", "not measured"))
                continue
            rate[call] = r["rate_per_s"]
            t.add("dbus.%s.%d" % (call, n), "D-Bus %s ×%d: calls/s (p50/p99)" % (call, n), r["rate_per_s"],
                  "/s", "%.0f /s (%s / %s µs)" % (r["rate_per_s"], r["p50_us"], r["p99_us"]))
        if "get-state" in rate and "ping-chaird" in rate:
            t.add("dbus.get_vs_ping.%d" % n, "D-Bus ×%d: Get / Ping chaird" % n,
                  round(rate["get-state"] / rate["ping-chaird"], 3), "", None, 0.8, ">=")
        if "ping-chaird" in rate and "ping-bus" in rate:
            t.add("dbus.chaird_vs_bus.%d" % n, "D-Bus ×%d: Ping chaird / Ping bus" % n,
                  round(rate["ping-chaird"] / rate["ping-bus"], 3), "")


def add_footprint(t, p):
    for label in ("idle", "running"):
        f = p.get("footprint-" + label)
        if not f:
            t.missing("footprint.%s" % label, "Footprint %s" % label, "not measured")
            continue
        idle = label == "idle"
        t.add("footprint.%s.rss" % label, "RSS, %s" % label, round(f["rss_kib"] / 1024, 2), "MiB",
              "%.2f MiB (PSS %.2f, peak %.2f)" % (f["rss_kib"] / 1024, (f["pss_kib"] or 0) / 1024,
                                                  f["rss_peak_kib"] / 1024), 4.0, "<=")
        t.add("footprint.%s.cpu" % label, "CPU, %s, %% of a core" % label, f["cpu_percent"], "%",
              "%s %%%s" % (f["cpu_percent"], "" if idle else " (%s)" % f["workload"]),
              1.0 if idle else None, "<=" if idle else None)
        t.add("footprint.%s.fds" % label, "Open fds, %s" % label, f["fds"], "")


def add_startup(t, p):
    for label in ("shipped", "programs200"):
        s = p.get("startup-" + label)
        if not s:
            t.missing("startup.%s" % label, "exec → READY=1, %s" % label, "not measured")
            continue
        r = s["ready_ms"]
        t.add("startup.%s.ready" % label, "exec → READY=1, %d programs, p50/max" % s["programs"], r["max"],
              "ms", "%s / %s ms (n=%d)" % (r["p50"], r["max"], r["n"]), 100.0, "<=")
    c = p.get("configload")
    if c:
        cfg, prg = c["config_ms"]["p50"], c["programs_ms"]["p50"]
        t.add("startup.config_load", "Config + %d programs load, in-process" % c["programs"],
              round(cfg + prg, 3), "ms", "%.2f + %.2f ms (%d rejected)" % (cfg, prg, c["rejected"]))


def git_commit(top):
    try:
        return subprocess.run(["git", "-C", top, "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pieces"), ap.add_argument("out")
    ap.add_argument("--seconds", type=int), ap.add_argument("--build")
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    p = load_pieces(a.pieces)
    t = Table()
    for add in (add_estop, add_force, add_loop, add_dbus, add_footprint, add_startup):
        add(t, p)
    t.print()
    print("* FIFO: chaird under SCHED_FIFO 10, as the shipped unit runs it (CPUSchedulingPolicy=fifo; docs/bench.md)")
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    result = {
        "format": FORMAT,
        "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "quick": a.quick,
        "duration_s": a.seconds,
        "host": {"cpus": os.cpu_count(), "kernel": platform.release(), "machine": platform.machine(),
                 "loadavg": list(os.getloadavg())},
        "git_commit": git_commit(top),
        "metrics": t.metrics,
        "raw": p,
    }
    with open(a.out + ".tmp", "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(a.out + ".tmp", a.out)
    missed = [m["id"] for m in t.metrics if m["met"] is False]
    print("\n%d figures, %d with a target, %d targets missed%s" % (
        len(t.metrics), sum(m["target"] is not None for m in t.metrics), len(missed),
        (": " + ", ".join(missed)) if missed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
