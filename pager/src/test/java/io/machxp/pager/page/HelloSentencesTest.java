package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import org.junit.jupiter.api.Test;

/**
 * What the pager says to a stream that never says hello (xp-spec 2.1), and to a kernel name it
 * refuses (2.2): sentences that describe what happened, on the core with a clock the test moves.
 */
class HelloSentencesTest {
    private static final long LEASE = 1_000_000_000L;

    @Test
    void aStreamWithoutHelloIsEndedAfterALeaseWithoutTalkOfADeath() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        k.pager.sessionOpened(1);
        k.advance(LEASE);
        assertThat(k.ended.get(1L)).startsWith("ETIMEDOUT").contains("no kernel_hello")
                .doesNotContain("OWNER_DIED").doesNotContain("dead").doesNotContain("lost");
        assertThat(k.declaredDead).isEmpty();
        assertThat(k.pager.recordCounts()).containsEntry("sessions", 0).containsEntry("deadSessions", 0);
    }

    @Test
    void aRefusedNameIsToldTheRuleItBroke() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        k.pager.sessionOpened(1);
        k.xp(1, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("k\u00e9")
                .setProtocolVersion(1)));
        assertThat(k.ended.get(1L)).startsWith("EINVAL").contains("printable ASCII characters (0x21-0x7e), no space");
    }
}
