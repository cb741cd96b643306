package io.machxp.kernel.core;

import io.machxp.kernel.policy.FutexPolicies;
import io.machxp.kernel.policy.FutexPolicy;

/**
 * How a kernel core behaves.
 *
 * @param futexPolicy the kernel's side of the protocol variant: whether it caches futexes (Part
 *     III/IV) or gives every one back (Part II), what a release carries, how long it holds a
 *     granted futex (see {@link FutexPolicy})
 * @param maxResidentPages evict pages beyond this many; 0 = no limit
 * @param cpus simulated CPUs for thread_compute
 * @param priorityInheritance PI-futexes (true), or plain FIFO without boosting (--no-pi)
 * @param plants bugs planted in the core's logic, for tests of the chaos checker only; {@link KernelPlants#NONE}
 *     everywhere else
 * @param pagers the pagers the kernel uses and which serves each object ({@link PagerDirectory#SINGLE}: one)
 */
public record CoreOptions(FutexPolicy futexPolicy, int maxResidentPages, int cpus, boolean priorityInheritance,
        KernelPlants plants, PagerDirectory pagers) {
    public static final CoreOptions DEFAULT = new CoreOptions(true, false, 0, 1, true);

    /**
     * @param cacheFutexes Part III/IV (true): keep futexes after unlock until the pager asks;
     *     Part II only (false): every lock and unlock goes to the pager
     * @param piggyback entry consistency: a futex release carries the pages dirtied under the futex
     */
    public CoreOptions(boolean cacheFutexes, boolean piggyback, int maxResidentPages, int cpus,
            boolean priorityInheritance) {
        this(FutexPolicies.of(cacheFutexes, piggyback), maxResidentPages, cpus, priorityInheritance, KernelPlants.NONE,
                PagerDirectory.SINGLE);
    }

    public CoreOptions {
        if (futexPolicy == null) {
            throw new IllegalArgumentException("a kernel needs a futex policy (FutexPolicies.CACHE by default)");
        }
        if (plants == null) {
            throw new IllegalArgumentException("plants must be KernelPlants.NONE, not null");
        }
        if (pagers == null) {
            throw new IllegalArgumentException("pagers must be PagerDirectory.SINGLE for one pager, not null");
        }
        if (cpus < 1) {
            throw new IllegalArgumentException("a kernel needs at least 1 CPU, not " + cpus);
        }
        if (maxResidentPages < 0) {
            throw new IllegalArgumentException("maxResidentPages must be 0 (no limit) or more, not " + maxResidentPages);
        }
    }

    /** Part III/IV (true) or Part II only (false): the policy's. */
    public boolean cacheFutexes() {
        return futexPolicy.cacheFutexes();
    }

    /** Whether a release carries the pages dirtied under the futex: the policy's. */
    public boolean piggyback() {
        return futexPolicy.piggyback();
    }

    /** The old switch: Part II only (false) or the cache (true), keeping piggyback. */
    public CoreOptions withCacheFutexes(boolean value) {
        return withFutexPolicy(FutexPolicies.of(value, piggyback()));
    }

    /** The old switch: with the cache, releases carry dirtied pages (true) or not. */
    public CoreOptions withPiggyback(boolean value) {
        return withFutexPolicy(FutexPolicies.of(cacheFutexes(), value));
    }

    public CoreOptions withFutexPolicy(FutexPolicy value) {
        return new CoreOptions(value, maxResidentPages, cpus, priorityInheritance, plants, pagers);
    }

    public CoreOptions withMaxResidentPages(int value) {
        return new CoreOptions(futexPolicy, value, cpus, priorityInheritance, plants, pagers);
    }

    public CoreOptions withCpus(int value) {
        return new CoreOptions(futexPolicy, maxResidentPages, value, priorityInheritance, plants, pagers);
    }

    public CoreOptions withPriorityInheritance(boolean value) {
        return new CoreOptions(futexPolicy, maxResidentPages, cpus, value, plants, pagers);
    }

    /** The same with bugs planted in the core's logic: for tests of the chaos checker only. */
    public CoreOptions withPlants(KernelPlants value) {
        return new CoreOptions(futexPolicy, maxResidentPages, cpus, priorityInheritance, value, pagers);
    }

    /** The same with several pagers (see {@link PagerDirectory}). */
    public CoreOptions withPagers(PagerDirectory value) {
        return new CoreOptions(futexPolicy, maxResidentPages, cpus, priorityInheritance, plants, value);
    }
}
