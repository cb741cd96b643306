package io.machxp.bench.cli;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The Mach IPC lines of `machxp jmh`: each IpcBenchmarks result against its baseline of the same run. */
final class IpcRatios {
    private IpcRatios() {}

    static List<JmhCommand.Ratio> of(Map<String, Double> score, Map<String, String> unit) {
        return List.of(
                JmhCommand.ratio(score, unit, "IPC one-way send+receive, one kernel, vs SynchronousQueue hand-off",
                        "ipc.InProcess.oneWay", "ipc.InProcess.syncQueueOneWay", 1, "at most 2x"),
                JmhCommand.ratio(score, unit, "IPC rpc round trip, one kernel, vs 2 SynchronousQueue hand-offs",
                        "ipc.InProcessRpc.rpc", "ipc.SyncQueueRpc.rpc", 1, "at most 2x"),
                JmhCommand.ratio(score, unit, "IPC rpc round trip between 2 kernels (Netty links) vs Netty echo",
                        "ipc.AcrossKernels.rpc", "ipc.AcrossKernels.nettyEcho", 1, "at most 1.3x"));
    }

    /** Messages per second, and the target. */
    static String throughput(Map<String, Double> score) {
        return String.format(Locale.ROOT, "%,.0f msgs/s (target >= 500,000)", score.get("ipc.Throughput.oneWay"));
    }
}
