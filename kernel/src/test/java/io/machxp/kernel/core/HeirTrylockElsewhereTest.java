package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.xp.KernelToPager;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A trylock on another kernel above a woken heir here (relinquish_futex with try, carrying the
 * trylock's priority) takes the futex, as Linux's TRYLOCK_PI steals an rt_mutex whose woken
 * waiter has not run: released asking again inside the release (request_again at the heir's
 * priority; the pager grants the answered try first, xp-spec 8.3) for the heir, who waits on. At the heir's priority or below, or
 * with no priority said (0), the futex stays (futex_held), as before
 * (scenarios/owner-death-trylock-elsewhere-before-heir-runs-across-kernels.yaml).
 */
class HeirTrylockElsewhereTest {
    private static final long MS = 1_000_000L;

    private record Setup(CoreFixture k, MachThread heir, Answer<Acquired> waiting) {
    }

    /** The heir (20) cannot run: a thread (30) computes on the only CPU when the owner (10) dies, or unlocks. */
    private static Setup heirWoken(boolean death) {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(death ? 10 : 70);
        MachThread heir = k.thread(20);
        MachThread high = k.thread(30);
        k.acquireFromPager(owner, k.base);
        Answer<Acquired> waiting = k.lockFull(heir, k.base);
        if (death) {
            k.compute(high, 10 * MS);
            k.terminate(owner).value();
        } else {
            k.core.threadCompute(k.task.id, owner.tid, 10 * MS, new Reply<>() {
                @Override
                public void complete(Void value) {
                    k.unlock(owner, k.base).value();
                    k.compute(high, 10 * MS);
                }

                @Override
                public void fail(KernelError error) {
                    throw new AssertionError(error.message());
                }
            });
            k.env.advance(10 * MS);
        }
        assertThat(k.futex(k.base).heir).as("woken, not run").isNotNull();
        k.env.drain();
        return new Setup(k, heir, waiting);
    }

    private static void assertReleasedToTheTryAskingAgain(Setup s, int word) {
        List<KernelToPager> sent = s.k().env.drain();
        assertThat(sent).extracting(KernelToPager::getRoutineCase).as("no separate lock_futex (xp-spec 8.4)")
                .containsExactly(KernelToPager.RoutineCase.MEMORY_OBJECT_FUTEX_RELEASED);
        var released = sent.get(0).getMemoryObjectFutexReleased();
        assertThat(released.getRequestAgain()).as("asked again inside the release: the pager grants the try first")
                .isTrue();
        assertThat(released.getRequestPriority()).as("for the heir, who waits on").isEqualTo(20);
        assertThat(released.getHandoff()).as("to a try, not to a waiting kernel").isFalse();
        assertThat(released.getPages(0).getData().asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .getInt(0) & ~FutexWord.WAITERS).isEqualTo(word);
        assertThat(s.k().futex(s.k().base).heir).isNull();
        s.k().env.advance(10 * MS);
        assertThat(s.waiting().answered()).isFalse();
    }

    @Test
    void aHigherTrylockElsewhereTakesADeadOwnersFutexFromItsHeir() {
        Setup s = heirWoken(true);
        s.k().relinquishTry(0, 30);
        assertReleasedToTheTryAskingAgain(s, FutexWord.OWNER_DIED);
    }

    @Test
    void aHigherTrylockElsewhereTakesAnUnlocksFutexFromItsHeir() {
        Setup s = heirWoken(false);
        s.k().relinquishTry(0, 30);
        assertReleasedToTheTryAskingAgain(s, 0);
    }

    @Test
    void aTrylockElsewhereAtTheHeirsPriorityOrWithoutOneIsBusy() {
        for (int priority : new int[] {20, 0}) {
            Setup s = heirWoken(true);
            s.k().relinquishTry(0, priority);
            assertThat(s.k().env.drain()).extracting(KernelToPager::getRoutineCase)
                    .containsExactly(KernelToPager.RoutineCase.MEMORY_OBJECT_FUTEX_HELD);
            s.k().env.advance(10 * MS);
            assertThat(s.waiting().value().ownerDied()).as("the heir takes it when it runs").isTrue();
        }
    }
}
