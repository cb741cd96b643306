package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/**
 * The word a thread's death leaves when FUTEX_WAITERS was set in it with nobody queued any more
 * (a busy trylock, a lock that timed out): Linux's handle_futex_death writes
 * {@code (word & WAITERS) | OWNER_DIED}, 0xC0000000, and the word stays so until the next lock
 * (measured on Linux 6.18: raw FUTEX_TRYLOCK_PI busy, or FUTEX_LOCK_PI timed out, on a robust
 * mutex's word, then its owner's exit). machxp left 0x40000000 (review late14, INFO). A death
 * with no WAITERS in the word still leaves 0x40000000.
 */
class DeadOwnerWaitersWordTest {
    private static final int DEAD_WAITERS = FutexWord.OWNER_DIED | FutexWord.WAITERS;

    private static int wordAt(byte[] page, int at) {
        return ByteBuffer.wrap(page).order(ByteOrder.LITTLE_ENDIAN).getInt(at);
    }

    private static int wordOf(byte[] bytes) {
        return wordAt(bytes, 0);
    }

    @Test
    void aBusyTrylockThenTheOwnersDeathLeavesOwnerDiedWithWaiters() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(10);
        k.acquireFromPager(owner, k.base);
        assertThat(k.trylock(k.thread(20), k.base).value()).as("busy").isNull();
        assertThat((int) k.baseWord()).as("TRYLOCK_PI sets WAITERS").isEqualTo(owner.tid | FutexWord.WAITERS);

        k.terminate(owner).value();
        assertThat((int) k.baseWord()).as("(word & WAITERS) | OWNER_DIED").isEqualTo(DEAD_WAITERS);
        assertThat(wordOf(k.read(k.base, 4).value())).isEqualTo(DEAD_WAITERS);
        assertThat(k.sentRoutines()).isEmpty();

        // The next lock takes it with EOWNERDEAD; nobody waits, so WAITERS goes (Linux's LOCK_PI too).
        MachThread next = k.thread(20);
        Acquired got = k.lockFull(next, k.base).value();
        assertThat(got.ownerDied()).isTrue();
        assertThat((int) k.baseWord()).isEqualTo(next.tid | FutexWord.OWNER_DIED);
    }

    @Test
    void aTimedOutLockThenTheOwnersDeathLeavesOwnerDiedWithWaiters() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(10);
        k.acquireFromPager(owner, k.base);
        var timed = k.lock(k.thread(20), k.base, 10_000_000L);
        k.env.advance(20_000_000L);
        assertThat(timed.error().errno()).isEqualTo(Errno.ETIMEDOUT);
        assertThat((int) k.baseWord()).as("WAITERS stays after the timeout").isEqualTo(owner.tid | FutexWord.WAITERS);

        k.terminate(owner).value();
        assertThat((int) k.baseWord()).isEqualTo(DEAD_WAITERS);
    }

    @Test
    void aDeathWithNoWaitersInTheWordLeavesOwnerDiedAlone() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(10);
        k.acquireFromPager(owner, k.base);
        k.terminate(owner).value();
        assertThat((int) k.baseWord()).isEqualTo(FutexWord.OWNER_DIED);
    }

    /** The page goes read-only to another kernel and comes back writable: the word it carries stays the dead owner's. */
    @Test
    void theDeadOwnersWaitersTravelWithThePageAndComeBack() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(10);
        k.acquireFromPager(owner, k.base);
        assertThat(k.trylock(k.thread(20), k.base).value()).isNull();
        k.terminate(owner).value();

        k.lockRequest(0, ReturnPolicy.RETURN_DIRTY, false, VmProt.VM_PROT_WRITE, true); // read-only here now
        byte[] returned = k.env.drain().stream().filter(KernelToPager::hasMemoryObjectDataReturn).findFirst()
                .orElseThrow().getMemoryObjectDataReturn().getData().toByteArray();
        assertThat(wordAt(returned, 0)).as("the pager's and other kernels' copy").isEqualTo(DEAD_WAITERS);
        assertThat(wordOf(k.read(k.base, 4).value())).isEqualTo(DEAD_WAITERS);

        var write = k.write(k.base + 16, new byte[] {1, 0, 0, 0}); // another word of the page: writable again
        assertThat(k.single().getMemoryObjectDataUnlock().getDesiredAccess()).isEqualTo(VmProt.VM_PROT_WRITE);
        k.lockRequest(0, ReturnPolicy.RETURN_NONE, false, VmProt.VM_PROT_NONE, false);
        assertThat(write.answered()).isTrue();
        assertThat((int) k.baseWord()).as("the futex's word, live here again").isEqualTo(DEAD_WAITERS);
    }

    /** Part II gives the futex back at the death: the word stays in the page with its WAITERS, for every kernel. */
    @Test
    void withoutTheCacheTheWordGivenBackAtTheDeathKeepsWaiters() {
        CoreFixture k = new CoreFixture(false);
        MachThread owner = k.thread(10);
        k.acquireFromPager(owner, k.base);
        assertThat(k.trylock(k.thread(20), k.base).value()).isNull();
        k.terminate(owner).value();
        assertThat(k.sentRoutines()).containsExactly(KernelToPager.RoutineCase.MEMORY_OBJECT_FUTEX_RELEASED);
        assertThat(wordOf(k.read(k.base, 4).value())).isEqualTo(DEAD_WAITERS);
        assertThat(wordAt(k.takePageBack(), 0)).isEqualTo(DEAD_WAITERS);
    }
}
