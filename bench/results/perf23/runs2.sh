#!/bin/bash
J=/tmp/synthload/jars/after.jar; OUT=/tmp/synthload/r2; mkdir -p $OUT
i=0
for a in "--streams 64 --in-flight 16 --warmup 60s --duration 15s" "--streams 64 --in-flight 16 --connections 8 --shared-futexes --warmup 60s --duration 15s"; do
  i=$((i+1))
  echo "=== $a   $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
  timeout 400 nice -n 10 java -jar $J pager-efficiency --load synthetic --pager-cpus 0 --load-cpus 1 $a --json > $OUT/$i.json 2>$OUT/$i.err
  python3 -c "
import json;m=json.load(open('$OUT/$i.json'))
t=m['pagerThreadCpuSeconds'];s=m['synthetic']
print('msgs %d in %.2fs; per pager CPU-s %d; pager CPU %.0f%%; core %.0f%% of a CPU; %.2f us user + %.2f us sys per msg; %.1f msgs/pass; %.1f msgs/wakeup; %.1f msgs/write; C2 %.2f s, core %.2f s; cycles/s %d; errors %d; crossed %d; load CPU %.2f s (loops %.2f s); loadavg %s'%(m['messages'],m['seconds'],m['messagesPerPagerCpuSecond'],100*m['pagerCpuShare'],100*m['coreThreadCpuShare'],m['coreThreadUserMicrosPerMessage'],m['coreThreadSystemMicrosPerMessage'],m['messagesPerPass'],m['messagesPerCoreThreadWakeup'],m['messagesPerWriteCall'],t.get('C2 CompilerThre',0),t.get('pager-pager-1-1',0),m['lockUnlockPerSecond'],s['errors'],s['relinquishesCrossed'],s['loadCpuSeconds'],s['loadThreadsCpuSeconds'],m['loadAverage']))
"
  echo "    after: load $(cut -d' ' -f1-3 /proc/loadavg)"
done
