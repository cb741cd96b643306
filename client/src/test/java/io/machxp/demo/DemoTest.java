package io.machxp.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The demo's own accounting, and what the cache buys on its workload. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DemoTest {
    private static DemoOptions options(boolean cache) {
        return new DemoOptions(3, 2, 6, 150, 0.9, 7, cache, false, List.of(), null, "shared");
    }

    private static DemoOptions options(boolean piggyback, double locality, long seed, int ops) {
        return new DemoOptions(3, 2, 6, ops, locality, seed, true, piggyback, List.of(), null, "shared");
    }

    /** Every op is counted once, as local or remote; mutual exclusion holds. */
    @Test
    void aRunAccountsForEveryOperation() throws Exception {
        DemoReport r = Demo.run(options(true));
        assertThat(r.violations()).isZero();
        assertThat(r.ops()).isEqualTo(3 * 2 * 150);
        assertThat(r.expectedCounter()).isEqualTo(r.ops());
        assertThat(r.counter()).as("every increment under the futex is kept").isEqualTo(r.expectedCounter());
        assertThat(r.localAcquires() + r.remoteAcquires()).isEqualTo(r.ops());
        assertThat(r.acquires().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(r.ops());
        assertThat(r.xpMessagesTotal()).isEqualTo(r.xpMessages().values().stream().mapToLong(Long::longValue).sum());
        assertThat(r.xpMessages().get("memory_object_futex_granted")).isEqualTo(r.remoteAcquires());
        assertThat(r.acquireLatencyMicros().p50()).isLessThanOrEqualTo(r.acquireLatencyMicros().p99());
        assertThat(r.acquireLatencyMicros().p99()).isLessThanOrEqualTo(r.acquireLatencyMicros().max());
    }

    /**
     * With locality 0.9, the cache needs well under a third of the futex messages of Part II only
     * (where each lock/unlock costs at least lock_futex, granted and released), and fewer messages
     * in all.
     */
    @Test
    void theCacheSavesMostXpMessages() throws Exception {
        DemoReport cached = Demo.run(options(true));
        DemoReport conduit = Demo.run(options(false));
        assertThat(conduit.remoteAcquires()).isEqualTo(conduit.ops());
        assertThat(conduit.xpMessagesTotal()).isGreaterThanOrEqualTo(3 * conduit.ops());
        assertThat(cached.localAcquires()).isGreaterThan(cached.remoteAcquires());
        assertThat(futexMessages(cached)).isLessThan(futexMessages(conduit) / 3);
        assertThat(cached.xpMessagesTotal()).isLessThan(conduit.xpMessagesTotal());
    }

    /** The messages of the futex extension; the page traffic of the counters comes on top in both modes. */
    private static long futexMessages(DemoReport r) {
        return List.of("memory_object_lock_futex", "memory_object_futex_granted", "memory_object_relinquish_futex",
                "memory_object_futex_released", "memory_object_futex_busy").stream()
                .mapToLong(name -> r.xpMessages().getOrDefault(name, 0L)).sum();
    }

    /** The shared counters end exact over several seeds and localities, with and without piggyback. */
    @Test
    void noUpdateIsLostOverManyRuns() throws Exception {
        for (long seed = 1; seed <= 3; seed++) {
            for (boolean piggyback : new boolean[] {false, true}) {
                DemoReport r = Demo.run(options(piggyback, seed == 1 ? 0.0 : 0.5, seed, 60));
                assertThat(r.violations()).as("seed %d, piggyback %s", seed, piggyback).isZero();
                assertThat(r.counter()).as("seed %d, piggyback %s", seed, piggyback).isEqualTo(r.expectedCounter());
            }
        }
    }

    /**
     * The futex's page travels with the futex (in futex_released, then with the grant), so a
     * cross-kernel acquisition costs about the four futex messages (lock_futex, relinquish,
     * released, granted) and no page round trip, with or without piggyback; without that it cost
     * about 14.
     */
    @Test
    void aRemoteAcquireBringsItsPageWithTheFutex() throws Exception {
        for (boolean piggyback : new boolean[] {false, true}) {
            DemoReport r = Demo.run(options(piggyback, 0.9, 11, 150));
            assertThat(r.counter()).isEqualTo(r.expectedCounter());
            assertThat(r.remoteAcquires()).isPositive();
            assertThat(r.xpMessages().getOrDefault("memory_object_data_request", 0L))
                    .as("piggyback %s: page-ins are rarer than remote acquires", piggyback)
                    .isLessThan(r.remoteAcquires() / 4);
            assertThat(r.xpMessagesPerRemoteAcquire()).as("piggyback %s", piggyback).isLessThan(6.0);
        }
    }
}
