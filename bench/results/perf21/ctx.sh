#!/bin/bash
# ctx.sh PID -> per thread: name voluntary nonvoluntary
for t in /proc/$1/task/*; do n=$(cat $t/comm 2>/dev/null); v=$(grep '^voluntary_ctxt' $t/status 2>/dev/null | awk '{print $2}'); nv=$(grep '^nonvoluntary_ctxt' $t/status 2>/dev/null| awk '{print $2}'); echo "$(basename $t)|$n|$v|$nv"; done
