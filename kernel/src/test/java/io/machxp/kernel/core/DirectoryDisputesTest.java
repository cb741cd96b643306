package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.vm.VmMapping;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.ObjectDispute;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import org.junit.jupiter.api.Test;

/**
 * xp-spec 2.8 (xpdir-review H1): the kernel names "directory_disputes" in its hello, and an object a
 * pager's welcome lists as in dispute it maps at no pager: the vm_map fails with EINVAL and the
 * pager's sentence, and no memory_object_init goes out; every other object maps as usual.
 */
class DirectoryDisputesTest {
    private final FakeKernelEnv env = new FakeKernelEnv();
    private final KernelCore core = new KernelCore("K", env, new KernelStats(), CoreOptions.DEFAULT);

    private MachTask welcomedWith(ObjectDispute... disputes) {
        core.xp().start();
        assertThat(env.drain().get(0).getKernelHello().getFeaturesList()).contains("directory_disputes");
        core.xp().onXp(PagerToKernel.newBuilder().setPagerWelcome(PagerWelcome.newBuilder().setKernelId(1)
                .setPageSize(CoreFixture.PAGE).setPagerName("p0").addAllDisputes(java.util.List.of(disputes))).build());
        env.drain();
        Answer<MachTask> t = new Answer<>();
        core.taskCreate("app", t);
        return t.value();
    }

    @Test
    void anObjectInDisputeIsMappedNowhereAndTheOthersAre() {
        MachTask task = welcomedWith(ObjectDispute.newBuilder().setObject("s")
                .setReason("kernel 'K' was given another pager directory than kernel 'W' ...").build());
        Answer<VmMapping> s = new Answer<>();
        core.vmMap(task.id, "s", s);
        assertThat(s.error().errno()).isEqualTo(Errno.EINVAL);
        assertThat(s.error().message()).contains("memory object 's' cannot be mapped")
                .contains("than kernel 'W'").contains("pager 0")
                // dir2-review L2: the pager by name, what to do, and where the other kernel's data is
                .contains("pager 'p0' (pager 0 of this kernel's --pager list) said")
                .contains("restart kernel 'K' (this one)")
                .contains("in the store of pager 'p0'");
        assertThat(env.drain()).as("no memory_object_init for it, at any pager").isEmpty();

        Answer<VmMapping> t = new Answer<>();
        core.vmMap(task.id, "t", t);
        assertThat(env.drain()).extracting(KernelToPager::getRoutineCase)
                .containsExactly(KernelToPager.RoutineCase.MEMORY_OBJECT_INIT);
    }

    @Test
    void aWelcomeWithoutDisputesMapsEverything() {
        MachTask task = welcomedWith();
        core.vmMap(task.id, "s", new Answer<>());
        assertThat(env.drain()).extracting(KernelToPager::getRoutineCase)
                .containsExactly(KernelToPager.RoutineCase.MEMORY_OBJECT_INIT);
    }
}
