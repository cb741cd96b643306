package io.machxp.kernel.core;

import static io.machxp.kernel.futex.FutexWord.isAbsent;
import static io.machxp.kernel.futex.FutexWord.isNoPage;

import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.vm.PageFault;
import io.machxp.kernel.vm.VmPage.Access;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 *
 * <p>It gives up when the pager refused the page {@value #REFUSALS_AT_MAX} times at the longest
 * delay (four leases there, 80 s for a lease over 20 s): the page is taken as unreachable for now, a warning says so once
 * (the operator's store fails that page), and the rewrite stays pending as before the retries -
 * the futex held here, its word elsewhere unchanged - for the next page-in someone asks for (a
 * lock here, the death or the relinquish the pager sends when the waiting elsewhere changes, each
 * of which starts a new round of retries). A relinquish is never withdrawn (xp-spec 8.4), so
 * without that bound a page refused for good would be asked for as long as the kernel lives. Each
 * round starts from the first delay: the backoff is reset whenever a round ends (the page came, the
 * need went, or it gave up).
 */
final class FutexRewriteRetry {
    /** The backoff's bound: the first delay times 2^4. */
    static final int MAX_DOUBLINGS = 4;
    /** Refusals of fetches made at the longest delay after which a round gives up. */
    static final int REFUSALS_AT_MAX = 5;
    private static final long NO_LEASE_FIRST_NANOS = 50_000_000L;
    private static final Logger log = LoggerFactory.getLogger(FutexRewriteRetry.class);

    private final KernelCore core;
    private final PageCache pages;

    FutexRewriteRetry(KernelCore core, PageCache pages) {
        this.core = core;
        this.pages = pages;
    }

    /**
     * The page-in for {@code e}'s pending rewrite was refused: if {@code pending} and someone waits,
     * a retry is scheduled (unless one is out); it fetches the page writable and, when it comes,
     * runs {@code onWritable} (after the page's writable hook). Nobody waiting, or the bound
     * reached: the round ends, its backoff reset.
     */
    void refused(FutexEntry e, BooleanSupplier pending, Runnable onWritable) {
        if (e.rewriteRetryTimer != null) {
            return;
        }
        if (!wanted(e, pending)) {
            endRound(e); // the need ended with this refusal: a later round starts from the first delay
            return;
        }
        if (e.rewriteRetryNanos >= first(e) << MAX_DOUBLINGS && ++e.rewriteRefusalsAtMax >= REFUSALS_AT_MAX) {
            giveUp(e);
            return;
        }
        schedule(e, pending, onWritable);
    }

    private void schedule(FutexEntry e, BooleanSupplier pending, Runnable onWritable) {
        long first = first(e);
        long delay;
        if (e.rewriteRetryNanos == 0) {
            delay = first;
            e.rewriteRefusalsAtMax = 0; // a new round
        } else {
            delay = Math.min(e.rewriteRetryNanos * 2, first << MAX_DOUBLINGS);
        }
        e.rewriteRetryNanos = delay;
        core.env.trace("futex-rewrite-retry", (int) Math.min(Integer.MAX_VALUE, delay / 1_000_000),
                core.futexes.futexName(e));
        e.rewriteRetryTimer = core.env.schedule(delay, () -> {
            e.rewriteRetryTimer = null;
            if (!wanted(e, pending)) {
                endRound(e);
                return;
            }
            if (core.sessions.forObject(e.objectId()).inGrace()) {
                schedule(e, pending, onWritable); // the lease in doubt: the next tick asks (no refusal)
                return;
            }
            e.rewriteRetryTimer = IN_FLIGHT;
            pages.withAccess(core.objects.object(e.objectId()), e.offset(), Access.READ_WRITE,
                    PageFault.of(() -> {
                        e.rewriteRetryTimer = null;
                        endRound(e);
                        onWritable.run();
                    }, error -> {
                        e.rewriteRetryTimer = null;
                        refused(e, pending, onWritable);
                    }));
        });
    }

    private static void endRound(FutexEntry e) {
        e.rewriteRetryNanos = 0;
        e.rewriteRefusalsAtMax = 0;
    }

    /**
     * The page was refused {@link #REFUSALS_AT_MAX} times at the longest delay: no more retries
     * in this round; the rewrite waits for the next page-in (xp-spec 8.4). Said once per round.
     */
    private void giveUp(FutexEntry e) {
        long waited = 0;
        for (long d = first(e), i = 0; i <= MAX_DOUBLINGS; i++, d *= 2) {
            waited += d;
        }
        waited += (REFUSALS_AT_MAX - 1) * (first(e) << MAX_DOUBLINGS);
        endRound(e);
        String futex = core.futexes.futexName(e);
        core.env.trace("futex-rewrite-given-up", 0, futex);
        log.warn("kernel {}: gave up asking for the page of futex {}: the pager refused it (memory_object_data_error) "
                + "for {} ms while a thread waits for the futex, whose word on that page still names a thread "
                + "that owns nothing or died; the futex stays held here until that page can be read: fix the "
                + "pager's store for that page (its log says why it refused it); a lock of the futex here, or "
                + "the pager's next relinquish of it, asks for it again", core.name(), futex, waited / 1_000_000);
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
