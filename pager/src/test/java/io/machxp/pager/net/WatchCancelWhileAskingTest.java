package io.machxp.pager.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.watch.XpTrace;
import io.machxp.proto.admin.PagerStatisticsReply;
import io.machxp.proto.admin.PagerStatusReply;
import io.machxp.proto.admin.PagerWatchEvent;
import io.machxp.proto.admin.PagerWatchRequest;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A watcher that goes away (Ctrl-C on machxp view) while the watch's tick waits for the core's
 * status snapshot: the cancel handler runs on the pager's event loop, which is the core thread.
 * Before, the handler waited for the watch's lock, which the tick held while it waited for the
 * core to answer: the pager's core was wedged for good, and every kernel lost its lease
 * (frontdoor review H1). Here the "core" is one thread; the cancel is put on it after the tick has
 * asked for the snapshot and before the snapshot runs, so the old code deadlocks every time (the
 * bounded get below then fails the test) and the new code ends the watch and answers the tick.
 */
class WatchCancelWhileAskingTest {
    @Test
    void aCancelOnTheCoreWhileTheTickWaitsForTheCoreEndsTheWatch() throws Exception {
        ExecutorService core = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "test-core");
            t.setDaemon(true);
            return t;
        });
        try {
            CountDownLatch asked = new CountDownLatch(1);
            CountDownLatch cancelQueued = new CountDownLatch(1);
            XpTrace trace = new XpTrace();
            // the status as Pager.status asks it: a query run on the core thread, waited for
            PagerWatches watches = new PagerWatches(trace, () -> {
                asked.countDown();
                await(cancelQueued);
                try {
                    return core.submit(() -> PagerStatusReply.newBuilder().setPagerName("p").build()).get();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, PagerStatisticsReply::getDefaultInstance);
            FakeCall call = new FakeCall();
            watches.watch(PagerWatchRequest.getDefaultInstance(), call);
            assertThat(trace.on()).isTrue();

            await(asked); // the first tick is inside the status query, before the core has run it
            Future<?> cancelled = core.submit(() -> call.onCancel.get().run()); // ahead of the snapshot
            cancelQueued.countDown();

            cancelled.get(30, TimeUnit.SECONDS); // old code: TimeoutException, the core is blocked for good
            assertThat(trace.on()).as("the last watch ended: recording stops").isFalse();
        } finally {
            core.shutdownNow();
        }
    }

    /** A core that does not answer within the bound costs the watcher that tick's event, not its watch. */
    @Test
    void aTickWhoseCoreDoesNotAnswerIsSkippedAndTheWatchGoesOn() throws Exception {
        XpTrace trace = new XpTrace();
        java.util.concurrent.atomic.AtomicInteger asks = new java.util.concurrent.atomic.AtomicInteger();
        PagerWatches watches = new PagerWatches(trace, () -> {
            if (asks.incrementAndGet() == 1) {
                throw new io.machxp.pager.CoreNotAnswering("p", java.time.Duration.ofSeconds(5));
            }
            return PagerStatusReply.newBuilder().setPagerName("p").build();
        }, PagerStatisticsReply::getDefaultInstance);
        FakeCall call = new FakeCall();
        watches.watch(PagerWatchRequest.newBuilder().setIntervalMs(50).build(), call);
        try {
            await(call.firstEvent);
            assertThat(asks.get()).isGreaterThanOrEqualTo(2);
            assertThat(call.errors).isEmpty();
            assertThat(trace.on()).isTrue();
        } finally {
            call.onCancel.get().run();
        }
        assertThat(trace.on()).isFalse();
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The server side of a PagerWatch call, always ready, whose cancel handler the test runs. */
    private static final class FakeCall extends NoopServerCall<PagerWatchEvent> {
        final AtomicReference<Runnable> onCancel = new AtomicReference<>();
        final CountDownLatch firstEvent = new CountDownLatch(1);
        final java.util.List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();

        @Override
        public boolean isCancelled() {
            return false;
        }

        @Override
        public void setOnCancelHandler(Runnable handler) {
            onCancel.set(handler);
        }

        @Override
        public void onNext(PagerWatchEvent value) {
            firstEvent.countDown();
        }

        @Override
        public void onError(Throwable t) {
            errors.add(t);
        }

        @Override
        public void onCompleted() {}
    }
}
