package io.machxp.kernel.probe;

import static io.machxp.proto.xp.KernelToPager.RoutineCase.KERNEL_HELLO;
import static io.machxp.proto.xp.KernelToPager.RoutineCase.KERNEL_KEEPALIVE;
import static io.machxp.proto.xp.KernelToPager.RoutineCase.MEMORY_OBJECT_DATA_RETURN;
import static io.machxp.proto.xp.KernelToPager.RoutineCase.MEMORY_OBJECT_TERMINATE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.spi.ILoggingEvent;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.kernel.LocalTask;
import io.machxp.proto.threads.OwnThreads;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerWelcome;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A kernel with a lease ends cleanly in two parts (xp-spec 2.6): its pages go back and the end's
 * keepalive goes out, then the session stays open until the answer; only then does it terminate
 * its objects and end its stream. A stream that breaks during that wait is reclaimed as in the
 * session's life, with the copies of the returns the pager has not confirmed, and the keepalive
 * after the reclaim's welcome ends the wait. Before, the kernel had stopped using the pager before
 * the wait, so the break ended the close at once with a WARN and the returns were lost.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TwoPhaseCleanEndTest {
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(120);
    private final WatchedLogs logged = new WatchedLogs("io.machxp.kernel.PagerLinks");
    private RawPager pager;
    private Kernel kernel;

    @AfterEach
    void stop() {
        logged.close();
        kernel.close();
        pager.close();
    }

    @Test
    void aStreamBrokenDuringTheWaitIsReclaimedWithTheReturnsAndTheNewAnswerEndsIt() throws Exception {
        pager = new RawPager();
        pager.welcome = PagerWelcome.newBuilder().setKernelId(7).setPageSize(RawPager.PAGE).setPagerName("raw")
                .setLeaseMillis(20_000).build();
        kernel = Kernel.start(KernelConfig.loopback("probe", pager.address()).withCloseWait(CLOSE_WAIT));
        LocalTask t = kernel.taskCreate("t");
        long base = t.vmMap("obj");
        t.vmWrite(base + 8, new byte[] {42});
        pager.answerKeepalives = false; // a store that has not written yet
        logged.start();
        RawPager.Stream first = pager.stream(0);
        long before = first.count(KERNEL_KEEPALIVE);
        CompletableFuture<Void> closing = OwnThreads.run("kernel-close", kernel::close);
        await().atMost(Duration.ofSeconds(30)).until(() -> first.count(MEMORY_OBJECT_DATA_RETURN) > 0
                && first.count(KERNEL_KEEPALIVE) > before);
        assertThat(first.count(MEMORY_OBJECT_TERMINATE)).as("terminate waits for the answer").isZero();

        pager.answerKeepalives = true; // the restarted pager's store writes
        first.breakIt();
        closing.get(30, TimeUnit.SECONDS);

        RawPager.Stream second = pager.stream(1);
        List<KernelToPager.RoutineCase> routines = second.received.stream().map(KernelToPager::getRoutineCase)
                .toList();
        assertThat(routines.get(0)).isEqualTo(KERNEL_HELLO);
        var reclaimed = second.received.get(0).getKernelHello().getReclaim().getObjects(0).getPages(0);
        assertThat(reclaimed.getData().byteAt(8)).as("the reclaim carries the unconfirmed return").isEqualTo((byte) 42);
        assertThat(routines).contains(KERNEL_KEEPALIVE);
        assertThat(routines.get(routines.size() - 1)).as("terminate once the answer came")
                .isEqualTo(MEMORY_OBJECT_TERMINATE);
        assertThat(second.ended).isTrue();
        assertThat(logged.events()).as("the answer ended the wait: nothing to say")
                .extracting(ILoggingEvent::getFormattedMessage).isEmpty();
    }

    @Test
    void aSessionInTheWaitTakesNoNewTask() throws Exception {
        pager = new RawPager();
        pager.welcome = PagerWelcome.newBuilder().setKernelId(7).setPageSize(RawPager.PAGE).setPagerName("raw")
                .setLeaseMillis(20_000).build();
        kernel = Kernel.start(KernelConfig.loopback("probe", pager.address()).withCloseWait(CLOSE_WAIT));
        LocalTask t = kernel.taskCreate("t");
        t.vmWrite(t.vmMap("obj") + 8, new byte[] {42});
        pager.answerKeepalives = false;
        RawPager.Stream first = pager.stream(0);
        CompletableFuture<Void> closing = OwnThreads.run("kernel-close", kernel::close);
        await().atMost(Duration.ofSeconds(30)).until(() -> first.count(MEMORY_OBJECT_DATA_RETURN) > 0);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> kernel.taskCreate("late"))
                .isInstanceOfSatisfying(io.machxp.kernel.core.KernelException.class,
                        e -> assertThat(e.errno()).isEqualTo(io.machxp.proto.task.Errno.ESRCH))
                .hasMessageContaining("takes no new task or mapping");
        pager.answerKeepalives = true;
        first.breakIt(); // the reclaim's keepalive is answered: the close ends
        closing.get(30, TimeUnit.SECONDS);
    }
}
