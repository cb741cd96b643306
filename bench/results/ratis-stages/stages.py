# Stage timings of the replicated pager from a StageTrace file (see README.md). WIN=seconds: only the last WIN seconds.
import sys, statistics as st, bisect, collections
recs=[l.split() for l in open(sys.argv[1])]
recs=[(int(t),k,r,int(a),int(b)) for t,k,r,a,b in recs]
import os
tmax=max(x[0] for x in recs); recs=[x for x in recs if x[0]>=tmax-float(os.environ.get("WIN","1e30"))*1e9]
leader=collections.Counter(r for t,k,r,a,b in recs if k.startswith('arrive')).most_common(1)[0][0]
last0={}
msg={}   # (sess,idx)-> dict
logidx={} # leader log index -> (sess,idx)
flush=collections.defaultdict(list); aesend=collections.defaultdict(dict); aerecv=collections.defaultdict(dict); app0=collections.defaultdict(dict); app1=collections.defaultdict(dict)
sends=collections.defaultdict(list)
lc=collections.defaultdict(list)
for t,k,r,a,b in recs:
    if k.startswith('arrive:'): msg.setdefault((a,b),{})['arr']=t; msg[(a,b)]['kind']=k[7:]
    elif k=='appended': msg.setdefault((a,b),{})['appd']=t
    elif k=='apply0': last0[r]=a; app0[r][a]=t
    elif k=='apply1': app1[r][a]=t
    elif k.startswith('applyMsg:') and r==leader: logidx[last0[r]]=(a,b)
    elif k=='flush': flush[r].append((t,a))
    elif k=='aeSend': aesend[b].setdefault(a,t)
    elif k=='aeRecv': aerecv[r].setdefault(a,t)
    elif k.startswith('send:'): sends[a].append((t,k[5:]))
    elif k=='logComplete': lc[r].append(t)
followers=[r for r in flush if r!=leader]
def firstflush(r,idx,after):
    for t,a in flush[r]:
        if a>=idx and t>=after: return t
