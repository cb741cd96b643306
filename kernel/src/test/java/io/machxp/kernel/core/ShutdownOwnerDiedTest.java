package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.task.MachThread;
import io.machxp.kernel.task.Tids;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.PageData;
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

        k.core.xp().shutdown();

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

        k.core.xp().shutdown();

        List<KernelToPager> sent = k.env.drain();
        MemoryObjectFutexReleased released = sent.stream().filter(KernelToPager::hasMemoryObjectFutexReleased)
                .map(KernelToPager::getMemoryObjectFutexReleased).findFirst().orElseThrow();
        // The death was written into the word (as Linux's handle_futex_death), which goes back in the page.
        assertThat(released.getOwnerDied()).isFalse();
        assertThat(returnedWord(sent) & ~FutexWord.WAITERS).as("the word in the page that went back")
                .isEqualTo(FutexWord.OWNER_DIED);
        assertThat(k.futex(k.base) == null || FutexWord.isAbsent(k.futex(k.base).state())).isTrue();
    }

    /**
     * A TID a task wrote into a free futex's word (a thread of another kernel, or none) is no death
     * this kernel saw: at shutdown it stays in the word, without owner_died, and the next locker
     * gets ESRCH as FUTEX-SEMANTICS says of a word naming no living thread.
     */
    @Test
    void aTidATaskWroteIsNoDeathAtShutdown() {
        MachThread t = k.thread();
        k.acquireFromPager(t, k.base);
        k.unlock(t, k.base).value();
        int foreign = (1000 << Tids.THREAD_BITS) | 7;
        k.write(k.base, le(foreign)).value();
        k.env.drain();

        k.core.xp().shutdown();

        List<KernelToPager> sent = k.env.drain();
        List<MemoryObjectFutexReleased> released = sent.stream().filter(KernelToPager::hasMemoryObjectFutexReleased)
                .map(KernelToPager::getMemoryObjectFutexReleased).toList();
        assertThat(released).hasSize(1);
        assertThat(released.get(0).getOwnerDied()).as("no thread of this kernel died owning it").isFalse();
        assertThat(returnedWord(sent) & ~FutexWord.WAITERS).as("the TID the task wrote stays").isEqualTo(foreign);
    }

    /** The word at offset 0 in the page that went back (with the release, or in a data_return). */
    private static int returnedWord(List<KernelToPager> sent) {
        for (KernelToPager m : sent) {
            if (m.hasMemoryObjectFutexReleased()) {
                for (PageData p : m.getMemoryObjectFutexReleased().getPagesList()) {
                    if (p.getOffset() == 0) {
                        return PageBytes.getInt(p.getData().toByteArray(), 0);
                    }
                }
            }
            if (m.hasMemoryObjectDataReturn() && m.getMemoryObjectDataReturn().getOffset() == 0) {
                return PageBytes.getInt(m.getMemoryObjectDataReturn().getData().toByteArray(), 0);
            }
        }
        throw new AssertionError("the page never went back: " + sent);
    }

    private static byte[] le(int word) {
        byte[] b = new byte[4];
        PageBytes.putInt(b, 0, word);
        return b;
    }
}
