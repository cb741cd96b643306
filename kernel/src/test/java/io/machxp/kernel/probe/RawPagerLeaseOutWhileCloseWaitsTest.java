package io.machxp.kernel.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.proto.threads.OwnThreads;
import io.machxp.proto.xp.PagerWelcome;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A kernel closed while a session of its is being resumed waits for the resume (xp-spec 4.7);
 * here the pager answers neither the resume nor a keepalive, and the session's lease runs out
 * during that wait. The session is then over (a secondary pager's is replaced by a rejoin's new
 * one): nothing kept will be sent, and the close goes on at once, not at the end of its close
 * wait. Nothing on the stream says so: the core does ({@code KernelEnv.resumeOver}). The close
 * wait here is ten minutes, far past the test's bound, so a close that missed it does not return
 * in time.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RawPagerLeaseOutWhileCloseWaitsTest {
    /** The lease of the pager that stops answering: long enough for the close to begin its wait first. */
    private static final long SHORT_LEASE_MILLIS = 6_000;
    private static final Duration CLOSE_WAIT = Duration.ofMinutes(10);
    private final List<RawPager> pagers = new ArrayList<>();
    private Kernel kernel;
    private final WatchedLogs logged = new WatchedLogs("io.machxp.kernel.PagerLinks", "io.machxp.kernel.core.KernelCore");

    @AfterEach
    void stop() {
        logged.close();
        if (kernel != null) {
            kernel.close();
        }
        pagers.forEach(RawPager::close);
    }

    private RawPager pager(long leaseMillis, long token) throws Exception {
        RawPager p = new RawPager();
        p.welcome = PagerWelcome.newBuilder().setKernelId(7).setPageSize(RawPager.PAGE).setPagerName("raw" + token)
                .setLeaseMillis(leaseMillis).setSessionToken(token).build();
        pagers.add(p);
        return p;
    }

    private void watchLog() {
        logged.start();
    }

    private boolean logSays(String text) {
        return logged.says(text);
    }

    /**
     * {@code p} answers no keepalive and no hello from now on: the kernel counts its stream
     * stalled and resumes the session on a new connection, whose hello goes unanswered.
     */
    private static void stallIntoAnUnansweredResume(RawPager p) {
        p.answerHello = false;
        p.answerKeepalives = false;
        await().atMost(Duration.ofSeconds(20)).until(() -> p.streams.size() >= 2 && !p.stream(1).received.isEmpty());
        assertThat(p.stream(1).received.get(0).getKernelHello().hasResume()).as("the second stream resumes").isTrue();
    }

    /** Closes the kernel on another thread; returns once the close says it waits for pager {@code p}'s resume. */
    private CompletableFuture<Void> closeWaitingForTheResumeOf(int p) {
        CompletableFuture<Void> closing = OwnThreads.run("kernel-close", kernel::close);
        await().atMost(Duration.ofSeconds(20))
                .until(() -> logSays("its close waits for the resume of its session with pager " + p + " "));
        return closing;
    }

    /**
     * Pager 1 (a secondary) stops answering; its lease runs out while its resume is unanswered and
     * the close waits for it. The session is replaced by a rejoin's: the close goes on.
     */
    @Test
    void aSecondaryPagersLeaseRunningOutEndsTheCloseWaitForItsResume() throws Exception {
        RawPager primary = pager(60_000, 1);
        RawPager secondary = pager(SHORT_LEASE_MILLIS, 2);
        kernel = Kernel.start(KernelConfig.loopback("probe", primary.address() + "," + secondary.address())
                .withCloseWait(CLOSE_WAIT));
        watchLog();
        stallIntoAnUnansweredResume(secondary);

        CompletableFuture<Void> closing = closeWaitingForTheResumeOf(1);
        closing.get(20, TimeUnit.SECONDS);
        assertThat(logSays("its lease with pager 1 ran out")).as("the lease ended the wait").isTrue();
    }

    /**
     * The kernel's only pager stops answering; its lease runs out while its resume is unanswered
     * and the close waits for it. The session is lost: nothing it keeps will be sent, the close goes on.
     */
    @Test
    void theOnlyPagersLeaseRunningOutEndsTheCloseWaitForItsResume() throws Exception {
        RawPager only = pager(SHORT_LEASE_MILLIS, 1);
        kernel = Kernel.start(KernelConfig.loopback("probe", only.address()).withCloseWait(CLOSE_WAIT));
        watchLog();
        stallIntoAnUnansweredResume(only);

        CompletableFuture<Void> closing = closeWaitingForTheResumeOf(0);
        closing.get(20, TimeUnit.SECONDS);
        assertThat(logSays("its lease ran out")).as("the lease ended the wait").isTrue();
    }
}
