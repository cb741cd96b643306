package io.machxp.demo;

import io.machxp.client.KernelClient;
import io.machxp.client.MachxpException;
import io.machxp.client.TaskClient;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.Errno;
import io.machxp.proto.task.VmLockFutexReply;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;

/**
 * The demo's workload: worker threads on every kernel lock and unlock futexes of one shared
 * object. Futex i is homed on kernel i mod K; a worker picks a futex homed on its own kernel with
 * probability {@code locality}, else one homed elsewhere. Inside each critical section it checks
 * that nobody else is in it ({@link SectionCheck}, shared by all workers in this JVM), and
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
    private final SectionCheck sections;
    /** What the warm-up's ops record (not reported but their count), and what the measured ones do. */
    private final Phase warmup = new Phase();
    private final Phase measured = new Phase();

    DemoWorkload(DemoOptions options) {
        this.options = options;
        this.sections = new SectionCheck(options.futexes());
    }

    /**
     * Where a phase's ops record their latency and acquisition paths. Both phases run the same code
     * and record alike: code compiled during the warm-up for a branch it never took would be thrown
     * away when the measured ops take it (the JIT's deoptimization), and the measured ops would pay
     * for compiling it again.
     */
    private static final class Phase {
        final LongAdder[] acquires = new LongAdder[AcquirePath.values().length];
        final Histogram latencyNanos = new Histogram(3_600_000_000_000L, 3);

        Phase() {
            for (int i = 0; i < acquires.length; i++) {
                acquires[i] = new LongAdder();
            }
        }

        long ops() {
            long sum = 0;
            for (LongAdder a : acquires) {
                sum += a.sum();
            }
            return sum;
        }
    }

    /** Errors by kind (errno, else gRPC status), counted across workers. */
    private final java.util.concurrent.ConcurrentHashMap<String, LongAdder> errors =
            new java.util.concurrent.ConcurrentHashMap<>();
    /** Increments whose vm_write was acknowledged. */
    private final LongAdder acknowledged = new LongAdder();
    /** Acquisitions told OWNER_DIED: the writes of the owner that died may be lost, and were said to be. */
    private final LongAdder ownerDied = new LongAdder();

    /**
     * Runs every worker to the end and returns the wall time of the measured ops in nanoseconds. A
     * worker never stops on an error: each call has a deadline, a failed one is counted by kind and
     * ends the worker's task (watched with TaskWatch, so what its thread held passes on with
     * OWNER_DIED), and the worker goes on with a new task; a failed op counts as one of its ops.
     *
     * <p>Every worker sets up its task before any clock starts. With a warm-up
     * ({@link DemoOptions#warmup}) every worker then first runs the same workload for
     * that long on the same task and thread, from a generator of its own (so the measured choices
     * are those of a run without one); then, once all have stopped, {@code measuring} runs and the
     * measured ops start together. The warm-up's ops are not in the latency or the acquisitions,
     * but its violations, errors and acknowledged increments are counted with the rest.
     *
     * @param clients per kernel, its connection (with call deadlines)
     * @param objects the memory objects the futexes are in: futex i in object i mod their number
     * @param measuring what to do between the warm-up and the measured ops (read the counters)
     */
    long run(List<KernelClient> clients, List<String> objects, long pageSize, Runnable measuring)
            throws InterruptedException {
        int workers = clients.size() * options.threadsPerKernel();
        CountDownLatch setUp = new CountDownLatch(workers);
        CountDownLatch start = new CountDownLatch(1);
        CountDownLatch warmed = new CountDownLatch(workers);
        CountDownLatch measure = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int k = 0; k < clients.size(); k++) {
            for (int t = 0; t < options.threadsPerKernel(); t++) {
                int kernel = k;
                DemoWorker worker = new DemoWorker(clients.get(k), objects, "demo-" + k + "-" + t);
                long seed = options.seed() * 1_000_003L + kernel * 1_009L + t;
                Thread thread = new Thread(() -> {
                    boolean warm = false;
                    try {
                        try {
                            setUp(worker);
                        } finally {
                            setUp.countDown();
                        }
                        start.await();
                        if (!options.warmup().isZero()) {
                            work(worker, kernel, pageSize, new SplittableRandom(~seed), warmup, Integer.MAX_VALUE,
                                    warmupEnd);
                        }
                        warm = true;
                        warmed.countDown();
                        measure.await();
                        work(worker, kernel, pageSize, new SplittableRandom(seed), measured, options.opsPerThread(),
                                System.nanoTime() + UNTIL_DONE);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } catch (RuntimeException e) {
                        error(e);
                    } finally {
                        if (!warm) {
                            warmed.countDown();
                        }
                        worker.drop();
                    }
                }, "demo-" + kernel + "-" + t);
                thread.start();
                threads.add(thread);
            }
        }
        setUp.await();
        long warmupBegin = System.nanoTime();
        warmupEnd = warmupBegin + options.warmup().toNanos();
        start.countDown();
        warmed.await();
        warmupNanos = System.nanoTime() - warmupBegin;
        measuring.run();
        long begin = System.nanoTime();
        measure.countDown();
        for (Thread t : threads) {
            t.join();
        }
        return System.nanoTime() - begin;
    }

    /**
     * The worker's task, thread and mapping, before any clock starts (a worker whose set-up fails
     * sets up again at its first op, as after an error).
     */
    private void setUp(DemoWorker worker) {
        try {
            worker.setUp();
        } catch (RuntimeException e) {
            error(e);
        }
    }

    /** When the warm-up ends (System.nanoTime), and how long it took until every worker had stopped. */
    private volatile long warmupEnd;
    private volatile long warmupNanos;
    /** The measured ops' deadline, far enough never to be reached: they end by their count. */
    private static final long UNTIL_DONE = java.util.concurrent.TimeUnit.DAYS.toNanos(365);

    /** Ops the workers ran in the warm-up. */
    long warmupOps() {
        return warmup.ops();
    }

    /** How long the warm-up took, in nanoseconds (0: none). */
    long warmupNanos() {
        return options.warmup().isZero() ? 0 : warmupNanos;
    }

    /**
     * The worker's ops of one phase: {@code ops} of them, or as many as it starts before {@code end}
     * (System.nanoTime), whichever comes first. The measured ops and the warm-up's take the same path.
     */
    private void work(DemoWorker w, int kernel, long pageSize, SplittableRandom random, Phase phase, int ops, long end)
            throws InterruptedException {
        Histogram mine = new Histogram(3_600_000_000_000L, 3);
        LockChooser chooser = new LockChooser(kernel, options.kernelCount(), options.futexes(), options.locality());
        for (int op = 0; op < ops && System.nanoTime() - end < 0; op++) {
            int futex = chooser.next(random);
            SectionCheck.Section inside = null;
            try {
                if (!w.ready()) {
                    w.setUp();
                }
                long address = w.base(futex) + futex * pageSize;
                long t0 = System.nanoTime();
                VmLockFutexReply got = w.thread().lock(address, DemoWorker.LOCK_TIMEOUT);
                mine.recordValue(System.nanoTime() - t0);
                phase.acquires[got.getPath().getNumber()].increment();
                if (got.getOwnerDied()) {
                    ownerDied.increment();
                    w.thread().markConsistent(address);
                }
                inside = sections.enter(futex, got.getOwnerDied());
                long counter = w.task().readLong(address + COUNTER_OFFSET);
                for (int i = 0; i < CRITICAL_SECTION_SPINS; i++) {
                    Thread.onSpinWait();
                }
                w.task().writeLong(address + COUNTER_OFFSET, counter + 1);
                acknowledged.increment();
                sections.leave(inside);
                inside = null;
                w.thread().unlockFutex(address);
                if (!options.think().isZero()) {
                    java.util.concurrent.locks.LockSupport.parkNanos(options.think().toNanos());
                }
            } catch (MachxpException e) {
                boolean wasInside = inside != null;
                if (wasInside) {
                    sections.leave(inside);
                    inside = null;
                }
                error(e);
                if (!(e.errno() == Errno.ETIMEDOUT && !wasInside)) {
                    w.drop(); // what its thread may still hold passes on with OWNER_DIED
                    Thread.sleep(1); // a failed call's backoff
                }
            } catch (IllegalStateException e) { // a watch that could not be set up
                error(e);
                w.drop();
                Thread.sleep(1);
            } finally {
                if (inside != null) { // anything else thrown inside ends the worker: its section too
                    sections.leave(inside);
                }
            }
        }
        synchronized (phase.latencyNanos) {
            phase.latencyNanos.add(mine);
        }
    }

    private void error(RuntimeException e) {
        String kind = e instanceof MachxpException m
                ? (m.errno() != null && m.errno() != Errno.ERRNO_UNSPECIFIED ? m.errno().name() : m.code().name())
                : e.getClass().getSimpleName();
        errors.computeIfAbsent(kind, k -> new LongAdder()).increment();
    }

    /** Errors by kind. */
    java.util.Map<String, Long> errors() {
        java.util.Map<String, Long> out = new java.util.TreeMap<>();
        errors.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    long acknowledged() {
        return acknowledged.sum();
    }

    long ownerDied() {
        return ownerDied.sum();
    }

    /** The sum of every futex's counter, read with vm_read through {@code task} (futex i in object i mod n). */
    static long counterSum(TaskClient task, List<String> objects, long pageSize, int futexes) {
        long[] bases = new long[objects.size()];
        for (int i = 0; i < bases.length; i++) {
            bases[i] = task.vmMap(objects.get(i));
        }
        long sum = 0;
        for (int f = 0; f < futexes; f++) {
            sum += task.readLong(bases[f % bases.length] + f * pageSize + COUNTER_OFFSET);
        }
        return sum;
    }

    long violations() {
        return sections.violations();
    }

    /** Sections overtaken by an acquisition told OWNER_DIED while their worker, whose owner was declared dead, still ran ({@link SectionCheck}). */
    long overtaken() {
        return sections.overtaken();
    }

    /** The measured ops' acquisitions by path. */
    long acquires(AcquirePath path) {
        return measured.acquires[path.getNumber()].sum();
    }

    /** The measured ops' acquire latency. */
    Histogram latencyNanos() {
        return measured.latencyNanos;
    }
}
