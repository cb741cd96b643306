package io.machxp.proto.threads;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * Runs calls that block (a lock that waits, a gRPC blocking stub, a close that waits for a pager,
 * a server's start, {@code System.exit}) each on a daemon thread of its own, named, which ends when
 * its call does: any number of them wait at once, and none holds a thread that others need.
 *
 * <p>Use it instead of {@code CompletableFuture.runAsync(r)}, {@code supplyAsync(s)}, the
 * {@code thenXxxAsync} forms without an executor, and parallel streams, for anything that may
 * block. Their executor is the common fork-join pool (for {@code CompletableFuture} always since
 * JDK 25; JDK 17 to 24 started a thread per task when that pool's parallelism was 1), whose
 * parallelism is the CPU count less one: on a 2-CPU machine one blocked call holds its only worker
 * and every later task waits behind it. A native futex wait, a gRPC park or a lock does not tell
 * the pool to add a worker (only {@code CompletableFuture.get}/{@code join} and other
 * {@code ForkJoinPool.managedBlock} users do).
 */
public final class OwnThreads {
    private OwnThreads() {}

    /** An executor that starts a new daemon thread called {@code name} for each task it is given. */
    public static Executor named(String name) {
        Objects.requireNonNull(name, "name");
        return call -> {
            Thread t = new Thread(call, name);
            t.setDaemon(true);
            t.start();
        };
    }

    /** {@code call} on a daemon thread of its own called {@code name}; the future ends with it. */
    public static CompletableFuture<Void> run(String name, Runnable call) {
        return CompletableFuture.runAsync(call, named(name));
    }

    /** {@code call} on a daemon thread of its own called {@code name}; the future holds its result. */
    public static <T> CompletableFuture<T> supply(String name, Supplier<T> call) {
        return CompletableFuture.supplyAsync(call, named(name));
    }
}
