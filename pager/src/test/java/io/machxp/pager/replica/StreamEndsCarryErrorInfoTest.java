package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import io.machxp.pager.net.XpService;
import io.machxp.proto.xp.PagerToKernel;
import org.junit.jupiter.api.Test;

/**
 * Every status the pager ends a stream with carries ErrorInfo (xp-spec 3.1), also the ends a
 * kernel mends as a broken stream (a replica's loss of leadership, 13.3: marked
 * {@code stream = broken}) and a clean end not stored in time (2.6: EAGAIN, unmarked). Found by
 * the XP review (finding 3): they were plain UNAVAILABLE.
 */
class StreamEndsCarryErrorInfoTest {
    /** A kernel's call that keeps how it ended. */
    private static final class Call implements StreamObserver<PagerToKernel> {
        Throwable error;

        @Override
        public void onNext(PagerToKernel value) {
        }

        @Override
        public void onError(Throwable t) {
            error = t;
        }

        @Override
        public void onCompleted() {
        }
    }

    private static ErrorInfo info(Throwable t) throws Exception {
        com.google.rpc.Status status = StatusProto.fromThrowable(t);
        assertThat(status).as("a status with details").isNotNull();
        for (Any d : status.getDetailsList()) {
            if (d.is(ErrorInfo.class)) {
                return d.unpack(ErrorInfo.class);
            }
        }
        throw new AssertionError("no ErrorInfo in " + t);
    }

    @Test
    void aLeaderThatStopsLeadingEndsItsStreamsWithErrorInfoMarkedBroken() throws Exception {
        ReplicaStreams streams = new ReplicaStreams();
        Call call = new Call();
        streams.put(1, new ReplicaStreams.KernelStream(call));
        streams.endAll("replica 1 no longer leads");
        assertThat(Status.fromThrowable(call.error).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        ErrorInfo info = info(call.error);
        assertThat(info.getDomain()).isEqualTo("machxp");
        assertThat(info.getReason()).isEqualTo("EAGAIN");
        assertThat(info.getMetadataMap()).containsEntry(XpService.STREAM_KEY, XpService.STREAM_BROKEN);
    }

    @Test
    void aCleanEndNotStoredInTimeIsThePagersWordUnmarked() throws Exception {
        Throwable t = XpService.notAllStored("not all of it is stored yet");
        assertThat(Status.fromThrowable(t).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        ErrorInfo info = info(t);
        assertThat(info.getReason()).isEqualTo("EAGAIN");
        assertThat(info.getMetadataMap()).doesNotContainKey(XpService.STREAM_KEY);
    }
}
