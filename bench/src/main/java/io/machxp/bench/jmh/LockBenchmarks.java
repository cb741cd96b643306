package io.machxp.bench.jmh;

import io.machxp.client.KernelClient;
import io.machxp.client.ThreadClient;
import io.machxp.client.TaskClient;
import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.LocalTask;
import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.LocalThread;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The JMH benchmarks behind `machxp jmh`, each next to what it is measured against, in the same
 * run. Average time per operation; one thread; embedded pager and kernels on loopback gRPC.
 */
public final class LockBenchmarks {
    private static final String OBJECT = "bench";

    private LockBenchmarks() {}

    /** A cached, uncontended futex through the in-process task handle vs ReentrantLock. */
    @State(Scope.Benchmark)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @Warmup(iterations = 5, time = 2)
    @Measurement(iterations = 5, time = 2)
    public static class InProcess {
        EmbeddedCluster cluster;
        LocalThread thread;
        long address;
        final ReentrantLock lock = new ReentrantLock();
        /** The futex's entry, for the two CASes alone: the fast path without its lease check. */
        FutexEntry entry;

        @Setup(Level.Trial)
        public void setUp() throws IOException {
            cluster = EmbeddedCluster.start(1, true, Map.of(OBJECT, 4096L));
            LocalTask task = cluster.kernel(0).taskCreate("bench");
            address = task.vmMap(OBJECT);
            thread = task.threadCreate();
            thread.lockFutex(address); // from the pager once; cached from then on
            thread.unlockFutex(address);
            Kernel kernel = cluster.kernel(0);
            entry = kernel.<FutexEntry>call(r -> r.complete(kernel.core().inspect().futexAt(task.id(), address)));
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            cluster.close();
        }

        @Benchmark
        public void futexLockUnlock() {
            thread.lockFutex(address);
            thread.unlockFutex(address);
        }

        /** The same two CASes (0 -> TID, TID -> 0) without the lease check or anything else. */
        @Benchmark
        public boolean futexCasWithoutLeaseCheck() {
            return entry.tryFastLock(thread.tid()) & entry.tryFastUnlock(thread.tid());
        }

        @Benchmark
        public void reentrantLockUnlock() {
            lock.lock();
            lock.unlock();
        }
    }

    /** The same through the gRPC task interface vs two empty unary gRPC calls. */
    @State(Scope.Benchmark)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    @Warmup(iterations = 5, time = 2)
    @Measurement(iterations = 5, time = 2)
    public static class OverGrpc {
        EmbeddedCluster cluster;
        KernelClient client;
        ThreadClient thread;
        long address;
        Baseline baseline;

        @Setup(Level.Trial)
        public void setUp() throws IOException {
            cluster = EmbeddedCluster.start(1, true, Map.of(OBJECT, 4096L));
            client = KernelClient.connect(cluster.kernelTargets().get(0));
            TaskClient task = client.taskCreate("bench");
            address = task.vmMap(OBJECT);
            thread = task.threadCreate();
            thread.lockFutex(address);
            thread.unlockFutex(address);
            baseline = new Baseline();
        }

        @TearDown(Level.Trial)
        public void tearDown() throws InterruptedException {
            baseline.close();
            client.close();
            cluster.close();
        }

        @Benchmark
        public void futexLockUnlock() {
            thread.lockFutex(address);
            thread.unlockFutex(address);
        }

        @Benchmark
        public void twoEmptyCalls() {
            baseline.emptyCall();
            baseline.emptyCall();
        }
    }

    /**
     * A futex handed back and forth between two kernels (the futex cache: a handoff is the four
     * futex messages, the page inside two of them) vs round trips on a bare bidirectional stream. One
     * operation is two handoffs (A to B, B to A); the baseline operation is one round trip.
     */
    @State(Scope.Benchmark)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    @Warmup(iterations = 5, time = 2)
    @Measurement(iterations = 5, time = 2)
    public static class Handoff {
        EmbeddedCluster cluster;
        LocalThread onA;
        LocalThread onB;
        long addressA;
        long addressB;
        Baseline baseline;
        /** About the size of an XP futex message on the wire. */
        final byte[] message = new byte[24];

