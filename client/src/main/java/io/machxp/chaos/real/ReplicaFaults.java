package io.machxp.chaos.real;

import java.io.IOException;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The faults of a real chaos run on the replicas of a replicated pager ({@code --replicas 3}),
 * next to those on kernels ({@link Faults}):
 * <pre>
 *  LEADER_KILL    SIGKILL of the leading replica; once the pager grants again, a new process on
 *                 its store (its Raft log, term and vote) rejoins as a follower
 *  FOLLOWER_KILL  SIGKILL of a follower and a new process on its store
 *  LEADER_PAUSE   SIGSTOP of the leader for half a lease (past Ratis's election timeout, so that
 *                 another replica leads), then SIGCONT: what it still sends must be fenced
 *  REPLICA_CUT    a replica (the leader or a follower, at random) cut off from the other
 *                 replicas for a lease; kernels still reach it
 *  LEADER_CUT     the leader cut off from every kernel (not from the replicas, so it goes on
 *                 leading) for 2.5 leases: the kernels stop, as in a partition
 * </pre>
 * The first four must cost nothing: every kernel keeps its session and its futexes (it resumes
 * at the new leader), so nothing is recorded and any OWNER_DIED the history shows is a violation
 * unless the stall probes explain it. LEADER_CUT is recorded as a partition of every kernel.
 * For a fault on the leader, the failover time is from the fault until the pager grants a lock
 * call begun after it.
 */
final class ReplicaFaults {
    /**
     * What one fault did: its target, when it ended (nanoTime), the failover time (ms, -1: none
     * measured), and what is left to do once the kernels' service after it has been measured (a
     * killed replica's restart: the group must serve without it first).
     */
    record Done(String target, long end, long failoverMillis, Restart then) {}

    /** A step after the fault: a killed replica started again on its store. */
    interface Restart {
        void run() throws IOException;

        Restart NONE = () -> { };
    }

    private static final long GRANT_WAIT_SECONDS = 30;

    private final RealCluster cluster;
    private final Recorder recorder;
    private final long lease;
    private final SplittableRandom random;

    ReplicaFaults(RealCluster cluster, Recorder recorder, long leaseMillis, SplittableRandom random) {
        this.cluster = cluster;
        this.recorder = recorder;
        this.lease = leaseMillis;
        this.random = random;
    }

    Done inject(Faults.Kind kind) throws IOException, InterruptedException {
        String leader = leader();
        return switch (kind) {
            case LEADER_KILL -> {
                recorder.pager("replica " + leader + " (the leader) killed");
                CompletableFuture<Long> granted = recorder.pagerGrantAfter(System.nanoTime());
                long at = System.nanoTime();
                cluster.pager(leader).kill();
                long failover = failover(granted, at);
                yield new Done(leader, System.nanoTime(), failover, restart(leader));
            }
            case FOLLOWER_KILL -> {
                String f = follower(leader);
                recorder.pager("replica " + f + " (a follower) killed");
                cluster.pager(f).kill();
                yield new Done(f, System.nanoTime(), -1, restart(f));
            }
            case LEADER_PAUSE -> {
                recorder.pager("replica " + leader + " (the leader) paused");
                NodeProcess p = cluster.pager(leader);
                String probe = RealCluster.PAGER + "-" + leader;
                CompletableFuture<Long> granted = recorder.pagerGrantAfter(System.nanoTime());
                long at = System.nanoTime();
                cluster.stalls().paused(probe);
                p.pause();
                FaultSpan.hold(lease / 2);
                p.resume();
                cluster.stalls().resumed(probe);
                long end = System.nanoTime();
                recorder.pager("replica " + leader + " resumed");
                yield new Done(leader, end, failover(granted, at), Restart.NONE);
            }
            case REPLICA_CUT -> {
                String r = random.nextBoolean() ? leader : follower(leader);
                List<Netns.Node> others = cluster.pagerIds().stream().filter(id -> !id.equals(r))
                        .map(cluster::pagerNode).toList();
                recorder.pager("replica " + r + (r.equals(leader) ? " (the leader)" : " (a follower)")
                        + " cut off from the others");
                CompletableFuture<Long> granted = recorder.pagerGrantAfter(System.nanoTime());
                long at = System.nanoTime();
                cluster.net().cut(List.of(cluster.pagerNode(r)), others, true);
                FaultSpan.hold(lease);
                cluster.net().cut(List.of(cluster.pagerNode(r)), others, false);
                long end = System.nanoTime();
                recorder.pager("replica " + r + " joined again");
                yield new Done(r, end, r.equals(leader) ? failover(granted, at) : -1, Restart.NONE);
            }
            case LEADER_CUT -> {
                List<Netns.Node> kernels = cluster.kernelNames().stream().map(cluster::kernelNode).toList();
                for (String k : cluster.kernelNames()) {
                    recorder.faultOn(k, "cut off from the leader", true);
                }
                cluster.net().cut(List.of(cluster.pagerNode(leader)), kernels, true);
                FaultSpan.hold(lease * 3 / 2);
                cluster.kernelNames().forEach(recorder::open);
                FaultSpan.hold(lease);
                cluster.net().cut(List.of(cluster.pagerNode(leader)), kernels, false);
                yield new Done(leader, System.nanoTime(), -1, Restart.NONE);
            }
            default -> throw new IllegalArgumentException(kind + " is not a fault on replicas");
        };
    }

    private Restart restart(String replica) {
        return () -> {
            cluster.startPager(replica);
            recorder.pager("replica " + replica + " restarted");
        };
    }

    /** The leader by the replicas' claims; the first replica while none has claimed. */
    private String leader() {
        String l = cluster.leader();
        return l != null ? l : cluster.pagerIds().get(0);
    }

    private String follower(String leader) {
        List<String> followers = cluster.pagerIds().stream().filter(id -> !id.equals(leader)).toList();
        return followers.get(random.nextInt(followers.size()));
    }

    /** Milliseconds from {@code at} until {@code granted}; -1 if the pager granted nothing within the wait. */
    private static long failover(CompletableFuture<Long> granted, long at) throws InterruptedException {
        try {
            return (granted.get(GRANT_WAIT_SECONDS, TimeUnit.SECONDS) - at) / 1_000_000;
        } catch (TimeoutException | ExecutionException e) {
            return -1;
        }
    }
}
