#!/bin/bash
# usage: r3-run.sh JAR TAG workload  -- the README row's command, one run
JAR=$1; TAG=$2; WL=${3:-locality}
OUT=${OUT:-runs}
{ date -u +%H:%M:%S; uptime; } > $OUT/$TAG.load
java --add-modules jdk.incubator.foreign --enable-native-access=ALL-UNNAMED -jar $JAR bench --api process --systems machxp-r3 --workload $WL --warmup 30s --duration 10s --no-chart --no-progress > $OUT/$TAG.txt 2> $OUT/$TAG.err
{ date -u +%H:%M:%S; uptime; } >> $OUT/$TAG.load
