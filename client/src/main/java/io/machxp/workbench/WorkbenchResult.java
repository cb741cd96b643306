package io.machxp.workbench;

/**
 * What one run of a workload measured, in virtual time.
 *
 * @param opsPerSecond lock-to-unlock operations per virtual second
 * @param p50Micros latency of an operation (lock call to unlock answer), and its p99 and p99.9
 * @param msgsPerOp XP messages (both directions, keepalives not counted) per operation
 * @param bytesPerOp XP bytes per operation
 * @param handoffs acquisitions on another kernel than the futex's last
 * @param handoffMicros mean wait of a handoff (lock call to acquisition)
 * @param maxWaitMicros the longest wait of any kernel's thread, and the highest per-kernel p99
 * @param jain Jain's fairness index over the kernels' acquisition counts (1: equal)
 */
public record WorkbenchResult(String variant, String workload, double param, String network, long seed, long ops,
        double opsPerSecond, double p50Micros, double p99Micros, double p999Micros, double msgsPerOp,
        double bytesPerOp, long handoffs, double handoffMicros, double maxWaitMicros, double worstP99WaitMicros,
        double jain) {
    public static final String CSV_HEADER = "variant,workload,param,network,seed,ops,ops_per_s,p50_us,p99_us,"
            + "p999_us,msgs_per_op,bytes_per_op,handoffs,handoff_us,max_wait_us,worst_p99_wait_us,jain";

    public String csv() {
        return String.join(",", variant, workload, fmt(param), network, Long.toString(seed), Long.toString(ops),
                fmt(opsPerSecond), fmt(p50Micros), fmt(p99Micros), fmt(p999Micros), fmt(msgsPerOp), fmt(bytesPerOp),
                Long.toString(handoffs), fmt(handoffMicros), fmt(maxWaitMicros), fmt(worstP99WaitMicros), fmt(jain));
    }

    static String fmt(double v) {
        return String.format(java.util.Locale.ROOT, "%.3f", v);
    }
}
