package io.machxp.pager.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.admin.PagerAdminGrpc;
import io.machxp.proto.admin.PagerStatusReply;
import io.machxp.proto.admin.PagerStatusRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The pager's inbound message limit is server-wide (64 MiB, for a kernel's reclaim), so the admin
 * service and health read at most {@link RequestReadBudget#DEFAULT_MAX_READING} requests at once
 * (review R3): a further call is refused RESOURCE_EXHAUSTED before anything of it is read, and a
 * request sent whole frees its place. Before, every call read its request (up to 64 MiB each, 16
 * calls per connection, connections unbounded), and the fifth call here waited like the others.
 */
class AdminRequestBudgetTest {
    private static final class Outcome extends ClientCall.Listener<PagerStatusReply> {
        final CompletableFuture<Status> closed = new CompletableFuture<>();

        @Override
        public void onClose(Status status, Metadata trailers) {
            closed.complete(status);
        }
    }

    private static ClientCall<PagerStatusRequest, PagerStatusReply> started(ManagedChannel channel, Outcome o) {
        // As a streaming call at the client, whose headers go out at once (grpc-java holds a unary
        // call's headers until its message): the pager still serves it as its unary method.
        ClientCall<PagerStatusRequest, PagerStatusReply> call = channel.newCall(PagerAdminGrpc.getPagerStatusMethod()
                .toBuilder().setType(io.grpc.MethodDescriptor.MethodType.BIDI_STREAMING).build(),
                io.grpc.CallOptions.DEFAULT);
        call.start(o, new Metadata());
        call.request(1);
        return call;
    }

    @Test
    void requestsBeyondTheBudgetAreRefusedUnreadAndASentRequestFreesItsPlace() throws Exception {
        try (Pager pager = Pager.start(PagerConfig.loopback(Map.of("obj", 1L << 20)).withLease(Duration.ZERO))) {
            ManagedChannel channel = NettyChannelBuilder.forTarget(pager.target()).usePlaintext().build();
            try {
                var status = PagerAdminGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
                status.pagerStatus(PagerStatusRequest.getDefaultInstance()); // connected: calls go out in order
                List<ClientCall<PagerStatusRequest, PagerStatusReply>> silent = new ArrayList<>();
                List<Outcome> outcomes = new ArrayList<>();
                for (int i = 0; i < RequestReadBudget.DEFAULT_MAX_READING; i++) {
                    Outcome o = new Outcome();
                    outcomes.add(o);
                    silent.add(started(channel, o)); // headers only: its request is still to be read
                }
                Outcome over = new Outcome();
                started(channel, over);
                Status refused = over.closed.get(30, TimeUnit.SECONDS);
                assertThat(refused.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                assertThat(refused.getDescription()).contains("4 requests to the pager's admin and health services "
                        + "are being read already");
                silent.get(0).sendMessage(PagerStatusRequest.getDefaultInstance());
                silent.get(0).halfClose();
                assertThat(outcomes.get(0).closed.get(30, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.OK);
                assertThat(status.pagerStatus(PagerStatusRequest.getDefaultInstance()).getPagerName())
                        .as("a request read whole frees its place").isEqualTo(pager.status().getPagerName());
                for (int i = 1; i < silent.size(); i++) {
                    silent.get(i).cancel("done", null);
                }
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }
}
