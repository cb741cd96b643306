package io.machxp.kernel.core;

import static io.machxp.proto.xp.KernelToPager.RoutineCase.KERNEL_KEEPALIVE;
import static io.machxp.proto.xp.KernelToPager.RoutineCase.MEMORY_OBJECT_DATA_RETURN;
import static io.machxp.proto.xp.KernelToPager.RoutineCase.MEMORY_OBJECT_TERMINATE;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.vm.VmMapping;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataSupply;
import io.machxp.proto.xp.MemoryObjectReady;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import java.util.List;
import java.util.Map;
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
        List<EndBarrier> barriers = k.core.xp().shutdown();
        assertThat(barriers).singleElement().satisfies(b -> assertThat(b.returns()).isEqualTo(1));
        EndBarrier barrier = barriers.get(0);
        assertThat(k.env.drain()).extracting(KernelToPager::getRoutineCase)
                .containsExactly(MEMORY_OBJECT_DATA_RETURN, KERNEL_KEEPALIVE);
        assertThat(k.core.xp().ending(0)).as("open until the answer").isTrue();

        k.core.xp().onStreamBroken(0, "the leader died");
        assertThat(k.env.drain()).extracting(KernelToPager::getRoutineCase).containsExactly(
                KernelToPager.RoutineCase.KERNEL_HELLO);
        // The next leader has everything but the keepalive: it asks for that one again.
        k.core.xp().onXp(PagerToKernel.newBuilder().setPagerWelcome(PagerWelcome.newBuilder().setKernelId(1)
                .setResumed(true).setReceived(k.env.numbered - 1)).build());
        List<KernelToPager> after = k.env.drain();
        assertThat(after).extracting(KernelToPager::getRoutineCase).containsExactly(KERNEL_KEEPALIVE,
                KERNEL_KEEPALIVE);
        long fresh = after.get(1).getKernelKeepalive().getSequence();
        assertThat(barrier.answeredBy(fresh)).as("its answer answers the barrier").isTrue();
        assertThat(k.core.xp().ending(0)).isTrue();
        assertThat(k.env.endsOver).isEmpty();

        k.core.xp().finishShutdown(0);
        assertThat(k.env.drain()).extracting(KernelToPager::getRoutineCase).containsExactly(MEMORY_OBJECT_TERMINATE);
        assertThat(k.core.xp().ending(0)).isFalse();
    }

    @Test
    void aSessionLostForGoodDuringTheWaitTellsTheRuntime() {
        CoreFixture k = withADirtyPage(false);
        assertThat(k.core.xp().shutdown()).hasSize(1);
        k.core.xp().onStreamBroken(0, "the pager crashed");
        assertThat(k.core.xp().ending(0)).as("it reconnects to reclaim, still ending").isTrue();
        assertThat(k.env.endsOver).isEmpty();
        k.env.advance(11_000 * MS); // the pager never comes back: the lease runs out
        assertThat(k.env.endsOver).containsExactly(0);
        assertThat(k.core.xp().ending(0)).isFalse();
        k.env.drain();
        k.core.xp().finishShutdown(0);
        assertThat(k.env.drain()).as("nothing more for a session over").isEmpty();
    }

    @Test
    void aPreciousPageSuppliedDuringTheWaitGoesBackWithItsDataBeforeTheTerminate() {
        CoreFixture k = withADirtyPage(false);
        assertThat(k.core.xp().shutdown()).hasSize(1);
        k.env.drain();
        byte[] data = new byte[CoreFixture.PAGE];
        data[3] = 9;
        // a supply already on its way when the first part ended (or unsolicited): installed, answered
        k.core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectDataSupply(MemoryObjectDataSupply.newBuilder()
                .setObjectId(CoreFixture.OBJECT_ID).setOffset(CoreFixture.PAGE).setData(ByteString.copyFrom(data))
                .setPrecious(true).setReply(true)).build());
        k.env.drain();

        k.core.xp().finishShutdown(0);
        List<KernelToPager> sent = k.env.drain();
        assertThat(sent).extracting(KernelToPager::getRoutineCase)
                .containsExactly(MEMORY_OBJECT_DATA_RETURN, MEMORY_OBJECT_TERMINATE);
        var returned = sent.get(0).getMemoryObjectDataReturn();
        assertThat(returned.getOffset()).isEqualTo(CoreFixture.PAGE);
        assertThat(returned.getData().byteAt(3)).as("precious: with its data (xp-spec 6.10)").isEqualTo((byte) 9);
    }

    @Test
    void eachPagerOfAKernelWithSeveralGetsItsTerminateAndTheSecondaryIsNotLostWithThePrimary() {
        FakeKernelEnv env = new FakeKernelEnv();
        KernelCore core = new KernelCore("A", env, new KernelStats(),
                CoreOptions.DEFAULT.withPagers(PagerDirectory.of(2, Map.of("zero", 0, "one", 1))));
        core.xp().start();
        for (int pager = 0; pager < 2; pager++) {
            core.xp().onXp(pager, PagerToKernel.newBuilder().setPagerWelcome(PagerWelcome.newBuilder()
                    .setKernelId(1 + pager).setPageSize(CoreFixture.PAGE).setLeaseMillis(10_000)).build());
        }
        Answer<MachTask> t = new Answer<>();
        core.taskCreate("t", t);
        int[] objectAt = new int[2];
        for (int pager = 0; pager < 2; pager++) {
            env.drain();
            Answer<VmMapping> m = new Answer<>();
            core.vmMap(t.value().id, pager == 0 ? "zero" : "one", m);
            KernelToPager init = env.drain().stream().filter(KernelToPager::hasMemoryObjectInit).findFirst().orElseThrow();
            objectAt[pager] = init.getMemoryObjectInit().getObjectId();
            core.xp().onXp(pager, PagerToKernel.newBuilder().setMemoryObjectReady(MemoryObjectReady.newBuilder()
                    .setObjectId(objectAt[pager]).setSize(CoreFixture.PAGE)).build());
            assertThat(m.answered()).isTrue();
        }
        env.drain();

        assertThat(core.xp().shutdown()).hasSize(2);
        env.drain();
        // the primary's part first, as a runtime that went the other way from the first part would
        core.xp().finishShutdown(0);
        assertThat(env.drain()).extracting(x -> x.getMemoryObjectTerminate().getObjectId()).containsExactly(objectAt[0]);
        assertThat(core.xp().ending(1)).as("the secondary still ends on its own").isTrue();
        core.xp().finishShutdown(1);
        assertThat(env.drain()).extracting(x -> x.getMemoryObjectTerminate().getObjectId()).containsExactly(objectAt[1]);
        assertThat(env.endsOver).isEmpty();
        assertThat(env.traces).noneMatch(e -> e.startsWith("pager-lost"));
    }
}
