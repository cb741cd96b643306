"""Adversarial XP probes against a running machxp pager. Usage: python probes.py HOST:PORT [NAME...]
Each probe prints what it sent, what came back and the pager's state after it (PagerStatus), and
ends with a line "RESULT <name>: ok|SUSPECT <why>". The pager should be started with
--lease-ms 2000 --answer-deadline-ms 6000 --object shared=1m --object tiny=4k --fresh-start.
"""
import sys
import threading
import time
import uuid

from xpprobe.client import (xp, hello, init, lock, release, keepalive, desc, brief_status, pager_status, Stream)

T = None
LEASE = 2.0
results = []


def uniq(p):
    return f"{p}-{uuid.uuid4().hex[:6]}"


def result(name, ok, why=""):
    line = f"RESULT {name}: {'ok' if ok else 'SUSPECT ' + why}"
    print(line, flush=True)
    results.append(line)


def well_behaved_check(tag):
    """A second, well-behaved kernel can still lock and unlock a futex."""
    k = hello(T, uniq("good")).keep_alive()
    if k.welcome is None:
        return f"{tag}: good kernel not welcomed: {desc(k.wait_end(1))}"
    init(k, 1, "shared", 4096)
    lock(k, 1, 4000)
    g = k.wait_kind("memory_object_futex_granted", timeout=5)
    if g is None:
        k.cancel()
        return f"{tag}: good kernel not granted"
    release(k, 1, 4000, g.fencing_token)
    k.send(memory_object_terminate=xp.MemoryObjectTerminate(object_id=1))
    keepalive(k, 1)
    k.wait_kind("pager_keepalive", sequence=1)
    k.stop_keepalive()
    k.half_close()
    k.wait_end(3)
    return None


def p_offsets():
    """Huge/unaligned/negative-as-signed offsets and ranges: every request dropped or refused with
    an answer; the pager keeps serving."""
    k = hello(T, uniq("off")).keep_alive()
    init(k, 1, "tiny", 4096)
    bad = []
    for off in (2, 4096, 2**63, 2**64 - 4, 2**64 - 4096, 2**32 + 4):
        lock(k, 1, off)
    for off, ln in ((0, 0), (2**64 - 4096, 8192), (2**63, 2**63), (4096, 4096), (1, 4096), (0, 4097),
                    (0, 2**64 - 4096)):
        k.send(memory_object_data_request=xp.MemoryObjectDataRequest(
            object_id=1, offset=off, length=ln, desired_access=xp.VM_PROT_READ))
    k.send(memory_object_data_unlock=xp.MemoryObjectDataUnlock(object_id=1, offset=2**64 - 4096, length=4096,
                                                               desired_access=xp.VM_PROT_WRITE))
    k.send(memory_object_synchronize=xp.MemoryObjectSynchronize(object_id=1, offset=2**64 - 4096, length=8192))
    k.send(memory_object_data_return=xp.MemoryObjectDataReturn(object_id=1, offset=2**64 - 4096, data=b"x" * 4096,
                                                               dirty=True, version=5))
    release(k, 1, 2**64 - 4, 1, pages=[xp.PageData(offset=2**64 - 4096, data=b"y" * 4096, dirty=True, version=9)])
    keepalive(k, 7)
    ka = k.wait_kind("pager_keepalive", sequence=7)
    time.sleep(0.3)
    print("  kinds:", k.kinds(), "end:", desc(k.end))
    grants = [m for m in k.msgs if m.WhichOneof("routine") == "memory_object_futex_granted"]
    if grants:
        bad.append(f"granted at bad offsets: {[g.memory_object_futex_granted.offset for g in grants]}")
    answers = [m for m in k.msgs if m.WhichOneof("routine") in ("memory_object_data_supply", "memory_object_data_error",
                                                                 "memory_object_data_unavailable")]
    for m in answers:
        r = getattr(m, m.WhichOneof("routine"))
        print("   ", m.WhichOneof("routine"), r.offset, getattr(r, "length", None), getattr(r, "reason", "")[:160])
    sc = k.wait_kind("memory_object_synchronize_completed", timeout=1)
    print("  sync:", sc)
    if ka is None:
        bad.append("keepalive unanswered after bad messages: " + desc(k.end))
    print("  status:", brief_status(T))
    k.stop_keepalive(); k.cancel()
    w = well_behaved_check("offsets")
    if w:
        bad.append(w)
    result("offsets", not bad, "; ".join(bad))


