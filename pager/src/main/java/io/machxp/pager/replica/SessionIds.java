package io.machxp.pager.replica;

/**
 * Session ids of a replicated pager: the leader's Raft term in the high 32 bits and a count in
 * the low, so that no two leaders ever give the same one (a term has one leader at most).
 */
public final class SessionIds {
    private long term;
    private long count;

    /** The next session id of a leader in {@code currentTerm}. */
    public synchronized long next(long currentTerm) {
        if (currentTerm != term) {
            term = currentTerm;
            count = 0;
        }
        return currentTerm << 32 | ++count;
    }
}
