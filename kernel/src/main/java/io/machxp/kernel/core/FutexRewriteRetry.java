package io.machxp.kernel.core;

import static io.machxp.kernel.futex.FutexWord.isAbsent;
import static io.machxp.kernel.futex.FutexWord.isNoPage;

import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.vm.PageFault;
import io.machxp.kernel.vm.VmPage.Access;
import java.util.function.BooleanSupplier;

/**
 * Retries the page-in of a futex word whose rewrite waits for the page after the pager refused it
 * (memory_object_data_error from a live pager): an unlock's heir that left before it ran
 * ({@link FutexEntry#staleHeirTid}) or a dead owner's pass-on (RobustFutexes). Without the page the
 * word elsewhere still names that thread, nobody here will unlock it, and a waiter elsewhere would
 * wait for a page-in nobody asks for. So while the rewrite is pending and someone waits for the
 * futex (a relinquish from the pager, or a local waiter), the READ_WRITE fetch is asked for again
 * on the core's timer (the simulator's clock in tests): first after {@link KernelSession#retryNanos}
 * of the lease, doubled after each refusal up to {@link #MAX_DOUBLINGS} doublings, with at most one
 * retry (timer or fetch) out per futex. It stops when the rewrite is done (the page came: the
 * writable hook did it), the futex is forgotten or absent, nobody waits, or the pager is lost (its
 * loss forgets the futex); on a lease in doubt it waits for the next tick. Local waiters are still
 * failed with EIO at a refusal, as any lock's refused page-in (xp-spec 8.11): the retry is for the
 * waiter elsewhere, and a later lock here faults the page in itself.
 */
final class FutexRewriteRetry {
    /** The backoff's bound: the first delay times 2^4. */
    static final int MAX_DOUBLINGS = 4;
    private static final long NO_LEASE_FIRST_NANOS = 50_000_000L;

    private final KernelCore core;
    private final PageCache pages;

    FutexRewriteRetry(KernelCore core, PageCache pages) {
        this.core = core;
        this.pages = pages;
    }

    /**
     * The page-in for {@code e}'s pending rewrite was refused: if {@code pending} and someone waits,
     * a retry is scheduled (unless one is out); it fetches the page writable and, when it comes,
     * runs {@code onWritable} (after the page's writable hook).
     */
    void refused(FutexEntry e, BooleanSupplier pending, Runnable onWritable) {
        if (e.rewriteRetryTimer != null || !wanted(e, pending)) {
            return;
        }
        long first = first(e);
        long delay = e.rewriteRetryNanos == 0 ? first : Math.min(e.rewriteRetryNanos * 2, first << MAX_DOUBLINGS);
        e.rewriteRetryNanos = delay;
        core.env.trace("futex-rewrite-retry", (int) Math.min(Integer.MAX_VALUE, delay / 1_000_000),
                core.futexes.futexName(e));
        e.rewriteRetryTimer = core.env.schedule(delay, () -> {
            e.rewriteRetryTimer = null;
            if (!wanted(e, pending)) {
                e.rewriteRetryNanos = 0;
                return;
            }
            if (core.sessions.forObject(e.objectId()).inGrace()) {
                refused(e, pending, onWritable); // the lease in doubt: the next tick asks
                return;
            }
            e.rewriteRetryTimer = IN_FLIGHT;
            pages.withAccess(core.objects.object(e.objectId()), e.offset(), Access.READ_WRITE,
                    PageFault.of(() -> {
                        e.rewriteRetryTimer = null;
                        e.rewriteRetryNanos = 0;
                        onWritable.run();
                    }, error -> {
                        e.rewriteRetryTimer = null;
                        refused(e, pending, onWritable);
                    }));
        });
    }

    /** A fetch of the retry is out: no second one meanwhile. */
    private static final Timer IN_FLIGHT = () -> { };

    private boolean wanted(FutexEntry e, BooleanSupplier pending) {
        long s = e.state();
        return !isAbsent(s) && isNoPage(s) && pending.getAsBoolean()
                && (e.relinquishPending || !e.waiters.isEmpty())
                && !core.sessions.pagerLost(e.objectId());
    }

    private long first(FutexEntry e) {
        long lease = core.sessions.forObject(e.objectId()).leaseNanos();
        return lease > 0 ? Math.max(1_000_000L, KernelSession.retryNanos(lease)) : NO_LEASE_FIRST_NANOS;
    }
}
