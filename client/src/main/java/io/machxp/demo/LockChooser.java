package io.machxp.demo;

import java.util.SplittableRandom;

/**
 * Which lock a worker takes next, with locality: lock i is homed on node i mod {@code nodes}; a
 * worker on node k picks a lock homed on k with probability {@code locality}, else one homed on
 * another node, uniformly within each group. The demo and machxp bench both draw from it.
 */
public final class LockChooser {
    private final int[] home;
    private final int[] away;
    private final double locality;

    public LockChooser(int node, int nodes, int locks, double locality) {
        this.locality = locality;
        this.home = java.util.stream.IntStream.range(0, locks).filter(f -> f % nodes == node).toArray();
        this.away = java.util.stream.IntStream.range(0, locks).filter(f -> f % nodes != node).toArray();
    }

    /** The next lock, drawn from {@code random}; when one group is empty, any lock. */
    public int next(SplittableRandom random) {
        int[] group = random.nextDouble() < locality ? home : away;
        if (group.length == 0) {
            return random.nextInt(home.length + away.length);
        }
        return group[random.nextInt(group.length)];
    }
}
