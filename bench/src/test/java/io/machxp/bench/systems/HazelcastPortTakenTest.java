package io.machxp.bench.systems;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.bench.workload.BenchOptions;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The Hazelcast members' ports are chosen free and bound later: a port another process took in
 * between starts the members again on ports chosen anew (bench's tests run in two JVMs, and one
 * JVM's choice can be the other's bind). Fails on the old start, which gave up: "could not start
 * the embedded Hazelcast members ... Port [...] is already in use".
 */
class HazelcastPortTakenTest {
    @Test
    void aMemberWhosePortWasTakenStartsAgainOnNewPorts() throws Exception {
        BenchOptions o = new BenchOptions(1, 1, 1, 0.9, Duration.ZERO, Duration.ZERO, 0.5, Duration.ZERO,
                Duration.ofMillis(100), 7, BenchOptions.Api.LOCAL);
        AtomicInteger choices = new AtomicInteger();
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                HazelcastService service = new HazelcastService(o, false, () -> {
                    int[] free = HazelcastService.freePorts(HazelcastService.MEMBERS);
                    if (choices.incrementAndGet() == 1) {
                        free[0] = taken.getLocalPort(); // the first member's port, taken since it was chosen
                    }
                    return free;
                })) {
            assertThat(choices.get()).as("the ports were chosen again after the taken one").isEqualTo(2);
            assertThat(service.connection().get(3).split(",")).doesNotContain("127.0.0.1:" + taken.getLocalPort());
            var c = service.client(0, 0);
            c.lock(0);
            c.unlock(0);
        }
    }

    @Test
    void aTakenPortIsToldFromOtherFailures() {
        assertThat(HazelcastService.portTaken(new RuntimeException("could not start",
                new java.net.BindException("Address already in use")))).isTrue();
        assertThat(HazelcastService.portTaken(new com.hazelcast.core.HazelcastException(
                "Port [33667] is already in use and auto-increment is disabled."))).isTrue();
        assertThat(HazelcastService.portTaken(new IllegalStateException("no CP member"))).isFalse();
    }
}
