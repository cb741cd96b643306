package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ServerCallStreamObserver;
import io.machxp.proto.xp.MemoryObjectDataSupply;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
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
    private static final class Call extends ServerCallStreamObserver<PagerToKernel> {
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

        @Override
        public void onCompleted() {
        }

        @Override
        public boolean isCancelled() {
            return false;
        }

        @Override
        public void setOnCancelHandler(Runnable r) {
        }

        @Override
        public void setCompression(String compression) {
        }

        @Override
        public void setOnReadyHandler(Runnable r) {
        }

        @Override
        public void disableAutoInboundFlowControl() {
        }

        @Override
        public void request(int count) {
        }

        @Override
        public void setMessageCompression(boolean enable) {
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

    @Test
    void aKernelThatLeavesMoreThanTheBoundUnreadIsEndedWithEagainAndItsSessionClosed() throws Exception {
        AtomicLong now = new AtomicLong();
        ReplicaStreams streams = new ReplicaStreams(1 << 20, 10_000_000_000L, now::get);
        List<Long> closed = new ArrayList<>();
        streams.onUnreadEnded(closed::add);
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

    @Test
    void aKernelThatReadsNothingForThePatienceIsEndedAndOneThatReadsIsNot() throws Exception {
        AtomicLong now = new AtomicLong(5_000);
        long patience = 10_000_000_000L;
        ReplicaStreams streams = new ReplicaStreams(256L << 20, patience, now::get);
        List<Long> closed = new ArrayList<>();
        streams.onUnreadEnded(closed::add);
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
}
