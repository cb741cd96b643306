package io.machxp.pager.core;

import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayDeque;
import java.util.List;

/**
 * The messages the pager sent on one session that the kernel has not said it received: what a resume on a new stream sends again ({@link PagerResume}).
 * Pager core thread only.
 *
 * <h2>Overview</h2>
 * <pre>
 *  message sent to the kernel (after the welcome)  -> numbered (1, 2, ...) and kept
 *  kernel_keepalive(received = n)                   -> kept messages up to number n dropped
 *  resume(received = n)                             -> the kept messages after n, in order
 *  more than MAX_BYTES kept                         -> the log overflows: it drops what it kept
 *                                                      and keeps nothing (a kernel that never
 *                                                      says what it received cannot make the
 *                                                      pager keep everything); no resume works
 *  kernel_keepalive(received >= the overflow point) -> it keeps again, from the next message on:
 *                                                      a resume from a point after the last
 *                                                      message it did not keep works, one from
 *                                                      before is refused
 * </pre>
 */
final class ReplayLog {
    /** The most bytes of messages kept for one session's resume. */
    static final long MAX_BYTES = 16L << 20;
    /**
     * What keeping one message costs the pager beyond its encoded bytes (its Java objects and the
     * queue's slot: about 70 bytes for a pager_keepalive, whose encoding is 4), counted with them
     * so that a kernel whose keepalives never say what it received keeps at most about 16 MiB of
     * memory, not 3 million tiny messages' worth of objects.
     */
    static final int MESSAGE_OVERHEAD = 64;

    /** Names the session for a resume: unguessable, never 0. */
    final long token;
    /** The attempt of the last resume taken (see xp.proto, Resume.attempt). */
    long attempt;
    /** Number of the last message sent to the kernel. */
    long sent;
    final ArrayDeque<PagerToKernel> kept = new ArrayDeque<>();
    long keptBytes;
    /** The log overflowed and keeps nothing until a keepalive acknowledges {@link #overflowedAt}. */
    boolean overflowed;
    /** The number of the message that overflowed the log (while {@link #overflowed}). */
    long overflowedAt;

    ReplayLog(long token) {
        this.token = token;
    }

    /** A message goes to the kernel: it is number {@code sent}, kept until the kernel has it. */
    void sent(PagerToKernel m) {
        sent++;
        if (overflowed) {
            return;
        }
        kept.add(m);
        keptBytes += cost(m);
        if (keptBytes > MAX_BYTES) {
            overflowed = true;
            overflowedAt = sent;
            kept.clear();
            keptBytes = 0;
        }
    }

    /**
     * The kernel has received the first {@code count} messages: they are not kept any more; an
     * overflowed log keeps again once they reach the overflow point (what it did not keep, the
     * kernel has).
     */
    void acknowledged(long count) {
        if (overflowed && count >= overflowedAt && count <= sent) {
            overflowed = false; // kept is empty: the next message sent is the first kept
        }
        while (!kept.isEmpty() && firstKept() <= Math.min(count, sent)) {
            keptBytes -= cost(kept.poll());
        }
    }

    /** What keeping {@code m} costs against {@link #MAX_BYTES}. */
    static long cost(PagerToKernel m) {
        return m.getSerializedSize() + MESSAGE_OVERHEAD;
    }

    private long firstKept() {
        return sent - kept.size() + 1;
    }

    /**
     * Why the log cannot resume a kernel that received {@code count} messages, or null if it can:
     * a count beyond what was sent, or older than what is kept.
     */
    String cannotResume(long count) {
        if (overflowed) {
            return "the pager stopped keeping what it sent for a resume: more than " + (MAX_BYTES >> 20)
                    + " MiB went unacknowledged (the kernel's keepalives say what it received; the pager keeps "
                    + "again once one says the kernel received message " + overflowedAt + ")";
        }
        if (Long.compareUnsigned(count, sent) > 0) { // a uint64: 2^63 and up is above, not below
            return "the kernel says it received " + Long.toUnsignedString(count) + " messages, but the pager sent "
                    + sent;
        }
        if (count < firstKept() - 1) {
            return "the kernel says it received " + count + " messages, but the pager kept only those from "
                    + firstKept() + " on (the kernel had acknowledged more, or the pager kept none for a while: more"
                    + " than " + (MAX_BYTES >> 20) + " MiB went unacknowledged)";
        }
        return null;
    }

    /** The kept messages after the first {@code count}, in order (see {@link #cannotResume}). */
    List<PagerToKernel> after(long count) {
        acknowledged(count);
        return List.copyOf(kept);
    }

    /** Messages kept now; for tests. */
    int keptCount() {
        return kept.size();
    }
}
