package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.task.MachThread;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A clean shutdown ends the kernel's threads under their futexes (robust: OWNER_DIED). A futex
 * whose page is elsewhere when its owner ends cannot get OWNER_DIED into its word (the page-in
 * the death asks for never comes: the objects are terminated at once), so it goes back to the
 * pager with owner_died, which the next grant carries. Found by chaos (machxp chaos --mix
 * contended, seed 94): before, the kernel kept such a futex out of its give-back, the terminate
 * released it at the pager as a clean one, and the next kernel found the dead thread's TID in the
 * word, no OWNER_DIED: its lock waited forever (or failed ESRCH when its own TID matched).
 */
class ShutdownOwnerDiedTest {
    private final CoreFixture k = new CoreFixture(true);

    @Test
    void anOwnersFutexWhosePageIsElsewhereGoesBackWithOwnerDied() {
        MachThread t = k.thread();
        k.acquireFromPager(t, k.base);
        // Another kernel's read or write takes the page away; the futex stays this kernel's, owned.
        k.lockRequest(0, ReturnPolicy.RETURN_DIRTY, true, VmProt.VM_PROT_NONE, true);
        k.env.drain();

        k.core.shutdown();

        List<KernelToPager> sent = k.env.drain();
        List<MemoryObjectFutexReleased> released = sent.stream().filter(KernelToPager::hasMemoryObjectFutexReleased)
                .map(KernelToPager::getMemoryObjectFutexReleased).toList();
        assertThat(released).as("the dead owner's futex goes back before the terminate").hasSize(1);
        assertThat(released.get(0).getOffset()).isZero();
        assertThat(released.get(0).getOwnerDied()).as("its word could not say so: the release does").isTrue();
        int releasedAt = sent.indexOf(sent.stream().filter(KernelToPager::hasMemoryObjectFutexReleased).findFirst().get());
        int terminateAt = sent.indexOf(sent.stream().filter(KernelToPager::hasMemoryObjectTerminate).findFirst().get());
        assertThat(releasedAt).isLessThan(terminateAt);
    }

    @Test
    void anOwnersFutexWithItsPageHereGoesBackWithOwnerDiedInTheWord() {
        MachThread t = k.thread();
        k.acquireFromPager(t, k.base);

        k.core.shutdown();

        List<KernelToPager> sent = k.env.drain();
        MemoryObjectFutexReleased released = sent.stream().filter(KernelToPager::hasMemoryObjectFutexReleased)
                .map(KernelToPager::getMemoryObjectFutexReleased).findFirst().orElseThrow();
        // The death was written into the word, which goes back in the page (data_return or with the release).
        assertThat(released.getOwnerDied()).isFalse();
        assertThat(k.futex(k.base) == null || io.machxp.kernel.futex.FutexWord.isAbsent(k.futex(k.base).state()))
                .isTrue();
    }
}
