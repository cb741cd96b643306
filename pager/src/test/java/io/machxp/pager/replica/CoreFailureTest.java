package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.machxp.pager.core.PagerStats;
import io.machxp.pager.core.XpProtocolError;
import io.machxp.pager.policy.GrantPolicy;
import io.machxp.pager.policy.PoisonedGrantPolicy;
import io.machxp.proto.replica.Genesis;
import io.machxp.proto.replica.KernelMessage;
import io.machxp.proto.replica.PagerLogEntry;
import io.machxp.proto.replica.SessionOpened;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.StateMachineLogEntryProto;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.junit.jupiter.api.Test;

/**
 * A kernel message the pager core throws on: every replica applies it, so an exception let into
 * Ratis would close every replica in turn. It ends that kernel's session instead, on every replica
 * alike, and the group goes on serving the other kernels.
 */
class CoreFailureTest {
    private static final int PAGE = 4096;
    private static final long LEASE = 1_000_000_000L;
    private static final long T0 = 1_000_000_000_000L;
    private static final int POISON = 66;
    private static final long A = 1L << 32 | 1;
    private static final long B = 1L << 32 | 2;
    private static final long C = 1L << 32 | 3;

    /** A pluggable grant policy with a bug: it throws when asked about a waiter of priority {@link #POISON}. */
    private static final GrantPolicy FAILING = new PoisonedGrantPolicy(POISON);

    /** What a replica's core sent and ended, by session and in order. */
    private static final class Recorded implements ReplicaCore.Outlet {
        final List<String> said = new ArrayList<>();
        final Map<Long, List<PagerToKernel>> sent = new HashMap<>();
        final Map<Long, List<String>> ended = new HashMap<>();

        @Override
        public void send(long sessionId, PagerToKernel message) {
            said.add(sessionId + " " + message);
            sent.computeIfAbsent(sessionId, k -> new ArrayList<>()).add(message);
        }

        @Override
        public void endSession(long sessionId, Errno errno, String message) {
            end(sessionId, errno + " " + message);
        }

        @Override
        public void endSession(long sessionId, XpProtocolError error, String message) {
            end(sessionId, error + " " + message);
        }

        @Override
        public void endSessionFailed(long sessionId, String message) {
            end(sessionId, "INTERNAL " + message);
        }

        private void end(long sessionId, String how) {
            said.add(sessionId + " ended " + how);
            ended.computeIfAbsent(sessionId, k -> new ArrayList<>()).add(how);
        }

        List<PagerToKernel> sentTo(long sessionId) {
            return sent.getOrDefault(sessionId, List.of());
        }
    }

    /** One replica: its core behind the Ratis state machine, fed entries as Ratis's applying thread does. */
    private static final class Replica {
        final Recorded out = new Recorded();
        final ReplicaCore core = new ReplicaCore("p", "r", PAGE, Map.of("obj", 4L * PAGE), LEASE, out,
                new PagerStats(), FAILING);
        final PagerStateMachine machine = new PagerStateMachine(core, leader -> { }, new SimpleStateMachineStorage(),
                Object::new);
        long index;

        void apply(PagerLogEntry e) {
            LogEntryProto entry = LogEntryProto.newBuilder().setTerm(1).setIndex(++index).setStateMachineLogEntry(
                    StateMachineLogEntryProto.newBuilder().setLogData(PagerStateMachine.message(e).getContent()))
                    .build();
            assertThatCode(() -> machine.applyTransaction(TransactionContext.newBuilder().setStateMachine(machine)
                    .setLogEntry(entry).build())).as("applying entry %d (%s)", index, e.getInputCase())
                    .doesNotThrowAnyException();
        }
    }

    /** Feeds both replicas the same entries; the kernels' messages numbered on their streams. */
    private static final class Log {
        final Replica[] replicas = {new Replica(), new Replica()};
        final Map<Long, Long> numbered = new HashMap<>();
        long clock = T0;

