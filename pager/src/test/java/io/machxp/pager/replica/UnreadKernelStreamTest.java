package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.protobuf.StatusProto;
import io.machxp.proto.xp.MemoryObjectDataSupply;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import io.machxp.pager.net.ProbeKernel;
import io.machxp.pager.net.UnreadLimits;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectPagerGrpc;
import io.machxp.proto.xp.VmProt;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A kernel that asks and never reads its stream: at the unreplicated pager its session ends with
 * EAGAIN after 10 s of not reading or 256 MiB waiting (docs/limits.md). The leader of a replicated
 * pager sent to such a stream without counting, so gRPC buffered for it without bound, until the
 * leader ran out of heap (and the next leader, once the kernel resumed there). Now the leader's
 * streams count alike; an ended stream's session is closed through the log.
 */
class UnreadKernelStreamTest {
    private static final long SESSION = 1L << 32 | 7;

    /** A kernel's call that takes no more (gRPC's window is full) until told otherwise. */
    private static final class Call extends StubServerCall {
        volatile boolean ready;
        final List<PagerToKernel> sent = new ArrayList<>();
        Throwable ended;

        @Override
        public boolean isReady() {
            return ready;
        }

        @Override
        public void onNext(PagerToKernel m) {
            sent.add(m);
        }

        @Override
        public void onError(Throwable t) {
            ended = t;
        }
    }

    private static PagerToKernel page(long offset) {
        return PagerToKernel.newBuilder().setMemoryObjectDataSupply(MemoryObjectDataSupply.newBuilder().setObjectId(1)
                .setOffset(offset).setData(ByteString.copyFrom(new byte[4096]))).build();
    }

    private static String errno(Throwable t) throws Exception {
        var s = StatusProto.fromThrowable(t);
        return io.grpc.Status.fromThrowable(t).getCode() + " "
                + s.getDetails(0).unpack(com.google.rpc.ErrorInfo.class).getReason();
    }

    /** Review late2 A-3: advice (a relinquish hint) past the bound is dropped; the stream goes on. */
    @Test
    void adviceThatWouldPassTheBoundIsDroppedAndTheStreamGoesOn() throws Exception {
        AtomicLong now = new AtomicLong();
        ReplicaStreams streams = new ReplicaStreams(3L * page(8192).getSerializedSize(), 10_000_000_000L, now::get);
        List<Long> closed = new ArrayList<>();
        streams.onUnreadEnded((id, end) -> {
            closed.add(id);
            end.run();
        });
        Call call = new Call();
        ReplicaStreams.KernelStream stream = new ReplicaStreams.KernelStream(call);
        streams.put(SESSION, stream);
        for (int i = 0; i < 3; i++) {
            streams.send(SESSION, page(i * 4096L));
        }
        PagerToKernel hint = PagerToKernel.newBuilder().setMemoryObjectRelinquishFutexHint(
                io.machxp.proto.xp.MemoryObjectRelinquishFutexHint.newBuilder().setObjectId(1).setOffset(0)
                        .setFencingToken(9)).build();
        assertThat(streams.advise(SESSION, hint)).as("does not fit: dropped").isFalse();
        assertThat(call.ended).as("the stream goes on").isNull();
        assertThat(closed).isEmpty();
        assertThat(streams.count()).isOne();
        call.ready = true;
        stream.readAgain(); // gRPC's on-ready: the kernel read
        assertThat(call.sent).as("the pages, read once the kernel reads").hasSize(3);
        assertThat(streams.advise(SESSION, hint)).as("fits now: sent").isTrue();
        assertThat(call.sent).hasSize(4);
    }

    @Test
    void aKernelThatLeavesMoreThanTheBoundUnreadIsEndedWithEagainAndItsSessionClosed() throws Exception {
        AtomicLong now = new AtomicLong();
        ReplicaStreams streams = new ReplicaStreams(1 << 20, 10_000_000_000L, now::get);
        List<Long> closed = new ArrayList<>();
        streams.onUnreadEnded((id, end) -> {
            closed.add(id);
            end.run();
        });
        Call call = new Call();
        streams.put(SESSION, new ReplicaStreams.KernelStream(call));
        for (int i = 0; i < 1_000; i++) {
            streams.send(SESSION, page(i * 4096L));
        }
        assertThat(call.ended).as("ended past 1 MiB unread").isNotNull();
        assertThat(errno(call.ended)).isEqualTo("RESOURCE_EXHAUSTED EAGAIN");
        assertThat(call.ended.getMessage()).contains("does not read its stream");
        assertThat(call.sent.size() * 4096L).as("what was queued for it").isLessThanOrEqualTo(1 << 20);
        assertThat(closed).as("the leader closes its session through the log, once").containsExactly(SESSION);
        assertThat(streams.count()).isZero();
    }

