#!/bin/bash
# alternating A/B: ab.sh OUTDIR "ARGS" TAG1=JAR1 TAG2=JAR2 ... (each once per round), ROUNDS env
OUT=$1; ARGS=$2; shift 2; mkdir -p $OUT
for r in $(seq 1 ${ROUNDS:-2}); do
 for tj in "$@"; do
  t=${tj%%=*}; j=${tj#*=}
  while [ -e /work/notes/CI-RUNNING ]; do sleep 20; done
  f=$OUT/$t-r$r.txt
  { echo "start $(date -u +%H:%M:%S) $(cat /proc/loadavg)"; echo "args $ARGS jar $j"; java -jar $j pager-efficiency $ARGS; echo "end $(date -u +%H:%M:%S) $(cat /proc/loadavg)"; } > $f 2>&1
 done
done
