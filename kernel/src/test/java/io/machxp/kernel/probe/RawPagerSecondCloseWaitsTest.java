package io.machxp.kernel.probe;

import static io.machxp.proto.xp.KernelToPager.RoutineCase.KERNEL_KEEPALIVE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.proto.threads.OwnThreads;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two closes of one kernel at once (a command's own close and its close at exit on a SIGTERM):
 * the second returns only once the first has finished, so a close at exit never lets the JVM halt
 * while the kernel still ends its session and removes its session directory. Before, the second
 * returned at once (the close was only CAS-idempotent). The first close is held in its wait for the
 * pager's answer to the keepalive after the last return (RawPager answers none here; the close wait
 * is far past the test's bound), until the test breaks the stream. What the first close does last
 * (its session directory removed, in a shared directory of the test's own) is done when the second returns.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RawPagerSecondCloseWaitsTest {
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(120);
    private RawPager pager;
    private Kernel kernel;
    @TempDir
    Path shm;

    @AfterEach
    void stop() {
        if (kernel != null) {
            kernel.close();
        }
        if (pager != null) {
            pager.close();
        }
    }

    @Test
    void aSecondCloseReturnsOnlyAfterTheFirstHasFinished() throws Exception {
        pager = new RawPager();
        kernel = Kernel.start(KernelConfig.loopback("probe", pager.address()).withShmDir(shm)
                .withCloseWait(CLOSE_WAIT));
        assertThat(entries()).as("the session's directory").hasSize(1);
        pager.answerKeepalives = false;
        RawPager.Stream stream = pager.stream(0);
        CompletableFuture<Void> first = OwnThreads.run("kernel-close", kernel::close);
        await().atMost(Duration.ofSeconds(30)).until(() -> stream.count(KERNEL_KEEPALIVE) > 0);
        assertThat(first).as("the first close waits for the pager's answer").isNotDone();

        AtomicReference<Integer> leftWhenSecondReturned = new AtomicReference<>();
        Thread second = new Thread(() -> {
            kernel.close();
            leftWhenSecondReturned.set(entries().size());
        }, "second close");
        second.start();
        // the second close either returned (the old behaviour) or waits for the first
        await().atMost(Duration.ofSeconds(30)).until(() -> second.getState() == Thread.State.WAITING
                || second.getState() == Thread.State.TERMINATED);
        assertThat(leftWhenSecondReturned.get()).as("the second close has not returned before the first").isNull();

        stream.breakIt(); // the first close goes on at once
        first.get(30, TimeUnit.SECONDS);
        second.join(30_000);
        assertThat(leftWhenSecondReturned.get()).as("the session's directory was gone when the second close returned")
                .isZero();
    }

    private java.util.List<Path> entries() {
        try (var list = Files.list(shm)) {
            return list.toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
