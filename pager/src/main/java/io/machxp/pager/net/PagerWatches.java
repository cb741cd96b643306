package io.machxp.pager.net;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.machxp.pager.watch.XpTrace;
import io.machxp.proto.admin.PagerStatisticsReply;
import io.machxp.proto.admin.PagerStatusReply;
import io.machxp.proto.admin.PagerWatchEvent;
import io.machxp.proto.admin.PagerWatchRequest;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * PagerWatch streams: each open watch turns the pager's {@link XpTrace} on and gets an event every
 * interval, built on this class's own thread (the status snapshot is asked of the core thread,
 * which must not wait for itself). An event is skipped while the watcher's stream is not ready
 * (it reads slowly): the messages then wait in the trace, and those it wraps past are counted as
 * missed. A cancelled call stops its timer and, with the last watch, the recording.
 */
final class PagerWatches {
    static final int MAX_HANDOFFS = 20;

    private final XpTrace trace;
    private final Supplier<PagerStatusReply> status;
    private final Supplier<PagerStatisticsReply> statistics;
    /** Its thread exists only while a watch is open (and a few seconds after). */
    private final java.util.concurrent.ScheduledThreadPoolExecutor timer =
            new java.util.concurrent.ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, "pager-watch");
                t.setDaemon(true);
                return t;
            });

    {
        timer.setKeepAliveTime(15, TimeUnit.SECONDS);
        timer.allowCoreThreadTimeOut(true);
        timer.setRemoveOnCancelPolicy(true);
    }

    PagerWatches(XpTrace trace, Supplier<PagerStatusReply> status, Supplier<PagerStatisticsReply> statistics) {
        this.trace = trace;
        this.status = status;
        this.statistics = statistics;
    }

    void watch(PagerWatchRequest request, StreamObserver<PagerWatchEvent> observer) {
        int interval = request.getIntervalMs() == 0 ? 250 : request.getIntervalMs();
        int max = request.getMaxMessages() == 0 ? 50 : request.getMaxMessages();
        if (interval < 50 || interval > 10_000 || max > 500) {
            observer.onError(Status.INVALID_ARGUMENT.withDescription("EINVAL: interval_ms " + request.getIntervalMs()
                    + " and max_messages " + request.getMaxMessages() + " must be 50 to 10000 ms (0: 250) and at "
                    + "most 500 (0: 50); ask again with values in range").asRuntimeException());
            return;
        }
        ServerCallStreamObserver<PagerWatchEvent> out = (ServerCallStreamObserver<PagerWatchEvent>) observer;
        long started = System.currentTimeMillis();
        long[] cursor = trace.open();
        Object lock = new Object();
        boolean[] done = {false};
        ScheduledFuture<?>[] task = new ScheduledFuture<?>[1];
        Runnable end = () -> {
            synchronized (lock) {
                if (!done[0]) {
                    done[0] = true;
                    trace.close();
                    if (task[0] != null) {
                        task[0].cancel(false);
                    }
                }
            }
        };
        out.setOnCancelHandler(end);
        task[0] = timer.scheduleWithFixedDelay(() -> {
            synchronized (lock) {
                if (done[0] || !out.isReady()) {
                    return;
                }
                try {
                    XpTrace.Batch batch = trace.since(cursor[0], cursor[1], max, MAX_HANDOFFS);
                    cursor[0] = batch.next();
                    cursor[1] = batch.nextHandoff();
                    out.onNext(PagerWatchEvent.newBuilder().setStatus(status.get()).setStatistics(statistics.get())
                            .addAllMessages(batch.messages()).setMessagesMissed(batch.missed())
                            .addAllHandoffs(batch.handoffs()).setWatchStartedUnixMs(started).build());
                } catch (RuntimeException e) { // the pager is closing, or the call is gone
                    done[0] = true;
                    trace.close();
                    task[0].cancel(false);
                    try {
                        out.onError(Status.UNAVAILABLE.withDescription("the pager is closing").asRuntimeException());
                    } catch (RuntimeException gone) {
                        // the call has ended already
                    }
                }
            }
        }, 0, interval, TimeUnit.MILLISECONDS);
    }
}
