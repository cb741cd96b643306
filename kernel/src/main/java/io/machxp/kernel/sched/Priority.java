package io.machxp.kernel.sched;

/** Thread priorities, as Linux SCHED_FIFO: 1 (lowest) to 99 (highest). */
public final class Priority {
    public static final int MIN = 1;
    public static final int MAX = 99;
    /** The priority of a thread created without one. */
    public static final int DEFAULT = MIN;

    private Priority() {}

    public static boolean valid(int priority) {
        return priority >= MIN && priority <= MAX;
    }
}
