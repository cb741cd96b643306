package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.machxp.client.KernelClient;
import io.machxp.client.TaskClient;
import io.machxp.client.ThreadClient;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.threads.OwnThreads;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * machxp status over real gRPC: kernel A holds a futex and B waits for it with priority 7, so the
 * pager shows A as holder, B queued with its priority, both sessions with their leases, and the page.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StatusCommandTest {
    @Test
    void showsSessionsTheHolderAndTheWaiterWithItsPriority() throws Exception {
        try (Pager pager = Pager.start(PagerConfig.loopback(PagerConfig.defaultObjects()));
                Kernel a = Kernel.start(KernelConfig.loopback("A", pager.target()));
                Kernel b = Kernel.start(KernelConfig.loopback("B", pager.target()));
                KernelClient ca = KernelClient.connect("127.0.0.1:" + a.port());
                KernelClient cb = KernelClient.connect("127.0.0.1:" + b.port())) {
            TaskClient ta = ca.taskCreate("holder");
            long baseA = ta.vmMap("shared");
            ThreadClient holder = ta.threadCreate();
            holder.lockFutex(baseA);
            TaskClient tb = cb.taskCreate("waiter");
            long baseB = tb.vmMap("shared");
            ThreadClient waiter = tb.threadCreate(7);
            CompletableFuture<Void> waiting = OwnThreads.run("lock-futex", () -> waiter.lockFutex(baseB));
            await().atMost(Duration.ofSeconds(30)).until(() -> pager.status().getFutexesList().stream()
                    .anyMatch(f -> f.getWaitersCount() == 1));

            ExitCodesTest.Run table = ExitCodesTest.run("status", "--pager", pager.target(), "--kernel",
                    "127.0.0.1:" + a.port());
            assertThat(table.exit()).as(table.err()).isZero();
            assertThat(table.out()).contains("pager pager: 2 sessions, lease 5000 ms")
                    .containsPattern("(?m)^  A +\\d+ +\\d+ +\\d+ ms +1 +0$")
                    .containsPattern("(?m)^  B +\\d+ +\\d+ +\\d+ ms +0 +1$")
                    .containsPattern("(?m)^  shared:0 +A +\\d+  B/7$")
                    .contains("KERNEL A (id ");

            ExitCodesTest.Run json = ExitCodesTest.run("status", "--pager", pager.target(), "--json");
            JsonNode j = new ObjectMapper().readTree(json.out());
            JsonNode futex = j.get("pager").get("futexes").get(0);
            assertThat(futex.get("holder").asText()).isEqualTo("A");
            assertThat(futex.get("waiters").get(0).get("kernel").asText()).isEqualTo("B");
            assertThat(futex.get("waiters").get(0).get("priority").asInt()).isEqualTo(7);
            assertThat(j.get("pager").get("pages").size()).isPositive();

            holder.unlockFutex(baseA);
            waiting.get(30, TimeUnit.SECONDS);
            waiter.unlockFutex(baseB);
        }
    }

    @Test
    void aPagerThatIsNotThereIsThree() {
        ExitCodesTest.Run r = ExitCodesTest.run("status", "--pager", "127.0.0.1:1");
        assertThat(r.exit()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(r.err()).contains("cannot reach 127.0.0.1:1").hasLineCount(1);
    }
}
