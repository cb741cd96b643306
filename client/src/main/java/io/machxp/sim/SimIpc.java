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
 * death as the links see it: a lease later every other kernel declares it dead. {@link #renew} is
 * a live kernel cut off from IPC that renews its IPC session (IpcLinks, "renew"): what is on its
 * links is lost, a lease later the others declare its session dead and it declares them all
 * dead, goes to its next session and forgets its uids of the earlier one.
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
    /** Kernels cut off from IPC until their renewal: nothing more in or out. */
    private final Set<Integer> cutOff = new HashSet<>();
    /** Each kernel's links' generation: one more at each cut; a frame sent in an earlier one is lost. */
    private final Map<Integer, Integer> generation = new HashMap<>();
    /** Each kernel's IPC session (IpcNet.session): one more at each renewal. */
    private final Map<Integer, Integer> sessions = new HashMap<>();
    /**
     * "observer/its session/kernel/session": a kernel's session declared dead to an observer's core
     * (in one session of the observer's: a renewed observer hears of a later crash again), once.
     */
    private final Set<String> declared = new HashSet<>();

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
            public int session() {
                return sessions.getOrDefault(self, 0);
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
        if (target == null || crashed.contains(to) || crashed.contains(from) || cutOff.contains(from)
                || cutOff.contains(to)) {
            return;
        }
        int fromGeneration = generation.getOrDefault(from, 0);
        int toGeneration = generation.getOrDefault(to, 0);
        long jitter = jitterNanos == 0 ? 0 : random.nextLong(jitterNanos + 1);
        Pair link = new Pair(from, to);
        long arrival = Math.max(cluster.now() + latencyNanos + jitter, lastArrival.getOrDefault(link, 0L));
        lastArrival.put(link, arrival);
        cluster.at(arrival, () -> {
            if (!crashed.contains(from) && generation.getOrDefault(from, 0) == fromGeneration
                    && generation.getOrDefault(to, 0) == toGeneration) {
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
                    declareDead(other, id);
                }
            }
        });
    }

    /** {@code observer}'s core hears of the death of kernel {@code id}'s current session, once. */
    private void declareDead(SimKernel observer, int id) {
        int self = observer.core.kernelId();
        if (declared.add(self + "/" + sessions.getOrDefault(self, 0) + "/" + id + "/" + sessions.getOrDefault(id, 0))) {
            observer.run(() -> observer.core.ipcCore().kernelDied(id));
        }
    }

    /**
     * The live kernel is cut off from IPC now (a pause longer than a lease, a broken link): what is
     * on its links is lost and nothing more goes in or out; {@code leaseNanos} later every other
     * kernel declares its session dead, and it (in its process, once it runs) declares every other
     * kernel dead, goes to its next IPC session, forgets its uids of the earlier one
     * ({@code IpcCore.renewSession}) and is linked again. A crash meanwhile ends it.
     */
    public void renew(String name, long leaseNanos) {
        SimKernel k = cluster.kernel(name);
        int id = k.core.kernelId();
        if (crashed.contains(id) || !cutOff.add(id)) {
            return;
        }
        generation.merge(id, 1, Integer::sum);
        cluster.at(cluster.now() + leaseNanos, () -> {
            if (crashed.contains(id)) {
                return;
            }
            for (SimKernel other : kernels.values()) {
                if (other != k) {
                    declareDead(other, id);
                }
            }
            k.run(() -> {
                if (crashed.contains(id)) {
                    return;
                }
                for (SimKernel other : kernels.values()) {
                    if (other != k) {
                        declareDead(k, other.core.kernelId());
                    }
                }
                k.run(() -> {
                    sessions.merge(id, 1, Integer::sum);
                    k.core.ipcCore().renewSession();
                    cutOff.remove(id);
                });
            });
        });
    }

    /** The IPC id of a kernel. */
    public int id(String name) {
        return cluster.kernel(name).core.kernelId();
    }
}
