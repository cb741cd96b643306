package io.machxp.kernel.core;

import static io.machxp.proto.xp.KernelToPager.RoutineCase.MEMORY_OBJECT_FUTEX_RELEASED;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexProbe;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * PI-futex semantics in one kernel core (FUTEX-SEMANTICS.md): waiters by priority, boosting and
 * deboosting of the owner, transitively and from the pager's relinquish_futex, and the priority
 * the kernel waits with at the pager.
 */
class KernelCorePiTest {
    private static final long MS = 1_000_000;
    private final CoreFixture k = new CoreFixture(true);

    @Test
    void waitersAreServedHighestPriorityFirstFifoAmongEqualsAndWaitersStaysWhileMoreWait() {
        MachThread owner = k.thread(5);
        k.acquireFromPager(owner, k.base);
        MachThread low = k.thread(10);
        MachThread highFirst = k.thread(30);
        MachThread highSecond = k.thread(30);
        MachThread mid = k.thread(20);
        Answer<AcquirePath> wLow = k.lock(low, k.base);
        Answer<AcquirePath> wHighFirst = k.lock(highFirst, k.base);
        Answer<AcquirePath> wHighSecond = k.lock(highSecond, k.base);
        Answer<AcquirePath> wMid = k.lock(mid, k.base);
        assertThat(FutexWord.word(k.futex(k.base).state())).isEqualTo(owner.tid | FutexWord.WAITERS);

        k.unlock(owner, k.base).value();
        assertThat(wHighFirst.value()).isEqualTo(AcquirePath.LOCAL_HANDOFF);
        assertThat(FutexWord.word(k.futex(k.base).state())).isEqualTo(highFirst.tid | FutexWord.WAITERS);
        assertThat(wHighSecond.answered()).isFalse();
        k.unlock(highFirst, k.base).value();
        assertThat(wHighSecond.answered()).isTrue();
        assertThat(wMid.answered()).isFalse();
        k.unlock(highSecond, k.base).value();
        assertThat(wMid.answered()).isTrue();
        assertThat(wLow.answered()).isFalse();
        k.unlock(mid, k.base).value();
        assertThat(wLow.value()).isEqualTo(AcquirePath.LOCAL_HANDOFF);
        assertThat(FutexWord.word(k.futex(k.base).state())).as("the last waiter too: WAITERS, as Linux's handoff")
                .isEqualTo(low.tid | FutexWord.WAITERS);
        k.unlock(low, k.base).value();
        assertThat(k.futex(k.base).state()).isEqualTo(FutexWord.FREE);
        assertThat(k.sentRoutines()).as("all local").isEmpty();
    }

    @Test
    void theOwnerRunsAtItsTopWaitersPriorityUntilTheWaiterLeavesOrItUnlocks() {
        MachThread owner = k.thread(5);
        k.acquireFromPager(owner, k.base);
        MachThread mid = k.thread(40);
        MachThread high = k.thread(60);
        Answer<AcquirePath> wMid = k.lock(mid, k.base);
        assertThat(owner.effectivePriority).isEqualTo(40);
        Answer<AcquirePath> wHigh = k.lock(high, k.base, 10 * MS);
        assertThat(owner.effectivePriority).isEqualTo(60);

        k.env.advance(10 * MS);
        assertThat(wHigh.error().errno()).isEqualTo(io.machxp.proto.task.Errno.ETIMEDOUT);
        assertThat(owner.effectivePriority).as("deboosted to the waiter still there").isEqualTo(40);

        k.unlock(owner, k.base).value();
        assertThat(wMid.value()).isEqualTo(AcquirePath.LOCAL_HANDOFF);
        assertThat(owner.effectivePriority).isEqualTo(5);
        assertThat(owner.boostedBy).isEmpty();
        assertThat(mid.effectivePriority).isEqualTo(40);
    }

    @Test
    void aWaitersPriorityChangeMovesItInTheQueueAndTheOwnersBoostFollows() {
        MachThread owner = k.thread(5);
        k.acquireFromPager(owner, k.base);
        MachThread a = k.thread(10);
        MachThread b = k.thread(20);
        Answer<AcquirePath> wa = k.lock(a, k.base);
        Answer<AcquirePath> wb = k.lock(b, k.base);
        assertThat(owner.effectivePriority).isEqualTo(20);

        k.setPriority(a, 50).value();
        assertThat(owner.effectivePriority).isEqualTo(50);
        k.setPriority(a, 15).value();
        assertThat(owner.effectivePriority).isEqualTo(20);
        k.setPriority(a, 50).value();

        k.unlock(owner, k.base).value();
        assertThat(wa.answered()).as("a now comes first").isTrue();
        assertThat(wb.answered()).isFalse();
        assertThat(a.effectivePriority).as("a, owner now, inherits b's 20 below its own 50").isEqualTo(50);
    }

