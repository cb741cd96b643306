package io.machxp.bench.workload;

import io.machxp.workbench.Fairness;

/**
 * What one system did on the workload, measured after its warm-up.
 *
 * @param system the service's name
 * @param guarantees what the service promises (replicas, consensus, fsync)
 * @param ops lock-critical section-unlock operations completed while measuring
 * @param seconds how long the measurement ran
 * @param opsPerSecond throughput
 * @param latencyMicros one operation, lock to unlock returned, in microseconds
 * @param messagesPerOp XP messages at the pager per operation (null when the system does not count them)
 * @param violations critical sections found occupied by another worker (must be 0)
 * @param lostUpdates counter increments missing at the end, over warm-up and measurement (must be 0)
 * @param fairness the waits per node (a lock called to its return) and Jain's index over the nodes'
 *     operations, measured ({@link Fairness}: one definition for every report)
 * @param warmupSeconds this system's own warm-up before its measurement (the same for every row of a run)
 * @param handoffShare with strict alternation, the share of measured operations whose lock was last
 *     acquired by another node (1.0: every one a handoff); null with locality
 * @param data what the critical section's read and write did and guarantee ({@link DataStep})
 */
public record SystemResult(String system, Guarantees guarantees, long ops, double seconds, double opsPerSecond, Latency latencyMicros,
        Double messagesPerOp, long violations, long lostUpdates, Fairness fairness, double warmupSeconds,
        Double handoffShare, String data) {

    /** Percentiles of one operation's latency, in microseconds. */
    public record Latency(double p50, double p99, double p999, double max) {}

    public boolean correct() {
        return violations == 0 && lostUpdates == 0;
    }
}
