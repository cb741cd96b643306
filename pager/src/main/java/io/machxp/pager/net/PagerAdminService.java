package io.machxp.pager.net;

import io.grpc.stub.StreamObserver;
import io.machxp.pager.core.PagerStats;
import io.machxp.proto.admin.PagerAdminGrpc;
import io.machxp.proto.admin.PagerStatisticsReply;
import io.machxp.proto.admin.PagerStatisticsRequest;

/** Read-only counters for tools; served from any thread. */
public final class PagerAdminService extends PagerAdminGrpc.PagerAdminImplBase {
    private final PagerStats stats;

    public PagerAdminService(PagerStats stats) {
        this.stats = stats;
    }

    @Override
    public void pagerStatistics(PagerStatisticsRequest request, StreamObserver<PagerStatisticsReply> out) {
        out.onNext(PagerStatisticsReply.newBuilder()
                .putAllXpReceived(stats.receivedByRoutine())
                .putAllXpSent(stats.sentByRoutine())
                .setFutexGrants(stats.grants())
                .setFutexHandoffs(stats.handoffs())
                .setKernelsConnected((int) stats.kernelsConnected())
                .build());
        out.onCompleted();
    }
}
