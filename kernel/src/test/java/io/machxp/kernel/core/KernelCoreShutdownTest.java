package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.task.MachTask;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A shutdown that fails at one pager (its stream throws under the core) still ends the kernel's
 * other sessions cleanly: each still gets its terminates and the end's keepalive, whose barrier
 * the runtime then awaits (xp-spec 2.6). Before, the failure left the shutdown at that pager, and
 * the primary, shut down last, had neither.
 */
class KernelCoreShutdownTest {
    @Test
    void aShutdownThatFailsAtOnePagerStillEndsTheOthers() {
        FakeKernelEnv env = new FakeKernelEnv();
        KernelCore core = new KernelCore("A", env, new KernelStats(),
                CoreOptions.DEFAULT.withPagers(PagerDirectory.of(2, Map.of("zero", 0, "one", 1))));
        core.xp().start();
        for (int pager = 0; pager < 2; pager++) {
            core.xp().onXp(pager, PagerToKernel.newBuilder().setPagerWelcome(
                    PagerWelcome.newBuilder().setKernelId(1 + pager).setPageSize(4096)).build());
        }
        Answer<MachTask> t = new Answer<>();
        core.taskCreate("t", t);
        env.drain();

        env.failSendsTo = 1; // pager 1's session, shut down first, fails
        List<EndBarrier> barriers = core.xp().shutdown();

        List<KernelToPager> sent = env.drain();
        assertThat(sent).filteredOn(KernelToPager::hasKernelKeepalive).singleElement();
        assertThat(barriers).as("the primary's end keepalive is awaited").singleElement()
                .satisfies(b -> assertThat(b.pager()).isZero());
    }
}
