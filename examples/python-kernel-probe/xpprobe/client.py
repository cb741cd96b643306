"""One XP stream as a kernel sees it: send KernelToPager messages, read PagerToKernel ones, and
read how the stream ended (gRPC code, ErrorInfo reason, description).

Stubs are compiled from the checkout's proto/ at import (grpc.protos_and_services), as the Python
pager example does, so the probe speaks exactly the .proto of the checkout it runs from.
"""
import os
import queue
import sys
import threading
import time

import grpc
from google.rpc import error_details_pb2, status_pb2

PROTO_DIR = os.environ.get("MACHXP_PROTO_DIR") or os.path.normpath(
    os.path.join(os.path.dirname(__file__), "..", "..", "..", "proto", "src", "main", "proto"))
if PROTO_DIR not in sys.path:
    sys.path.append(PROTO_DIR)

xp, xp_grpc = grpc.protos_and_services("xp.proto")

_END = object()


class Stream:
    """A Connect stream. send() queues a message; msgs is what the pager sent; end is
    (code, reason, description) once the stream ended."""

    def __init__(self, target, options=None):
        self.channel = grpc.insecure_channel(target, options=options or [])
        self.stub = xp_grpc.MemoryObjectPagerStub(self.channel)
        self._out = queue.Queue()
        self.msgs = []
        self.arrivals = []
        self.ka_sent = {}
        self._cv = threading.Condition()
        self.end = None
        self.call = self.stub.Connect(self._requests())
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _requests(self):
        while True:
            m = self._out.get()
            if m is _END:
                return
            yield m

    def _read(self):
        try:
            for m in self.call:
                with self._cv:
                    self.msgs.append(m)
                    self.arrivals.append(time.time())
                    self._cv.notify_all()
            end = (self.call.code(), None, self.call.details())
            end = (end[0], _reason(self.call), end[2])
        except grpc.RpcError as e:
            end = (e.code(), _reason(e), e.details())
        with self._cv:
            self.end = end
            self._cv.notify_all()

    def send(self, **routine):
        self._out.put(xp.KernelToPager(**routine))

    def send_raw(self, msg):
        self._out.put(msg)

    def keep_alive(self, every=0.4):
        """Sends kernel_keepalive every `every` seconds (with the count of pager messages
        received) until the stream ends or stop_keepalive()."""
        self._ka_stop = threading.Event()

        def run():
            seq = 1000
            while not self._ka_stop.wait(every) and self.end is None:
                seq += 1
                self.ka_sent[seq] = time.time()
                self._out.put(xp.KernelToPager(
                    kernel_keepalive=xp.KernelKeepalive(sequence=seq, received=self.received())))
        threading.Thread(target=run, daemon=True).start()
        return self

    def keepalive_delays(self):
        """Seconds from each keepalive of keep_alive() to its answer (unanswered: until now)."""
        answered = {}
        with self._cv:
            for m, t in zip(self.msgs, self.arrivals):
                if m.WhichOneof("routine") == "pager_keepalive":
                    answered.setdefault(m.pager_keepalive.sequence, t)
        now = time.time()
        return [answered.get(q, now) - t for q, t in sorted(self.ka_sent.items())]

    def stop_keepalive(self):
        if getattr(self, "_ka_stop", None):
            self._ka_stop.set()

    def received(self):
        """Pager messages of the session received on this stream (welcomes not counted; the
        relinquish hint is not numbered either, 4.7)."""
        with self._cv:
            return sum(1 for m in self.msgs if m.WhichOneof("routine") not in
                       ("pager_welcome", "memory_object_relinquish_futex_hint"))

    def half_close(self):
        self._out.put(_END)

    def cancel(self):
        self.call.cancel()
        self.channel.close()

    def wait_for(self, pred, timeout=5.0):
        """Waits for a pager message with pred(msg) true; returns it or None."""
        deadline = time.time() + timeout
        with self._cv:
            seen = 0
            while True:
                for m in self.msgs[seen:]:
                    if pred(m):
                        return m
                seen = len(self.msgs)
                left = deadline - time.time()
                if left <= 0 or self.end is not None:
                    for m in self.msgs[seen:]:
                        if pred(m):
                            return m
                    return None
                self._cv.wait(left)

    def wait_kind(self, kind, timeout=5.0, **fields):
        def pred(m):
            if m.WhichOneof("routine") != kind:
                return False
            body = getattr(m, kind)
            return all(getattr(body, k) == v for k, v in fields.items())
        m = self.wait_for(pred, timeout)
        return None if m is None else getattr(m, kind)

    def wait_end(self, timeout=5.0):
        deadline = time.time() + timeout
        with self._cv:
            while self.end is None and time.time() < deadline:
                self._cv.wait(deadline - time.time())
            return self.end

    def kinds(self):
        return [m.WhichOneof("routine") for m in self.msgs]


