#!/bin/bash
# usage: sweep.sh TAG "ARGS"... : one pager-efficiency --load synthetic run per ARGS, pinned, uptime beside each
cd /work/wt-synthload
TAG=$1; shift
for a in "$@"; do
  echo "=== $a"; echo "before: $(uptime)"
  timeout 300 nice -n 10 ./machxp pager-efficiency --load synthetic --pager-cpus 0 --load-cpus 1 $a 2>&1 | grep -v WARNING
  echo "after: $(uptime)"
done
