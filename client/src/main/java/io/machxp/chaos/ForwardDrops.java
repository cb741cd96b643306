package io.machxp.chaos;

import io.machxp.proto.xp.FutexForward;
import io.machxp.sim.SimCluster;
import java.util.SplittableRandom;

/**
 * A fault of the kernel links (direct handoff): one futex forward in {@link #ONE_IN} is lost on
 * its way, drawn from a random source of its own (so that the run's other faults stay those of
 * the seed); XP streams are left alone. The waiting kernel then gets the futex from the pager's
 * grant, which follows the release anyway (xp-spec 14): the checker sees no waiter stuck.
 */
final class ForwardDrops implements SimCluster.MessageFilter {
    static final int ONE_IN = 20;

    private final ChaosRun run;
    private final SplittableRandom random;

    ForwardDrops(ChaosRun run, long seed) {
        this.run = run;
        this.random = new SplittableRandom(seed ^ 0xF0A3D);
    }

    @Override
    public FutexForward forward(String from, String to, FutexForward m) {
        run.count("futex forwards");
        if (random.nextInt(ONE_IN) == 0) {
            run.count("futex forwards lost on the link");
            return null;
        }
        return m;
    }
}
