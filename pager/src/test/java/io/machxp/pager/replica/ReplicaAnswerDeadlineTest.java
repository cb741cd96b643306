package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.pager.core.PagerStats;
import io.machxp.pager.core.XpProtocolError;
import io.machxp.proto.replica.Genesis;
import io.machxp.proto.replica.KernelMessage;
import io.machxp.proto.replica.LeaderStarted;
import io.machxp.proto.replica.PagerLogEntry;
import io.machxp.proto.replica.ReplicaSnapshot;
import io.machxp.proto.replica.SessionOpened;
import io.machxp.proto.replica.Tick;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelKeepalive;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.VmProt;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The answer deadline in a replicated pager: it is in the replicated state, so a replica that
 * installs a snapshot taken halfway through it and then leads (leader_started) ends the silent
 * kernel's session at the same point of the group clock as the replica it was taken of, not a
 * whole deadline after the takeover.
 */
class ReplicaAnswerDeadlineTest {
    private static final int PAGE = 4096;
    private static final long LEASE = 1_000_000_000L;
    private static final long DEADLINE = 3 * LEASE;
    private static final long T0 = 1_000_000_000_000L;
    private static final long A = 1L << 32 | 1;
    private static final long B = 1L << 32 | 2;

    /** When (on the clock of the entry being applied) each session was ended. */
    private static final class Ends implements ReplicaCore.Outlet {
        final Map<Long, Long> endedAt = new java.util.HashMap<>();
        final List<PagerToKernel> toB = new ArrayList<>();
        long clock;

        @Override
        public void send(long sessionId, PagerToKernel message) {
            if (sessionId == B && !message.hasPagerKeepalive()) {
                toB.add(message);
            }
        }

        @Override
        public void endSession(long sessionId, Errno errno, String message) {
            endedAt.putIfAbsent(sessionId, clock);
            assertThat(errno).isEqualTo(Errno.ETIMEDOUT);
        }

        @Override
        public void endSession(long sessionId, XpProtocolError error, String message) {
            throw new AssertionError(message);
        }

        @Override
        public void endSessionFailed(long sessionId, String message) {
            throw new AssertionError(message);
        }
    }

    private static ReplicaCore replica(Ends out) {
        return new ReplicaCore("p", PAGE, Map.of("obj", 4L * PAGE), LEASE, out, new PagerStats())
                .answerDeadline(DEADLINE);
    }

    private static PagerLogEntry xp(long clock, long session, KernelToPager.Builder m) {
        return PagerLogEntry.newBuilder().setClockNanos(clock)
                .setKernelMessage(KernelMessage.newBuilder().setSessionId(session).setMessage(m)).build();
    }

