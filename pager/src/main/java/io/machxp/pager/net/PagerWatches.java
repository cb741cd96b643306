package io.machxp.pager.net;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.machxp.pager.CoreNotAnswering;
import io.machxp.pager.watch.XpTrace;
import io.machxp.proto.admin.PagerStatisticsReply;
import io.machxp.proto.admin.PagerStatusReply;
import io.machxp.proto.admin.PagerWatchEvent;
import io.machxp.proto.admin.PagerWatchRequest;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * PagerWatch streams: each open watch turns the pager's {@link XpTrace} on and gets an event every
 * interval, built on this class's own thread (the status snapshot is asked of the core thread,
 * which must not wait for itself). An event is skipped while the watcher's stream is not ready
 * (it reads slowly): the messages then wait in the trace, and those it wraps past are counted as
 * missed. A cancelled call stops its timer and, with the last watch, the recording.
 *
 * <p>Threads. The cancel handler runs on the pager's event loop, which is its core thread: it
 * takes no lock and waits for nothing (a flag, the trace's count, the timer's cancel). The tick
 * asks the core for the snapshot holding no lock, and {@link io.machxp.pager.Pager#status} waits for
 * the core a bounded time ({@link CoreNotAnswering} skips that tick). Before, the tick held the
 * watch's lock while it waited, without a bound, for the core, and a cancel arriving then blocked
 * the core on that lock: the pager was wedged for good (frontdoor review H1).
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
        long[] cursor = trace.open(); // the timer's thread only: its ticks never overlap
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<ScheduledFuture<?>> task = new AtomicReference<>();
        // Ends the watch once, from whichever thread comes first; takes no lock (it runs on the core thread).
        Runnable end = () -> {
            if (done.compareAndSet(false, true)) {
                trace.close();
                ScheduledFuture<?> t = task.get();
                if (t != null) {
                    t.cancel(false);
                }
            }
        };
        out.setOnCancelHandler(end);
        task.set(timer.scheduleWithFixedDelay(() -> {
            if (done.get() || !out.isReady()) {
                return;
            }
            try {
                PagerStatusReply snapshot = status.get(); // waits for the core, a bounded time, holding nothing
                XpTrace.Batch batch = trace.since(cursor[0], cursor[1], max, MAX_HANDOFFS);
                cursor[0] = batch.next();
                cursor[1] = batch.nextHandoff();
                out.onNext(PagerWatchEvent.newBuilder().setStatus(snapshot).setStatistics(statistics.get())
                        .addAllMessages(batch.messages()).setMessagesMissed(batch.missed())
                        .addAllHandoffs(batch.handoffs()).setWatchStartedUnixMs(started).build());
            } catch (CoreNotAnswering slow) {
                // no event this tick: the next one asks again (the watcher's view stands still meanwhile)
            } catch (RuntimeException e) { // the pager is closing, or the call is gone
                end.run();
                try {
                    out.onError(Status.UNAVAILABLE.withDescription("the pager is closing").asRuntimeException());
                } catch (RuntimeException gone) {
                    // the call has ended already
                }
            }
        }, 0, interval, TimeUnit.MILLISECONDS));
        if (done.get()) { // cancelled before the task was set: end saw no task to cancel
            task.get().cancel(false);
        }
    }
}