def _reason(call):
    try:
        for k, v in (call.trailing_metadata() or ()):
            if k == "grpc-status-details-bin":
                st = status_pb2.Status.FromString(v)
                for d in st.details:
                    info = error_details_pb2.ErrorInfo()
                    if d.Unpack(info):
                        return info.reason + (f" {dict(info.metadata)}" if info.metadata else "")
    except Exception:  # noqa: BLE001 - a probe reports what it can
        pass
    return None


def hello(target, name, *, version=1, resumable=False, features=(), tid_prefix=None, resume=None,
          reclaim=None, wait=True, options=None):
    s = Stream(target, options)
    h = xp.KernelHello(kernel_name=name, protocol_version=version, resumable=resumable,
                       features=list(features))
    if tid_prefix is not None:
        h.tid_prefix = tid_prefix
    if resume is not None:
        h.resume.CopyFrom(resume)
    if reclaim is not None:
        h.reclaim.CopyFrom(reclaim)
    s.send(kernel_hello=h)
    if wait:
        s.welcome = s.wait_kind("pager_welcome")
    return s


def init(s, oid, name, page_size, timeout=5.0):
    s.send(memory_object_init=xp.MemoryObjectInit(object_id=oid, name=name, page_size=page_size))
    return s.wait_for(lambda m: m.WhichOneof("routine") in ("memory_object_ready", "memory_object_destroy")
                      and getattr(m, m.WhichOneof("routine")).object_id == oid, timeout)


def lock(s, oid, off, **kw):
    s.send(memory_object_lock_futex=xp.MemoryObjectLockFutex(object_id=oid, offset=off, **kw))


def release(s, oid, off, token, **kw):
    s.send(memory_object_futex_released=xp.MemoryObjectFutexReleased(
        object_id=oid, offset=off, fencing_token=token, **kw))


def keepalive(s, seq, received=0):
    s.send(kernel_keepalive=xp.KernelKeepalive(sequence=seq, received=received))


adm, adm_grpc = grpc.protos_and_services("pager_admin.proto")


def pager_status(target):
    """The pager's PagerStatus (what `machxp status` shows), read directly: no JVM start-up, so a
    probe with a short lease reads it while its sessions live."""
    ch = grpc.insecure_channel(target)
    try:
        return adm_grpc.PagerAdminStub(ch).PagerStatus(adm.PagerStatusRequest(), timeout=10)
    finally:
        ch.close()


def brief_status(target):
    st = pager_status(target)
    ses = [f"{s.kernel_name}#{s.kernel_id}{' broken' if s.broken else ''} held={s.futexes_held} q={s.futexes_queued}"
           for s in st.sessions]
    fx = [f"{f.object}@{f.offset} holder={f.holder or '-'} tok={f.fencing_token} died={f.owner_died} "
          f"waiters={[w.kernel for w in f.waiters]}" for f in st.futexes]
    return {"sessions": ses, "futexes": fx, "pages": len(st.pages)}


def desc(end):
    if end is None:
        return "still open"
    code, reason, text = end
    return f"{code.name if code else None} reason={reason} :: {text}"
