package io.machxp.view;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.machxp.client.KernelClient;
import io.machxp.client.TaskClient;
import io.machxp.client.ThreadClient;
import io.machxp.cluster.EmbeddedCluster;
import io.machxp.proto.threads.OwnThreads;
import io.machxp.proto.transport.Transport;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The live view without a browser: what its endpoint serves (page, script, state, events) for an
 * embedded cluster in which a low-priority thread on kernel A holds a futex that a high-priority
 * thread on kernel B waits for, then hands it over.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class LiveViewTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String OBJECT = "obj";

    private final EmbeddedCluster cluster = EmbeddedCluster.start(2, true, Map.of(OBJECT, 4 * 4096L));
    private final LiveView view = LiveView.start(0, cluster.pager().target(), cluster.kernelTargets(),
            Transport.LOOPBACK_PLAINTEXT);
    private final HttpClient http = HttpClient.newHttpClient();
    private final ObjectMapper json = new ObjectMapper();
    private final KernelClient a = KernelClient.connect(cluster.kernelTargets().get(0));
    private final KernelClient b = KernelClient.connect(cluster.kernelTargets().get(1));

    LiveViewTest() throws IOException {}

    @AfterEach
    void close() {
        a.close();
        b.close();
        view.close();
        cluster.close();
    }

    @Test
    void showsTheHolderTheBoostedOwnerTheWaiterAndThenTheHandoff() throws Exception {
        TaskClient taskA = a.taskCreate("low");
        long baseA = taskA.vmMap(OBJECT);
        ThreadClient low = taskA.threadCreate(10);
        TaskClient taskB = b.taskCreate("high");
        long baseB = taskB.vmMap(OBJECT);
        ThreadClient high = taskB.threadCreate(50);
        low.lockFutex(baseA);
        CompletableFuture<Void> waiting = OwnThreads.run("lock-futex", () -> high.lockFutex(baseB));

        await().atMost(WAIT).untilAsserted(() -> {
            JsonNode s = state();
            JsonNode futex = find(s.get("futexes"), "futex", OBJECT + "+0x0");
            assertThat(futex.get("holder").asText()).isEqualTo("A");
            // Not there yet is a failed assertion, which the wait retries (an exception would end it).
            assertThat(futex.get("waiters")).as("waiters").isNotEmpty();
            assertThat(futex.get("waiters").get(0).get("kernel").asText()).isEqualTo("B");
            assertThat(futex.get("waiters").get(0).get("priority").asInt()).isEqualTo(50);
            JsonNode owner = find(find(s.get("kernels"), "name", "A").get("threads"), "task", "low");
            assertThat(owner.get("basePriority").asInt()).isEqualTo(10);
            assertThat(owner.get("effectivePriority").asInt()).isEqualTo(50);
            assertThat(owner.get("boosted").asBoolean()).isTrue();
            assertThat(owner.get("boostedBy")).as("boostedBy").isNotEmpty();
            assertThat(owner.get("boostedBy").get(0).asText()).isEqualTo(OBJECT + "+0x0");
            JsonNode waiter = find(find(s.get("kernels"), "name", "B").get("threads"), "task", "high");
            assertThat(waiter.get("blockedIn").asText()).isEqualTo("vm_lock_futex");
            assertThat(waiter.get("waitsFor").asText()).isEqualTo(OBJECT + "+0x0");
        });

        low.unlockFutex(baseA);
        waiting.get(WAIT.toSeconds(), TimeUnit.SECONDS);

        await().atMost(WAIT).untilAsserted(() -> {
            JsonNode s = state();
            JsonNode handoff = find(s.get("handoffs"), "target", OBJECT + "+0x0");
            assertThat(handoff.get("handoffFrom").asText()).isEqualTo("A");
            assertThat(handoff.get("kernel").asText()).isEqualTo("B");
            assertThat(handoff.get("routine").asText()).isEqualTo("memory_object_futex_granted");
            assertThat(s.get("messages").findValuesAsText("routine")).contains("memory_object_lock_futex",
                    "memory_object_relinquish_futex", "memory_object_futex_released");
            assertThat(s.get("rates").get("handoffs").asLong()).isPositive();
            assertThat(s.get("problem").isNull()).isTrue();
        });
        high.unlockFutex(baseB);
    }

    @Test
    void servesThePageItsFilesAndAnEventStream() throws Exception {
        HttpResponse<String> page = get("/");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("content-type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/html"));
        assertThat(page.body()).contains("<script src=\"view.js\">").doesNotContain("http://", "https://");
        assertThat(get("/view.js").body()).contains("new EventSource('events')");
        assertThat(get("/view.css").statusCode()).isEqualTo(200);
        assertThat(get("/nothing").statusCode()).isEqualTo(404);

        HttpResponse<Stream<String>> events = http.send(HttpRequest.newBuilder(URI.create(view.url() + "events"))
                .build(), HttpResponse.BodyHandlers.ofLines());
        try (Stream<String> lines = events.body()) {
            assertThat(events.headers().firstValue("content-type"))
                    .hasValueSatisfying(t -> assertThat(t).startsWith("text/event-stream"));
            List<String> first = lines.filter(l -> l.startsWith("data: {\"pager\"")).limit(2).toList();
            assertThat(first).hasSize(2); // the latest state at once, then the next tick's
            assertThat(json.readTree(first.get(1).substring("data: ".length())).get("kernels")).hasSize(2);
        }
    }

    private JsonNode state() throws Exception {
        return json.readTree(get("/state.json").body());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(view.url() + path.substring(1))).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The element of {@code array} whose {@code field} is {@code value}; fails the assertion if none. */
    private static JsonNode find(JsonNode array, String field, String value) {
        assertThat(array).isNotNull();
        for (JsonNode n : array) {
            if (value.equals(n.path(field).asText())) {
                return n;
            }
        }
        throw new AssertionError("no element with " + field + " = " + value + " in " + array);
    }
}
