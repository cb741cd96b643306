package io.machxp.pager;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store executor's page effects: a page's reads from the store and a library backend's
 * unlocks, run off the pager's core thread. Those of one page run one at a time in submission
 * order; those of different pages at once, each page on a thread of its own while it has effects
 * queued, so that a store or backend blocked on one page holds up no other page (nor the core,
 * nor the store writes, which have their own thread). A page has effects queued only while an
 * operation on it waits for one, so the threads are at most the pages being answered at once.
 * Drained on close. Thread-safe.
 */
final class PageEffects {
    private static final Logger log = LoggerFactory.getLogger(PageEffects.class);

    private final ExecutorService threads;
    /** The effects waiting behind the one running, per page with one running; guarded by this. */
    private final Map<String, ArrayDeque<Runnable>> waiting = new HashMap<>();

    PageEffects(String pagerName) {
        this.threads = Executors.newCachedThreadPool(
                new io.netty.util.concurrent.DefaultThreadFactory("pager-page-io-" + pagerName, true));
    }

    /**
     * Runs {@code effect} after the effects of {@code page} submitted before it.
     *
     * @throws java.util.concurrent.RejectedExecutionException if the pager is closing
     */
    void submit(String page, Runnable effect) {
        synchronized (this) {
            ArrayDeque<Runnable> behind = waiting.get(page);
            if (behind != null) {
                behind.add(effect);
                return;
            }
            waiting.put(page, new ArrayDeque<>());
        }
        try {
            threads.execute(() -> runFrom(page, effect));
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            synchronized (this) {
                waiting.remove(page);
            }
            throw closing;
        }
    }

    private void runFrom(String page, Runnable first) {
        for (Runnable next = first; next != null; ) {
            try {
                next.run();
            } catch (RuntimeException e) {
                log.error("a page effect of {} failed: {}", page, e.toString(), e);
            }
            synchronized (this) {
                next = waiting.get(page).poll();
                if (next == null) {
                    waiting.remove(page);
                }
            }
        }
    }

    /** The pager closes: the effects submitted so far finish (for at most {@code time} {@code unit}), no more start. */
    boolean drain(long time, TimeUnit unit) throws InterruptedException {
        threads.shutdown();
        return threads.awaitTermination(time, unit);
    }
}
