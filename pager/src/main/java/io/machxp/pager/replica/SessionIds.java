package io.machxp.pager.replica;

/**
 * Session ids of a replicated pager: the leader's Raft term in the high 32 bits and a count in
 * the low, so that no two leaders ever give the same one (a term has one leader at most). The
 * count starts again only for a newer term: an id asked for an older one (a thread that drew its
 * term before a term change) is refused, since the newer term's count may already have passed
 * through the ids it would reuse.
 */
public final class SessionIds {
    private long term;
    private long count;

    /**
     * The next session id of the leader of {@code currentTerm}.
     *
     * @throws IllegalStateException if an id of a newer term was drawn already
     */
    public synchronized long next(long currentTerm) {
        if (currentTerm < term) {
            throw new IllegalStateException("a session id of term " + currentTerm + " asked after ids of term " + term
                    + ": the term is over here");
        }
        if (currentTerm != term) {
            term = currentTerm;
            count = 0;
        }
        return currentTerm << 32 | ++count;
    }
}
