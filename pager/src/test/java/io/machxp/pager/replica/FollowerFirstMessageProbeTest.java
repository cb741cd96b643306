package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelKeepalive;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectPagerGrpc;
import io.machxp.proto.xp.PagerToKernel;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * xp-spec 13.2, probed by a kernel written from xp.proto and xp-spec alone: a replica that does
 * not lead (here one of a group of three started alone, so no leader is known) answers whatever
 * a stream opens with by pager_redirect with an empty leader and ends it UNAVAILABLE without a
 * machxp errno: a hello of any kind, and also a first message a leader would end with a status of
 * 3.2 (a follower judges nothing; the kernel hears the leader's word there). To a hello naming
 * the feature "end_info" (3.1), the end carries ErrorInfo EAGAIN marked stream = broken.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FollowerFirstMessageProbeTest {
    private record Ending(List<PagerToKernel> got, com.google.rpc.Status status, io.grpc.Status.Code code) {}

    private static Ending open(String target, KernelToPager first) throws Exception {
        ManagedChannel channel = NettyChannelBuilder.forTarget(target).usePlaintext().build();
        try {
            LinkedBlockingQueue<PagerToKernel> in = new LinkedBlockingQueue<>();
            CompletableFuture<Throwable> end = new CompletableFuture<>();
            StreamObserver<KernelToPager> out = MemoryObjectPagerGrpc.newStub(channel).connect(new StreamObserver<>() {
                @Override
                public void onNext(PagerToKernel m) {
                    in.add(m);
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
            out.onNext(first);
            Throwable t = end.get(30, TimeUnit.SECONDS);
            assertThat(t).as("the stream ends with a status").isNotNull();
            return new Ending(List.copyOf(in), StatusProto.fromThrowable(t), io.grpc.Status.fromThrowable(t).getCode());
        } finally {
            channel.shutdownNow();
        }
    }

    @Test
    void aReplicaThatDoesNotLeadRedirectsWhateverAStreamOpensWith() throws Exception {
        PagerConfig config = new PagerConfig("p", "127.0.0.1", 0, 4096, Map.of("shared", 1L << 16));
        try (ReplicatedPager alone = LoopbackGroup.start(3, group -> ReplicatedPager.start(config,
                new ReplicaConfig("a", group)))) {
            KernelHello hello = KernelHello.newBuilder().setKernelName("k").setProtocolVersion(1).build();
            List<KernelToPager> firsts = List.of(
                    KernelToPager.newBuilder().setKernelHello(hello).build(),
                    KernelToPager.newBuilder().setKernelHello(hello.toBuilder().setProtocolVersion(0)).build(),
                    KernelToPager.newBuilder().setKernelHello(hello.toBuilder().setResume(io.machxp.proto.xp.Resume
                            .newBuilder().setKernelId(1).setSessionToken(5).setAttempt(1))).build(),
                    KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder().setSequence(1)).build(),
                    KernelToPager.getDefaultInstance());
            for (KernelToPager first : firsts) {
                Ending e = open(alone.address(), first);
                assertThat(e.code()).as("%s", first).isEqualTo(io.grpc.Status.Code.UNAVAILABLE);
                assertThat(e.status() == null || e.status().getDetailsCount() == 0).as("no machxp errno").isTrue();
                assertThat(e.got()).as("%s", first).hasSize(1);
                assertThat(e.got().get(0).getPagerRedirect().getLeader()).as("no leader known").isEmpty();
            }
            // a hello naming "end_info" (xp-spec 3.1, 6.12): the same redirect, its end with ErrorInfo EAGAIN
            // marked stream = broken (a broken stream, not the pager's refusal)
            Ending e = open(alone.address(), KernelToPager.newBuilder().setKernelHello(hello.toBuilder()
                    .addFeatures("end_info")).build());
            assertThat(e.code()).isEqualTo(io.grpc.Status.Code.UNAVAILABLE);
            assertThat(e.got()).singleElement().satisfies(m -> assertThat(m.hasPagerRedirect()).isTrue());
            assertThat(e.status()).as("ErrorInfo").isNotNull();
            com.google.rpc.ErrorInfo info = e.status().getDetails(0).unpack(com.google.rpc.ErrorInfo.class);
            assertThat(info.getDomain()).isEqualTo("machxp");
            assertThat(info.getReason()).isEqualTo("EAGAIN");
            assertThat(info.getMetadataMap()).containsExactly(Map.entry("stream", "broken"));
            assertThat(alone.streamCount()).isZero();
        }
    }
}
