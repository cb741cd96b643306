package io.machxp.bench.workload;

import java.time.Duration;

/**
 * The workload machxp bench runs on every system, the same for each.
 *
 * @param nodes kernels (machxp) or client nodes (the peers): a worker's node decides which locks are its home
 * @param threadsPerNode worker threads per node
 * @param locks locks (futexes), lock i homed on node i mod nodes
 * @param locality probability that a worker takes a lock homed on its own node
 * @param critical time spent holding the lock (busy, on the CPU), besides reading or writing the counter
 * @param think time between releasing a lock and taking the next (parked, off the CPU)
 * @param writes fraction of critical sections that increment the lock's counter; the others only read it
 * @param warmup time each system runs before measuring (JIT, caches, connections)
 * @param duration time each system is measured
 * @param seed fixes each worker's sequence of lock choices and of reads and writes
 * @param api how machxp workers reach their kernel: the in-process task handle, a client in this JVM, or
 *     clients in worker processes of their own (the peers' workers too)
 * @param pattern how a worker picks its next lock: with {@code locality}, or strict alternation
 */
public record BenchOptions(int nodes, int threadsPerNode, int locks, double locality, Duration critical,
        Duration think, double writes, Duration warmup, Duration duration, long seed, Api api, Pattern pattern) {

    /** How a machxp worker calls its kernel. */
    public enum Api {
        /** A task of the kernel's own JVM (LocalTask): a cached lock is a CAS, as a syscall-free futex is. */
        LOCAL,
        /** KernelClient in this JVM (shared memory with the kernel when allowed, else gRPC on loopback). */
        GRPC,
        /**
         * Every node's workers in a JVM of their own: machxp's as KernelClient tasks (the shared-memory
         * fast path), the peers' as their client libraries; nobody calls in-JVM.
         */
        PROCESS
    }

    /** How a worker picks its next lock. */
    public enum Pattern {
        /** One homed on the worker's node with probability {@code locality}, else another ({@code LockChooser}). */
        LOCALITY,
        /** The lock most recently acquired by a worker of another node ({@code io.machxp.workbench.Alternation}). */
        ALTERNATION
    }

    /** The locality pattern. */
    public BenchOptions(int nodes, int threadsPerNode, int locks, double locality, Duration critical,
            Duration think, double writes, Duration warmup, Duration duration, long seed, Api api) {
        this(nodes, threadsPerNode, locks, locality, critical, think, writes, warmup, duration, seed, api,
                Pattern.LOCALITY);
    }

    public BenchOptions {
        require(nodes >= 1 && nodes <= 64, "--kernels must be 1 to 64");
        require(threadsPerNode >= 1 && threadsPerNode <= 256, "--threads must be 1 to 256");
        require(locks >= 1 && locks <= 4096, "--locks must be 1 to 4096");
        require(locality >= 0 && locality <= 1, "--locality must be between 0 and 1");
        require(writes >= 0 && writes <= 1, "--writes must be between 0 and 1");
        require(!critical.isNegative() && !think.isNegative(), "--critical and --think cannot be negative");
        require(!warmup.isNegative(), "--warmup cannot be negative");
        require(duration.compareTo(Duration.ofMillis(100)) >= 0, "--duration must be at least 100ms");
    }

    /** The same workload with another warm-up. */
    public BenchOptions withWarmup(Duration value) {
        return new BenchOptions(nodes, threadsPerNode, locks, locality, critical, think, writes, value, duration, seed, api,
                pattern);
    }

    public int workers() {
        return nodes * threadsPerNode;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
