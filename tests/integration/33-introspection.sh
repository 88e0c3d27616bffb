#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The interface files in dbus/ are the contract the touchscreen team builds against: each must equal
# what the running daemon introspects (methods, arguments, properties, signals, annotations).
set -euo pipefail
source "$(dirname "$0")/../lib/lib.sh"

start_chair
for f in "$TOP"/dbus/org.chaird.*.xml; do
        iface=$(basename "$f" .xml)
        check "$iface.xml equals the live introspection" $PY "$TOP/tests/lib/introspect-compare.py" "$iface" "$f"
done
finish