    /**
     * A waiter whose priority changes to one other waiters have goes behind them, as Linux requeues
     * it (measured: scenarios/waiter-priority-equal.yaml, raised and lowered); set to the priority it has, it stays.
     */
    @Test
    void aWaiterWhosePriorityChangesGoesBehindItsNewEquals() {
        MachThread owner = k.thread(5);
        k.acquireFromPager(owner, k.base);
        List<MachThread> waiters = List.of(k.thread(50), k.thread(20), k.thread(30), k.thread(40), k.thread(40));
        Map<MachThread, Answer<AcquirePath>> locks = new LinkedHashMap<>();
        waiters.forEach(w -> locks.put(w, k.lock(w, k.base)));
        MachThread e = waiters.get(0);
        MachThread a = waiters.get(1);
        MachThread b = waiters.get(2);
        MachThread c = waiters.get(3);
        MachThread d = waiters.get(4);
        k.setPriority(e, 40).value(); // lowered to c's and d's: behind them
        k.setPriority(a, 30).value(); // raised to b's: behind b
        k.setPriority(c, 40).value(); // unchanged: stays before d
        List<MachThread> order = new ArrayList<>();
        MachThread holder = owner;
        for (int i = 0; i < waiters.size(); i++) {
            k.unlock(holder, k.base).value();
            holder = waiters.stream().filter(w -> locks.get(w).answered() && !order.contains(w)).findFirst().orElseThrow();
            order.add(holder);
        }
        assertThat(order).containsExactly(c, d, e, b, a);
    }

    @Test
    void boostsFollowAChainOfOwnersAndACycleIsEdeadlk() {
        MachThread t1 = k.thread(10);
        MachThread t2 = k.thread(20);
        MachThread t3 = k.thread(90);
        k.acquireFromPager(t1, k.base);
        k.acquireFromPager(t2, k.base + 64);
        Answer<AcquirePath> t1WaitsForB = k.lock(t1, k.base + 64);
        assertThat(t2.effectivePriority).isEqualTo(20);

        Answer<AcquirePath> t3WaitsForA = k.lock(t3, k.base);
        assertThat(t1.effectivePriority).isEqualTo(90);
        assertThat(t2.effectivePriority).as("transitively, through t1's wait for b").isEqualTo(90);

        Answer<AcquirePath> cycle = k.lock(t2, k.base);
        assertThat(cycle.error().errno()).isEqualTo(io.machxp.proto.task.Errno.EDEADLK);
        assertThat(cycle.error().message()).contains("would wait for itself");

        k.unlock(t2, k.base + 64).value();
        assertThat(t1WaitsForB.value()).isEqualTo(AcquirePath.LOCAL_HANDOFF);
        assertThat(t2.effectivePriority).isEqualTo(20);
        k.unlock(t1, k.base + 64).value();
        k.unlock(t1, k.base).value();
        assertThat(t3WaitsForA.value()).isEqualTo(AcquirePath.LOCAL_HANDOFF);
        assertThat(t1.effectivePriority).isEqualTo(10);
    }

    @Test
    void aChainThatLeavesTheKernelIsFollowedByAProbeAndACycleThroughItFailsTheWait() {
        MachThread t1 = k.thread(10);
        MachThread t2 = k.thread(10);
        k.acquireFromPager(t1, k.base);
        Answer<AcquirePath> t1WaitsRemote = k.lock(t1, k.base + 64);
        assertThat(k.single().hasMemoryObjectLockFutex()).as("nobody waits for what t1 owns: no probe").isTrue();

        // t2 waits for t1's futex: now t1's wait, which leaves the kernel, may close a cycle.
        Answer<AcquirePath> t2Waits = k.lock(t2, k.base);
        io.machxp.proto.xp.MemoryObjectFutexProbe sent = k.single().getMemoryObjectFutexProbe();
        assertThat(sent.getOffset()).isEqualTo(64);
        assertThat(sent.getInitiator()).isEqualTo(t1.tid);
        assertThat(sent.getWait()).isEqualTo(t1.waitNumber);
        assertThat(t2Waits.answered()).isFalse();

        // The pager brings back a probe of t1's wait, from a kernel whose owner waits for t1's futex.
        probe(0, t1.tid, t1.waitNumber - 1);
        assertThat(t1WaitsRemote.answered()).as("a probe for an older wait changes nothing").isFalse();
        probe(0, t1.tid, t1.waitNumber);
        assertThat(t1WaitsRemote.error().errno()).isEqualTo(io.machxp.proto.task.Errno.EDEADLK);
        assertThat(t1WaitsRemote.error().message()).contains("across kernels");
        assertThat(t2Waits.answered()).as("t2 is not in the cycle").isFalse();
        k.unlock(t1, k.base).value();
        assertThat(t2Waits.value()).isEqualTo(AcquirePath.LOCAL_HANDOFF);
    }

