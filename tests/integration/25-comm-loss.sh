#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# SR-8: a required board that stops answering latches the e-stop with a reason naming it, while the
# other boards are still polled (one dead board does not stall the loop); reset is refused until it
# answers again.
set -euo pipefail
source "$(dirname "$0")/../lib/lib.sh"

start_chair
check "relay closed" sim wait relay==1 --timeout 5

sim fault airbag timeout
check "airbag board lost → e-stop" wait_prop EStop true 5
check "reason names the board" test "$(chair_prop EStopReason)" = comm-loss:airbag
check "relay off" sim wait relay==0 --timeout 2
r0=$(sim get board.roller.requests | cut -d= -f2)
check "roller board still polled while airbag is dead" sim wait "board.roller.requests>$((r0 + 50))" --timeout 5
check "journal entry names the board" grep -q "comm-loss:airbag" "$T/chaird.log"
check "reset refused while the board is lost" \
        bash -c "! busctl --system call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 ResetEmergencyStop 2>/dev/null"
sim fault airbag none
check "airbag answers again" sim wait "board.airbag.requests>2" --timeout 5
ok=false
for _ in $(seq 100); do
        if busctl --system call org.chaird.Chair1 /org/chaird/Chair1 org.chaird.Chair1 ResetEmergencyStop 2>/dev/null; then
                ok=true
                break
        fi
        sleep 0.05 # poll: the board's health recovers after its next good polls
done
check "reset accepted once the board answers" $ok
check "idle after reset" wait_prop State idle 5
# Replies that come after the timeout (slow board): only that board is lost; its late replies must not
# be taken for the answers of the other boards on the same TCP link.
sim fault roller slow 80
check "late replies → e-stop names the slow board" wait_prop EStopReason comm-loss:roller 5
a0=$(sim get board.airbag.requests | cut -d= -f2)
check "the other boards keep answering" sim wait "board.airbag.requests>$((a0 + 20))" --timeout 5
check "Faults lists only the slow board" test "$(busctl --system get-property org.chaird.Chair1 \
        /org/chaird/Chair1 org.chaird.Chair1 Faults)" = 'as 1 "board-lost:roller"'
check "no reply mistaken for another's (no protocol errors)" bash -c "! grep -q 'Protocol error' '$T/chaird.log'"
sim fault roller none
check "e-stop counter persisted" grep -q "estops=2" "$ROOT/var/lib/chaird/state"
finish
