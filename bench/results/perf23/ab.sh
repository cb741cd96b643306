#!/bin/bash
# usage: ab.sh TAG ROUNDS "ARGS" JAR... : alternate the jars, pager-efficiency --load synthetic pinned, JFR on the pager; uptime beside each
TAG=$1; ROUNDS=$2; ARGS=$3; shift 3
OUT=/tmp/synthload/ab-$TAG; mkdir -p $OUT
for r in $(seq 1 $ROUNDS); do for j in "$@"; do
  n=$(basename $j .jar)
  echo "=== round $r $n $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
  timeout 400 nice -n 10 java -jar $j pager-efficiency --load synthetic --pager-cpus 0 --load-cpus 1 $ARGS "--pager-jvm-arg=-XX:StartFlightRecording=settings=profile,jdk.ThreadAllocationStatistics#period=1s,filename=$OUT/$n-$r.jfr" > $OUT/$n-$r.txt 2>&1
  grep -E "XP messages at|per pager CPU|by thread|core thread|write system|cycles|load process|load average" $OUT/$n-$r.txt
  m=$(grep "XP messages at the pager" $OUT/$n-$r.txt | awk '{print $6}' | tr -d ,)
  jfr print --json --events jdk.ThreadAllocationStatistics $OUT/$n-$r.jfr > $OUT/$n-$r.alloc.json 2>/dev/null
  d=$(echo "$ARGS" | grep -o -- '--duration [0-9]*' | awk '{print $2}')
  python3 /tmp/synthload/alloc.py $OUT/$n-$r.alloc.json $m $d
  echo "    after: load $(cut -d' ' -f1-3 /proc/loadavg)"
done; done
