package io.machxp.bench.jmh;

import io.machxp.client.KernelClient;
import io.machxp.client.TaskClient;
import io.machxp.client.ThreadClient;
import io.machxp.proto.shm.ShmLayout;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A task in its own process (this JMH fork) and its kernel in another ({@link KernelHost}): the
 * uncontended lock+unlock of a cached futex and a word's read+write in memory the kernel shares
 * (docs/shared-memory.md), each next to its in-process baseline, and the same lock+unlock forced
 * over gRPC.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
public class ProcessBenchmarks {
    private static final String OBJECT = "bench";

    private Process host;
    private KernelClient client;
    private KernelClient grpcClient;
    private ThreadClient thread;
    private ThreadClient grpcThread;
    private TaskClient task;
    private long address;
    private long grpcAddress;
    private final ReentrantLock lock = new ReentrantLock();
    private long plainCounter;
    /** A word of a file in /dev/shm this process maps, for {@link #sharedCasPair}. */
    private java.nio.ByteBuffer word;
    /** A kernel file's header whose lease ends an hour after the setup, for {@link #leaseCheck}. */
    private final java.nio.ByteBuffer leaseFile = java.nio.ByteBuffer.allocateDirect(64).order(java.nio.ByteOrder.nativeOrder());

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        System.out.println(io.machxp.proto.shm.TaskClock.describe()); // which clock this fork's check reads
        ShmLayout.LONG.setVolatile(leaseFile, ShmLayout.LEASE_END, System.nanoTime() + TimeUnit.HOURS.toNanos(1));
        host = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                "-cp", System.getProperty("java.class.path"), KernelHost.class.getName(), OBJECT, "8192")
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String line = new BufferedReader(new InputStreamReader(host.getInputStream(), StandardCharsets.UTF_8)).readLine();
        if (line == null || !line.startsWith("target ")) {
            throw new IllegalStateException("the kernel's process did not start: " + line);
        }
        String target = line.substring("target ".length());
        client = KernelClient.connect(target);
        task = client.taskCreate("bench");
        if (!task.sharesMemory()) {
            throw new IllegalStateException("the kernel shares no memory with this process: is /dev/shm writable?");
        }
        address = task.vmMap(OBJECT);
        thread = task.threadCreate();
        thread.lockFutex(address); // from the pager once; cached from then on
        thread.unlockFutex(address);
        task.writeLong(address + 4096, 0); // maps the word's page to this process
        grpcClient = KernelClient.connect(target, io.machxp.proto.transport.Transport.LOOPBACK_PLAINTEXT, null,
                KernelClient.Memory.GRPC_ONLY);
        TaskClient grpcTask = grpcClient.taskCreate("bench-grpc");
        grpcAddress = grpcTask.vmMap(OBJECT) + 64;
        grpcThread = grpcTask.threadCreate();
        grpcThread.lockFutex(grpcAddress);
        grpcThread.unlockFutex(grpcAddress);
        Path file = java.nio.file.Files.createTempFile(Path.of("/dev/shm"), "machxp-jmh-", ".word");
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file,
                java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
            word = ch.map(java.nio.channels.FileChannel.MapMode.READ_WRITE, 0, 64); // stays mapped after the close
        } finally {
            java.nio.file.Files.delete(file);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        client.close();
        grpcClient.close();
        host.getOutputStream().close();
        if (!host.waitFor(30, TimeUnit.SECONDS)) {
            host.destroyForcibly();
        }
    }

    /** A cached, uncontended futex: a CAS each way in this process, the kernel in another. */
    @Benchmark
    public void sharedLockUnlock() {
        thread.lockFutex(address);
        thread.unlockFutex(address);
    }

    /**
     * The two atomics of {@link #sharedLockUnlock} alone (0 -> TID, TID -> 0 on a word of a shared
     * mapping, through the same VarHandle): what a lock+unlock would cost with a free lease check.
     * With {@link #clockRead} it bounds how close to {@link #reentrantLock} the fast path can come.
     */
    @Benchmark
    public boolean sharedCasPair() {
        return ShmLayout.LONG.compareAndSet(word, 8, 0L, 1234L) & ShmLayout.LONG.compareAndSet(word, 8, 1234L, 0L);
    }

    /**
     * The precise clock read (System.nanoTime: CLOCK_MONOTONIC), alone: what the lease check read
     * before it used the coarse clock, and what it reads without the incubator module.
     */
    @Benchmark
    public long clockRead() {
        return System.nanoTime();
    }

    /**
     * The lock's lease check alone (ShmLayout.leaseRuns on a file whose lease ends in an hour):
     * the coarse clock's read through a downcall where this JVM has the module (TaskClock), else
     * System.nanoTime().
     */
    @Benchmark
    public boolean leaseCheck() {
        return ShmLayout.leaseRuns(leaseFile);
    }

    @Benchmark
    public void reentrantLock() {
        lock.lock();
        lock.unlock();
    }

    /** vm_read + vm_write of an 8-byte word of a page the kernel maps to this process. */
    @Benchmark
    public long sharedReadWrite() {
        long v = task.readLong(address + 4096);
        task.writeLong(address + 4096, v + 1);
        return v;
    }

    /** The same under a ReentrantLock in this process's heap. */
    @Benchmark
    public long plainReadWrite() {
        lock.lock();
        try {
            return ++plainCounter;
        } finally {
            lock.unlock();
        }
    }

    /** The lock+unlock forced over gRPC (KernelClient.Memory.GRPC_ONLY): two calls. */
    @Benchmark
    public void grpcLockUnlock() {
        grpcThread.lockFutex(grpcAddress);
        grpcThread.unlockFutex(grpcAddress);
    }
}
