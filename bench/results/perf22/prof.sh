#!/bin/bash
# usage: prof.sh JAR TAG WARMUP_S "EXTRA ARGS"  -- pager-efficiency, async-profiler on the pager 10 s inside the measured window (15 s)
JAR=$1; TAG=$2; W=$3; EXTRA=$4; OUT=/tmp/perf22/prof; mkdir -p $OUT
LIB=/tmp/perf22/ap/linux-x64/libasyncProfiler.so
echo "start $(date -u +%H:%M:%S) $(cat /proc/loadavg)" > $OUT/$TAG.load
java -jar $JAR pager-efficiency --warmup ${W}s --duration 15s $EXTRA > $OUT/$TAG.txt 2> $OUT/$TAG.err &
BP=$!
sleep $((W + 4))
PP=$(pgrep -P $BP java | head -1); [ -z "$PP" ] && PP=$(pgrep -P $BP | head -1)
echo "bench $BP pager $PP" >> $OUT/$TAG.load
jcmd $PP JVMTI.agent_load $LIB "\"start,event=cpu,interval=1ms,threads\"" >> $OUT/$TAG.load 2>&1
sleep 10
jcmd $PP JVMTI.agent_load $LIB "\"stop,collapsed,threads,file=$OUT/$TAG.collapsed\"" >> $OUT/$TAG.load 2>&1
wait $BP
echo "end $(date -u +%H:%M:%S) $(cat /proc/loadavg)" >> $OUT/$TAG.load
