import json,sys,datetime
# usage: alloc.py X.jfr.json MESSAGES_IN_WINDOW WINDOW_S : core thread bytes allocated per XP message, over the last WINDOW_S+1..1 s of the recording
d=json.load(open(sys.argv[1])); msgs=float(sys.argv[2]); win=float(sys.argv[3])
pts=[]
for e in d['recording']['events']:
    v=e['values']; t=v.get('thread') or {}
    if not (t.get('javaName') or '').startswith('pager-pager-1-1'): continue
    ts=datetime.datetime.fromisoformat(v['startTime'].replace('Z','+00:00')).timestamp()
    pts.append((ts,v['allocated']))
pts.sort()
end=pts[-1][0]-1.0
def at(t):
    best=min(pts,key=lambda p:abs(p[0]-t)); return best
a=at(end-win); b=at(end)
rate=(b[1]-a[1])/(b[0]-a[0])
print('core thread allocates %.0f B/s; %.0f B per XP message (window %.1f s, %d samples)'%(rate, rate*win/msgs, b[0]-a[0], len(pts)))
