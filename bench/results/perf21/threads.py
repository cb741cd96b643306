import sys, collections, re
f=sys.argv[1]
g=collections.Counter()
for line in open(f):
    stack,n=line.rstrip().rsplit(' ',1); n=int(n)
    t=stack.split(';')[0]
    t=re.sub(r' tid=\d+\]','',t); t=re.sub(r'\d+','N',t)
    g[t]+=n
tot=sum(g.values())
for k,v in g.most_common(40): print(f"{v:6d} {100*v/tot:5.1f}% {k}")