    @Test
    void aCycleFoundForAnOlderWaitFailsOnlyTheWaitThatClosedIt() {
        MachThread t1 = k.thread(10);
        MachThread t2 = k.thread(10);
        k.acquireFromPager(t1, k.base);
        Answer<AcquirePath> t1WaitsRemote = k.lock(t1, k.base + 64);
        k.single();
        k.env.advance(10 * MS);
        Answer<AcquirePath> t2Waits = k.lock(t2, k.base);
        MemoryObjectFutexProbe sent = k.single().getMemoryObjectFutexProbe();
        assertThat(sent.getYoungest()).as("the probe names t1's wait as the last so far").isEqualTo(t1.tid);
        assertThat(sent.getYoungestBeganMicros()).isEqualTo(t1.waitBeganMicros);

        // The probe of t1's wait comes back: the cycle ran through a thread of another kernel whose
        // wait began after t1's, so that wait closed the cycle, not t1's.
        int other = t1.tid + 0x100000;
        k.core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectFutexProbe(sent.toBuilder().setObjectId(CoreFixture.OBJECT_ID)
                .setOffset(0).setHops(2).setYoungest(other).setYoungestWait(7)
                .setYoungestBeganMicros(t1.waitBeganMicros + 5_000)).build());
        assertThat(t1WaitsRemote.answered()).as("t1 waited first: it keeps waiting").isFalse();
        MemoryObjectFutexProbe onward = k.single().getMemoryObjectFutexProbe();
        assertThat(onward.getInitiator()).as("on around the cycle, for the wait that closed it").isEqualTo(other);
        assertThat(onward.getWait()).isEqualTo(7);
        assertThat(onward.getOffset()).isEqualTo(64);
        assertThat(onward.getHops()).isZero();

