package io.machxp.pager.replica;

/**
 * Notices a replica whose applying has stopped for good while its Raft server still runs: its
 * last applied entry is behind the start of its own log (the entries it needs next are gone), and
 * stays there. Ratis (3.1.3, and still 3.3.0) can leave a replica so when a second snapshot install finishes in the
 * few statements between the first install's {@code reinitialize} and the end of its reload
 * ({@code StateMachineUpdater.reload} sets its state back to {@code RUNNING} over the second's
 * {@code RELOAD}): the second snapshot is never loaded, and nothing after it can be applied.
 * Restarting the replica on its store clears it (it loads its latest snapshot).
 *
 * <pre>
 *  state        observation (applied, log start)                 next
 *  FINE         applied + 1 >= start                              FINE
 *  FINE         applied + 1 <  start                              BEHIND since now
 *  BEHIND       applied moved, or applied + 1 >= start            FINE (or BEHIND anew)
 *  BEHIND       unchanged for {@code patience}                    REPORTED: said once
 *  REPORTED     applied moved, or applied + 1 >= start            FINE
 * </pre>
 * An install in progress looks the same for a moment (Ratis resets the log to begin after the
 * snapshot before the applying thread reloads it), so only a gap that lasts is said. One thread
 * observes (the replica's ticker).
 */
final class ApplyStallWatch {
    private final long patienceMillis;
    private boolean behind;
    private boolean reported;
    private long since;
    private long appliedThen;

    ApplyStallWatch(long patienceMillis) {
        if (patienceMillis <= 0) {
            throw new IllegalArgumentException("patience must be positive, not " + patienceMillis);
        }
        this.patienceMillis = patienceMillis;
    }

    /**
     * One look at the replica, at {@code nowMillis}: its last applied index and the first index its
     * log holds. True once, when the gap has lasted {@code patience}: say so then.
     */
    boolean observe(long nowMillis, long applied, long logStart) {
        if (applied + 1 >= logStart) {
            behind = false;
            reported = false;
            return false;
        }
        if (!behind || applied != appliedThen) {
            behind = true;
            reported = false;
            since = nowMillis;
            appliedThen = applied;
            return false;
        }
        if (reported || nowMillis - since < patienceMillis) {
            return false;
        }
        reported = true;
        return true;
    }
}
