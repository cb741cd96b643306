package io.machxp.demo;

import io.machxp.client.TaskClient;
import io.machxp.client.ThreadClient;
import io.machxp.proto.task.AcquirePath;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;

/**
 * The demo's workload: worker threads on every kernel lock and unlock futexes of one shared
 * object. Futex i is homed on kernel i mod K; a worker picks a futex homed on its own kernel with
 * probability {@code locality}, else one homed elsewhere. Inside each critical section it checks
 * that nobody else is in it (occupancy counter per futex, shared by all workers in this JVM), and
 * increments the futex's counter in the shared object - the 8 bytes after the futex word, read
 * with vm_read and written back with vm_write, not with an atomic - so a lost update shows in the
 * final sum.
 *
 * <p>Each worker's choices come from its own generator seeded with (seed, kernel, thread), so the
 * same seed gives every worker the same sequence; the interleaving is up to the machine.
 */
final class DemoWorkload {
    /** Work inside a critical section, so that an overlap would be seen. */
    private static final int CRITICAL_SECTION_SPINS = 64;
    /** Where a futex's counter is: the 8 bytes after the futex word, in the same page. */
    static final int COUNTER_OFFSET = 8;

    private final DemoOptions options;
    private final AtomicIntegerArray occupancy;
    private final LongAdder violations = new LongAdder();
    private final LongAdder[] acquires = new LongAdder[AcquirePath.values().length];
    private final Histogram latencyNanos = new Histogram(3_600_000_000_000L, 3);
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    DemoWorkload(DemoOptions options) {
        this.options = options;
        this.occupancy = new AtomicIntegerArray(options.futexes());
        for (int i = 0; i < acquires.length; i++) {
            acquires[i] = new LongAdder();
        }
    }

    /**
     * Runs every worker to the end and returns the wall time in nanoseconds.
     *
     * @param workers per kernel, its threads
     * @param bases per kernel, the address of the shared object in its task
     */
    long run(List<TaskClient> tasks, List<List<ThreadClient>> workers, long[] bases, long pageSize)
            throws InterruptedException {
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        AtomicInteger ready = new AtomicInteger();
        for (int k = 0; k < workers.size(); k++) {
            for (int t = 0; t < workers.get(k).size(); t++) {
                int kernel = k;
                ThreadClient thread = workers.get(k).get(t);
                SplittableRandom random = new SplittableRandom(options.seed() * 1_000_003L + kernel * 1_009L + t);
                Thread worker = new Thread(() -> {
                    ready.incrementAndGet();
                    try {
                        start.await();
                        work(tasks.get(kernel), thread, kernel, bases[kernel], pageSize, random);
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }, "demo-" + kernel + "-" + t);
                worker.start();
                threads.add(worker);
            }
        }
        long begin = System.nanoTime();
        start.countDown();
        for (Thread t : threads) {
            t.join();
        }
        long elapsed = System.nanoTime() - begin;
        if (failure.get() != null) {
            throw new IllegalStateException("a demo worker failed: " + failure.get().getMessage(), failure.get());
        }
        return elapsed;
    }

    private void work(TaskClient task, ThreadClient thread, int kernel, long base, long pageSize,
            SplittableRandom random) {
        Histogram mine = new Histogram(3_600_000_000_000L, 3);
        LockChooser chooser = new LockChooser(kernel, options.kernelCount(), options.futexes(), options.locality());
        for (int op = 0; op < options.opsPerThread(); op++) {
            int futex = chooser.next(random);
            long address = base + futex * pageSize;
            long t0 = System.nanoTime();
            AcquirePath path = thread.lockFutex(address);
            mine.recordValue(System.nanoTime() - t0);
            acquires[path.getNumber()].increment();
            if (occupancy.incrementAndGet(futex) != 1) {
                violations.increment();
            }
            long counter = task.readLong(address + COUNTER_OFFSET);
            for (int i = 0; i < CRITICAL_SECTION_SPINS; i++) {
                Thread.onSpinWait();
            }
            task.writeLong(address + COUNTER_OFFSET, counter + 1);
            occupancy.decrementAndGet(futex);
            thread.unlockFutex(address);
        }
        synchronized (latencyNanos) {
            latencyNanos.add(mine);
        }
    }

    /** The sum of every futex's counter, read with vm_read through {@code task}. */
    static long counterSum(TaskClient task, long base, long pageSize, int futexes) {
        long sum = 0;
        for (int f = 0; f < futexes; f++) {
            sum += task.readLong(base + f * pageSize + COUNTER_OFFSET);
        }
        return sum;
    }

    long violations() {
        return violations.sum();
    }

    long acquires(AcquirePath path) {
        return acquires[path.getNumber()].sum();
    }

    Histogram latencyNanos() {
        return latencyNanos;
    }
}
