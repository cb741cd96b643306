package io.machxp.pager.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.MemoryObjectRelinquishFutex;
import io.machxp.proto.xp.MemoryObjectTerminate;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Priority inheritance across kernels: the highest priority granted first (FIFO among equals),
 * the holder asked with the top priority, updates and requeues, asking again inside a release,
 * how long the waiter elsewhere waited; with every priority 0, FIFO.
 */
class PagerCorePriorityTest extends PagerCoreKernels {
    /** The highest priority is granted first, FIFO among equals; relinquish carries the top priority. */
    @Test
    void grantsHighestPriorityFirstAndInArrivalOrderAmongEquals() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        long c = kernel(3, "C");
        long d = kernel(4, "D");
        lock(a, 0, 1);
        assertThat(said(a)).containsExactly("granted");
        lock(b, 0, 5);
        assertThat(said(a)).containsExactly("relinquish 5");
        lock(c, 0, 9);
        assertThat(said(a)).as("the top waiting priority rose").containsExactly("relinquish 9");
        lock(d, 0, 5);
        assertThat(said(a)).as("the top did not change").isEmpty();

        released(a, 0);
        assertThat(said(c)).as("9 before the 5s; B and D still wait")
                .containsExactly("granted+relinquish 5");
        assertThat(said(b)).isEmpty();
        assertThat(said(d)).isEmpty();
        released(c, 0);
        assertThat(said(b)).as("B came before D").containsExactly("granted+relinquish 5");
        assertThat(said(d)).isEmpty();
        released(b, 0);
        assertThat(said(d)).containsExactly("granted");
        released(d, 0);
        assertThat(pager.holderOf("obj", 0)).isNull();
        assertThat(stats.grants()).isEqualTo(4);
        assertThat(stats.handoffs()).isEqualTo(3);
        assertThat(stats.refused()).isZero();
    }

    /**
     * A kernel that gives a futex back while its own threads still wait asks again inside
     * futex_released (request_again): it is queued before the next holder is picked, so that
     * grant carries the relinquish for it, and no relinquish can come after an unlock that
     * already happened (the race a separate lock_futex left open).
     */
    @Test
    void aReleaseThatAsksAgainIsQueuedBeforeTheGrantItCauses() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        lock(a, 0, 10);
        said(a);
        lock(b, 0, 40);
        assertThat(said(a)).containsExactly("relinquish 40");
        pager.onXp(a, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(7).setOffset(0).setFencingToken(pager.fencingToken("obj", 0)).setHandoff(true)
                .setRequestAgain(true).setRequestPriority(20)).build());
        assertThat(said(b)).as("A already waits again, at 20: inside the grant").containsExactly("granted+relinquish 20");
        assertThat(inbox.get(b)).isEmpty();
        assertThat(said(a)).isEmpty();
        released(b, 0);
        List<PagerToKernel> toA = new ArrayList<>(inbox.get(a));
        assertThat(said(a)).containsExactly("granted");
        assertThat(toA.get(0).getMemoryObjectFutexGranted().getHandoff()).isFalse();
        assertThat(stats.refused()).isZero();
    }

    /** An update raises a queued kernel ahead of the others and the holder is asked again, higher. */
    @Test
    void anUpdateRaisesAQueuedKernelAndTheHolderIsAskedAgain() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        long c = kernel(3, "C");
        long d = kernel(4, "D");
        lock(a, 0, 0);
        said(a);
        lock(b, 0, 3);
        lock(c, 0, 3);
        lock(d, 0, 3);
        assertThat(said(a)).containsExactly("relinquish 3");
        update(d, 0, 8);
        assertThat(said(a)).containsExactly("relinquish 8");
        lock(c, 0, 6); // a second lock_futex without update: refused, C keeps 3
        assertThat(stats.refused()).isEqualTo(1);
        update(c, 0, 6);
        assertThat(said(a)).as("the top stays 8").isEmpty();

        released(a, 0);
        assertThat(said(d)).containsExactly("granted+relinquish 6");
        released(d, 0);
        assertThat(said(c)).containsExactly("granted+relinquish 3");
        released(c, 0);
        assertThat(said(b)).containsExactly("granted");
        assertThat(stats.refused()).isEqualTo(1);
    }

    /** An update keeps the kernel's arrival place among kernels of the same priority. */
    @Test
    void anUpdateKeepsTheArrivalPlace() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        long c = kernel(3, "C");
        lock(a, 0, 0);
        lock(b, 0, 4);
        lock(c, 0, 4);
        update(b, 0, 7);
        update(b, 0, 4);
        said(a);
        released(a, 0);
        assertThat(said(b)).as("B arrived before C and is back at 4").containsExactly("granted+relinquish 4");
        assertThat(said(c)).isEmpty();
        update(c, 0, 2);
        assertThat(said(b)).containsExactly("relinquish 2");
        released(b, 0);
        assertThat(said(c)).containsExactly("granted");
    }

    /**
     * An update that says requeued (the kernel's top waiter changed priority) puts the kernel behind
     * the kernels of its new priority, and the holder hears it was requeued when it heads the queue.
     */
    @Test
    void aRequeuedUpdateGoesBehindItsNewEquals() {
        long[] k = fourKernelsAHoldsBWaitsWith9CWith4();
        long a = k[0];
        long b = k[1];
        long c = k[2];
        long d = k[3];
        assertThat(said(a)).containsExactly("relinquish 9");
        requeued(b, 0, 4);
        assertThat(said(a)).as("C heads the 4s: its wait is older, not requeued").containsExactly("relinquish 4");
        lock(d, 0, 6);
        requeued(d, 0, 5);
        assertThat(said(a)).containsExactly("relinquish 6", "relinquish 5 requeued");
        released(a, 0);
        assertThat(said(d)).containsExactly("granted+relinquish 4");
        released(d, 0);
        assertThat(said(c)).as("C before B, which was requeued behind it").containsExactly("granted+relinquish 4");
        released(c, 0);
        assertThat(said(b)).containsExactly("granted");
    }

    /**
     * "Blocked first" across kernels (xp-spec 8.6): a relinquish and a grant that carries one say
     * how long the first kernel in the queue has waited, its own kernel's waited_nanos plus the
     * time since on the pager's clock; a kernel that did not say waits from its lock_futex's arrival.
     */
    @Test
    void aRelinquishSaysHowLongTheWaiterElsewhereWaited() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        long c = kernel(3, "C");
        lock(a, 0, 0);
        said(a);
        pager.onXp(b, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(7).setOffset(0).setPriority(30).setWaitedNanos(4_000_000)).build());
        MemoryObjectRelinquishFutex ask = inbox.get(a).get(0).getMemoryObjectRelinquishFutex();
        inbox.get(a).clear();
        assertThat(ask.hasWaitedNanos()).isTrue();
        assertThat(ask.getWaitedNanos()).as("B's top waiter blocked 4ms before B asked").isEqualTo(4_000_000);
        clock[0] += 6_000_000;
        pager.onXp(c, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(7).setOffset(0).setPriority(30)).build());
        released(a, 0);
        MemoryObjectFutexGranted toB = inbox.get(b).get(0).getMemoryObjectFutexGranted();
        assertThat(toB.getRelinquish()).isTrue();
        assertThat(toB.hasRelinquishWaitedNanos()).isTrue();
        assertThat(toB.getRelinquishWaitedNanos()).as("C did not say: from its lock_futex's arrival").isZero();
        clock[0] += 3_000_000;
        pager.onXp(b, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(7).setOffset(0).setFencingToken(pager.fencingToken("obj", 0)).setRequestAgain(true)
                .setRequestPriority(30).setRequestWaitedNanos(1_000_000)).build());
        MemoryObjectFutexGranted toC = inbox.get(c).get(0).getMemoryObjectFutexGranted();
        assertThat(toC.getRelinquishWaitedNanos()).as("B asked again: its top waiter has waited 1ms")
                .isEqualTo(1_000_000);
    }

    /**
     * The head of the queue says, at the same priority, that its top waiter is younger (the one
     * before it left): the holder is asked again with the new waited_nanos, so it places that
     * kernel's wait behind its own waiters of that priority that blocked before.
     */
    @Test
    void anUpdateOfTheHeadsWaitAtTheSamePriorityIsPassedOn() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        lock(a, 0, 0);
        said(a);
        pager.onXp(b, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(7).setOffset(0).setPriority(30).setWaitedNanos(0)).build());
        inbox.get(a).clear();
        clock[0] += 20_000_000;
        pager.onXp(b, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(7).setOffset(0).setPriority(30).setUpdate(true).setWaitedNanos(10_000_000)).build());
        assertThat(inbox.get(a)).hasSize(1);
        MemoryObjectRelinquishFutex again = inbox.get(a).get(0).getMemoryObjectRelinquishFutex();
        assertThat(again.getPriority()).isEqualTo(30);
        assertThat(again.getRequeued()).isFalse();
        assertThat(again.getWaitedNanos()).isEqualTo(10_000_000);
        inbox.get(a).clear();
        update(b, 0, 30);
        assertThat(inbox.getOrDefault(a, List.of())).as("nothing new: nothing sent").isEmpty();
    }

    /** Kernels A, B, C and D (sessions 1 to 4): A holds the futex at 0, B waits for it with 9, C with 4. */
    private long[] fourKernelsAHoldsBWaitsWith9CWith4() {
        long[] k = {kernel(1, "A"), kernel(2, "B"), kernel(3, "C"), kernel(4, "D")};
        lock(k[0], 0, 0);
        said(k[0]);
        lock(k[1], 0, 9);
        lock(k[2], 0, 4);
        return k;
    }

    /** lock_futex update with requeued: the kernel's top waiter's priority changed. */
    private void requeued(long session, long offset, int priority) {
        pager.onXp(session, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(7).setOffset(offset).setPriority(priority).setUpdate(true).setRequeued(true)).build());
    }

    /** The top falls when a queued kernel goes down or leaves: asked again lower, only on a change. */
    @Test
    void theHolderIsAskedAgainLowerWhenTheTopFalls() {
        long[] k = fourKernelsAHoldsBWaitsWith9CWith4();
        long a = k[0];
        long b = k[1];
        long c = k[2];
        long d = k[3];
        lock(d, 0, 4);
        assertThat(said(a)).containsExactly("relinquish 9");
        update(b, 0, 2);
        assertThat(said(a)).as("C and D are the top now").containsExactly("relinquish 4");
        update(b, 0, 3);
        assertThat(said(a)).as("the top is still 4").isEmpty();
        pager.sessionClosed(c);
        assertThat(said(a)).as("D still waits with 4").isEmpty();
        pager.sessionClosed(d);
        assertThat(said(a)).containsExactly("relinquish 3");
        pager.onXp(b, KernelToPager.newBuilder().setMemoryObjectTerminate(
                MemoryObjectTerminate.newBuilder().setObjectId(7)).build());
        assertThat(said(a)).as("nobody waits: A deboosts, and gives it back anyway").containsExactly("relinquish 0");
        long e = kernel(5, "E");
        long f = kernel(6, "F");
        lock(e, 0, 3);
        assertThat(said(a)).containsExactly("relinquish 3");
        update(e, 0, 0);
        assertThat(said(a)).as("the only waiter's priority fell to 0").containsExactly("relinquish 0");
        update(e, 0, 3);
        assertThat(said(a)).containsExactly("relinquish 3");
        lock(f, 0, 5);
        assertThat(said(a)).containsExactly("relinquish 5");
        released(a, 0);
        assertThat(said(f)).containsExactly("granted+relinquish 3");
        assertThat(said(e)).isEmpty();
        assertThat(stats.refused()).isZero();
    }

    /** The holder may not ask again, a queued kernel may not try; updates that crossed the grant are dropped. */
    @Test
    void locksFromTheHolderAndTriesFromWaitersChangeNothing() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        long c = kernel(3, "C");
        long d = kernel(4, "D");
        lock(a, 0, 2);
        said(a);
        lock(b, 0, 5);
        lock(c, 0, 6);
        assertThat(said(a)).containsExactly("relinquish 5", "relinquish 6");
        lock(a, 0, 9);
        assertThat(stats.refused()).as("a lock_futex from the holder").isEqualTo(1);
        trylock(b, 0);
        assertThat(stats.refused()).as("a try from a queued kernel").isEqualTo(2);
        update(d, 0, 7);
        assertThat(stats.refused()).as("an update from a kernel that did not ask").isEqualTo(3);
        update(a, 0, 9);
        assertThat(stats.refused()).as("an update that crossed the grant is not a violation").isEqualTo(3);
        assertThat(said(a)).isEmpty();
        assertThat(said(b)).isEmpty();
        assertThat(said(d)).isEmpty();

        released(a, 0);
        assertThat(said(c)).containsExactly("granted+relinquish 5");
        update(c, 0, 1);
        assertThat(stats.refused()).isEqualTo(3);
        assertThat(said(c)).as("C holds now; its late update changes nothing").isEmpty();
        released(c, 0);
        assertThat(said(b)).containsExactly("granted");
        released(b, 0);
        assertThat(pager.holderOf("obj", 0)).isNull();
    }

    /** With every priority 0 (--no-pi) the queue is FIFO and relinquish is sent once per grant, with 0. */
    @Test
    void priorityZeroIsFifoWithOneRelinquishPerGrant() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        long c = kernel(3, "C");
        long d = kernel(4, "D");
        lock(a, 0);
        lock(b, 0);
        lock(c, 0);
        lock(d, 0);
        update(c, 0, 0);
        pager.sessionClosed(b);
        assertThat(said(a)).containsExactly("granted", "relinquish 0");
        released(a, 0);
        assertThat(said(c)).containsExactly("granted+relinquish 0");
        lock(a, 0);
        assertThat(said(c)).isEmpty();
        released(c, 0);
        assertThat(said(d)).containsExactly("granted+relinquish 0");
        released(d, 0);
        assertThat(said(a)).containsExactly("granted");
        assertThat(stats.refused()).isZero();
    }
}
