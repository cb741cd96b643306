package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.machxp.pager.core.PagerStats;
import io.machxp.pager.core.XpProtocolError;
import io.machxp.proto.replica.Genesis;
import io.machxp.proto.replica.KernelMessage;
import io.machxp.proto.replica.PagerLogEntry;
import io.machxp.proto.replica.SessionOpened;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelKeepalive;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.StateMachineLogEntryProto;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.util.LifeCycle;
import org.junit.jupiter.api.Test;

/**
 * The leader's sends to kernels' streams run on Ratis's applying thread, where an exception stops
 * that thread and closes the replica's Raft server for good (Ratis 3.1.3 and 3.3.0 StateMachineUpdater.run).
 * A stream whose call is gone must end quietly, and the leader's core must go on as the followers'.
 */
class ReplicaStreamsTest {
    private static final long LEASE = 1_000_000_000L;
    private static final long T0 = 1_000_000_000_000L;
    private static final long SESSION = 1L << 32 | 1;

    /** A kernel's call as grpc-java 1.83 leaves it once the kernel cancelled it (no cancel handler set). */
    private static final class CancelledCall implements StreamObserver<PagerToKernel> {
        int onNextCalls;

        @Override
        public void onNext(PagerToKernel value) {
            onNextCalls++;
            throw Status.CANCELLED.withDescription("call already cancelled. Use "
                    + "ServerCallStreamObserver.setOnCancelHandler() to disable this exception").asRuntimeException();
        }

        @Override
        public void onError(Throwable t) {
            throw new IllegalStateException("call already closed");
        }

        @Override
        public void onCompleted() {
            throw new IllegalStateException("call already closed");
        }
    }

    /** An outlet that fails everything, as a leader's does for a kernel whose call is gone. */
    private static final class FailingOutlet implements ReplicaCore.Outlet {
        int attempts;

        @Override
        public void send(long sessionId, PagerToKernel message) {
            attempts++;
            throw Status.CANCELLED.asRuntimeException();
        }

        @Override
        public void endSession(long sessionId, Errno errno, String message) {
            attempts++;
            throw new IllegalStateException("call already closed");
        }

        @Override
        public void endSession(long sessionId, XpProtocolError error, String message) {
            attempts++;
            throw new IllegalStateException("call already closed");
        }

        @Override
        public void endSessionFailed(long sessionId, String message) {
            attempts++;
            throw new IllegalStateException("call already closed");
        }
    }

    private static final ReplicaCore.Outlet NOWHERE = new ReplicaCore.Outlet() {
        @Override
        public void send(long sessionId, PagerToKernel message) {
        }

        @Override
        public void endSession(long sessionId, Errno errno, String message) {
        }

        @Override
        public void endSession(long sessionId, XpProtocolError error, String message) {
        }

        @Override
        public void endSessionFailed(long sessionId, String message) {
        }
    };

    @Test
    void aSendToACallTheKernelCancelledEndsTheStreamInsteadOfThrowing() {
        ReplicaStreams streams = new ReplicaStreams();
        CancelledCall call = new CancelledCall();
        ReplicaStreams.KernelStream stream = new ReplicaStreams.KernelStream(call);
        streams.put(SESSION, stream);

        streams.send(SESSION, PagerToKernel.getDefaultInstance()); // threw CANCELLED before
        assertThat(stream.ended()).isTrue();
        streams.send(SESSION, PagerToKernel.getDefaultInstance());
        assertThat(call.onNextCalls).as("an ended stream is not written again").isEqualTo(1);
        streams.endSession(SESSION, Errno.EIO, "ends");
        streams.endAll("no longer leads");

        ReplicaStreams.KernelStream closed = new ReplicaStreams.KernelStream(new CancelledCall());
        streams.put(SESSION + 1, closed);
        streams.endSession(SESSION + 1, XpProtocolError.EPROTO, "a call closed already"); // threw before
        assertThat(closed.ended()).isTrue();
    }

