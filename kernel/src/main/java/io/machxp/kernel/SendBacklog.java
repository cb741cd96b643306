package io.machxp.kernel;

import io.machxp.proto.xp.KernelToPager;
import java.util.ArrayDeque;

/**
 * The messages a {@link PagerLink}'s current stream does not take yet: they wait here, in the
 * kernel, in the order the core sent them, instead of in gRPC's buffers past the link's send bound
 * ({@link StreamStall}). Core thread.
 *
 * <h2>Overview</h2>
 * <pre>
 *  add(message, counted)   a message the stream cannot take within the bound waits at the tail;
 *                          counted: one the core sends for the first time (its bytes count
 *                          against the bound); not counted: one it sends again after a resume
 *                          (counted once already, on the stream it left: xp-spec 4.7)
 *  peek / poll             the stream takes more (gRPC's onReady): the head goes first
 *  clear                   a new stream: what waited here is the core's to send again (a resume
 *                          sends everything the pager did not receive), or is lost with the stream
 *                          (a broken one: the kernel reclaims)
 * </pre>
 * Nothing here is acknowledged: the pager acknowledges a message only by answering a keepalive sent
 * after it (xp-spec 4.2), and such a keepalive waits behind it.
 */
final class SendBacklog {
    /** One waiting message, its encoded size, and whether that size counts against the bound. */
    record Waiting(KernelToPager message, long bytes, boolean counted) { }

    private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
    /** The bytes of the counted messages waiting here. */
    private long countedBytes;

    void add(KernelToPager message, long bytes, boolean counted) {
        waiting.add(new Waiting(message, bytes, counted));
        if (counted) {
            countedBytes += bytes;
        }
    }

    boolean isEmpty() {
        return waiting.isEmpty();
    }

    /** The head, or null. */
    Waiting peek() {
        return waiting.peek();
    }

    /** Takes the head (which {@link #peek} gave). */
    Waiting poll() {
        Waiting w = waiting.poll();
        if (w != null && w.counted()) {
            countedBytes -= w.bytes();
        }
        return w;
    }

    long countedBytes() {
        return countedBytes;
    }

    int size() {
        return waiting.size();
    }

    void clear() {
        waiting.clear();
        countedBytes = 0;
    }
}
