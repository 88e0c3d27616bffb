# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by the bench helpers: chair-sim's control socket, chaird over D-Bus (python3-dbus), waits on
# conditions with timeouts, percentiles, and the per-measurement JSON pieces that report.py merges.
import json
import os
import socket
import time

BUS_NAME = "org.chaird.Chair1"
BUS_PATH = "/org/chaird/Chair1"
IFACE_CHAIR = "org.chaird.Chair1"
IFACE_MAINT = "org.chaird.Maintenance1"
IFACE_PROPS = "org.freedesktop.DBus.Properties"

# A condition wait re-checks this often; the timeout bounds it. 1 ms keeps the helper's CPU use low while
# the latencies themselves come from timestamps, never from when the wait noticed.
POLL_S = 0.001


class BenchError(Exception):
    pass


def mono_ns():
    return time.monotonic_ns()


def wait_until(what, fn, timeout_s, poll_s=POLL_S):
    """Calls fn() until it returns something truthy; returns that, or raises after timeout_s."""
    end = time.monotonic() + timeout_s
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > end:
            raise BenchError("timed out after %.1f s waiting for %s" % (timeout_s, what))
        time.sleep(poll_s)


class Ctl:
    """One connection to chair-sim's ctl.sock (docs/chair-sim.md): request lines, replies up to ok/error."""

    def __init__(self, run_dir):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(5)
        self.sock.connect(os.path.join(run_dir, "ctl.sock"))
        self.buf = b""

    def _line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise BenchError("chair-sim closed the control socket")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def _reply(self, request):
        data = []
        while True:
            line = self._line()
            if line == "ok":
                return data
            if line.startswith("error"):
                raise BenchError("chair-sim: %s: %s" % (request, line))
            data.append(line)

    def batch(self, *requests):
        """Sends every request in one write (chair-sim handles them back to back), returns each reply."""
        self.sock.sendall("".join(r + "\n" for r in requests).encode())
        return [self._reply(r) for r in requests]

    def cmd(self, request):
        return self.batch(request)[0]

    def get(self, *keys):
        out = {}
        for line in self.cmd("get " + " ".join(keys)):
            k, _, v = line.partition("=")
            out[k] = v
        return out

    def num(self, key):
        return float(self.get(key)[key])

    def wait(self, what, pred, keys, timeout_s):
        """Waits until pred(values) holds for a get of keys; returns the values."""
        def check():
            v = {k: float(x) for k, x in self.get(*keys).items()}
            return v if pred(v) else None
        return wait_until(what, check, timeout_s)


class Chair:
    """chaird over the private system bus (DBUS_SYSTEM_BUS_ADDRESS)."""

    def __init__(self):
        import dbus
        self.dbus = dbus
        self.bus = dbus.SystemBus()
        self.obj = self.bus.get_object(BUS_NAME, BUS_PATH, introspect=False)

    def prop(self, name, iface=IFACE_CHAIR):
        return self.obj.Get(iface, name, dbus_interface=IFACE_PROPS)

    def call(self, iface, method, *args, signature=None):
        return self.obj.get_dbus_method(method, iface)(*args, signature=signature) if signature \
            else self.obj.get_dbus_method(method, iface)(*args)

    def try_call(self, iface, method, *args, signature=None):
        """Returns None on success, the D-Bus error name and text on a refusal."""
        try:
            self.call(iface, method, *args, signature=signature)
            return None
        except self.dbus.exceptions.DBusException as e:
            return "%s: %s" % (e.get_dbus_name(), e.get_dbus_message())

    def introspect(self):
        return self.obj.Introspect(dbus_interface="org.freedesktop.DBus.Introspectable")

    def has_method(self, name, iface=IFACE_CHAIR):
        xml = self.introspect()
        start = xml.find('<interface name="%s">' % iface)
        if start < 0:
            return False
        end = xml.find("</interface>", start)
        return ('<method name="%s">' % name) in xml[start:end]

    def jog(self, target):
        return self.try_call(IFACE_MAINT, "Jog", "roller", float(target), signature="sd")

    def reset_estop(self, timeout_s=5):
        """ResetEmergencyStop once the button release is seen; retried while a fault is clearing."""
        wait_until("EStopPressed false", lambda: not bool(self.prop("EStopPressed")), timeout_s)
        last = []

        def attempt():
            err = self.try_call(IFACE_CHAIR, "ResetEmergencyStop")
            last[:] = [err]
            return err is None
        try:
            wait_until("ResetEmergencyStop accepted", attempt, timeout_s, poll_s=0.01)
        except BenchError as e:
            raise BenchError("%s (last refusal: %s)" % (e, last[0] if last else "?"))


def percentile(values, p):
    """Nearest-rank percentile of a list (p in 0..100); None for an empty list."""
    if not values:
        return None
    v = sorted(values)
    i = int(round(p / 100.0 * (len(v) - 1)))
    return v[i]


def summary(values, scale=1.0, digits=3):
    """p50/p99/max/mean/n of values (multiplied by scale), rounded."""
    if not values:
        return {"n": 0, "p50": None, "p99": None, "max": None, "mean": None}
    r = lambda x: round(x * scale, digits)
    return {"n": len(values), "p50": r(percentile(values, 50)), "p99": r(percentile(values, 99)),
            "max": r(max(values)), "mean": r(sum(values) / len(values))}


def write_piece(out, name, data):
    """Each measurement writes one JSON file into the run's pieces folder; report.py merges them."""
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
