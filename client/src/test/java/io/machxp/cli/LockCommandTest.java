package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.machxp.client.KernelClient;
import io.machxp.client.TaskClient;
import io.machxp.client.ThreadClient;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.threads.OwnThreads;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** machxp lock over real gRPC: the futex is held exactly while the command runs, and the token protects. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LockCommandTest {
    static final Path FENCED = Path.of("..", "examples", "fenced-append.sh");

    Pager pager;
    Kernel a;
    Kernel b;

    @BeforeEach
    void start() throws Exception {
        pager = Pager.start(PagerConfig.loopback(PagerConfig.defaultObjects()));
        a = Kernel.start(KernelConfig.loopback("A", pager.target()));
        b = Kernel.start(KernelConfig.loopback("B", pager.target()));
    }

    @AfterEach
    void stop() {
        b.close();
        a.close();
        pager.close();
    }

    @Test
    void theFutexIsHeldWhileTheCommandRunsAndFreedAfter(@TempDir Path dir) throws Exception {
        Path started = dir.resolve("started");
        Path gate = dir.resolve("gate");
        new ProcessBuilder("mkfifo", gate.toString()).start().waitFor();
        CompletableFuture<ExitCodesTest.Run> lock = OwnThreads.supply("machxp-lock", () -> ExitCodesTest.run("lock",
                "--kernel", "127.0.0.1:" + a.port(), "shared:0", "--", "sh", "-c",
                "echo $MACHXP_FENCING_TOKEN $MACHXP_LOCK > " + started + "; read x < " + gate + "; exit 7"));
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(started) && Files.size(started) > 0);
        assertThat(Files.readString(started).trim()).matches("[1-9][0-9]* shared:0");
        try (KernelClient other = KernelClient.connect("127.0.0.1:" + b.port())) {
            TaskClient task = other.taskCreate("other");
            long base = task.vmMap("shared");
            ThreadClient t = task.threadCreate();
            assertThat(pager.holderOf("shared", 0)).isEqualTo("A");
            assertThat(t.tryLockFutex(base)).as("held while the command runs").isFalse();
            Files.writeString(gate, "go\n");
            ExitCodesTest.Run r = lock.get(30, TimeUnit.SECONDS);
            assertThat(r.exit()).as("the command's exit code").isEqualTo(7);
            assertThat(t.lockFutex(base, Duration.ofSeconds(20))).as("freed when it exited").isNotNull();
            t.unlockFutex(base);
        }
    }

    @Test
    void aWriteWithAnOlderTokenIsRefused(@TempDir Path dir) throws Exception {
        Path ledger = dir.resolve("ledger");
        String kernel = "127.0.0.1:" + a.port();
        assertThat(ExitCodesTest.run("lock", "--kernel", kernel, "shared:0", "--", FENCED.toString(), ledger.toString(),
                "first").exit()).isZero();
        assertThat(ExitCodesTest.run("lock", "--kernel", "127.0.0.1:" + b.port(), "shared:0", "--",
                FENCED.toString(), ledger.toString(), "second").exit()).isZero();
        assertThat(Files.readAllLines(ledger)).containsExactly("first", "second");
        long newest = Long.parseLong(Files.readString(dir.resolve("ledger.token")).trim());
        // A holder paused past its lease comes back with the token it had: refused.
        ProcessBuilder stale = new ProcessBuilder(FENCED.toString(), ledger.toString(), "stale");
        stale.environment().put("MACHXP_FENCING_TOKEN", Long.toString(newest - 1));
        Process p = stale.redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).isEqualTo(2);
        assertThat(out).contains("refused: fencing token " + (newest - 1) + " is older than " + newest);
        assertThat(Files.readAllLines(ledger)).containsExactly("first", "second");
    }

    @Test
    void usageErrorsAndAnUnreachableKernelHaveTheirCodes() {
        assertThat(ExitCodesTest.run("lock", "--kernel", "127.0.0.1:" + a.port(), "shared", "--", "true").exit())
                .isEqualTo(ExitCodes.USAGE);
        ExitCodesTest.Run r = ExitCodesTest.run("lock", "--kernel", "127.0.0.1:1", "shared:0", "--", "true");
        assertThat(r.exit()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(r.err()).contains("cannot reach 127.0.0.1:1");
    }
}
