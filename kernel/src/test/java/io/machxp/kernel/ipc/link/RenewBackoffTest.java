package io.machxp.kernel.ipc.link;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The renewal backoff on a given clock: doubling waits, capped, starting over after a quiet spell. */
class RenewBackoffTest {
    private static final long LEASE = 1_000;

    @Test
    void eachRenewalInAStreakDoublesTheWaitUpToTheCap() {
        RenewBackoff b = new RenewBackoff();
        long now = 0;
        assertThat(b.tryRenew(now, LEASE)).isTrue();
        for (int n = 1; n <= 10; n++) {
            long wait = LEASE << Math.min(n, RenewBackoff.MAX_DOUBLINGS);
            assertThat(b.tryRenew(now + wait - 1, LEASE)).as("before wait %d", n).isFalse();
            now += wait;
            assertThat(b.tryRenew(now, LEASE)).as("at wait %d", n).isTrue();
        }
        assertThat(b.waitNanos(LEASE)).isEqualTo(LEASE << RenewBackoff.MAX_DOUBLINGS);
    }

    @Test
    void aQuietSpellStartsOver() {
        RenewBackoff b = new RenewBackoff();
        assertThat(b.tryRenew(0, LEASE)).isTrue();
        assertThat(b.tryRenew(2 * LEASE, LEASE)).isTrue();
        assertThat(b.streak()).isEqualTo(2);
        long quiet = 2 * LEASE + RenewBackoff.QUIET_LEASES * LEASE;
        assertThat(b.tryRenew(quiet, LEASE)).isTrue();
        assertThat(b.streak()).isEqualTo(1);
        assertThat(b.tryRenew(quiet + LEASE, LEASE)).isFalse();
    }
}
