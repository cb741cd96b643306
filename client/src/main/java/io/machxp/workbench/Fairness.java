package io.machxp.workbench;

import java.util.List;
import org.HdrHistogram.Histogram;

/**
 * How fairly a lock workload served its nodes (kernels), defined once for every report that
 * states it (the workbench, machxp compare, machxp bench): the longest wait for a lock of any
 * node, the worst of the nodes' p99 waits, and Jain's index over the nodes' acquisition counts,
 * (sum x)^2 / (n * sum x^2): 1 when every node acquired as often, 1/n when one node did all.
 *
 * @param maxWaitMicros the longest wait of any node, in microseconds
 * @param worstP99WaitMicros the highest of the nodes' p99 waits, in microseconds
 * @param jain Jain's index over the acquisition counts (0 when nothing was acquired)
 */
public record Fairness(double maxWaitMicros, double worstP99WaitMicros, double jain) {

    /**
     * @param acquisitions per node, the locks it acquired
     * @param waitNanos per node, its waits for a lock in nanoseconds (lock called to lock returned)
     */
    public static Fairness of(long[] acquisitions, List<Histogram> waitNanos) {
        double sum = 0;
        double squares = 0;
        double maxWait = 0;
        double worstP99 = 0;
        for (int k = 0; k < acquisitions.length; k++) {
            sum += acquisitions[k];
            squares += (double) acquisitions[k] * acquisitions[k];
            maxWait = Math.max(maxWait, waitNanos.get(k).getMaxValue() / 1e3);
            worstP99 = Math.max(worstP99, waitNanos.get(k).getValueAtPercentile(99) / 1e3);
        }
        return new Fairness(maxWait, worstP99, squares == 0 ? 0 : sum * sum / (acquisitions.length * squares));
    }
}
