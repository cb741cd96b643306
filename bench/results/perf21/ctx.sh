#!/bin/bash
# ctx.sh PID -> per thread: tid|name|voluntary|nonvoluntary (one pass over /proc/PID/task/*/status)
awk -F'\t' 'FNR==1{split(FILENAME,p,"/"); tid=p[5]} /^Name:/{n[tid]=$2} /^voluntary_ctxt_switches:/{v[tid]=$2} /^nonvoluntary_ctxt_switches:/{nv[tid]=$2} END{for(t in n) print t"|"n[t]"|"v[t]"|"nv[t]}' /proc/$1/task/*/status 2>/dev/null
