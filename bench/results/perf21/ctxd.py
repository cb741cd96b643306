import sys, re, collections
def load(f):
    d={}
    for l in open(f):
        p=l.strip().split('|')
        if len(p)<4 or not p[2]: continue
        d[p[0]]=(p[1],int(p[2]),int(p[3]))
    return d
a,b=load(sys.argv[1]),load(sys.argv[2])
g=collections.Counter(); tot=0
for tid,(n,v,nv) in b.items():
    v0=a.get(tid,(n,0,0))[1]
    name=re.sub(r'\d+','N',n)
    g[name]+=v-v0; tot+=v-v0
print('voluntary context switches in the 10 s:', tot)
for k,v in g.most_common(14): print(f'{v:8d} {k}')
