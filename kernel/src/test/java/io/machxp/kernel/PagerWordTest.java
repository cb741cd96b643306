package io.machxp.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import io.grpc.protobuf.StatusProto;
import org.junit.jupiter.api.Test;

/**
 * How the kernel reads the pager's word at a stream's end: the errno of its ErrorInfo, and whether
 * the pager marked the refusal final for its grace period (xp-spec 9.7, review F1 of f9).
 */
class PagerWordTest {
    private static Throwable ended(ErrorInfo.Builder info) {
        return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
                .setCode(io.grpc.Status.Code.RESOURCE_EXHAUSTED.value()).setMessage("EAGAIN: cannot use TID prefix 1 yet")
                .addDetails(Any.pack(info.build())).build());
    }

    @Test
    void anEagainMarkedFinalForTheGracePeriodIsFinal() {
        Throwable t = ended(ErrorInfo.newBuilder().setDomain("machxp").setReason("EAGAIN")
                .putMetadata("final", "grace_period"));
        assertThat(PagerWord.errno(t)).isEqualTo("EAGAIN");
        assertThat(PagerWord.finalInGrace(t)).isTrue();
    }

    @Test
    void anUnmarkedEagainOrAnotherMarkOrNoPagerWordIsNotFinal() {
        assertThat(PagerWord.finalInGrace(ended(ErrorInfo.newBuilder().setDomain("machxp").setReason("EAGAIN"))))
                .as("an older or another pager's EAGAIN").isFalse();
        assertThat(PagerWord.finalInGrace(ended(ErrorInfo.newBuilder().setDomain("machxp").setReason("EAGAIN")
                .putMetadata("final", "forever")))).as("a value this kernel does not know").isFalse();
        assertThat(PagerWord.finalInGrace(io.grpc.Status.RESOURCE_EXHAUSTED.withDescription("message too large")
                .asRuntimeException())).as("the transport's own refusal").isFalse();
    }

    /**
     * A replica's redirect or loss of leadership, to a kernel whose hello named "end_info"
     * (xp-spec 3.1, 13): ErrorInfo marked stream = broken is no refusal; unmarked it is.
     */
    @Test
    void anEndMarkedBrokenIsNotThePagersRefusal() {
        Throwable t = ended(ErrorInfo.newBuilder().setDomain("machxp").setReason("EAGAIN").putMetadata("stream", "broken"));
        assertThat(PagerWord.fromPager(t)).isFalse();
        assertThat(PagerWord.errno(t)).isNull();
        assertThat(PagerWord.fromPager(ended(ErrorInfo.newBuilder().setDomain("machxp").setReason("EAGAIN")))).isTrue();
        assertThat(PagerWord.fromPager(io.grpc.Status.UNAVAILABLE.withDescription("replica 1 does not lead")
                .asRuntimeException())).as("no ErrorInfo (a kernel that did not name end_info gets this)").isFalse();
    }
}
