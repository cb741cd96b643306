package io.machxp.conform.kernel;

import static io.machxp.conform.kernel.KernelCases.must;
import static io.machxp.conform.kernel.KernelCases.should;
import static io.machxp.conform.kernel.KernelCases.that;

import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.Status;
import io.machxp.conform.ConformCase;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.VmFutexConsistentRequest;
import io.machxp.proto.task.VmLockFutexReply;
import io.machxp.proto.task.VmLockFutexRequest;
import io.machxp.proto.task.VmTrylockFutexReply;
import io.machxp.proto.task.VmTrylockFutexRequest;
import io.machxp.proto.task.VmUnlockFutexRequest;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import java.util.List;

/** Kernel cases of spec section 8 (futexes): requests, grants, relinquish, tokens, owner_died, order, probes. */
final class KernelFutexCases {
    private KernelFutexCases() {}

    static List<ConformCase<KernelProbe>> all() {
        return List.of(
                must("8.3-lock-asks-pager", "vm_lock_futex of a futex the kernel does not hold sends lock_futex (byte "
                        + "offset); the grant's token comes back to the task", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(4));
                    int t = p.thread(10);
                    long off = p.pageSize() + 12;
                    ListenableFuture<VmLockFutexReply> lock = lock(p, m, t, off);
                    var req = p.lockFutex(m, off, "a lock of a futex not held (spec 8.3, 8.11)");
                    that(!req.getTry(), "vm_lock_futex sent a try");
                    long token = p.grant(m, off, false, false);
                    VmLockFutexReply r = KernelPageCases.getUnchecked(lock, p) instanceof VmLockFutexReply x ? x : null;
                    that(r != null && r.getPath() == AcquirePath.PAGER_GRANT, "the lock's path is "
                            + (r == null ? "?" : r.getPath()) + ", not PAGER_GRANT");
                    that(r.getFencingToken() == token, "vm_lock_futex returned fencing token " + r.getFencingToken()
                            + "; the grant carried " + token + " (spec 8.5, 11.2)");
                    that(!r.getOwnerDied(), "owner_died without a grant saying so");
                }),
                must("8.4-relinquish-free", "a relinquish of a futex no thread owns is answered with futex_released "
                        + "carrying the grant's token", p -> {
                    Cached c = cached(p, 8);
                    c.m().link().send(KernelMessages.relinquish(c.m().objectId(), c.offset(), 0));
                    MemoryObjectFutexReleased r = released(p, c.m(), c.offset(), "a relinquish of a free futex "
                            + "(spec 8.4)");
                    that(r.getFencingToken() == c.token(), "futex_released carries token " + r.getFencingToken()
                            + "; the grant's was " + c.token() + " (spec 8.5)");
                }),
                must("8.4-relinquish-waits-owner", "a relinquish of an owned futex is answered only at the owner's "
                        + "unlock", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(4));
                    int t = p.thread(10);
                    long off = 16;
                    long token = lockGranted(p, m, t, off, false);
                    m.link().send(KernelMessages.relinquish(m.objectId(), off, 0));
                    p.sync(m);
                    that(m.link().pending().stream().noneMatch(x -> x.hasMemoryObjectFutexReleased()
                            && x.getMemoryObjectFutexReleased().getObjectId() == m.objectId()),
                            "futex_released while a thread still owns the futex (spec 8.4, 8.11)");
                    unlock(p, t, m, off);
                    that(released(p, m, off, "the owner unlocked after a relinquish (spec 8.4)").getFencingToken()
                            == token, "futex_released carries another token than the grant's");
                }),
                must("8.4-deboost-not-withdrawn", "a relinquish stands after a priority-0 ask that only deboosts: "
                        + "the owner's unlock still gives the futex back", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(4));
                    int t = p.thread(10);
                    long off = 60;
                    long token = lockGranted(p, m, t, off, false);
                    m.link().send(KernelMessages.relinquish(m.objectId(), off, 50)); // a waiter elsewhere
                    m.link().send(KernelMessages.relinquish(m.objectId(), off, 0)); // it left: the deboost
                    p.sync(m);
                    unlock(p, t, m, off);
                    that(released(p, m, off, "the owner unlocked after a relinquish and its deboost: a relinquish is "
                            + "never withdrawn (spec 8.4)").getFencingToken() == token,
                            "futex_released carries another token than the grant's");
                }),
                must("8.4-release-asks-again", "a futex given back while a local thread still waits for it asks "
                        + "again inside the release (request_again), with no separate lock_futex", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(4));
                    int owner = p.thread(10);
                    int waiter = p.thread(10);
                    long off = 52;
                    long token = lockGranted(p, m, owner, off, false);
                    // a waiter elsewhere above the local one, so the futex goes back at the unlock
                    // however the kernel orders local and remote waiters (spec 8.3, 8.6)
                    m.link().send(KernelMessages.relinquish(m.objectId(), off, 50));
                    p.sync(m);
                    ListenableFuture<VmLockFutexReply> waiting = secondWaiter(p, m, waiter, off);
                    unlock(p, owner, m, off);
                    MemoryObjectFutexReleased r = released(p, m, off, "the owner unlocked after a relinquish, while "
                            + "thread " + waiter + " waits (spec 8.4)");
                    that(r.getFencingToken() == token, "futex_released carries another token than the grant's");
                    that(r.getRequestAgain(), "thread " + waiter + " still waits: the release must ask again "
                            + "(request_again), or the pager never grants the futex back to it (spec 8.4)");
                    p.sync(m);
                    that(m.link().pending().stream().noneMatch(x -> x.hasMemoryObjectLockFutex()
                            && x.getMemoryObjectLockFutex().getObjectId() == m.objectId()
                            && x.getMemoryObjectLockFutex().getOffset() == off), "a separate lock_futex after a "
                            + "release that asks again (spec 8.4: MUST NOT)");
                    p.grant(m, off, false, false);
                    KernelPageCases.getUnchecked(waiting, p);
                    unlock(p, waiter, m, off);
                }),
                must("8.3-granted-relinquish", "a grant with relinquish set is given back at the owner's unlock, "
                        + "without a separate relinquish", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(4));
                    int t = p.thread(10);
                    long off = 20;
                    long token = lockGranted(p, m, t, off, true);
                    unlock(p, t, m, off);
                    that(released(p, m, off, "the grant asked for the futex back (spec 8.3)").getFencingToken()
                            == token, "futex_released carries another token than the grant's");
                }),
                must("8.5-token-echo", "a second grant's token is the one returned to the task and put in "
                        + "futex_released", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(4));
                    int t = p.thread(10);
                    long off = 24;
                    long first = lockGranted(p, m, t, off, true);
                    unlock(p, t, m, off);
                    that(released(p, m, off, "the first grant").getFencingToken() == first, "the first release "
                            + "carries another token than its grant's");
                    long second = lockGranted(p, m, t, off, true);
                    unlock(p, t, m, off);
                    long echoed = released(p, m, off, "the second grant").getFencingToken();
                    that(echoed == second, "futex_released carries token " + echoed + "; the current grant's is "
                            + second + " (the first was " + first + ") (spec 8.5)");
                }),
                must("8.3-trylock-asks-try", "vm_trylock_futex of a futex the kernel does not hold sends lock_futex "
                        + "with try; futex_busy makes the trylock return not acquired", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(4));
                    int t = p.thread(10);
                    long off = 44;
                    ListenableFuture<VmTrylockFutexReply> tryLock = p.async().vmTrylockFutex(VmTrylockFutexRequest
                            .newBuilder().setTask(p.task()).setThread(t).setAddress(m.address() + off).build());
                    var req = p.lockFutex(m, off, "a trylock of a futex not held (spec 8.3, 8.11)");
                    that(req.getTry(), "vm_trylock_futex sent lock_futex without try: the pager would queue it and "
                            + "grant the futex later, to a thread that no longer waits (spec 8.3)");
                    m.link().send(KernelMessages.busy(m.objectId(), off));
                    VmTrylockFutexReply r = (VmTrylockFutexReply) KernelPageCases.getUnchecked(tryLock, p);
                    that(!r.getAcquired(), "the trylock answered futex_busy must return not acquired (spec 8.11)");
                }),
                must("8.3-relinquish-try-held", "a relinquish with try of a futex a thread owns is answered futex_held "
                        + "with the grant's token; the futex is not given back", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(4));
                    int t = p.thread(10);
                    long off = 48;
                    long token = lockGranted(p, m, t, off, false);
                    m.link().send(KernelMessages.relinquishTry(m.objectId(), off));
                    var held = p.await(m, "futex_held at 0x" + Long.toHexString(off) + ": a trylock elsewhere asks for "
                            + "a futex a thread owns (spec 8.3, 8.11)", x -> x.hasMemoryObjectFutexHeld()
                                    && x.getMemoryObjectFutexHeld().getObjectId() == m.objectId()
                                    && x.getMemoryObjectFutexHeld().getOffset() == off).getMemoryObjectFutexHeld();
                    that(held.getFencingToken() == token, "futex_held carries token " + held.getFencingToken()
                            + "; the grant's was " + token + " (spec 8.5)");
                    p.sync(m);
                    that(m.link().pending().stream().noneMatch(x -> x.hasMemoryObjectFutexReleased()
                            && x.getMemoryObjectFutexReleased().getObjectId() == m.objectId()),
                            "futex_released for a futex a thread owns: a relinquish with try takes only a free futex "
                                    + "(spec 8.2, 8.3)");
                    unlock(p, t, m, off);
                }),
                must("8.7-owner-died", "a grant with owner_died makes the lock answer owner_died (EOWNERDEAD)", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(4));
                    int t = p.thread(10);
                    long off = 28;
                    ListenableFuture<VmLockFutexReply> lock = lock(p, m, t, off);
                    p.lockFutex(m, off, "a lock of a futex not held");
                    p.grant(m, off, true, false);
                    VmLockFutexReply r = (VmLockFutexReply) KernelPageCases.getUnchecked(lock, p);
                    that(r.getOwnerDied(), "the grant carried owner_died; vm_lock_futex must say owner_died "
                            + "(spec 8.7, 11.1 EOWNERDEAD)");
                    p.tasks().vmFutexConsistent(VmFutexConsistentRequest.newBuilder().setTask(p.task()).setThread(t)
                            .setAddress(m.address() + off).build());
                    unlock(p, t, m, off);
                }),
                must("8.7-owner-died-in-word", "a grant without owner_died of a futex whose word says OWNER_DIED "
                        + "with no owner makes the lock answer owner_died (EOWNERDEAD)", p -> {
                    ServedObject o = p.serve(4);
                    long off = 44;
                    byte[] page = new byte[p.pageSize()];
                    // As the pager's own recording of a death leaves the word (spec 8.7), WAITERS kept,
                    // as Linux's robust-list walk leaves it: (word & FUTEX_WAITERS) | FUTEX_OWNER_DIED.
                    java.nio.ByteBuffer.wrap(page).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt((int) off,
                            0x80000000 | 0x40000000);
                    o.put(0, page, 1);
                    KernelProbe.Mapping m = p.map(o);
                    int t = p.thread(10);
                    ListenableFuture<VmLockFutexReply> lock = lock(p, m, t, off);
                    p.lockFutex(m, off, "a lock of a futex not held");
                    p.grant(m, off, false, false);
                    VmLockFutexReply r = (VmLockFutexReply) KernelPageCases.getUnchecked(lock, p);
                    that(r.getOwnerDied(), "the futex's word said OWNER_DIED with no owner (the pager recorded the "
                            + "holder's death itself); vm_lock_futex must say owner_died, as with the grant's flag "
                            + "(spec 8.7, 11.1 EOWNERDEAD; Linux's FUTEX_LOCK_PI on such a word)");
                    p.tasks().vmFutexConsistent(VmFutexConsistentRequest.newBuilder().setTask(p.task()).setThread(t)
                            .setAddress(m.address() + off).build());
                    unlock(p, t, m, off);
                }),
                must("8.4-stale-heir-rewritten", "(with stale_heir_tid in its hello; else skipped) a grant naming "
                        + "a stale heir whose TID the word still names: the word is written free, and the lock gets "
                        + "the futex with no owner_died", p -> {
                    if (!p.link().hello().getFeaturesList().contains("stale_heir_tid")) {
                        throw new io.machxp.conform.Skipped("the kernel's hello does not name stale_heir_tid (optional, "
                                + "spec 6.12, 8.4): a pager grants it owner_died instead");
                    }
                    ServedObject o = p.serve(4);
                    long off = 60;
                    // A thread of another kernel (prefix 1000) woken as an unlock's heir that left before
                    // it ran: the unlock left its TID (with WAITERS) in the word, and it owns nothing.
                    int stale = 1000 << 20 | 5;
                    byte[] page = new byte[p.pageSize()];
                    java.nio.ByteBuffer.wrap(page).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt((int) off,
                            0x80000000 | stale);
                    o.put(0, page, 1);
                    KernelProbe.Mapping m = p.map(o);
                    int t = p.thread(10);
                    ListenableFuture<VmLockFutexReply> lock = lock(p, m, t, off);
                    p.lockFutex(m, off, "a lock of a futex not held");
                    long token = p.grantNamingStaleHeir(m, off, stale);
                    VmLockFutexReply r = (VmLockFutexReply) KernelPageCases.getUnchecked(lock, p);
                    that(!r.getOwnerDied() && r.getFencingToken() == token, "after a grant naming stale heir " + stale
                            + " whose TID the word held, vm_lock_futex must get the futex with the grant's token and "
                            + "no owner_died (spec 8.4: the kernel writes the word 0 first); it answered owner_died "
                            + r.getOwnerDied() + ", token " + r.getFencingToken());
                    unlock(p, t, m, off);
                }),
                must("8.6-equal-priority-fifo", "one lock_futex for local waiters; among equal priorities the first "
                        + "waiter gets the grant", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(4));
                    int a = p.thread(10);
                    int b = p.thread(10);
                    long off = 32;
                    ListenableFuture<VmLockFutexReply> first = lock(p, m, a, off);
                    p.lockFutex(m, off, "the first waiter"); // thread a waits now
                    ListenableFuture<VmLockFutexReply> second = secondWaiter(p, m, b, off);
                    p.sync(m);
                    that(m.link().pending().stream().noneMatch(x -> x.hasMemoryObjectLockFutex()
                            && x.getMemoryObjectLockFutex().getObjectId() == m.objectId()
                            && x.getMemoryObjectLockFutex().getOffset() == off && !x.getMemoryObjectLockFutex()
                            .getUpdate()), "a second lock_futex for a futex already asked for (spec 8.3)");
                    p.grant(m, off, false, false);
                    m.link().awaitCondition("either waiter's lock to return", () -> first.isDone() || second.isDone(),
                            p.deadline());
                    that(first.isDone() && !second.isDone(), "thread " + b + " got the futex before thread " + a
                            + ", which waited first at the same priority (spec 8.6, 8.11)");
                    unlock(p, a, m, off);
                    KernelPageCases.getUnchecked(second, p);
                    unlock(p, b, m, off);
                }),
                should("8.9-probe-deadlock", "a wait that may close a cycle across kernels sends futex_probe; the probe "
                        + "coming back fails that wait with EDEADLK", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(4));
                    int t = p.thread(10);
                    long owned = 36;
                    long wanted = 40;
                    lockGranted(p, m, t, owned, false);
                    m.link().send(KernelMessages.relinquish(m.objectId(), owned, 20)); // a waiter elsewhere
                    ListenableFuture<VmLockFutexReply> lock = lock(p, m, t, wanted);
                    p.lockFutex(m, wanted, "a wait for a futex held elsewhere");
                    KernelToPager probe = p.await(m, "futex_probe for the futex it waits for (spec 8.9)",
                            x -> x.hasMemoryObjectFutexProbe() && x.getMemoryObjectFutexProbe().getObjectId()
                                    == m.objectId() && x.getMemoryObjectFutexProbe().getOffset() == wanted);
                    var pr = probe.getMemoryObjectFutexProbe();
                    m.link().send(KernelMessages.probe(m.objectId(), owned, pr.getInitiator(), pr.getWait(),
                            pr.getHops() + 1));
                    KernelProbe.fails(() -> KernelPageCases.getUnchecked(lock, p), Status.Code.FAILED_PRECONDITION,
                            "EDEADLK", "a wait whose probe came back to its thread");
                    unlock(p, t, m, owned);
                }));
    }

    static ListenableFuture<VmLockFutexReply> lock(KernelProbe p, KernelProbe.Mapping m, int thread, long off) {
        return p.async().vmLockFutex(VmLockFutexRequest.newBuilder().setTask(p.task()).setThread(thread)
                .setAddress(m.address() + off).build());
    }

    /** vm_lock_futex by {@code thread}, its lock_futex and a grant; the grant's token. */
    static long lockGranted(KernelProbe p, KernelProbe.Mapping m, int thread, long off, boolean relinquish) {
        ListenableFuture<VmLockFutexReply> lock = lock(p, m, thread, off);
        p.lockFutex(m, off, "a lock of a futex not held (spec 8.3)");
        long token = p.grant(m, off, false, relinquish);
        KernelPageCases.getUnchecked(lock, p);
        return token;
    }

    /** A futex the kernel caches (spec 8.2): in a new object, granted to a new thread, then unlocked. */
    record Cached(KernelProbe.Mapping m, int thread, long offset, long token) {}

    static Cached cached(KernelProbe p, long off) {
        KernelProbe.Mapping m = p.map(p.serve(4));
        int t = p.thread(10);
        long token = lockGranted(p, m, t, off, false);
        unlock(p, t, m, off);
        return new Cached(m, t, off, token);
    }

    static void unlock(KernelProbe p, int thread, KernelProbe.Mapping m, long off) {
        p.tasks().vmUnlockFutex(VmUnlockFutexRequest.newBuilder().setTask(p.task()).setThread(thread)
                .setAddress(m.address() + off).build());
    }

    static MemoryObjectFutexReleased released(KernelProbe p, KernelProbe.Mapping m, long off, String why) {
        return p.await(m, "futex_released at 0x" + Long.toHexString(off) + ": " + why,
                x -> x.hasMemoryObjectFutexReleased() && x.getMemoryObjectFutexReleased().getObjectId() == m.objectId()
                        && x.getMemoryObjectFutexReleased().getOffset() == off)
                .getMemoryObjectFutexReleased();
    }

    /**
     * A lock by {@code thread} that is known to wait in the kernel: two calls are made, and since a
     * thread makes one call at a time (spec 11.1), one of them is refused with EBUSY once the other
     * waits; the one that waits.
     */
    static ListenableFuture<VmLockFutexReply> secondWaiter(KernelProbe p, KernelProbe.Mapping m, int thread,
            long off) {
        ListenableFuture<VmLockFutexReply> one = lock(p, m, thread, off);
        ListenableFuture<VmLockFutexReply> two = lock(p, m, thread, off);
        m.link().awaitCondition("EBUSY for one of two calls of thread " + thread + " (spec 11.1)",
                () -> one.isDone() || two.isDone(), p.deadline());
        ListenableFuture<VmLockFutexReply> refused = one.isDone() ? one : two;
        KernelProbe.fails(() -> KernelPageCases.getUnchecked(refused, p), Status.Code.FAILED_PRECONDITION, "EBUSY",
                "a call of a thread already blocked in vm_lock_futex");
        return refused == one ? two : one;
    }
}
