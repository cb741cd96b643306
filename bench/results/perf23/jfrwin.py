import json,sys,datetime
# usage: jfrwin.py IN.exec.json SECONDS > OUT.exec.json : only the samples of the last SECONDS (+1 s slack before the end) of the recording
d=json.load(open(sys.argv[1])); w=float(sys.argv[2])
ts=lambda e: datetime.datetime.fromisoformat(e['values']['startTime'].replace('Z','+00:00')).timestamp()
ev=d['recording']['events']; end=max(ts(e) for e in ev)
d['recording']['events']=[e for e in ev if end-w-1 <= ts(e) <= end-0.5]
json.dump(d,sys.stdout)
