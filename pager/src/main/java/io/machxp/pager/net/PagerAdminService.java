package io.machxp.pager.net;

import io.grpc.stub.StreamObserver;
import io.machxp.pager.core.PagerStats;
import io.machxp.proto.admin.PagerAdminGrpc;
import io.machxp.proto.admin.PagerStatisticsReply;
import io.machxp.proto.admin.PagerStatisticsRequest;

/**
 * Read-only counters and status for tools. Counters are served on the calling thread; the status
 * is a snapshot the core thread takes, so it is asked for off the core's event loop, and waited for
 * a bounded time ({@link io.machxp.pager.Pager#ADMIN_ANSWER}): a stuck core is answered UNAVAILABLE
 * with a sentence saying so, not left hanging.
 *
 * <p>Status requests wait for that one thread in a queue of at most {@link #MAX_STATUS_WAITING};
 * one more is refused at once, RESOURCE_EXHAUSTED with EAGAIN. A request whose call ended while it
 * waited (its caller's deadline passed, or it went away) is skipped, not asked of the core. Before,
 * the queue had no bound and each request waited its 5 s for a stuck core even after its caller
 * had gone: {@code watch -n1 machxp status} on a stuck core grew a backlog for good (late4 review A2).
 */
public final class PagerAdminService extends PagerAdminGrpc.PagerAdminImplBase {
    private final PagerStats stats;
    private final java.util.function.Supplier<io.machxp.proto.admin.PagerStatusReply> status;
    /**
     * The server runs calls on the core's event loop (direct executor), which must not wait for
     * itself: the snapshot is asked for from this thread, which exists only while it is used.
     */
    private final java.util.concurrent.Executor offCore = new java.util.concurrent.ThreadPoolExecutor(0, 1, 10,
            java.util.concurrent.TimeUnit.SECONDS, new java.util.concurrent.LinkedBlockingQueue<>(MAX_STATUS_WAITING), r -> {
                Thread t = new Thread(r, "pager-admin-status");
                t.setDaemon(true);
                return t;
            });

    /** Status requests that may wait for the status thread; one more is refused RESOURCE_EXHAUSTED (EAGAIN). */
    static final int MAX_STATUS_WAITING = 8;

    private final PagerWatches watches;

    public PagerAdminService(PagerStats stats, java.util.function.Supplier<io.machxp.proto.admin.PagerStatusReply> status) {
        this.stats = stats;
        this.status = status;
        this.watches = new PagerWatches(stats.trace(), status, this::statistics);
    }

    @Override
    public void pagerWatch(io.machxp.proto.admin.PagerWatchRequest request,
            StreamObserver<io.machxp.proto.admin.PagerWatchEvent> out) {
        watches.watch(request, out);
    }

    @Override
    public void pagerStatus(io.machxp.proto.admin.PagerStatusRequest request,
            StreamObserver<io.machxp.proto.admin.PagerStatusReply> out) {
        io.grpc.stub.ServerCallStreamObserver<io.machxp.proto.admin.PagerStatusReply> call =
                (io.grpc.stub.ServerCallStreamObserver<io.machxp.proto.admin.PagerStatusReply>) out;
        try {
            offCore.execute(() -> {
                if (call.isCancelled()) {
                    return; // its caller gave up while it waited: nobody to answer, nothing to ask the core
                }
                try {
                    out.onNext(status.get());
                    out.onCompleted();
                } catch (io.machxp.pager.CoreNotAnswering e) {
                    out.onError(coreNotAnswering(e));
                } catch (RuntimeException e) {
                    out.onError(io.grpc.Status.UNAVAILABLE.withDescription("the pager is closing").withCause(e)
                            .asRuntimeException());
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException full) {
            out.onError(XpService.error(io.grpc.Status.Code.RESOURCE_EXHAUSTED, io.machxp.proto.task.Errno.EAGAIN.name(),
                    MAX_STATUS_WAITING + " status requests already wait for the pager's status thread (its core "
                            + "thread is slow or stuck, see its log); ask again later", java.util.Map.of()));
        }
    }

    /** UNAVAILABLE with the sentence, and ETIMEDOUT in an ErrorInfo: the server is there, its core did not answer. */
    static io.grpc.StatusRuntimeException coreNotAnswering(io.machxp.pager.CoreNotAnswering e) {
        return io.grpc.protobuf.StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
                .setCode(io.grpc.Status.Code.UNAVAILABLE.value()).setMessage(e.getMessage())
                .addDetails(com.google.protobuf.Any.pack(com.google.rpc.ErrorInfo.newBuilder().setDomain("machxp")
                        .setReason(io.machxp.proto.task.Errno.ETIMEDOUT.name()).build()))
                .build());
    }

    @Override
    public void pagerStatistics(PagerStatisticsRequest request, StreamObserver<PagerStatisticsReply> out) {
        out.onNext(statistics());
        out.onCompleted();
    }

    private PagerStatisticsReply statistics() {
        return PagerStatisticsReply.newBuilder()
                .putAllXpReceived(stats.receivedByRoutine())
                .putAllXpSent(stats.sentByRoutine())
                .setFutexGrants(stats.grants())
                .setFutexHandoffs(stats.handoffs())
                .setKernelsConnected((int) stats.kernelsConnected())
                .setEventLoopPasses(stats.loopPasses())
                .build();
    }
}
