# SPDX-License-Identifier: LGPL-2.1-or-later
# Reads what tools/bench/trace-preload.c recorded inside chaird (Modbus requests and replies, timerfd
# arms) and turns it into control-loop figures: cycle starts, lateness against the armed deadline,
# achieved rate, bus time per cycle and the bus efficiency against the theoretical RTU wire time.
import bisect
import struct

from common import summary

HEADER = struct.Struct("<8sQQ40x")
RECORD = struct.Struct("<QQiiBB6x32s")  # TraceRecord in trace-preload.c
KIND_SEND, KIND_RECV, KIND_TIMER, KIND_WAKE = 1, 2, 3, 4
MAGIC = b"CHBTRC1\0"

ROLLER_UNIT = 1
FC_READ_INPUT = 4
FC_WRITE_MULTIPLE = 16
ROLLER_FORCE_REGISTER = 2  # [Signal roller.force-setpoint] Address=2 in config/examples/chaird.conf
ROLLER_FORCE_INPUT = 2     # [Signal roller.force] Kind=input Address=2
BITS_PER_CHAR = 11          # start + 8 data + parity or second stop + stop
GAP_CHARS = 3.5             # inter-frame silence after every frame


class Rec:
    __slots__ = ("t", "start", "armed", "fd", "ret", "kind", "data")

    def __init__(self, t, value, fd, ret, kind, data):
        self.t, self.fd, self.ret, self.kind, self.data = t, fd, ret, kind, data
        # a request's send began at value; a timer record's value is the deadline it armed
        self.start = value if kind == KIND_SEND else t
        self.armed = value if kind == KIND_TIMER else None


def read_trace(path):
    with open(path, "rb") as f:
        raw = f.read()
    magic, capacity, count = HEADER.unpack_from(raw, 0)
    if magic != MAGIC:
        raise ValueError("%s: not a chaird bench trace" % path)
    recs = []
    for i in range(min(count, capacity)):
        t, value, fd, ret, kind, n, data = RECORD.unpack_from(raw, HEADER.size + i * RECORD.size)
        if t == 0:  # a record still being written when we read
            continue
        recs.append(Rec(t, value, fd, ret, kind, data[:n]))
    return recs, count > capacity


def parse_request(data, length):
    """(unit, function, address, registers-or-None, rtu_len_delta) of a TCP (MBAP) or RTU request frame.
    rtu_len_delta converts the captured length into the RTU frame's: MBAP 7 bytes → slave 1 + CRC 2."""
    if len(data) >= 8 and data[2:4] == b"\0\0" and struct.unpack(">H", data[4:6])[0] == length - 6:
        unit, pdu, delta = data[6], data[7:], -4
    elif len(data) >= 2:
        unit, pdu, delta = data[0], data[1:], 0
    else:
        return None
    fc = pdu[0]
    addr = struct.unpack(">H", pdu[1:3])[0] if len(pdu) >= 3 else None
    regs = None
    if fc == FC_WRITE_MULTIPLE and len(pdu) >= 6:
        count = struct.unpack(">H", pdu[3:5])[0]
        body = pdu[6:6 + 2 * count]
        regs = [struct.unpack(">H", body[i:i + 2])[0] for i in range(0, len(body) - 1, 2)]
    return unit, fc, addr, regs, delta


def requests(recs):
    """Each Modbus request with the reply bytes that followed it on the same fd, in order:
    dict(start, end (last reply byte or the send itself), unit, fc, addr, regs, req_len, rep_len)."""
    out, cur = [], None
    for r in recs:
        if r.kind == KIND_SEND:
            p = parse_request(r.data, r.ret)
            if p is None:
                cur = None
                continue
            unit, fc, addr, regs, delta = p
            cur = {"start": r.start, "end": r.t, "unit": unit, "fc": fc, "addr": addr, "regs": regs,
                   "req_len": r.ret + delta, "rep_len": 0, "delta": delta, "fd": r.fd, "rep": b""}
            out.append(cur)
        elif r.kind == KIND_RECV and cur is not None and r.fd == cur["fd"]:
            cur["end"] = r.t
            cur["rep_len"] += r.ret
            cur["rep"] += r.data
    for q in out:
        q["rep_len"] = q["rep_len"] + q["delta"] if q["rep_len"] > 0 else 0
    return out


def is_cycle_start(q):
    # every control cycle starts with the roller's input read (PollIntervalMs=0, first board in the plan)
    return q["unit"] == ROLLER_UNIT and q["fc"] == FC_READ_INPUT


def wire_ns(q, baud):
    chars = q["req_len"] + GAP_CHARS + q["rep_len"] + GAP_CHARS
    return chars * BITS_PER_CHAR / baud * 1e9


