package io.machxp.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.core.Reply;
import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.task.MachThread;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * rv58-review INFO-1: the simulated replicated pager's leaders append as a Ratis leader does,
 * through {@code AppendBatches} (two Raft entries in flight; what is sent meanwhile waits and goes
 * as one batch entry), so the seeded runs cover batching. A burst of one kernel's lock_futex goes
 * in fewer Raft entries than messages; a burst sent to a leader cut off from the other replicas
 * waits behind its two entries that cannot commit, and when it steps down the waiting batch fails
 * whole: the kernel's stream ends, it resumes at the new leader and sends again what the log does
 * not have, and every lock is granted, none twice, nobody told OWNER_DIED.
 */
class ReplicatedBatchesSimTest {
    private static final long MS = 1_000_000;
    private static final long LEASE = 20 * MS;
    private static final int THREADS = 16;
    private final List<String> trace = new ArrayList<>();
    private final SimCluster cluster = new SimCluster(new SimCluster.Options(11, 50_000, 200_000, 4096, LEASE),
            Map.of("obj", 4096L), 3, (time, kernel, event, tid, detail) -> trace.add(kernel + " " + event));

    /** Every thread locks its own word of {@code offset + 8 * i} at this instant; the answers once all came. */
    private List<Object> lockAtOnce(SimCalls.Worker w, int[] tids, long offset) {
        Object[] got = new Object[tids.length];
        for (int i = 0; i < tids.length; i++) {
            int slot = i;
            w.core().vmLockFutex(w.task(), tids[i], w.base() + offset + 8L * i, -1, new Reply<Acquired>() {
                @Override
                public void complete(Acquired value) {
                    got[slot] = value;
                }

                @Override
                public void fail(KernelError error) {
                    got[slot] = error;
                }
            });
        }
        long until = cluster.now() + 10 * LEASE;
        while (java.util.Arrays.stream(got).anyMatch(g -> g == null) && cluster.now() < until && cluster.step()) {
            // the simulation runs until every answer came
        }
        return List.of(got);
    }

    @Test
    void aBurstGoesInBatchesAndABatchThatFailsWholeLosesNothing() {
        SimCalls.Worker a = SimCalls.worker(cluster, "A", "obj", 5 * MS);
        int[] tids = new int[THREADS];
        tids[0] = a.tid();
        for (int i = 1; i < THREADS; i++) {
            tids[i] = ((MachThread) SimCalls.<MachThread>await(cluster, r -> a.core().threadCreate(a.task(), r))).tid;
        }
        SimReplicaGroup.Batches b = cluster.replicas().batches();
        long sent = b.sent();
        long raftEntries = b.raftEntries();

        List<Object> first = lockAtOnce(a, tids, 0);
        assertThat(first).allSatisfy(g -> assertThat(g).isInstanceOfSatisfying(Acquired.class,
                acq -> assertThat(acq.ownerDied()).isFalse()));
        assertThat(b.batches()).as("batch entries appended").isPositive();
        assertThat(b.raftEntries() - raftEntries).as("Raft entries for %d entries sent", b.sent() - sent)
                .isLessThan(b.sent() - sent);
        assertThat(b.batchesFailed()).isZero();

        int leader = cluster.replicas().leader();
        cluster.replicas().partition(List.of(leader), 3 * LEASE); // it leads on until it misses a majority
        List<Object> second = lockAtOnce(a, tids, 1024);
        assertThat(b.batchesFailed()).as("a batch waiting at the cut-off leader failed whole").isPositive();
        assertThat(b.entriesFailed()).isGreaterThan(b.batchesFailed());
        assertThat(cluster.replicas().leader()).as("another replica leads").isNotIn(-1, leader);
        assertThat(trace).contains("A pager-resumed").noneMatch(e -> e.contains("lease-lost") || e.contains("pager-lost"));
        assertThat(second).as("every lock of the failed batch was sent again and granted once")
                .allSatisfy(g -> assertThat(g).isInstanceOfSatisfying(Acquired.class,
                        acq -> assertThat(acq.ownerDied()).isFalse()));
    }
}
