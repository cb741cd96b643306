package io.machxp.pager.policy;

/**
 * The pager's side of an XP protocol variant: the hooks at which a pager decides about a futex
 * that kernels share, so that a variant is a small class and the pager core keeps the protocol
 * (queues, tokens, fencing, deaths) to itself. The same hooks serve a pager built on the pager
 * library: whom to grant, when to ask the holder to relinquish, what a grant carries.
 *
 * <ul>
 *   <li>whom to grant: the pager grants the top of the futex's queue (highest priority, then the
 *       earliest request), which every variant keeps: PI across kernels depends on it;
 *   <li>{@link #relinquishAfterNanos}: how long a fresh grant stays with its holder before the pager
 *       asks for it back (0: as soon as another kernel waits; a lease makes the grant sticky);
 *   <li>{@link #relinquishInGrant}: whether a grant to a kernel while others already wait carries
 *       the relinquish itself (no window for a local unlock between them).
 * </ul>
 */
public interface GrantPolicy {
    String name();

    /**
     * How long after its grant the holder keeps a futex before it is asked to relinquish it.
     *
     * @param topWaitingPriority the highest priority waiting in the futex's queue (0 without PI)
     */
    default long relinquishAfterNanos(int topWaitingPriority) {
        return 0;
    }

    /** A grant made while kernels wait carries the relinquish. */
    default boolean relinquishInGrant() {
        return true;
    }

    /** Grant, and ask for the futex back as soon as another kernel waits (the protocol as specified). */
    GrantPolicy IMMEDIATE = () -> "immediate";
}
