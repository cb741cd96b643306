package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machxp.pager.core.PagerStats;
import io.machxp.pager.core.XpProtocolError;
import io.machxp.proto.replica.PagerLogEntry;
import io.machxp.proto.replica.ReplicaSnapshot;
import io.machxp.proto.snapshot.PagerSnapshot;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A replica core restored from a snapshot goes on exactly as the one it was taken of: four
 * scripted kernels ({@link ScriptedKernels}) run against a replica; at several points its state is
 * written, read back (through bytes) into a fresh replica, and both are fed the rest of the same
 * log. Every restored replica must send and end exactly what the original does from its point on,
 * and end in the same state (equal snapshots). The cores' refusals of the script's careless
 * kernels are logged at WARN; the logs say only errors here.
 */
@ExtendWith(io.machxp.pager.core.QuietCoreLogs.class)
class SnapshotRestoreTest {
    private static final long T0 = 1_000_000_000_000L;
    private static final int STEPS = 600;
    private static final int[] SNAPSHOT_AT = {40, 150, 300, 450};

    /** What a replica's core sent and ended, in order. */
    private static final class Recorded implements ReplicaCore.Outlet {
        /** Each send as (session, message), each end as (session, reason). */
        final List<List<Object>> said = new ArrayList<>();
        final ScriptedKernels kernels;

        Recorded(ScriptedKernels kernels) {
            this.kernels = kernels;
        }

        @Override
        public void send(long sessionId, PagerToKernel message) {
            said.add(List.of(sessionId, message));
            if (kernels != null) {
                kernels.observe(sessionId, message);
            }
        }

        @Override
        public void endSession(long sessionId, Errno errno, String message) {
            said.add(List.of(sessionId, errno + " " + message));
            if (kernels != null) {
                kernels.ended(sessionId);
            }
        }

        @Override
        public void endSession(long sessionId, XpProtocolError error, String message) {
            said.add(List.of(sessionId, error + " " + message));
            if (kernels != null) {
                kernels.ended(sessionId);
            }
        }

        @Override
        public void endSessionFailed(long sessionId, String message) {
            said.add(List.of(sessionId, "INTERNAL " + message));
            if (kernels != null) {
                kernels.ended(sessionId);
            }
        }
    }

    /** A restored replica, and where in the original's output it began. */
    private record Restored(ReplicaCore replica, Recorded out, int from) {}

    private static ReplicaCore replica(Recorded out) {
        return new ReplicaCore("p", ScriptedKernels.PAGE, ScriptedKernels.OBJECTS, ScriptedKernels.LEASE, out,
                new PagerStats());
    }

    /** What the snapshots taken held, across the seeds: each kind of state must have come up. */
    private final List<PagerSnapshot> taken = new ArrayList<>();

    /**
     * Eight scripts, four snapshots each; then the snapshots taken must hold every kind of state
     * the core has (else the comparison proves little).
     */
    @Test
    void aRestoredReplicaGoesOnExactlyAsTheOriginal() throws Exception {
        for (long seed = 1; seed <= 8; seed++) {
            runRestoringAlongTheWay(seed);
        }
        assertSome("futexes held with kernels waiting", s -> s.getFutexesList().stream()
                .anyMatch(f -> f.hasHolder() && f.getWaitersCount() > 0));
        assertSome("trylocks waiting for the holder's answer", s -> s.getFutexesList().stream()
                .anyMatch(f -> f.getTriesCount() > 0));
        assertSome("page operations waiting for lock_completed", s -> s.getPagesList().stream()
                .anyMatch(p -> p.hasCurrent() && p.getCurrent().getAwaitedCount() > 0));
        assertSome("page operations queued", s -> s.getPagesList().stream().anyMatch(p -> p.getQueueCount() > 0));
        assertSome("pages written", s -> s.getStoredPagesCount() > 0);
        assertSome("messages kept for a resume", s -> s.getSessionsList().stream()
                .anyMatch(x -> x.hasReplay() && x.getReplay().getKeptCount() > 0));
        assertSome("broken sessions", s -> s.getSessionsList().stream().anyMatch(x -> x.getBroken()));
        assertSome("sessions declared dead, fenced", s -> s.getDeadSessionsCount() > 0);
        assertSome("messages held in grace", s -> s.getGrace().getHeldCount() > 0);
        assertSome("lease timers", s -> s.getTimersList().stream().anyMatch(t -> t.hasLeaseCheck()));
        assertSome("kernel ids in quarantine", s -> s.getQuarantineCount() > 0);
        assertSome("answer deadline checks", s -> s.getTimersList().stream().anyMatch(t -> t.hasAnswerCheck())
                && s.getSessionsList().stream().anyMatch(x -> x.getAnswerWatched()));
        assertSome("kernels that answered", s -> s.getSessionsList().stream()
                .anyMatch(x -> x.hasLastAnsweredNanos() && x.hasLastAnsweredAskedNanos()));
        assertSome("when lock_requests went out", s -> s.getPagesList().stream()
                .anyMatch(p -> p.hasCurrent() && p.getCurrent().hasAskedNanos()));
    }

