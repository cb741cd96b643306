#!/bin/bash
# one line per run: file, load at start, msgs/s, pager CPU %, per CPU-s, core %, msgs/pass, user+sys us/msg, msgs/wakeup, msgs/write, ops/s
for f in "$@"; do
 awk -v f=$(basename $f .txt) '
 /^start/{ld=$3}
 /XP messages at the pager/{gsub(",","",$NF); sub("/s","",$NF); mps=$NF}
 /pager process CPU/{pc=$(NF-3)}
 /per pager CPU-second/{cps=$(NF-2)}
 /core thread  /{core=$3; mpp=$7}
 /core thread per message/{u=$5; s=$9; w=$12}
 /write system calls/{wr=$4}
 /lock\+unlock/{ops=$3}
 /^end/{lde=$3}
 END{printf "%-18s load %5s-%5s  %7s msg/s  pager %4s  %8s /CPU-s  core %4s  %6s msg/pass  %6s+%-6s us  %6s /wake %6s /write  %s ops\n", f, ld, lde, mps, pc, cps, core, mpp, u, s, w, wr, ops}' $f
done
