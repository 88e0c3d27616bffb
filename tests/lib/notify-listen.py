#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Plays systemd's side of sd_notify for tests and the demo: binds NOTIFY_SOCKET and appends every
# datagram to a log, one message a line, prefixed with CLOCK_MONOTONIC in microseconds, so a test can
# wait for READY=1 or check that WATCHDOG=1 stopped.
import os
import socket
import sys
import time

path, log = sys.argv[1], sys.argv[2]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(log, "a", buffering=1) as out:
    out.write("%d LISTENING\n" % (time.monotonic_ns() // 1000))
    while True:
        data = s.recv(4096)
        now = time.monotonic_ns() // 1000
        for line in data.decode(errors="replace").splitlines():
            out.write("%d %s\n" % (now, line))
