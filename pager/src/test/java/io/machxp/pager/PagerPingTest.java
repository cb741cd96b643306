package io.machxp.pager;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.internal.KeepAliveManager;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The pager's HTTP/2 ping of a kernel's connection, as configured (values only, no timing): the
 * interval it states is the one grpc-java keeps (its 10 s floor applied, not a quarter lease it
 * would raise silently), and the wait for the answer is never shorter than half the lease, so a
 * stall the lease tolerates does not cut a healthy kernel. Both failed on the single quarter-lease
 * value before (5 s lease: 1.25 s stated, grpc-java pinged after 10 s and waited 1.25 s).
 */
class PagerPingTest {

    private static final Duration[] LEASES = {
        Duration.ofMillis(100), Duration.ofSeconds(1), Duration.ofMillis(1500), Duration.ofSeconds(5),
        Duration.ofSeconds(20), Duration.ofSeconds(40), Duration.ofSeconds(60), Duration.ofMinutes(10)};

    @Test
    void theStatedIntervalIsTheOneGrpcJavaKeeps() {
        for (Duration lease : LEASES) {
            long interval = Pager.pingIntervalNanos(lease);
            assertThat(KeepAliveManager.clampKeepAliveTimeInNanos(interval)).as("lease %s", lease).isEqualTo(interval);
            assertThat(interval).as("lease %s", lease).isGreaterThanOrEqualTo(lease.toNanos() / 4);
        }
        assertThat(Pager.pingIntervalNanos(Duration.ofSeconds(5))).isEqualTo(10_000_000_000L);
        assertThat(Pager.pingIntervalNanos(Duration.ofSeconds(60))).isEqualTo(15_000_000_000L);
        assertThat(Pager.pingIntervalNanos(Duration.ZERO)).isEqualTo(Pager.GRPC_PING_FLOOR_NANOS);
    }

    @Test
    void theWaitForTheAnswerIsAtLeastHalfTheLease() {
        for (Duration lease : LEASES) {
            assertThat(Pager.pingTimeoutNanos(lease)).as("lease %s", lease).isGreaterThanOrEqualTo(lease.toNanos() / 2);
        }
        assertThat(Pager.pingTimeoutNanos(Duration.ZERO)).isEqualTo(Pager.GRPC_PING_FLOOR_NANOS);
    }
}
