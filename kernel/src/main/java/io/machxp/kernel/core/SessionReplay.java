package io.machxp.kernel.core;

import io.machxp.proto.xp.KernelToPager;
import java.util.ArrayDeque;
import java.util.List;

/**
 * The kernel's side of session resume (xp.proto, Resume): its count of what it received from the
 * pager, and the messages it sent that the pager has not confirmed, which a resume on a new
 * stream sends again. Part of the kernel core: core thread only; {@link KernelSession} drives it.
 *
 * <h2>Overview</h2>
 * <pre>
 *  message sent (after kernel_hello)      -> numbered (1, 2, ...) and kept
 *  message received (not a welcome)       -> counted
 *  pager_keepalive answers keepalive k    -> kept messages up to k's number dropped (the stream
 *                                            is FIFO: the pager had them all)
 *  resumed(pager received n)              -> the kept messages after n, to send again
 *  resume refused                         -> everything kept is dropped (the kernel reclaims
 *                                            instead, or starts over)
 * </pre>
 * What is kept is bounded by what the kernel sends in a lease: a pager that answers no keepalive
 * for a lease ends the session.
 */
final class SessionReplay {
    /** Pager messages of the session received (welcomes not counted). */
    private long received;
    /** Number of the last message sent (or kept to send once resumed). */
    private long sent;
    private final ArrayDeque<KernelToPager> kept = new ArrayDeque<>();
    /** The last resume attempt sent: each is one more. */
    private long attempt;
    /** Whether sent messages are kept: until the welcome says the session cannot be resumed. */
    private boolean keeping = true;

    void received() {
        received++;
    }

    long receivedCount() {
        return received;
    }

    /** A message leaves (or waits for the resume): its number. */
    long sent(KernelToPager m) {
        if (keeping) {
            kept.add(m);
        }
        return ++sent;
    }

    /** The session cannot be resumed (no lease, or no token): nothing is kept from now on. */
    void stopKeeping() {
        keeping = false;
        kept.clear();
    }

    /** A reclaim opened a new count on both sides (the pager that takes it numbers from 1). */
    void reset() {
        received = 0;
        sent = 0;
        kept.clear();
    }

    /** The pager has the first {@code count} messages. */
    void acknowledged(long count) {
        while (!kept.isEmpty() && sent - kept.size() + 1 <= count) {
            kept.poll();
        }
    }

    /** The pager took a resume and had received {@code count}: what to send again, in order. */
    List<KernelToPager> resumed(long count) {
        acknowledged(count);
        return List.copyOf(kept);
    }

    /** Whether {@code count} is a number the pager can have received: not above what was sent. */
    boolean plausible(long count) {
        return count <= sent && count >= sent - kept.size();
    }

    /** The session will not be resumed: nothing kept is sent again (a reclaim asks again instead). */
    void dropKept() {
        kept.clear();
    }

    long nextAttempt() {
        return ++attempt;
    }

    long attempt() {
        return attempt;
    }

    /** Messages kept now; for tests. */
    int keptCount() {
        return kept.size();
    }
}
