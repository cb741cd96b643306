#!/usr/bin/env bash
# XP-P1 with machxp's own kernel as the victim: a real `machxp kernel` holds a futex for a
# `machxp lock` command; a Python kernel X waits for it; a Python kernel C takes XPPROBE_N futexes
# (default 65536, machxp's kernel cache bound). Prints what the real kernel, the lock command and X
# saw. Starts its own pager and kernel (ephemeral ports) and stops only those.
#   examples/python-kernel-probe/real_kernel_stall.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
python=$top/target/python-pager-venv/bin/python
[ -x "$python" ] || python=$("$here/setup.sh")
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT INT TERM
wait_for() { local i=0; until grep -q "$2" "$1"; do i=$((i + 1)); [ $i -lt 600 ] || { cat "$1"; exit 1; }; sleep 0.5; done; }
"$top/machxp" pager --port 0 --fresh-start --lease-ms 2000 --answer-deadline-ms 6000 \
  --object shared=1m --object tiny=4k >"$work/pager.log" 2>&1 & pids+=($!)
wait_for "$work/pager.log" "listening on"
pager=$(sed -n 's/.*listening on \([^ ]*\) .*/\1/p' "$work/pager.log" | head -n 1)
"$top/machxp" kernel --name realk --pager "$pager" --port 0 >"$work/kernel.log" 2>&1 & pids+=($!)
wait_for "$work/kernel.log" "listening on"
kernel=$(sed -n "s/.*) listening on \([^ ]*\) .*/\1/p" "$work/kernel.log" | head -n 1)
echo "pager $pager kernel $kernel (logs in $work)"
"$top/machxp" lock --kernel "$kernel" shared:524288 -- sleep 1200 >"$work/lock.log" 2>&1 & lockpid=$!; pids+=($lockpid)
sleep 3
cd "$here" && "$python" - "$pager" <<'PY'
import os, sys, time
from xpprobe.client import xp, hello, init, lock, keepalive, desc
T = sys.argv[1]; n = int(os.environ.get("XPPROBE_N", "65536"))
x = hello(T, "waiter-x").keep_alive(0.25); init(x, 1, "shared", 4096); lock(x, 1, 524288)
c = hello(T, "cache-c").keep_alive(0.25); init(c, 1, "shared", 4096)
t0 = time.time()
for off in range(0, n * 4, 4):
    c.send_raw(xp.KernelToPager(memory_object_lock_futex=xp.MemoryObjectLockFutex(object_id=1, offset=off)))
keepalive(c, 1); c.wait_kind("pager_keepalive", sequence=1, timeout=1800)
print("C: %d futexes granted in %.1fs" % (n, time.time() - t0))
g = x.wait_kind("memory_object_futex_granted", timeout=5)
print("X (waiting for the real kernel's futex) granted:", g is not None, "owner_died:", g.owner_died if g else None)
PY
echo "--- machxp lock (still running = still holds): $(kill -0 $lockpid 2>/dev/null && echo running || echo ended)"; tail -3 "$work/lock.log"
echo "--- kernel log (session events):"; grep -i "lease\|resum\|lost\|ended\|dead\|ETIMEDOUT\|stall" "$work/kernel.log" | tail -8
echo "--- pager log (deaths):"; grep -i "declared" "$work/pager.log" | tail -5
