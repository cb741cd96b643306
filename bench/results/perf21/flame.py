#!/usr/bin/env python3
"""Collapsed stacks (async-profiler's 'collapsed' output, one 'a;b;c N' a line) to a flame graph SVG.
usage: flame.py IN.collapsed OUT.svg "title" [thread-regex]   (root at the bottom; width = share of samples)"""
import sys, re, html, collections
src, out, title = sys.argv[1], sys.argv[2], sys.argv[3]
pat = re.compile(sys.argv[4]) if len(sys.argv) > 4 else None
root = {}; counts = collections.Counter(); total = 0
def node(): return [0, {}]
tree = node()
for line in open(src):
    line = line.rstrip()
    if not line: continue
    stack, n = line.rsplit(' ', 1); n = int(n)
    frames = stack.split(';')
    if pat and not pat.search(frames[0]): continue
    total += n
    t = tree; t[0] += n
    for f in frames:
        t = t[1].setdefault(f, node()); t[0] += n
W, H = 1200, 15
rects = []; maxdepth = [0]
def walk(t, x, depth):
    for name, (n, kids) in sorted(t[1].items()):
        w = (W - 10) * n / total
        if w >= 0.3:
            rects.append((x, depth, w, name, n))
            maxdepth[0] = max(maxdepth[0], depth)
            walk([n, kids], x, depth + 1)
        x += w
walk(tree, 5.0, 0)
height = (maxdepth[0] + 2) * H + 20
def color(name):
    if name.endswith('_[k]'): h = 20
    elif name.startswith('io/machxp') or name.startswith('io.machxp'): h = 120
    elif 'ratis' in name: h = 200
    elif '/' in name or '.' in name: h = 45
    else: h = 0
    return f"hsl({h},75%,{55 + (hash(name) % 15)}%)"
o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" font-family="monospace" font-size="11">',
     f'<text x="4" y="12">{html.escape(title)} ({total} samples; width = share of samples; green machxp, blue Ratis, yellow other Java, orange the OS)</text>']
for x, d, w, name, n in rects:
    y = height - (d + 1) * H
    label = html.escape(name[: int(w / 7)]) if w > 21 else ''
    o.append(f'<g><title>{html.escape(name)} ({n} samples, {100*n/total:.1f}%)</title><rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{H-1}" fill="{color(name)}"/><text x="{x+2:.1f}" y="{y+11}">{label}</text></g>')
o.append('</svg>')
open(out, 'w').write('\n'.join(o))
print(total, 'samples,', len(rects), 'frames ->', out)
