package io.machxp.pager;

import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Questions other threads ask the pager's core thread (a status snapshot, the kernels connected, a
 * futex's holder, the metrics' record counts, the failed writes at close): each query is put on
 * the core's event loop and waited for a bounded time, never for good. A core that is stuck or
 * overloaded then costs the asker {@link CoreNotAnswering} (a sentence saying so) instead of its
 * thread: before, an unbounded wait hung a Prometheus scrape or a closing thread for good (late4
 * review A4). The query stays queued and runs when the core gets to it; a question asked again
 * and again (status) goes through {@link SharedQuestion} so that at most one of it waits there. On
 * the core thread itself a query runs at once.
 */
final class CoreQueries {
    private final String pager;
    private final EventExecutor loop;

    CoreQueries(String pager, EventExecutor loop) {
        this.pager = pager;
        this.loop = loop;
    }

    /** Runs {@code query} on the core thread and waits for it at most {@code within}; throws CoreNotAnswering after that. */
    <T> T ask(Callable<T> query, Duration within) {
        if (loop.inEventLoop()) {
            try {
                return query.call();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        return await(submit(query), within);
    }

    /** Whether the caller is the core thread (a query there runs at once, not queued behind itself). */
    boolean onCore() {
        return loop.inEventLoop();
    }

    /** Waits at most {@code within} for a query already put on the core; throws CoreNotAnswering after that. */
    <T> T await(CompletableFuture<T> result, Duration within) {
        try {
            return result.get(within.toNanos(), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new CoreNotAnswering(pager, within);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }

    /**
     * Puts {@code query} on the core thread; the future has its answer, or what it threw, or
     * IllegalStateException at once when the pager is closed. Waits for nothing.
     */
    <T> CompletableFuture<T> submit(Callable<T> query) {
        CompletableFuture<T> result = new CompletableFuture<>();
        try {
            loop.execute(() -> {
                try {
                    result.complete(query.call());
                } catch (Exception e) {
                    result.completeExceptionally(e);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            result.completeExceptionally(new IllegalStateException("pager " + pager + " is closed", closed));
        }
        return result;
    }

    boolean closed() {
        return loop.isShuttingDown();
    }
}
