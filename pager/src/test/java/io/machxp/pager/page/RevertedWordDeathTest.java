package io.machxp.pager.page;

import static io.machxp.pager.page.FutexWords.OWNER_DIED;
import static io.machxp.pager.page.FutexWords.WAITERS;
import static io.machxp.pager.page.FutexWords.wordAt;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.PagerToKernel;
import org.junit.jupiter.api.Test;

/**
 * xp-spec 8.7: a kernel declared dead holding a page writable but no longer the futex in it
 * (chaos seed 965's shape). Its page reverts to the pager's copy, older than its writes: the
 * futex word there may still name its thread from when it held the futex, while the futex is
 * granted to another kernel already, without owner_died. The pager writes OWNER_DIED over such a
 * word before it serves the page again, so the next owner's locker gets EOWNERDEAD, not ESRCH for
 * a thread of a dead kernel. On the core with a clock the test moves.
 */
class RevertedWordDeathTest {
    private static final long LEASE = 1_000_000_000L;

    @Test
    void aDeadWritersTidInTheRevertedCopyOfAFutexGrantedElsewhereBecomesOwnerDied() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        long d = k.kernel(1, "D");
        long e = k.kernel(2, "E");
        long futex = 0x20;
        int tidOfD = 1 << 20 | 3;
        FutexWords.ownedWithWordInPagersCopy(k, d, futex, WAITERS | tidOfD); // the pager's copy names D's thread
        k.write(d, 0); // D writes the page again: its unlock's write of the word stays in its copy
        k.take(d);
        k.futexReleased(d, futex); // the futex goes back without the page
        k.take(d);

        k.lockFutex(e, futex);
        assertThat(k.one(e).getMemoryObjectFutexGranted().getOwnerDied()).as("D released the futex").isFalse();
        k.pager.sessionClosed(d);
        k.advanceHeard(LEASE, LEASE / 2, e); // D declared dead holding the page writable, not the futex
        assertThat(k.declaredDead).containsKey("D");

        k.write(e, 0);
        PagerToKernel supply = k.one(e);
        assertThat(wordAt(supply.getMemoryObjectDataSupply().getData().toByteArray(), futex))
                .as("no word the pager serves names a dead kernel's thread without OWNER_DIED")
                .isEqualTo(WAITERS | OWNER_DIED);
        assertThat(k.stats.refused()).isZero();
    }

    /**
     * Chaos seed 307's shape: A dies holding the futex, the pager's copy naming A's thread; B gets
     * it with owner_died, records the death in its copy of the page and releases the futex (A's
     * death is recorded, at the pager too), keeping the page writable; then B dies. B's copy is
     * lost: the pager's names A, whose id is not B's, and no record says A's death is still to
     * record (in seed 307 a pager restart forgot it). Now the revert writes OWNER_DIED over it.
     */
    @Test
    void aTidOfAKernelThatDiedBeforeInTheRevertedCopyBecomesOwnerDied() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        long a = k.kernel(1, "A");
        long b = k.kernel(2, "B");
        long c = k.kernel(3, "C");
        long futex = 0x30;
        int tidOfA = 1 << 20 | 2;
        FutexWords.ownedWithWordInPagersCopy(k, a, futex, tidOfA); // the pager's copy names A's thread
        k.lockFutex(b, futex);
        k.take(a);
        k.pager.sessionClosed(a);
        k.advanceHeard(LEASE, LEASE / 2, b, c); // A declared dead holding the futex: B gets it
        assertThat(k.declaredDead).containsKey("A");
        assertThat(k.one(b).getMemoryObjectFutexGranted().getOwnerDied()).isTrue();
        k.write(b, 0); // B records the death in its copy, and never returns it
        k.take(b);
        k.futexReleased(b, futex);
        k.take(b);

        k.lockFutex(c, futex);
        assertThat(k.one(c).getMemoryObjectFutexGranted().getOwnerDied()).isFalse();
        k.pager.sessionClosed(b);
        k.advanceHeard(LEASE, LEASE / 2, c); // B declared dead holding the page writable
        assertThat(k.declaredDead).containsKey("B");
        k.write(c, 0);
        PagerToKernel supply = k.one(c);
        assertThat(wordAt(supply.getMemoryObjectDataSupply().getData().toByteArray(), futex))
                .as("the reverted copy's word named A's thread: OWNER_DIED now").isEqualTo(OWNER_DIED);
        assertThat(k.stats.refused()).isZero();
    }
}
