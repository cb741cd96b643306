package io.machxp.pager.replica;

import io.machxp.pager.core.PagerCore;
import io.machxp.proto.replica.KernelMessage;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Each kernel stream's place in the log, as the replica applies it: by session id (one per
 * stream), the index its next kernel message must have, or -1 once its run broke. The state is in
 * the replica's snapshot ({@link #snapshot}, {@link #restore}) and changes only with applied
 * entries, so every replica of a group decides alike. Applying thread only.
 * <pre>
 *  message with index 0         -> taken (a log written before messages were numbered)
 *  message of a session the     -> taken (the core drops it) and the stream's record forgotten
 *    core does not have
 *  message with the next index  -> taken; the next index moves on
 *  any other index              -> dropped, and so is every later message of the stream (broken)
 *  session_closed / pruning     -> the record forgotten
 * </pre>
 */
final class StreamSequence {
    /**
     * How many records of streams the core no longer has may wait to be pruned; pruned whenever
     * there are more of them than this and twice the core's sessions.
     */
    static final int STALE_RECORDS = 256;

    private final Map<Long, Long> expected = new HashMap<>();

    /**
     * Whether a kernel message is the next of its stream. One whose predecessor on the stream was
     * not taken (its append failed, while a later one went through: a leader deposed and elected
     * again, or a client replaced after a failure) would leave a hole that the session's count of
     * messages received does not show; a resume trusts that count, so the kernel would not send
     * the missing one again. Such a message and every later one of its stream are dropped, on
     * every replica alike; the kernel resumes and sends them again from the exact count.
     */
    boolean inSequence(PagerCore core, KernelMessage m) {
        if (m.getIndex() == 0) {
            return true; // a log written before messages were numbered
        }
        if (!core.hasSession(m.getSessionId())) {
            // The core dropped this stream's session (ended it, or its lease ran out), or moved it to
            // a resume's stream: it drops what still arrives on it, and nothing of it is kept here.
            expected.remove(m.getSessionId());
            return true;
        }
        long next = expected.getOrDefault(m.getSessionId(), 1L);
        if (m.getIndex() != next) {
            expected.put(m.getSessionId(), -1L); // broken: nothing more of this stream
            return false;
        }
        expected.put(m.getSessionId(), next + 1);
        return true;
    }

    /** Nothing more of the stream of {@code sessionId} is applied (the core failed on it, or its id was given twice). */
    void broken(long sessionId) {
        expected.put(sessionId, -1L);
    }

    /** The stream of {@code sessionId} closed: its record goes. */
    void forget(long sessionId) {
        expected.remove(sessionId);
    }

    /**
     * Forgets the records of streams the core no longer has ({@link #inSequence} keeps none of
     * them): a stream the core ended, or whose lease ran out, appends no session_closed. Run after
     * every entry once there are more records than {@link #STALE_RECORDS} and twice the core's
     * sessions, so its cost is spread over the entries that made them; it depends on the state
     * alone, so every replica prunes at the same entry and their snapshots stay equal.
     */
    void prune(PagerCore core) {
        if (core != null && expected.size() > STALE_RECORDS + 2L * core.sessionCount()) {
            expected.keySet().removeIf(id -> !core.hasSession(id));
        }
    }

    /** The records in session id order, for the replica's snapshot. */
    Map<Long, Long> snapshot() {
        return new TreeMap<>(expected);
    }

    /** The records of a snapshot, in place of these. */
    void restore(Map<Long, Long> records) {
        expected.clear();
        expected.putAll(records);
    }
}