        // A probe whose last wait is t1's own fails t1's wait.
        k.core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectFutexProbe(sent.toBuilder().setObjectId(CoreFixture.OBJECT_ID)
                .setOffset(0).setHops(2)).build());
        assertThat(t1WaitsRemote.error().errno()).isEqualTo(io.machxp.proto.task.Errno.EDEADLK);
        assertThat(t2Waits.answered()).isFalse();
    }

    private void probe(long offset, int initiator, long wait) {
        k.core.xp().onXp(io.machxp.proto.xp.PagerToKernel.newBuilder().setMemoryObjectFutexProbe(
                io.machxp.proto.xp.MemoryObjectFutexProbe.newBuilder().setObjectId(CoreFixture.OBJECT_ID)
                        .setOffset(offset).setInitiator(initiator).setWait(wait).setHops(2)).build());
    }

    @Test
    void relinquishCarriesThePriorityWaitingElsewhereToTheOwner() {
        MachThread owner = k.thread(5);
        k.acquireFromPager(owner, k.base);
        k.relinquish(0, 70);
        assertThat(owner.effectivePriority).isEqualTo(70);
        k.relinquish(0, 30);
        assertThat(owner.effectivePriority).as("the pager's top fell").isEqualTo(30);
        assertThat(k.sentRoutines()).as("held: released only on unlock").isEmpty();

        k.unlock(owner, k.base).value();
        assertThat(k.sentRoutines()).containsExactly(MEMORY_OBJECT_FUTEX_RELEASED);
        assertThat(owner.effectivePriority).isEqualTo(5);
    }

    /**
     * scenarios/waiter-priority-lowered-to-equal-across-kernels.yaml at the holder: a waiter elsewhere
     * (40) lowered to a local waiter's priority (30) comes after it when the relinquish says it was
     * requeued, as Linux requeues it; without the flag, a lower priority keeps the place of the wait
     * it continues (the top waiter elsewhere left, and one waiting since before took its place).
     */
    @Test
    void aWaiterElsewhereRequeuedAtALocalWaitersPriorityComesAfterIt() {
        for (boolean requeued : new boolean[] {true, false}) {
            CoreFixture h = new CoreFixture(CoreOptions.DEFAULT);
            MachThread owner = h.thread(10);
            h.acquireFromPager(owner, h.base);
            h.relinquish(0, 40);
            MachThread local = h.thread(30);
            Answer<AcquirePath> w3 = h.lock(local, h.base);
            h.relinquish(0, 30, requeued);
            h.env.drain();
            h.unlock(owner, h.base).value();
            if (requeued) {
                assertThat(w3.value()).as("the local waiter first").isEqualTo(AcquirePath.LOCAL_HANDOFF);
                h.unlock(local, h.base).value();
            } else {
                assertThat(w3.answered()).as("the waiter elsewhere keeps its place before it").isFalse();
            }
            assertThat(h.env.drain()).extracting(KernelToPager::getRoutineCase).as("then given back (requeued: %s)",
                    requeued).contains(MEMORY_OBJECT_FUTEX_RELEASED);
        }
    }

    /**
     * scenarios/unlock-waiters-fifo-across-kernels.yaml at the kernel the futex moves to: among
     * equal priorities the waiter that blocked first goes first, across kernels too. The grant
     * says how long the top waiter elsewhere has waited: a local waiter of its priority that
     * blocked after it comes after it (the futex goes back to the pager at the unlock), one that
     * blocked before comes first (Linux: FIFO among equals by the time each blocked).
     */
    @Test
    void aWaiterElsewhereThatBlockedBeforeALocalEqualGoesFirst() {
        for (long remoteWaited : new long[] {25 * MS, 5 * MS}) {
            CoreFixture b = new CoreFixture(CoreOptions.DEFAULT);
            MachThread w1 = b.thread(30);
            Answer<AcquirePath> first = b.lock(w1, b.base);
            b.env.advance(20 * MS);
            MachThread w3 = b.thread(30);
            Answer<AcquirePath> local = b.lock(w3, b.base);
            b.env.advance(10 * MS); // w3 has waited 10ms when the grant comes
            b.env.drain();
            b.grantWithRelinquish(0, 30, remoteWaited);
            if (b.env.drain().stream().anyMatch(KernelToPager::hasMemoryObjectDataRequest)) {
                b.zeroFill(0); // the page comes after the grant
            }
            assertThat(first.value()).isEqualTo(AcquirePath.PAGER_GRANT);
            b.env.drain();
            b.unlock(w1, b.base).value();
            if (remoteWaited > 10 * MS) {
                assertThat(local.answered()).as("the waiter elsewhere blocked before w3").isFalse();
                assertThat(b.env.drain()).extracting(KernelToPager::getRoutineCase)
                        .contains(MEMORY_OBJECT_FUTEX_RELEASED);
            } else {
                assertThat(local.value()).as("w3 blocked before the waiter elsewhere")
                        .isEqualTo(AcquirePath.LOCAL_HANDOFF);
            }
        }
    }

    /**
     * The same at a holder told by relinquish_futex: a waiter elsewhere at a local waiter's
     * priority goes where its wait began, not where the relinquish came.
     */
    @Test
    void aRelinquishPlacesTheWaiterElsewhereByHowLongItWaited() {
        for (long remoteWaited : new long[] {15 * MS, 5 * MS}) {
            CoreFixture h = new CoreFixture(CoreOptions.DEFAULT);
            MachThread owner = h.thread(10);
            h.acquireFromPager(owner, h.base);
            MachThread local = h.thread(30);
            Answer<AcquirePath> w = h.lock(local, h.base);
            h.env.advance(10 * MS);
            h.relinquishWaited(0, 30, remoteWaited);
            h.env.drain();
            h.unlock(owner, h.base).value();
            if (remoteWaited > 10 * MS) {
                assertThat(w.answered()).as("the waiter elsewhere blocked first").isFalse();
                assertThat(h.env.drain()).extracting(KernelToPager::getRoutineCase)
                        .contains(MEMORY_OBJECT_FUTEX_RELEASED);
            } else {
                assertThat(w.value()).as("the local waiter blocked first").isEqualTo(AcquirePath.LOCAL_HANDOFF);
            }
        }
    }

    /** The waiting kernel's side: lock_futex, its updates and a release that asks again say how long the top waiter waited. */
    @Test
    void theKernelTellsThePagerHowLongItsTopWaiterWaited() {
        MachThread w1 = k.thread(30);
        k.lock(w1, k.base);
        MemoryObjectLockFutex ask = k.single().getMemoryObjectLockFutex();
        assertThat(ask.hasWaitedNanos()).isTrue();
        assertThat(ask.getWaitedNanos()).isZero();
        k.env.advance(10 * MS);
        MachThread w2 = k.thread(50);
        k.lock(w2, k.base);
        MemoryObjectLockFutex higher = k.single().getMemoryObjectLockFutex();
        assertThat(higher.getUpdate()).isTrue();
        assertThat(higher.getWaitedNanos()).as("w2 just blocked").isZero();

        MachThread owner = k.thread(10);
        k.acquireFromPager(owner, k.base + 64);
        MachThread w3 = k.thread(40);
        k.lock(w3, k.base + 64);
        k.env.advance(7 * MS);
        k.relinquish(64, 60);
        k.env.drain();
        k.unlock(owner, k.base + 64).value();
        io.machxp.proto.xp.MemoryObjectFutexReleased released = k.env.drain().stream()
                .filter(KernelToPager::hasMemoryObjectFutexReleased).findFirst().orElseThrow()
                .getMemoryObjectFutexReleased();
        assertThat(released.getRequestAgain()).isTrue();
        assertThat(released.getRequestWaitedNanos()).as("w3 has waited 7ms").isEqualTo(7 * MS);
    }

    /**
     * scenarios/timeout-top-equal-across-kernels.yaml at the waiting kernel: when its top waiter
     * leaves and an equal that blocked later heads its waiters, the priority is the same but the
     * wait is younger, so the kernel tells the pager (an update, not requeued, with how long the
     * new top waiter has waited); the holder would otherwise place the kernel by the wait that left.
     */
    @Test
    void aTopWaiterLeavingForAYoungerEqualUpdatesHowLongTheKernelWaited() {
        MachThread w1 = k.thread(30);
        Answer<AcquirePath> first = k.lock(w1, k.base, 20 * MS);
        assertThat(k.single().getMemoryObjectLockFutex().getWaitedNanos()).isZero();
        k.env.advance(10 * MS);
        MachThread w2 = k.thread(30);
        k.lock(w2, k.base);
        assertThat(k.env.drain()).as("an equal behind the top: nothing to tell").isEmpty();
        k.env.advance(10 * MS);
        assertThat(first.error().errno()).isEqualTo(io.machxp.proto.task.Errno.ETIMEDOUT);
        MemoryObjectLockFutex update = k.single().getMemoryObjectLockFutex();
        assertThat(update.getUpdate()).isTrue();
        assertThat(update.getRequeued()).isFalse();
        assertThat(update.getPriority()).isEqualTo(30);
        assertThat(update.getWaitedNanos()).as("w2 has waited 10ms").isEqualTo(10 * MS);
    }

    /** The waiting kernel's side: an update caused by the top waiter's own priority change says requeued. */
    @Test
    void aLockFutexUpdateSaysRequeuedWhenTheTopWaitersPriorityChanged() {
        MachThread w1 = k.thread(40);
        k.lock(w1, k.base);
        assertThat(k.single().getMemoryObjectLockFutex().getPriority()).isEqualTo(40);
        k.setPriority(w1, 30).value();
        MemoryObjectLockFutex lowered = k.single().getMemoryObjectLockFutex();
        assertThat(lowered.getUpdate()).isTrue();
        assertThat(lowered.getPriority()).isEqualTo(30);
        assertThat(lowered.getRequeued()).as("its top waiter was requeued").isTrue();

        MachThread w2 = k.thread(50);
        Answer<AcquirePath> second = k.lock(w2, k.base, 10 * MS);
        assertThat(k.single().getMemoryObjectLockFutex().getRequeued()).as("a new, higher waiter").isFalse();
        k.env.advance(10 * MS);
        assertThat(second.error().errno()).isEqualTo(io.machxp.proto.task.Errno.ETIMEDOUT);
        MemoryObjectLockFutex back = k.single().getMemoryObjectLockFutex();
        assertThat(back.getPriority()).isEqualTo(30);
        assertThat(back.getRequeued()).as("the top left; w1 waits on in the place it had").isFalse();
    }

    @Test
    void aBoostedWaiterRaisesThePriorityItWaitsWithAtThePager() {
        MachThread w = k.thread(10);
        MachThread high = k.thread(60);
        k.acquireFromPager(w, k.base + 64);
        Answer<AcquirePath> remote = k.lock(w, k.base + 128);
        MemoryObjectLockFutex ask = k.single().getMemoryObjectLockFutex();
        assertThat(ask.getPriority()).isEqualTo(10);
        assertThat(ask.getUpdate()).isFalse();

        Answer<AcquirePath> local = k.lock(high, k.base + 64);
        List<KernelToPager> sent = k.env.drain();
        assertThat(sent).extracting(KernelToPager::getRoutineCase).as("w now owns a futex someone waits for: "
                + "its wait is probed for a cycle, and the pager told its new priority").containsExactly(
                KernelToPager.RoutineCase.MEMORY_OBJECT_FUTEX_PROBE, KernelToPager.RoutineCase.MEMORY_OBJECT_LOCK_FUTEX);
        assertThat(sent.get(0).getMemoryObjectFutexProbe().getInitiator()).isEqualTo(w.tid);
        assertThat(sent.get(1).getMemoryObjectLockFutex().getOffset()).isEqualTo(128);
        assertThat(sent.get(1).getMemoryObjectLockFutex().getPriority()).isEqualTo(60);
        assertThat(sent.get(1).getMemoryObjectLockFutex().getUpdate()).isTrue();

        k.grant(128);
        assertThat(remote.value()).isEqualTo(AcquirePath.PAGER_GRANT);
        k.unlock(w, k.base + 64).value();
        assertThat(local.value()).isEqualTo(AcquirePath.LOCAL_HANDOFF);
        assertThat(w.effectivePriority).isEqualTo(10);
    }

    @Test
    void aTrylockOvertakenAtTheGrantByAHigherPriorityLockIsBusyAtOnce() {
        MachThread low = k.thread(10);
        MachThread high = k.thread(50);
        Answer<AcquirePath> tryLow = k.trylock(low, k.base);
        assertThat(k.single().getMemoryObjectLockFutex().getTry()).isTrue();
        Answer<AcquirePath> lockHigh = k.lock(high, k.base);
        k.grant(0);
        assertThat(k.single().hasMemoryObjectDataRequest()).as("the grant came without the page").isTrue();
        k.zeroFill(0);
        assertThat(lockHigh.value()).isEqualTo(AcquirePath.PAGER_GRANT);
        assertThat(tryLow.answered()).as("a trylock never waits for another owner").isTrue();
        assertThat(tryLow.value()).isNull();
        assertThat(FutexWord.word(k.futex(k.base).state())).as("nobody waits").isEqualTo(high.tid);
    }

    @Test
    void theLastWaiterLeavingTellsThePagerPriorityZero() {
        MachThread w = k.thread(60);
        Answer<AcquirePath> lock = k.lock(w, k.base, 10 * MS);
        assertThat(k.single().getMemoryObjectLockFutex().getPriority()).isEqualTo(60);
        k.env.advance(10 * MS);
        assertThat(lock.error().errno()).isEqualTo(io.machxp.proto.task.Errno.ETIMEDOUT);
        MemoryObjectLockFutex update = k.single().getMemoryObjectLockFutex();
        assertThat(update.getUpdate()).isTrue();
        assertThat(update.getPriority()).as("the owner elsewhere is deboosted").isZero();
    }

    @Test
    void withoutPiWaitersAreFifoAndNobodyIsBoosted() {
        CoreFixture fifo = new CoreFixture(CoreOptions.DEFAULT.withPriorityInheritance(false));
        MachThread owner = fifo.thread(5);
        fifo.acquireFromPager(owner, fifo.base);
        MachThread low = fifo.thread(10);
        MachThread high = fifo.thread(90);
        Answer<AcquirePath> wLow = fifo.lock(low, fifo.base);
        Answer<AcquirePath> wHigh = fifo.lock(high, fifo.base);
        assertThat(owner.effectivePriority).isEqualTo(5);
        fifo.relinquish(0, 80);
        assertThat(owner.effectivePriority).isEqualTo(5);
        fifo.unlock(owner, fifo.base).value();
        assertThat(wLow.value()).as("arrival order: low first, it blocked before the kernel elsewhere")
                .isEqualTo(AcquirePath.LOCAL_HANDOFF);
        assertThat(wHigh.answered()).isFalse();
        fifo.unlock(low, fifo.base).value();
        assertThat(wHigh.answered()).as("so did high, before the relinquish").isTrue();
        fifo.unlock(high, fifo.base).value();
        assertThat(fifo.env.drain()).extracting(KernelToPager::getRoutineCase)
                .as("then the kernel elsewhere").containsExactly(MEMORY_OBJECT_FUTEX_RELEASED);
    }
}
