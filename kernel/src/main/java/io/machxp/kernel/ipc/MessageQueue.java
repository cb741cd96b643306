package io.machxp.kernel.ipc;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A port's queued messages, and the senders blocked because it was full (both FIFO). Messages
 * stay with the port when its receive right moves. Core thread only.
 */
final class MessageQueue {
    private final Deque<KMsg> messages = new ArrayDeque<>();
    final Deque<SendWait> blockedSenders = new ArrayDeque<>();

    void add(KMsg m) {
        messages.addLast(m);
    }

    /** Adds {@code m} at the end, or (a planted bug, {@link IpcPlants#queuedAtTheEnd}) at the head. */
    void add(KMsg m, boolean atTheEnd) {
        if (atTheEnd) {
            messages.addLast(m);
        } else {
            messages.addFirst(m);
        }
    }

    KMsg peek() {
        return messages.peekFirst();
    }

    KMsg poll() {
        return messages.pollFirst();
    }

    int size() {
        return messages.size();
    }

    /** The queued messages, first to last (not to be changed while iterated). */
    Iterable<KMsg> messages() {
        return messages;
    }

    /** Whether a sender bound by the queue limit must wait: full, or others already wait (no overtaking). */
    boolean mustWait(int qlimit) {
        return messages.size() >= qlimit || !blockedSenders.isEmpty();
    }
}
