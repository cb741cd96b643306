package io.machxp.pager.watch;

import io.machxp.proto.admin.XpMessageTrace;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * The latest XP messages a pager received and sent, for watchers (PagerWatch, machxp view).
 *
 * <h2>Overview</h2>
 * Off (the default, and whenever no watch is open) it costs the core one volatile read per
 * message. On, the core thread appends each message, as an {@link XpMessageTrace} with its
 * kernel's name and object name resolved, to a ring of {@link #CAPACITY}; watchers read it from
 * their own threads with a cursor ({@link #since}) and are told how many they missed when the ring
 * wrapped past them. The core never waits for a watcher. A grant that is a cross-kernel handoff
 * is told first ({@link #handoff}) and marks the memory_object_futex_granted that follows; the
 * handoffs also go to a second, small ring, so that a watcher that missed messages still sees them.
 */
public final class XpTrace {
    static final int CAPACITY = 4096;
    static final int HANDOFFS = 64;

    /** What a watcher gets: messages after its cursor (oldest first), and how many it missed. */
    public record Batch(List<XpMessageTrace> messages, long missed, List<XpMessageTrace> handoffs, long next,
            long nextHandoff) {}

    /**
     * Watches open; recording is on while there is one. One count, no separate flag: a flag written
     * after the count (close: decrement, then "off") could overwrite a watch opened in between, which
     * then recorded nothing (late4 review A3).
     */
    private final AtomicInteger watchers = new AtomicInteger();
    private final XpMessageTrace[] ring = new XpMessageTrace[CAPACITY];
    private final XpMessageTrace[] handoffRing = new XpMessageTrace[HANDOFFS];
    private long written;
    private long handoffsWritten;
    /** Core thread only: handoffs told whose granted message has not gone out yet, by session and futex. */
    private final Map<String, String> pendingHandoffs = new HashMap<>();

    /** A watch starts: from now on messages are recorded. Returns the cursor to read from. */
    public synchronized long[] open() {
        watchers.incrementAndGet();
        return new long[] {written, handoffsWritten};
    }

    /** A watch ended; with none left, recording stops. */
    public void close() {
        watchers.decrementAndGet();
    }

    /** Whether a watch is open: one volatile read (the core asks it for every message). */
    public boolean on() {
        return watchers.get() > 0;
    }

    /**
     * Core thread, while {@link #on}: a message from the kernel of session {@code sessionId};
     * {@code objectNames} gives the name of an object by the session's id for it.
     */
    public void received(long sessionId, String kernel, IntFunction<String> objectNames, KernelToPager m) {
        append(XpDescribe.of(objectNames, m).setKernel(kernel).setToKernel(false), null);
    }

    /** Core thread, while {@link #on}: a message to the kernel of session {@code sessionId}. */
    public void sent(long sessionId, String kernel, IntFunction<String> objectNames, PagerToKernel m) {
        XpMessageTrace.Builder b = XpDescribe.of(objectNames, m).setKernel(kernel).setToKernel(true);
        String from = null;
        if (m.hasMemoryObjectFutexGranted() && !pendingHandoffs.isEmpty()) {
            from = pendingHandoffs.remove(sessionId + "/" + b.getObject() + "/" + b.getOffset());
            if (from != null) {
                b.setHandoffFrom(from);
            }
        }
        append(b, from);
    }

    /**
     * Core thread: the futex at ({@code object}, {@code offset}) is being granted to the kernel of
     * session {@code toSession}, which is not the kernel that held it last ({@code from}); its
     * granted message follows.
     */
    public void handoff(long toSession, String object, long offset, String from) {
        if (on()) {
            if (pendingHandoffs.size() > 10_000) {
                pendingHandoffs.clear(); // grants to broken sessions never go out; bounded all the same
            }
            pendingHandoffs.put(toSession + "/" + object + "/" + offset, from);
        }
    }

    private synchronized void append(XpMessageTrace.Builder b, String handoffFrom) {
        XpMessageTrace t = b.setSequence(written + 1)
                .setUnixMicros(java.util.concurrent.TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis())).build();
        ring[(int) (written % CAPACITY)] = t;
        written++;
        if (handoffFrom != null) {
            handoffRing[(int) (handoffsWritten % HANDOFFS)] = t;
            handoffsWritten++;
        }
    }

    /**
     * Any thread: at most {@code max} of the latest messages after cursor {@code from} and the
     * handoffs after {@code fromHandoff} (at most {@code maxHandoffs}), with the cursors to read on from.
     */
    public synchronized Batch since(long from, long fromHandoff, int max, int maxHandoffs) {
        long first = Math.max(Math.max(from, written - CAPACITY), written - max);
        List<XpMessageTrace> out = new ArrayList<>();
        for (long i = first; i < written; i++) {
            out.add(ring[(int) (i % CAPACITY)]);
        }
        List<XpMessageTrace> handoffs = new ArrayList<>();
        for (long i = Math.max(Math.max(fromHandoff, handoffsWritten - HANDOFFS), handoffsWritten - maxHandoffs);
                i < handoffsWritten; i++) {
            handoffs.add(handoffRing[(int) (i % HANDOFFS)]);
        }
        return new Batch(out, first - from, handoffs, written, handoffsWritten);
    }
}
