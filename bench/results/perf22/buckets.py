#!/usr/bin/env python3
"""Core-thread samples of async-profiler collapsed stacks (threads) into what an XP batch message
(several XP routines in one gRPC message) would and would not save.
usage: buckets.py IN.collapsed [thread-regex]   Each sample goes to the deepest frame that is a marker."""
import sys, re, collections
pat = re.compile(sys.argv[2] if len(sys.argv) > 2 else r'pager-.*-1-1')
RULES = [  # (bucket, regex on one frame); tried leaf to root, the first frame matching any rule decides
    ('os: epoll wait/wake', r'epoll_(p)?wait|do_epoll|ep_poll|schedule\b|finish_task_switch'),
    ('os: writev (send)', r'writev|do_writev|sock_write_iter|tcp_sendmsg'),
    ('os: recv', r'recvfrom|sys_recv|tcp_recvmsg|sock_recvmsg|__sys_recvfrom'),
    ('os: other kernel', r'_\[k\]$'),
    ('protobuf parse/serialize (per XP message, stays)', r'com/google/protobuf|com\.google\.protobuf|PagerToKernelMarshaller|parseFrom|KernelToPager\.|PagerToKernel\.(writeTo|getSerializedSize)'),
    ('gRPC out: sendMessage (per gRPC message)', r'ServerCallImpl\.sendMessage|ServerCalls\$ServerCallStreamObserverImpl\.onNext|MessageFramer'),
    ('gRPC/HTTP2 out: frame command, DATA frame, flow control (per gRPC message)', r'sendGrpcFrame|SendGrpcFrameCommand|DefaultHttp2ConnectionEncoder|Http2RemoteFlowController|FlowControlledData'),
    ('pager: core and XP service (per XP message, stays)', r'io/machxp|io\.machxp'),
    ('gRPC in: deframe, listener (per gRPC message)', r'MessageDeframer|ServerImpl\$JumpToApplication|ServerCallImpl\$ServerStreamListenerImpl|AbstractStream|NettyServerStream|request\(|Http2ConnectionHandler\.decode|DefaultHttp2ConnectionDecoder|DefaultHttp2FrameReader|Http2InboundFrameLogger|onDataRead'),
    ('netty: flush/write path (per pass and connection)', r'flush|doWrite|ChannelOutboundBuffer|WriteQueue'),
    ('netty: epoll loop, read, buffers', r'io/netty|io\.netty'),
    ('JVM: interpreter, GC, stubs, other', r'.'),
]
RULES = [(b, re.compile(r)) for b, r in RULES]
counts = collections.Counter(); total = 0
for line in open(sys.argv[1]):
    line = line.rstrip()
    if not line: continue
    stack, n = line.rsplit(' ', 1); n = int(n); frames = stack.split(';')
    if not pat.search(frames[0]): continue
    total += n
    b = None
    frames = [f for f in frames if 'PassCounting' not in f]  # the pass counter wraps Netty's loop: not the pager's work
    k = next((i for i, f in enumerate(frames) if f.endswith('_[k]')), None)
    if k is None and re.search(r'^(epoll_pwait2|epoll_wait|writev|recv|__GI___send)$', frames[-1]):
        k = len(frames)  # the system call's user-side stub, no kernel frame sampled
    if k is not None:  # in the OS: by the system call (the native frame that entered it)
        call = frames[k - 1] if k > 0 else ''
        b = ('os: epoll wait/wake' if 'epoll' in call else 'os: writev (send)' if 'writev' in call
             else 'os: recv' if 'recv' in call else 'os: other kernel')
        counts[b] += n
        continue
    for f in reversed(frames[1:]):
        for name, rx in RULES[:-2]:
            if name.startswith('os:') != f.endswith('_[k]'):
                continue
            if rx.search(f):
                b = name; break
        if b: break
    if b is None:  # no marker: Netty's loop and buffers, or the JVM
        b = RULES[-2][0] if any(RULES[-2][1].search(f) for f in frames[1:]) else RULES[-1][0]
    counts[b] += n
print(f'{total} samples of threads matching {pat.pattern}')
for name, _ in RULES:
    if counts[name]:
        print(f'{100*counts[name]/total:6.1f}%  {counts[name]:6d}  {name}')
