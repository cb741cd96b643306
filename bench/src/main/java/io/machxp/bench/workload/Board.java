package io.machxp.bench.workload;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The bench's own state, shared by every worker of a run whether they are threads of this JVM (a
 * heap buffer) or threads of worker processes (a file all of them map): when to start and stop
 * measuring, how many workers are ready and how many operations are done (for the progress bar),
 * the occupancy count of each lock (two workers inside one critical section is a violation), and
 * per lock which node acquired it last and when (a sequence number), which strict alternation
 * chooses by ({@code io.machxp.workbench.Alternation}). This is the checker's instrument, not part
 * of any system under test. Aligned 8-byte words through a byte-buffer VarHandle: atomic across
 * processes on a mapped file.
 */
public final class Board {
    private static final VarHandle LONG = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final int READY = 0;
    private static final int BEGIN = 1;
    private static final int END = 2;
    private static final int COMPLETED = 3;
    private static final int SEQUENCE = 4;
    private static final int HEADER = 8;
    /** Nodes are below 64 (BenchOptions): the node fits in the low 7 bits of a lock's last acquisition. */
    private static final int NODE_BITS = 7;

    private final ByteBuffer words;
    private final int locks;

    private Board(ByteBuffer words, int locks) {
        this.words = words;
        this.locks = locks;
    }

    /** For workers that are threads of this JVM. */
    public static Board inMemory(int locks) {
        return new Board(ByteBuffer.allocate(bytes(locks)), locks);
    }

    /** For worker processes: {@code file} mapped read-write, created zeroed at the size when new. */
    public static Board mapped(Path file, int locks) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            return new Board(channel.map(FileChannel.MapMode.READ_WRITE, 0, bytes(locks)), locks);
        }
    }

    private static int bytes(int locks) {
        return 8 * (HEADER + 2 * locks);
    }

    private long get(int word) {
        return (long) LONG.getVolatile(words, 8 * word);
    }

    private long add(int word, long delta) {
        return (long) LONG.getAndAdd(words, 8 * word, delta) + delta;
    }

    /** A worker is connected and waits for the start. */
    public void ready() {
        add(READY, 1);
    }

    public long readyCount() {
        return get(READY);
    }

    /** Opens the run: warm-up until {@code begin}, measured until {@code end} (System.nanoTime, one clock per host). */
    public void open(long begin, long end) {
        LONG.setVolatile(words, 8 * END, end);
        LONG.setVolatile(words, 8 * BEGIN, begin); // published last: workers wait for it
    }

    /** Whether {@link #open} was called. */
    public boolean opened() {
        return get(BEGIN) != 0;
    }

    public long begin() {
        return get(BEGIN);
    }

    public long end() {
        return get(END);
    }

    /** Workers completed {@code ops} more operations. */
    public void completed(long ops) {
        add(COMPLETED, ops);
    }

    /** Operations completed, warm-up included. */
    public long completedCount() {
        return get(COMPLETED);
    }

    /** A worker enters {@code lock}'s critical section; false when another one is inside. */
    public boolean enter(int lock) {
        return add(HEADER + lock, 1) == 1;
    }

    public void leave(int lock) {
        add(HEADER + lock, -1);
    }

    /** A worker of {@code node} acquired {@code lock}. */
    public void acquired(int lock, int node) {
        long sequence = add(SEQUENCE, 1);
        LONG.setVolatile(words, 8 * (HEADER + locks + lock), sequence << NODE_BITS | node);
    }

    /** The node that acquired {@code lock} last, or -1. */
    public int lastNode(int lock) {
        long last = get(HEADER + locks + lock);
        return last == 0 ? -1 : (int) (last & ((1 << NODE_BITS) - 1));
    }

    /** When {@code lock} was acquired last: larger is later. */
    public long lastStamp(int lock) {
        return get(HEADER + locks + lock) >>> NODE_BITS;
    }
}
