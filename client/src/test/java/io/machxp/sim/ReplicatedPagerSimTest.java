package io.machxp.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.core.Reply;
import io.machxp.kernel.futex.Acquired;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The replicated pager in the simulator (xp-spec 13): three replicas running the real replica code
 * on the modelled Raft log. When the leader crashes, or is cut off from the other replicas, the
 * others elect a new leader and the kernels resume their sessions there (also when it is only
 * stopped, and its sockets still take connections): they keep their futexes
 * and pages, nobody is told OWNER_DIED, nothing written is lost, and fencing tokens keep growing.
 */
class ReplicatedPagerSimTest {
    private static final long MS = 1_000_000;
    private static final long LEASE = 20 * MS;
    private final List<String> trace = new ArrayList<>();
    private final SimCluster cluster = new SimCluster(new SimCluster.Options(11, 50_000, 200_000, 4096, LEASE),
            Map.of("obj", 4096L), 3, (time, kernel, event, tid, detail) -> trace.add(kernel + " " + event));

    private <T> Object await(Consumer<Reply<T>> call) {
        return SimCalls.await(cluster, call);
    }

    private static Reply<Acquired> reply(Object[] box) {
        return new Reply<>() {
            @Override
            public void complete(Acquired value) {
                box[0] = value;
            }

            @Override
            public void fail(KernelError error) {
                box[0] = error;
            }
        };
    }

    /** A holds the futex and wrote 42 under it; B asks for it; then {@code fault} hits the leader. */
    private void failover(Runnable fault) {
        failover(fault, LEASE);
    }

    /** As {@link #failover(Runnable)}, with A's unlock {@code wait} after the fault. */
    private void failover(Runnable fault, long wait) {
        SimCalls.Worker a = SimCalls.worker(cluster, "A", "obj", 5 * MS);
        SimCalls.Worker b = SimCalls.worker(cluster, "B", "obj", 5 * MS);
        Acquired first = (Acquired) this.<Acquired>await(r -> a.core().vmLockFutex(a.task(), a.tid(), a.base(), -1, r));
        byte[] written = ByteBuffer.allocate(8).putLong(42).array();
        assertThat(this.<Void>await(r -> a.core().vmWrite(a.task(), a.base() + 8, written, r))).isNull();
        Object[] got = new Object[1];
        b.core().vmLockFutex(b.task(), b.tid(), b.base(), -1, reply(got));
        cluster.runUntil(cluster.now() + MS);
        int leader = cluster.replicas().leader();
        assertThat(leader).isNotNegative();

        fault.run();
        cluster.runUntil(cluster.now() + wait);
        assertThat(got[0]).as("B still waits: A owns the futex across the failover").isNull();
        assertThat(this.<Void>await(r -> a.core().vmUnlockFutex(a.task(), a.tid(), a.base(), r))).isNull();
        cluster.runUntil(cluster.now() + LEASE);

        assertThat(cluster.replicas().leader()).as("another replica leads").isNotIn(-1, leader);
        assertThat(trace).contains("A pager-resumed", "B pager-resumed")
                .noneMatch(e -> e.contains("lease-lost") || e.contains("pager-lost") || e.contains("reconnected"));
        assertThat(got[0]).isInstanceOfSatisfying(Acquired.class, acq -> {
            assertThat(acq.ownerDied()).as("nobody died: A resumed and released the futex").isFalse();
            assertThat(acq.fencingToken()).isGreaterThan(first.fencingToken());
        });
        byte[] read = (byte[]) this.<byte[]>await(r -> b.core().vmRead(b.task(), b.base() + 8, 8, r));
        assertThat(ByteBuffer.wrap(read).getLong()).as("A's write survived the failover").isEqualTo(42);
    }

    @Test
    void whenTheLeaderCrashesKernelsResumeAtTheNewLeaderAndKeepWhatTheyHold() {
        failover(() -> cluster.replicas().crash(cluster.replicas().leader(), 3 * LEASE));
    }

    @Test
    void aLeaderCutOffFromTheOtherReplicasStepsDownAndKernelsResumeAtTheNewOne() {
        failover(() -> cluster.replicas().partition(List.of(cluster.replicas().leader()), 3 * LEASE));
    }

    /**
     * A stopped leader (SIGSTOP) still takes connections: a kernel's resume there is never answered
     * while its connection is up. Before, the kernel waited for that answer until its lease ran out;
     * now a resume unanswered for a fifth of the lease goes to the next replica.
     */
    @Test
    void aStoppedLeaderThatStillTakesConnectionsIsLeftForTheNextReplica() {
        failover(() -> cluster.replicas().pause(cluster.replicas().leader(), 3 * LEASE));
        assertThat(trace).contains("A resume-elsewhere", "B resume-elsewhere");
    }