def loop_figures(recs, t_from, t_to, rate_hz, baud=None):
    """Control-loop figures over [t_from, t_to] (CLOCK_MONOTONIC ns)."""
    period = 1e9 / rate_hz
    timers = [r for r in recs if r.kind == KIND_TIMER]
    reqs = [q for q in requests(recs) if t_from <= q["start"] <= t_to]
    starts = [i for i, q in enumerate(reqs) if is_cycle_start(q)]
    if len(starts) < 3:
        return {"error": "fewer than 3 control cycles seen in the window", "cycles": len(starts)}

    wakes = [r.t for r in recs if r.kind == KIND_WAKE]
    lateness, bus, wire, late_cycles, per_cycle_reqs, gaps = [], [], [], 0, [], []
    wake_lat, busy, excess, between = [], [], [], []
    deadlines = cycle_deadlines([reqs[i]["start"] for i in starts], timers, period)
    for k, si in enumerate(starts[:-1]):
        q0 = reqs[si]
        deadline = deadlines[k]
        if deadline is not None and q0["start"] >= deadline:
            lateness.append(q0["start"] - deadline)
            w = bisect.bisect_right(wakes, q0["start"]) - 1
            if w >= 0:
                # late wake-up (scheduler, timer) vs. awake but busy with other work of the loop
                wake_lat.append(max(0, wakes[w] - deadline))
                busy.append(q0["start"] - max(wakes[w], deadline))
        gap = reqs[starts[k + 1]]["start"] - q0["start"]
        gaps.append(gap)
        if gap > 1.5 * period:
            late_cycles += 1
        cycle = reqs[si:starts[k + 1]]
        per_cycle_reqs.append(len(cycle))
        if all(q["rep_len"] > 0 for q in cycle):  # a timed-out request has no wire time to compare
            bus.append(max(q["end"] for q in cycle) - q0["start"])
            if baud:
                wire.append(sum(wire_ns(q, baud) for q in cycle))
                # where bus time above the wire time goes: inside transactions, or between them
                excess.extend(q["end"] - q["start"] - wire_ns(q, baud) for q in cycle)
                between.extend(b["start"] - a["end"] for a, b in zip(cycle, cycle[1:]))
    span = reqs[starts[-1]]["start"] - reqs[starts[0]]["start"]
    out = {
        "configured_hz": rate_hz,
        "achieved_hz": round((len(starts) - 1) / (span / 1e9), 2),
        "cycles": len(starts) - 1,
        "window_s": round(span / 1e9, 2),
        "skipped_cycles": late_cycles,
        "lateness_ms": summary(lateness, 1e-6, 4),
        "lateness_split_ms": {"wake": summary(wake_lat, 1e-6, 4), "dispatch": summary(busy, 1e-6, 4)},
        "cycle_interval_ms": summary(gaps, 1e-6, 3),
        "requests_per_cycle": summary(per_cycle_reqs, 1, 2),
        "bus_time_per_cycle_ms": summary(bus, 1e-6, 3),
    }
    if baud and bus:
        out["baud"] = baud
        out["wire_time_per_cycle_ms"] = summary(wire, 1e-6, 3)
        out["bus_efficiency"] = round(sum(wire) / sum(bus), 3)
        out["transaction_minus_wire_ms"] = summary(excess, 1e-6, 3)
        out["between_transactions_ms"] = summary(between, 1e-6, 3)
    return out


def cycle_deadlines(starts, timers, period):
    """The deadline each cycle slept toward. chaird schedules on absolute deadlines (next = previous +
    period, or end of an overrun + period) and sd-event arms its CLOCK_MONOTONIC timerfd with the earliest
    source's time exactly (accuracy 1 µs). So a cycle's deadline is the previous one + period when that
    value was armed since the previous cycle began; otherwise (first cycle, reschedule after an overrun)
    the latest value armed in that interval that is not after the start. Other timers (status, debounce)
    share the timerfd, which is why the arithmetic comes first."""
    out, prev_d, prev_s, i = [], None, -1, 0
    for s in starts:
        arms = []
        while i < len(timers) and timers[i].t <= s:
            if timers[i].t > prev_s and timers[i].armed <= s:
                arms.append(timers[i].armed)
            i += 1
        pred = prev_d + round(period) if prev_d is not None else None
        if pred is not None and pred in arms:
            d = pred
        elif arms:
            d = max(arms)
        else:
            d = pred if pred is not None and pred <= s else None
        out.append(d)
        prev_d, prev_s = (d if d is not None else prev_d), s
    return out


def reported_force(q):
    """The raw roller.force input register in the reply to a roller input read, or None."""
    if not is_cycle_start(q) or q["rep_len"] <= 0:
        return None
    # reply PDU: fc, byte count, registers; behind MBAP (7 bytes) on TCP, the slave id (1) on RTU
    pdu = q["rep"][7:] if q["delta"] else q["rep"][1:]
    at = 2 + 2 * (ROLLER_FORCE_INPUT - q["addr"])
    if q["addr"] is None or at < 2 or len(pdu) < at + 2:
        return None
    return struct.unpack(">H", pdu[at:at + 2])[0]


def force_reaction(recs, t_inject, step_raw):
    """The first roller write after t_inject whose force setpoint is lower than the last one before it.
    cycles = roller reads from the first one that reported the injected force (a jump of at least half the
    injected step, in raw register units) up to that write: 1 = lowered in the cycle that saw it.
    cycles_after_injection = roller reads answered after the injection up to that write."""
    reqs = requests(recs)
    before, last_force = None, None
    for q in reqs:
        if q["start"] >= t_inject:
            break
        before = _roller_force(q) if _roller_force(q) is not None else before
        last_force = reported_force(q) if reported_force(q) is not None else last_force
    if before is None or last_force is None:
        return None
    reads, seen = 0, None
    for q in reqs:
        if q["end"] < t_inject:
            continue
        f_in = reported_force(q)
        if f_in is not None:
            reads += 1
            if seen is None and f_in - last_force >= step_raw / 2:
                seen = reads
        f = _roller_force(q)
        if f is not None and f < before and q["start"] >= t_inject:
            return {"cycles": reads - seen + 1 if seen else None, "cycles_after_injection": reads,
                    "ms": (q["start"] - t_inject) / 1e6, "setpoint_before": before, "setpoint_after": f}
    return None


def _roller_force(q):
    if q["unit"] != ROLLER_UNIT or q["fc"] != FC_WRITE_MULTIPLE or q["regs"] is None or q["addr"] is None:
        return None
    i = ROLLER_FORCE_REGISTER - q["addr"]
    return q["regs"][i] if 0 <= i < len(q["regs"]) else None
