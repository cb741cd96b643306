package io.machxp.kernel.core;

import static io.machxp.proto.xp.KernelToPager.RoutineCase.MEMORY_OBJECT_FUTEX_RELEASED;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.policy.MinimumHold;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.AcquirePath;
import org.junit.jupiter.api.Test;

/**
 * Hold policies in one kernel core (a minimum hold of 1 ms): a relinquish during the hold waits
 * for its end, and the PI exception lets a waiter elsewhere that outranks every user here skip it.
 */
class KernelCoreHoldTest {
    private static final long MS = 1_000_000;
    private final CoreFixture k = new CoreFixture(CoreOptions.DEFAULT.withFutexPolicy(new MinimumHold(MS)));

    @Test
    void aFreeFutexIsKeptUntilTheHoldEndsAgainstAWaiterElsewhereOfNoHigherPriority() {
        MachThread owner = k.thread(40);
        k.acquireFromPager(owner, k.base);
        k.relinquish(0, 40);
        k.unlock(owner, k.base).value();
        assertThat(k.sentRoutines()).as("held: the futex stays here").isEmpty();

        k.env.advance(MS);
        assertThat(k.sentRoutines()).containsExactly(MEMORY_OBJECT_FUTEX_RELEASED);
    }

    @Test
    void aBoostFromTheWaiterElsewhereDoesNotCountAsAPriorityHereForThePiException() {
        MachThread owner = k.thread(20);
        k.acquireFromPager(owner, k.base);
        k.relinquish(0, 40);
        assertThat(owner.effectivePriority).isEqualTo(40);

        k.unlock(owner, k.base).value();
        assertThat(k.sentRoutines()).as("40 elsewhere outranks the 20 here: no hold")
                .containsExactly(MEMORY_OBJECT_FUTEX_RELEASED);
    }

    /**
     * Chaos seed 891 (min-hold and adaptive-hold): a relinquish at 40 came while the futex was
     * held; the unlock handed it to a local waiter under the hold; a second relinquish raised the
     * priority to 60. The end of the hold carried out the relinquish at the 40 it was first kept
     * against, deboosting the owner below the 60 waiting elsewhere.
     */
    @Test
    void theEndOfAHoldKeepsTheOwnerAtThePriorityOfTheLatestRelinquish() {
        MachThread first = k.thread(40);
        k.acquireFromPager(first, k.base);
        MachThread second = k.thread(20);
        Answer<AcquirePath> waits = k.lock(second, k.base);
        k.relinquish(0, 40);
        k.unlock(first, k.base).value();
        assertThat(waits.value()).as("the hold keeps it for the waiter here").isEqualTo(AcquirePath.LOCAL_HANDOFF);
        assertThat(second.effectivePriority).isEqualTo(40);

        k.relinquish(0, 60);
        assertThat(second.effectivePriority).isEqualTo(60);
        k.env.advance(MS);
        assertThat(second.effectivePriority).as("the hold's end does not undo the later relinquish").isEqualTo(60);
        assertThat(k.sentRoutines()).as("still held by its owner").isEmpty();

        k.unlock(second, k.base).value();
        assertThat(k.sentRoutines()).containsExactly(MEMORY_OBJECT_FUTEX_RELEASED);
        assertThat(second.effectivePriority).isEqualTo(20);
    }
}
