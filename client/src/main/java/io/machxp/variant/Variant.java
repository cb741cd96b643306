package io.machxp.variant;

import io.machxp.kernel.core.CoreOptions;
import io.machxp.kernel.policy.FutexPolicy;
import io.machxp.pager.policy.GrantPolicy;
import io.machxp.sim.SimCluster;

/**
 * A protocol variant: the kernel's policy (when to give up a cached futex, what a release
 * carries) and the pager's (when to ask for a futex back, what a grant carries), chosen together
 * by name with --variant (see {@link Variants}).
 *
 * @param name as --variant takes it, with its parameter if it has one ("min-hold:1ms")
 * @param summary one line for a person
 */
public record Variant(String name, String summary, FutexPolicy kernel, GrantPolicy pager) {
    /** {@code options} with this variant's kernel policy. */
    public CoreOptions apply(CoreOptions options) {
        return options.withFutexPolicy(kernel);
    }

    /** Gives {@code cluster}'s pager this variant's grant policy (before any kernel is added). */
    public void apply(SimCluster cluster) {
        cluster.grantPolicy(pager);
    }
}
