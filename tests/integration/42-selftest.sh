#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The self-test (issue 5) against chair-sim: on a healthy chair every check passes and the relay really
# goes off→on→off (chair-sim's own relay clock sees it) and ends where the supervisor allows it (on, when
# idle); a hot heater fails its row, skips the relay toggling and exits 1; a latched chair is refused.
set -euo pipefail
source "$(dirname "$0")/../lib/lib.sh"
CTL=$BUILD/chairctl
[ -x "$CTL" ] || die "$CTL not built"

TOLERANT=$(for b in roller airbag base; do printf '[Board %s]\nResponseTimeoutMs=200\nMaxMissedPolls=10\nCommLossMs=2000\n' $b; done)
start_bus
start_sim
make_root tcp "$TOLERANT"
start_daemon
check "relay closed while idle" sim wait relay==1 --timeout 5

off_before=$(sim get t.relay_off_ns | cut -d= -f2)
check "self-test passes" bash -c "'$CTL' --json selftest >'$T/st.json'"
row() { # row NAME FIELD
        $PY -c "import json,sys; d=json.load(open('$T/st.json')); print([r['$2'] for r in d['results'] if r['name']=='$1'][0])"
}
check "every board checked" test "$($PY -c "import json; d=json.load(open('$T/st.json')); print(sorted(r['name'] for r in d['results'] if r['name'].startswith('board:')))")" = "['board:airbag', 'board:base', 'board:roller']"
check "every input line checked" test "$($PY -c "import json; d=json.load(open('$T/st.json')); print(sorted(r['name'] for r in d['results'] if r['name'].startswith('gpio:')))")" = "['gpio:estop', 'gpio:interlock', 'gpio:seat']"
check "relay row passed" test "$(row relay passed)" = True
check "relay row names what saw it" bash -c "[[ '$(row relay detail)' == *airbag.status* ]]"
check "heater row shows the temperature" bash -c "[[ '$(row heater detail)' == *°C* ]]"
off_after=$(sim get t.relay_off_ns | cut -d= -f2)
check "chair-sim saw the relay open during the test" test "$off_after" -gt "$off_before"
check "relay back on afterwards (what the supervisor allows when idle)" sim wait relay==1 --timeout 3
check "still idle" test "$(chair_prop State)" = idle

# A heater hotter than its cap while idle: the heater row fails and the relay is not toggled.
sim sensor heat.temperature offset 25
check "reported temperature above the cap" sim wait 'heat.temperature.reported>45' --timeout 5
off_before=$(sim get t.relay_off_ns | cut -d= -f2)
set +e
"$CTL" selftest >"$T/st.txt" 2>&1
rc=$?
set -e
sed 's/^/    /' "$T/st.txt"
check "hot heater: exit 1" test "$rc" = 1
check "hot heater: heater row FAIL" grep -qE '^heater +FAIL' "$T/st.txt"
check "hot heater: relay toggling skipped" grep -qE '^relay +FAIL +skipped' "$T/st.txt"
check "hot heater: relay never opened" test "$(sim get t.relay_off_ns | cut -d= -f2)" = "$off_before"
sim sensor heat.temperature normal

# Latched: refused with EmergencyStop, nothing toggled.
sim estop press
check "latched" wait_prop EStop true 5
set +e
"$CTL" selftest >/dev/null 2>"$T/st.err"
rc=$?
set -e
check "latched: exit 1 with EmergencyStop" bash -c "[ $rc = 1 ] && grep -q EmergencyStop '$T/st.err'"
sim estop release
finish
