#!/bin/bash
# usage: sweep.sh JAR OUTDIR REPEATS "THREADS..." [PIN...]
JAR=$1; OUT=$2; REP=$3; TH=$4; shift 4
mkdir -p $OUT
for r in $(seq 1 $REP); do
 for t in $TH; do
  for pin in "$@"; do
   while [ -e /work/notes/CI-RUNNING ]; do sleep 20; done
   if [ "$pin" = pinned ]; then P="--pager-cpus 0 --load-cpus 1"; else P=""; fi
   f=$OUT/t$t-$pin-r$r.txt
   { echo "start $(date -u +%H:%M:%S) $(cat /proc/loadavg)"; java -jar $JAR pager-efficiency --warmup ${WARM:-40s} --duration 10s --threads $t --locks ${LOCKS:-24} $P; echo "end $(date -u +%H:%M:%S) $(cat /proc/loadavg)"; } > $f 2>&1
  done
 done
done
