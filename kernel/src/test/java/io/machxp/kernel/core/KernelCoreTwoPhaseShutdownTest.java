package io.machxp.kernel.core;

import static io.machxp.proto.xp.KernelToPager.RoutineCase.KERNEL_KEEPALIVE;
import static io.machxp.proto.xp.KernelToPager.RoutineCase.MEMORY_OBJECT_DATA_RETURN;
import static io.machxp.proto.xp.KernelToPager.RoutineCase.MEMORY_OBJECT_TERMINATE;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The two parts of a clean end with a lease ({@link ShutdownEnd}), in the core: the session stays
 * open between them, so a replicated pager's leader change is resumed and a keepalive follows the
 * welcome, whose answer answers the end's barrier; a session lost for good meanwhile tells the
 * runtime at once. Before, the first part stopped the session: the break was ignored.
 */
class KernelCoreTwoPhaseShutdownTest {
    private static final long MS = 1_000_000L;

    private static CoreFixture withADirtyPage(boolean replicated) {
        CoreFixture k = new CoreFixture(CoreOptions.DEFAULT, 10_000, replicated ? 77 : 0);
        k.env.replicated = replicated;
        var written = k.write(k.base + 8, new byte[] {42});
        k.zeroFill(0);
        assertThat(written.answered()).isTrue();
        k.env.drain();
        return k;
    }

    @Test
    void aLeaderChangeDuringTheWaitIsResumedAndAFreshKeepaliveAnswersTheBarrier() {
        CoreFixture k = withADirtyPage(true);
        List<EndBarrier> barriers = k.core.shutdown();
        assertThat(barriers).singleElement().satisfies(b -> assertThat(b.returns()).isEqualTo(1));
        EndBarrier barrier = barriers.get(0);
        assertThat(k.env.drain()).extracting(KernelToPager::getRoutineCase)
                .containsExactly(MEMORY_OBJECT_DATA_RETURN, KERNEL_KEEPALIVE);
        assertThat(k.core.ending(0)).as("open until the answer").isTrue();

        k.core.onStreamBroken(0, "the leader died");
        assertThat(k.env.drain()).extracting(KernelToPager::getRoutineCase).containsExactly(
                KernelToPager.RoutineCase.KERNEL_HELLO);
        // The next leader has everything but the keepalive: it asks for that one again.
        k.core.onXp(PagerToKernel.newBuilder().setPagerWelcome(PagerWelcome.newBuilder().setKernelId(1)
                .setResumed(true).setReceived(k.env.numbered - 1)).build());
        List<KernelToPager> after = k.env.drain();
        assertThat(after).extracting(KernelToPager::getRoutineCase).containsExactly(KERNEL_KEEPALIVE,
                KERNEL_KEEPALIVE);
        long fresh = after.get(1).getKernelKeepalive().getSequence();
        assertThat(barrier.answeredBy(fresh)).as("its answer answers the barrier").isTrue();
        assertThat(k.core.ending(0)).isTrue();
        assertThat(k.env.endsOver).isEmpty();

        k.core.finishShutdown(0);
        assertThat(k.env.drain()).extracting(KernelToPager::getRoutineCase).containsExactly(MEMORY_OBJECT_TERMINATE);
        assertThat(k.core.ending(0)).isFalse();
    }

    @Test
    void aSessionLostForGoodDuringTheWaitTellsTheRuntime() {
        CoreFixture k = withADirtyPage(false);
        assertThat(k.core.shutdown()).hasSize(1);
        k.core.onStreamBroken(0, "the pager crashed");
        assertThat(k.core.ending(0)).as("it reconnects to reclaim, still ending").isTrue();
        assertThat(k.env.endsOver).isEmpty();
        k.env.advance(11_000 * MS); // the pager never comes back: the lease runs out
        assertThat(k.env.endsOver).containsExactly(0);
        assertThat(k.core.ending(0)).isFalse();
        k.env.drain();
        k.core.finishShutdown(0);
        assertThat(k.env.drain()).as("nothing more for a session over").isEmpty();
    }
}