        void append(PagerLogEntry.Builder e) {
            PagerLogEntry entry = e.setClockNanos(++clock).build();
            for (Replica r : replicas) {
                r.apply(entry);
            }
        }

        void open(long session, String kernel) {
            append(PagerLogEntry.newBuilder().setSessionOpened(SessionOpened.newBuilder().setSessionId(session)));
            xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(kernel)
                    .setProtocolVersion(1).setResumable(true)));
            xp(session, KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder().setObjectId(7)
                    .setName("obj").setPageSize(PAGE)));
        }

        void xp(long session, KernelToPager.Builder m) {
            long index = numbered.merge(session, 1L, Long::sum);
            append(PagerLogEntry.newBuilder().setKernelMessage(KernelMessage.newBuilder().setSessionId(session)
                    .setMessage(m).setIndex(index)));
        }

        void lock(long session, long offset, int priority) {
            xp(session, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                    .setObjectId(7).setOffset(offset).setPriority(priority)));
        }

        void release(long session, long offset) {
            PagerToKernel grant = lastGrant(session, offset);
            xp(session, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                    .setObjectId(7).setOffset(offset).setFencingToken(grant.getMemoryObjectFutexGranted().getFencingToken())));
        }

        PagerToKernel lastGrant(long session, long offset) {
            List<PagerToKernel> grants = grants(session, offset);
            assertThat(grants).as("grants of futex %d to session %x", offset, session).isNotEmpty();
            return grants.get(grants.size() - 1);
        }

        List<PagerToKernel> grants(long session, long offset) {
            return replicas[0].out.sentTo(session).stream().filter(PagerToKernel::hasMemoryObjectFutexGranted)
                    .filter(m -> m.getMemoryObjectFutexGranted().getOffset() == offset).toList();
        }
    }

    @Test
    void aMessageTheCoreFailsOnEndsItsSessionOnEveryReplicaAndTheOthersGoOn() {
        Log log = new Log();
        log.append(PagerLogEntry.newBuilder().setGenesis(Genesis.newBuilder().setTokenEpoch(5)
                .setTokenSeed(ByteString.copyFromUtf8("a secret seed of the group"))));
        log.open(A, "A");
        log.open(B, "B");
        log.open(C, "C");
        log.lock(A, 0, 0);
        assertThat(log.grants(A, 0)).hasSize(1);

        log.lock(B, 0, POISON); // the core throws, in the grant policy, on every replica
        log.lock(B, 8, 0); // the next of B's stream: not taken any more
        log.lock(C, 0, 0);
        log.release(A, 0);
        assertThat(log.grants(C, 0)).as("C is granted the futex A gave back").hasSize(1);
        log.release(C, 0);
        log.lock(A, 0, 0);
        assertThat(log.grants(A, 0)).as("and A again once C gave it back").hasSize(2);

        for (Replica r : log.replicas) {
            assertThat(r.out.ended.get(B)).as("B's stream ended once, INTERNAL").singleElement().asString()
                    .startsWith("INTERNAL pager p failed on memory_object_lock_futex");
            assertThat(r.out.sentTo(B)).as("nothing granted to B").noneMatch(PagerToKernel::hasMemoryObjectFutexGranted);
            assertThat(r.out.ended).as("no other session ended").containsOnlyKeys(B);
            assertThat(r.core.core().kernels()).as("B's session is closed in the core").containsExactlyInAnyOrder("A", "C");
            assertThat(r.core.core().holderOf("obj", 0)).isEqualTo("A");
        }
        Replica first = log.replicas[0];
        Replica second = log.replicas[1];
        assertThat(first.out.said).isEqualTo(second.out.said);
        assertThat(first.core.snapshot()).as("the replicas stay equal").isEqualTo(second.core.snapshot());
        assertThat(first.core.snapshot().getStreamNextMap()).as("B's session is gone from the core, which drops what "
                + "still comes on its stream: no record of the stream is kept").doesNotContainKey(B);
    }

    /**
     * On the leader the session's stream ends INTERNAL with errno EIO in its ErrorInfo (xp-spec 3.1,
     * 3.3): the pager's word, so the kernel ends its use of the pager at once.
     */
    @Test
    void theLeaderEndsTheKernelsStreamInternalWithErrnoEio() {
        ReplicaStreams streams = new ReplicaStreams();
        List<Throwable> errors = new ArrayList<>();
        streams.put(B, new ReplicaStreams.KernelStream(new io.grpc.stub.StreamObserver<>() {
            @Override
            public void onNext(PagerToKernel value) {
            }

            @Override
            public void onError(Throwable t) {
                errors.add(t);
            }

            @Override
            public void onCompleted() {
            }
        }));
        streams.endSessionFailed(B, "pager p failed on memory_object_lock_futex of this session");
        assertThat(errors).singleElement().satisfies(t -> {
            assertThat(io.grpc.Status.fromThrowable(t).getCode()).isEqualTo(io.grpc.Status.Code.INTERNAL);
            assertThat(io.grpc.Status.fromThrowable(t).getDescription()).contains("failed on memory_object_lock_futex");
            com.google.rpc.Status details = io.grpc.protobuf.StatusProto.fromThrowable(t);
            assertThat(details).isNotNull();
            assertThat(details.getDetailsList()).singleElement().satisfies(any -> {
                com.google.rpc.ErrorInfo info = any.unpack(com.google.rpc.ErrorInfo.class);
                assertThat(info.getDomain()).isEqualTo("machxp");
                assertThat(info.getReason()).isEqualTo("EIO");
            });
        });
        assertThat(streams.count()).isZero();
    }

    /** A genesis that builds no core (a page size the core refuses): no throw, no core, and no genesis appended again. */
    @Test
    void aGenesisTheCoreFailsOnIsNotAppendedAgain() {
        Recorded out = new Recorded();
        ReplicaCore replica = new ReplicaCore("p", "r", 1000, Map.of("obj", 4000L), LEASE, out, new PagerStats());
        PagerStateMachine machine = new PagerStateMachine(replica, leader -> { }, new SimpleStateMachineStorage(),
                Object::new);
        LeaderTicker ticker = new LeaderTicker(replica);
        List<PagerLogEntry.Builder> appended = new ArrayList<>();
        ticker.check(T0, 1, () -> Genesis.newBuilder().setTokenEpoch(5), e -> {
            appended.add(e);
            return CompletableFuture.completedFuture(true);
        });
        assertThat(appended).as("a genesis is due before one is applied").singleElement()
                .matches(PagerLogEntry.Builder::hasGenesis);

        PagerLogEntry genesis = appended.get(0).setClockNanos(T0).build();
        LogEntryProto entry = LogEntryProto.newBuilder().setTerm(1).setIndex(1).setStateMachineLogEntry(
                StateMachineLogEntryProto.newBuilder().setLogData(PagerStateMachine.message(genesis).getContent())).build();
        // Thrown onto Ratis's applying thread, which closes this replica's Raft server: it no longer votes.
        assertThatThrownBy(() -> machine.applyTransaction(TransactionContext.newBuilder().setStateMachine(machine)
                .setLogEntry(entry).build())).hasMessageContaining("builds no pager core here")
                .hasMessageContaining("page size 1000").hasMessageContaining("restart it with the group's configuration");
        assertThat(replica.ready()).isFalse();
        assertThat(replica.genesisFailed()).contains("page size 1000");
        assertThat(machine.getLastAppliedTermIndex()).as("not applied: a restart with the group's configuration "
                + "applies it").matches(t -> t == null || t.getIndex() < 1);

        ticker.check(T0 + LEASE, 1, () -> Genesis.newBuilder().setTokenEpoch(5), e -> {
            appended.add(e);
            return CompletableFuture.completedFuture(true);
        });
        assertThat(appended).as("no genesis appended again: the log has one").hasSize(1);
        assertThatThrownBy(replica::snapshot).as("no snapshot without a core").hasMessageContaining("no snapshot");
    }
}
