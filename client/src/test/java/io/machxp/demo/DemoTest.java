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
        return new DemoOptions(3, 2, 6, 150, 0.9, 7, cache, List.of(), null, "shared");
    }

    /** Every op is counted once, as local or remote; mutual exclusion holds. */
    @Test
    void aRunAccountsForEveryOperation() throws Exception {
        DemoReport r = Demo.run(options(true));
        assertThat(r.violations()).isZero();
        assertThat(r.ops()).isEqualTo(3 * 2 * 150);
        assertThat(r.localAcquires() + r.remoteAcquires()).isEqualTo(r.ops());
        assertThat(r.acquires().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(r.ops());
        assertThat(r.xpMessagesTotal()).isEqualTo(r.xpMessages().values().stream().mapToLong(Long::longValue).sum());
        assertThat(r.xpMessages().get("memory_object_futex_granted")).isEqualTo(r.remoteAcquires());
        assertThat(r.acquireLatencyMicros().p50()).isLessThanOrEqualTo(r.acquireLatencyMicros().p99());
        assertThat(r.acquireLatencyMicros().p99()).isLessThanOrEqualTo(r.acquireLatencyMicros().max());
    }

    /**
     * With locality 0.9, the cache needs well under half the XP messages of Part II only (where
     * each lock/unlock costs at least lock_futex, granted and released).
     */
    @Test
    void theCacheSavesMostXpMessages() throws Exception {
        DemoReport cached = Demo.run(options(true));
        DemoReport conduit = Demo.run(options(false));
        assertThat(conduit.remoteAcquires()).isEqualTo(conduit.ops());
        assertThat(conduit.xpMessagesTotal()).isGreaterThanOrEqualTo(3 * conduit.ops());
        assertThat(cached.localAcquires()).isGreaterThan(cached.remoteAcquires());
        assertThat(cached.xpMessagesTotal()).isLessThan(conduit.xpMessagesTotal() / 2);
    }
}
