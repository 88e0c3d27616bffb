#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# The measurements of `make bench` (tools/bench.sh starts and stops the parts; this drives and measures
# them): e-stop latency, force-limit reaction, control-loop timing, D-Bus round trips, footprint and
# start-up. Each subcommand writes one JSON piece; report.py turns the pieces into the table and
# bench/results.json. Every wait is on a condition with a timeout; latencies come from timestamps.
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import looptrace  # noqa: E402
from common import (IFACE_CHAIR, BenchError, Chair, Ctl, mono_ns, summary, wait_until,  # noqa: E402
                    write_piece)

JOG_FAR = (120.0, 560.0)  # two targets well apart: a jog between them runs for seconds


def other_target(pos, targets=JOG_FAR):
    return targets[1] if abs(pos - targets[0]) < abs(pos - targets[1]) else targets[0]


def start_moving(chair, ctl, targets=JOG_FAR):
    """Starts a jog away from where the roller is and waits until the board has the enable. A jog left
    from an earlier measurement ends first (a jog cannot be cancelled but by a stop)."""
    wait_until("State idle", lambda: str(chair.prop("State")) == "idle", 15, poll_s=0.01)
    err = chair.jog(other_target(ctl.num("roller.position"), targets))
    if err:
        raise BenchError("Jog refused: " + err)
    ctl.wait("roller.enable==1", lambda v: v["roller.enable"] == 1, ["roller.enable"], 5)


def recover(chair, ctl, button):
    """Releases the button and resets the latch; returns when the relay is closed again. After a button
    press chaird must have seen it in a control cycle first (EStopPressed true): a reset evaluated on the
    cycle before the press is accepted and the next cycle latches again (see docs/bench.md)."""
    if button:
        wait_until("EStopPressed true", lambda: bool(chair.prop("EStopPressed")), 2)
    ctl.cmd("estop release")
    chair.reset_estop()
    ctl.wait("relay==1", lambda v: v["relay"] == 1, ["relay"], 5)
    wait_until("State idle", lambda: str(chair.prop("State")) == "idle", 5)


# ---- 1. e-stop latency -------------------------------------------------------------------------------

def cmd_estop(a):
    ctl, chair = Ctl(a.run_dir), Chair()
    relay, motors, failures = [], [], []
    t0 = time.monotonic()
    for i in range(a.count):
        try:
            start_moving(chair, ctl)
            press_ns = int(ctl.batch("estop press", "get t.estop_press_ns")[1][0].split("=")[1])
            v = ctl.wait("relay cut and motors zero after the press",
                         lambda v: v["t.relay_off_ns"] >= press_ns and v["t.motors_zero_ns"] >= press_ns,
                         ["t.relay_off_ns", "t.motors_zero_ns"], 2)
            relay.append(v["t.relay_off_ns"] - press_ns)
            motors.append(v["t.motors_zero_ns"] - press_ns)
            recover(chair, ctl, True)
        except BenchError as e:
            failures.append("press %d: %s" % (i + 1, e))
            if len(failures) > 5:
                break
            ctl.cmd("estop release")
            chair.reset_estop()
    write_piece(a.out, "estop-" + a.label, {
        "label": a.label, "presses": len(relay), "failures": failures,
        "seconds": round(time.monotonic() - t0, 1),
        "relay_cut_ms": summary(relay, 1e-6, 4), "motors_zero_ms": summary(motors, 1e-6, 4)})


# ---- 2. force-limit reaction -------------------------------------------------------------------------

def inject(ctl, a):
    """spike: one step of a.spike N (faster than ForceMaxRateNPerS allows, so plausibility may act first).
    ramp: offsets rising by a.step N with at least one control cycle between steps (8 N in ≥ 10 ms: well
    under the 2000 N/s of the example config even after a late cycle) up to a.spike: the hard limit acts.
    Returns the stamp taken just before the last step, in the same write as it: an upper bound of the
    reaction time."""
    if a.mode == "spike":
        return int(ctl.batch("get t.now_ns", "sensor roller.force spike %g" % a.spike)[0][0].split("=")[1])
    offset = 0.0
    while True:
        offset = min(offset + a.step, a.spike)
        reqs = ctl.num("board.roller.requests")
        t = int(ctl.batch("get t.now_ns", "sensor roller.force offset %g" % offset)[0][0].split("=")[1])
        # a read and a write of the roller board answered after the step: the daemon has acted on it
        ctl.wait("a control cycle after the step", lambda v: v["board.roller.requests"] >= reqs + 3,
                 ["board.roller.requests"], 2)
        if offset >= a.spike or ctl.num("relay") == 0:
            return t


