package io.machxp.conform;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.machxp.conform.kernel.FakePager;
import io.machxp.pager.Pager;
import io.machxp.proto.xp.PagerToKernel;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * When the kit runs a failed case again: only on its own evidence that it stalled (a kernel it let
 * go over half a lease without sending) and a lease's death (FAILED_PRECONDITION / ETIMEDOUT, spec
 * 4.5). A target, behind a proxy, ends the stream of the case's first kernel once, 0.7 of a lease
 * after its welcome; a case's first run fails on that, a later run passes.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class KitStallRerunTest {
    /** The kit's kernels send every quarter of it: a kit stall of a quarter lease would be needed to count. */
    private static final Duration LEASE = Duration.ofSeconds(4);

    private Pager pager;
    private ScheduledExecutorService timer;
    private XpProxy proxy;
    private ManagedChannel channel;
    /** The case's first kernel got its welcome (the plant picked its link). */
    private final AtomicBoolean picked = new AtomicBoolean();
    /** The plant ended that kernel's stream. */
    private final AtomicBoolean dropped = new AtomicBoolean();
    private final AtomicInteger runs = new AtomicInteger();

    @BeforeEach
    void start() throws Exception {
        pager = KitStalls.pager("kit-stall", LEASE);
        timer = Executors.newSingleThreadScheduledExecutor();
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow();
            channel.awaitTermination(5, TimeUnit.SECONDS);
        }
        if (proxy != null) {
            proxy.close();
        }
        pager.close();
        timer.shutdownNow();
    }

    /**
     * The plant: on the case's first kernel only, the target stops answering keepalives after its
     * welcome and, 0.7 L after it, ends the stream with {@code end} (the kernel kept sending every
     * L/4, and its hello is younger than L: a breach of 4.1).
     */
    private void target(Throwable end) throws Exception {
        proxy = new XpProxy(pager.target(), new XpProxy.Plant() {
            volatile XpProxy.Link victim;

            @Override
            public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
                if (m.hasPagerWelcome() && link.name != null && link.name.endsWith("0.3-dropped-a")
                        && picked.compareAndSet(false, true)) {
                    victim = link;
                    timer.schedule(() -> {
                        link.cut(end);
                        dropped.set(true);
                    }, LEASE.toMillis() * 7 / 10, TimeUnit.MILLISECONDS);
                    return m;
                }
                return link == victim && m.hasPagerKeepalive() ? null : m;
            }
        });
        channel = NettyChannelBuilder.forTarget(proxy.target()).usePlaintext().build();
    }

    private CaseResult run(ConformCase<PagerProbe> c) throws Exception {
        return ConformRunner.run(channel, List.of(c),
                new ConformRunner.Options(Duration.ofSeconds(10), "shared", null, Duration.ofSeconds(60)), r -> { })
                .get(0);
    }

    /**
     * The case the plant targets: on its first run, the target drops its kernel a (and with
     * {@code kitStalls} the kit sends nothing for a until it has); a later run only syncs a.
     */
    private ConformCase<PagerProbe> aDroppedOnItsFirstRun(String title, boolean kitStalls) {
        return ConformCase.must("0.3-dropped", title, p -> {
            FakeKernel a = p.kernel("a");
            if (runs.incrementAndGet() == 1) {
                if (kitStalls) {
                    KitStalls.stallUnder(a, dropped::get);
                }
                a.awaitEnd("the target drops a");
            }
            a.sync();
        });
    }

    private static Throwable leaseDeath() {
        return FakePager.error(Status.Code.FAILED_PRECONDITION, "ETIMEDOUT", "declared dead by the plant");
    }

    /**
     * The reviewer's probe: the target stalls once and declares dead, with the lease's death, a
     * kernel the kit kept sending for on time: the case FAILS, it is not run again. Fails on the old
     * runner, which counted the target's unanswered keepalives as a stall (lease unconfirmed for
     * 0.7 L) and passed the case on its second run.
     */
    @Test
    void aTargetThatStallsOnceAndDropsAKernelThatKeptSendingFails() throws Exception {
        target(leaseDeath());
        CaseResult r = run(aDroppedOnItsFirstRun("a live kernel is not dropped", false));

        assertThat(r.outcome()).as(r.message()).isEqualTo(CaseResult.Outcome.FAIL);
        assertThat(r.earlierRuns()).isEmpty();
        assertThat(runs).hasValue(1);
        assertThat(r.message()).contains("the stream ended (FAILED_PRECONDITION").doesNotContain("the case ran");
    }

    /**
     * The kit stalls (a's keepalives wait for its monitor) while the target ends a's stream, but
     * not with the lease's death (UNAVAILABLE, as a crashed session): no rerun. Fails on the old
     * runner, which counted any end.
     */
    @Test
    void aKernelLostOtherwiseThanByItsLeaseIsNoStall() throws Exception {
        target(Status.UNAVAILABLE.withDescription("the plant's session crashed").asRuntimeException());
        CaseResult r = run(aDroppedOnItsFirstRun("a kernel the kit stalled under is lost", true));

        assertThat(r.outcome()).as(r.message()).isEqualTo(CaseResult.Outcome.FAIL);
        assertThat(r.earlierRuns()).isEmpty();
        assertThat(runs).hasValue(1);
    }

    /**
     * The same kit stall, and the target ends a's stream with the lease's death: the kit's own
     * evidence, so the case runs again and passes, and the result keeps the first run's failure.
     */
    @Test
    void aKernelTheKitStalledUnderAndTheTargetDeclaredDeadRunsAgain() throws Exception {
        target(leaseDeath());
        CaseResult r = run(aDroppedOnItsFirstRun("a kernel the kit stalled under is lost", true));

        assertThat(r.outcome()).as(r.message()).isEqualTo(CaseResult.Outcome.PASS);
        assertThat(r.passedOnRerun()).isTrue();
        assertThat(runs).hasValue(2);
        assertThat(r.earlierRuns()).singleElement().satisfies(e -> {
            assertThat(e.outcome()).isEqualTo(CaseResult.Outcome.FAIL);
            assertThat(e.message()).contains("the stream ended (FAILED_PRECONDITION").contains("the kit sent nothing for");
        });
    }

    /**
     * A kernel keeps the send times of its unanswered keepalives only above the last answered
     * sequence, and at most {@link FakeKernel#UNANSWERED_KEPT} of them. Fails on the old kernel,
     * which kept every one no answer named (100, then 100 after a later answer).
     */
    @Test
    void unansweredKeepalivesAreBoundedAndDroppedByALaterAnswer() throws Exception {
        AtomicBoolean holdAnswers = new AtomicBoolean();
        proxy = new XpProxy(pager.target(), new XpProxy.Plant() {
            @Override
            public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
                return holdAnswers.get() && m.hasPagerKeepalive() ? null : m;
            }
        });
        channel = NettyChannelBuilder.forTarget(proxy.target()).usePlaintext().build();
        AtomicReference<Runnable> tick = new AtomicReference<>();
        ScheduledThreadPoolExecutor byHand = new ScheduledThreadPoolExecutor(1) {
            @Override
            public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period,
                    TimeUnit unit) {
                tick.set(command); // the test fires the kernel's keepalives itself
                return schedule(() -> { }, 1, TimeUnit.DAYS);
            }
        };
        FakeKernel k = new FakeKernel(channel, "unanswered", System.nanoTime() + TimeUnit.SECONDS.toNanos(60), byHand);
        try {
            k.hello();
            holdAnswers.set(true);
            for (int i = 0; i < 100; i++) {
                tick.get().run();
            }
            assertThat(k.unansweredKeepalives()).isEqualTo(FakeKernel.UNANSWERED_KEPT);

            holdAnswers.set(false);
            k.sync();
            assertThat(k.unansweredKeepalives()).isZero();
        } finally {
            k.close();
            byHand.shutdownNow();
        }
    }
}
