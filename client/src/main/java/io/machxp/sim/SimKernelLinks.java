package io.machxp.sim;

import io.machxp.proto.xp.FutexForward;
import java.util.HashMap;
import java.util.Map;

/**
 * The kernel-to-kernel links of a {@link SimCluster} that futexes travel on (direct handoff,
 * xp-spec 14): one FIFO link per ordered pair of kernels, delayed as the cluster's network says
 * (one hop), held while either end is partitioned, run in the receiving kernel's process (held
 * while it is paused), lost if it crashed. A kernel is addressed by its TID prefix (the id its
 * primary pager gave it, the cluster-wide name, xp-spec 2.9): a message for an id no live kernel
 * has goes nowhere. The cluster's filter may drop a forward and
 * its observer sees each one.
 */
final class SimKernelLinks {
    private record Pair(String from, String to) {}

    private final SimCluster cluster;
    /** The cluster's kernels (a live view). */
    private final java.util.Collection<SimKernel> kernels;
    private final Map<Pair, Long> lastArrival = new HashMap<>();

    SimKernelLinks(SimCluster cluster, java.util.Collection<SimKernel> kernels) {
        this.cluster = cluster;
        this.kernels = kernels;
    }

    void send(SimKernel from, int toKernel, FutexForward message) {
        SimKernel to = null;
        for (SimKernel k : kernels) {
            if (!k.crashed && k != from && k.core.kernelId() == toKernel) {
                to = k;
            }
        }
        FutexForward m = cluster.filterForward(from.name, to == null ? "kernel " + toKernel : to.name, message);
        if (from.crashed || to == null || m == null) {
            return;
        }
        SimNetwork network = cluster.network();
        long sent = Math.max(cluster.now(), from.partitionedUntil);
        Pair link = new Pair(from.name, to.name);
        long arrival = Math.max(sent + network.transmitNanos(m.getSerializedSize())
                + network.latencyNanos(to.name, false, cluster.random()), lastArrival.getOrDefault(link, 0L));
        arrival = Math.max(arrival, to.partitionedUntil);
        lastArrival.put(link, arrival);
        long handled = cpu(to, arrival, network.cpuNanos(false));
        SimKernel target = to;
        cluster.schedule(handled, () -> target.run(() -> target.core.xp().onFutexForward(m)));
        cluster.observed(handled, from.name, to.name, m);
    }

    /** The receiving kernel spends {@code cost} on a forward arriving at {@code arrival}. */
    private static long cpu(SimKernel kernel, long arrival, long cost) {
        if (cost == 0) {
            return arrival;
        }
        kernel.cpuBusy = Math.max(arrival, kernel.cpuBusy) + cost;
        return kernel.cpuBusy;
    }
}
