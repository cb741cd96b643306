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
 * core is not a stuck one, the retry is the last chance to get the failed writes on disk, and the
 * count is the operator's only record of what was lost), and every wait ends by close's one
 * {@link CloseDeadline}, a few seconds of it kept for the count and the close. With a store thread,
 * the retry and the thread's writes share those 60 s: the retry waits for a busy core at most what
 * leaves the writes their {@link #STORE_WRITES} ({@link #retryBound}). What close goes on
 * without is logged (an ERROR, with the reason: no answer in time, the query failed, the closing
 * thread was interrupted): the retry, the count, the store's close (left queued on the core
 * thread). A store whose thread's writes have not finished is left open: closed under them, the
 * rest would fail unseen. A core that does not answer the retry, uses no CPU and waits is stuck,
 * not busy ({@link CoreProgress}, {@link StuckCheck}): close stops waiting for it after
 * {@link StuckCheck#SLICES} slices of {@link #STUCK_AFTER}.
 */
final class StoreClose {
    private static final Logger log = LoggerFactory.getLogger(Pager.class); // its ERRORs are the pager's close's
    /** How long the store's reads may take to drain. */
    private static final Duration DRAIN = Duration.ofSeconds(5);
    /** How long the store thread's writes may take to finish. */
    static final Duration STORE_WRITES = Duration.ofSeconds(30);
    /** What the retry and the store thread's writes leave of the deadline for the count and the store's close. */
    static final Duration KEPT_FOR_COUNT = Duration.ofSeconds(5);
    /** How long the retry waits for a core that does not answer before it looks whether the core used CPU meanwhile. */
    static final Duration STUCK_AFTER = Duration.ofSeconds(5);

    private final String pager;
    private final EventLoop loop;
    private final PagerCore core;
    private final CoreQueries queries;
    private final PageStore store;
    /** Null for a store whose I/O does not block (written on the core thread). */
    private final ExecutorService storeThread;
    /** Null for a store whose I/O does not block. */
    private final PageEffects pageEffects;
    private final CoreProgress progress;
    /** Why the last {@link #closeAsk} got no answer. */
    private String why = "";

    StoreClose(String pager, EventLoop loop, PagerCore core, CoreQueries queries, PageStore store,
            ExecutorService storeThread, PageEffects pageEffects, CoreProgress progress) {
        this.pager = pager;
        this.loop = loop;
        this.core = core;
        this.queries = queries;
        this.store = store;
        this.storeThread = storeThread;
        this.pageEffects = pageEffects;
        this.progress = progress;
    }

    /**
     * Drains the store's writes, retries the failed ones, then closes the store on the core thread;
     * {@code within} bounds each wait for the core, {@code deadline} them all.
     */
    void close(Duration within, CloseDeadline deadline) {
        if (pageEffects != null) {
            Duration drain = deadline.upTo(DRAIN, KEPT_FOR_COUNT);
            try {
                if (!pageEffects.drain(drain.toMillis(), TimeUnit.MILLISECONDS)) {
                    log.error("pager {}: the page store's reads did not finish in {} ms; closing it anyway",
                            pager, drain.toMillis());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        boolean answering = !loop.isShuttingDown() && closeAskWhileBusy(() -> {
            core.retryFailedStoreWrites(); // a write that failed is tried once more before the store closes
            return true;
        }, "retrying the page store's failed writes", retryBound(deadline, within, storeThread != null)) != null;
        String notAnswering = why;
        boolean written = true;
        if (storeThread != null) {
            storeThread.shutdown(); // the writes submitted so far are done first
            Duration writes = writesBound(deadline);
            try {
                written = storeThread.awaitTermination(writes.toMillis(), TimeUnit.MILLISECONDS);
                if (!written) {
                    log.error("pager {}: the page store's writes did not finish in {} ms", pager, writes.toMillis());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                written = false;
                log.error("pager {}: its close was interrupted before the page store's writes finished", pager);
            }
        }
        Integer lost = answering ? closeAsk(core::unwrittenPages, "counting the pages not written",
                deadline.upTo(within)) : null;
        if (lost != null && lost > 0) {
            log.error("pager {}: {} pages the page store failed to write are lost with this pager (the kernels "
                    + "that returned them were never told they were stored); free space on the store's disk "
                    + "before the next start", pager, lost);
        }
        if (!written) {
            log.error("pager {}: the page store is left open: its thread still writes, and closed under it the "
                    + "rest of its writes would fail unseen", pager);
            return;
        }
        if (loop.inEventLoop() || loop.isShuttingDown()) {
            store.close();
            return;
        }
        if (!answering) {
            log.error("pager {}: the page store's close is left queued on the core thread, which {}; the store is "
                    + "closed only if the core gets to it before its event loop ends", pager, notAnswering);
            try {
                loop.execute(store::close); // when the core gets to it, if it does before the loop ends
            } catch (java.util.concurrent.RejectedExecutionException ended) {
                // the loop ended meanwhile
            }
            return;
        }
        Duration closing = deadline.upTo(within);
        try {
            if (!loop.submit(store::close).await(closing.toMillis(), TimeUnit.MILLISECONDS)) {
                log.error("pager {}: the page store's close did not finish in {} ms; it is left queued on the core "
                        + "thread", pager, closing.toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            log.error("pager {}: its close was interrupted before the page store's close finished; it is left "
                    + "queued on the core thread", pager);
        }
    }

    /**
     * How long the retry of the failed writes may wait for the core: {@code within}, within
     * {@code deadline}, leaving {@link #KEPT_FOR_COUNT} for the count and the store's close and,
     * with a store thread, {@link #STORE_WRITES} before that for its writes, the retry's among them.
     */
    static Duration retryBound(CloseDeadline deadline, Duration within, boolean storeThread) {
        // With a store thread, the retry's writes go to it once the core has answered: they keep
        // STORE_WRITES of the deadline after the retry (late10 review L1: before, a core answering
        // late left them 0-10 s, and the store was left open).
        return deadline.upTo(within, storeThread ? STORE_WRITES.plus(KEPT_FOR_COUNT) : KEPT_FOR_COUNT);
    }

    /** How long the store thread's writes may take, within {@code deadline}, after the retry. */
    static Duration writesBound(CloseDeadline deadline) {
        return deadline.upTo(STORE_WRITES, KEPT_FOR_COUNT);
    }

    /**
     * One of close's questions to the core, waited for at most {@code within}; null, with an ERROR
     * saying what close goes on without and why ({@link #why}), when the core does not answer
     * (overloaded or stuck: close must not hang with it; before, it waited for good), the query
     * failed, the closing thread was interrupted, or the loop has ended.
     */
    private <T> T closeAsk(java.util.concurrent.Callable<T> query, String what, Duration within) {
        try {
            return queries.ask(query, within);
        } catch (CoreNotAnswering e) {
            why = "did not answer in " + within.toMillis() + " ms (overloaded or stuck)";
        } catch (RuntimeException e) {
            why = failed(e);
        }
        return without(what);
    }

    /**
     * As {@link #closeAsk}, but a core that has not answered for {@link StuckCheck#SLICES} slices of
     * {@link #STUCK_AFTER}, used no CPU in them and waits or is blocked, not behind a busy lock owner
     * ({@link StuckCheck}), is taken as stuck and not waited for any longer; a busy one is waited for up to {@code within}.
     */
    private <T> T closeAskWhileBusy(java.util.concurrent.Callable<T> query, String what, Duration within) {
        if (queries.onCore()) {
            return closeAsk(query, what, within);
        }
        java.util.concurrent.CompletableFuture<T> answer = queries.submit(query);
        long end = System.nanoTime() + within.toNanos();
        StuckCheck check = new StuckCheck(progress);
        while (true) {
            long slice = Math.max(0, Math.min(end - System.nanoTime(), STUCK_AFTER.toNanos()));
            long sliceStart = System.nanoTime();
            try {
                return queries.await(answer, Duration.ofNanos(slice));
            } catch (CoreNotAnswering e) {
                if (end - System.nanoTime() <= 0) {
                    why = "did not answer in " + within.toMillis() + " ms (overloaded or stuck)";
                    break;
                }
                if (check.stuck(System.nanoTime() - sliceStart)) {
                    why = "is stuck: it used no CPU in the last " + StuckCheck.SLICES * STUCK_AFTER.toMillis()
                            + " ms it did not answer, and waits or is blocked (not running, not in a system call,"
                            + " not behind a busy lock owner)";
                    break;
                }
            } catch (RuntimeException e) {
                why = failed(e);
                break;
            }
        }
        return without(what);
    }

    /** Why a question that threw got no answer. */
    private String failed(RuntimeException e) {
        return Thread.currentThread().isInterrupted() ? "was not waited for: close was interrupted"
                : queries.closed() ? "has ended" : "failed the question (" + e + ")";
    }

    /** Logs that close goes on without {@code what}, and why; null. */
    private <T> T without(String what) {
        log.error("pager {}: closing without {}: the core thread {}", pager, what, why);
        return null;
    }
}
