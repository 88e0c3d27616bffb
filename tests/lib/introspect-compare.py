#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Compares an interface's XML file (dbus/IFACE.xml) with what the running daemon introspects:
# methods with their argument names, types and directions, properties with type and access, signals,
# and annotations. With --write, prints the live interface as a file instead (to refresh the XML).
import subprocess
import sys
import xml.etree.ElementTree as ET


def live(iface):
    out = subprocess.run(["busctl", "--system", "introspect", "--xml-interface", "org.chaird.Chair1",
                          "/org/chaird/Chair1"], check=True, capture_output=True, text=True).stdout
    root = ET.fromstring(out)
    for i in root.findall("interface"):
        if i.get("name") == iface:
            return i
    sys.exit("interface %s not found on the bus" % iface)


def canon(el):
    """A comparable structure: tag, sorted attributes, children in document order (doc comments dropped)."""
    return (el.tag, tuple(sorted(el.attrib.items())), tuple(canon(c) for c in el if isinstance(c.tag, str)))


iface, path = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None
if path == "--write":
    el = live(iface)
    ET.indent(el, space="  ")
    print('<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"\n'
          ' "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">\n<node>')
    print(ET.tostring(el, encoding="unicode").rstrip())
    print("</node>")
    sys.exit(0)

want = None
for i in ET.parse(path).getroot().iter("interface"):
    if i.get("name") == iface:
        want = i
if want is None:
    sys.exit("%s: no interface %s" % (path, iface))
a, b = canon(want), canon(live(iface))
if a != b:
    fa, fb = {c for c in a[2]}, {c for c in b[2]}
    for c in sorted(fa - fb, key=str):
        print("only in %s: %s %s" % (path, c[0], dict(c[1])))
    for c in sorted(fb - fa, key=str):
        print("only live: %s %s" % (c[0], dict(c[1])))
    sys.exit(1)
print("%s matches the live %s" % (path, iface))
