package io.machxp.kernel.core;

import static io.machxp.proto.xp.KernelToPager.RoutineCase.MEMORY_OBJECT_FUTEX_RELEASED;
import static io.machxp.proto.xp.KernelToPager.RoutineCase.MEMORY_OBJECT_LOCK_FUTEX;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import org.junit.jupiter.api.Test;

/**
 * A boost kept for a waiter elsewhere over a broken stream to the pager (FutexSessionEnds) ends
 * when the futex goes back to the pager: after the owner's unlock across the break, the restarted
 * pager's relinquish_futex, with try (its ask-back at the futex bound) or without, gives the idle
 * futex back, and the thread that owned it runs at its base priority; a later local waiter for
 * that futex boosts nobody. Before, futex_released cleared the kept priority without recomputing
 * the boost, and the old owner kept the futex among what boosted it for good (chaos seed 33 with
 * --futex-records 3). (Since review late5 A1 the unlock itself ends the kept boost, WAITERS being
 * kept in the word: KernelCoreKeptBoostUnlockTest; the give-back's refresh stays as a guard.)
 */
class KeptBoostGiveBackTest {
    private static final long LEASE_MS = 1000;
    private static final long LEASE = LEASE_MS * 1_000_000;
    private final CoreFixture k = new CoreFixture(CoreOptions.DEFAULT, LEASE_MS);

    /** owner (priority 5) held the futex at offset 0 boosted to 60 by a waiter elsewhere, and unlocked it across a break. */
    private MachThread keptBoostAfterFastUnlock() {
        MachThread owner = k.thread(5);
        k.acquireFromPager(owner, k.base);
        k.relinquish(0, 60);
        assertThat(owner.effectivePriority).isEqualTo(60);

        k.core.xp().onStreamBroken(0, "connection reset");
        assertThat(owner.effectivePriority).as("kept over the break").isEqualTo(60);
        assertThat(k.unlock(owner, k.base).answered()).isTrue();
        assertThat(k.env.drain()).as("kept here: nothing sent into the broken stream").isEmpty();

        k.env.advance(LEASE / 20);
        assertThat(k.single().getKernelHello().hasReclaim()).isTrue();
        k.core.xp().onXp(PagerToKernel.newBuilder().setPagerWelcome(PagerWelcome.newBuilder().setKernelId(1)
                .setPageSize(CoreFixture.PAGE).setLeaseMillis(LEASE_MS).setSessionEpoch(6)).build());
        k.env.drain();
        return owner;
    }

    private void aLocalWaiterBoostsNobody(MachThread owner) {
        MachThread waiter = k.thread(40);
        Answer<AcquirePath> waiting = k.lock(waiter, k.base);
        assertThat(waiting.answered()).isFalse();
        assertThat(k.env.drain()).extracting(KernelToPager::getRoutineCase).containsExactly(MEMORY_OBJECT_LOCK_FUTEX);
        assertThat(owner.effectivePriority).as("it owns nothing another waits for").isEqualTo(5);
    }

    @Test
    void aTryRelinquishThatTakesTheIdleFutexBackEndsTheKeptBoost() {
        MachThread owner = keptBoostAfterFastUnlock();
        k.relinquishTry(0);
        assertThat(k.env.drain()).extracting(KernelToPager::getRoutineCase).containsExactly(MEMORY_OBJECT_FUTEX_RELEASED);
        assertThat(owner.effectivePriority).as("its own priority once the futex left").isEqualTo(5);
        aLocalWaiterBoostsNobody(owner);
    }

    @Test
    void aRelinquishThatTakesTheIdleFutexBackEndsTheKeptBoost() {
        MachThread owner = keptBoostAfterFastUnlock();
        k.relinquish(0, 50);
        assertThat(k.env.drain()).extracting(KernelToPager::getRoutineCase).containsExactly(MEMORY_OBJECT_FUTEX_RELEASED);
        assertThat(owner.effectivePriority).as("its own priority once the futex left").isEqualTo(5);
        aLocalWaiterBoostsNobody(owner);
    }
}