def cmd_force(a):
    ctl, chair = Ctl(a.run_dir), Chair()
    lo, hi = (float(x) for x in chair.prop("NeckZone"))
    # two points inside the neck zone (conservative one without a body scan), so the jog works there
    targets = (lo + 0.25 * (hi - lo), lo + 0.75 * (hi - lo))
    samples, reasons, failures = [], {}, []
    for i in range(a.count):
        try:
            start_moving(chair, ctl, targets)
            ctl.wait("roller moving in the neck zone",
                     lambda v: v["roller.speed"] != 0 and lo < v["roller.position"] < hi,
                     ["roller.speed", "roller.position"], 5)
            t_inject = inject(ctl, a)
            ctl.wait("relay cut", lambda v: v["relay"] == 0, ["relay"], 2)
            ctl.cmd("sensor roller.force normal")
            recs, _ = looptrace.read_trace(a.trace)
            # the register holds 0.1 N ([Signal roller.force] Scale=0.1)
            r = looptrace.force_reaction(recs, t_inject, (a.spike if a.mode == "spike" else a.step) * 10)
            if r is None:
                raise BenchError("no lowered force setpoint on the bus after the injection")
            if r["cycles"] is None:
                raise BenchError("no roller read reported the injected force before the lowered setpoint")
            samples.append(r)
            reason = str(chair.prop("EStopReason")).split(" ")[0]  # the rule, without the measured value
            reasons[reason] = reasons.get(reason, 0) + 1
            recover(chair, ctl, False)
        except BenchError as e:
            failures.append("%s %d: %s" % (a.mode, i + 1, e))
            ctl.cmd("sensor roller.force normal")
            if len(failures) > 3:
                break
            ctl.cmd("estop release")
            chair.reset_estop()
    write_piece(a.out, "force-" + a.mode, {
        "mode": a.mode, "injections": len(samples), "force_n": a.spike, "neck_zone_mm": [lo, hi],
        "rate_hz": a.rate, "estop_reasons": reasons, "failures": failures,
        "cycles": summary([s["cycles"] for s in samples], 1, 0),
        "cycles_after_injection": summary([s["cycles_after_injection"] for s in samples], 1, 0),
        "ms": summary([s["ms"] for s in samples], 1, 3),
        "setpoint_after_raw": sorted({s["setpoint_after"] for s in samples})})


# ---- 3. control loop ---------------------------------------------------------------------------------

def keep_moving(chair, ctl, seconds):
    """The workload of a running chair for the window: a new jog whenever the last one ended."""
    end = time.monotonic() + seconds
    jogs = 0
    while time.monotonic() < end:
        if str(chair.prop("State")) == "idle" and not chair.jog(other_target(ctl.num("roller.position"))):
            jogs += 1
        time.sleep(0.05)  # pacing of the workload, not a wait for a condition
    return jogs


def cmd_loop(a):
    ctl, chair = Ctl(a.run_dir), Chair()
    t_from = mono_ns()
    jogs = keep_moving(chair, ctl, a.seconds)
    t_to = mono_ns()
    recs, overflow = looptrace.read_trace(a.trace)
    fig = looptrace.loop_figures(recs, t_from, t_to, a.rate, a.baud)
    fig.update({"label": a.label, "transport": a.transport, "jogs": jogs, "trace_overflow": overflow,
                "state_after": str(chair.prop("State")),
                "estop_reason_after": str(chair.prop("EStopReason"))})
    write_piece(a.out, "loop-" + a.label, fig)


# ---- 4. D-Bus ----------------------------------------------------------------------------------------

def cmd_dbus(a):
    """Rounds of short runs, the calls interleaved, so a burst of load elsewhere on the machine hits every
    call alike; each figure is the median round."""
    runs = []
    for clients in (1, 8):
        rounds = {}
        for _ in range(a.rounds):
            for call in ("get-state", "ping-chaird", "ping-bus"):
                p = subprocess.run([a.loader, call, str(clients), str(a.seconds / a.rounds)],
                                   capture_output=True, text=True)
                if p.returncode != 0:
                    raise BenchError("dbus-load %s %d: %s" % (call, clients, p.stderr.strip()[-300:]))
                rounds.setdefault(call, []).append(json.loads(p.stdout))
        for call, rs in rounds.items():
            med = sorted(rs, key=lambda r: r["rate_per_s"])[len(rs) // 2]
            med["rounds_rate_per_s"] = [r["rate_per_s"] for r in rs]
            runs.append(med)
    write_piece(a.out, "dbus", {"runs": runs, "rounds": a.rounds})


# ---- 5. footprint ------------------------------------------------------------------------------------

def proc_cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime (fields 14, 15)


def proc_status(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])  # kB
    return None


