package io.machxp.pager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machxp.pager.net.UnreadLimits;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A pager's configuration is checked whole when it is made, before any pager starts: a replicated
 * pager would otherwise meet a bad object only when its replicas apply their genesis, on Ratis's
 * applying thread, where the exception closes the Raft server of each replica in turn.
 */
class PagerConfigTest {

    @Test
    void anObjectThatIsNotWholePagesIsRefused() {
        for (long size : new long[] {5000, 0, -4096}) {
            assertThatThrownBy(() -> new PagerConfig("p", "127.0.0.1", 0, 4096, Map.of("shared", size)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("memory object 'shared' has size " + size
                            + "; a size must be a positive multiple of the page size 4096");
        }
    }

    @Test
    void aPageSizeThatIsNotAPowerOfTwoOfAtLeast64IsRefused() {
        for (int pageSize : new int[] {0, -4096, 100, 32}) {
            assertThatThrownBy(() -> new PagerConfig("p", "127.0.0.1", 0, pageSize, Map.of()))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("page size " + pageSize + " must be a power of two of at least 64");
        }
    }

    @Test
    void wholePagesOfAPowerOfTwoAreTaken() {
        PagerConfig c = new PagerConfig("p", "127.0.0.1", 0, 64, Map.of("a", 64L, "b", 64L * 1024));
        assertThat(c.objects()).containsOnlyKeys("a", "b");
        assertThat(c.withLease(java.time.Duration.ZERO).objects()).isEqualTo(c.objects());
    }

    /** The bounds for a kernel that does not read: 10 s and 256 MiB unless set; a bound of nothing is refused. */
    @Test
    void theBoundsForAKernelThatDoesNotReadAreTheDefaultsUnlessSetAndMustBePositive() {
        PagerConfig c = PagerConfig.loopback(PagerConfig.defaultObjects());
        assertThat(c.unreadLimits()).isEqualTo(UnreadLimits.DEFAULT);
        assertThat(UnreadLimits.DEFAULT.patience()).isEqualTo(java.time.Duration.ofSeconds(10));
        assertThat(UnreadLimits.DEFAULT.maxBytes()).isEqualTo(256L << 20);
        UnreadLimits shorter = new UnreadLimits(java.time.Duration.ofMillis(500), 64 << 10);
        PagerConfig set = c.withUnreadLimits(shorter).withLease(java.time.Duration.ZERO).withFreshStart(false);
        assertThat(set.unreadLimits()).as("kept by the other withers").isEqualTo(shorter);
        assertThat(shorter.patienceText() + ", " + shorter.maxBytesText()).isEqualTo("500 ms, 64 KiB");
        assertThatThrownBy(() -> new UnreadLimits(java.time.Duration.ZERO, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("positive duration");
        assertThatThrownBy(() -> new UnreadLimits(java.time.Duration.ofSeconds(1), 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 1 byte");
    }

    @Test
    void theAnswerDeadlineIsDerivedFromTheLeaseUnlessGivenAndIsAtLeastTwoLeases() {
        PagerConfig c = PagerConfig.loopback(Map.of("a", 4096L));
        assertThat(c.answerDeadlineNanos()).as("22 s + 2 x 5 s").isEqualTo(32_000_000_000L);
        assertThat(c.withLease(java.time.Duration.ofSeconds(10)).answerDeadlineNanos()).isEqualTo(42_000_000_000L);
        assertThat(c.withLease(java.time.Duration.ZERO).answerDeadlineNanos()).as("none without a lease").isZero();
        assertThat(c.withAnswerDeadline(java.time.Duration.ofSeconds(10)).answerDeadlineNanos())
                .as("two leases: the least").isEqualTo(10_000_000_000L);
        assertThat(c.withAnswerDeadline(java.time.Duration.ZERO).answerDeadlineNanos()).isZero();
        assertThat(c.withAnswerDeadline(java.time.Duration.ofSeconds(11)).withStoreDir(null).answerDeadline())
                .as("kept by the other with-methods").isEqualTo(java.time.Duration.ofSeconds(11));
        assertThatThrownBy(() -> c.withAnswerDeadline(java.time.Duration.ofSeconds(5)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least two leases");
        assertThatThrownBy(() -> c.withAnswerDeadline(java.time.Duration.ofMillis(9_999)))
                .as("more than a lease, but a failover and a resume may take 1.8 leases")
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least two leases")
                .hasMessageContaining("9999 ms").hasMessageContaining("10000 ms");
        assertThatThrownBy(() -> c.withAnswerDeadline(java.time.Duration.ofSeconds(12))
                .withLease(java.time.Duration.ofSeconds(7)))
                .as("checked again with another lease").isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least two leases");
        assertThatThrownBy(() -> c.withAnswerDeadline(java.time.Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must not be negative");
    }
}
