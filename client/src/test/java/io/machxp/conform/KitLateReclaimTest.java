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
 * A reclaim case whose restart left the target's grace period over before the kit's reclaim
 * arrived (a loaded machine, a slow restart command) proves nothing: the target rightly refuses
 * the reclaim (ESTALE), which the kit must not report as "the target refuses reclaims". Here the
 * first restart of machxp's pager (with a store: it takes reclaims) returns only once the
 * restarted pager's grace period is over; the case must run again and pass on its second restart.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class KitLateReclaimTest {
    /** Long enough that the second run's reclaim comes inside the grace period on a loaded machine. */
    private static final Duration LEASE = Duration.ofSeconds(4);

    @TempDir
    Path store;
    private final AtomicReference<Pager> pager = new AtomicReference<>();
    private final AtomicInteger restarts = new AtomicInteger();

    @AfterEach
    void stop() {
        Pager p = pager.get();
        if (p != null) {
            p.close();
        }
    }

    private PagerConfig config(int port, boolean fresh) {
        return new PagerConfig("late-reclaim", "127.0.0.1", port, PagerConfig.DEFAULT_PAGE_SIZE,
                PagerConfig.defaultObjects()).withLease(LEASE).withFreshStart(fresh).withStoreDir(store);
    }

    @Test
    void aReclaimRefusedAfterTheGracePeriodRunsTheCaseAgain() throws Exception {
        pager.set(Pager.start(config(0, true)));
        PagerProbe.Restarter restarter = () -> {
            Pager old = pager.get();
            int port = old.port();
            old.close();
            Pager restarted = Pager.start(config(port, false));
            pager.set(restarted);
            if (restarts.incrementAndGet() == 1) { // the first restart: done only after its grace period
                await().atMost(Duration.ofSeconds(60)).until(() -> !restarted.status().getInGrace());
            }
        };
        ManagedChannel channel = NettyChannelBuilder.forTarget(pager.get().target()).usePlaintext().build();
        List<CaseResult> results;
        try {
            results = ConformRunner.run(channel, PagerCases.matching("^9\\.5-reclaim-page-named-twice$"),
                    new ConformRunner.Options(Duration.ofSeconds(5), "shared", restarter, Duration.ofSeconds(10)),
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
            assertThat(e.message()).contains("grace period may have ended").doesNotContain("refuses reclaims");
        });
        assertThat(r.message()).contains("passed on a rerun").contains("too late after the restart");
    }
}
