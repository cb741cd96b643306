package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.task.MachThread;
import io.machxp.kernel.task.Tids;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.ReclaimedFutex;
import org.junit.jupiter.api.Test;

/**
 * A reclaim's owner_died (xp-spec 9.4, 12.6) is said for the whole holding whose grant said it,
 * also once this kernel's thread took the futex with EOWNERDEAD and OWNER_DIED (then its own TID)
 * is in this kernel's copy of the word only: the pager's copy may still name the dead kernel's
 * thread, and the pager before its restart owed the death until the futex came back. Before, the
 * reclaim said owner_died only while the word here did not record it, so a restarted pager lost
 * the death for good if this kernel died in turn (its copy lost, the page back to the pager's,
 * naming a TID of a kernel the new pager never knew: chaos --mix contended seed 3211). A holding
 * granted without owner_died, after the futex went back, reclaims without it.
 */
class KernelCoreReclaimOwnerDiedTest {
    private static final int PAGE = CoreFixture.PAGE;
    /** A thread of kernel 4, declared dead owning the futex: the pager's copy of the word names it. */
    private static final int DEAD = Tids.tid(4, 1);

    private static void grant(CoreFixture k, long token, boolean ownerDied) {
        k.core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectFutexGranted(MemoryObjectFutexGranted.newBuilder()
                .setObjectId(CoreFixture.OBJECT_ID).setOffset(0).setFencingToken(token).setOwnerDied(ownerDied)).build());
    }

    private static ReclaimedFutex reclaimedAfterABreak(CoreFixture k) {
        k.env.drain();
        k.core.xp().onStreamBroken(0, "connection reset");
        k.env.advance(50_000_000L);
        return k.env.drain().stream().filter(KernelToPager::hasKernelHello).findFirst().orElseThrow()
                .getKernelHello().getReclaim().getObjects(0).getFutexes(0);
    }

    /** t took the futex with EOWNERDEAD: the grant's owner_died is in the word here, not in the pager's copy. */
    private static MachThread takenWithOwnerDied(CoreFixture k) {
        MachThread t = k.thread();
        Answer<Acquired> a = k.lockFull(t, k.base);
        assertThat(k.single().hasMemoryObjectLockFutex()).isTrue();
        grant(k, 7, true);
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).isZero();
        byte[] page = new byte[PAGE];
        PageBytes.putInt(page, 0, DEAD | FutexWord.WAITERS);
        k.supply(0, page);
        assertThat(a.value().ownerDied()).as("EOWNERDEAD").isTrue();
        assertThat(k.baseWord() & FutexWord.OWNER_DIED).as("recorded in this kernel's copy").isNotZero();
        return t;
    }

    @Test
    void aGrantWithOwnerDiedRecordedHereIsReclaimedWithOwnerDied() {
        CoreFixture k = new CoreFixture(CoreOptions.DEFAULT, 1000);
        takenWithOwnerDied(k);
        ReclaimedFutex f = reclaimedAfterABreak(k);
        assertThat(f.getFencingToken()).isEqualTo(7);
        assertThat(f.getOwnerDied()).as("the pager's copy may still name the dead thread").isTrue();
    }

    @Test
    void madeConsistentUnlockedAndCachedItIsStillReclaimedWithOwnerDied() {
        CoreFixture k = new CoreFixture(CoreOptions.DEFAULT, 1000);
        MachThread t = takenWithOwnerDied(k);
        assertThat(k.consistent(t, k.base).answered()).isTrue();
        assertThat(k.unlock(t, k.base).answered()).isTrue();
        assertThat(k.baseWord()).as("free here, cached: the pager was told nothing").isEqualTo(FutexWord.FREE);
        assertThat(reclaimedAfterABreak(k).getOwnerDied()).isTrue();
    }

    @Test
    void aLaterHoldingGrantedWithoutOwnerDiedIsReclaimedWithout() {
        CoreFixture k = new CoreFixture(CoreOptions.DEFAULT, 1000);
        MachThread t = takenWithOwnerDied(k);
        assertThat(k.consistent(t, k.base).answered()).isTrue();
        assertThat(k.unlock(t, k.base).answered()).isTrue();
        k.env.drain();
        k.relinquish(0);
        assertThat(k.env.drain().stream().filter(KernelToPager::hasMemoryObjectFutexReleased).findFirst().orElseThrow()
                .getMemoryObjectFutexReleased().getOwnerDied()).as("the release tells the death recorded").isFalse();
        Answer<Acquired> again = k.lockFull(t, k.base);
        grant(k, 8, false);
        if (!again.answered()) {
            k.supply(0, new byte[PAGE]); // the page went with the release: paged in again
        }
        assertThat(again.value().ownerDied()).isFalse();
        assertThat(reclaimedAfterABreak(k).getOwnerDied()).as("this holding's grant said nothing of a death").isFalse();
    }
}
