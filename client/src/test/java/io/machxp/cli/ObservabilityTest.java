package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.machxp.client.KernelClient;
import io.machxp.client.TaskClient;
import io.machxp.client.ThreadClient;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A pager and a kernel on ephemeral ports, each with its metrics endpoint: the standard gRPC
 * health service says SERVING, and /metrics has the documented meters with the traffic of a lock.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ObservabilityTest {
    @Test
    void healthAndMetricsAnswerOnPagerAndKernel() throws Exception {
        try (Pager pager = Pager.start(PagerConfig.loopback(PagerConfig.defaultObjects()));
                MetricsServer pagerMetrics = MetricsServer.start("127.0.0.1", 0);
                Kernel kernel = Kernel.start(KernelConfig.loopback("A", pager.target()));
                MetricsServer kernelMetrics = MetricsServer.start("127.0.0.1", 0);
                KernelClient client = KernelClient.connect("127.0.0.1:" + kernel.port())) {
            pager.publishMetricsTo(pagerMetrics.registry());
            kernel.publishMetricsTo(kernelMetrics.registry());
            assertThat(health(pager.target())).isEqualTo(ServingStatus.SERVING);
            assertThat(health("127.0.0.1:" + kernel.port())).isEqualTo(ServingStatus.SERVING);

            TaskClient task = client.taskCreate("metrics");
            long base = task.vmMap("shared");
            ThreadClient thread = task.threadCreate();
            thread.lockFutex(base);
            thread.unlockFutex(base);

            String p = scrape(pagerMetrics.port());
            assertThat(p).contains("machxp_xp_messages_total{direction=\"received\",pager=\"pager\","
                    + "routine=\"memory_object_lock_futex\"} 1.0")
                    .contains("machxp_futex_grants_total{pager=\"pager\"} 1.0")
                    .contains("machxp_sessions{pager=\"pager\"} 1.0")
                    .contains("machxp_lease_renewals_total").contains("machxp_pages_resident")
                    .contains("machxp_core_queue_depth").contains("machxp_xp_handling_seconds_bucket");
            String k = scrape(kernelMetrics.port());
            assertThat(k).contains("machxp_futex_acquisitions_total{kernel=\"A\",path=\"pager_grant\"} 1.0")
                    .contains("machxp_xp_messages_total{direction=\"sent\",kernel=\"A\","
                            + "routine=\"memory_object_lock_futex\"} 1.0")
                    .contains("machxp_futex_lock_latency_seconds_count{kernel=\"A\"} 1")
                    .contains("machxp_futex_lock_latency_seconds_bucket")
                    .contains("machxp_pages_resident{kernel=\"A\"}")
                    .contains("machxp_kernel_sessions_opened_total{kernel=\"A\"} 1.0")
                    .contains("machxp_ipc_hop_bound_drops_total{kernel=\"A\"} 0.0");
        }
    }

    static ServingStatus health(String target) throws InterruptedException {
        ManagedChannel channel = NettyChannelBuilder.forTarget(target).usePlaintext().build();
        try {
            return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .check(HealthCheckRequest.getDefaultInstance()).getStatus();
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    static String scrape(int port) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }
}