    /**
     * Entries applied through the state machine, as Ratis's applying thread does: the leader's
     * outlet fails every send (its kernel's call is gone), a follower's has no stream. Neither may
     * throw, and both must end in the same state.
     */
    @Test
    void aLeaderWhoseSendsFailAppliesEachEntryAsAFollowerDoes() throws Exception {
        FailingOutlet failing = new FailingOutlet();
        ReplicaCore leaderCore = core(failing);
        ReplicaCore followerCore = core(NOWHERE);
        PagerStateMachine leader = machine(leaderCore);
        PagerStateMachine follower = machine(followerCore);
        List<PagerLogEntry> log = new ArrayList<>();
        log.add(PagerLogEntry.newBuilder().setClockNanos(T0).setGenesis(Genesis.newBuilder().setTokenEpoch(7)
                .setTokenSeed(ByteString.copyFromUtf8("seed"))).build());
        log.add(PagerLogEntry.newBuilder().setClockNanos(T0 + 1)
                .setSessionOpened(SessionOpened.newBuilder().setSessionId(SESSION)).build());
        log.add(xp(T0 + 2, 1, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder()
                .setKernelName("A").setProtocolVersion(1).setResumable(true))));
        log.add(xp(T0 + 3, 2, KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.getDefaultInstance())));
        // a second hello on the session: the core ends the stream (an end the outlet fails too)
        log.add(xp(T0 + 4, 3, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder()
                .setKernelName("A").setProtocolVersion(1).setResumable(true))));
        log.add(PagerLogEntry.newBuilder().setClockNanos(T0 + 10 * LEASE).build()); // leases run out

        long index = 0;
        for (PagerLogEntry e : log) {
            index++;
            apply(leader, e, index); // threw StatusRuntimeException at the welcome before
            apply(follower, e, index);
        }
        assertThat(failing.attempts).as("the leader's core did try to reach the kernel").isGreaterThan(1);
        assertThat(leaderCore.snapshot()).isEqualTo(followerCore.snapshot());
        assertThat(leader.getLastAppliedTermIndex().getIndex()).isEqualTo(index);
    }

    /** grpc-java throws from onNext on a cancelled call unless the service set a cancel handler. */
    @Test
    void connectSetsACancelHandlerSoThatACancelledCallDoesNotThrow() {
        RecordingCall call = new RecordingCall();
        new ReplicaXpService(new NoGroup(), new ReplicaStreams()).connect(call);
        assertThat(call.onCancelHandler).isNotNull();
    }

    private static ReplicaCore core(ReplicaCore.Outlet out) {
        return new ReplicaCore("p", 4096, Map.of("obj", 4L * 4096), LEASE, out, new PagerStats());
    }

    private static PagerStateMachine machine(ReplicaCore core) {
        PagerStateMachine m = new PagerStateMachine(core, leader -> { });
        m.getLifeCycle().startAndTransition(() -> { });
        return m;
    }

    private static PagerLogEntry xp(long clock, long index, KernelToPager.Builder m) {
        return PagerLogEntry.newBuilder().setClockNanos(clock).setKernelMessage(KernelMessage.newBuilder()
                .setSessionId(SESSION).setMessage(m).setIndex(index)).build();
    }

    private static void apply(PagerStateMachine m, PagerLogEntry e, long index) throws Exception {
        LogEntryProto entry = LogEntryProto.newBuilder().setTerm(1).setIndex(index).setStateMachineLogEntry(
                StateMachineLogEntryProto.newBuilder().setLogData(PagerStateMachine.message(e).getContent())).build();
        CompletableFuture<?> f = m.applyTransaction(TransactionContext.newBuilder().setStateMachine(m)
                .setLogEntry(entry).build());
        assertThat(f).isCompleted();
        assertThat(m.getLifeCycleState()).isEqualTo(LifeCycle.State.RUNNING);
    }

    private static final class NoGroup implements ReplicaXpService.Group {
        @Override
        public boolean takesKernels() {
            return false;
        }

        @Override
        public Opened openSession(java.util.function.LongConsumer hold, String peer) {
            return null;
        }

        @Override
        public String[] leader() {
            return null;
        }

        @Override
        public CompletableFuture<Boolean> append(PagerLogEntry.Builder entry) {
            return CompletableFuture.completedFuture(false);
        }

        @Override
        public String id() {
            return "a";
        }
    }

    /** A server call that records what the service set on it. */
    private static final class RecordingCall extends StubServerCall {
        Runnable onCancelHandler;

        @Override
        public void setOnCancelHandler(Runnable onCancelHandler) {
            this.onCancelHandler = onCancelHandler;
        }
    }
}
