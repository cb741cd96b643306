package io.machxp.pager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.EventLoop;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A pager whose core thread is stuck (here: a task on it that waits for a latch the test holds):
 * the questions other threads ask the core must come back, not hang their threads (late4 review
 * A4). Before, the metrics' gauges of the record counts, kernels(), holderOf() and close() waited
 * for the core without a bound: each get below timed out after 30 s (the test's own guard against
 * a hang, not a timing assert). Now a scrape reads NaN, the API calls throw CoreNotAnswering with
 * a sentence, and close goes on without the core's answers. The pager's bounds are 50 ms here
 * instead of 1 s and 5 s ({@link Pager#bounds}: late6 review A5, the test waited them out for ~16 s),
 * and no step needs the core to answer within one: while it runs, the test asks until it has.
 */
class StuckCoreQueriesTest {
    @Test
    void aStuckCoreHangsNeitherAScrapeNorACallerNorClose() throws Exception {
        ExecutorService asker = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "test-asker");
            t.setDaemon(true);
            return t;
        });
        CountDownLatch unstick = new CountDownLatch(1);
        boolean closed = false;
        Pager pager = Pager.start(PagerConfig.loopback(Map.of("obj", 4096L)).withLease(Duration.ZERO))
                .bounds(BOUND, BOUND, BOUND);
        try {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            pager.publishMetricsTo(registry);
            assertThat(answered(registry, asker)).as("answered: a count").isEqualTo(0.0);

            CountDownLatch stuck = new CountDownLatch(1);
            core(pager).execute(() -> {
                stuck.countDown();
                try {
                    unstick.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            stuck.await();

            Future<Double> scrape = asker.submit(() -> registry.get("machxp.pages.resident").gauge().value());
            assertThat(scrape.get(30, TimeUnit.SECONDS)).as("unknown while the core does not answer").isNaN();
            Future<Double> again = asker.submit(() -> registry.get("machxp.futex.records").gauge().value());
            assertThat(again.get(30, TimeUnit.SECONDS)).isNaN();

            Future<?> kernels = asker.submit(() -> {
                assertThatThrownBy(pager::kernels).isInstanceOf(CoreNotAnswering.class)
                        .hasMessageContaining("did not answer within 50 ms");
                return null;
            });
            kernels.get(30, TimeUnit.SECONDS);

            unstick.countDown(); // the core answers again: so do the gauges, after the query left queued
            assertThat(answered(registry, asker)).isEqualTo(0.0);

            CountDownLatch stuckAgain = new CountDownLatch(1);
            CountDownLatch never = new CountDownLatch(1);
            core(pager).execute(() -> {
                stuckAgain.countDown();
                try {
                    never.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            stuckAgain.await();
            Future<?> closing = asker.submit(pager::close);
            closing.get(60, TimeUnit.SECONDS); // old code: waits for the stuck core for good
            closed = true;
            never.countDown();
        } finally {
            unstick.countDown();
            if (!closed) {
                pager.close();
            }
            asker.shutdownNow();
        }
    }

    /** The pager's bounds on waiting for its core here (1 s and 5 s by default). */
    private static final Duration BOUND = Duration.ofMillis(50);

    /** The resident-pages gauge once the running core has answered a scrape (NaN until then: asked again). */
    private static double answered(SimpleMeterRegistry registry, ExecutorService asker) throws Exception {
        double answered = Double.NaN;
        while (Double.isNaN(answered)) {
            answered = asker.submit(() -> registry.get("machxp.pages.resident").gauge().value())
                    .get(30, TimeUnit.SECONDS);
        }
        return answered;
    }

    /** The pager's core thread, to put the stalling task on (the test reaches into the pager for it). */
    private static EventLoop core(Pager pager) throws ReflectiveOperationException {
        java.lang.reflect.Field loop = Pager.class.getDeclaredField("loop");
        loop.setAccessible(true);
        return (EventLoop) loop.get(pager);
    }
}
