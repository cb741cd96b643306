package io.machxp.pager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.SingleThreadEventExecutor;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * Status questions that time out on a stuck core (here: a task on it waiting for a latch the test
 * holds) must not pile up there (late6 review A1): every asker shares the one snapshot in flight.
 * Before, each of the 20 timed-out asks below left its own snapshot queued on the core (20 tasks);
 * now there is one, and once the core runs again the next ask gets an answer.
 */
class StatusNoPileOnStuckCoreTest {
    @Test
    void timedOutStatusAsksLeaveOneSnapshotQueued() throws Exception {
        Pager pager = Pager.start(PagerConfig.loopback(Map.of("obj", 4096L)).withLease(Duration.ZERO));
        CountDownLatch unstick = new CountDownLatch(1);
        try {
            EventLoop loop = core(pager);
            CountDownLatch stuck = new CountDownLatch(1);
            loop.execute(() -> {
                stuck.countDown();
                try {
                    unstick.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            stuck.await();
            int before = ((SingleThreadEventExecutor) loop).pendingTasks();
            for (int i = 0; i < 20; i++) {
                assertThatThrownBy(() -> pager.status(Duration.ofMillis(1))).isInstanceOf(CoreNotAnswering.class);
            }
            assertThat(((SingleThreadEventExecutor) loop).pendingTasks() - before)
                    .as("snapshots queued on the stuck core by 20 timed-out asks").isEqualTo(1);

            unstick.countDown();
            assertThat(pager.status(Duration.ofSeconds(30)).getPagerName()).isNotEmpty();
        } finally {
            unstick.countDown();
            pager.close();
        }
    }

    /** The pager's core thread, to put the stalling task on (the test reaches into the pager for it). */
    private static EventLoop core(Pager pager) throws ReflectiveOperationException {
        java.lang.reflect.Field loop = Pager.class.getDeclaredField("loop");
        loop.setAccessible(true);
        return (EventLoop) loop.get(pager);
    }
}
