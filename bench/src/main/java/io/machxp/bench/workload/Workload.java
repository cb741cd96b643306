package io.machxp.bench.workload;

import io.machxp.demo.LockChooser;
import io.machxp.workbench.Fairness;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * Runs the bench's workload on one {@link LockService}: nodes x threads workers, closed loop, each
 * taking a lock chosen with locality ({@link LockChooser}), holding it for the critical section
 * (read the lock's counter, spin, and with probability {@code writes} write it back plus one),
 * releasing it, then thinking. A warm-up runs first and is not measured.
 *
 * <p>Every system is checked while it runs, not trusted: an occupancy count per lock, shared by
 * all workers of this JVM, catches two workers inside one critical section at once, and the sum
 * of the counters at the end must equal the increments made (a lost update shows there).
 *
 * <p>Each worker's choices come from its own generator seeded with (seed, node, thread), so every
 * system sees the same sequence of requests per worker; the interleaving is the machine's.
 */
public final class Workload {
    private static final long HISTOGRAM_MAX_NANOS = 3_600_000_000_000L;

    private final BenchOptions options;
    private final LongAdder completed = new LongAdder();

    public Workload(BenchOptions options) {
        this.options = options;
    }

    /** Operations completed so far in this run, warm-up included: for a progress display. */
    public long completed() {
        return completed.sum();
    }

    /** Runs the warm-up and the measurement on {@code service} and checks what it did. */
    public SystemResult run(LockService service) throws Exception {
        completed.reset();
        int locks = options.locks();
        long counterBefore = counterSum(service);
        long messagesBefore = service.messages();
        AtomicIntegerArray occupancy = new AtomicIntegerArray(locks);
        LongAdder violations = new LongAdder();
        LongAdder writes = new LongAdder();
        LongAdder ops = new LongAdder();
        Histogram latency = new Histogram(HISTOGRAM_MAX_NANOS, 3);
        long[] acquisitions = new long[options.nodes()]; // per node, measured: guarded by waits
        List<Histogram> waits = new ArrayList<>();
        for (int node = 0; node < options.nodes(); node++) {
            waits.add(new Histogram(HISTOGRAM_MAX_NANOS, 3));
        }
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch ready = new CountDownLatch(options.workers());
        CountDownLatch start = new CountDownLatch(1);
        long[] window = new long[2]; // measurement [begin, end) in nanoTime, set before start opens
        long messagesAtBegin;

        List<Thread> threads = new ArrayList<>();
        for (int node = 0; node < options.nodes(); node++) {
            for (int t = 0; t < options.threadsPerNode(); t++) {
                int n = node;
                int index = node * options.threadsPerNode() + t;
                SplittableRandom random = new SplittableRandom(options.seed() * 1_000_003L + n * 1_009L + t);
                Thread worker = new Thread(() -> {
                    try (LockService.Client client = service.client(n, index)) {
                        ready.countDown();
                        start.await();
                        Histogram mine = new Histogram(HISTOGRAM_MAX_NANOS, 3);
                        Histogram myWaits = new Histogram(HISTOGRAM_MAX_NANOS, 3);
                        long myOps = 0;
                        long myWrites = 0;
                        try {
                            LockChooser chooser = new LockChooser(n, options.nodes(), locks, options.locality());
                            long criticalNanos = options.critical().toNanos();
                            long thinkNanos = options.think().toNanos();
                            while (true) {
                                int lock = chooser.next(random);
                                boolean write = random.nextDouble() < options.writes();
                                long t0 = System.nanoTime();
                                client.lock(lock);
                                long waited = System.nanoTime() - t0;
                                if (occupancy.incrementAndGet(lock) != 1) {
                                    violations.increment();
                                }
                                long value = client.read(lock);
                                spin(criticalNanos);
                                if (write) {
                                    client.write(lock, value + 1);
                                    myWrites++;
                                }
                                occupancy.decrementAndGet(lock);
                                client.unlock(lock);
                                long t1 = System.nanoTime();
                                completed.increment();
                                if (t1 - window[0] >= 0 && t1 - window[1] < 0) {
                                    mine.recordValue(t1 - t0);
                                    myWaits.recordValue(waited);
                                    myOps++;
                                }
                                if (t1 - window[1] >= 0) {
                                    break;
                                }
                                if (thinkNanos > 0) {
                                    LockSupport.parkNanos(thinkNanos);
                                }
                            }
                        } finally {
                            ops.add(myOps);
                            writes.add(myWrites);
                            synchronized (latency) {
                                latency.add(mine);
                            }
                            synchronized (waits) {
                                waits.get(n).add(myWaits);
                                acquisitions[n] += myOps;
                            }
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                        ready.countDown();
                    }
                }, "bench-" + service.name() + "-" + n + "-" + t);
                worker.setDaemon(true);
                threads.add(worker);
                worker.start();
            }
        }
        ready.await();
        if (failure.get() != null) {
            start.countDown();
            throw failed(service, failure.get());
        }
        long now = System.nanoTime();
        window[0] = now + options.warmup().toNanos();
        window[1] = window[0] + options.duration().toNanos();
        start.countDown(); // publishes window to the workers
        while (System.nanoTime() - window[0] < 0) { // the message count at the start of the measurement
            LockSupport.parkNanos(window[0] - System.nanoTime());
        }
        messagesAtBegin = service.messages();
        for (Thread t : threads) {
            t.join();
        }
        if (failure.get() != null) {
            throw failed(service, failure.get());
        }
        long messages = service.messages() - messagesAtBegin;
        long counted = counterSum(service) - counterBefore;
        double seconds = options.duration().toNanos() / 1e9;
        long n = ops.sum();
        return new SystemResult(service.name(), n, seconds, n / seconds,
                new SystemResult.Latency(micros(latency.getValueAtPercentile(50)),
                        micros(latency.getValueAtPercentile(99)), micros(latency.getValueAtPercentile(99.9)),
                        micros(latency.getMaxValue())),
                messagesBefore < 0 || n == 0 ? null : Math.round(100.0 * messages / n) / 100.0,
                violations.sum(), writes.sum() - counted, Fairness.of(acquisitions, waits));
    }

    private long counterSum(LockService service) throws Exception {
        long sum = 0;
        for (int lock = 0; lock < options.locks(); lock++) {
            sum += service.counter(lock);
        }
        return sum;
    }

    /** Holds the CPU for {@code nanos}, as work inside a critical section does. */
    private static void spin(long nanos) {
        if (nanos <= 0) {
            return;
        }
        long until = System.nanoTime() + nanos;
        while (System.nanoTime() - until < 0) {
            Thread.onSpinWait();
        }
    }

    private static double micros(long nanos) {
        return Math.round(nanos / 100.0) / 10.0;
    }

    private static IllegalStateException failed(LockService service, Throwable cause) {
        return new IllegalStateException(service.name() + ": a worker failed: " + cause, cause);
    }
}
