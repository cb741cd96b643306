package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.stub.StreamObserver;
import io.machxp.proto.replica.PagerLogEntry;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * A replica ends a cleanly ended stream only once its session_closed, and with it every message
 * the stream carried before, is committed and applied (xp-spec 2.6): a kernel that drops its
 * copies at that end drops none the group's log does not have. The group here commits an entry
 * when the test says.
 */
class ReplicaCleanEndTest {
    @Test
    void theEndWaitsForTheSessionClosedToBeCommitted() {
        Appends group = new Appends();
        EndCall call = new EndCall();
        StreamObserver<KernelToPager> in = new ReplicaXpService(group, new ReplicaStreams()).connect(call);
        in.onNext(KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("A")
                .setProtocolVersion(1)).build());
        in.onNext(KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                .setObjectId(1).setDirty(true)).build());
        in.onCompleted();

        assertThat(group.entries).extracting(PagerLogEntry.Builder::getInputCase).last()
                .isEqualTo(PagerLogEntry.InputCase.SESSION_CLOSED);
        assertThat(call.ends).as("not before the session's end is committed").isEmpty();
        for (CompletableFuture<Boolean> commit : group.commits) {
            commit.complete(true);
        }
        assertThat(call.ends).containsExactly("completed");
    }

    /** A replica that no longer leads cannot commit the end: the stream ends UNAVAILABLE, not OK. */
    @Test
    void anEndNotCommittedEndsTheStreamUnavailable() {
        Appends group = new Appends();
        EndCall call = new EndCall();
        StreamObserver<KernelToPager> in = new ReplicaXpService(group, new ReplicaStreams()).connect(call);
        in.onNext(KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("A")
                .setProtocolVersion(1)).build());
        in.onCompleted();
        for (CompletableFuture<Boolean> commit : group.commits) {
            commit.complete(false);
        }
        assertThat(call.ends).singleElement().asString().startsWith("error: UNAVAILABLE");
    }

    /**
     * An end whose commit does not come within the bound: the stream ends anyway, but UNAVAILABLE,
     * saying what may not be committed, so a kernel relying on the pager's end does not take it for
     * the group's word. Before, it ended OK.
     */
    @Test
    void anEndNotCommittedInTimeEndsTheStreamUnavailable() {
        Appends group = new Appends();
        EndCall call = new EndCall();
        StreamObserver<KernelToPager> in = new ReplicaXpService(group, new ReplicaStreams()).connect(call);
        in.onNext(KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("A")
                .setProtocolVersion(1)).build());
        in.onCompleted();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> !call.ends.isEmpty());
        assertThat(call.ends).singleElement().asString().startsWith("error: UNAVAILABLE")
                .contains("may not be in its group's log yet");
    }

    /** A leader whose appends complete when the test completes them. */
    private static final class Appends implements ReplicaXpService.Group {
        final List<PagerLogEntry.Builder> entries = new ArrayList<>();
        final List<CompletableFuture<Boolean>> commits = new ArrayList<>();

        @Override
        public boolean takesKernels() {
            return true;
        }

        @Override
        public Opened openSession(java.util.function.LongConsumer hold, String peer) {
            hold.accept(1);
            return new Opened(1, append(PagerLogEntry.newBuilder().setSessionOpened(
                    io.machxp.proto.replica.SessionOpened.newBuilder().setSessionId(1))));
        }

        @Override
        public String[] leader() {
            return null;
        }

        @Override
        public CompletableFuture<Boolean> append(PagerLogEntry.Builder entry) {
            entries.add(entry);
            CompletableFuture<Boolean> commit = new CompletableFuture<>();
            commits.add(commit);
            return commit;
        }

        @Override
        public String id() {
            return "a";
        }
    }

    /** A kernel's call that records how its stream ended. */
    private static final class EndCall extends StubServerCall {
        final List<String> ends = new java.util.concurrent.CopyOnWriteArrayList<>(); // the bound's timer adds too

        @Override
        public void onNext(PagerToKernel value) {
        }

        @Override
        public void onError(Throwable t) {
            io.grpc.Status s = io.grpc.Status.fromThrowable(t);
            ends.add("error: " + s.getCode() + ": " + s.getDescription());
        }

        @Override
        public void onCompleted() {
            ends.add("completed");
        }
    }
}
