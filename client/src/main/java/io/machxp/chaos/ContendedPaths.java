package io.machxp.chaos;

import java.util.List;

/**
 * The names, in a run's counts, of the core paths the {@link ChaosMix#CONTENDED} mix is there to
 * reach: {@code machxp chaos --mix contended} prints each with its total, and
 * {@code ContendedMixTest} requires each but the last to be reached. The last, a session the pager
 * ended for an answer overdue, needs a kernel that keeps its lease but does not answer: no fault
 * of the simulator makes one (a kernel cut off or paused past the deadline loses its lease first),
 * so it stays 0 while the cores are correct.
 */
public final class ContendedPaths {
    public static final String TRYLOCKS = "trylocks made";
    public static final String TRYLOCKS_BUSY = "EBUSY";
    /**
     * Trylocks that got the futex: counted, not printed among the paths; ContendedMixTest requires
     * it, so that a trylock answering EBUSY every time cannot pass.
     */
    public static final String TRYLOCKS_ACQUIRED = "trylocks acquired";
    public static final String RELINQUISH_TRY = "relinquish_futex(try) sent";
    public static final String LOCK_REQUESTS_WITH_REPLY = "lock_requests with reply sent";
    public static final String OWNERS_KILLED = "owners killed with waiters";
    public static final String HEIRS_WOKEN = "heirs woken";
    public static final String ANSWERS_OVERDUE = "sessions ended for an answer overdue";

    /** In the order the CLI prints them. */
    public static final List<String> NAMES = List.of(TRYLOCKS, TRYLOCKS_BUSY, RELINQUISH_TRY, LOCK_REQUESTS_WITH_REPLY,
            OWNERS_KILLED, HEIRS_WOKEN, ANSWERS_OVERDUE);

    private ContendedPaths() {
    }
}