def p_same_name_race():
    """Twenty hellos with one name at once: exactly one welcome, the rest EEXIST with ErrorInfo."""
    name = uniq("twin")
    streams = []
    barrier = threading.Barrier(20)

    def go():
        barrier.wait()
        streams.append(hello(T, name, wait=False))
    ts = [threading.Thread(target=go) for _ in range(20)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    for s in streams:
        s.welcome = s.wait_kind("pager_welcome", timeout=3)
    welcomed = [s for s in streams if s.welcome is not None]
    ends = [desc(s.wait_end(1)) for s in streams if s.welcome is None]
    ids = {s.welcome.kernel_id for s in welcomed}
    print("  welcomed:", len(welcomed), "ids:", ids, "ends:", set(e[:120] for e in ends))
    print("  status:", brief_status(T))
    ok = len(welcomed) == 1 and all("EEXIST" in e for e in ends)
    for s in streams:
        s.cancel()
    result("same_name_race", ok, f"{len(welcomed)} welcomed; ends {set(ends)}")


def p_hello_vanish():
    """Hello then cancel at once, 200 names: do ids stay taken, and is the 201st welcomed?"""
    first = None
    for i in range(200):
        s = hello(T, uniq("ghost"), wait=False)
        if i == 0:
            first = s
        s.cancel()
    time.sleep(0.5)
    st = brief_status(T)
    print("  sessions after 200 vanishing hellos:", len(st["sessions"]))
    k = hello(T, uniq("after-ghosts"))
    print("  next welcome id:", k.welcome.kernel_id if k.welcome else desc(k.wait_end(1)))
    k.cancel()
    result("hello_vanish", k.welcome is not None and len(st["sessions"]) == 0,
           f"sessions left {st['sessions'][:3]}")


def p_terminate_with_waiters():
    """A holds F, B and C wait; A terminates the object: B is granted with handoff; C keeps waiting,
    then B terminates: C granted."""
    a = hello(T, uniq("ta")).keep_alive(); b = hello(T, uniq("tb")).keep_alive(); c = hello(T, uniq("tc")).keep_alive()
    for s in (a, b, c):
        init(s, 1, "shared", 4096)
    lock(a, 1, 64); ga = a.wait_kind("memory_object_futex_granted")
    lock(b, 1, 64, priority=5); a.wait_kind("memory_object_relinquish_futex")
    lock(c, 1, 64, priority=1)
    time.sleep(0.2)
    a.send(memory_object_terminate=xp.MemoryObjectTerminate(object_id=1))
    gb = b.wait_kind("memory_object_futex_granted", timeout=3)
    print("  B grant:", gb)
    b.send(memory_object_terminate=xp.MemoryObjectTerminate(object_id=1))
    gc = c.wait_kind("memory_object_futex_granted", timeout=3)
    print("  C grant:", gc)
    ok = gb is not None and gb.handoff and gc is not None and gc.handoff and not gb.owner_died
    print("  status:", brief_status(T))
    for s in (a, b, c):
        s.stop_keepalive(); s.cancel()
    result("terminate_with_waiters", ok, f"gb={gb} gc={gc}")


def p_vanish_holding():
    """A holds F and vanishes (cancel); B waits: B granted with owner_died about a lease later."""
    a = hello(T, uniq("va")); b = hello(T, uniq("vb")).keep_alive()
    init(a, 1, "shared", 4096); init(b, 1, "shared", 4096)
    lock(a, 1, 128); a.wait_kind("memory_object_futex_granted")
    lock(b, 1, 128); a.wait_kind("memory_object_relinquish_futex")
    t0 = time.time(); a.cancel()
    g = b.wait_kind("memory_object_futex_granted", timeout=LEASE * 4)
    print("  B grant after %.2fs:" % (time.time() - t0), g)
    ok = g is not None and g.owner_died
    release(b, 1, 128, g.fencing_token) if g else None
    b.stop_keepalive(); b.cancel()
    result("vanish_holding", ok, str(g))


def p_second_hello():
    """A second kernel_hello on an open session that holds F with a waiter: EPROTO, then F goes
    on with owner_died at the lease's end."""
    a = hello(T, uniq("sh")); b = hello(T, uniq("shb")).keep_alive()
    init(a, 1, "shared", 4096); init(b, 1, "shared", 4096)
    lock(a, 1, 192); a.wait_kind("memory_object_futex_granted")
    a.send(kernel_hello=xp.KernelHello(kernel_name="whatever", protocol_version=1))
    e = a.wait_end(3)
    print("  A end:", desc(e))
    lock(b, 1, 192)
    g = b.wait_kind("memory_object_futex_granted", timeout=LEASE * 4)
    print("  B grant:", g)
    b.stop_keepalive(); b.cancel()
    result("second_hello", e and e[1] == "EPROTO" and g is not None and g.owner_died, f"{desc(e)} {g}")


def p_try_no_answer():
    """A holds F and never answers relinquish(try); B trylocks: busy by the answer deadline, A ended."""
    a = hello(T, uniq("tn")).keep_alive(); b = hello(T, uniq("tnb")).keep_alive()
    init(a, 1, "shared", 4096); init(b, 1, "shared", 4096)
    lock(a, 1, 256); a.wait_kind("memory_object_futex_granted")
    t0 = time.time()
    lock(b, 1, 256, **{"try": True})
    r = a.wait_kind("memory_object_relinquish_futex", timeout=2)
    print("  A got:", r)
    busy = b.wait_kind("memory_object_futex_busy", timeout=12)
    print("  B busy after %.1fs" % (time.time() - t0), busy is not None, "A end:", desc(a.wait_end(3)))
    print("  status:", brief_status(T))
    ok = busy is not None and a.end is not None and "ETIMEDOUT" in str(a.end[1])
    for s in (a, b):
        s.stop_keepalive(); s.cancel()
    result("try_no_answer", ok, f"busy={busy is not None} A={desc(a.end)}")


def p_resume_hijack():
    """A resume under a live session's name and kernel id with a wrong token is refused (ESTALE),
    and the live session goes on holding what it held."""
    name = uniq("rh")
    a = hello(T, name, resumable=True).keep_alive()
    init(a, 1, "shared", 4096)
    lock(a, 1, 320); g = a.wait_kind("memory_object_futex_granted")
    r = xp.Resume(kernel_id=a.welcome.kernel_id, session_token=a.welcome.session_token ^ 1, received=2, attempt=1)
    h = hello(T, name, resumable=True, resume=r)
    e = h.wait_end(3)
    print("  hijack:", desc(e)[:160])
    keepalive(a, 4242)
    ka = a.wait_kind("pager_keepalive", sequence=4242, timeout=3)
    st = brief_status(T)
    held = [f for f in st["futexes"] if f"holder={name}" in f]
    print("  A answered:", ka is not None, "A holds:", held)
    a.stop_keepalive(); a.cancel(); h.cancel()
    result("resume_hijack", h.welcome is None and e and e[1] == "ESTALE" and ka is not None and held, desc(e))


def p_quota_objects():
    """Init 1024 objects, then a 1025th (destroy expected); terminate all and init 1024 fresh ids."""
    k = hello(T, uniq("objs")).keep_alive()
    for i in range(1, 1025):
        k.send(memory_object_init=xp.MemoryObjectInit(object_id=i, name="shared", page_size=4096))
    k.send(memory_object_init=xp.MemoryObjectInit(object_id=5000, name="shared", page_size=4096))
    d = k.wait_kind("memory_object_destroy", timeout=5, object_id=5000)
    print("  1025th:", d)
    for i in range(1, 1025):
        k.send(memory_object_terminate=xp.MemoryObjectTerminate(object_id=i))
    for i in range(2000, 3024):
        k.send(memory_object_init=xp.MemoryObjectInit(object_id=i, name="shared", page_size=4096))
    keepalive(k, 3)
    k.wait_kind("pager_keepalive", sequence=3, timeout=10)
    ready2 = sum(1 for m in k.msgs if m.WhichOneof("routine") == "memory_object_ready" and m.memory_object_ready.object_id >= 2000)
    destroyed2 = [m.memory_object_destroy.reason for m in k.msgs if m.WhichOneof("routine") == "memory_object_destroy" and m.memory_object_destroy.object_id >= 2000]
    print("  after terminate: ready", ready2, "destroyed", len(destroyed2), destroyed2[:1])
    k.stop_keepalive(); k.cancel()
    result("quota_objects", d is not None and ready2 == 1024, f"ready2={ready2}")


def p_id_exhaust():
    """Welcomed-then-vanished names (holding nothing), 1100 of them: are ids exhausted for others?"""
    ids, refused = [], None
    t0 = time.time()
    for i in range(1100):
        s = hello(T, uniq("burn"))
        if s.welcome is None:
            refused = (i, desc(s.wait_end(1)))
            s.cancel()
            break
        ids.append(s.welcome.kernel_id)
        s.cancel()
    print("  welcomed %d in %.1fs, distinct ids %d, refused: %s" % (len(ids), time.time() - t0, len(set(ids)), refused))
    k = hello(T, uniq("victim"))
    print("  victim:", k.welcome.kernel_id if k.welcome else desc(k.wait_end(1)))
    k.cancel()
    result("id_exhaust", k.welcome is not None, f"victim refused: {desc(k.end)}")


def p_prefix_squat():
    """A hello to this pager as a secondary (tid_prefix = the id this pager will give next) must not
    keep a kernel whose primary is this pager from connecting."""
    probe = hello(T, uniq("probe-id")); nxt = probe.welcome.kernel_id; probe.cancel()
    # ids never given out go first, in order: the next fresh one is nxt + 1 (squatter takes it as
    # its session id), the one after for the victim.
    squat = hello(T, uniq("squat"), tid_prefix=nxt + 2).keep_alive()
    print("  probe id", nxt, "squatter:", squat.welcome.kernel_id if squat.welcome else desc(squat.wait_end(1)))
    victims = []
    for i in range(3):
        v = hello(T, uniq("victim"))
        victims.append(v)
        print("  victim", i, ":", v.welcome.kernel_id if v.welcome else desc(v.wait_end(1)))
    ok = all(v.welcome is not None for v in victims)
    for v in victims: v.cancel()
    squat.stop_keepalive(); squat.cancel()
    result("prefix_squat", ok, "a primary's kernel refused because another kernel's tid_prefix squats its id")


class Session:
    """A resumable session as a conforming kernel keeps it: what it sent (for a resend after a
    resume) and how many pager messages it received, over its streams."""

    def __init__(self, name):
        self.name = name
        self.s = hello(T, name, resumable=True)
        self.w = self.s.welcome
        self.sent = []
        self.attempt = 0
        self.old = []

    def send(self, **routine):
        self.sent.append(routine)
        self.s.send(**routine)

    def received(self):
        return sum(o.received() for o in self.old) + self.s.received()

    def resume(self):
        self.attempt += 1
        rec = self.received()
        old = self.s
        r = xp.Resume(kernel_id=self.w.kernel_id, session_token=self.w.session_token, received=rec,
                      attempt=self.attempt)
        new = hello(T, self.name, resumable=True, resume=r)
        if new.welcome is None or not new.welcome.resumed:
            return None, desc(new.wait_end(1))
        self.old.append(old)
        # messages old delivered after `rec` are replayed: only the new stream counts from here
        old_count = old.received()
        old.received = (lambda n=rec - sum(o.received() for o in self.old[:-1]): n)
        self.s = new
        for routine in self.sent[new.welcome.received:]:
            new.send(**routine)
        return new.welcome, None


def p_resume_release_race():
    """A holds F, B waits; A's futex_released and A's resume race (release on the old stream,
    resume on a new one at once, as a stalled kernel would): B must get F exactly once and F must
    not stay with A."""
    bad = []
    for rnd in range(20):
        a = Session(uniq("rr")); b = hello(T, uniq("rrb")).keep_alive()
        a.send(memory_object_init=xp.MemoryObjectInit(object_id=1, name="shared", page_size=4096))
        a.send(memory_object_lock_futex=xp.MemoryObjectLockFutex(object_id=1, offset=512))
        g = a.s.wait_kind("memory_object_futex_granted")
        init(b, 1, "shared", 4096)
        lock(b, 1, 512)
        a.s.wait_kind("memory_object_relinquish_futex")
        a.send(memory_object_futex_released=xp.MemoryObjectFutexReleased(object_id=1, offset=512,
                                                                          fencing_token=g.fencing_token))
        if rnd % 2:
            time.sleep(0.001 * rnd)
        w, err = a.resume()
        if w is None:
            bad.append(f"round {rnd}: resume refused: {err}")
        gb = b.wait_kind("memory_object_futex_granted", timeout=3)
        time.sleep(0.1)
        nb = sum(1 for m in b.msgs if m.WhichOneof("routine") == "memory_object_futex_granted")
        st = brief_status(T)
        mine = [f for f in st["futexes"] if "@512 " in f]
        if gb is None or nb != 1:
            bad.append(f"round {rnd}: B grants {nb}; welcome received={w and w.received}; {mine}")
        # a keepalive on A's session must still be answered
        a.send(kernel_keepalive=xp.KernelKeepalive(sequence=77, received=a.received()))
        if a.s.wait_kind("pager_keepalive", sequence=77, timeout=2) is None:
            bad.append(f"round {rnd}: A's resumed session does not answer: {desc(a.s.end)}")
        if gb:
            release(b, 1, 512, gb.fencing_token)
            b.send(memory_object_terminate=xp.MemoryObjectTerminate(object_id=1))
        a.send(memory_object_terminate=xp.MemoryObjectTerminate(object_id=1))
        keepalive(b, 5); b.wait_kind("pager_keepalive", sequence=5)
        a.send(kernel_keepalive=xp.KernelKeepalive(sequence=78, received=a.received()))
        a.s.wait_kind("pager_keepalive", sequence=78, timeout=2)
        b.stop_keepalive(); b.half_close(); a.s.half_close()
        for o in a.old: o.cancel()
        b.wait_end(2); a.s.wait_end(2)
    print("  final status:", brief_status(T))
    result("resume_release_race", not bad, "; ".join(bad[:4]))


def p_futex_quota():
    """One session locks 2^18 futexes (machxp's bound), then one more: EAGAIN naming its own quota;
    a good kernel is served meanwhile; after the lease every futex is free and nothing leaks."""
    k = hello(T, uniq("hog")).keep_alive()
    init(k, 1, "shared", 4096); init(k, 2, "tiny", 4096)
    t0 = time.time()
    n = 1 << 18
    for off in range(0, n * 4, 4):
        k.send_raw(xp.KernelToPager(memory_object_lock_futex=xp.MemoryObjectLockFutex(object_id=1, offset=off)))
    keepalive(k, 9)
    k.wait_kind("pager_keepalive", sequence=9, timeout=120)
    grants = sum(1 for m in k.msgs if m.WhichOneof("routine") == "memory_object_futex_granted")
    print("  %d grants in %.1fs" % (grants, time.time() - t0))
    t1 = time.time(); w = well_behaved_check("during hog"); print("  good kernel while hog holds 2^18: %.2fs %s" % (time.time() - t1, w))
    lock(k, 2, 0)
    e = k.wait_end(10)
    print("  hog end:", desc(e))
    st = brief_status(T)
    print("  sessions:", st["sessions"][:5])
    k.stop_keepalive(); k.cancel()
    t2 = time.time()
    time.sleep(LEASE * 2.5)
    st2 = pager_status(T)
    print("  %.1fs after the hog's end: sessions %s futexes listed %d omitted %d" % (
        time.time() - t2, [x.kernel_name for x in st2.sessions], len(st2.futexes), st2.futexes_omitted))
    t3 = time.time(); w2 = well_behaved_check("after hog"); print("  good kernel after: %.2fs %s" % (time.time() - t3, w2))
    ok = grants == n and e is not None and e[1] == "EAGAIN" and not w and not w2 and len(st2.futexes) == 0
    result("futex_quota", ok, f"grants={grants} end={desc(e)} left={len(st2.futexes)} {w} {w2}")


def p_grant_scaling():
    """One session takes N futexes (each granted once, never given back: a kernel's futex cache,
    machxp's kernel keeps up to 2^16). Time to grant them all, and the worst keepalive answer time
    another kernel sees meanwhile: a pager that does O(held) work per grant is quadratic, and its
    one core thread (also its gRPC event loop) answers nobody meanwhile."""
    sizes = (2048, 8192, 16384)
    worst = {}
    for n in sizes:
        obs = hello(T, uniq("observer"))
        lat = []
        stop = threading.Event()

        def observe():
            seq = 0
            while not stop.is_set():
                seq += 1
                t = time.time()
                keepalive(obs, seq)
                if obs.wait_kind("pager_keepalive", sequence=seq, timeout=60) is None:
                    lat.append(60.0)
                    return
                lat.append(time.time() - t)
                time.sleep(0.1)
        th = threading.Thread(target=observe); th.start()
        k = hello(T, uniq("cache")).keep_alive()
        init(k, 1, "shared", 4096)
        t0 = time.time()
        for off in range(0, n * 4, 4):
            k.send_raw(xp.KernelToPager(memory_object_lock_futex=xp.MemoryObjectLockFutex(object_id=1, offset=off)))
        keepalive(k, 1)
        got = k.wait_kind("pager_keepalive", sequence=1, timeout=600)
        dt = time.time() - t0
        stop.set(); th.join()
        grants = sum(1 for m in k.msgs if m.WhichOneof("routine") == "memory_object_futex_granted")
        print("  N=%6d: %d granted in %6.2fs (%.1f us/grant); observer worst keepalive answer %.2fs; observer %s" % (
            n, grants, dt, dt * 1e6 / max(1, grants), max(lat or [0]), desc(obs.end)), flush=True)
        worst[n] = (dt, max(lat or [0]))
        k.send(memory_object_terminate=xp.MemoryObjectTerminate(object_id=1))
        keepalive(k, 2); k.wait_kind("pager_keepalive", sequence=2, timeout=600)
        k.stop_keepalive(); k.half_close(); obs.half_close(); k.wait_end(5)
    a, b = sizes[0], sizes[-1]
    growth = worst[b][0] / max(worst[a][0], 1e-3)
    late = max(x[1] for x in worst.values())
    print("  time grows %.1fx for %.0fx the futexes (linear: %.0fx)" % (growth, b / a, b / a))
    # The observer waits for each answer before its next keepalive, so a long stall also gets it
    # declared dead; cache_stall is the faithful kernel (keepalives every L/8 regardless).
    result("grant_scaling", late < LEASE / 6, f"another kernel's keepalive answered only after {late:.1f}s "
           f"(lease {LEASE}s; a machxp kernel resumes after L/6); {growth:.1f}x time for {b / a:.0f}x futexes")


def p_cache_stall():
    """A well-behaved kernel W (keepalive every L/8) holds futex F, which kernel X waits for. A third
    kernel C takes N futexes (a futex cache: machxp's kernel caches up to 2^16). W must not be
    declared dead, and F must not go to X with owner_died, while the pager grants C's futexes."""
    n = int(__import__("os").environ.get("XPPROBE_N", "65536"))
    w = hello(T, uniq("well")).keep_alive(LEASE / 8)
    x = hello(T, uniq("waiter")).keep_alive(LEASE / 8)
    init(w, 1, "shared", 4096); init(x, 1, "shared", 4096)
    lock(w, 1, 1 << 19); gw = w.wait_kind("memory_object_futex_granted")
    lock(x, 1, 1 << 19); w.wait_kind("memory_object_relinquish_futex")
    c = hello(T, uniq("cache")).keep_alive(LEASE / 8)
    init(c, 1, "shared", 4096)
    t0 = time.time()
    for off in range(0, n * 4, 4):
        c.send_raw(xp.KernelToPager(memory_object_lock_futex=xp.MemoryObjectLockFutex(object_id=1, offset=off)))
    keepalive(c, 1)
    got = c.wait_kind("pager_keepalive", sequence=1, timeout=900)
    dt = time.time() - t0
    time.sleep(0.5)
    gx = x.wait_kind("memory_object_futex_granted", timeout=0.1)
    print("  C: %d futexes granted in %.1fs" % (n, dt))
    d = w.keepalive_delays()
    print("  W: %s; keepalive answers: worst %.2fs, %d of %d over L/6 (a machxp kernel resumes), %d over L*4/5 (it stops)" % (
        desc(w.end), max(d), sum(1 for x in d if x > LEASE / 6), len(d), sum(1 for x in d if x > LEASE * 0.8)))
    print("  X got F:", gx)
    ok = w.end is None and gx is None and max(d) < LEASE / 6
    for s in (w, x, c):
        s.stop_keepalive(); s.cancel()
    result("cache_stall", ok, f"N={n}: W's worst keepalive answer {max(d):.1f}s (lease {LEASE}s); W {desc(w.end)[:90]}; X granted F={gx is not None} owner_died={gx.owner_died if gx else None}")


def p_try_then_terminate():
    """A holds F idle; B trylocks (relinquish try goes to A); A terminates the object instead of
    answering: B must be granted (the first of the pending tries), not left waiting."""
    a = hello(T, uniq("tt")).keep_alive(); b = hello(T, uniq("ttb")).keep_alive()
    init(a, 1, "shared", 4096); init(b, 1, "shared", 4096)
    lock(a, 1, 640); a.wait_kind("memory_object_futex_granted")
    lock(b, 1, 640, **{"try": True}); a.wait_kind("memory_object_relinquish_futex")
    a.send(memory_object_terminate=xp.MemoryObjectTerminate(object_id=1))
    m = b.wait_for(lambda m: m.WhichOneof("routine") in ("memory_object_futex_granted", "memory_object_futex_busy"), 3)
    print("  B:", m)
    ok = m is not None and m.WhichOneof("routine") == "memory_object_futex_granted" and not m.memory_object_futex_granted.handoff
    for s in (a, b):
        s.stop_keepalive(); s.cancel()
    result("try_then_terminate", ok, str(m))


def p_two_ids_terminate_cross():
    """A names 'shared' by ids 1 and 2 and holds F (under 1); B waits, so the relinquish goes to A
    under 1; A terminates id 1 and then answers the relinquish under id 1 (it crossed): the pager
    must take the release (5.3) and grant B."""
    a = hello(T, uniq("ti")).keep_alive(); b = hello(T, uniq("tib")).keep_alive()
    init(a, 1, "shared", 4096); init(a, 2, "shared", 4096); init(b, 1, "shared", 4096)
    lock(a, 1, 704); g = a.wait_kind("memory_object_futex_granted")
    lock(b, 1, 704); r = a.wait_kind("memory_object_relinquish_futex")
    a.send(memory_object_terminate=xp.MemoryObjectTerminate(object_id=1))
    release(a, 1, 704, g.fencing_token)
    gb = b.wait_kind("memory_object_futex_granted", timeout=3)
    print("  relinquish under id", r.object_id, "; B:", gb)
    again = [m.memory_object_relinquish_futex.object_id for m in a.msgs if m.WhichOneof("routine") == "memory_object_relinquish_futex"]
    print("  relinquishes A got under ids:", again)
    for s in (a, b):
        s.stop_keepalive(); s.cancel()
    result("two_ids_terminate_cross", gb is not None, "B not granted")


def p_hello_fields():
    """Hello edge cases: tid_prefix 0 and 1024 set explicitly, 65-char and non-ASCII names, a
    version 3, a resume of an unknown session: each refused with the spec's code and an errno."""
    cases = {
        "tid_prefix=0": dict(name=uniq("z"), tid_prefix=0, want="EINVAL"),
        "tid_prefix=1024": dict(name=uniq("z"), tid_prefix=1024, want="EINVAL"),
        "name 65 chars": dict(name="n" * 65, want="EINVAL"),
        "name non-ascii": dict(name="k\u00e9rnel", want="EINVAL"),
        "name with space": dict(name="a b", want="EINVAL"),
        "version 3": dict(name=uniq("v"), version=3, want="EPROTONOSUPPORT"),
        "resume unknown": dict(name=uniq("r"), resume=xp.Resume(kernel_id=5, session_token=42, received=0, attempt=1), want="ESTALE"),
    }
    bad = []
    for label, c in cases.items():
        want = c.pop("want")
        name = c.pop("name")
        s = hello(T, name, wait=False, **c)
        s.welcome = s.wait_kind("pager_welcome", timeout=3)
        e = s.wait_end(3) if s.welcome is None else None
        print(f"  {label}: {'WELCOMED id %d' % s.welcome.kernel_id if s.welcome else desc(e)[:150]}")
        if s.welcome is not None or e is None or e[1] != want:
            bad.append(f"{label}: {'welcomed' if s.welcome else desc(e)[:80]}")
        s.cancel()
    result("hello_fields", not bad, "; ".join(bad))


# Run only when named: each makes the pager's core thread busy for minutes (finding XP-P1), and
# futex_quota (2^18 futexes) for far longer.
SLOW = ("cache_stall", "futex_quota")
PROBES = {n[2:]: f for n, f in dict(globals()).items() if n.startswith("p_")}

if __name__ == "__main__":
    T = sys.argv[1]
    names = sys.argv[2:] or [n for n in PROBES if n not in SLOW]
    for n in names:
        print(f"== {n}: {PROBES[n].__doc__.strip().splitlines()[0]}", flush=True)
        try:
            PROBES[n]()
        except Exception as e:  # noqa: BLE001
            import traceback; traceback.print_exc()
            result(n, False, f"probe raised {e!r}")
    print("\n".join(results))