    private static List<PagerLogEntry> kernel(long clock, long session, String name) {
        return List.of(PagerLogEntry.newBuilder().setClockNanos(clock)
                        .setSessionOpened(SessionOpened.newBuilder().setSessionId(session)).build(),
                xp(clock, session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder()
                        .setKernelName(name).setProtocolVersion(1))),
                xp(clock, session, KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder()
                        .setObjectId(7).setName("obj").setPageSize(PAGE))));
    }

    private static PagerLogEntry request(long clock, long session, VmProt access) {
        return xp(clock, session, KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest
                .newBuilder().setObjectId(7).setOffset(0).setLength(PAGE).setDesiredAccess(access)));
    }

    private static void apply(ReplicaCore r, Ends out, PagerLogEntry e) {
        out.clock = e.getClockNanos();
        r.apply(e);
    }

    @Test
    void aSnapshotWrittenBeforeTheDeadlineWasKeptArmsItsCheckWhenInstalled() throws Exception {
        Ends first = new Ends();
        ReplicaCore a = replica(first);
        List<PagerLogEntry> log = new ArrayList<>();
        log.add(PagerLogEntry.newBuilder().setClockNanos(T0).setGenesis(Genesis.newBuilder().setTokenEpoch(5)
                .setTokenSeed(ByteString.copyFromUtf8("seed"))).build());
        log.addAll(kernel(T0, A, "A"));
        log.addAll(kernel(T0, B, "B"));
        log.add(request(T0 + 1, A, VmProt.VM_PROT_READ_WRITE));
        long asked = T0 + 2;
        log.add(request(asked, B, VmProt.VM_PROT_READ)); // a downgrade to A, which A never answers
        for (PagerLogEntry e : log) {
            apply(a, first, e);
        }
        ReplicaSnapshot taken = a.snapshot();
        assertThat(taken.getCore().getTimersList()).as("the new snapshot's check").anyMatch(t -> t.hasAnswerCheck());
        // As a snapshot written before the deadline was kept: no check, no watch, no times.
        io.machxp.proto.snapshot.PagerSnapshot.Builder core = taken.getCore().toBuilder();
        core.clearTimers().addAllTimers(taken.getCore().getTimersList().stream().filter(t -> !t.hasAnswerCheck())
                .toList());
        core.getSessionsBuilderList().forEach(s -> s.clearAnswerWatched().clearLastAnsweredNanos()
                .clearLastAnsweredAskedNanos());
        core.getPagesBuilderList().forEach(p -> {
            if (p.hasCurrent()) {
                p.getCurrentBuilder().clearAskedNanos();
            }
        });
        core.getFutexesBuilderList().forEach(f -> f.clearTryAskedNanos());
        Ends second = new Ends();
        ReplicaCore b = replica(second);
        b.restore(ReplicaSnapshot.parseFrom(taken.toBuilder().setCore(core).build().toByteArray()));
        long sequence = 0;
        for (long t = asked + LEASE / 4; t <= asked + 3 * DEADLINE; t += LEASE / 4) {
            sequence++;
            apply(b, second, PagerLogEntry.newBuilder().setClockNanos(t).setTick(Tick.getDefaultInstance()).build());
            for (long s : new long[] {A, B}) {
                apply(b, second, xp(t, s, KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder()
                        .setSequence(sequence))));
            }
        }
        assertThat(second.endedAt).as("A, ended a deadline after the install (its requests count as sent then)")
                .containsOnlyKeys(A);
        assertThat(second.endedAt.get(A)).isEqualTo(taken.getClockNanos() + DEADLINE);
    }

    @Test
    void aReplicaTakesNoDeadlineShorterThanTwoLeases() {
        Ends out = new Ends();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new ReplicaCore("p", PAGE, Map.of("obj", 4L * PAGE),
                LEASE, out, new PagerStats()).answerDeadline(2 * LEASE - 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least two leases");
        new ReplicaCore("p", PAGE, Map.of("obj", 4L * PAGE), LEASE, out, new PagerStats()).answerDeadline(2 * LEASE);
        new ReplicaCore("p", PAGE, Map.of("obj", 4L * PAGE), LEASE, out, new PagerStats()).answerDeadline(0);
    }

    @Test
    void aNewLeaderRestoredFromASnapshotKeepsTheDeadlineWhereItWas() throws Exception {
        Ends first = new Ends();
        ReplicaCore a = replica(first);
        List<PagerLogEntry> log = new ArrayList<>();
        log.add(PagerLogEntry.newBuilder().setClockNanos(T0).setGenesis(Genesis.newBuilder().setTokenEpoch(5)
                .setTokenSeed(ByteString.copyFromUtf8("seed"))).build());
        log.addAll(kernel(T0, A, "A"));
        log.addAll(kernel(T0, B, "B"));
        log.add(request(T0 + 1, A, VmProt.VM_PROT_READ_WRITE));
        long asked = T0 + 2;
        log.add(request(asked, B, VmProt.VM_PROT_READ)); // a downgrade to A, which A never answers
        for (PagerLogEntry e : log) {
            apply(a, first, e);
        }
        Ends second = new Ends();
        ReplicaCore b = null;
        long restoredAt = 0;
        long sequence = 0;
        for (long t = asked + LEASE / 4; t <= asked + DEADLINE + 2 * LEASE; t += LEASE / 4) {
            sequence++;
            List<PagerLogEntry> step = new ArrayList<>();
            step.add(PagerLogEntry.newBuilder().setClockNanos(t).setTick(Tick.getDefaultInstance()).build());
            for (long s : new long[] {A, B}) {
                step.add(xp(t, s, KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder()
                        .setSequence(sequence))));
            }
            if (b == null && t >= asked + DEADLINE / 2) {
                // A follower installs the leader's snapshot and takes over: leader_started first.
                b = replica(second);
                b.restore(ReplicaSnapshot.parseFrom(a.snapshot().toByteArray()));
                restoredAt = t;
                apply(b, second, PagerLogEntry.newBuilder().setClockNanos(t)
                        .setLeaderStarted(LeaderStarted.newBuilder().setTerm(2)).build());
            }
            for (PagerLogEntry e : step) {
                apply(a, first, e);
                if (b != null) {
                    apply(b, second, e);
                }
            }
        }
        assertThat(first.endedAt).containsOnlyKeys(A);
        assertThat(first.endedAt.get(A)).isEqualTo(asked + DEADLINE);
        assertThat(restoredAt).isLessThan(asked + DEADLINE);
        assertThat(second.endedAt).as("the new leader ends A where the old one did, not a deadline after "
                + "its takeover").isEqualTo(first.endedAt);
        PagerToKernel answer = second.toB.get(second.toB.size() - 1);
        assertThat(answer.hasMemoryObjectDataUnavailable() || answer.hasMemoryObjectDataSupply())
                .as("B's read answered once A's lease ended: %s", answer).isTrue();
        assertThat(answer).isEqualTo(first.toB.get(first.toB.size() - 1));
    }

    @Test
    void replicasConfiguredWithOtherLeasesAndDeadlinesTakeTheGroupsFromItsGenesis() {
        Ends first = new Ends();
        ReplicaCore a = replica(first);
        Ends second = new Ends();
        // Configured with twice the lease and three times the deadline: on its own it would end A
        // far later than a, and a failover would change when A's grants pass on.
        ReplicaCore b = new ReplicaCore("p", PAGE, Map.of("obj", 4L * PAGE), 2 * LEASE, second, new PagerStats())
                .answerDeadline(3 * DEADLINE);
        List<PagerLogEntry> log = new ArrayList<>();
        log.add(PagerLogEntry.newBuilder().setClockNanos(T0).setGenesis(a.configuredIn(Genesis.newBuilder())
                .setTokenEpoch(5).setTokenSeed(ByteString.copyFromUtf8("seed"))).build());
        log.addAll(kernel(T0, A, "A"));
        log.addAll(kernel(T0, B, "B"));
        log.add(request(T0 + 1, A, VmProt.VM_PROT_READ_WRITE));
        long asked = T0 + 2;
        log.add(request(asked, B, VmProt.VM_PROT_READ)); // a downgrade to A, which A never answers
        long sequence = 0;
        for (long t = asked + LEASE / 4; t <= asked + DEADLINE + 2 * LEASE; t += LEASE / 4) {
            sequence++;
            log.add(PagerLogEntry.newBuilder().setClockNanos(t).setTick(Tick.getDefaultInstance()).build());
            for (long s : new long[] {A, B}) {
                log.add(xp(t, s, KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder()
                        .setSequence(sequence))));
            }
        }
        for (PagerLogEntry e : log) {
            apply(a, first, e);
            apply(b, second, e);
        }
        assertThat(first.endedAt.get(A)).isEqualTo(asked + DEADLINE);
        assertThat(second.endedAt).as("b ends A at the group's deadline, not its own").isEqualTo(first.endedAt);
        assertThat(second.toB).as("and answers B alike (the group's lease)").isEqualTo(first.toB);
    }

    @Test
    void aReplicaConfiguredWithAnotherPageSizeRefusesTheGroupsGenesis() {
        Ends out = new Ends();
        ReplicaCore a = replica(new Ends());
        ReplicaCore b = new ReplicaCore("p", 2 * PAGE, Map.of("obj", 4L * PAGE), LEASE, out, new PagerStats());
        b.apply(PagerLogEntry.newBuilder().setClockNanos(T0).setGenesis(a.configuredIn(Genesis.newBuilder())
                .setTokenEpoch(5).setTokenSeed(ByteString.copyFromUtf8("seed"))).build());
        assertThat(b.genesisFailed()).contains("pages are 4096 bytes").contains("8192");
    }
}
