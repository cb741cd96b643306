package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.pager.core.PagerStats;
import io.machxp.pager.core.XpProtocolError;
import io.machxp.proto.replica.Genesis;
import io.machxp.proto.replica.KernelMessage;
import io.machxp.proto.replica.PagerLogEntry;
import io.machxp.proto.replica.SessionOpened;
import io.machxp.proto.replica.Tick;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The replica core is a function of the log: two replicas fed the same entries say the same things. */
class ReplicaCoreTest {
    private static final int PAGE = 4096;
    private static final long LEASE = 1_000_000_000L;
    private static final long T0 = 1_000_000_000_000L;

    /** What a replica's core sent and ended, in order. */
    private static final class Recorded implements ReplicaCore.Outlet {
        final List<String> said = new ArrayList<>();
        final List<PagerToKernel> sent = new ArrayList<>();

        @Override
        public void send(long sessionId, PagerToKernel message) {
            said.add(sessionId + " " + message);
            sent.add(message);
        }

        @Override
        public void endSession(long sessionId, Errno errno, String message) {
            said.add(sessionId + " ended " + errno + " " + message);
        }

        @Override
        public void endSession(long sessionId, XpProtocolError error, String message) {
            said.add(sessionId + " ended " + error + " " + message);
        }

        @Override
        public void endSessionFailed(long sessionId, String message) {
            said.add(sessionId + " ended INTERNAL " + message);
        }
    }

    private static ReplicaCore replica(Recorded out) {
        return new ReplicaCore("p", PAGE, Map.of("obj", 4L * PAGE), LEASE, out, new PagerStats());
    }

    private static PagerLogEntry genesis(long clock, long epoch) {
        return PagerLogEntry.newBuilder().setClockNanos(clock).setGenesis(Genesis.newBuilder().setTokenEpoch(epoch)
                .setTokenSeed(ByteString.copyFromUtf8("a secret seed of the group"))).build();
    }

    private static PagerLogEntry opened(long clock, long session) {
        return PagerLogEntry.newBuilder().setClockNanos(clock)
                .setSessionOpened(SessionOpened.newBuilder().setSessionId(session)).build();
    }

    private static PagerLogEntry xp(long clock, long session, KernelToPager.Builder m) {
        return PagerLogEntry.newBuilder().setClockNanos(clock)
                .setKernelMessage(KernelMessage.newBuilder().setSessionId(session).setMessage(m)).build();
    }

