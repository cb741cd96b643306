package io.machxp.chaos.real;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The harness's own witness of how a node process was scheduled: a thread of the harness's code,
 * in the node's JVM but sharing nothing with the pager or kernel, that wakes every
 * {@link #PERIOD_NANOS} and writes each gap between two wake-ups longer than
 * {@link #RESOLUTION_NANOS} to a file the harness maps too. A gap is time in which the process ran
 * none of its Java code: its threads were not scheduled (a loaded host), or a GC pause held them
 * at a safepoint. The harness reads the file ({@link Reader}); it never asks the node.
 *
 * <p>A node is started as {@code java -cp ... io.machxp.chaos.real.StallProbe FILE machxp ARGS}:
 * {@link #main} starts the probe and then runs {@code machxp ARGS} in the same JVM.
 * {@code System.nanoTime()} is CLOCK_MONOTONIC on Linux, one clock for every process of the host,
 * so the gaps are on the harness's clock.
 *
 * <p>The file: a count of the gaps written, then a ring of {@link #RING} (start, end) pairs. The
 * probe writes a pair, then the count (release); the reader reads the count (acquire), then the
 * pairs it has not read. A reader that falls more than the ring behind says so.
 */
final class StallProbe {
    /** How often the probe wakes. */
    static final long PERIOD_NANOS = 10_000_000;
    /** The shortest gap recorded (beyond the period): shorter delays are the host's normal jitter. */
    static final long RESOLUTION_NANOS = 50_000_000;
    static final int RING = 4096;
    private static final int BYTES = 8 + RING * 16;
    private static final VarHandle LONGS = MethodHandles.byteBufferViewVarHandle(long[].class,
            ByteOrder.nativeOrder());

    /** One gap: the process ran nothing from {@code start} to {@code end} (nanoTime). */
    record Stall(String process, long start, long end) {
        long nanos() {
            return end - start;
        }
    }

    private StallProbe() {}

    /** {@code FILE machxp-arguments...}: probes this JVM into FILE, then runs machxp. */
    public static void main(String[] args) throws IOException {
        start(Path.of(args[0]));
        io.machxp.cli.Machxp.main(Arrays.copyOfRange(args, 1, args.length));
    }

    /**
     * Starts probing this JVM into {@code path}: a beat every {@link #PERIOD_NANOS} after the last
     * ended, on a daemon thread of its own (shut the executor down to stop).
     */
    static ScheduledExecutorService start(Path path) throws IOException {
        ScheduledExecutorService probe = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "machxp chaos stall probe");
            t.setDaemon(true);
            return t;
        });
        probe.scheduleWithFixedDelay(new Beat(map(path)), PERIOD_NANOS, PERIOD_NANOS, TimeUnit.NANOSECONDS);
        return probe;
    }

    private static MappedByteBuffer map(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            return ch.map(FileChannel.MapMode.READ_WRITE, 0, BYTES);
        }
    }

    /** One wake-up of the probe: a gap since the last one longer than the period is written down. */
    private static final class Beat implements Runnable {
        private final ByteBuffer file;
        private long count;
        private long last = System.nanoTime();

        Beat(ByteBuffer file) {
            this.file = file;
            this.count = (long) LONGS.getAcquire(file, 0);
        }

        @Override
        public void run() {
            long now = System.nanoTime();
            if (now - last - PERIOD_NANOS > RESOLUTION_NANOS) {
                int at = 8 + (int) (count % RING) * 16;
                LONGS.set(file, at, last + PERIOD_NANOS);
                LONGS.set(file, at + 8, now);
                LONGS.setRelease(file, 0, ++count);
            }
            last = now;
        }
    }

    /** The harness's side: the gaps a node's probe wrote since the last read. */
    static final class Reader {
        private final String process;
        private final Path path;
        private MappedByteBuffer file;
        private long read;
        private long missed;

        /** Makes the (empty) file a node of this name will probe into. */
        Reader(String process, Path path) throws IOException {
            this.process = process;
            this.path = path;
            this.file = map(path);
            this.read = (long) LONGS.getAcquire(file, 0);
        }

        Path path() {
            return path;
        }

        /** The gaps written since the last call (a restarted node appends to the same file). */
        synchronized List<Stall> poll() {
            long count = (long) LONGS.getAcquire(file, 0);
            List<Stall> out = new ArrayList<>();
            if (count - read > RING) {
                missed += count - read - RING;
                read = count - RING;
            }
            for (; read < count; read++) {
                int at = 8 + (int) (read % RING) * 16;
                out.add(new Stall(process, (long) LONGS.get(file, at), (long) LONGS.get(file, at + 8)));
            }
            return out;
        }

        /** Gaps that were overwritten before they were read (the reader fell a ring behind). */
        synchronized long missed() {
            return missed;
        }
    }
}