    /**
     * The kernel is told its stream ended only once its session's close is in the log's order: a
     * kernel that connects again as soon as it is told had its hello applied before the close, at
     * load, and was told its name was held by a live session (EEXIST) instead of a broken one (EAGAIN).
     */
    @Test
    void theStreamEndsOnlyOnceItsSessionsCloseIsAppended() throws Exception {
        ReplicaStreams streams = new ReplicaStreams(1 << 20, 10_000_000_000L, new AtomicLong()::get);
        List<Runnable> ends = new ArrayList<>();
        streams.onUnreadEnded((id, end) -> ends.add(end)); // the close's append has not run yet
        Call call = new Call();
        streams.put(SESSION, new ReplicaStreams.KernelStream(call));
        for (int i = 0; i < 1_000; i++) {
            streams.send(SESSION, page(i * 4096L));
        }
        assertThat(ends).as("told once").hasSize(1);
        assertThat(streams.count()).as("nothing more is sent to it").isZero();
        assertThat(call.ended).as("not told before its session's close is appended").isNull();
        ends.get(0).run(); // appended
        assertThat(errno(call.ended)).isEqualTo("RESOURCE_EXHAUSTED EAGAIN");
    }

    @Test
    void aKernelThatReadsNothingForThePatienceIsEndedAndOneThatReadsIsNot() throws Exception {
        AtomicLong now = new AtomicLong(5_000);
        long patience = 10_000_000_000L;
        ReplicaStreams streams = new ReplicaStreams(256L << 20, patience, now::get);
        List<Long> closed = new ArrayList<>();
        streams.onUnreadEnded((id, end) -> {
            closed.add(id);
            end.run();
        });
        Call reader = new Call();
        Call idle = new Call();
        ReplicaStreams.KernelStream readerStream = new ReplicaStreams.KernelStream(reader);
        streams.put(SESSION, new ReplicaStreams.KernelStream(idle));
        streams.put(SESSION + 1, readerStream);
        streams.send(SESSION, page(0));
        streams.send(SESSION + 1, page(0));
        now.addAndGet(patience / 2);
        readerStream.readAgain(); // gRPC's on-ready: the kernel read
        now.addAndGet(patience / 2);
        streams.checkUnread();
        assertThat(idle.ended).as("not yet: exactly the patience").isNull();
        now.incrementAndGet();
        streams.checkUnread();
        assertThat(errno(idle.ended)).isEqualTo("RESOURCE_EXHAUSTED EAGAIN");
        assertThat(reader.ended).as("the kernel that read goes on").isNull();
        assertThat(closed).containsExactly(SESSION);
        reader.ready = true;
        streams.send(SESSION + 1, page(4096));
        now.addAndGet(2 * patience);
        streams.checkUnread();
        assertThat(reader.ended).as("what a ready call takes is not unread").isNull();
    }

    /**
     * What the kernel's call does not take waits at the leader, not in gRPC's buffers: when its
     * stream ends, all but the first 64 KiB of it is dropped, and the status goes at once (gRPC
     * would have kept every message it was given, the status behind them, until the kernel read);
     * while the stream lives, what waited goes in order as soon as the call takes more.
     */
    @Test
    void whatWaitsWhenAStreamEndsIsDroppedAndWhileItLivesGoesInOrder() throws Exception {
        ReplicaStreams streams = new ReplicaStreams(256L << 20, UnreadLimits.DEFAULT.patienceNanos(), System::nanoTime);
        Call idle = new Call();
        Call slow = new Call();
        ReplicaStreams.KernelStream slowStream = new ReplicaStreams.KernelStream(slow);
        streams.put(SESSION, new ReplicaStreams.KernelStream(idle));
        streams.put(SESSION + 1, slowStream);
        for (int i = 0; i < 100; i++) {
            streams.send(SESSION, page(i * 4096L));
            streams.send(SESSION + 1, page(i * 4096L));
        }
        streams.endSession(SESSION, io.machxp.proto.task.Errno.EIO, "the session ends");
        assertThat(idle.sent.stream().mapToLong(PagerToKernel::getSerializedSize).sum())
                .as("handed to gRPC for a call that took nothing (of 400 KiB waiting): the end's last 64 KiB")
                .isLessThanOrEqualTo(64 << 10);
        assertThat(idle.sent).extracting(m -> m.getMemoryObjectDataSupply().getOffset())
                .containsExactly(java.util.stream.LongStream.range(0, idle.sent.size()).map(i -> i * 4096L).boxed()
                        .toArray(Long[]::new));
        assertThat(idle.ended).as("the status goes at once").isNotNull();

        assertThat(slow.sent).isEmpty();
        slow.ready = true;
        slowStream.readAgain(); // gRPC's on-ready
        assertThat(slow.sent).extracting(m -> m.getMemoryObjectDataSupply().getOffset())
                .containsExactly(java.util.stream.LongStream.range(0, 100).map(i -> i * 4096L).boxed()
                        .toArray(Long[]::new));
        assertThat(slow.ended).isNull();
    }

