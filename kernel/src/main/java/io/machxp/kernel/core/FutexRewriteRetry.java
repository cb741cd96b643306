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
 * <p>After the pager refused the page {@value #REFUSALS_AT_MAX} times at the longest delay (four
 * leases there, 80 s for a lease over 20 s) the page is taken as unreachable for now: a warning
 * says so once in the round (the operator's store fails that page), and the round goes on at a
 * slow fixed pace, once a lease ({@link #slowNanos}; four times the longest delay without a lease)
 * rather than stopping. It never stops while the need lasts: the pager sends a relinquish again
 * only when the waiting elsewhere changes (xp-spec 8.6), so a waiter elsewhere at a steady priority
 * would otherwise wait for ever after the store serves the page again (perfretry review, MED-2);
 * one fetch a lease is a negligible cost. Each round starts from the first delay: the backoff is
 * reset whenever a round ends (the page came, or the need went).
 */
final class FutexRewriteRetry {
    /** The backoff's bound: the first delay times 2^4. */
    static final int MAX_DOUBLINGS = 4;
    /** Refusals of fetches made at the longest delay after which a round slows to {@link #slowNanos}. */
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
     * runs {@code onWritable} (after the page's writable hook). Nobody waiting: the round ends,
     * its backoff reset. The bound reached: warned once, and asked again at the slow pace.
     */
    void refused(FutexEntry e, BooleanSupplier pending, Runnable onWritable) {
        if (e.rewriteRetryTimer != null) {
            return;
        }
        if (!wanted(e, pending)) {
            endRound(e); // the need ended with this refusal: a later round starts from the first delay
            return;
        }
        if (e.rewriteRetryNanos >= first(e) << MAX_DOUBLINGS && e.rewriteRefusalsAtMax < REFUSALS_AT_MAX
                && ++e.rewriteRefusalsAtMax == REFUSALS_AT_MAX) {
            slowDown(e);
        }
        schedule(e, pending, onWritable);
    }

    private void schedule(FutexEntry e, BooleanSupplier pending, Runnable onWritable) {
        long first = first(e);
        long delay;
        if (e.rewriteRetryNanos == 0) {
            delay = first;
            e.rewriteRefusalsAtMax = 0; // a new round
        } else if (e.rewriteRefusalsAtMax >= REFUSALS_AT_MAX) {
            delay = slowNanos(e); // past the bound: once a lease, for as long as the need lasts
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
     * The page was refused {@link #REFUSALS_AT_MAX} times at the longest delay: said once per
     * round; the retries go on at {@link #slowNanos} (xp-spec 8.4).
     */
    private void slowDown(FutexEntry e) {
        long waited = 0;
        for (long d = first(e), i = 0; i <= MAX_DOUBLINGS; i++, d *= 2) {
            waited += d;
        }
        waited += (REFUSALS_AT_MAX - 1) * (first(e) << MAX_DOUBLINGS);
        String futex = core.futexes.futexName(e);
        core.env.trace("futex-rewrite-slowed", 0, futex);
        log.warn("kernel {}: the pager refused the page of futex {} (memory_object_data_error) for {} ms while a "
                + "thread waits for the futex, whose word on that page still names a thread that owns nothing or "
                + "died; the futex stays held here until that page can be read: fix the pager's store for that "
                + "page (its log says why it refused it); this kernel asks for the page again every {} ms until "
                + "it comes or nobody waits", core.name(), futex, waited / 1_000_000, slowNanos(e) / 1_000_000);
    }

    /** The pace past the bound: once a lease, or four times the longest delay without a lease. */
    private long slowNanos(FutexEntry e) {
        long lease = core.sessions.forObject(e.objectId()).leaseNanos();
        return lease > 0 ? Math.max(lease, first(e) << MAX_DOUBLINGS) : (first(e) << MAX_DOUBLINGS) * 4;
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
