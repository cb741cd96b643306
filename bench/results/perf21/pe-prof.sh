#!/bin/bash
# usage: pe-prof.sh JAR TAG [event]   -- pager-efficiency with async-profiler attached to the pager 10 s inside the measured window
JAR=$1; TAG=$2; EV=${3:-cpu}
OUT=${OUT:-runs}
uptime > $OUT/$TAG.load
nice -n 0 java -jar $JAR pager-efficiency --warmup 40s --duration 15s > $OUT/$TAG.txt 2> $OUT/$TAG.err &
BP=$!
sleep 43
PP=$(pgrep -P $BP java || pgrep -f "machxp-bench.*pager --port 0" | head -1)
for c in $(pgrep -P $BP); do PP=$c; done
echo "bench $BP pager $PP" >> $OUT/$TAG.load
if [ -n "$PROF" ]; then
jcmd $PP JVMTI.agent_load ${ASPROF_LIB:-./libasyncProfiler.so} "\"start,event=$EV,interval=1ms,threads\"" >> $OUT/$TAG.load 2>&1
sleep 10
jcmd $PP JVMTI.agent_load ${ASPROF_LIB:-./libasyncProfiler.so} "\"stop,collapsed,threads,file=$OUT/$TAG.collapsed\"" >> $OUT/$TAG.load 2>&1
fi
wait $BP
uptime >> $OUT/$TAG.load
