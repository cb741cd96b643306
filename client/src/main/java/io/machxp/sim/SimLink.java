package io.machxp.sim;

/**
 * One direction of one kernel's XP stream with one pager in the simulator: FIFO, delayed as the cluster's
 * {@link SimNetwork} says (latency, jitter, bandwidth), held while the kernel is partitioned;
 * nothing reaches a crashed kernel. The receiving node spends the network's CPU cost on each
 * message, one message at a time, before the message is handled.
 */
final class SimLink {
    private final SimCluster cluster;
    private final SimKernel kernel;
    /** Which pager is at the other end, and whether this link goes towards it. */
    private final int pager;
    private final boolean toPager;
    private long lastArrival;
    /** When this link finishes putting the previous message on the wire (bandwidth). */
    private long wireFree;

    SimLink(SimCluster cluster, SimKernel kernel, int pager, boolean toPager) {
        this.cluster = cluster;
        this.kernel = kernel;
        this.pager = pager;
        this.toPager = toPager;
    }

    /** Sends a message of {@code bytes}; {@code receive} runs when it arrives. Returns that time. */
    long deliver(int bytes, Runnable receive) {
        return deliver(bytes, receive, 0);
    }

    /**
     * The same on a stream held until {@code heldUntil} (a stalled connection: its messages arrive
     * late, in order, and do not hold back those of the kernel's other streams).
     */
    long deliver(int bytes, Runnable receive, long heldUntil) {
        SimNetwork network = cluster.network();
        long sent = Math.max(cluster.now(), kernel.cutFrom(pager));
        long departs = Math.max(sent, wireFree);
        wireFree = departs + network.transmitNanos(bytes);
        long arrival = Math.max(wireFree + network.latencyNanos(kernel.name, toPager, cluster.random()), lastArrival);
        if (heldUntil > arrival) {
            arrival = heldUntil;
        } else {
            lastArrival = arrival;
        }
        long handled = cpu(arrival, network.cpuNanos(toPager));
        cluster.schedule(handled, () -> {
            if (toPager) {
                receive.run();
            } else {
                kernel.run(receive);
            }
        });
        return handled;
    }

    /** The receiving node (the pager or the kernel) spends {@code cost} on a message arriving at {@code arrival}. */
    private long cpu(long arrival, long cost) {
        if (cost == 0) {
            return arrival;
        }
        SimPager p = toPager ? cluster.pagerNode(pager) : null;
        long start = Math.max(arrival, p != null ? p.busy : kernel.cpuBusy);
        if (p != null) {
            p.busy = start + cost;
            p.cpuSpent += cost;
        } else {
            kernel.cpuBusy = start + cost;
        }
        return start + cost;
    }
}