    private static KernelToPager.Builder hello(String name) {
        return KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(1).setResumable(true));
    }

    private static KernelToPager.Builder init() {
        return KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder().setObjectId(7)
                .setName("obj").setPageSize(PAGE));
    }

    private static KernelToPager.Builder lock(long offset) {
        return KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder().setObjectId(7)
                .setOffset(offset));
    }

    /** Two kernels, a futex one holds and the other waits for, then a tick past both leases. */
    private static List<PagerLogEntry> log() {
        return List.of(genesis(T0, 5), opened(T0 + 1, 1L << 32 | 1), xp(T0 + 2, 1L << 32 | 1, hello("A")),
                xp(T0 + 3, 1L << 32 | 1, init()), opened(T0 + 4, 1L << 32 | 2), xp(T0 + 5, 1L << 32 | 2, hello("B")),
                xp(T0 + 6, 1L << 32 | 2, init()), xp(T0 + 7, 1L << 32 | 1, lock(0)), xp(T0 + 8, 1L << 32 | 2, lock(0)),
                genesis(T0 + 9, 6), // a second leader's: ignored
                PagerLogEntry.newBuilder().setClockNanos(T0 + 3 * LEASE).setTick(Tick.getDefaultInstance()).build());
    }

    @Test
    void twoReplicasFedTheSameLogSayTheSameThings() {
        Recorded first = new Recorded();
        Recorded second = new Recorded();
        ReplicaCore a = replica(first);
        ReplicaCore b = replica(second);
        for (PagerLogEntry e : log()) {
            a.apply(e);
            b.apply(e);
        }
        assertThat(first.said).isNotEmpty().isEqualTo(second.said);
        assertThat(first.sent).anyMatch(PagerToKernel::hasMemoryObjectFutexGranted);
        assertThat(first.sent).filteredOn(PagerToKernel::hasPagerWelcome)
                .allMatch(m -> m.getPagerWelcome().getSessionToken() != 0);
        assertThat(first.said).as("both leases ran out at the tick past them").anyMatch(s -> s.contains("ended"));
        assertThat(a.clock()).isEqualTo(b.clock()).isEqualTo(T0 + 3 * LEASE);
    }

    /** The leader's batch entries (AppendBatches) apply as their entries one by one, on every replica alike. */
    @Test
    void aReplicaFedTheLogInBatchesSaysWhatOneFedEntryByEntrySays() throws Exception {
        Recorded single = new Recorded();
        Recorded batched = new Recorded();
        ReplicaCore a = replica(single);
        ReplicaCore b = replica(batched);
        List<PagerLogEntry> log = log();
        for (PagerLogEntry e : log) {
            a.apply(e);
        }
        for (int from = 0; from < log.size(); from += 3) { // batches of 3, the last shorter
            List<org.apache.ratis.protocol.Message> part = new java.util.ArrayList<>();
            for (PagerLogEntry e : log.subList(from, Math.min(log.size(), from + 3))) {
                part.add(PagerStateMachine.message(e));
            }
            b.apply(PagerLogEntry.parseFrom(PagerStateMachine.batch(part).getContent().toByteArray()));
        }
        assertThat(batched.said).isNotEmpty().isEqualTo(single.said);
        assertThat(batched.sent).isEqualTo(single.sent);
        assertThat(b.clock()).isEqualTo(a.clock()).isEqualTo(T0 + 3 * LEASE);
    }

    @Test
    void theFirstGenesisFixesTheTokenEpochAndTheClockNeverGoesBack() {
        Recorded out = new Recorded();
        ReplicaCore r = replica(out);
        r.apply(xp(T0, 9, hello("early"))); // before the genesis: no core yet, nothing happens
        assertThat(r.ready()).isFalse();
        assertThat(out.said).isEmpty();
        for (PagerLogEntry e : log().subList(0, 9)) {
            r.apply(e);
        }
        r.apply(genesis(T0 - 5, 6)); // an older clock reading, a later genesis
        assertThat(r.clock()).isEqualTo(T0 + 8);
        long token = out.sent.stream().filter(PagerToKernel::hasMemoryObjectFutexGranted).findFirst().orElseThrow()
                .getMemoryObjectFutexGranted().getFencingToken();
        assertThat(token >>> 32).as("the token's epoch is the first genesis's").isEqualTo(5);
    }

    private static PagerLogEntry numbered(long clock, long session, KernelToPager.Builder m, long index) {
        return PagerLogEntry.newBuilder().setClockNanos(clock).setKernelMessage(KernelMessage.newBuilder()
                .setSessionId(session).setMessage(m).setIndex(index)).build();
    }

    /**
     * The hole seed 8 of {@code machxp chaos --replicas 3} found: a message whose append failed
     * (the leader was deposed) followed in the log by a later one of the same stream (appended once
     * the same replica led again). Applied, the later one would count as received in the place of
     * the missing one, and a resume, trusting the count, would never send the missing one again.
     * It is dropped with the rest of its stream, on every replica alike.
     */
    @Test
    void aKernelMessageAfterAHoleInItsStreamIsNotApplied() {
        long s = 1L << 32 | 1;
        Recorded out = new Recorded();
        ReplicaCore r = replica(out);
        r.apply(genesis(T0, 5));
        r.apply(opened(T0 + 1, s));
        r.apply(numbered(T0 + 2, s, hello("A"), 1));
        r.apply(numbered(T0 + 3, s, init(), 3)); // message 2 was never taken
        r.apply(numbered(T0 + 4, s, lock(0), 4));
        assertThat(out.sent).filteredOn(PagerToKernel::hasPagerWelcome).hasSize(1);
        assertThat(out.sent).as("neither the object's init nor the lock after the hole was taken")
                .noneMatch(PagerToKernel::hasMemoryObjectReady).noneMatch(PagerToKernel::hasMemoryObjectFutexGranted);

        Recorded whole = new Recorded();
        ReplicaCore unbroken = replica(whole);
        for (PagerLogEntry e : List.of(genesis(T0, 5), opened(T0 + 1, s), numbered(T0 + 2, s, hello("A"), 1),
                numbered(T0 + 3, s, init(), 2), numbered(T0 + 4, s, lock(0), 3))) {
            unbroken.apply(e);
        }
        assertThat(whole.sent).anyMatch(PagerToKernel::hasMemoryObjectFutexGranted);
    }

    /**
     * A replica restored from a snapshot taken mid-stream takes the stream's next message: where
     * each stream is in its numbering is part of the snapshot (without it, the restored replica
     * took message 3 of a stream for a hole after message 0 and dropped the rest of the stream,
     * and a kernel resuming there was told the pager had sent fewer messages than it received).
     */
    @Test
    void aReplicaRestoredMidStreamTakesTheStreamsNextMessage() {
        long s = 1L << 32 | 1;
        ReplicaCore original = replica(new Recorded());
        for (PagerLogEntry e : List.of(genesis(T0, 5), opened(T0 + 1, s), numbered(T0 + 2, s, hello("A"), 1),
                numbered(T0 + 3, s, init(), 2))) {
            original.apply(e);
        }
        Recorded out = new Recorded();
        ReplicaCore restored = replica(out);
        restored.restore(original.snapshot());
        restored.apply(numbered(T0 + 4, s, lock(0), 3));
        assertThat(out.sent).as("the lock after the snapshot was taken").anyMatch(PagerToKernel::hasMemoryObjectFutexGranted);
    }

    private static PagerLogEntry leaderStarted(long clock, long term) {
        return PagerLogEntry.newBuilder().setClockNanos(clock)
                .setLeaderStarted(io.machxp.proto.replica.LeaderStarted.newBuilder().setTerm(term)).build();
    }

    private static PagerLogEntry tick(long clock) {
        return PagerLogEntry.newBuilder().setClockNanos(clock).setTick(Tick.getDefaultInstance()).build();
    }

    /**
     * A failover longer than the lease: the last entries of the old leader were applied at about
     * T0, the new leader took over at T0 + 1.5 L. Without leader_started the new term's first tick
     * declares both kernels dead (their futex passes on with owner_died); with it, every session's
     * lease runs a full lease from the takeover: a tick just before its end declares nobody dead,
     * and a kernel that stays silent is declared dead only after it.
     */
    @Test
    void aLeaderStartedEntryGivesEveryLiveSessionAFullLeaseFromTheTakeover() {
        List<PagerLogEntry> before = log().subList(0, 9);
        long takeover = T0 + 3 * LEASE / 2;

        Recorded without = new Recorded();
        ReplicaCore old = replica(without);
        before.forEach(old::apply);
        old.apply(tick(takeover + 1));
        assertThat(without.said).as("without the takeover entry the new term's first tick ends both sessions")
                .anyMatch(s -> s.contains("ended"));

        Recorded with = new Recorded();
        ReplicaCore r = replica(with);
        before.forEach(r::apply);
        r.apply(leaderStarted(takeover, 2));
        assertThat(r.leaderStartedTerm()).isEqualTo(2);
        r.apply(leaderStarted(takeover, 1)); // an older term's (at the same clock): the term kept stays 2
        assertThat(r.leaderStartedTerm()).isEqualTo(2);
        r.apply(tick(takeover + LEASE - 1));
        assertThat(with.said).as("every live session's lease runs a full lease from the takeover")
                .noneMatch(s -> s.contains("ended"));
        r.apply(tick(takeover + LEASE + 1));
        assertThat(with.said).as("silent past the lease from the last takeover: declared dead as always")
                .anyMatch(s -> s.contains("ended"));
    }

    /**
     * Leader changes more often than every lease: each new term's leader_started would move a
     * silent kernel's last-heard time forward again, and it would never be declared dead. A
     * session is extended once between two messages heard from it: after the first takeover's
     * lease it is declared dead whatever the later terms - also on a replica restored from a
     * snapshot taken between two takeovers.
     */
    @Test
    void aSilentKernelIsExtendedOnceNotByEveryLaterTakeover() {
        for (boolean restored : new boolean[] {false, true}) {
            Recorded out = new Recorded();
            ReplicaCore r = replica(out);
            log().subList(0, 9).forEach(r::apply);
            long first = T0 + LEASE / 2;
            r.apply(leaderStarted(first, 2));
            if (restored) {
                ReplicaCore copy = replica(out);
                copy.restore(r.snapshot());
                r = copy;
            }
            for (int term = 3; term <= 5; term++) {
                r.apply(leaderStarted(first + (term - 2) * LEASE / 3, term)); // a new leader every L/3
            }
            r.apply(tick(first + LEASE + 1));
            assertThat(out.said).as("extended once, by the first takeover after it was last heard (restored: %s)",
                    restored).anyMatch(s -> s.contains("ended"));
        }
    }
}