    private void runRestoringAlongTheWay(long seed) throws Exception {
        ScriptedKernels kernels = new ScriptedKernels(seed, T0);
        Recorded original = new Recorded(kernels);
        ReplicaCore a = replica(original);
        List<Restored> restored = new ArrayList<>();
        // Odd seeds: a group started afresh with a grace period (messages held, then handled).
        apply(a, restored, kernels.genesis(seed % 2 == 1 ? ScriptedKernels.LEASE : 0));
        int next = 0;
        for (int step = 0; step < STEPS; step++) {
            if (next < SNAPSHOT_AT.length && step == SNAPSHOT_AT[next]) {
                next++;
                ReplicaSnapshot snapshot = a.snapshot();
                taken.add(snapshot.getCore());
                Recorded out = new Recorded(null);
                ReplicaCore b = replica(out);
                b.restore(ReplicaSnapshot.parseFrom(snapshot.toByteArray()));
                assertThat(b.snapshot()).as("read back, written again").isEqualTo(snapshot);
                assertThat(b.nextDue()).as("the original may also keep timers due earlier that do nothing")
                        .isGreaterThanOrEqualTo(a.nextDue()).isLessThan(Long.MAX_VALUE);
                restored.add(new Restored(b, out, original.said.size()));
            }
            for (PagerLogEntry e : kernels.step()) {
                apply(a, restored, e);
            }
        }
        ReplicaSnapshot end = a.snapshot();
        for (Restored r : restored) {
            assertThat(r.out().said).as("seed %d: what the replica restored at message %d said", seed, r.from())
                    .isEqualTo(original.said.subList(r.from(), original.said.size()));
            assertThat(r.replica().snapshot()).as("seed %d: the end state", seed).isEqualTo(end);
        }
        assertThat(original.said.size()).as("the script made the pager talk").isGreaterThan(STEPS / 4);
    }

    private static void apply(ReplicaCore a, List<Restored> restored, PagerLogEntry e) {
        a.apply(e);
        restored.forEach(r -> r.replica().apply(e));
    }

    private void assertSome(String what, Predicate<PagerSnapshot> has) {
        assertThat(taken).as(what).anyMatch(has);
    }

    @Test
    void aSnapshotOfAnotherPagersObjectsIsRefused() throws Exception {
        ScriptedKernels kernels = new ScriptedKernels(1, T0);
        ReplicaCore a = replica(new Recorded(kernels));
        a.apply(kernels.genesis(0));
        for (int step = 0; step < 40; step++) {
            kernels.step().forEach(a::apply);
        }
        ReplicaCore other = new ReplicaCore("p", ScriptedKernels.PAGE, Map.of("else", 4L * ScriptedKernels.PAGE),
                ScriptedKernels.LEASE, new Recorded(null), new PagerStats());
        assertThatThrownBy(() -> other.restore(a.snapshot())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("memory object 'obj'").hasMessageContaining("--object");
    }
}
