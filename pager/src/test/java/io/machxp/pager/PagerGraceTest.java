package io.machxp.pager;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.store.FilePageStore;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.pager.store.PageStore;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How long a starting pager grants nothing: not at all when it knows no earlier pager left kernels
 * behind; else as long as the longest of its lease and the last pager's, which the store keeps.
 */
class PagerGraceTest {
    private static final Duration LEASE = Duration.ofSeconds(5);

    private static PagerConfig config(Duration lease, boolean fresh) {
        return PagerConfig.loopback(PagerConfig.defaultObjects()).withLease(lease).withFreshStart(fresh);
    }

    @Test
    void aStoreRemembersTheLastLeaseSoAShorterOneDoesNotShortenTheGracePeriod(@TempDir Path dir) throws IOException {
        try (FilePageStore first = new FilePageStore(dir, 4096)) {
            first.nextEpoch();
            assertThat(Pager.grace(config(LEASE, false), first)).as("a fresh store: nobody to wait for").isZero();
        }
        try (FilePageStore second = new FilePageStore(dir, 4096)) {
            second.nextEpoch();
            assertThat(Pager.grace(config(Duration.ofSeconds(1), false), second))
                    .as("the kernels of the last pager hold 5 s leases").isEqualTo(LEASE.toNanos());
        }
        try (FilePageStore third = new FilePageStore(dir, 4096)) {
            third.nextEpoch();
            assertThat(Pager.grace(config(Duration.ofSeconds(1), false), third))
                    .as("the second pager crashed in its grace period: the 5 s leases may still run")
                    .isEqualTo(LEASE.toNanos());
            third.swapLease(Duration.ofSeconds(1).toNanos()); // what the pager writes when its grace ends
        }
        try (FilePageStore fourth = new FilePageStore(dir, 4096)) {
            fourth.nextEpoch();
            assertThat(Pager.grace(config(Duration.ofSeconds(8), true), fourth))
                    .as("a store says it restarted, whatever the config says").isEqualTo(Duration.ofSeconds(8).toNanos());
        }
    }

    @Test
    void aPagerWithoutAStoreWaitsItsLeaseUnlessStartedFresh() {
        assertThat(Pager.grace(config(LEASE, false), new MemoryPageStore())).isEqualTo(LEASE.toNanos());
        assertThat(Pager.grace(config(LEASE, true), new MemoryPageStore())).isZero();
        assertThat(Pager.grace(config(Duration.ZERO, false), new MemoryPageStore())).as("no leases, no wait").isZero();
    }

    /**
     * A restarted pager with a shorter lease than the last one's keeps the longer lease on the store
     * through its grace period, and never writes its own shorter one first: a crash in between left
     * the shorter lease alone, and the next pager's grace period too short for the kernels still
     * holding the longer ones. Every lease the store is given is recorded.
     */
    @Test
    void aRestartedPagerNeverLeavesItsShorterLeaseOnTheStoreBeforeItsGraceEnds() {
        java.util.List<Long> written = new java.util.ArrayList<>();
        PageStore store = new PageStore() {
            private long lease = LEASE.toNanos(); // the last pager's

            @Override
            public byte[] read(String object, long offset) {
                return null;
            }

            @Override
            public long version(String object, long offset) {
                return 0;
            }

            @Override
            public void write(String object, long offset, byte[] page, long version) {}

            @Override
            public boolean persistent() {
                return true;
            }

            @Override
            public boolean restarted() {
                return true;
            }

            @Override
            public long swapLease(long leaseNanos) {
                long last = lease;
                lease = leaseNanos;
                written.add(leaseNanos);
                return last;
            }

            @Override
            public long keepLongerLease(long leaseNanos) {
                long last = lease;
                lease = Math.max(last, leaseNanos);
                written.add(lease);
                return last;
            }
        };
        assertThat(Pager.grace(config(Duration.ofSeconds(1), false), store)).isEqualTo(LEASE.toNanos());
        assertThat(written).as("only the longer lease was ever on the store").containsOnly(LEASE.toNanos());
    }
}
