import json,sys,collections
d=json.load(open(sys.argv[1])); c=collections.Counter()
for e in d['recording']['events']:
    v=e['values']; t=v.get('sampledThread') or {}
    name=(t.get('javaName') or t.get('osName') or '?')
    fr=v['stackTrace']['frames'] if v.get('stackTrace') else []
    st=[f['method']['type']['name']+'.'+f['method']['name'] for f in reversed(fr)]
    c[';'.join([name]+st)]+=1
for k,n in c.items(): print(k.replace(' ','_'),n)
