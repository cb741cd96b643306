package io.machxp.conform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reclaim again of 9.4-reclaim-again arriving after the restarted target's grace period is
 * over (a loaded machine: the CI run of review kitload) proves nothing: the target rightly refuses
 * it (ESTALE), though it took the first reclaim. Here a proxy keeps the first run's broken stream
 * from machxp's restarted pager until its grace period is over, so the kit's reclaims again are
 * told EAGAIN, then ESTALE; the case must be skipped as late (not failed), run again, and pass on
 * its second restart.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class KitLateReclaimAgainTest {
    /** Long enough that the second run's reclaims come inside the grace period on a loaded machine. */
    private static final Duration LEASE = Duration.ofSeconds(4);

    @TempDir
    Path store;
    private final AtomicReference<Pager> pager = new AtomicReference<>();
    private final AtomicInteger restarts = new AtomicInteger();
    private XpProxy proxy;

    @AfterEach
    void stop() throws InterruptedException {
        if (proxy != null) {
            proxy.close();
        }
        Pager p = pager.get();
        if (p != null) {
            p.close();
        }
    }

    private PagerConfig config(int port, boolean fresh) {
        return new PagerConfig("late-reclaim-again", "127.0.0.1", port, PagerConfig.DEFAULT_PAGE_SIZE,
                PagerConfig.defaultObjects()).withLease(LEASE).withFreshStart(fresh).withStoreDir(store);
    }

    @Test
    void aReclaimAgainRefusedAfterTheGracePeriodRunsTheCaseAgain() throws Exception {
        pager.set(Pager.start(config(0, true)));
        PagerProbe.Restarter restarter = () -> {
            Pager old = pager.get();
            int port = old.port();
            old.close();
            pager.set(Pager.start(config(port, false)));
            restarts.incrementAndGet();
        };
        proxy = new XpProxy(pager.get().target(), new XpProxy.Plant() {
            @Override
            public void broken(XpProxy.Link link, Throwable t) {
                // In the first run, the pager sees the welcomed reclaim's stream break only when its
                // grace period is over: it tells the reclaims again EAGAIN until then, ESTALE after.
                if (restarts.get() == 1) {
                    Pager restarted = pager.get();
                    await().atMost(Duration.ofSeconds(60)).until(() -> !restarted.status().getInGrace());
                }
                link.pager.onError(t);
            }
        });
        ManagedChannel channel = NettyChannelBuilder.forTarget(proxy.target()).usePlaintext().build();
        List<CaseResult> results;
        try {
            results = ConformRunner.run(channel, PagerCases.matching("^9\\.4-reclaim-again$"),
                    new ConformRunner.Options(Duration.ofSeconds(30), "shared", restarter, Duration.ofSeconds(10)),
                    r -> System.out.println(ConformReport.line(r)));
        } finally {
            channel.shutdownNow();
            channel.awaitTermination(5, TimeUnit.SECONDS);
        }

        assertThat(results).hasSize(1);
        CaseResult r = results.get(0);
        assertThat(r.outcome()).as(r.message()).isEqualTo(CaseResult.Outcome.PASS);
        assertThat(restarts).hasValue(2);
        assertThat(r.earlierRuns()).singleElement().satisfies(e -> {
            assertThat(e.outcome()).isEqualTo(CaseResult.Outcome.SKIP);
            assertThat(e.message()).contains("the reclaim again (attempt 2").contains("grace period may have ended");
        });
    }
}
