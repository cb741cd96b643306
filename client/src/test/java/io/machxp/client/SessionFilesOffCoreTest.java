package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A kernel that renews its session makes the new session's shared-memory files on its file
 * thread, never on its core thread: with the file thread held, the core has already gone on past
 * the renewal, and no file of the new session exists yet; once the file thread runs, the session
 * opens with its memory shared.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SessionFilesOffCoreTest {
    @Test
    void theNextSessionsKernelFileIsMadeOnTheFileThread(@TempDir Path shm) throws Exception {
        try (Pager pager = Pager.start(PagerConfig.loopback(Map.of("obj", 16_384L)).withLease(Duration.ZERO));
                Kernel a = Kernel.start(KernelConfig.loopback("A", pager.target()).withShmDir(shm))) {
            assertThat(kernelFiles(shm)).isEqualTo(1);
            CountDownLatch held = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            a.executeOnFileThread(() -> {
                held.countDown();
                awaitQuietly(release);
            });
            held.await();
            CompletableFuture<Long> filesAfterRenew = new CompletableFuture<>();
            try {
                a.execute(() -> {
                    a.core().xp().onPagerLost(0, "the test ends the session");
                    // The renewal was queued on the core by the loss: this runs right after it.
                    a.execute(() -> filesAfterRenew.complete(kernelFiles(shm)));
                });
                assertThat(filesAfterRenew.get(30, TimeUnit.SECONDS))
                        .as("the core went past the renewal without making the next session's file").isEqualTo(1);
                assertThat(a.sessionsOpened()).isEqualTo(1);
            } finally {
                release.countDown();
            }
            await().atMost(30, TimeUnit.SECONDS).until(() -> a.sessionsOpened() == 2);
            assertThat(a.core().sharedMemory()).as("the new session shares memory").isNotNull();
            await().atMost(30, TimeUnit.SECONDS).until(() -> kernelFiles(shm) == 1); // the old session's went
        }
    }

    /** The sessions' kernel files: one in each session's directory. */
    private static long kernelFiles(Path dir) {
        try (var files = Files.walk(dir, 2)) {
            return files.filter(f -> f.getFileName().toString().equals("kernel")).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
