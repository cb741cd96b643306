package io.machxp.kernel.core;

import static io.machxp.proto.xp.KernelToPager.RoutineCase.KERNEL_HELLO;
import static io.machxp.proto.xp.KernelToPager.RoutineCase.MEMORY_OBJECT_LOCK_COMPLETED;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import org.junit.jupiter.api.Test;

/**
 * xp-spec 4.7, overlapping attempts (review indep-fix F2): the kernel reads a pager message on an
 * earlier stream after its resume attempt went, so the attempt's {@code received} does not count
 * it; the pager that takes the attempt sends it again after the welcome. The kernel drops that
 * copy (its count is the session's) and handles what follows.
 */
class ResumeDuplicatesTest {
    @Test
    void aMessageReadOnTheEarlierStreamAfterTheAttemptIsNotHandledTwice() {
        CoreFixture k = new CoreFixture(CoreOptions.DEFAULT, 10_000, 77);
        k.env.replicated = true;
        var written = k.write(k.base + 8, new byte[] {42});
        k.zeroFill(0);
        assertThat(written.answered()).isTrue();
        k.env.drain();

        k.core.xp().onStreamBroken(0, "the stream stalled");
        assertThat(k.env.drain()).extracting(KernelToPager::getRoutineCase).containsExactly(KERNEL_HELLO);
        // Still read on the earlier stream, after the attempt said what the kernel had received.
        k.lockRequest(0, ReturnPolicy.RETURN_DIRTY, true, VmProt.VM_PROT_NONE, true);
        assertThat(k.env.drain()).as("its answer waits for the resume").isEmpty();

        k.core.xp().onXp(PagerToKernel.newBuilder().setPagerWelcome(PagerWelcome.newBuilder().setKernelId(1)
                .setResumed(true).setReceived(k.env.numbered)).build());
        assertThat(k.env.drain()).extracting(KernelToPager::getRoutineCase).containsOnlyOnce(
                MEMORY_OBJECT_LOCK_COMPLETED);
        k.lockRequest(0, ReturnPolicy.RETURN_DIRTY, true, VmProt.VM_PROT_NONE, true); // sent again by the pager
        assertThat(k.env.drain()).as("already received on the earlier stream: dropped").isEmpty();
        k.lockRequest(0, ReturnPolicy.RETURN_DIRTY, true, VmProt.VM_PROT_NONE, true); // a new one
        assertThat(k.env.drain()).extracting(KernelToPager::getRoutineCase).containsExactly(
                MEMORY_OBJECT_LOCK_COMPLETED);
    }
}
