package io.machxp.bench.workload;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs the bench's workload on one {@link LockService} with its workers as threads of this JVM:
 * nodes x threads {@link WorkerLoop}s, closed loop. A warm-up runs first and is not measured; then
 * the timed window, or with {@link BenchOptions#bounded} each worker's number of operations.
 *
 * <p>Every system is checked while it runs, not trusted: an occupancy count per lock on the
 * {@link Board} catches two workers inside one critical section at once, and the sum of the
 * counters at the end must equal the increments made (a lost update shows there).
 *
 * <p>A worker whose system throws ends the run with its failure: the others stop at their next
 * operation or handoff wait, and those still inside their system (blocked in a lock that the
 * failed worker could not release) get {@link #FAILURE_GRACE}; then the run throws anyway, naming
 * them (they are daemon threads, left to the service's close).
 */
public final class Workload extends Run {
    /** How long the others may take to stop once a worker has failed. */
    static final Duration FAILURE_GRACE = Duration.ofSeconds(10);
    private static final long POLL_MILLIS = 20;

    private final Duration grace;

    public Workload(BenchOptions options) {
        this(options, FAILURE_GRACE);
    }

    Workload(BenchOptions options, Duration grace) {
        super(options);
        this.grace = grace;
    }

    @Override
    public SystemResult run(LockService service) throws Exception {
        Board b = use(Board.inMemory(options.locks()));
        long counterBefore = Tally.counterSum(service, b, options);
        WorkerStats[] perNode = new WorkerStats[options.nodes()];
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int node = 0; node < options.nodes(); node++) {
            WorkerStats nodeStats = new WorkerStats();
            perNode[node] = nodeStats;
            for (int t = 0; t < options.threadsPerNode(); t++) {
                int n = node;
                int index = node * options.threadsPerNode() + t;
                Thread worker = new Thread(() -> {
                    try (LockService.Client client = service.client(n, index)) {
                        nodeStats.add(WorkerLoop.run(client, b, options, n, index));
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                        b.fail(); // also when the client could not be made: no worker waits for this one
                    }
                }, "bench-" + service.name() + "-" + n + "-" + t);
                worker.setDaemon(true);
                threads.add(worker);
                worker.start();
            }
        }
        while (b.readyCount() < options.workers() && failure.get() == null) {
            LockSupport.parkNanos(1_000_000);
        }
        long now = System.nanoTime();
        long begin = now + options.warmup().toNanos();
        b.open(begin, begin + options.duration().toNanos());
        if (failure.get() != null) {
            throw failed(service, failure.get());
        }
        while (System.nanoTime() - begin < 0) { // the message count at the start of the measurement
            LockSupport.parkNanos(begin - System.nanoTime());
        }
        long messagesAtBegin = service.messages();
        begun();
        awaitWorkers(service, threads, failure);
        long ended = System.nanoTime();
        if (failure.get() != null) {
            throw failed(service, failure.get());
        }
        long messages = messagesAtBegin < 0 ? -1 : service.messages() - messagesAtBegin;
        return Tally.of(service, options, perNode, messages, Tally.counterSum(service, b, options) - counterBefore,
                options.bounded() ? Math.max(ended - begin, 1) / 1e9 : options.duration().toNanos() / 1e9);
    }

    /**
     * Waits for every worker; once one has failed, at most {@link #grace} more, then throws the
     * failure naming the workers still running (a lock that never returns must not hang the bench).
     */
    private void awaitWorkers(LockService service, List<Thread> threads, AtomicReference<Throwable> failure)
            throws InterruptedException {
        long giveUpAt = 0;
        boolean failed = false;
        while (true) {
            List<Thread> alive = threads.stream().filter(Thread::isAlive).toList();
            if (alive.isEmpty()) {
                return;
            }
            if (!failed && failure.get() != null) {
                failed = true;
                giveUpAt = System.nanoTime() + grace.toNanos();
            }
            if (failed && System.nanoTime() - giveUpAt >= 0) {
                Throwable cause = failure.get();
                throw new IllegalStateException(service.name() + ": a worker failed: " + cause + "; "
                        + alive.size() + " worker(s) still inside the system " + grace.toMillis()
                        + " ms later, left running: " + alive.stream().map(Thread::getName).toList(), cause);
            }
            alive.get(0).join(POLL_MILLIS);
        }
    }

    private static IllegalStateException failed(LockService service, Throwable cause) {
        return new IllegalStateException(service.name() + ": a worker failed: " + cause, cause);
    }
}
