package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.vm.VmMapping;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.ObjectDispute;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import org.junit.jupiter.api.Test;

/**
 * xp-spec 2.8: a reclaim's welcome lists the objects in dispute the restarted pager found for the
 * kernel's view, and the kernel adds them to the list it keeps (a new session's welcome replaces
 * the list; a resume's lists nothing and keeps it): its vm_map of a listed object fails with
 * EINVAL, and no memory_object_init of it goes out, while the objects it holds stay its own.
 */
class DirectoryDisputesReclaimTest {
    private static final long LEASE_MS = 1000;
    private final CoreFixture k = new CoreFixture(CoreOptions.DEFAULT, LEASE_MS);

    @Test
    void anObjectAReclaimsWelcomeListsIsMappedNowhere() {
        k.core.xp().onStreamBroken(0, "connection reset");
        k.env.advance(LEASE_MS * 1_000_000 / 20);
        assertThat(k.single().getKernelHello().hasReclaim()).isTrue();
        k.core.xp().onXp(PagerToKernel.newBuilder().setPagerWelcome(PagerWelcome.newBuilder().setKernelId(1)
                .setPageSize(CoreFixture.PAGE).setLeaseMillis(LEASE_MS).setPagerName("p0")
                .addDisputes(ObjectDispute.newBuilder().setObject("s").setReason("kernel 'A' was given another pager "
                        + "directory than kernel 'W' ..."))).build());
        k.answerKeepalives();
        k.env.drain();

        Answer<VmMapping> s = new Answer<>();
        k.core.vmMap(k.task.id, "s", s);
        assertThat(s.error().errno()).isEqualTo(Errno.EINVAL);
        assertThat(s.error().message()).contains("memory object 's' cannot be mapped", "than kernel 'W'");
        assertThat(k.env.drain()).as("no memory_object_init of it").noneMatch(KernelToPager::hasMemoryObjectInit);

        Answer<VmMapping> obj = new Answer<>();
        k.core.vmMap(k.task.id, "obj", obj);
        assertThat(obj.value()).as("the object it reclaimed maps as before").isNotNull();
    }
}
