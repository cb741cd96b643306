package io.machxp.pager.replica;

import io.machxp.pager.PagerConfig;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * Three replicas of one pager in this JVM, on loopback, for probes of the group by an outside
 * kernel: the pager's objects, a lease, and a fresh start (no grace wait before grants).
 */
final class ReplicaTrio implements AutoCloseable {
    /** Longer than Ratis's default: a loaded test machine's stalls must not look like a dead leader. */
    static final Duration ELECTION_TIMEOUT = Duration.ofSeconds(1);

    final List<ReplicatedPager> replicas = new ArrayList<>();

    ReplicaTrio(Map<String, Long> objects, Duration lease) throws IOException {
        this(objects, lease, ReplicaStreams::new);
    }

    /** With each replica's kernel streams made by {@code streams}. */
    ReplicaTrio(Map<String, Long> objects, Duration lease, java.util.function.Supplier<ReplicaStreams> streams)
            throws IOException {
        PagerConfig config = new PagerConfig("p", "127.0.0.1", 0, 4096, objects).withLease(lease).withFreshStart(true);
        // Again on fresh ports if another process took one before its replica bound it.
        replicas.addAll(LoopbackGroup.start(3, addresses -> {
            List<ReplicatedPager> started = new ArrayList<>();
            try {
                for (String id : addresses.keySet()) {
                    started.add(ReplicatedPager.start(config, new ReplicaConfig(id, addresses)
                            .withElectionTimeout(ELECTION_TIMEOUT), streams.get()));
                }
                return started;
            } catch (IOException | RuntimeException e) {
                started.forEach(ReplicatedPager::close);
                throw e;
            }
        }));
    }

    /** The replica that takes kernels, once one does (30 s at most; the failure says where each stands). */
    ReplicatedPager leader() {
        try {
            return Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
                    .until(() -> replicas.stream().filter(ReplicatedPager::takesKernels).findFirst(), Optional::isPresent)
                    .orElseThrow();
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("no replica took kernels:\n  "
                    + String.join("\n  ", replicas.stream().map(ReplicatedPager::describe).toList()), e);
        }
    }

    /**
     * The replica that takes kernels now (as {@link #leader}) and the Raft term it leads in: whether
     * it still leads that term later is {@link Leadership#moved}.
     */
    Leadership leadership() {
        ReplicatedPager leader = leader();
        return new Leadership(leader, leader.info().getCurrentTerm());
    }

    /**
     * A leader and its term. On a starved JVM the leadership moves with no fault injected: the three
     * replicas' timers all run late, so the followers' election timeouts run out, and Ratis steps a
     * leader down after a JVM pause longer than its step-down wait (here the longest election
     * timeout, RaftSettings), as in "JVM pause detected 2.033s longer than the step-down-threshold 2s"
     * at a load of about 40.
     */
    record Leadership(ReplicatedPager leader, long term) {
        /** Whether the leader stopped taking kernels or left its term (it may lead a later one) since. */
        boolean moved() {
            return !leader.takesKernels() || leader.info().getCurrentTerm() != term;
        }
    }

    /** A replica that does not lead. */
    ReplicatedPager follower() {
        ReplicatedPager leader = leader();
        return replicas.stream().filter(r -> r != leader).findFirst().orElseThrow();
    }

    /**
     * Waits until every replica has applied the same last entry (the leader's), and returns that
     * index: then their states were built from the same log.
     */
    long awaitApplied() {
        return Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10))
                .until(() -> {
                    long a = replicas.get(0).logStatus().applied();
                    for (ReplicatedPager r : replicas) {
                        if (r.logStatus().applied() != a) {
                            return -1L;
                        }
                    }
                    return a;
                }, a -> a > 0);
    }

    @Override
    public void close() {
        replicas.forEach(ReplicatedPager::close);
    }
}
