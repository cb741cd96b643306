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
 * chooses by ({@code io.machxp.workbench.Alternation}, {@link StrictAlternation}), the nodes with a
 * worker on its way to the lock (a bit per node: one worker per node at a time, so that no worker
 * re-takes a lock from its own node), and the counter of {@code --data shared}. This is the
 * checker's instrument, not part of any system under test.
 * <pre>
 *   words: header (8: ready, begin, end, completed, sequence, failed, 2 spare; then per node its finished workers: 64) | occupancy per lock | last acquisition per lock | claims per lock | counter per lock
 * </pre> Aligned 8-byte words through a byte-buffer VarHandle: atomic across
 * processes on a mapped file. Direct memory in one JVM too: from JDK 22 on, a byte-buffer view
 * allows atomic access only on direct buffers (a heap buffer's array is 1-aligned).
 */
public final class Board {
    private static final VarHandle LONG = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final int READY = 0;
    private static final int BEGIN = 1;
    private static final int END = 2;
    private static final int COMPLETED = 3;
    private static final int SEQUENCE = 4;
    /** Non-zero once a worker failed: strict alternation's waiters stop (no node may hand them a lock). */
    private static final int FAILED = 5;
    /** Per node, its workers that have finished (words 8 to 71: nodes are below 64). */
    private static final int DONE = 8;
    private static final int HEADER = DONE + 64;
    /** Nodes are below 64 (BenchOptions): the node fits in the low 7 bits of a lock's last acquisition. */
    private static final int NODE_BITS = 7;

    private final ByteBuffer words;
    private final int locks;

    private Board(ByteBuffer words, int locks) {
        this.words = words;
        this.locks = locks;
    }

    /** For workers that are threads of this JVM (direct: 8-aligned, atomic on every JDK). */
    public static Board inMemory(int locks) {
        return new Board(ByteBuffer.allocateDirect(bytes(locks)), locks);
    }

    /** For worker processes: {@code file} mapped read-write, created zeroed at the size when new. */
    public static Board mapped(Path file, int locks) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            return new Board(channel.map(FileChannel.MapMode.READ_WRITE, 0, bytes(locks)), locks);
        }
    }

    private static int bytes(int locks) {
        return 8 * (HEADER + 4 * locks);
    }

    private int lastWord(int lock) {
        return HEADER + locks + lock;
    }

    private int claimWord(int lock) {
        return HEADER + 2 * locks + lock;
    }

    private int counterWord(int lock) {
        return HEADER + 3 * locks + lock;
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

    /** A worker of {@code node} has finished its run. */
    public void finished(int node) {
        add(DONE + node, 1);
    }

    /** A worker failed (its system threw): the run is lost, and workers waiting for a handoff stop. */
    public void fail() {
        LONG.setVolatile(words, 8 * FAILED, 1L);
    }

    /** Whether a worker has failed ({@link #fail}). */
    public boolean failed() {
        return get(FAILED) != 0;
    }

    /** Whether every worker of every node but {@code node} has finished ({@code threads} per node). */
    public boolean othersFinished(int node, int nodes, int threads) {
        for (int n = 0; n < nodes; n++) {
            if (n != node && get(DONE + n) < threads) {
                return false;
            }
        }
        return true;
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

    /**
     * A worker of {@code node} acquired {@code lock} (it holds it): records so, and returns the node
     * that acquired it before, or -1 when none did; another node's is a handoff between nodes.
     */
    public int acquired(int lock, int node) {
        long sequence = add(SEQUENCE, 1);
        long before = (long) LONG.getAndSet(words, 8 * lastWord(lock), sequence << NODE_BITS | node);
        return nodeOf(before);
    }

    /** The node that acquired {@code lock} last, or -1. */
    public int lastNode(int lock) {
        return nodeOf(get(lastWord(lock)));
    }

    private static int nodeOf(long last) {
        return last == 0 ? -1 : (int) (last & ((1 << NODE_BITS) - 1));
    }

    /** When {@code lock} was acquired last: larger is later. */
    public long lastStamp(int lock) {
        return get(lastWord(lock)) >>> NODE_BITS;
    }

    /**
     * A worker of {@code node} claims the way to {@code lock} for its node: true when no other worker
     * of the node holds the claim. Nodes are below 64: a bit each.
     */
    public boolean claim(int lock, int node) {
        long bit = 1L << node;
        while (true) {
            long claims = get(claimWord(lock));
            if ((claims & bit) != 0) {
                return false;
            }
            if (LONG.compareAndSet(words, 8 * claimWord(lock), claims, claims | bit)) {
                return true;
            }
        }
    }

    /** Whether a worker of {@code node} holds the claim on {@code lock}. */
    public boolean claimed(int lock, int node) {
        return (get(claimWord(lock)) & (1L << node)) != 0;
    }

    /** The worker of {@code node} that claimed {@code lock} acquired it (after {@link #acquired}) or gave up. */
    public void unclaim(int lock, int node) {
        LONG.getAndBitwiseAnd(words, 8 * claimWord(lock), ~(1L << node));
    }

    /** {@code --data shared}: lock {@code lock}'s counter, read by a worker holding the lock. */
    public long counter(int lock) {
        return get(counterWord(lock));
    }

    /**
     * {@code --data shared}: sets the counter (a plain store after the load: a lock that does not
     * exclude loses updates here, as with any system's store).
     */
    public void counter(int lock, long value) {
        LONG.setVolatile(words, 8 * counterWord(lock), value);
    }

    /** {@code --data shared}: the sum of every lock's counter. */
    public long counterSum() {
        long sum = 0;
        for (int lock = 0; lock < locks; lock++) {
            sum += counter(lock);
        }
        return sum;
    }
}
