package io.machxp.sim;

import io.machxp.kernel.core.CoreOptions;
import io.machxp.kernel.core.KernelCore;
import io.machxp.kernel.core.KernelEnv;
import io.machxp.kernel.core.KernelStats;
import io.machxp.kernel.core.Timer;
import io.machxp.proto.xp.KernelToPager;

/** A kernel in the simulation and its XP session with each pager (one link each way per pager). */
public final class SimKernel {
    public final String name;
    public final KernelCore core;
    public final KernelStats stats = new KernelStats();
    /** Its session id with each pager, by pager. */
    final long[] session;
    private final SimCluster cluster;
    final SimLink[] toPager;
    final SimLink[] fromPager;
    boolean crashed;
    long partitionedUntil;
    /** By pager: until when every stream with that pager is held, new ones too ({@link SimCluster#partition(String, int, long)}). */
    final long[] partitionedFrom;
    /** By pager: the stream that stalled ({@link SimCluster#stall}) and until when; 0: none. */
    final long[] stalledSession;
    final long[] stalledUntil;
    final SimClock clock = new SimClock();
    /** When its CPU is free of the messages it received (the network's CPU cost). */
    long cpuBusy;
    /** Paused (SIGSTOP): what it would run waits here, in order, until it resumes. */
    boolean paused;
    long pausedUntil;
    final java.util.ArrayDeque<Runnable> deferred = new java.util.ArrayDeque<>();

    /** Until when every message to and from pager {@code pager} is held: the kernel's partition, or one from that pager. */
    long cutFrom(int pager) {
        return Math.max(partitionedUntil, partitionedFrom[pager]);
    }

    /** When what is sent on stream {@code session} with pager {@code pager} may arrive: held while it stalls; 0: at once. */
    long heldUntil(int pager, long session) {
        return stalledSession[pager] == session ? stalledUntil[pager] : 0;
    }

    /** See {@link SimCluster#pause}. */
    void pause(long nanos) {
        pausedUntil = Math.max(pausedUntil, cluster.now() + nanos);
        if (!paused) {
            paused = true;
            cluster.schedule(pausedUntil, this::resume);
        }
    }

    private void resume() {
        if (cluster.now() < pausedUntil) {
            cluster.schedule(pausedUntil, this::resume);
            return;
        }
        paused = false;
        while (!deferred.isEmpty() && !paused) {
            run(deferred.poll());
        }
    }

    /** Runs {@code action} in the kernel's process now, or when it resumes if it is paused. */
    void run(Runnable action) {
        if (crashed) {
            return;
        }
        if (paused) {
            deferred.add(action);
        } else {
            action.run();
        }
    }

    SimKernel(SimCluster cluster, String name, CoreOptions options, int pagers) {
        this.cluster = cluster;
        this.name = name;
        this.toPager = new SimLink[pagers];
        this.fromPager = new SimLink[pagers];
        this.session = new long[pagers];
        this.stalledSession = new long[pagers];
        this.stalledUntil = new long[pagers];
        this.partitionedFrom = new long[pagers];
        for (int p = 0; p < pagers; p++) {
            toPager[p] = new SimLink(cluster, this, p, true);
            fromPager[p] = new SimLink(cluster, this, p, false);
            session[p] = cluster.newSession();
        }
        this.core = new KernelCore(name, new KernelEnv() {
            @Override
            public void send(KernelToPager message) {
                send(0, message);
            }

            @Override
            public void send(int pager, KernelToPager message) {
                cluster.sendToPager(SimKernel.this, pager, message);
            }

            @Override
            public boolean reconnect() {
                return reconnect(0);
            }

            @Override
            public boolean reconnect(int pager) {
                return cluster.reconnectKernel(SimKernel.this, pager);
            }

            @Override
            public boolean resume(int pager) {
                return cluster.resumeKernel(SimKernel.this, pager);
            }

            @Override
            public boolean replicated(int pager) {
                return cluster.replicated(pager);
            }

            @Override
            public boolean nextReplica(int pager) {
                return cluster.replicas() != null && cluster.replicas().nextReplica(SimKernel.this);
            }

            @Override
            public boolean resumeAwaited(int pager) {
                return cluster.resumeAwaited(SimKernel.this, pager);
            }

            @Override
            public Timer schedule(long delayNanos, Runnable action) {
                SimEvent e = cluster.schedule(cluster.now() + clock.trueDelay(delayNanos), () -> run(action));
                return () -> e.cancelled = true;
            }

            @Override
            public void scheduleAtEndOfInstant(Runnable action) {
                cluster.scheduleLast(() -> run(action));
            }

            @Override
            public long nanoTime() {
                return clock.local(cluster.now());
            }

            @Override
            public long wallMicros() {
                return clock.local(cluster.now()) / 1_000; // the simulation's epoch is its start
            }

            @Override
            public void sendToKernel(int kernel, io.machxp.proto.xp.FutexForward forward) {
                cluster.kernelLinks.send(SimKernel.this, kernel, forward);
            }

            @Override
            public void trace(String event, int tid, String detail) {
                cluster.trace(SimKernel.this.name, event, tid, detail);
            }
        }, stats, options);
    }
}

