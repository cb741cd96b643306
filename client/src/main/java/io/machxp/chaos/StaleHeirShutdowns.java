package io.machxp.chaos;

import io.machxp.proto.xp.MemoryObjectLockRequest;
import io.machxp.proto.xp.PagerToKernel;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What the {@link ChaosMix#HEIR_SHUTDOWN} mix adds to the contended one, so that chaos reaches the
 * stale_heir_tid protocol (xp-spec 8.4): a kernel shutting down while its futex's word, in a page
 * elsewhere, names an unlock's woken heir that left before it ran. Nothing else in the mixes makes
 * an heir leave with the page gone: an heir whose timer fires takes the futex first, and a thread
 * that ends is a death. Here its caller gives up, the cancel of a blocked call (task.proto), and
 * its kernel then shuts down cleanly.
 *
 * <h2>Overview</h2>
 * <pre>
 *  a kernel K traces "unlock-wake"       -> remembered: (K, futex f) -> H's worker and its lock
 *   (an unlock woke heir H, which cannot     call; counted ({@link #WOKEN}). A later wake on (K, f)
 *   run at once: kernel FutexHeirs)          replaces it
 *  a lock_request for f's page arrives   -> if that lock call is still unanswered, right
 *   at K (another kernel's access: the      after K handled it (the page no longer writable
 *   page leaves K or goes read-only)        there): H's caller cancels that lock
 *                                           (KernelCore.abortWait; the lock answers EINTR),
 *                                           counted ({@link #CANCELLED}); K's FutexHeirs passes the
 *                                           futex on from a word it cannot rewrite yet
 *  K traces "unlock-heir-left-page-      -> counted ({@link #HEIRS_LEFT}); if K is up (not stopped,
 *   elsewhere" (the rewrite waits for       doomed or paused) within the run's duration, it shuts
 *   the page it asked for)                  down cleanly at once, in an event of its own
 *                                           ({@link ChaosFaults#shutdown}: its workers end, a new
 *                                           kernel a lease later), counted ({@link #SHUTDOWNS}):
 *                                           its give-back names the heir (stale_heir_tid), which
 *                                           the pager counts ({@link ChaosRun#STALE_HEIR_RELEASES})
 *                                           and carries to the next grant, whose kernel writes the
 *                                           word free
 * </pre>
 * The kernels' traces and the messages only say when to act; the verdict rests on the harness's
 * own record as for every fault (a clean shutdown may come at any time, ChaosFaults; a cancelled
 * lock acquires nothing). Nothing is drawn from the run's streams: up to the first cancel a seed's
 * history is its contended one.
 */
public final class StaleHeirShutdowns {
    /** The kernels' trace event: an unlock's woken heir left before it ran, its futex's page elsewhere. */
    static final String EVENT = "unlock-heir-left-page-elsewhere";
    /** The kernels' trace event: an unlock woke an heir that cannot run at once. */
    static final String WAKE = "unlock-wake";
    static final String WOKEN = "unlock heirs woken";
    static final String CANCELLED = "woken heirs' locks cancelled with the page gone";
    static final String HEIRS_LEFT = "unlock heirs left with the page elsewhere";
    static final String SHUTDOWNS = "kernel shutdowns with a stale heir";
    /** The paths the mix is there to reach, in the order the CLI prints them. */
    public static final List<String> NAMES = List.of(WOKEN, CANCELLED, HEIRS_LEFT, SHUTDOWNS,
            ChaosRun.STALE_HEIR_RELEASES);

    private final ChaosRun run;
    /** "kernel|futex" -> the lock of the unlock heir last woken there (its worker, and the call). */
    private final Map<String, Heir> woken = new HashMap<>();

    private record Heir(Worker worker, io.machxp.kernel.core.Reply<?> lock) {
    }

    StaleHeirShutdowns(ChaosRun run) {
        this.run = run;
    }

    /** Watches the lock_requests the pagers send. */
    void start() {
        run.cluster.observe((sent, arrives, from, to, m) -> {
            if (m instanceof PagerToKernel p && p.hasMemoryObjectLockRequest()) {
                pageLeaving(arrives, to, p.getMemoryObjectLockRequest());
            }
        });
    }

    /** Kernel {@code kernel} traced {@code event}. */
    void traced(String kernel, String event, int tid, String detail) {
        if (event.equals(WAKE)) {
            int f = futexOf(detail);
            for (Worker w : f < 0 ? List.<Worker>of() : run.workers) {
                if (w.kernel.name.equals(kernel) && w.tid == tid && w.locking == f && w.pendingLock != null) {
                    woken.put(kernel + "|" + f, new Heir(w, w.pendingLock));
                    run.count(WOKEN);
                    break;
                }
            }
        } else if (event.equals(EVENT)) {
            heirLeft(kernel);
        }
    }

    /** The futex whose word is at {@code kernel FutexEntry name} "object+0xOFFSET", or -1. */
    private static int futexOf(String futexName) {
        int at = futexName.lastIndexOf("+0x");
        if (at < 0) {
            return -1;
        }
        long offset = Long.parseLong(futexName.substring(at + 3), 16);
        return offset % ChaosRun.PAGE == 0 ? (int) (offset / ChaosRun.PAGE) : -1;
    }

    /** A lock_request reaches {@code kernel} at {@code arrives}: a woken heir of a futex in its range may be cancelled. */
    private void pageLeaving(long arrives, String kernel, MemoryObjectLockRequest r) {
        long end = r.getOffset() + Math.max(r.getLength(), ChaosRun.PAGE);
        for (long page = r.getOffset(); page < end; page += ChaosRun.PAGE) {
            int f = (int) (page / ChaosRun.PAGE);
            Heir heir = woken.get(kernel + "|" + f);
            if (heir != null) {
                run.cluster.at(arrives + 1, () -> cancel(kernel, f, heir)); // after the kernel handled it
            }
        }
    }

    /**
     * The caller of the woken heir's lock of {@code f} on {@code kernel} gives up, if that lock is
     * still unanswered (the same call: a later lock of the worker is left alone).
     */
    private void cancel(String kernel, int f, Heir heir) {
        SimKernelState k = heir.worker().kernel;
        Worker w = heir.worker();
        if (woken.get(kernel + "|" + f) != heir || w.pendingLock != heir.lock() || w.dead || k.stopped || k.doomed
                || k.paused || run.cluster.now() >= run.options.durationNanos()) {
            return;
        }
        woken.remove(kernel + "|" + f);
        run.count(CANCELLED);
        run.history.add(run.cluster.now(), History.Kind.KERNEL, w.name, f, 0, false,
                String.format(Locale.ROOT, "its caller cancels its lock of f%d (woken heir, page gone)", f));
        run.cluster.call(kernel, () -> k.core.abortWait(w.task, w.tid, heir.lock()));
    }

    /** Kernel {@code kernel} traced {@link #EVENT}: it shuts down at once. */
    private void heirLeft(String kernel) {
        run.count(HEIRS_LEFT);
        SimKernelState k = run.kernels.get(kernel);
        if (k == null) {
            return;
        }
        run.cluster.at(run.cluster.now(), () -> {
            if (!k.stopped && !k.doomed && !k.paused && run.cluster.now() < run.options.durationNanos()) {
                run.history.add(run.cluster.now(), History.Kind.KERNEL, k.name, -1, 0, false,
                        "shuts down: an unlock's heir left with the futex's page elsewhere");
                run.faults().shutdown(k);
                run.count(SHUTDOWNS);
            }
        });
    }
}
