#!/usr/bin/env bash
# A resource that a fencing token protects: appends a line to FILE only if the caller's token is at
# least the highest one FILE has seen, and refuses an older one, so that a lock holder that was
# paused past its lease (and whose futex has since gone to someone else) cannot overwrite newer work.
#
#   ./machxp lock --kernel 127.0.0.1:7071 shared:0 -- examples/fenced-append.sh /tmp/ledger "hello"
#
# The token comes from machxp lock in MACHXP_FENCING_TOKEN. Exit 0 written, 2 refused, 1 misuse.
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: $0 FILE LINE..." >&2; exit 1; }
file=$1; shift
token=${MACHXP_FENCING_TOKEN:?run me under machxp lock, which sets MACHXP_FENCING_TOKEN}
[[ $token =~ ^[0-9]+$ ]] || { echo "$0: MACHXP_FENCING_TOKEN '$token' is not a number" >&2; exit 1; }
exec 9>>"$file.lock"
flock 9                         # the resource's own check-and-write is atomic
last=$(cat "$file.token" 2>/dev/null || echo 0)
if [[ ${#token} -lt ${#last} || ( ${#token} -eq ${#last} && $token < $last ) ]]; then
  echo "$0: refused: fencing token $token is older than $last, which $file has seen" >&2
  exit 2
fi
echo "$token" > "$file.token"
echo "$*" >> "$file"
