package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import io.machxp.pager.net.StreamEnds;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import org.junit.jupiter.api.Test;

/**
 * The pager's ends that are no refusal (xp-spec 3.1): ErrorInfo only for a kernel whose hello named
 * "end_info", a replica's loss of leadership then marked {@code stream = broken}; a kernel that did
 * not gets them as the spec before the feature promised, UNAVAILABLE without ErrorInfo, which it
 * takes for a broken stream (the reverted fix gave ErrorInfo to every kernel, and kernels written
 * to the older spec took a failover for the pager's refusal: review of xpfix, finding 3).
 */
class StreamEndsInfoTest {
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

    private static KernelToPager hello(String... features) {
        return KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("k")
                .setProtocolVersion(1).addFeatures("precious").addAllFeatures(java.util.List.of(features))).build();
    }

    private static ErrorInfo info(Throwable t) throws Exception {
        com.google.rpc.Status status = StatusProto.fromThrowable(t);
        if (status == null) {
            return null;
        }
        for (Any d : status.getDetailsList()) {
            if (d.is(ErrorInfo.class)) {
                return d.unpack(ErrorInfo.class);
            }
        }
        return null;
    }

    /** Two streams, one whose hello named end_info, then this replica stops leading. */
    @Test
    void aLeaderThatStopsLeadingGivesErrorInfoOnlyToKernelsThatNamedTheFeature() throws Exception {
        ReplicaStreams streams = new ReplicaStreams();
        Call old = new Call();
        Call named = new Call();
        ReplicaStreams.KernelStream a = new ReplicaStreams.KernelStream(old);
        a.opened(hello());
        ReplicaStreams.KernelStream b = new ReplicaStreams.KernelStream(named);
        b.opened(hello(StreamEnds.FEATURE));
        streams.put(1, a);
        streams.put(2, b);
        streams.endAll("replica 1 no longer leads");

        assertThat(Status.fromThrowable(old.error).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(info(old.error)).as("no ErrorInfo: a broken stream, as spec 13.3 promised").isNull();

        assertThat(Status.fromThrowable(named.error).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        ErrorInfo i = info(named.error);
        assertThat(i).isNotNull();
        assertThat(i.getDomain()).isEqualTo("machxp");
        assertThat(i.getReason()).isEqualTo("EAGAIN");
        assertThat(i.getMetadataMap()).containsEntry(StreamEnds.STREAM_KEY, StreamEnds.STREAM_BROKEN);
        assertThat(Status.fromThrowable(named.error).getDescription()).contains("replica 1 no longer leads");
    }

    @Test
    void aCleanEndNotStoredInTimeCarriesUnmarkedEagainOnlyWithTheFeature() throws Exception {
        Throwable with = StreamEnds.notAllStored(true, "not all of it is stored yet");
        assertThat(Status.fromThrowable(with).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(info(with).getReason()).isEqualTo("EAGAIN");
        assertThat(info(with).getMetadataMap()).doesNotContainKey(StreamEnds.STREAM_KEY);
        Throwable without = StreamEnds.notAllStored(false, "not all of it is stored yet");
        assertThat(Status.fromThrowable(without).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(info(without)).isNull();
    }

    @Test
    void onlyAHelloNamesTheFeature() {
        assertThat(StreamEnds.announced(hello(StreamEnds.FEATURE))).isTrue();
        assertThat(StreamEnds.announced(hello())).isFalse();
        assertThat(StreamEnds.announced(KernelToPager.getDefaultInstance())).isFalse();
    }
}
