package io.machxp.pager.core;

import io.machxp.pager.futex.FutexKey;
import io.machxp.pager.futex.FutexRecord;
import io.machxp.pager.page.PageCoherence;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelKeepalive;
import io.machxp.proto.xp.PagerKeepalive;
import io.machxp.proto.xp.PagerToKernel;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The sessions' leases: when each kernel was last heard, the timer that watches its lease, the
 * answer to its keepalives, its death when a lease ends unheard, and the fence that keeps what a
 * dead kernel still sends from being taken. Part of the pager core beside {@link PagerSessions}
 * (which opens, closes, ends and forgets sessions), core thread only. {@code leaseNanos == 0}
 * turns leases off: no timer is set and no session is declared dead (a keepalive is still
 * answered).
 *
 * <h2>Overview</h2>
 * A session's lease is LIVE (heard within a lease), BROKEN (its stream ended while it held
 * something, {@link PagerSessions#closed}: the lease runs on), then DEAD (fenced) and forgotten.
 * <pre>
 *  session opened             its lease runs from now; a LeaseCheck timer is set for its end
 *  any message from K         K's lease runs a full lease from now ({@link PagerSessions#heard},
 *                             or a new leader's takeover: {@link LeaderTakeover})
 *  kernel_keepalive           answered with pager_keepalive of the same sequence once the writes
 *                             before it are on disk (a failed one of its returns written again
 *                             first, {@link StoreRetries}) and its page operations that waited
 *                             for the store's reads then are answered ({@link PageCoherence})
 *  LeaseCheck due             K gone already: nothing; heard within a lease: watched on (a new
 *                             LeaseCheck for its new end); its kernel_hello held by the grace
 *                             period: looked at again a lease from now; no kernel_hello within a
 *                             lease: forgotten, its stream ended (ETIMEDOUT), no death; else DEAD
 *  K declared DEAD            its pages revert to the pager's copy, each futex it held goes to the
 *                             next waiter with owner_died (or keeps the flag for the next grant),
 *                             it is forgotten, its stream is ended (ETIMEDOUT) unless broken, and
 *                             its session id is fenced: what still arrives on it is dropped and
 *                             counted ({@link PagerSessions#receiving})
 *  ForgetDead due             a lease after the death (its stream is long gone): the fence is
 *                             forgotten
 * </pre>
 * A kernel stops using what it holds a margin before the pager can declare it dead (it counts
 * from when it sent the keepalive the pager answered), so no futex has two owning kernels. The
 * futex side of a death is {@link FutexDepartures}', the page side {@link PageCoherence}'s, the
 * owner_died the pager records in futex words itself {@link DeathRecorder}'s.
 */
final class SessionLeases {
    private final CoreContext core;
    private final PageCoherence pages;
    private final PagerFutexes futexes;
    private final PagerSessions sessions;
    private final long leaseNanos;
    /** Sessions declared dead: what still arrives from them is fenced off (for a lease, then forgotten). */
    final Set<Long> deadSessions = new HashSet<>();

    SessionLeases(CoreContext core, PageCoherence pages, PagerFutexes futexes, PagerSessions sessions,
            long leaseNanos) {
        this.core = core;
        this.pages = pages;
        this.futexes = futexes;
        this.sessions = sessions;
        this.leaseNanos = leaseNanos;
    }

    /** How long the session's lease still runs, in milliseconds (0 once it has ended). */
    long leaseLeftMillis(KernelSession s) {
        return Math.max(0, (s.lastHeard + leaseNanos - core.env.nanoTime()) / 1_000_000);
    }

    /** Sets the session's LeaseCheck for when its lease, as counted from when it was last heard, ends. */
    void watchLease(KernelSession s) {
        long ends = s.lastHeard + core.plants.leaseAsCounted(leaseNanos);
        core.timers.set(ends - core.env.nanoTime(), new CoreTimers.LeaseCheck(s));
    }

    /** A lease timer of the session is due: declared dead if unheard for a lease, else watched on. */
    void leaseDue(KernelSession s) {
        if (sessions.get(s.id) != s) {
            return; // gone already
        }
        long silent = core.env.nanoTime() - s.lastHeard;
        if (silent < core.plants.leaseAsCounted(leaseNanos)) {
            watchLease(s);
            return;
        }
        if (!s.welcomed() && s.heldInGrace > 0) {
            // Its kernel_hello is held until the grace period ends: that silence does not count. Look
            // again a lease from now (the grace's end restarts its lease): watching from when it was
            // last heard would be due at once, again and again (a timer loop that time never leaves).
            core.timers.set(core.plants.leaseAsCounted(leaseNanos), new CoreTimers.LeaseCheck(s));
            return;
        }
        if (!s.welcomed()) {
            noHello(s, silent);
            return;
        }
        declareDead(s, "the pager heard nothing from it for " + silent / 1_000_000 + " ms (lease "
                + leaseNanos / 1_000_000 + " ms)" + (s.broken ? " after its stream broke" : ""));
    }

    /**
     * A stream that sent no kernel_hello within a lease (xp-spec 2.1): it has no kernel, holds
     * nothing and is owed nothing, so it is forgotten and ended with a sentence of its own (no
     * death, no futexes, no writes lost).
     */
    private void noHello(KernelSession s, long silent) {
        sessions.forget(s);
        CoreContext.log.info("pager {}: ended {}: no kernel_hello within its lease ({} ms)", core.name, s,
                silent / 1_000_000);
        core.env.endSession(s.id, Errno.ETIMEDOUT, "pager " + core.name + " heard no kernel_hello on this stream for "
                + silent / 1_000_000 + " ms (lease " + leaseNanos / 1_000_000 + " ms): a session begins with "
                + "kernel_hello; nothing of this stream is kept");
    }

    /**
     * The kernel's lease ran out: it has stopped using what it held (it counts its lease from
     * earlier than the pager does), so its pages revert to the pager's copy and each futex it held
     * goes to the next waiter with owner_died. Its stream is ended; what still arrives is fenced.
     */
    private void declareDead(KernelSession s, String why) {
        for (FutexKey key : s.held) { // before its pages revert: did it hold the futex's page writable?
            FutexRecord f = futexes.records().get(key);
            boolean clean = !pages.writes(s, key.object(), key.offset() - key.offset() % core.pageSize);
            // an earlier death not told yet (its TIDs maybe seen gone already): not clean unless both are
            f.zeroWordClean = f.deathUntold ? f.zeroWordClean && clean : clean;
        }
        sessions.deaths.revertingWriter(s, deadPrefixes(s)::contains); // words its reverted pages' older copies name it in (futexes it let go)
        List<FutexKey> held = futexes.departures.ownerDied(s);
        if (!held.isEmpty()) {
            sessions.prefixes.died(s); // its TIDs may stay in those futexes' words
        }
        sessions.forget(s);
        sessions.deaths.died(held); // the futexes nobody waited for: recorded in the pager's copy if nobody holds their pages
        deadSessions.add(s.id);
        if (leaseNanos > 0) {
            core.timers.set(leaseNanos, new CoreTimers.ForgetDead(s.id)); // its stream is long gone by then
        }
        core.stats.kernelsDeclaredDead.increment();
        CoreContext.log.warn("pager {}: declared {} dead: {}; its {} futexes went on with OWNER_DIED and its pages "
                + "reverted to the pager's copy", core.name, s, why, held.size());
        core.env.declaredDead(s.kernelName == null ? s.toString() : s.kernelName, held);
        if (s.broken) {
            return; // its stream has ended already
        }
        core.env.endSession(s.id, Errno.ETIMEDOUT, "pager " + core.name + " declared " + s + " dead: " + why
                + "; the futexes it held went to their next owners with OWNER_DIED and the writes it had not "
                + "returned are lost; restart the kernel");
    }

    /**
     * The TID prefixes (TID >> 20, xp-spec 2.9) of kernels that are gone, for the words of the pages
     * {@code s} held writable ({@link DeathRecorder#revertingWriter}): a prefix this pager knows a
     * kernel had, a dead one's ({@link TidPrefixes#died}, which keeps the prefix and its name) or
     * that of the kernel an id is given to or rests for ({@link KernelIds#prefixesOfIds}: the id
     * itself only where this pager is the kernel's primary), that no open session but {@code s}
     * has. Judged by prefix, not by this pager's kernel ids: a kernel whose primary is another pager
     * has a local id unrelated to its TIDs (late12 MED-4). A prefix this pager never saw (a task
     * wrote the word) is none.
     */
    private java.util.Set<Integer> deadPrefixes(KernelSession s) {
        java.util.Set<Integer> dead = sessions.ids.prefixesOfIds();
        dead.addAll(sessions.prefixes.died.keySet());
        for (KernelSession o : sessions.all()) {
            if (o != s) {
                dead.remove(o.tidPrefix);
            }
        }
        return dead;
    }

    /**
     * kernel_keepalive: answered with pager_keepalive of the same sequence, once every store write
     * submitted before it is done and no return of this kernel whose write failed is left (a
     * failed one is written again first, see {@link StoreRetries}): the answer tells the kernel
     * that what it gave back before is on disk, so it may drop the copies it kept for a reclaim.
     * It is also a barrier for page answers (xp-spec 4.2, 10.1): a page operation of this kernel
     * that waits for the store's read when the keepalive arrives is answered first
     * ({@link PageCoherence#keepaliveBarrier}; a blocking store reads off the core thread).
     */
    void keepalive(KernelSession s, KernelKeepalive k) {
        PagerToKernel answer = PagerToKernel.newBuilder().setPagerKeepalive(
                PagerKeepalive.newBuilder().setSequence(k.getSequence())).build();
        java.util.function.Consumer<Runnable> afterFetches = pages.keepaliveBarrier(s);
        core.env.storeEffect(() -> { }, failure -> core.retries.whenWritten(s, () -> afterFetches.accept(() -> {
            if (sessions.get(s.id) == s) {
                core.send(s, answer);
            }
        })));
    }

    /** A session declared dead a lease ago is forgotten: nothing more can arrive from it. */
    void forgetDead(long sessionId) {
        deadSessions.remove(sessionId);
    }

    /** How many sessions declared dead are remembered, to fence what still arrives from them. */
    int deadCount() {
        return deadSessions.size();
    }
}
