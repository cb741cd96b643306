package io.machxp.kernel.core;

/**
 * How a kernel core behaves.
 *
 * @param cacheFutexes Part III/IV (true): keep futexes after unlock until the pager asks;
 *     Part II only (false): every lock and unlock goes to the pager
 * @param piggyback entry consistency: a futex release carries the pages dirtied under the futex
 * @param maxResidentPages evict pages beyond this many; 0 = no limit
 * @param cpus simulated CPUs for thread_compute
 * @param priorityInheritance PI-futexes (true), or plain FIFO without boosting (--no-pi)
 * @param plants bugs planted in the core's logic, for tests of the chaos checker only; {@link KernelPlants#NONE}
 *     everywhere else
 */
public record CoreOptions(boolean cacheFutexes, boolean piggyback, int maxResidentPages, int cpus,
        boolean priorityInheritance, KernelPlants plants) {
    public static final CoreOptions DEFAULT = new CoreOptions(true, false, 0, 1, true);

    public CoreOptions(boolean cacheFutexes, boolean piggyback, int maxResidentPages, int cpus,
            boolean priorityInheritance) {
        this(cacheFutexes, piggyback, maxResidentPages, cpus, priorityInheritance, KernelPlants.NONE);
    }

    public CoreOptions {
        if (plants == null) {
            throw new IllegalArgumentException("plants must be KernelPlants.NONE, not null");
        }
        if (cpus < 1) {
            throw new IllegalArgumentException("a kernel needs at least 1 CPU, not " + cpus);
        }
        if (maxResidentPages < 0) {
            throw new IllegalArgumentException("maxResidentPages must be 0 (no limit) or more, not " + maxResidentPages);
        }
    }

    public CoreOptions withCacheFutexes(boolean value) {
        return new CoreOptions(value, piggyback, maxResidentPages, cpus, priorityInheritance, plants);
    }

    public CoreOptions withPiggyback(boolean value) {
        return new CoreOptions(cacheFutexes, value, maxResidentPages, cpus, priorityInheritance, plants);
    }

    public CoreOptions withMaxResidentPages(int value) {
        return new CoreOptions(cacheFutexes, piggyback, value, cpus, priorityInheritance, plants);
    }

    public CoreOptions withCpus(int value) {
        return new CoreOptions(cacheFutexes, piggyback, maxResidentPages, value, priorityInheritance, plants);
    }

    public CoreOptions withPriorityInheritance(boolean value) {
        return new CoreOptions(cacheFutexes, piggyback, maxResidentPages, cpus, value, plants);
    }

    /** The same with bugs planted in the core's logic: for tests of the chaos checker only. */
    public CoreOptions withPlants(KernelPlants value) {
        return new CoreOptions(cacheFutexes, piggyback, maxResidentPages, cpus, priorityInheritance, value);
    }
}
