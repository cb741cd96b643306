#!/usr/bin/env sh
# Runs the XP probes against a machxp pager. With no --target, starts one itself (from this
# checkout's ./machxp, an ephemeral port, a short lease so deaths come fast), runs the probes, and
# stops that pager (only the process it started).
#   examples/python-kernel-probe/run.sh [--target HOST:PORT] [PROBE...]
# Probes: see `run.sh --list`. Each prints "RESULT name: ok" or "RESULT name: SUSPECT why".
# Environment: XPPROBE_N (cache_stall's futex count, default 65536, machxp's kernel cache bound).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
python=$top/target/python-pager-venv/bin/python
[ -x "$python" ] || python=$("$here/setup.sh")
target=""
if [ "${1:-}" = "--target" ]; then target=$2; shift 2; fi
if [ "${1:-}" = "--list" ]; then
  cd "$here" && exec "$python" -c 'import probes; [print(n, "-", f.__doc__.strip().splitlines()[0]) for n, f in probes.PROBES.items()]'
fi
pid=""
if [ -z "$target" ]; then
  log=$(mktemp)
  "$top/machxp" pager --port 0 --fresh-start --lease-ms 2000 --answer-deadline-ms 6000 \
    --object shared=1m --object tiny=4k >"$log" 2>&1 &
  pid=$!
  trap 'kill $pid 2>/dev/null || true' EXIT INT TERM
  i=0
  while ! grep -q "listening on" "$log"; do
    i=$((i + 1)); [ $i -lt 600 ] || { cat "$log" >&2; exit 1; }; sleep 0.5
  done
  target=$(sed -n 's/.*listening on \([^ ]*\) .*/\1/p' "$log" | head -n 1)
  echo "probe: started pager pid $pid at $target (log $log)"
fi
cd "$here" && "$python" probes.py "$target" "$@"
