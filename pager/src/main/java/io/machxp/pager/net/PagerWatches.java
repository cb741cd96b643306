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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * PagerWatch streams: each open watch turns the pager's {@link XpTrace} on and gets an event every
 * interval, built on this class's timer thread from a status snapshot the core thread takes. An
 * event is skipped while the watcher's stream is not ready (it reads slowly): the messages then
 * wait in the trace, and those it wraps past are counted as missed. A cancelled call stops its
 * timer and, with the last watch, the recording.
 *
 * <p>Snapshots. The timer thread never waits for the core. A tick asks for a snapshot and returns;
 * the snapshot is asked on a thread of its own ({@code pager-watch-status}), one query at a time
 * for all watches: a tick that comes while one is under way joins it. When it is answered, each
 * watch that joined builds its event on the timer thread. A watch whose snapshot has not come yet
 * skips its ticks meanwhile, so a watch has at most one event under way: its cursor moves in order
 * and no batch of messages is lost (they wait in the trace for its next event). Before, the tick
 * asked the core itself, on the one timer thread, for up to 5 s: on a stuck core each watch's tick
 * held the thread in turn, and k watches got an event once every 5k s (late4 review A1).
 *
 * <p>Threads. The cancel handler runs on the pager's event loop, which is its core thread: it
 * takes no lock and waits for nothing (a flag, the trace's count, the timer's cancel). The status
 * thread asks the core holding no lock, and {@link io.machxp.pager.Pager#status} waits for the core
 * a bounded time ({@link CoreNotAnswering}: the watches that joined skip that event). Before the
 * frontdoor fix, the tick held the watch's lock while it waited, without a bound, for the core, and
 * a cancel arriving then blocked the core on that lock: the pager was wedged for good (frontdoor
 * review H1).
 */
final class PagerWatches {
    static final int MAX_HANDOFFS = 20;

    private final XpTrace trace;
    private final Supplier<PagerStatusReply> status;
    private final Supplier<PagerStatisticsReply> statistics;
    /** Its thread exists only while a watch is open (and a few seconds after). */
    private final java.util.concurrent.ScheduledThreadPoolExecutor timer = new java.util.concurrent.ScheduledThreadPoolExecutor(
            1, daemon("pager-watch"));
    /** Asks the core for the snapshots, one at a time; its thread exists only while used (and 15 s after). */
    private final java.util.concurrent.ExecutorService asker = new java.util.concurrent.ThreadPoolExecutor(0, 1, 15,
            TimeUnit.SECONDS, new java.util.concurrent.LinkedBlockingQueue<>(), daemon("pager-watch-status"));
    /** The snapshot asked for last, answered or not; the timer thread only. */
    private CompletableFuture<PagerStatusReply> asking;

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
        long[] cursor = trace.open(); // the timer's thread only: a watch's events are built there, one at a time
        boolean[] waiting = {false}; // the timer's thread only: a snapshot is under way for this watch
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
            if (done.get() || !out.isReady() || waiting[0]) {
                return;
            }
            waiting[0] = true;
            snapshot().whenCompleteAsync((snapshot, failed) -> {
                waiting[0] = false;
                if (done.get()) {
                    return;
                }
                try {
                    if (failed != null) {
                        throw failed instanceof CompletionException c && c.getCause() != null ? c.getCause() : failed;
                    }
                    XpTrace.Batch batch = trace.since(cursor[0], cursor[1], max, MAX_HANDOFFS);
                    cursor[0] = batch.next();
                    cursor[1] = batch.nextHandoff();
                    out.onNext(PagerWatchEvent.newBuilder().setStatus(snapshot).setStatistics(statistics.get())
                            .addAllMessages(batch.messages()).setMessagesMissed(batch.missed())
                            .addAllHandoffs(batch.handoffs()).setWatchStartedUnixMs(started).build());
                } catch (CoreNotAnswering slow) {
                    // no event this time: the next tick asks again (the watcher's view stands still meanwhile)
                } catch (Throwable e) { // the pager is closing, or the call is gone
                    end.run();
                    try {
                        out.onError(Status.UNAVAILABLE.withDescription("the pager is closing").asRuntimeException());
                    } catch (RuntimeException gone) {
                        // the call has ended already
                    }
                }
            }, timer);
        }, 0, interval, TimeUnit.MILLISECONDS));
        if (done.get()) { // cancelled before the task was set: end saw no task to cancel
            task.get().cancel(false);
        }
    }

    /**
     * Timer thread: the snapshot under way, or a new one asked for if the last was answered. The
     * snapshot is taken after the query starts, so one joined is never older than the event before.
     */
    private CompletableFuture<PagerStatusReply> snapshot() {
        if (asking == null || asking.isDone()) {
            asking = CompletableFuture.supplyAsync(status, asker);
        }
        return asking;
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