    /**
     * An election longer than the kernels' leases allow (0.675 L after the fault): the leader
     * crashes and the two others are cut apart for 1.2 L, so no replica can win until then. Each
     * kernel's lease runs out while it resumes; it holds still in its grace (A's unlock waits,
     * nothing is handed out) instead of ending its session, and the new leader's leader_started
     * gives both sessions a full lease from the takeover, so their resumes are taken: A keeps the
     * futex and its write, B gets it without OWNER_DIED. Without the kernel's grace both kernels
     * ended their sessions at their leases' end (OWNER_DIED for B); without the takeover entry the
     * new leader's first entry declared both dead and refused their resumes.
     */
    @Test
    void anElectionLongerThanTheLeaseCostsNoSessionTheKernelsHoldStillInTheirGrace() {
        failover(() -> {
            int leader = cluster.replicas().leader();
            cluster.replicas().crash(leader, 10 * LEASE);
            cluster.replicas().partition(List.of((leader + 1) % 3), 6 * LEASE / 5);
        }, LEASE);
        assertThat(trace).contains("A lease-grace", "B lease-grace", "A lease-grace-over", "B lease-grace-over");
    }

    /**
     * An election longer than the grace too (the survivors cut apart for 3 L): A's unlock, made in
     * its grace, waits, and fails with EIO once the grace ends; both sessions end as a lease running
     * out did before (B's waiting lock fails too): a grace delays the end, it never hides it.
     */
    @Test
    void anElectionLongerThanTheGraceEndsTheSessionsAsBefore() {
        SimCalls.Worker a = SimCalls.worker(cluster, "A", "obj", 5 * MS);
        SimCalls.Worker b = SimCalls.worker(cluster, "B", "obj", 5 * MS);
        this.<Acquired>await(r -> a.core().vmLockFutex(a.task(), a.tid(), a.base(), -1, r));
        Object[] got = new Object[1];
        b.core().vmLockFutex(b.task(), b.tid(), b.base(), -1, reply(got));
        cluster.runUntil(cluster.now() + MS);
        int leader = cluster.replicas().leader();
        cluster.replicas().crash(leader, 10 * LEASE);
        cluster.replicas().partition(List.of((leader + 1) % 3), 3 * LEASE);
        cluster.runUntil(cluster.now() + LEASE);
        assertThat(trace).contains("A lease-grace");
        Object unlock = this.<Void>await(r -> a.core().vmUnlockFutex(a.task(), a.tid(), a.base(), r));
        assertThat(unlock).as("the unlock waited in the grace, then failed with the session")
                .isInstanceOfSatisfying(KernelError.class, e -> assertThat(e.errno().name()).isEqualTo("EIO"));
        assertThat(trace).contains("A lease-lost").doesNotContain("A lease-grace-over");
        cluster.runUntil(cluster.now() + LEASE);
        assertThat(got[0]).as("B's session ended the same way: its waiting lock fails, it is handed nothing")
                .isInstanceOfSatisfying(KernelError.class, e -> assertThat(e.message()).contains("within its grace"));
    }

    /**
     * A timed lock made in a grace waits at most its timeout: it fails with ETIMEDOUT (the sentence
     * of any timed lock) at its deadline, not when the grace ends up to a lease later.
     */
    @Test
    void aTimedLockParkedInTheGraceTimesOutAtItsDeadline() {
        SimCalls.Worker a = SimCalls.worker(cluster, "A", "obj", 5 * MS);
        this.<Acquired>await(r -> a.core().vmLockFutex(a.task(), a.tid(), a.base(), -1, r));
        cluster.runUntil(cluster.now() + MS);
        int leader = cluster.replicas().leader();
        cluster.replicas().crash(leader, 10 * LEASE);
        cluster.replicas().partition(List.of((leader + 1) % 3), 3 * LEASE);
        cluster.runUntil(cluster.now() + LEASE);
        assertThat(trace).contains("A lease-grace").doesNotContain("A lease-lost");
        Object[] got = new Object[1];
        a.core().vmLockFutex(a.task(), a.tid(), a.base() + 16, 2 * MS, reply(got));
        cluster.runUntil(cluster.now() + 3 * MS);
        assertThat(trace).as("still in the grace").doesNotContain("A lease-lost", "A lease-grace-over");
        assertThat(got[0]).as("the lock timed out at its deadline, in the grace")
                .isInstanceOfSatisfying(KernelError.class, e -> {
                    assertThat(e.errno().name()).isEqualTo("ETIMEDOUT");
                    assertThat(e.message()).contains("before its timeout");
                });
    }

    @Test
    void aKernelWhoseFirstReplicaIsDownStartsAtAnother() {
        cluster.runUntil(5 * MS);
        cluster.replicas().crash(0, 10 * LEASE); // kernels try r0 first
        SimCalls.Worker a = SimCalls.worker(cluster, "A", "obj", 5 * MS);
        Acquired got = (Acquired) this.<Acquired>await(r -> a.core().vmLockFutex(a.task(), a.tid(), a.base(), -1, r));
        assertThat(got.ownerDied()).isFalse();
        assertThat(trace).noneMatch(e -> e.contains("pager-lost"));
    }
}
