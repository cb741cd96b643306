package io.machxp.replica;

import io.machxp.pager.PagerConfig;
import io.machxp.pager.replica.LoopbackGroup;
import io.machxp.pager.replica.ReplicaConfig;
import io.machxp.pager.replica.ReplicatedPager;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/** Three replicas of one pager in this JVM, on loopback: each its own Ratis server and XP server. */
final class ReplicaGroup implements AutoCloseable {
    static final String OBJECT = "obj";
    static final long OBJECT_SIZE = 4 * 4096;

    /**
     * Longer than Ratis's default (150 ms): tests share a loaded machine whose JVMs stall for a
     * second or two, which would otherwise look like a dead leader.
     */
    static final Duration ELECTION_TIMEOUT = Duration.ofSeconds(1);

    final Map<String, String> addresses = new LinkedHashMap<>();
    final List<ReplicatedPager> replicas = new ArrayList<>();
    private final PagerConfig config;
    private final long snapshotEvery;

    ReplicaGroup(int count) throws IOException {
        this(count, Map.of(OBJECT, OBJECT_SIZE), PagerConfig.DEFAULT_LEASE);
    }

    /** {@code count} replicas serving {@code objects}, with sessions of {@code lease}. */
    ReplicaGroup(int count, Map<String, Long> objects, Duration lease) throws IOException {
        this(count, objects, lease, ReplicaConfig.DEFAULT_SNAPSHOT_EVERY);
    }

    /** The same, with a snapshot every {@code snapshotEvery} Raft log entries. */
    ReplicaGroup(int count, Map<String, Long> objects, Duration lease, long snapshotEvery) throws IOException {
        this.config = new PagerConfig("pager", "127.0.0.1", 0, PagerConfig.DEFAULT_PAGE_SIZE, objects)
                .withLease(lease);
        this.snapshotEvery = snapshotEvery;
        // Again on fresh ports if another process took one before its replica bound it.
        LoopbackGroup.start(count, picked -> {
            addresses.clear();
            addresses.putAll(picked);
            try {
                for (String id : addresses.keySet()) {
                    replicas.add(start(id));
                }
                return this;
            } catch (IOException | RuntimeException e) {
                close();
                replicas.clear();
                throw e;
            }
        });
    }

    private ReplicatedPager start(String id) throws IOException {
        return ReplicatedPager.start(config, new ReplicaConfig(id, addresses).withElectionTimeout(ELECTION_TIMEOUT)
                .withSnapshotEvery(snapshotEvery));
    }

    /**
     * Starts a closed replica again under its id and address, with an empty Raft log (its log was
     * in a directory removed on close): it must catch up from the others.
     */
    ReplicatedPager restart(ReplicatedPager closed) throws IOException {
        if (!closed.closed()) {
            throw new IllegalStateException("replica " + closed.id() + " is running");
        }
        ReplicatedPager again = start(closed.id());
        replicas.set(replicas.indexOf(closed), again);
        return again;
    }

    /** What a kernel's --pager says for this pager: every replica, joined by '+'. */
    String kernelTarget() {
        return String.join("+", addresses.values());
    }

    /** The replica that leads and takes kernels, once there is one (waits up to 30 s). */
    ReplicatedPager awaitLeader() {
        return awaitLeader(Duration.ofSeconds(30));
    }

    /**
     * The replica that leads and takes kernels, once there is one (waits up to {@code patience});
     * if none does in time, the failure says where each replica stands.
     */
    ReplicatedPager awaitLeader(Duration patience) {
        try {
            return Awaitility.await().atMost(patience).pollInterval(Duration.ofMillis(20))
                    .until(this::leader, Optional::isPresent).orElseThrow();
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("no replica took kernels within " + patience + ":\n  "
                    + String.join("\n  ", replicas.stream().map(ReplicatedPager::describe).toList()), e);
        }
    }

    private Optional<ReplicatedPager> leader() {
        return replicas.stream().filter(r -> !r.closed() && r.takesKernels()).findFirst();
    }

    @Override
    public void close() {
        replicas.forEach(ReplicatedPager::close);
    }
}
