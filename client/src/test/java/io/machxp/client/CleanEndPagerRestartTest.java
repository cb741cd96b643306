package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.pager.lib.XpPager;
import io.machxp.pager.store.FilePageStore;
import io.machxp.proto.threads.OwnThreads;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/**
 * A pager that crashes while a kernel with a lease waits, in its clean end, for the answer that
 * says what it gave back is stored (xp-spec 2.6): the kernel's session is still open then, with
 * the copies of its unconfirmed returns, so it reclaims at the pager started again on the same
 * port and files, and its close ends once that pager stored the page. Before, the kernel had
 * stopped using the pager before the wait: the break ended its close with a WARN, the page lost.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class CleanEndPagerRestartTest {
    private static final int PAGE = 4096;

    private static PagerConfig config(int port) {
        return new PagerConfig("pager", "127.0.0.1", port, PAGE, Map.of("obj", 4L * PAGE))
                .withLease(Duration.ofSeconds(10));
    }

    @Test
    void aKernelEndingCleanlyReclaimsAtARestartedPagerAndItsPageIsStored() throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("clean-end-restart");
        GatedStore store = new GatedStore(new FilePageStore(dir, PAGE));
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        Logger linksLog = (Logger) LoggerFactory.getLogger("io.machxp.kernel.PagerLinks");
        Level linksLevel = linksLog.getLevel();
        linksLog.setLevel(Level.INFO);
        logged.start();
        linksLog.addAppender(logged);
        Pager first = XpPager.serve(store).config(config(0)).start();
        int port = first.port();
        Pager[] second = new Pager[1];
        GatedStore[] restarted = new GatedStore[1];
        try (AutoCloseable unwatched = () -> {
                    linksLog.detachAppender(logged);
                    linksLog.setLevel(linksLevel);
                };
                AutoCloseable pagers = () -> {
                    store.crash(); // a failed check leaves no write waiting at the close
                    first.close();
                    if (second[0] != null) {
                        second[0].close();
                    }
                };
                // a close wait longer than the test's waits: only the answer can end the close in time
                Kernel kernel = Kernel.start(KernelConfig.loopback("A", first.target())
                        .withCloseWait(Duration.ofSeconds(60)));
                KernelClient client = KernelClient.connect("127.0.0.1:" + kernel.port())) {
            TaskClient task = client.taskCreate("writer");
            long base = task.vmMap("obj");
            task.writeLong(base + 24, 0x1234_5678_9abcL);
            CompletableFuture<Void> closing = OwnThreads.run("kernel-close", kernel::close);
            await().atMost(Duration.ofSeconds(30)).until(() -> store.held() > 0);
            assertThat(closing).as("its close waits for the store").isNotDone();

            // The pager crashes: the write it held never reaches the disk.
            CompletableFuture<Void> crashed = OwnThreads.run("pager-crash", () -> {
                store.crash();
                first.close();
            });
            crashed.get(30, TimeUnit.SECONDS);
            // Started again on the same port and files: it holds its grace and takes reclaims.
            GatedStore again = new GatedStore(new FilePageStore(dir, PAGE));
            again.open();
            assertThat(again.stored("obj", 0)).as("the crashed pager stored nothing").isNull();
            restarted[0] = again;
            second[0] = XpPager.serve(again).config(config(port)).start();

            closing.get(45, TimeUnit.SECONDS);
            assertThat(second[0].kernels()).as("the kernel ended its stream at the new pager").isEmpty();
            assertThat(logged.list).as("the answer ended the close's wait, not its bound")
                    .extracting(ILoggingEvent::getFormattedMessage).isEmpty();
        }
        byte[] stored = new FilePageStore(dir, PAGE).read("obj", 0);
        assertThat(stored).as("the page reclaimed at the new pager is in the store").isNotNull();
        assertThat(ByteBuffer.wrap(stored).order(ByteOrder.LITTLE_ENDIAN).getLong(24)).isEqualTo(0x1234_5678_9abcL);
    }
}
