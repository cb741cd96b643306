package io.machxp.pager.policy;

/**
 * A pluggable grant policy with a planted bug, for the tests of what a pager does when its core
 * throws: it throws when asked about a waiter of priority {@code poison}, and otherwise asks the
 * holder to give a futex back at once.
 */
public final class PoisonedGrantPolicy implements GrantPolicy {
    private final int poison;

    public PoisonedGrantPolicy(int poison) {
        this.poison = poison;
    }

    @Override
    public String name() {
        return "failing";
    }

    @Override
    public long relinquishAfterNanos(int topWaitingPriority) {
        if (topWaitingPriority == poison) {
            throw new IllegalStateException("a grant policy's bug: priority " + topWaitingPriority);
        }
        return 0;
    }
}
