package io.machxp.pager.policy;

/**
 * The pager's side of an XP protocol variant: the hooks at which a pager decides about a futex
 * that kernels share, so that a variant is a small class and the pager core keeps the protocol
 * (queues, tokens, fencing, deaths) to itself. The same hooks serve a pager built on the pager
 * library: whom to grant, when to ask the holder to relinquish, what a grant carries.
 *
 * <ul>
 *   <li>{@link #chooseNext}: whom to grant. By default the top of the futex's queue (highest
 *       priority, then the earliest request), which every shipped variant keeps: PI across kernels
 *       depends on it;
 *   <li>{@link #relinquishAfterNanos}: how long a fresh grant stays with its holder before the pager
 *       asks for it back (0: as soon as another kernel waits; a lease makes the grant sticky);
 *   <li>{@link #relinquishInGrant}: whether a grant to a kernel while others already wait carries
 *       the relinquish itself (no window for a local unlock between them);
 *   <li>{@link #pagesInGrant}: whether a grant carries the pages the last holder gave back with
 *       the futex (entry consistency), or the next holder fetches them itself.
 * </ul>
 * Every hook is called on the pager's core thread and must not block. Whatever a policy answers,
 * the pager keeps the protocol: one holder per futex, growing fencing tokens, owner_died.
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

    /**
     * An upper bound of {@link #relinquishAfterNanos} over every priority: a replicated pager's
     * leader sends an early ask (xp-spec 13.6) for a grant only once this long has passed since it,
     * so that no grant's lease is cut short. Long.MAX_VALUE, the default: not known, no early ask
     * for this policy's grants (the core's own ask, after the lease, is unchanged).
     */
    default long longestRelinquishAfterNanos() {
        return Long.MAX_VALUE;
    }

    /** A grant made while kernels wait carries the relinquish. */
    default boolean relinquishInGrant() {
        return true;
    }

    /** A kernel waiting for a futex, as a policy sees it: its name and the priority it waits at. */
    record Waiter(String kernel, int priority) {}

    /**
     * Whom to grant a futex that two or more kernels wait for.
     *
     * @param waiters in the pager's order: highest priority first, then the earliest request
     * @return the index in {@code waiters} of the kernel to grant; 0 (the default) keeps the
     *     pager's order, and an index out of range is taken as 0
     */
    default int chooseNext(java.util.List<Waiter> waiters) {
        return 0;
    }

    /**
     * Whether a grant carries the pages the last holder gave back with the futex (true, the
     * default: the next holder needs no page-in); false: it fetches them with data_request.
     */
    default boolean pagesInGrant() {
        return true;
    }

    /**
     * Direct handoff (xp-spec 14): a relinquish asks the holder to send a copy of its release, with
     * the futex's page, straight to the kernel the futex will be granted to next, over the kernel
     * link; that kernel uses it at once, and the pager's grant confirms it.
     */
    default boolean directHandoff() {
        return false;
    }

    /** Grant, and ask for the futex back as soon as another kernel waits (the protocol as specified). */
    GrantPolicy IMMEDIATE = new GrantPolicy() {
        @Override
        public String name() {
            return "immediate";
        }

        @Override
        public long longestRelinquishAfterNanos() {
            return 0; // no lease at any priority
        }
    };
}
