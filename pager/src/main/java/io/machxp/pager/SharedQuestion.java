package io.machxp.pager;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;

/**
 * A read-only question to the core thread that many threads ask again and again (the status
 * snapshot: the admin service's status thread and the live views' ticker): every caller shares the
 * one query still in flight instead of queueing its own, and each waits for it at most its own
 * bound ({@link CoreQueries#await}). A stuck core so holds at most one of these queries, however
 * long it is stuck and however often it is asked; before, every timed-out ask left its own
 * snapshot queued (one every 5 s from each asker), each walking every session, futex and page when
 * the core came back (late6 review A1). The answer shared is taken on the core after the last event
 * the core handled before each sharer asked (a sharer joins only a query not yet answered, queued
 * or running, and the core is one thread), so none gets a view older than its question. Once the query is answered,
 * the next caller asks afresh. On the core thread itself the question runs at once.
 */
final class SharedQuestion<T> {
    private final CoreQueries core;
    private final Callable<T> query;
    /** The query last put on the core, answered or not; guarded by this. */
    private CompletableFuture<T> asking;

    /** {@code query} runs on the core thread and must change nothing (its answer is shared). */
    SharedQuestion(CoreQueries core, Callable<T> query) {
        this.core = core;
        this.query = query;
    }

    /** The answer, waited for at most {@code within}; CoreNotAnswering after that (the query stays in flight, shared). */
    T ask(Duration within) {
        if (core.onCore()) {
            return core.ask(query, within);
        }
        return core.await(inFlight(), within);
    }

    /** The query in flight on the core, shared: put there now if none is (or the last was answered). */
    synchronized CompletableFuture<T> inFlight() {
        if (asking == null || asking.isDone()) {
            asking = core.submit(query);
        }
        return asking;
    }
}
