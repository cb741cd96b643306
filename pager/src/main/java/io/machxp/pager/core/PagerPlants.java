package io.machxp.pager.core;

/**
 * Bugs planted in the pager core's logic, to prove that the chaos checker finds them; for tests
 * only (nothing outside tests sets one: the CLI and the runtime always run {@link #NONE}).
 *
 * <p>Each method is one decision of the core, called at the one place the core makes it, with
 * the correct answer as its argument; {@link #NONE} returns it unchanged (a final, monomorphic
 * call the JIT inlines away). A test plants a bug by overriding one method to return a wrong
 * answer - the bug then lives inside the core's logic, not on the wire around it.
 */
public interface PagerPlants {
    /** The correct pager: every decision as computed. */
    PagerPlants NONE = new PagerPlants() { };

    /**
     * The fencing token of a grant ({@code next}, above the futex's {@code previous} one).
     * Planted: the previous one again - a stale holder cannot be told from the new one.
     */
    default long grantToken(long previous, long next) {
        return next;
    }

    /** How long a kernel may stay unheard before it is dead ({@code lease}). Planted: half of it. */
    default long leaseAsCounted(long lease) {
        return lease;
    }

    /**
     * A kernel declared dead held the futex: whether it goes on with owner_died ({@code ownerDied}).
     * Planted: false - its next owner reads what the dead kernel left without being told.
     */
    default boolean ownerDiedWhenDeclaredDead(boolean ownerDied) {
        return ownerDied;
    }

    /**
     * Whether a reclaim in grace may replace the broken session of an earlier reclaim of its name
     * ({@code retried}). Planted: never - the kernel that lost its welcome is refused (EEXIST).
     */
    default boolean reclaimRetried(boolean retried) {
        return retried;
    }

    /**
     * Whether a reclaim again's attempt is above the one the pager took ({@code newer}). Planted:
     * always - a late earlier attempt replaces the newer session (review of reclaim-retry, F1).
     */
    default boolean reclaimAttemptNewer(boolean newer) {
        return newer;
    }
}
