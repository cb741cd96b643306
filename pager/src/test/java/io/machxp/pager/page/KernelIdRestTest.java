package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import org.junit.jupiter.api.Test;

/**
 * xp-spec 2.5: a kernel id goes to another name only after it rested a lease plus the pager's
 * grace period since its name's last session ended, and for a pager that started without a grace
 * period (a fresh store, or told it starts fresh) a grace period's length all the same: two
 * leases. On the core with a clock the test moves.
 */
class KernelIdRestTest {
    private static final long LEASE = 1_000_000_000L;

    private static void hello(XpKernels k, long session, String name) {
        k.pager.sessionOpened(session);
        k.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(1)));
    }

    @Test
    void aPagerThatStartedWithoutAGracePeriodRestsAnIdTwoLeases() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        assertThat(k.pager.inGrace()).isFalse();
        for (int id = 1; id <= 1023; id++) {
            hello(k, id, "k" + id);
            assertThat(k.one(id).getPagerWelcome().getKernelId()).isEqualTo(id);
        }
        k.pager.sessionClosed(1); // k1 holds nothing: forgotten at once, its id rests from now
        k.advance(LEASE + LEASE / 2);
        hello(k, 2000, "late");
        assertThat(k.ended.get(2000L)).as("a lease and a half after: id 1 still rests").startsWith("EAGAIN");
        assertThat(k.take(2000)).isEmpty();
        k.advance(LEASE / 2);
        hello(k, 2001, "later");
        assertThat(k.one(2001).getPagerWelcome().getKernelId()).as("two leases after").isEqualTo(1);
    }
}