    /**
     * The same at a group of three, over gRPC: a kernel that asks for pages and never reads (it
     * asks gRPC for no message, and its HTTP/2 window is small) is ended RESOURCE_EXHAUSTED / EAGAIN
     * by the leader (its bound set to 16 KiB here), its session is closed on every replica (a kernel
     * of its name is told the name is held by a broken session, EAGAIN, where a session left open
     * would be a live one, EEXIST), and a kernel that reads is served.
     */
    @Test
    void atAGroupTheLeaderEndsAKernelThatDoesNotReadAndItsSessionClosesOnEveryReplica() throws Exception {
        long pages = 4096;
        try (ReplicaTrio group = new ReplicaTrio(Map.of("obj", pages * 4096), Duration.ofSeconds(60),
                () -> new ReplicaStreams(16 << 10, UnreadLimits.DEFAULT.patienceNanos(), System::nanoTime))) {
            ReplicatedPager leader = group.leader();
            ManagedChannel channel = NettyChannelBuilder.forTarget(leader.address()).usePlaintext()
                    .flowControlWindow(16 << 10).build();
            try {
                CompletableFuture<Throwable> end = new CompletableFuture<>();
                CompletableFuture<ClientCallStreamObserver<KernelToPager>> call = new CompletableFuture<>();
                StreamObserver<KernelToPager> out = MemoryObjectPagerGrpc.newStub(channel).connect(
                        new ClientResponseObserver<KernelToPager, PagerToKernel>() {
                            @Override
                            public void beforeStart(ClientCallStreamObserver<KernelToPager> c) {
                                c.disableAutoRequestWithInitial(0); // reads nothing
                                call.complete(c);
                            }

                            @Override
                            public void onNext(PagerToKernel m) {
                            }

                            @Override
                            public void onError(Throwable t) {
                                end.complete(t);
                            }

                            @Override
                            public void onCompleted() {
                                end.complete(null);
                            }
                        });
                out.onNext(ProbeKernel.hello("deaf").build());
                out.onNext(KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder().setObjectId(1)
                        .setName("obj").setPageSize(4096)).build());
                for (long offset = 0; offset < pages * 4096; offset += 256 * 4096) { // an answer for each page
                    out.onNext(KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                            .setObjectId(1).setOffset(offset).setLength(256 * 4096)
                            .setDesiredAccess(VmProt.VM_PROT_READ)).build());
                }
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> leader.stats().received(
                        KernelToPager.RoutineCase.MEMORY_OBJECT_DATA_REQUEST) == pages / 256 && leader.streamCount() == 0);
                call.get().request(Integer.MAX_VALUE); // reads at last: what was sent, then the end
                Throwable t = end.get(30, TimeUnit.SECONDS);
                assertThat(t).as("the stream ends with a status").isNotNull();
                assertThat(errno(t)).isEqualTo("RESOURCE_EXHAUSTED EAGAIN");
            } finally {
                channel.shutdownNow();
            }
            try (ProbeKernel again = new ProbeKernel(group.leader().address())) {
                // The session was closed: it holds pages (the zero pages it was told of), so its name
                // stays its own for its lease, as a broken session's (EAGAIN); one left open would be
                // a live session (EEXIST).
                again.send(ProbeKernel.hello("deaf").build());
                assertThat(again.awaitOrEnd()).isNull();
                com.google.rpc.Status s = again.end.get(30, TimeUnit.SECONDS);
                assertThat(ProbeKernel.reason(s)).isEqualTo("EAGAIN");
                assertThat(s.getMessage()).contains("lost its connection");
            }
            try (ProbeKernel reader = ProbeKernel.welcomed(group.leader().address(), "reader")) {
                reader.send(KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                        .setObjectId(1).setOffset(0).setLength(256 * 4096).setDesiredAccess(VmProt.VM_PROT_READ))
                        .build());
                assertThat(reader.barrier()).as("answered page by page").hasSize(256);
            }
            group.awaitApplied();
        }
    }
}