def proc_pss_kb(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def start_program(chair, ctl):
    """A real program once chaird offers StartProgram (body scan first when it asks for one), else None."""
    if not chair.has_method("StartProgram"):
        return None
    programs = [str(p[0]) for p in chair.call(IFACE_CHAIR, "ListPrograms")]
    if not programs:
        return None
    pid = "quick-10" if "quick-10" in programs else programs[0]
    err = chair.try_call(IFACE_CHAIR, "StartProgram", pid, 5, signature="su")
    if err and chair.has_method("StartBodyScan"):
        if chair.try_call(IFACE_CHAIR, "StartBodyScan") is None:
            wait_until("body scan done", lambda: str(chair.prop("State")) == "idle", 60, poll_s=0.05)
            err = chair.try_call(IFACE_CHAIR, "StartProgram", pid, 5, signature="su")
    if err:
        return "StartProgram(%s) refused: %s" % (pid, err)
    wait_until("State running", lambda: str(chair.prop("State")) == "running", 5)
    return "program " + pid


def cmd_footprint(a):
    ctl, chair = Ctl(a.run_dir), Chair()
    workload, program = "idle", False
    if a.running:
        workload = start_program(chair, ctl)
        program = bool(workload) and workload.startswith("program ")
        if not program:
            workload = "jog sequence (%s)" % (workload or "StartProgram not offered yet")
    tck = os.sysconf("SC_CLK_TCK")
    c0, t0 = proc_cpu_ticks(a.pid), time.monotonic()
    if a.running and not program:
        keep_moving(chair, ctl, a.seconds)
    else:
        time.sleep(a.seconds)  # the measurement window itself
    c1, t1 = proc_cpu_ticks(a.pid), time.monotonic()
    state = str(chair.prop("State"))
    if program:
        chair.try_call(IFACE_CHAIR, "Stop")
    write_piece(a.out, "footprint-" + a.label, {
        "label": a.label, "workload": workload, "state_at_end": state, "seconds": round(t1 - t0, 2),
        "cpu_percent": round(100.0 * (c1 - c0) / tck / (t1 - t0), 3),
        "rss_kib": proc_status(a.pid, "VmRSS"), "rss_peak_kib": proc_status(a.pid, "VmHWM"),
        "pss_kib": proc_pss_kb(a.pid), "fds": len(os.listdir("/proc/%d/fd" % a.pid)),
        "threads": proc_status(a.pid, "Threads")})


# ---- 6. start-up -------------------------------------------------------------------------------------

def start_once(a, sock_path, log):
    """exec → READY=1 of one chaird start; SIGTERM and wait afterwards."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if os.path.exists(sock_path):
        os.unlink(sock_path)
    s.bind(sock_path)
    s.settimeout(10)
    rd, wr = os.pipe()

    def stamp():  # in the child, right before exec
        os.write(wr, str(time.monotonic_ns()).encode())
    env = dict(os.environ, NOTIFY_SOCKET=sock_path)
    p = subprocess.Popen([a.chaird, "--root", a.root], env=env, stdout=log, stderr=log,
                         preexec_fn=stamp, pass_fds=(wr,))
    os.close(wr)
    t_exec = int(os.read(rd, 64))
    os.close(rd)
    try:
        while True:
            data = s.recv(4096)
            t = time.monotonic_ns()
            if b"READY=1" in data.split(b"\n"):
                return (t - t_exec) / 1e6
    except socket.timeout:
        raise BenchError("no READY=1 within 10 s")
    finally:
        s.close()
        p.send_signal(signal.SIGTERM)
        p.wait(10)


def cmd_startup(a):
    times = []
    with open(a.log, "ab") as log:
        for _ in range(a.count):
            times.append(start_once(a, a.socket, log))
    write_piece(a.out, "startup-" + a.label, {"label": a.label, "programs": a.programs,
                                              "ready_ms": summary(times, 1, 2)})


def main():
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("estop")
    s.add_argument("run_dir"), s.add_argument("out"), s.add_argument("--count", type=int, default=200)
    s.add_argument("--label", default="tcp")
    s = sub.add_parser("force")
    s.add_argument("run_dir"), s.add_argument("trace"), s.add_argument("out")
    s.add_argument("--count", type=int, default=20), s.add_argument("--rate", type=float, default=100)
    s.add_argument("--spike", type=float, default=100), s.add_argument("--step", type=float, default=8)
    s.add_argument("--mode", choices=("spike", "ramp"), default="spike")
    s = sub.add_parser("loop")
    s.add_argument("run_dir"), s.add_argument("trace"), s.add_argument("out")
    s.add_argument("--seconds", type=float, default=8), s.add_argument("--rate", type=float, required=True)
    s.add_argument("--baud", type=int), s.add_argument("--transport", default="tcp")
    s.add_argument("--label", required=True)
    s = sub.add_parser("dbus")
    s.add_argument("loader"), s.add_argument("out"), s.add_argument("--seconds", type=float, default=3)
    s.add_argument("--rounds", type=int, default=3)
    s = sub.add_parser("footprint")
    s.add_argument("run_dir"), s.add_argument("pid", type=int), s.add_argument("out")
    s.add_argument("--seconds", type=float, default=10), s.add_argument("--running", action="store_true")
    s.add_argument("--label", required=True)
    s = sub.add_parser("startup")
    s.add_argument("chaird"), s.add_argument("root"), s.add_argument("socket"), s.add_argument("log")
    s.add_argument("out"), s.add_argument("--count", type=int, default=10)
    s.add_argument("--programs", type=int, default=0), s.add_argument("--label", required=True)
    a = p.parse_args()
    try:
        globals()["cmd_" + a.cmd](a)
    except BenchError as e:
        print("bench.py %s: %s" % (a.cmd, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
