package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.vm.VmMapping;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectReady;
import io.machxp.proto.xp.ObjectDispute;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Disputes checked at every vm_map, of objects the kernel already holds too (dir2-review H1): a
 * kernel that mapped an object at one pager before another pager's welcome listed it (a rejoin
 * after a partition from that pager) keeps its mappings, but no new one is made, so the split
 * grows no further; and a welcome's list counts only once the welcome is taken (L3).
 */
class DirectoryDisputesHeldTest {
    private final FakeKernelEnv env = new FakeKernelEnv();
    private final KernelCore core = new KernelCore("C", env, new KernelStats(),
            CoreOptions.DEFAULT.withPagers(PagerDirectory.of(2, Map.of("zero", 0, "one", 1))));

    private MachTask task(String name) {
        Answer<MachTask> t = new Answer<>();
        core.taskCreate(name, t);
        return t.value();
    }

    private static PagerToKernel welcomeListingZero(int kernelId) {
        return PagerToKernel.newBuilder().setPagerWelcome(PagerWelcome.newBuilder().setKernelId(kernelId)
                .setPageSize(4096).addDisputes(ObjectDispute.newBuilder().setObject("zero")
                        .setReason("kernel 'C' was given another pager directory than kernel 'W', which is connected "
                                + "to pager p1 and uses object 'zero' there"))).build();
    }

    /** Pager 0 welcomes the kernel, and "zero" is mapped there before pager 1 has welcomed it. */
    private VmMapping mapZeroBeforePagerOnesWelcome(String taskName) {
        core.xp().start();
        core.xp().onXp(0, PagerToKernel.newBuilder().setPagerWelcome(
                PagerWelcome.newBuilder().setKernelId(1).setPageSize(4096)).build());
        env.drain();
        t = task(taskName);
        Answer<VmMapping> m = new Answer<>();
        core.vmMap(t.id, "zero", m);
        int id = env.drain().stream().filter(KernelToPager::hasMemoryObjectInit).findFirst().orElseThrow()
                .getMemoryObjectInit().getObjectId();
        core.xp().onXp(0, PagerToKernel.newBuilder().setMemoryObjectReady(MemoryObjectReady.newBuilder()
                .setObjectId(id).setSize(8192).setMayCache(true)).build());
        return m.value();
    }

    private MachTask t;

    @Test
    void aHeldObjectListedLaterIsNotMappedAnewButItsMappingsStay() {
        VmMapping first = mapZeroBeforePagerOnesWelcome("t");
        core.xp().onXp(1, welcomeListingZero(2));
        env.drain();

        Answer<VmMapping> again = new Answer<>();
        core.vmMap(task("t2").id, "zero", again);
        assertThat(again.error().errno()).isEqualTo(Errno.EINVAL);
        assertThat(again.error().message()).contains("memory object 'zero' cannot be mapped")
                .contains("two copies of it may exist").contains("the mappings it has keep working")
                .contains("than kernel 'W'").contains("restart kernel 'C'");
        assertThat(env.drain()).as("no init for the disputed object").isEmpty();
        assertThat(t.mappingAt(first.start())).as("the first task's mapping stays").isSameAs(first);
    }

    @Test
    void aSecondWelcomeAddsNoDisputes() {
        core.xp().start();
        core.xp().onXp(0, PagerToKernel.newBuilder().setPagerWelcome(
                PagerWelcome.newBuilder().setKernelId(1).setPageSize(4096)).build());
        core.xp().onXp(1, PagerToKernel.newBuilder().setPagerWelcome(
                PagerWelcome.newBuilder().setKernelId(2).setPageSize(4096)).build());
        MachTask t = task("t");
        core.xp().onXp(0, welcomeListingZero(1)); // a second welcome: a violation, its list is not taken
        env.drain();
        Answer<VmMapping> m = new Answer<>();
        core.vmMap(t.id, "zero", m);
        String why;
        try {
            why = m.error().message();
        } catch (AssertionError notAnError) {
            why = "";
        }
        assertThat(why).as("the list of a second welcome refuses nothing").doesNotContain("in dispute");
    }
}