        @Setup(Level.Trial)
        public void setUp() throws IOException {
            cluster = EmbeddedCluster.start(2, true, Map.of(OBJECT, 4096L));
            LocalTask a = cluster.kernel(0).taskCreate("bench");
            LocalTask b = cluster.kernel(1).taskCreate("bench");
            addressA = a.vmMap(OBJECT);
            addressB = b.vmMap(OBJECT);
            onA = a.threadCreate();
            onB = b.threadCreate();
            baseline = new Baseline();
        }

        @TearDown(Level.Trial)
        public void tearDown() throws InterruptedException {
            baseline.close();
            cluster.close();
        }

        @Benchmark
        public void twoHandoffs() {
            onA.lockFutex(addressA);
            onA.unlockFutex(addressA);
            onB.lockFutex(addressB);
            onB.unlockFutex(addressB);
        }

        @Benchmark
        public byte[] streamRoundTrip() throws InterruptedException {
            return baseline.echo(message);
        }
    }

    /**
     * How much the futex cache buys: two kernels, one thread on each, locking a futex homed on
     * its own kernel 90% of the time and the other kernel's otherwise (locality 0.9), with the
     * cache (Parts III-IV) and without it (Part II only: every lock and unlock goes to the pager).
     */
    @State(Scope.Benchmark)
    public static class Locality {
        @Param({"true", "false"})
        public boolean cache;
        EmbeddedCluster cluster;
        final LocalTask[] tasks = new LocalTask[2];
        final long[] base = new long[2];
        final java.util.concurrent.atomic.AtomicInteger nextKernel = new java.util.concurrent.atomic.AtomicInteger();

        @Setup(Level.Trial)
        public void setUp() throws IOException {
            cluster = EmbeddedCluster.start(2, cache, Map.of(OBJECT, 2 * 4096L));
            for (int k = 0; k < 2; k++) {
                tasks[k] = cluster.kernel(k).taskCreate("bench");
                base[k] = tasks[k].vmMap(OBJECT);
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            cluster.close();
        }
    }

    /** One benchmark thread: a thread on one of the two kernels, its home futex and the other. */
    @State(Scope.Thread)
    public static class Worker {
        LocalThread thread;
        long home;
        long away;
        java.util.SplittableRandom random;

        @Setup(Level.Trial)
        public void setUp(Locality l) {
            int k = l.nextKernel.getAndIncrement() % 2;
            thread = l.tasks[k].threadCreate();
            home = l.base[k] + k * 4096L;
            away = l.base[k] + (1 - k) * 4096L;
            random = new java.util.SplittableRandom(k);
        }
    }

    /**
     * What InProcess.futexLockUnlock is compared with for the seed mail's claim (an uncontended
     * cached futex costs no more than a local system call): a real system call made from Java
     * through JNA, and a native call that makes none, so the call's own overhead shows. Note that
     * {@code ProcessHandle.current().pid()} makes no system call (the JDK caches the pid).
     */
    @State(Scope.Benchmark)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @Warmup(iterations = 5, time = 2)
    @Measurement(iterations = 5, time = 2)
    public static class SystemCall {
        int value = -7;

        @Benchmark
        public long getpidThroughJna() {
            return NativeCalls.syscall(NativeCalls.SYS_GETPID);
        }

        @Benchmark
        public int absThroughJna() {
            return NativeCalls.abs(value);
        }
    }

    @State(Scope.Benchmark)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    @Warmup(iterations = 5, time = 2)
    @Measurement(iterations = 5, time = 2)
    public static class CacheLocality {
        @Benchmark
        @Threads(2)
        public void lockUnlock(Locality l, Worker w) {
            long futex = w.random.nextDouble() < 0.9 ? w.home : w.away;
            w.thread.lockFutex(futex);
            w.thread.unlockFutex(futex);
        }
    }
}
