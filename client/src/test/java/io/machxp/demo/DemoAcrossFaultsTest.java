package io.machxp.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.machxp.cluster.EmbeddedCluster;
import io.machxp.proto.threads.OwnThreads;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The demo against running kernels, one of which crashes while the workers run (its threads hold
 * futexes others wait for): the demo goes on, counts the errors by kind, finishes and reports;
 * what the crashed kernel had not returned is lost, and told as OWNER_DIED, so it is no silent loss.
 */
class DemoAcrossFaultsTest {
    @Test
    void theDemoGoesOnAcrossAKernelCrashAndStillReports() throws Exception {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(3, true, Map.of("shared", 6 * 4096L))) {
            DemoOptions options = new DemoOptions(3, 2, 6, 1500, 0.3, 7, true, false, cluster.kernelTargets(),
                    cluster.pager().target(), "shared");
            CompletableFuture<DemoReport> run = OwnThreads.supply("demo", () -> {
                try {
                    return Demo.run(options);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            await().atMost(60, TimeUnit.SECONDS).until(() -> cluster.pager().stats().messages() > 300);
            cluster.kernel(1).crash();
            DemoReport report = run.get(180, TimeUnit.SECONDS);
            assertThat(report.violations()).isZero();
            assertThat(report.errors()).as("the crashed kernel's workers saw their calls fail").isNotEmpty();
            assertThat(report.silentLoss()).as(report.toString()).isFalse();
            assertThat(report.counter()).isNotNegative();
        }
    }
}