def p(xs):
    xs=sorted(xs); n=len(xs)
    return "p50 %6.2f p90 %6.2f mean %6.2f n=%d"%(xs[n//2]/1e6, xs[int(n*.9)]/1e6, sum(xs)/n/1e6, n) if n else "-"
stages=collections.defaultdict(list)
for li,(s,i) in logidx.items():
    m=msg.get((s,i))
    if not m or 'arr' not in m: continue
    kind=m['kind'][14:] if m['kind'].startswith('MEMORY_OBJECT_') else m['kind']
    if kind not in ('LOCK_FUTEX','FUTEX_RELEASED'): continue
    a=m['arr']
    lf=firstflush(leader,li,a)
    se=[aesend[ord(f[-1])].get(li) for f in followers]
    se=[x for x in se if x]
    rv=[aerecv[f].get(li) for f in followers]; rv=[x for x in rv if x]
    ff=[firstflush(f,li,aerecv[f].get(li,0)) for f in followers if li in aerecv[f]]; ff=[x for x in ff if x]
    a0=app0[leader].get(li); a1=app1[leader].get(li)
    if not (lf and se and rv and ff and a0): continue
    stages['arrive->appended (XP thread in append)'].append(m['appd']-a)
    stages['arrive->leader flush(sync starts)'].append(lf-a)
    stages['arrive->first aeSend'].append(min(se)-a)
    stages['aeSend->aeRecv (first follower)'].append(min(rv)-min(se))
    stages['aeRecv->follower flush (first)'].append(min(ff)-min(rv))
    stages['first follower flush->leader apply0'].append(a0-min(ff))
    fl=[(x,f) for f in followers if li in aerecv[f] for x in [firstflush(f,li,aerecv[f][li])] if x]
    x,f=min(fl)
    c=[y for y in lc[f] if y>=x]
    if c and lc:
        stages[' .. follower flush->its logComplete (sync, futures)'].append(c[0]-x)
        stages[' .. logComplete->leader apply0 (reply, commit, applier)'].append(a0-c[0])
    stages['apply (apply0->apply1)'].append(a1-a0)
    stages['ARRIVE->APPLIED ('+kind+')'].append(a1-a)
    stages['ARRIVE->APPLIED (all)'].append(a1-a)
# kernel turnaround: relinquish sent to s -> next FUTEX_RELEASED arrival on s
arrs=collections.defaultdict(list)
for (s,i),m in msg.items():
    if 'arr' in m: arrs[s].append((m['arr'],m['kind']))
for s in arrs: arrs[s].sort()
for s,L in sends.items():
    for t,k in L:
        if k=='MEMORY_OBJECT_RELINQUISH_FUTEX':
            for ta,ka in arrs[s]:
                if ta>t:
                    if ka=='MEMORY_OBJECT_FUTEX_RELEASED': stages['kernel: relinquish sent->futex_released arrives'].append(ta-t)
                    break
        if k=='MEMORY_OBJECT_FUTEX_GRANTED':
            # the lock_futex that it answers: latest LOCK_FUTEX arrival on s before t
            prev=[ta for ta,ka in arrs[s] if ta<t and ka=='MEMORY_OBJECT_LOCK_FUTEX']
            if prev: stages['HANDOFF lock_futex arrives->grant sent'].append(t-prev[-1])
# grant sent -> next lock_futex arrival from any session (the next handoff starts)
for k,v in stages.items(): print("%-52s %s"%(k,p(v)))
# chain per grant
applied_at={}  # (s,i)->apply1 time on leader
for li,(s,i) in logidx.items():
    if li in app1[leader]: applied_at[(s,i)]=app1[leader][li]
ev=[]  # (t, type, session)
for (s,i),m in msg.items():
    if 'arr' in m and (s,i) in applied_at:
        ev.append((m['arr'],'arr:'+m['kind'][14:],s)); ev.append((applied_at[(s,i)],'app:'+m['kind'][14:],s))
for s,L in sends.items():
    for t,k in L: ev.append((t,'send:'+k[14:],s))
ev.sort()
ch=collections.defaultdict(list)
for j,(t6,k,w) in enumerate(ev):
    if k!='send:FUTEX_GRANTED': continue
    prev=ev[:j]
    rel=[e for e in prev if e[1]=='app:FUTEX_RELEASED' and e[2]!=w]
    lk=[e for e in prev if e[1]=='arr:LOCK_FUTEX' and e[2]==w]
    if not rel or not lk: continue
    t5,_,h=rel[-1]
    t4=[e for e in prev if e[1]=='arr:FUTEX_RELEASED' and e[2]==h and e[0]<=t5][-1][0]
    rq=[e for e in prev if e[1]=='send:RELINQUISH_FUTEX' and e[2]==h and e[0]<=t4]
    t1=lk[-1][0]
    if not rq or t6-t1>1e9: continue
    t3=rq[-1][0]
    lka=[e for e in prev if e[1]=='app:LOCK_FUTEX' and e[2]==w and e[0]>=t1]
    t2=lka[0][0] if lka else None
    ch['h: lock arrive -> grant sent (total)'].append(t6-t1)
    if t2: ch['h: lock arrive -> lock applied'].append(t2-t1)
    ch['h: lock arrive -> relinquish sent (neg: sent before)'].append(t3-t1)
    ch['h: relinquish sent -> released arrives'].append(t4-t3)
    ch['h: released arrive -> released applied'].append(t5-t4)
    ch['h: released applied -> grant sent'].append(t6-t5)
def q(xs):
    xs=sorted(xs); n=len(xs)
    return "p25 %6.2f p50 %6.2f p75 %6.2f mean %6.2f n=%d"%(xs[n//4]/1e6, xs[n//2]/1e6, xs[3*n//4]/1e6, sum(xs)/n/1e6, n)
for k,v in ch.items(): print("%-52s %s"%(k,q(v)))
