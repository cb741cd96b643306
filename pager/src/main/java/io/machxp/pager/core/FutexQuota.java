package io.machxp.pager.core;

import io.machxp.pager.futex.FutexKey;
import io.machxp.pager.futex.FutexRecord;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.MemoryObjectRelinquishFutex;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * The pager's bound on futex records for all kernels together ({@link PagerFutexes}), kept
 * without punishing the kernel that happens to ask next. Pager core thread only.
 *
 * <h2>Overview</h2>
 * A kernel keeps a futex no thread of it owns "until asked" (xp-spec 8.2), so the records fill
 * mostly with futexes cached idle. When a lock_futex needs a new record and the pager keeps as
 * many as it may, the request is not refused and the asker's session not ended: it waits
 * (parked, in arrival order), and the pager asks the kernels holding the most futexes to give
 * idle ones back with relinquish_futex(try) (8.5: a kernel gives back a futex no thread there owns
 * or waits for, else answers futex_held). Each released futex frees its record; the parked
 * requests then go on, in order, as if they had just arrived.
 * <pre>
 *  lock_futex, a new record, records full   -> parked; relinquish_futex(try) to the biggest
 *                                               holders, for futexes nobody queues for, not
 *                                               asked before and not kept when last asked
 *  futex_released (or any event that frees) -> parked requests go on while records are free
 *  futex_held to such an ask                -> the futex is marked kept (not asked again while
 *                                               its holder keeps it); another is asked
 *  a parked request's kernel gone           -> dropped
 * </pre>
 * A kernel that waits here waits as for a held futex: its own lease, keepalives and other
 * requests go on. If every futex is in use (each holder answers futex_held) the request waits
 * until one is released. Only a kernel over its own bound (a session's) is refused, by
 * {@link PagerFutexes}.
 */
final class FutexQuota {
    /** How many idle futexes one ask round asks for beyond the requests waiting (fewer round trips). */
    static final int ASK_AHEAD = 32;

    private record Parked(KernelSession session, MemoryObjectLockFutex request) {
    }

    private final CoreContext core;
    private final FutexRecords records;
    private final int maxFutexes;
    private final ArrayDeque<Parked> parked = new ArrayDeque<>();
    /** The kernels open (PagerSessions, built after the futexes). */
    private Supplier<Collection<KernelSession>> sessions = List::of;
    /** How many of the reclaim asks sent are not answered yet. */
    private int asksOut;
    private boolean retrying;

    FutexQuota(CoreContext core, FutexRecords records, int maxFutexes) {
        this.core = core;
        this.records = records;
        this.maxFutexes = maxFutexes;
    }

    void sessions(Supplier<Collection<KernelSession>> all) {
        this.sessions = all;
    }

    /** Whether a new record may be made now: below the bound, and no request parked before it. */
    boolean roomFor() {
        return records.count() < maxFutexes && (retrying || parked.isEmpty());
    }

    /** Whether the records are at the bound. */
    boolean full() {
        return records.count() >= maxFutexes;
    }

    /** A lock_futex that needs a new record while the records are full: it waits; idle futexes are asked back. */
    void park(KernelSession s, MemoryObjectLockFutex m) {
        parked.add(new Parked(s, m));
        core.stats.futexRequestsParked.increment();
        CoreContext.log.info("pager {}: {} waits for a futex record (the pager keeps {}, the most it may); idle "
                + "cached futexes are asked back", core.name, s, records.count());
        askBack();
    }

    /**
     * Asks the kernels holding the most futexes to give idle ones back (relinquish_futex with try),
     * enough for the requests waiting and {@link #ASK_AHEAD} more, less the asks still out.
     */
    private void askBack() {
        int wanted = parked.size() + ASK_AHEAD - asksOut;
        if (wanted <= 0) {
            return;
        }
        List<KernelSession> biggest = new ArrayList<>(sessions.get());
        biggest.removeIf(k -> k.broken || k.gone || k.held.isEmpty());
        biggest.sort(Comparator.comparingInt((KernelSession k) -> k.held.size()).reversed());
        for (KernelSession h : biggest) {
            for (FutexKey key : h.held) {
                FutexRecord f = records.get(key);
                if (f == null || f.holder != h || !f.queue.isEmpty() || !f.tries.isEmpty() || f.tryAsked
                        || f.keptWhenAsked || f.forward != null) {
                    continue;
                }
                ask(f);
                if (--wanted == 0) {
                    return;
                }
            }
        }
    }

    private void ask(FutexRecord f) {
        f.tryAsked = true;
        f.reclaimAsked = true;
        f.tryAskedNanos = core.env.nanoTime();
        asksOut++;
        core.answers.asked(f.holder);
        core.stats.futexesAskedBack.increment();
        core.send(f.holder, PagerToKernel.newBuilder().setMemoryObjectRelinquishFutex(MemoryObjectRelinquishFutex
                .newBuilder().setObjectId(f.holder.objectIdOf(f.key.object())).setOffset(f.key.offset())
                .setPriority(f.relinquishSent ? f.relinquishPriority : 0).setTry(true)).build());
    }

    /** An ask of ours was answered (released, futex_held) or will not be (holder gone): {@code kept} if held. */
    void answered(FutexRecord f, boolean kept) {
        if (!f.reclaimAsked) {
            return;
        }
        f.reclaimAsked = false;
        f.keptWhenAsked = kept;
        asksOut = Math.max(0, asksOut - 1);
    }

    /**
     * After each event: the parked requests go on while records are free, in order ({@code lock}
     * handles each as if it had just arrived); if some still wait, more idle futexes are asked back.
     */
    void retry(BiConsumer<KernelSession, MemoryObjectLockFutex> lock) {
        if (parked.isEmpty() || retrying) {
            return;
        }
        retrying = true;
        try {
            while (!parked.isEmpty() && !full()) {
                Parked p = parked.poll();
                if (!p.session().gone && !p.session().broken) {
                    lock.accept(p.session(), p.request());
                }
            }
            parked.removeIf(p -> p.session().gone || p.session().broken);
            if (parked.isEmpty()) {
                asksOut = 0; // those of holders that left are never answered
            } else {
                askBack();
            }
        } finally {
            retrying = false;
        }
    }

    /** How many lock_futex wait for a record (status, tests). */
    int parkedCount() {
        return parked.size();
    }
}
