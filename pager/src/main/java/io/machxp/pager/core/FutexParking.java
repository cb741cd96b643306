package io.machxp.pager.core;

import io.machxp.pager.futex.FutexKey;
import io.machxp.pager.futex.FutexRecord;
import io.machxp.proto.xp.MemoryObjectRelinquishFutex;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The pager's bound on futex records for all kernels together ({@link PagerFutexes}), kept
 * without ending the kernel that happens to ask next (XP review, finding 2). Part of the core's
 * state, so in its snapshots ({@link SnapshotWriter}): every replica parks, asks and goes on
 * alike. Pager core thread only.
 *
 * <h2>Overview</h2>
 * A kernel keeps a futex no thread of it owns "until asked" (xp-spec 8.2), so the records fill
 * mostly with futexes cached idle. When a lock_futex needs a new record and the pager keeps as
 * many as it may, the request is not refused: it waits here (parked, in arrival order, with the
 * futex it names resolved and the priority it waits with), and the pager asks the kernels holding
 * the most futexes to give idle ones back with relinquish_futex(try) (xp-spec 8.3: the holder gives
 * back a futex no thread there owns or waits for, else answers futex_held). Each futex given back
 * frees its record, and the parked requests go on, in order, as if they had just arrived. Records
 * of free futexes kept only for the pages given back with them are pruned first, their pages left
 * for the next holder to page in ({@link FutexRecords#shedCarried}).
 * <pre>
 *  lock_futex, new record, records full -> parked (counts in its session's own bound, as a queued
 *                                          one); relinquish_futex(try) to the biggest holders,
 *                                          for futexes nobody queues or tries for
 *  lock_futex update of a parked one    -> its priority (and wait) replaced, its place kept
 *  trylock, new record, records full    -> futex_busy at once (not parked); idle futexes asked back
 *  after every input                    -> parked requests go on while records are free
 *  futex_held to such an ask            -> kept: asked again only after a while ({@link #askAgainNanos}),
 *                                          then before any other ({@link KeptFutexes})
 *  ask-back timer (every askAgainNanos  -> unrecorded deaths forced (their pages taken from their
 *    while requests are parked)            writers), idle futexes asked back again, those kept
 *                                          once included
 *  its kernel leaves (stream broken,    -> its parked requests (of the object) are dropped, as it
 *    forgotten, object terminated)         leaves every queue
 * </pre>
 * A kernel whose request is parked waits as for a held futex: its lease, keepalives and other
 * requests go on. What is parked is bounded by each session's own quota, in which a parked request
 * counts as a queued one (held + queued + parked, {@link PagerFutexes}), as the queued requests
 * are: no total cap, so no kernel under its own quota is ended because others park (a Parked is a
 * key and two ints, as small as a queue entry).
 */
final class FutexParking {
    /** How many idle futexes an ask round asks for beyond the requests parked (fewer round trips). */
    static final int ASK_AHEAD = 32;

    /** A parked lock_futex. */
    static final class Parked {
        final KernelSession session;
        final FutexKey key;
        int priority;
        /** When its top waiter began waiting (pager clock; FutexQueue.UNKNOWN: not known). */
        long since;

        Parked(KernelSession session, FutexKey key, int priority, long since) {
            this.session = session;
            this.key = key;
            this.priority = priority;
            this.since = since;
        }
    }

    /** Who takes a parked request when it goes on: lock_futex's path past its checks ({@link PagerFutexes}). */
    @FunctionalInterface
    interface Lock {
        void lock(KernelSession s, FutexKey key, int priority, long since);
    }

    private record Spot(KernelSession session, FutexKey key) {
    }

    private final CoreContext core;
    private final FutexRecords records;
    private final int maxFutexes;
    /** How long a futex its holder kept when asked is not asked for again. */
    final long askAgainNanos;
    /** The parked requests, in the order they go on. */
    private final LinkedHashMap<Spot, Parked> parked = new LinkedHashMap<>();
    /**
     * The same, per kernel and object: what a terminate drops is found without a walk of every
     * request parked ({@link #leave}). Derived: rebuilt as a restore parks them again.
     */
    private final Map<KernelSession, Map<String, Set<FutexKey>>> bySession = new HashMap<>();
    /**
     * Futexes their holders kept when asked, in the order they are asked again once
     * {@link #askAgainNanos} has passed: looked at before the holders' rotation. Derived from the
     * records ({@link #restored}).
     */
    final KeptFutexes keptAsked = new KeptFutexes();
    /** Futexes asked back and not answered yet (kept exact: {@link #answered}, {@link #kept}; pruned each timer round). */
    private final Set<FutexKey> asked = new HashSet<>();
    /** The kernels open (PagerSessions, built after the futexes). */
    private Supplier<Collection<KernelSession>> sessions = List::of;
    /** Records the deaths still waiting to be, forcing their pages from their writers (DeathRecorder.recordAll). */
    private Runnable recordsFull = () -> { };
    /** An ask-back timer is pending. */
    boolean timerSet;
    private boolean retrying;

    FutexParking(CoreContext core, FutexRecords records, int maxFutexes, long askAgainNanos) {
        this.core = core;
        this.records = records;
        this.maxFutexes = maxFutexes;
        this.askAgainNanos = askAgainNanos;
    }

    void sessions(Supplier<Collection<KernelSession>> all) {
        this.sessions = all;
    }

    void onRecordsFull(Runnable r) {
        this.recordsFull = r;
    }

    /** Whether a lock_futex of {@code key} must be parked: it needs a new record, and none is free for it now. */
    boolean mustWait(FutexKey key) {
        return records.get(key) == null && (records.count() >= maxFutexes || !retrying && !parked.isEmpty());
    }

    /** Whether the records are at their bound. */
    boolean full() {
        return records.count() >= maxFutexes;
    }

    /** The kernel's parked request for the futex, or null. */
    Parked get(KernelSession s, FutexKey key) {
        return s.parked == 0 ? null : parked.get(new Spot(s, key));
    }

    int size() {
        return parked.size();
    }

    /** A lock_futex that needs a new record while none is free: it waits; idle futexes are asked back. */
    void park(KernelSession s, FutexKey key, int priority, long since) {
        put(s, key, priority, since);
        core.stats.futexRequestsParked.increment();
        if (parked.size() == 1) {
            CoreContext.log.info("pager {}: {} waits for a futex record (the pager keeps {}, the most it may); idle "
                    + "cached futexes are asked back", core.name, s, records.count());
        }
        askBack();
        if (!timerSet) {
            timerSet = true;
            core.timers.set(askAgainNanos, new CoreTimers.AskBack());
        }
    }

    /** The kernel leaves: its parked requests for futexes of {@code object} (null: of all) are dropped. */
    void leave(KernelSession s, String object) {
        Map<String, Set<FutexKey>> mine = s.parked == 0 ? null : bySession.get(s);
        if (mine == null) {
            return;
        }
        List<FutexKey> dropped = new ArrayList<>();
        if (object == null) {
            mine.values().forEach(dropped::addAll);
        } else if (mine.containsKey(object)) {
            dropped.addAll(mine.get(object));
        }
        core.stats.walked.add(dropped.size()); // its own requests of the object, not every one parked
        for (FutexKey key : dropped) {
            parked.remove(new Spot(s, key));
            unindex(s, key);
        }
    }

    /** Parks the request (last in order) and indexes it. */
    private void put(KernelSession s, FutexKey key, int priority, long since) {
        parked.put(new Spot(s, key), new Parked(s, key, priority, since));
        bySession.computeIfAbsent(s, k -> new HashMap<>()).computeIfAbsent(key.object(), o -> new LinkedHashSet<>())
                .add(key);
        s.parked++;
    }

    /** A parked request goes (on, or dropped): out of the index. */
    private void unindex(KernelSession s, FutexKey key) {
        s.parked--;
        Map<String, Set<FutexKey>> mine = bySession.get(s);
        Set<FutexKey> keys = mine.get(key.object());
        keys.remove(key);
        if (keys.isEmpty()) {
            mine.remove(key.object());
            if (mine.isEmpty()) {
                bySession.remove(s);
            }
        }
    }

    /**
     * After every input: the parked requests go on, in order, while the first needs no new record
     * or a record is free ({@code lock} takes each as if it had just arrived).
     */
    void retry(Lock lock) {
        if (parked.isEmpty() || retrying) {
            return;
        }
        retrying = true;
        try {
            for (Iterator<Parked> it = parked.values().iterator(); it.hasNext(); ) {
                Parked p = it.next();
                if (records.get(p.key) == null && full() && (records.shedCarried() == 0 || full())) {
                    return;
                }
                it.remove();
                unindex(p.session, p.key);
                lock.lock(p.session, p.key, p.priority, p.since);
                it = parked.values().iterator(); // lock may have changed what is parked (a session ended)
            }
        } finally {
            retrying = false;
        }
    }

    /**
     * Asks the kernels holding the most futexes to give idle ones back (relinquish_futex with try),
     * enough for the requests parked and {@link #ASK_AHEAD} more, less the asks still out. Idle as
     * far as the pager sees: nobody queues or tries for it, nothing asked of its holder, whose
     * stream is not broken; one kept when asked only after {@link #askAgainNanos}, and then first
     * (up to {@link #KEPT_LOOKS} of them, in the order kept: {@link #keptAsked}). Set off by a
     * message (a lock_futex parked, a trylock refused, a futex kept): at most
     * {@link #SKIPPED_PER_HOLDER} futexes that are not idle are looked at per holder, of
     * {@link #HOLDERS_PER_ASK} holders (the biggest half of them, the others from a place among the
     * smaller holders that moves each round: {@link #chosen}), and every futex looked at moves to the end of its holder's
     * set, so that the next message's round looks at others (before, each round walked from the
     * start of every holder's set: with the records at their bound and the held futexes busy, every
     * parked lock_futex walked them all). The ask-back timer's round ({@link #timerDue}, once per
     * {@link #askAgainNanos}, not set off by a message) looks at every holder, each for its share of
     * {@link #TIMER_LOOKS} busy futexes, rotating alike (before, at every held futex).
     */
    void askBack() {
        askBack(KEPT_LOOKS, SKIPPED_PER_HOLDER, HOLDERS_PER_ASK);
    }

    /**
     * Futexes kept when asked and due again that a message's ask-back round looks at first
     * ({@link #keptAsked}; the timer's round looks at up to {@link #TIMER_LOOKS}).
     */
    static final int KEPT_LOOKS = 256;

    /** Busy futexes a message's ask-back round looks at per holder before it goes to the next. */
    static final int SKIPPED_PER_HOLDER = 16;
    /** Holders, biggest first, a message's ask-back round looks at. */
    static final int HOLDERS_PER_ASK = 16;
    /**
     * Busy futexes the ask-back timer's round looks at, shared among all holders (each at least
     * {@link #SKIPPED_PER_HOLDER}): so at most {@code max(TIMER_LOOKS, 1,023 x SKIPPED_PER_HOLDER)},
     * whatever the kernels hold, besides the futexes it asks back.
     */
    static final int TIMER_LOOKS = 4096;

    private void askBack(int keptLooks, int skippedPerHolder, int holders) {
        int wanted = parked.size() + ASK_AHEAD - asked.size();
        if (wanted <= 0) {
            return;
        }
        long now = core.env.nanoTime();
        // First the futexes kept when asked whose wait is over, in the order kept: asked again a
        // wait later (docs/limits.md), not when the rotation below comes back to them, which
        // moved them to the end of their holders' sets when it looked at them (walks review F1).
        int looks = 0;
        try {
            for (FutexRecord f; looks < keptLooks
                    && (f = keptAsked.firstDue(now, askAgainNanos, records::get)) != null; looks++) {
                if (f.holder == null || f.holder.broken || f.holder.gone || !f.queue.isEmpty() || !f.tries.isEmpty()
                        || f.tryAsked || f.forward != null) {
                    keptAsked.forget(f); // not idle now: left to the rotation (its wait is over)
                    continue;
                }
                ask(f, now);
                if (--wanted == 0) {
                    return;
                }
            }
        } finally {
            core.stats.walked.add(looks);
        }
        List<KernelSession> biggest = new ArrayList<>(sessions.get());
        long messages = asked.size(); // with the messages below: moves each round, also within one instant
        for (KernelSession k : biggest) {
            messages += k.received;
        }
        biggest.removeIf(k -> k.broken || k.gone || k.held.isEmpty());
        biggest.sort(Comparator.comparingInt((KernelSession k) -> k.held.size()).reversed()
                .thenComparingLong(k -> k.id));
        List<FutexKey> looked = new ArrayList<>();
        long walked = 0;
        try {
            for (KernelSession h : chosen(biggest, holders, now, messages)) {
                looked.clear();
                int skipped = 0;
                try {
                    for (FutexKey key : h.held) {
                        if (skipped >= skippedPerHolder) {
                            break;
                        }
                        looked.add(key);
                        FutexRecord f = records.get(key);
                        if (f == null || f.holder != h || !f.queue.isEmpty() || !f.tries.isEmpty() || f.tryAsked
                                || f.forward != null || f.keptWhenAsked && now - f.keptWhenAskedNanos < askAgainNanos) {
                            skipped++;
                            continue;
                        }
                        ask(f, now);
                        if (--wanted == 0) {
                            return;
                        }
                    }
                } finally {
                    walked += looked.size();
                    for (FutexKey key : looked) { // to the end of its set: the next round starts past them
                        h.held.remove(key);
                        h.held.add(key);
                    }
                }
            }
        } finally {
            core.stats.walked.add(walked);
        }
    }

    /**
     * The holders a round looks at, of {@code biggest} (sorted, biggest first): all of them if
     * {@code holders} reaches; else the biggest half of {@code holders}, then the rest from a
     * starting place among the smaller ones that moves from round to round (wrapping), so that a
     * smaller holder's idle futexes are not left to the timer's round while bigger holders are all
     * busy. The place comes from the core's clock and {@code messages}, the messages the open
     * sessions have sent (each session's count, in snapshots) and the ask-backs out: the same on
     * every replica for the same applied message (a counter here would not be in snapshots), mixed
     * so that a clock moving in round steps still moves it, and moving from round to round also in
     * one instant of the clock (late10 review L3: a burst of messages stamped together, or the
     * simulator's rounds in one instant, all started from the same place).
     */
    static List<KernelSession> chosen(List<KernelSession> biggest, int holders, long now, long messages) {
        if (biggest.size() <= holders) {
            return biggest;
        }
        int top = holders / 2;
        List<KernelSession> out = new ArrayList<>(biggest.subList(0, top));
        int rest = biggest.size() - top;
        int from = (int) Long.remainderUnsigned(mix(now ^ mix(messages)), rest);
        for (int i = 0; i < holders - top; i++) {
            out.add(biggest.get(top + (from + i) % rest));
        }
        return out;
    }

    /**
     * Fibonacci hashing (times 2^64 over the golden ratio), its high bits folded into the low ones:
     * a clock that moves in multiples of a power of two still moves the result's low bits.
     */
    private static long mix(long x) {
        long h = x * 0x9E3779B97F4A7C15L;
        return h ^ (h >>> 29);
    }

    private void ask(FutexRecord f, long now) {
        keptAsked.forget(f); // asked only once its wait is over: the flag no longer matters
        f.tryAsked = true;
        f.tryAskedNanos = now;
        f.askedBack = true;
        f.tryAskedPriority = f.relinquishSent ? f.relinquishPriority : 0;
        asked.add(f.key);
        core.answers.tryOwed(f);
        core.answers.asked(f.holder);
        core.stats.futexesAskedBack.increment();
        core.send(f.holder, PagerToKernel.newBuilder().setMemoryObjectRelinquishFutex(MemoryObjectRelinquishFutex
                .newBuilder().setObjectId(f.holder.objectIdOf(f.key.object())).setOffset(f.key.offset())
                .setPriority(f.tryAskedPriority).setTry(true)).build());
    }

    /**
     * A futex a kernel holds that carries a dead kernel's death, which nobody else waits for, is
     * asked back with relinquish_futex(try) ({@code DeathRecorder}): an idle cached one comes back
     * and its release records the death. Not while asked, nor within {@link #askAgainNanos} of
     * being kept when asked, nor from a broken stream.
     */
    void askForDeath(FutexRecord f) {
        long now = core.env.nanoTime();
        if (f.holder == null || f.holder.broken || f.holder.gone || f.tryAsked || !f.queue.isEmpty()
                || !f.tries.isEmpty() || f.forward != null
                || f.keptWhenAsked && now - f.keptWhenAskedNanos < askAgainNanos) {
            return;
        }
        ask(f, now);
    }

    /** An ask of ours was answered by the futex's release ({@code PagerGrants#release}): one ask fewer out. */
    void answered(FutexKey key) {
        asked.remove(key);
    }

    /**
     * The asks out, pruned of any answered since (a record gone without a release): a walk of
     * them, done only by the timer's round; messages keep {@link #asked} exact instead
     * ({@link #ask}, {@link #answered}, {@link #kept}).
     */
    private void pruneAsked() {
        asked.removeIf(key -> {
            FutexRecord f = records.get(key);
            return f == null || !f.askedBack;
        });
    }

    /** The holder answered an ask of ours with futex_held: a thread there owns or waits for it. */
    void kept(FutexRecord f) {
        f.askedBack = false;
        asked.remove(f.key);
        keptAsked.kept(f, core.env.nanoTime(), records::get);
        if (!parked.isEmpty()) {
            askBack(); // another instead
        }
    }

    /** The ask-back timer: while requests are parked, idle futexes are asked again (those kept a while ago too). */
    void timerDue() {
        timerSet = false;
        if (parked.isEmpty()) {
            return;
        }
        if (full()) {
            // Deaths of kernels that died since the requests parked free records too, though no
            // new lock_futex comes to the bound to force them (and their pages' writers may keep
            // the pages): forced here, once a round, so that the parked requests cannot stall.
            recordsFull.run();
        }
        pruneAsked();
        // Every holder, a bounded batch of each (its share of TIMER_LOOKS), moving on through its
        // set from round to round as a message's round does; before, every held futex each round.
        int holders = (int) sessions.get().stream().filter(k -> !k.broken && !k.gone && !k.held.isEmpty()).count();
        askBack(TIMER_LOOKS, Math.max(SKIPPED_PER_HOLDER, TIMER_LOOKS / Math.max(1, holders)), Integer.MAX_VALUE);
        timerSet = true;
        core.timers.set(askAgainNanos, new CoreTimers.AskBack());
    }

    // ---- snapshots ----------------------------------------------------------------------------

    /** The parked requests, in order (SnapshotWriter). */
    Collection<Parked> parked() {
        return parked.values();
    }

    /** Restores a parked request, in order, and what is derived from the records (SnapshotReader). */
    void restore(KernelSession s, FutexKey key, int priority, long since) {
        put(s, key, priority, since);
    }

    /** After a restore: the asks out are those the records say. */
    void restored(Collection<FutexRecord> all, boolean timerPending) {
        for (FutexRecord f : all) {
            if (f.askedBack) {
                asked.add(f.key);
            }
        }
        keptAsked.restore(all);
        timerSet = timerPending;
    }
}
