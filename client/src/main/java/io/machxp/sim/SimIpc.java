package io.machxp.sim;

import io.machxp.kernel.ipc.IpcCore;
import io.machxp.kernel.ipc.IpcNet;
import io.machxp.proto.link.LinkFrame;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Mach IPC links between the kernels of a {@link SimCluster}, in virtual time: each kernel's IPC
 * core gets an {@link IpcNet} whose frames arrive after the link latency plus a seeded jitter,
 * FIFO per ordered pair of kernels (as a TCP link is), and run in the receiving kernel's process
 * (held while it is paused, lost if it crashed). IPC kernel ids are the kernels' own (given by
 * the pager at welcome): join kernels after their sessions opened. {@link #crash} is a kernel's
 * death as the links see it: a lease later every other kernel declares it dead.
 */
public final class SimIpc {
    private record Pair(int from, int to) {}

    private final SimCluster cluster;
    private final long latencyNanos;
    private final long jitterNanos;
    private final SplittableRandom random;
    private final Map<Integer, SimKernel> kernels = new LinkedHashMap<>();
    private final Map<Pair, Long> lastArrival = new HashMap<>();
    /** Crashed: nothing more in or out. */
    private final Set<Integer> crashed = new HashSet<>();
    /** Declared dead by the others, a lease after the crash. */
    private final Set<Integer> dead = new HashSet<>();

    public SimIpc(SimCluster cluster, long latencyNanos, long jitterNanos, long seed) {
        this.cluster = cluster;
        this.latencyNanos = latencyNanos;
        this.jitterNanos = jitterNanos;
        this.random = new SplittableRandom(seed);
    }

    /** Joins the kernel's IPC core to the others'. */
    public void join(String name) {
        SimKernel k = cluster.kernel(name);
        int self = k.core.kernelId();
        if (self == 0) {
            throw new IllegalStateException("kernel " + name + " has no id yet: join it after the pager's welcome");
        }
        kernels.put(self, k);
        IpcCore ipc = k.core.ipcCore();
        ipc.attachNet(new IpcNet() {
            @Override
            public int self() {
                return self;
            }

            @Override
            public void send(int kernel, LinkFrame frame) {
                carry(self, kernel, frame);
            }

            @Override
            public void broadcast(LinkFrame frame) {
                for (int other : kernels.keySet()) {
                    if (other != self) {
                        carry(self, other, frame);
                    }
                }
            }

            @Override
            public boolean dead(int kernel) {
                return dead.contains(kernel);
            }

            @Override
            public int kernels() {
                return kernels.size(); // the hop bound of frames passed along proxies is reckoned from it
            }
        });
    }

    private void carry(int from, int to, LinkFrame frame) {
        SimKernel target = kernels.get(to);
        if (target == null || crashed.contains(to) || crashed.contains(from)) {
            return;
        }
        long jitter = jitterNanos == 0 ? 0 : random.nextLong(jitterNanos + 1);
        Pair link = new Pair(from, to);
        long arrival = Math.max(cluster.now() + latencyNanos + jitter, lastArrival.getOrDefault(link, 0L));
        lastArrival.put(link, arrival);
        cluster.at(arrival, () -> {
            if (!crashed.contains(from)) {
                target.run(() -> target.core.ipcCore().linkReceive(from, frame));
            }
        });
    }

    /** The kernel crashes: what it had on its links is lost, and {@code leaseNanos} later every other kernel declares it dead. */
    public void crash(String name, long leaseNanos) {
        SimKernel k = cluster.kernel(name);
        int id = k.core.kernelId();
        cluster.crash(name);
        crashed.add(id);
        cluster.at(cluster.now() + leaseNanos, () -> {
            dead.add(id);
            for (SimKernel other : kernels.values()) {
                if (other != k) {
                    other.run(() -> other.core.ipcCore().kernelDied(id));
                }
            }
        });
    }

    /** The IPC id of a kernel. */
    public int id(String name) {
        return cluster.kernel(name).core.kernelId();
    }
}
