package io.machxp.chaos.real;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The faults of a real chaos run, one at a time, every kind once in each round of five in a
 * random order (so that a short run has each), each recorded ({@link Recorder#faultOn}) in the
 * same step that closes its kernels' gates, before it is injected:
 * <pre>
 *  BLIP       a kernel's XP link down for 0.3 lease (it must keep its lease: nothing recorded)
 *  PARTITION  a kernel's XP link down for 2.5 leases (it stops; the pager declares it dead)
 *  PAUSE      SIGSTOP of a kernel for 2.5 leases, then SIGCONT (as a partition; calls sent to it
 *             during the pause must be refused when it resumes)
 *  KILL       SIGKILL of a kernel, and a new process of the same name
 *  PAGER      SIGKILL of the pager and a new one on its store (kernels reclaim, or stop)
 * </pre>
 * With a replicated pager, PAGER gives way to the faults on replicas of {@link ReplicaFaults}
 * (leader and follower kills, a leader paused, a replica cut off from the others, the leader cut
 * off from the kernels): a round then has nine.
 * Calls to a stopping kernel begin again 1.5 leases after the fault began (it has stopped by then),
 * to a killed one once its successor runs, and after a pager restart once its grace period (a
 * lease) is over. After each fault the time until each kernel it touched grants a futex again is
 * its time back in service.
 */
final class Faults {
    enum Kind { BLIP, PARTITION, PAUSE, KILL, PAGER, LEADER_KILL, FOLLOWER_KILL, LEADER_PAUSE, REPLICA_CUT, LEADER_CUT }

    private static final List<Kind> ON_KERNELS = List.of(Kind.BLIP, Kind.PARTITION, Kind.PAUSE, Kind.KILL);
    private static final List<Kind> ON_REPLICAS = List.of(Kind.LEADER_KILL, Kind.FOLLOWER_KILL, Kind.LEADER_PAUSE,
            Kind.REPLICA_CUT, Kind.LEADER_CUT);

    /**
     * One fault injected: its kind, target, how long each kernel it touched took to serve again
     * (ms, -1: not within the wait) and, for a fault on the leader, from the fault until the pager
     * granted again (ms; -1: not measured or not within the wait).
     */
    record Fault(Kind kind, String target, long atMillis, List<Long> backInServiceMillis, long failoverMillis) {}

    private static final long SERVICE_WAIT_MILLIS = 30_000;

    private final RealCluster cluster;
    private final Recorder recorder;
    private final long lease;
    private final SplittableRandom random;
    private final long started = System.nanoTime();
    final List<Fault> injected = new ArrayList<>();
    /** The kinds still to come in this round: every kind once per round, in a random order. */
    private final List<Kind> deck = new ArrayList<>();

    Faults(RealCluster cluster, Recorder recorder, long leaseMillis, long seed) {
        this.cluster = cluster;
        this.recorder = recorder;
        this.lease = leaseMillis;
        this.random = new SplittableRandom(seed);
        this.replicaFaults = cluster.replicated() ? new ReplicaFaults(cluster, recorder, leaseMillis, random) : null;
    }

    private final ReplicaFaults replicaFaults;

    /** Injects one fault of a random kind and waits until the kernels it touched serve again. */
    void inject() throws IOException, InterruptedException {
        if (deck.isEmpty()) {
            deck.addAll(ON_KERNELS);
            deck.addAll(replicaFaults != null ? ON_REPLICAS : List.of(Kind.PAGER));
            java.util.Collections.shuffle(deck, new java.util.Random(random.nextLong()));
        }
        Kind kind = deck.remove(deck.size() - 1);
        List<String> names = cluster.kernelNames();
        String k = names.get(random.nextInt(names.size()));
        long at = (System.nanoTime() - started) / 1_000_000;
        long end;
        long failover = -1;
        ReplicaFaults.Restart then = ReplicaFaults.Restart.NONE;
        List<String> touched = List.of(k);
        String target = kind == Kind.PAGER ? "pager" : k;
        switch (kind) {
            case BLIP -> {
                cluster.net().xpLink(k, false);
                FaultSpan.hold(lease * 3 / 10);
                cluster.net().xpLink(k, true);
                end = System.nanoTime();
            }
            case PARTITION -> {
                recorder.faultOn(k, "partition", true);
                cluster.net().xpLink(k, false);
                FaultSpan.hold(lease * 3 / 2);
                recorder.open(k);
                FaultSpan.hold(lease);
                cluster.net().xpLink(k, true);
                end = System.nanoTime();
            }
            case PAUSE -> {
                recorder.faultOn(k, "pause", true);
                NodeProcess p = cluster.kernel(k);
                cluster.stalls().paused(k);
                p.pause();
                FaultSpan.hold(lease * 3 / 2);
                recorder.open(k);
                FaultSpan.hold(lease);
                p.resume();
                cluster.stalls().resumed(k);
                end = System.nanoTime();
            }
            case KILL -> {
                recorder.faultOn(k, "kill", true);
                cluster.kernel(k).kill();
                end = System.nanoTime();
                cluster.startKernel(k);
                recorder.open(k);
            }
            case PAGER -> {
                touched = names;
                for (String n : names) {
                    recorder.faultOn(n, "pager restart", false);
                }
                recorder.pager("killed");
                cluster.pager(RealCluster.PAGER).kill();
                end = System.nanoTime();
                cluster.startPager(RealCluster.PAGER);
                recorder.pager("restarted");
                FaultSpan.hold(lease); // its grace period: every kernel has reclaimed or stopped by its end
                for (String n : names) {
                    recorder.open(n);
                }
            }
            default -> {
                ReplicaFaults.Done done = replicaFaults.inject(kind);
                then = done.then();
                touched = names;
                end = done.end();
                target = "replica " + done.target();
                failover = done.failoverMillis();
            }
        }
        List<Long> back = new ArrayList<>();
        for (String n : touched) {
            back.add(waitForService(n, end));
        }
        then.run();
        injected.add(new Fault(kind, target, at, back, failover));
    }

    /** Milliseconds from {@code since} until the kernel granted a futex after it; -1 if not within the wait. */
    private long waitForService(String kernel, long since) throws InterruptedException {
        long deadline = System.nanoTime() + SERVICE_WAIT_MILLIS * 1_000_000;
        while (System.nanoTime() < deadline) {
            long last = recorder.lastAcquire(kernel);
            if (last > since) {
                return (last - since) / 1_000_000;
            }
            Thread.sleep(20);
        }
        return -1;
    }
}
