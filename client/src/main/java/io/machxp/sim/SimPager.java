package io.machxp.sim;

import io.machxp.pager.core.PagerCore;
import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.core.PagerEnv;
import io.machxp.pager.core.PagerPlants;
import io.machxp.pager.core.PagerStats;
import io.machxp.pager.futex.FutexKey;
import io.machxp.pager.object.ObjectCatalog;
import io.machxp.pager.policy.GrantPolicy;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.PagerToKernel;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One pager of a {@link SimCluster} in virtual time: its {@link PagerCore}, its disk (which
 * outlives a crash), its machine clock, its sessions with the kernels, and its crashes and
 * restarts. Pagers of one cluster crash independently.
 *
 * <p>A crash: what was on its way to or from it is lost, every kernel's stream to it breaks, and
 * after a while a new pager starts on the same store with the next token epoch and a grace
 * period of one lease; the kernels reconnect to it to reclaim what they hold.
 */
final class SimPager {
    /** Which of the cluster's pagers (0: every kernel's primary). */
    final int index;
    /** Its lifeline in the cluster's observer: "pager" for the first, "pager1", "pager2"... */
    final String name;
    private final SimCluster cluster;
    private final Map<String, Long> objects;
    private final MemoryPageStore store = new MemoryPageStore();
    final PagerStats stats = new PagerStats();
    /** The pager's machine clock: it outlives a crash. */
    final SimClock clock = new SimClock();
    /** Its kernels, by the session id they have with it now. */
    final Map<Long, SimKernel> bySession = new LinkedHashMap<>();
    PagerCore core;
    /** Which instance runs: 1 for the first, one more for each restart (also its token epoch). */
    int instance = 1;
    boolean up = true;
    /** When its CPU is free of the messages it received (the network's CPU cost). */
    long busy;
    /** The CPU it has spent on messages so far (the network's CPU cost, summed). */
    long cpuSpent;
    PagerPlants plants = PagerPlants.NONE;
    GrantPolicy grantPolicy = GrantPolicy.IMMEDIATE;

    SimPager(SimCluster cluster, int index, Map<String, Long> objects) {
        this.cluster = cluster;
        this.index = index;
        this.name = index == 0 ? SimCluster.PAGER : SimCluster.PAGER + index;
        this.objects = Collections.unmodifiableMap(new LinkedHashMap<>(objects)); // in the order given: Map.copyOf's varies by JVM
        store.nextEpoch();
        this.core = newCore(0);
    }

    /** A new instance of the pager (the first, or after a crash), with a grace period of {@code graceNanos}. */
    PagerCore newCore(long graceNanos) {
        int size = cluster.options().pageSize();
        return new PagerCore(name.equals(SimCluster.PAGER) ? "sim" : "sim-" + index, size,
                new ObjectCatalog(objects, size, store), env(instance), stats,
                new PagerOptions(cluster.options().leaseNanos(), instance).withGrace(graceNanos)
                        .withPlants(plants).withGrantPolicy(grantPolicy)
                        .withAnswerDeadline(cluster.options().answerDeadlineNanos())
                        .withFutexRecords(cluster.options().futexRecords()));
    }

    /**
     * The pager stops dead; {@code downNanos} later a new one starts on the same store with a
     * grace period of one lease.
     */
    void crash(long downNanos) {
        if (!up) {
            return;
        }
        up = false;
        for (SimKernel k : bySession.values()) {
            k.fromPager[index].deliver(0, () -> k.core.xp().onStreamBroken(index, "the pager's connection was reset"));
        }
        bySession.clear();
        cluster.schedule(cluster.now() + downNanos, () -> {
            instance++;
            store.nextEpoch();
            core = newCore(cluster.options().leaseNanos());
            up = true;
        });
    }

    /** A kernel is added: its session opens at once if this pager runs. */
    void kernelAdded(SimKernel k) {
        if (up) {
            bySession.put(k.session[index], k);
            core.sessionOpened(k.session[index]);
        }
    }

    /** The kernel sent its hello: if this pager is down, the connection is refused. */
    void kernelStarted(SimKernel k) {
        if (!up) {
            k.fromPager[index].deliver(0, () -> k.core.xp().onStreamBroken(index, "connection refused: no pager is listening"));
        }
    }

    /** A kernel sends {@code m} on its current session. */
    void send(SimKernel k, io.machxp.proto.xp.KernelToPager m) {
        long on = k.session[index];
        long arrival = k.toPager[index].deliver(m.getSerializedSize(), toPager(c -> c.onXp(on, m)),
                k.heldUntil(index, on));
        cluster.observed(arrival, k.name, name, m);
    }

    /** A kernel opens a new stream to this pager if it runs, else it is refused a round trip later. */
    boolean reconnect(SimKernel k) {
        if (!up) {
            k.fromPager[index].deliver(0, () -> k.core.xp().onStreamBroken(index, "connection refused: no pager is listening"));
            return true;
        }
        bySession.remove(k.session[index]); // its old stream is gone: nothing more arrives on it
        long on = cluster.newSession();
        k.session[index] = on;
        bySession.put(on, k);
        k.toPager[index].deliver(0, toPager(c -> c.sessionOpened(on)));
        return true;
    }

    /** What the pager sends arrives only if that instance still runs (its crash loses what was on the way). */
    Runnable fromPager(Runnable receive) {
        int sentBy = instance;
        return () -> {
            if (sentBy == instance && up) {
                receive.run();
            }
        };
    }

    /** What a kernel sends on a session reaches the instance that session was opened with, if it still runs. */
    Runnable toPager(java.util.function.Consumer<PagerCore> receive) {
        int sentTo = instance;
        boolean wasUp = up;
        return () -> {
            if (wasUp && sentTo == instance && up) {
                receive.accept(core);
            }
        };
    }

    /** A pager's env; once that instance crashed, it does nothing any more (its timers are dead). */
    private PagerEnv env(int mine) {
        return new PagerEnv() {
            private boolean running() {
                return mine == instance && up;
            }

            @Override
            public void send(long sessionId, PagerToKernel message) {
                SimKernel k = running() ? bySession.get(sessionId) : null;
                PagerToKernel m = k == null ? null : cluster.filterToKernel(k.name, message);
                if (m != null) {
                    long arrival = k.fromPager[index].deliver(m.getSerializedSize(), fromPager(() -> {
                        if (k.session[index] == sessionId) { // a stream the kernel replaced is not read
                            k.core.xp().onXp(index, m);
                        }
                    }), k.heldUntil(index, sessionId));
                    cluster.observed(arrival, name, k.name, m);
                }
            }

            @Override
            public void endSession(long sessionId, Errno errno, String message) {
                SimKernel k = running() ? bySession.remove(sessionId) : null;
                if (k != null) {
                    k.fromPager[index].deliver(0, fromPager(() -> k.core.xp().onPagerLost(index, errno + ": " + message)));
                }
            }

            @Override
            public long nanoTime() {
                return clock.local(cluster.now());
            }

            @Override
            public void schedule(long delayNanos, Runnable action) {
                cluster.schedule(cluster.now() + clock.trueDelay(delayNanos), () -> {
                    if (running()) {
                        action.run();
                    }
                });
            }

            @Override
            public void declaredDead(String kernelName, List<FutexKey> heldFutexes) {
                if (running()) {
                    cluster.declaredDead(kernelName, heldFutexes);
                }
            }
        };
    }
}
