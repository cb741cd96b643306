package io.machxp.kernel.probe;

import static io.machxp.proto.xp.KernelToPager.RoutineCase.KERNEL_KEEPALIVE;
import static io.machxp.proto.xp.KernelToPager.RoutineCase.MEMORY_OBJECT_DATA_RETURN;
import static io.machxp.proto.xp.KernelToPager.RoutineCase.MEMORY_OBJECT_TERMINATE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.kernel.LocalTask;
import io.machxp.proto.threads.OwnThreads;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerKeepalive;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A kernel's clean end against {@link RawPager}, which answers the end's keepalive only when the
 * test says (a pager whose store has not written yet): the kernel returns its dirty page,
 * terminates its object, sends a keepalive (without a lease too) and ends its stream only once
 * that keepalive is answered (xp-spec 2.6). Before, it ended the stream right after terminate.
 * The close wait is set above the test's own waits, so that only the answer can end the close
 * in time: a close ended by its bound is a failed test, not a pass.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RawPagerCleanEndTest {
    private RawPager pager;
    private Kernel kernel;
    private RawPager.Stream stream;
    private CompletableFuture<Void> closing;
    /** Longer than any wait of the test: the close's bound never ends it. */
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(120);
    private final WatchedLogs logged = new WatchedLogs("io.machxp.kernel.PagerLinks");

    /** Records PagerLinks' log from INFO up (the module's logback-test.xml shows WARN and up only). */
    private void watchTheLog() {
        logged.start();
    }

    /** Without a lease (the kernel sends no keepalive of its own): a page written, the close begun. */
    private void writeAPageAndClose() throws Exception {
        usePageAndClose(false);
    }

    /** As {@link #writeAPageAndClose}, the page written, or read only from a precious supply. */
    private void usePageAndClose(boolean readPrecious) throws Exception {
        pager = new RawPager();
        pager.supplyPrecious = readPrecious;
        kernel = Kernel.start(KernelConfig.loopback("probe", pager.address()).withCloseWait(CLOSE_WAIT));
        LocalTask t = kernel.taskCreate("t");
        long base = t.vmMap("obj");
        if (readPrecious) {
            assertThat(t.vmRead(base + 8, 1)).containsExactly(0);
        } else {
            t.vmWrite(base + 8, new byte[] {42});
        }
        pager.answerKeepalives = false;
        watchTheLog();
        stream = pager.stream(0);
        closing = OwnThreads.run("kernel-close", kernel::close);
        await().atMost(Duration.ofSeconds(30)).until(() -> stream.count(KERNEL_KEEPALIVE) > 0 || stream.ended);
    }

    @AfterEach
    void stop() {
        logged.close();
        kernel.close();
        pager.close();
    }

    @Test
    void theStreamEndsOnlyOnceTheKeepaliveAfterTheLastReturnIsAnswered() throws Exception {
        writeAPageAndClose();
        assertThat(stream.ended).as("the kernel did not end its stream before the answer").isFalse();
        List<KernelToPager.RoutineCase> routines = stream.received.stream().map(KernelToPager::getRoutineCase)
                .toList();
        assertThat(routines.subList(routines.size() - 3, routines.size()))
                .containsExactly(MEMORY_OBJECT_DATA_RETURN, MEMORY_OBJECT_TERMINATE, KERNEL_KEEPALIVE);
        assertThat(closing).as("its close waits for the answer").isNotDone();

        long sequence = stream.received.get(routines.size() - 1).getKernelKeepalive().getSequence();
        stream.send(PagerToKernel.newBuilder().setPagerKeepalive(PagerKeepalive.newBuilder().setSequence(sequence))
                .build());
        await().atMost(Duration.ofSeconds(30)).until(() -> stream.ended);
        closing.get(30, TimeUnit.SECONDS);
        assertThat(logged.events()).as("the answer ended the wait, not its bound")
                .extracting(ILoggingEvent::getFormattedMessage).isEmpty();
    }

    /** A stream that breaks before the answer: the close goes on at once, and says what may be lost. */
    @Test
    void aStreamThatBreaksBeforeTheAnswerIsLoggedWithTheReturnsAtRisk() throws Exception {
        writeAPageAndClose();
        stream.breakIt();
        closing.get(30, TimeUnit.SECONDS);
        assertThat(logged.events()).filteredOn(e -> e.getLevel() == Level.WARN).singleElement()
                .extracting(ILoggingEvent::getFormattedMessage).asString()
                .contains("the session with pager 0 (" + pager.address() + ") ended")
                .contains("1 pages it gave back with their data");
    }

    /**
     * A precious page only read goes back with its data at the end (spec 6.10: the pager may keep
     * no copy), so it is at risk as a dirty one: a stream that breaks before the answer is logged
     * with it. Before, only dirty returns counted, and this was an INFO saying no page waited.
     */
    @Test
    void aPreciousPageGivenBackCountsAmongTheReturnsAtRisk() throws Exception {
        usePageAndClose(true);
        assertThat(stream.received.stream().filter(KernelToPager::hasMemoryObjectDataReturn).toList())
                .singleElement().satisfies(m -> assertThat(m.getMemoryObjectDataReturn().getDirty()).isFalse());
        stream.breakIt();
        closing.get(30, TimeUnit.SECONDS);
        assertThat(logged.events()).filteredOn(e -> e.getLevel() == Level.WARN).singleElement()
                .extracting(ILoggingEvent::getFormattedMessage).asString()
                .contains("1 pages it gave back with their data");
    }
    /**
     * A stream that broke earlier in the session (the kernel reclaimed on a new one) says nothing
     * of the end's: the end waits for its own answer, which comes. Before this was checked, the
     * old stream's break counted as the end's, and the close logged its answer as missing.
     */
    @Test
    void anEarlierBrokenStreamDoesNotCountAsTheEnds() throws Exception {
        pager = new RawPager();
        pager.welcome = PagerWelcome.newBuilder().setKernelId(7).setPageSize(RawPager.PAGE).setPagerName("raw")
                .setLeaseMillis(20_000).build();
        kernel = Kernel.start(KernelConfig.loopback("probe", pager.address()).withCloseWait(CLOSE_WAIT));
        LocalTask t = kernel.taskCreate("t");
        long base = t.vmMap("obj");
        t.vmWrite(base + 8, new byte[] {42});
        pager.stream(0).breakIt();
        // the kernel reconnects and reclaims; after the welcome it sends a keepalive at once
        await().atMost(Duration.ofSeconds(30)).until(() -> pager.streams.size() > 1
                && pager.stream(1).count(KERNEL_KEEPALIVE) > 0);
        watchTheLog();
        kernel.close();
        assertThat(logged.events()).extracting(ILoggingEvent::getFormattedMessage).isEmpty();
        assertThat(pager.stream(1).ended).isTrue();
    }
}
