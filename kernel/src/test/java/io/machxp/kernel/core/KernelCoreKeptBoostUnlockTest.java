package io.machxp.kernel.core;

import static io.machxp.kernel.futex.FutexWord.WAITERS;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.xp.KernelToPager;
import org.junit.jupiter.api.Test;

/**
 * A boost kept for a waiter elsewhere over a broken stream to the pager (FutexSessionEnds) lasts
 * only while its thread owns the futex, as Linux deboosts a PI owner at its unlock: FUTEX_WAITERS
 * stays in the word while the boost is kept, so the owner's unlock enters the kernel and ends the
 * boost there, and the next locker here enters the kernel too and is boosted in its turn. Once
 * the kept boost ends (a lease after the reclaim's welcome), WAITERS leaves a free word and the
 * fast path takes the futex again; an owned word keeps it to its unlock, as on Linux
 * (KernelCoreKeptBoostWordTest). Before, the break cleared WAITERS: after the owner's fast-path unlock
 * it stayed at the remote priority while owning nothing, and passed it on in its later waits, to
 * the pager too as its lock_futex priority (review late5 A1).
 */
class KernelCoreKeptBoostUnlockTest {
    private static final long LEASE_MS = 1000;
    private final CoreFixture k = new CoreFixture(CoreOptions.DEFAULT, LEASE_MS);

    @Test
    void theOwnersUnlockEndsTheKeptBoostAndItsLaterWaitCarriesItsOwnPriority() {
        MachThread owner = KeptBoostEpisode.boostedOwnerAcrossABreak(k);
        assertThat(k.unlock(owner, k.base).answered()).isTrue();
        assertThat(owner.effectivePriority).as("it owns nothing now").isEqualTo(5);
        assertThat(owner.boostedBy).isEmpty();
        assertThat(k.env.drain()).as("the futex stays here: nothing into a broken stream").isEmpty();

        KeptBoostEpisode.reclaimWelcomed(k, LEASE_MS);
        assertThat(owner.effectivePriority).isEqualTo(5);
        Answer<AcquirePath> waiting = k.lock(owner, k.base + 8);
        assertThat(waiting.answered()).isFalse();
        KernelToPager ask = k.single();
        assertThat(ask.getMemoryObjectLockFutex().getOffset()).isEqualTo(8);
        assertThat(ask.getMemoryObjectLockFutex().getPriority()).as("its own priority, not the kept one").isEqualTo(5);
    }

    @Test
    void theNextLockerHereIsBoostedWhileTheBoostIsKeptAndDeboostedAtItsUnlock() {
        MachThread owner = KeptBoostEpisode.boostedOwnerAcrossABreak(k);
        assertThat(k.unlock(owner, k.base).answered()).isTrue();
        MachThread next = k.thread(10);
        assertThat(k.lock(next, k.base).value()).isNotNull();
        assertThat(next.effectivePriority).as("the waiter elsewhere still waits").isEqualTo(60);
        assertThat(k.unlock(next, k.base).answered()).isTrue();
        assertThat(next.effectivePriority).isEqualTo(10);
        assertThat(owner.effectivePriority).isEqualTo(5);
        assertThat(k.env.drain()).isEmpty();
    }

    @Test
    void theNextLockerIsBoostedAlsoWhenThePageLeftAndCameBackMeanwhile() {
        MachThread owner = KeptBoostEpisode.boostedOwnerAcrossABreak(k);
        assertThat(k.unlock(owner, k.base).answered()).isTrue();
        KeptBoostEpisode.reclaimWelcomed(k, LEASE_MS);
        k.takePageBack(); // clean: the free word goes back as 0, as the pager's copy has it (no data)
        MachThread next = k.thread(10);
        Answer<AcquirePath> locked = k.lock(next, k.base);
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).isZero();
        k.supply(0, new byte[CoreFixture.PAGE]); // the pager's copy
        assertThat(locked.value()).isNotNull();
        assertThat(next.effectivePriority).as("the waiter elsewhere still waits").isEqualTo(60);
        assertThat(k.unlock(next, k.base).answered()).isTrue();
        assertThat(next.effectivePriority).isEqualTo(10);
    }

    @Test
    void theKeptBoostsEndLeavesAnOwnedWordsWaitersToItsUnlockWhichGivesTheFastPathBack() {
        MachThread owner = KeptBoostEpisode.boostedOwnerAcrossABreak(k);
        assertThat(k.baseWord()).as("WAITERS kept with the boost").isEqualTo(owner.tid | (WAITERS & 0xffffffffL));
        KeptBoostEpisode.reclaimWelcomed(k, LEASE_MS);
        assertThat(owner.effectivePriority).as("kept a lease after the welcome").isEqualTo(60);
        KeptBoostEpisode.aLeaseLater(k, LEASE_MS);
        assertThat(owner.effectivePriority).isEqualTo(5);
        assertThat(k.baseWord()).as("as on Linux, WAITERS leaves an owned word only at its unlock")
                .isEqualTo(owner.tid | (WAITERS & 0xffffffffL));
        assertThat(k.unlock(owner, k.base).answered()).isTrue();
        assertThat(k.baseWord()).as("freed by the kernel as 0").isZero();
        MachThread next = k.thread(10);
        assertThat(k.lock(next, k.base).value()).isEqualTo(AcquirePath.FAST_PATH);
        assertThat(k.baseWord()).as("the fast path's word").isEqualTo(next.tid);
        assertThat(next.effectivePriority).isEqualTo(10);
    }

    @Test
    void theKeptBoostsEndGivesTheFastPathBackToAFreeFutex() {
        MachThread owner = KeptBoostEpisode.boostedOwnerAcrossABreak(k);
        assertThat(k.unlock(owner, k.base).answered()).isTrue();
        assertThat(k.baseWord()).as("free, WAITERS kept for the waiter elsewhere").isEqualTo(WAITERS & 0xffffffffL);
        KeptBoostEpisode.reclaimWelcomed(k, LEASE_MS);
        KeptBoostEpisode.aLeaseLater(k, LEASE_MS);
        assertThat(k.baseWord()).as("free, the fast path's value").isZero();
        MachThread next = k.thread(10);
        assertThat(k.lock(next, k.base).value()).isEqualTo(AcquirePath.FAST_PATH);
        assertThat(next.effectivePriority).as("nobody waits for it any more").isEqualTo(10);
    }
}
