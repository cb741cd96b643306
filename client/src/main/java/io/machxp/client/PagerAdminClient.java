package io.machxp.client;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.machxp.proto.admin.PagerAdminGrpc;
import io.machxp.proto.admin.PagerStatisticsReply;
import io.machxp.proto.admin.PagerStatisticsRequest;
import java.util.concurrent.TimeUnit;

/** Reads a pager's counters over gRPC. */
public final class PagerAdminClient implements AutoCloseable {
    private final ManagedChannel channel;
    private final PagerAdminGrpc.PagerAdminBlockingStub stub;

    private PagerAdminClient(String target) {
        this.channel = NettyChannelBuilder.forTarget(target).usePlaintext().build();
        this.stub = PagerAdminGrpc.newBlockingStub(channel);
    }

    public static PagerAdminClient connect(String target) {
        return new PagerAdminClient(target);
    }

    public PagerStatisticsReply statistics() {
        return KernelClient.call(() -> stub.pagerStatistics(PagerStatisticsRequest.getDefaultInstance()));
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
