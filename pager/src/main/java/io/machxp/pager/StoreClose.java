package io.machxp.pager;

import io.machxp.pager.core.PagerCore;
import io.machxp.pager.store.PageStore;
import io.netty.channel.EventLoop;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The page store's part of {@link Pager#close}: the store's reads drained, the writes that failed
 * tried once more on the core thread, the store thread's writes finished, the pages still not
 * written counted (an ERROR: they are lost), then the store closed on the core thread. Each wait for
 * the core is bounded ({@link Pager#STORE_CLOSE_ANSWER}, 60 s, longer than other questions: a busy
 * core is not a stuck one, and losing writes the kernels were told are stored is worse than waiting
 * at shutdown). A core that does not answer within it is left behind, with an ERROR saying what was
 * skipped: the retry, the count, and the store's close, left queued on the core thread (late6 review
 * A7: before, 5 s, and the ERROR blamed a stuck core).
 */
final class StoreClose {
    private static final Logger log = LoggerFactory.getLogger(Pager.class); // its ERRORs are the pager's close's

    private final String pager;
    private final EventLoop loop;
    private final PagerCore core;
    private final CoreQueries queries;
    private final PageStore store;
    /** Null for a store whose I/O does not block (written on the core thread). */
    private final ExecutorService storeThread;
    /** Null for a store whose I/O does not block. */
    private final PageEffects pageEffects;

    StoreClose(String pager, EventLoop loop, PagerCore core, CoreQueries queries, PageStore store,
            ExecutorService storeThread, PageEffects pageEffects) {
        this.pager = pager;
        this.loop = loop;
        this.core = core;
        this.queries = queries;
        this.store = store;
        this.storeThread = storeThread;
        this.pageEffects = pageEffects;
    }

    /** Drains the store's writes, retries the failed ones, then closes the store on the core thread; {@code within} bounds each wait for the core. */
    void close(Duration within) {
        if (pageEffects != null) {
            try {
                if (!pageEffects.drain(5)) {
                    log.error("pager {}: the page store's reads did not finish in 5 s; closing it anyway",
                            pager);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        boolean answering = !loop.isShuttingDown() && closeAsk(() -> {
            core.retryFailedStoreWrites(); // a write that failed is tried once more before the store closes
            return true;
        }, "retrying the page store's failed writes", within) != null;
        if (storeThread != null) {
            storeThread.shutdown(); // the writes submitted so far are done first
            try {
                if (!storeThread.awaitTermination(30, TimeUnit.SECONDS)) {
                    log.error("pager {}: the page store's writes did not finish in 30 s; closing it anyway",
                            pager);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Integer lost = answering ? closeAsk(core::unwrittenPages, "counting the pages not written", within) : null;
        if (lost != null && lost > 0) {
            log.error("pager {}: {} pages the page store failed to write are lost with this pager (the kernels "
                    + "that returned them were never told they were stored); free space on the store's disk "
                    + "before the next start", pager, lost);
        }
        if (loop.inEventLoop() || loop.isShuttingDown()) {
            store.close();
            return;
        }
        if (!answering) {
            log.error("pager {}: the page store's close is left queued on the core thread, which did not answer "
                    + "in {} ms (overloaded or stuck); the store is closed only if the core gets to it before its "
                    + "event loop ends", pager, within.toMillis());
            try {
                loop.execute(store::close); // when the core gets to it, if it does before the loop ends
            } catch (java.util.concurrent.RejectedExecutionException ended) {
                // the loop ended meanwhile
            }
            return;
        }
        try {
            loop.submit(store::close).await(within.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * One of close's questions to the core, waited for at most {@code within}; null, with an ERROR
     * saying what close goes on without, when the core does not answer (overloaded or stuck: close
     * must not hang with it; before, it waited for good), the query failed, or the loop has ended.
     */
    private <T> T closeAsk(java.util.concurrent.Callable<T> query, String what, Duration within) {
        try {
            return queries.ask(query, within);
        } catch (RuntimeException e) {
            log.error("pager {}: closing without {}: {}", pager, what, e.getMessage());
            return null;
        }
    }
}
