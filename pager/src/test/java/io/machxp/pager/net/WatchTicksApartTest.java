package io.machxp.pager.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.watch.XpTrace;
import io.machxp.proto.admin.PagerStatisticsReply;
import io.machxp.proto.admin.PagerStatusReply;
import io.machxp.proto.admin.PagerWatchEvent;
import io.machxp.proto.admin.PagerWatchRequest;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Two live views on one pager whose core does not answer (late4 review A1). Before, each watch's
 * tick asked the core for its snapshot on the one timer thread and waited up to 5 s: while watch
 * A's tick waited, watch B's ticks did not run at all, so k watches on a stuck core got an event
 * once every 5k s. Here the "core" answers the first snapshot only when the test lets it (a latch):
 * watch B's ticks must still run meanwhile (the old code never runs them: the guard below fails
 * it), and once the core answers, both watches get their event from that one snapshot.
 */
class WatchTicksApartTest {
    @Test
    void aTickWaitingForTheCoreHoldsUpNoOtherWatch() throws Exception {
        CountDownLatch asked = new CountDownLatch(1);
        CountDownLatch answer = new CountDownLatch(1);
        AtomicInteger asks = new AtomicInteger();
        XpTrace trace = new XpTrace();
        PagerWatches watches = new PagerWatches(trace, () -> {
            int n = asks.incrementAndGet();
            if (n == 1) {
                asked.countDown();
                try {
                    answer.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return PagerStatusReply.newBuilder().setPagerName("snapshot-" + n).build();
        }, PagerStatisticsReply::getDefaultInstance);
        Call a = new Call();
        Call b = new Call();
        PagerWatchRequest fast = PagerWatchRequest.newBuilder().setIntervalMs(50).build();
        watches.watch(fast, a);
        try {
            assertThat(asked.await(30, TimeUnit.SECONDS)).as("A's tick asked the core").isTrue();
            watches.watch(fast, b);
            // B's second tick: its first has run to its end (ticks of the timer never overlap)
            assertThat(b.ticked.await(30, TimeUnit.SECONDS)).as("B's ticks run while A's snapshot waits for the core")
                    .isTrue();
            assertThat(a.events).isEmpty();
            assertThat(b.events).isEmpty();
            answer.countDown();
            assertThat(a.firstEvent.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(b.firstEvent.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(a.events.get(0).getStatus().getPagerName()).isEqualTo("snapshot-1");
            assertThat(b.events.get(0).getStatus().getPagerName()).as("B joined the snapshot under way").isEqualTo("snapshot-1");
            assertThat(a.errors).isEmpty();
            assertThat(b.errors).isEmpty();
        } finally {
            answer.countDown();
            a.onCancel.get().run();
            if (b.onCancel.get() != null) {
                b.onCancel.get().run();
            }
        }
        assertThat(trace.on()).isFalse();
    }

    /** The server side of a PagerWatch call, always ready; counts its ticks by the timer's isReady. */
    private static final class Call extends NoopServerCall<PagerWatchEvent> {
        final AtomicReference<Runnable> onCancel = new AtomicReference<>();
        final AtomicInteger readyAsked = new AtomicInteger();
        final CountDownLatch ticked = new CountDownLatch(1);
        final CountDownLatch firstEvent = new CountDownLatch(1);
        final List<PagerWatchEvent> events = new CopyOnWriteArrayList<>();
        final List<Throwable> errors = new CopyOnWriteArrayList<>();

        @Override
        public boolean isCancelled() {
            return false;
        }

        @Override
        public void setOnCancelHandler(Runnable handler) {
            onCancel.set(handler);
        }

        @Override
        public boolean isReady() {
            if (readyAsked.incrementAndGet() == 2) {
                ticked.countDown();
            }
            return true;
        }

        @Override
        public void onNext(PagerWatchEvent value) {
            events.add(value);
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
