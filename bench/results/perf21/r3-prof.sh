#!/bin/bash
# usage: r3-prof.sh JAR TAG [workload] -- bench machxp-r3 in-JVM, async-profiler attached 10 s inside the measured window
JAR=$1; TAG=$2; WL=${3:-locality}
OUT=${OUT:-runs}
uptime > $OUT/$TAG.load
java --add-modules jdk.incubator.foreign --enable-native-access=ALL-UNNAMED -jar $JAR bench --systems machxp-r3 --workload $WL --warmup 30s --duration ${DUR:-20s} --no-chart --no-progress > $OUT/$TAG.txt 2> $OUT/$TAG.err &
BP=$!
sleep ${DELAY:-48}
if [ -n "$PROF" ]; then
jcmd $BP JVMTI.agent_load ${ASPROF_LIB:-./libasyncProfiler.so} "\"start,event=${EV:-cpu},interval=1ms,threads\"" >> $OUT/$TAG.load 2>&1
./ctx.sh $BP > $OUT/$TAG.ctx0
sleep 10
./ctx.sh $BP > $OUT/$TAG.ctx1
jcmd $BP JVMTI.agent_load ${ASPROF_LIB:-./libasyncProfiler.so} "\"stop,collapsed,threads,file=$OUT/$TAG.collapsed\"" >> $OUT/$TAG.load 2>&1
fi
wait $BP
uptime >> $OUT/$TAG.load
