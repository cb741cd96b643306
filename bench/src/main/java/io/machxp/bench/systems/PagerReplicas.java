package io.machxp.bench.systems;

import io.machxp.pager.PagerConfig;
import io.machxp.pager.replica.LoopbackGroup;
import io.machxp.pager.replica.RaftSync;
import io.machxp.pager.replica.ReplicaConfig;
import io.machxp.pager.replica.ReplicatedPager;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

/**
 * The bench's pager as a group of three Apache Ratis replicas (docs/replicated-pager.md), all in
 * this JVM on loopback, as the bench runs its single pager: each replica its own Raft server, XP
 * server and Raft log in a temporary directory, which Ratis writes and syncs to disk before an
 * entry commits (its default: {@code raft.server.log.unsafe-flush.enabled} false), or with
 * {@link RaftSync#NONE} writes to the page cache and syncs in the background (machxp-r3-nosync).
 * Kernels name the three, joined by '+', and follow the leader.
 */
final class PagerReplicas implements AutoCloseable {
    static final int COUNT = 3;
    /**
     * The shortest election timeout (the longest twice it), as the replica tests use: a loaded
     * machine stalls JVMs for longer than Ratis's default 150 ms, which would change leaders without
     * a failure. No leader fails in a bench run, so it does not enter the figures.
     */
    static final Duration ELECTION_TIMEOUT = Duration.ofSeconds(1);
    private static final Duration LEADER_WAIT = Duration.ofSeconds(60);
    /**
     * Kernels' sessions last 20 s without an answer, as in the leader-failover test, not the
     * default 5 s: on a loaded machine a group whose every input is a synced Raft entry can leave a
     * keepalive unanswered for 4 s (seen at load 36), and the kernels would end their sessions in
     * the middle of a run. A lease matters only when something fails, which it does not here.
     */
    static final Duration LEASE = Duration.ofSeconds(20);

    private final List<ReplicatedPager> replicas = new ArrayList<>();
    private final String kernelTarget;

    PagerReplicas(String name, int pageSize, Map<String, Long> objects, RaftSync sync) throws IOException {
        PagerConfig config = new PagerConfig(name, "127.0.0.1", 0, pageSize, objects).withLease(LEASE);
        // Again on fresh ports if another process took one before its replica bound it.
        this.kernelTarget = LoopbackGroup.start(COUNT, addresses -> {
            try {
                for (String id : addresses.keySet()) {
                    replicas.add(ReplicatedPager.start(config,
                            new ReplicaConfig(id, addresses).withElectionTimeout(ELECTION_TIMEOUT).withRaftSync(sync)));
                }
            } catch (IOException | RuntimeException e) {
                close();
                replicas.clear();
                throw e;
            }
            return String.join("+", addresses.values());
        });
        try {
            awaitLeader();
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private void awaitLeader() throws IOException {
        long deadline = System.nanoTime() + LEADER_WAIT.toNanos();
        while (replicas.stream().noneMatch(ReplicatedPager::takesKernels)) {
            if (System.nanoTime() - deadline > 0) {
                throw new IOException("the 3 pager replicas elected no leader within " + LEADER_WAIT.toSeconds()
                        + " s (a machine too loaded for Raft's heartbeats?)");
            }
            LockSupport.parkNanos(20_000_000);
        }
    }

    /** What a kernel's --pager says: the three XP addresses joined by '+'. */
    String kernelTarget() {
        return kernelTarget;
    }

    /**
     * XP messages the group received and sent: the count of the replica furthest ahead now. Every
     * replica applies the same log and counts the same messages for the same entries, so the count
     * is a function of the log applied so far, and the difference of two samples is the messages of
     * the entries applied in between, whichever replica was furthest ahead at each (entries not yet
     * applied by any replica at the second sample are not counted). (Replica 0's count alone read 0
     * for a whole quick run in one CI, on a loaded machine where it lagged as a follower.)
     */
    long messages() {
        return replicas.stream().mapToLong(r -> r.stats().messages()).max().orElse(0);
    }

    @Override
    public void close() {
        replicas.forEach(ReplicatedPager::close);
    }
}
