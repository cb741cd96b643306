package io.machxp.client;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * Runs a test's blocking calls (a lock that waits, a call that parks on gRPC) each on a thread of
 * its own, so that any number of them wait at once.
 *
 * <p>Not {@code CompletableFuture.runAsync(r)} for those: since JDK 25 its default executor is
 * always the common fork-join pool (JDK 17 to 24 started a thread per task when that pool's
 * parallelism was 1), and the pool's parallelism is the CPU count less one. On a 2-CPU machine
 * one blocked call then holds the only worker and the next call never starts: a
 * {@code ThreadClient} call waits in a native futex syscall ({@code CallChannel}) or a gRPC
 * park, neither of which tells the pool to add a worker (a {@code CompletableFuture.get} does).
 */
final class OwnThreads {
    private static final Executor EACH_ON_ITS_OWN = r -> {
        Thread t = new Thread(r, "test-blocking-call");
        t.setDaemon(true);
        t.start();
    };

    private OwnThreads() {}

    static CompletableFuture<Void> run(Runnable call) {
        return CompletableFuture.runAsync(call, EACH_ON_ITS_OWN);
    }

    static <T> CompletableFuture<T> supply(Supplier<T> call) {
        return CompletableFuture.supplyAsync(call, EACH_ON_ITS_OWN);
    }
}
