package io.machxp.bench.workload;

/**
 * The label of a row's data step: what the critical section's read and write of the lock's counter
 * did and what that guarantees, so that a reader sees whether two rows did the same work under the
 * lock ({@code --data}).
 */
public final class DataStep {
    /** {@code --data shared}, for every system. */
    public static final String SHARED = "shared: a load and a store in the bench's memory, every system the same"
            + " (no call, no guarantee beyond the host's memory)";

    private DataStep() {}

    /** The label of {@code system}'s row under {@code o}. */
    public static String of(LockService system, BenchOptions o) {
        if (o.data() == BenchOptions.Data.SHARED) {
            return SHARED;
        }
        String own = system.data(o.api());
        return "system: " + (own == null ? "not stated" : own);
    }
}
