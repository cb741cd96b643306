package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectRelinquishFutexHint;
import io.machxp.proto.xp.PagerKeepalive;
import io.machxp.proto.xp.PagerToKernel;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * memory_object_relinquish_futex_hint (xp-spec 13.6): the kernel offers it in its hello, treats a
 * hint for a futex it holds under the hint's grant as a relinquish_futex that relays no priority,
 * drops every other one silently, takes the pager's relinquish that follows as before, and never
 * counts a hint among the session's messages received (4.7).
 */
class RelinquishHintTest {
    private final CoreFixture k = new CoreFixture(true);
    private final MachThread owner = k.thread(10);
    private final MachThread local = k.thread(10);

    private void hint(long offset, long token) {
        hint(CoreFixture.OBJECT_ID, offset, token);
    }

    private void hint(int objectId, long offset, long token) {
        k.core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectRelinquishFutexHint(
                MemoryObjectRelinquishFutexHint.newBuilder().setObjectId(objectId).setOffset(offset)
                        .setFencingToken(token)).build());
    }

    @Test
    void theHelloOffersIt() {
        FakeKernelEnv env = new FakeKernelEnv();
        KernelCore core = new KernelCore("B", env, new KernelStats(), CoreOptions.DEFAULT);
        core.xp().start();
        KernelToPager hello = env.drain().get(0);
        assertThat(hello.getKernelHello().getFeaturesList()).contains(RelinquishHints.FEATURE);
    }

    @Test
    void aCachedFutexNobodyOwnsIsGivenBackAtOnce() {
        k.acquireFromPager(owner, k.base);
        k.unlock(owner, k.base).value(); // cached here, nobody owns it
        assertThat(k.env.drain()).isEmpty();
        hint(0, k.futex(k.base).fencingToken);
        List<KernelToPager> sent = k.env.drain();
        assertThat(sent).extracting(KernelToPager::getRoutineCase)
                .containsExactly(KernelToPager.RoutineCase.MEMORY_OBJECT_FUTEX_RELEASED);
        assertThat(sent.get(0).getMemoryObjectFutexReleased().getFencingToken()).isEqualTo(k.futex(k.base).fencingToken);
        assertThat(FutexWord.isAbsent(k.futex(k.base).state())).isTrue();
    }

    @Test
    void anOwnedFutexGoesBackAtTheOwnersUnlockAndNobodyIsBoosted() {
        k.acquireFromPager(owner, k.base);
        hint(0, k.futex(k.base).fencingToken);
        assertThat(k.env.drain()).as("owned: nothing yet").isEmpty();
        assertThat(k.futex(k.base).relinquishPending).isTrue();
        assertThat(owner.effectivePriority).as("a hint relays no priority").isEqualTo(10);
        k.unlock(owner, k.base).value();
        assertThat(k.sentRoutines()).containsExactly(KernelToPager.RoutineCase.MEMORY_OBJECT_FUTEX_RELEASED);
    }

    @Test
    void theRelinquishThatFollowsBoostsAsEver() {
        k.acquireFromPager(owner, k.base);
        hint(0, k.futex(k.base).fencingToken);
        k.relinquish(0, 30);
        assertThat(owner.effectivePriority).isEqualTo(30);
        k.unlock(owner, k.base).value();
        assertThat(k.sentRoutines()).containsExactly(KernelToPager.RoutineCase.MEMORY_OBJECT_FUTEX_RELEASED);
        assertThat(owner.effectivePriority).isEqualTo(10);
    }

    @Test
    void aDuplicateWithTheRelinquishThatFollowsIsHarmless() {
        k.acquireFromPager(owner, k.base);
        k.unlock(owner, k.base).value();
        long token = k.futex(k.base).fencingToken;
        hint(0, token);
        assertThat(k.sentRoutines()).containsExactly(KernelToPager.RoutineCase.MEMORY_OBJECT_FUTEX_RELEASED);
        hint(0, token); // the same hint again, and the pager's own ask, crossing the release
        k.relinquish(0, 0);
        assertThat(k.env.drain()).isEmpty();
        assertThat(FutexWord.isAbsent(k.futex(k.base).state())).isTrue();
    }

    @Test
    void aHintAfterTheRelinquishChangesNothing() {
        k.acquireFromPager(owner, k.base);
        k.relinquish(0, 30);
        assertThat(owner.effectivePriority).isEqualTo(30);
        hint(0, k.futex(k.base).fencingToken);
        assertThat(owner.effectivePriority).as("the pager's ask decides: no deboost").isEqualTo(30);
        assertThat(k.futex(k.base).remotePriority).isEqualTo(30);
    }

    @Test
    void localWaitersThatBlockedBeforeItGoFirst() {
        k.acquireFromPager(owner, k.base);
        Answer<io.machxp.proto.task.AcquirePath> waiting = k.lock(local, k.base);
        hint(0, k.futex(k.base).fencingToken);
        k.unlock(owner, k.base).value();
        assertThat(waiting.answered()).as("the local waiter of the same priority came first").isTrue();
        assertThat(k.env.drain()).isEmpty();
        k.unlock(local, k.base).value();
        assertThat(k.sentRoutines()).containsExactly(KernelToPager.RoutineCase.MEMORY_OBJECT_FUTEX_RELEASED);
    }

    @Test
    void aHintForAnotherGrantIsDropped() {
        k.acquireFromPager(owner, k.base);
        k.unlock(owner, k.base).value();
        long token = k.futex(k.base).fencingToken;
        hint(0, token - 1); // stale: the grant before this one
        hint(0, token + 1); // not one this kernel holds
        assertThat(k.env.drain()).isEmpty();
        assertThat(k.futex(k.base).relinquishPending).isFalse();
        assertThat(k.core.xp().hints().dropped()).isEqualTo(2);
    }

    @Test
    void aHintForAFutexNotHeldOrUnknownIsDropped() {
        hint(0, 1); // never asked for: no futex here
        hint(99, 0, 1); // no such object
        hint(CoreFixture.OBJECT_ID, 1L << 40, 1); // outside the object
        k.acquireFromPager(owner, k.base);
        k.relinquish(0, 0);
        k.unlock(owner, k.base).value(); // given back: ABSENT now
        assertThat(k.sentRoutines()).containsExactly(KernelToPager.RoutineCase.MEMORY_OBJECT_FUTEX_RELEASED);
        hint(0, k.futex(k.base).fencingToken);
        assertThat(k.env.drain()).isEmpty();
        assertThat(k.core.xp().hints().dropped()).isEqualTo(4);
        assertThat(k.core.xp().hints().acted()).isZero();
    }

    @Test
    void aHintIsNotCountedAmongTheMessagesReceived() {
        CoreFixture r = new CoreFixture(CoreOptions.DEFAULT, 1000, 42);
        MachThread t = r.thread();
        r.acquireFromPager(t, r.base);
        r.env.drain();
        long before = r.core.sessions.primary().resume.receivedCount();
        r.core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectRelinquishFutexHint(
                MemoryObjectRelinquishFutexHint.newBuilder().setObjectId(CoreFixture.OBJECT_ID).setOffset(0)
                        .setFencingToken(r.futex(r.base).fencingToken)).build());
        assertThat(r.core.sessions.primary().resume.receivedCount()).isEqualTo(before);
        r.core.xp().onXp(PagerToKernel.newBuilder().setPagerKeepalive(PagerKeepalive.newBuilder().setSequence(99)).build());
        assertThat(r.core.sessions.primary().resume.receivedCount()).isEqualTo(before + 1);
    }
}
