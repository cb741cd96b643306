package io.machxp.bench.workload;

import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.zip.DataFormatException;
import org.HdrHistogram.Histogram;

/**
 * What workers measured: operations and increments inside the window, critical sections found
 * occupied, and two histograms in nanoseconds (one operation, lock to unlock; the wait, lock
 * called to lock returned). Mergeable; a worker process sends its node's as one line of text.
 */
public final class WorkerStats {
    static final long HISTOGRAM_MAX_NANOS = 3_600_000_000_000L;

    long ops;
    long writes;
    long violations;
    /** With strict alternation, measured operations whose lock was last acquired by another node. */
    long handoffs;
    /** Calls to the system's servers during the measurement (a worker process's clients), or -1: not counted. */
    long calls = -1;
    /** CPU time the worker process used during the measurement, or -1: not measured. */
    long cpuNanos = -1;
    final Histogram latency;
    final Histogram waits;

    public WorkerStats() {
        this(0, 0, 0, new Histogram(HISTOGRAM_MAX_NANOS, 3), new Histogram(HISTOGRAM_MAX_NANOS, 3));
    }

    private WorkerStats(long ops, long writes, long violations, Histogram latency, Histogram waits) {
        this.ops = ops;
        this.writes = writes;
        this.violations = violations;
        this.latency = latency;
        this.waits = waits;
    }

    public synchronized void add(WorkerStats other) {
        ops += other.ops;
        writes += other.writes;
        violations += other.violations;
        handoffs += other.handoffs;
        latency.add(other.latency);
        waits.add(other.waits);
        calls = sum(calls, other.calls);
        cpuNanos = sum(cpuNanos, other.cpuNanos);
    }

    private static long sum(long a, long b) {
        return a < 0 ? b : b < 0 ? a : a + b;
    }

    /** What a worker process measured of itself over the window: its calls to the servers and its CPU time. */
    public synchronized void process(long calls, long cpuNanos) {
        this.calls = calls;
        this.cpuNanos = cpuNanos;
    }

    public synchronized long calls() {
        return calls;
    }

    public synchronized long cpuNanos() {
        return cpuNanos;
    }

    public synchronized long ops() {
        return ops;
    }

    public synchronized long handoffs() {
        return handoffs;
    }

    /** One line: the counts, both histograms compressed in Base64, the calls, CPU and handoffs. */
    public synchronized String encode() {
        return ops + " " + writes + " " + violations + " " + encode(latency) + " " + encode(waits) + " " + calls + " "
                + cpuNanos + " " + handoffs;
    }

    public static WorkerStats decode(String line) {
        String[] f = line.trim().split(" ");
        if (f.length != 8) {
            throw new IllegalArgumentException("not a worker's result: " + line);
        }
        try {
            WorkerStats s = new WorkerStats(Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2]),
                    histogram(f[3]), histogram(f[4]));
            s.process(Long.parseLong(f[5]), Long.parseLong(f[6]));
            s.handoffs = Long.parseLong(f[7]);
            return s;
        } catch (DataFormatException e) {
            throw new IllegalArgumentException("a worker's histogram does not decode: " + e.getMessage(), e);
        }
    }

    private static String encode(Histogram h) {
        ByteBuffer buffer = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
        int length = h.encodeIntoCompressedByteBuffer(buffer);
        byte[] bytes = new byte[length];
        buffer.flip().get(bytes);
        return Base64.getEncoder().encodeToString(bytes);
    }

    private static Histogram histogram(String text) throws DataFormatException {
        return Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(text)),
                HISTOGRAM_MAX_NANOS);
    }
}
