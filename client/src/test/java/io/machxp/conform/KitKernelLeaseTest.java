package io.machxp.conform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.machxp.pager.Pager;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The kit's own kernels and their leases: a kernel keeps alive from any welcome (a case that sends
 * a reclaim's hello by hand and waits for its welcome itself, as 9.4-reclaim-again does, left it
 * silent before, so its lease ran out while the case waited for the grace period to end), and a
 * case that failed while the kit stalled under one of its kernels (silent for over half the lease
 * while it kept alive: the pager may rightly have declared it dead) is run again, as 2.2-duplicate-name
 * had to be when a loaded machine stalled the test's JVM for two seconds.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class KitKernelLeaseTest {
    /**
     * Long enough that a loaded machine does not stall the kernels that must live past a quarter
     * of it (the first run of the stalled case waits one out).
     */
    private static final Duration LEASE = Duration.ofSeconds(3);

    private Pager pager;
    private ManagedChannel channel;
    private ScheduledExecutorService timer;

    @BeforeEach
    void start() throws Exception {
        pager = KitStalls.pager("kit-lease", LEASE); // no grace to wait out
        channel = NettyChannelBuilder.forTarget(pager.target()).usePlaintext().build();
        timer = Executors.newSingleThreadScheduledExecutor();
    }

    @AfterEach
    void stop() throws InterruptedException {
        timer.shutdownNow();
        channel.shutdownNow();
        channel.awaitTermination(5, TimeUnit.SECONDS);
        pager.close();
    }

    /**
     * Fails on the old kit: only hello() started the keepalives, so this kernel sent none and was
     * declared dead a lease on.
     */
    @Test
    void aKernelKeepsAliveFromAWelcomeItAwaitedByHand() {
        FakeKernel k = new FakeKernel(channel, "by-hand", System.nanoTime() + TimeUnit.SECONDS.toNanos(60), timer);
        k.send(KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(k.name())
                .setProtocolVersion(1)));
        k.await("pager_welcome", PagerToKernel::hasPagerWelcome);
        await().atMost(Duration.ofSeconds(60)).until(() -> k.answeredSequence() >= 1 || k.ended());

        assertThat(k.answeredSequence()).as("keepalives the pager answered before it declared the kernel dead")
                .isPositive();
        assertThat(k.welcome()).isNotNull();
        k.close();
    }

    /**
     * A case whose first run fails after the kit held its kernel silent until the pager declared it
     * dead runs again and passes; a case that fails without a stall keeps its failure. Fails on the
     * old runner: the first result (FAIL) counted.
     */
    @Test
    void aCaseThatFailedWhileTheKitStalledRunsAgain() throws Exception {
        AtomicInteger stalledRuns = new AtomicInteger();
        ConformCase<PagerProbe> stalled = ConformCase.must("0.1-stalled", "the kit stalls under its first run", p -> {
            FakeKernel a = p.kernel("a");
            if (stalledRuns.incrementAndGet() == 1) {
                // The kit stalls: its keepalive timer cannot send for a (it waits for a's monitor)
                // until the pager has declared a dead.
                KitStalls.stallUnder(a, () -> !pager.kernels().contains(a.name()));
                a.awaitEnd("a declared dead");
                throw new Violation("a was declared dead");
            }
            a.sync();
        });
        ConformCase<PagerProbe> plain = ConformCase.must("0.2-plain", "fails without a stall", p -> {
            p.kernel("a").sync();
            throw new Violation("a plain failure");
        });

        List<CaseResult> results = ConformRunner.run(channel, List.of(stalled, plain),
                new ConformRunner.Options(Duration.ofSeconds(5), "shared", null, Duration.ofSeconds(60)), r -> { });

        assertThat(results.get(0).outcome()).as(results.get(0).message()).isEqualTo(CaseResult.Outcome.PASS);
        assertThat(results.get(0).message()).contains("the case ran").contains("passed on a rerun: the kit stalled")
                .contains("FAIL: a was declared dead [run 1: the kit sent nothing for");
        assertThat(stalledRuns.get()).isBetween(2, ConformRunner.MAX_RUNS);
        assertThat(results.get(0).passedOnRerun()).isTrue();
        assertThat(results.get(0).earlierRuns()).hasSize(stalledRuns.get() - 1)
                .allSatisfy(e -> assertThat(e.message()).startsWith("a was declared dead [run "));
        assertThat(results.get(1).outcome()).isEqualTo(CaseResult.Outcome.FAIL);
        assertThat(results.get(1).message()).startsWith("a plain failure");
        assertThat(results.get(1).earlierRuns()).isEmpty();

        // a pass on a rerun is no clean pass in any report
        ConformReport report = new ConformReport("pager", "kit-lease", results);
        assertThat(report.summary()).contains("1 passed (passed on a rerun: 1), 1 failed");
        assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(report.json()).get("passedOnRerun")
                .asInt()).isEqualTo(1);
        String xml = report.junitXml();
        assertThat(xml).contains("<flakyFailure message=\"a was declared dead [run 1: the kit sent nothing for");
        String testcase = xml.lines().filter(l -> l.contains("0.1-stalled")).findFirst().orElseThrow();
        assertThat(testcase).as("the testcase of the case that passed on a rerun has content").doesNotEndWith("/>");
    }

    /**
     * A case that outlived its deadline is not run again, even after the kit stalled under it: its
     * body may still be acting on the target. Fails on the old runner, which ran it again (and the
     * second run passed).
     */
    @Test
    void aCaseThatTimedOutIsNotRunAgain() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        ConformCase<PagerProbe> hangs = ConformCase.must("0.4-hangs", "the kit stalls, then the case hangs", p -> {
            FakeKernel a = p.kernel("a");
            if (runs.incrementAndGet() == 1) {
                KitStalls.stallUnder(a, () -> !pager.kernels().contains(a.name()));
                await().atMost(Duration.ofSeconds(60)).until(a::ended); // past a's own deadline
                new java.util.concurrent.CountDownLatch(1).await(); // until the runner gives up on it
            }
            a.sync();
        });

        List<CaseResult> results = ConformRunner.run(channel, List.of(hangs),
                new ConformRunner.Options(Duration.ofSeconds(2), "shared", null, Duration.ofSeconds(60)), r -> { });

        assertThat(results.get(0).outcome()).as(results.get(0).message()).isEqualTo(CaseResult.Outcome.ERROR);
        assertThat(results.get(0).message()).isEqualTo(CaseExecutor.TIMED_OUT);
        assertThat(results.get(0).earlierRuns()).isEmpty();
        assertThat(runs).hasValue(1);
    }
}
