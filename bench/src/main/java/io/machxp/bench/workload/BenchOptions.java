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
 * @param data what the critical section reads and writes: a word of the bench's shared memory for
 *     every system (lock against lock), or each system's own store ({@link Data})
 * @param opsPerWorker 0: each worker runs the timed window; N: each worker runs N operations and
 *     stops, all of them measured (no clock decides when a run ends: tests and smoke runs); under
 *     strict alternation at most N: a node's workers stop once every other node has finished
 */
public record BenchOptions(int nodes, int threadsPerNode, int locks, double locality, Duration critical,
        Duration think, double writes, Duration warmup, Duration duration, long seed, Api api, Pattern pattern,
        Data data, long opsPerWorker) {

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

    /** What the critical section reads and writes (the counter that shows a lost update). */
    public enum Data {
        /**
         * A word per lock in the bench's own memory (the {@link Board}: the heap, or a file every worker
         * process maps), a plain load and store for every system: the rows compare lock against lock,
         * and the data step guarantees nothing beyond the host's memory for any of them.
         */
        SHARED,
        /**
         * Where a user of the system would keep it, each system's own guarantee: machxp's in the lock's
         * page, with {@code --api process} Hazelcast's in an IMap (get and set, a sync backup) and
         * ZooKeeper's in a znode (getData and setData, a write of its log); in-JVM the peers' in this
         * JVM's heap (they hold no data). The rows then compare different work ({@link LockService#data}).
         */
        SYSTEM
    }

    /** Each system's own data, timed: as before --data existed (scale, pager-efficiency, older callers). */
    public BenchOptions(int nodes, int threadsPerNode, int locks, double locality, Duration critical,
            Duration think, double writes, Duration warmup, Duration duration, long seed, Api api, Pattern pattern) {
        this(nodes, threadsPerNode, locks, locality, critical, think, writes, warmup, duration, seed, api, pattern,
                Data.SYSTEM, 0);
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
        require(pattern != Pattern.ALTERNATION || nodes >= 2, "strict alternation needs at least 2 --kernels");
        require(opsPerWorker >= 0, "--ops cannot be negative");
        java.util.Objects.requireNonNull(data, "data");
    }

    /** The same workload with another warm-up. */
    public BenchOptions withWarmup(Duration value) {
        return new BenchOptions(nodes, threadsPerNode, locks, locality, critical, think, writes, value, duration, seed, api,
                pattern, data, opsPerWorker);
    }

    /** The same workload with another data step. */
    public BenchOptions withData(Data value) {
        return new BenchOptions(nodes, threadsPerNode, locks, locality, critical, think, writes, warmup, duration, seed, api,
                pattern, value, opsPerWorker);
    }

    /** The same workload bounded by operations: each worker runs {@code ops} and stops, all measured. */
    public BenchOptions withOpsPerWorker(long ops) {
        return new BenchOptions(nodes, threadsPerNode, locks, locality, critical, think, writes, warmup, duration, seed, api,
                pattern, data, ops);
    }

    /** Whether the run ends after a number of operations rather than a time. */
    public boolean bounded() {
        return opsPerWorker > 0;
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
