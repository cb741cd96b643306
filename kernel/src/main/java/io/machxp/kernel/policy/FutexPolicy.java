package io.machxp.kernel.policy;

/**
 * The kernel's side of an XP protocol variant: when a kernel gives up a futex it holds from the
 * pager, and what the futex takes with it. The kernel core asks these hooks at its decision
 * points and keeps the protocol itself (states, messages, priority inheritance) to itself, so a
 * variant is a small class, chosen per run (machxp --variant NAME).
 *
 * <ul>
 *   <li>{@link #cacheFutexes}: after the last local unlock, keep the futex (Part III/IV) or give
 *       it back at once (Part II);
 *   <li>{@link #pageWithFutex}: a released futex carries its own page inside futex_released (the
 *       next owner gets it inside the grant), or returns it to the pager apart, to be paged in on its own;
 *   <li>{@link #piggyback}: a release also carries the pages dirtied under the futex (entry consistency);
 *   <li>{@link #holdNanos}: how long after its grant a free cached futex is kept although another
 *       kernel asked for it (a DLM's minimum hold time); 0 gives it back at once.
 * </ul>
 */
public interface FutexPolicy {
    /** The variant's name, as --variant takes it. */
    String name();

    /** Keep a futex after the last local unlock until the pager asks for it (Part III/IV). */
    default boolean cacheFutexes() {
        return true;
    }

    /**
     * The futex's own page leaves inside futex_released; else, with the cache, in a data_return of
     * its own before it, and in Part II it stays until the pager asks for it.
     */
    default boolean pageWithFutex() {
        return true;
    }

    /** A release also carries the other pages dirtied under the futex. */
    default boolean piggyback() {
        return false;
    }

    /**
     * How many futexes the kernel keeps from the pager at most before it gives idle ones back
     * (no thread here owns or waits for them), oldest grant first: the cache is kept "until
     * asked" (xp-spec 8.2) and also bounded, well below the pager's bound for one session (2^18
     * by default), so that an application with many mutexes never meets the pager's bounds.
     */
    default int maxCachedFutexes() {
        return 1 << 16;
    }

    /**
     * How long after its grant the kernel keeps the futex although the pager asked for it back.
     *
     * @param h what the kernel knows when the relinquish arrives
     * @return nanoseconds from the grant; 0 or less: honour the relinquish now
     */
    default long holdNanos(Hold h) {
        return 0;
    }

    /**
     * What a hold is decided on.
     *
     * @param remotePriority the highest priority waiting on other kernels (0 without PI)
     * @param localPriority the highest priority of the futex's owner and waiters here (0: none)
     * @param acquireNanos how long this kernel's last request for the futex took to be granted
     *     (lock_futex to futex_granted), or -1 if it never asked
     */
    record Hold(int remotePriority, int localPriority, long acquireNanos) {
        /** The PI exception: a waiter elsewhere of a higher priority than any here skips the hold. */
        public boolean higherPriorityWaitsElsewhere() {
            return remotePriority > localPriority;
        }
    }
}
