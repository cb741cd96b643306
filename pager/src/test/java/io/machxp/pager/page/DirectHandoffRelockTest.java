package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.OBJ;
import static io.machxp.pager.page.XpKernels.PAGE;
import static io.machxp.pager.page.XpKernels.page;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.policy.DirectHandoff;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.MemoryObjectRelinquishFutex;
import io.machxp.proto.xp.PagerToKernel;
import org.junit.jupiter.api.Test;

/**
 * Review of outside4, LOW-6 (b), in the pager's core: a direct handoff's target K (xp-spec 14)
 * took the holder H's copy and gave the futex back before the pager's grant, without
 * request_again (no thread of K waited then); the pager keeps that early release until H's own
 * release settles the forward, and K stays in the futex's queue until then. A thread of K then
 * locks the futex again: K sends lock_futex (it holds nothing and waits for nothing, as far as it
 * knows). Before, that lock_futex was refused as "a second lock_futex" (K was still queued), and
 * at the settle K's early release freed the futex: K's thread waited for a grant that never came.
 * Now the lock is kept with the forward and taken as K's request right after its early release
 * is handled.
 */
class DirectHandoffRelockTest {
    private final XpKernels k = new XpKernels(new FailingStore(0), new PagerOptions(0, 3)
            .withGrantPolicy(new DirectHandoff()));
    private final long h = k.kernel(1, "H");
    private final long kk = k.kernel(2, "K");
    private long heldToken;
    private MemoryObjectRelinquishFutex order;

    /** H holds the futex at 0 and writes its page; K asks for it: H is told to forward it to K. */
    private void forwardOrdered() {
        k.lockFutex(h, 0);
        heldToken = k.one(h).getMemoryObjectFutexGranted().getFencingToken();
        k.write(h, 0);
        k.take(h);
        k.lockFutex(kk, 0);
        order = k.one(h).getMemoryObjectRelinquishFutex();
        assertThat(order.getForwardTo()).as("a forward ordered to K").isNotZero();
        assertThat(order.getForwardToken()).isGreaterThan(heldToken);
    }

    /** K took H's copy (kernel to kernel) and gives the futex back early, no thread of it waiting. */
    private void kGivesItBackEarly() {
        k.xp(kk, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(OBJ).setOffset(0).setFencingToken(order.getForwardToken())
                .addPages(XpKernels.dirtyPage(0, page(2)))));
    }

    private void kLocksAgain(boolean update, int priority) {
        k.xp(kk, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(OBJ).setOffset(0).setUpdate(update).setPriority(priority)));
    }

    /** H's release, whose copy went to K under the forward's token. */
    private void hReleases() {
        k.xp(h, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(OBJ).setOffset(0).setFencingToken(heldToken).setForwardedToken(order.getForwardToken())
                .addPages(XpKernels.dirtyPage(0, page(1)))));
    }

    /** Fails on the old code: K's lock was refused (refused 1, not 0) and K got no grant. */
    @Test
    void aTargetThatGaveTheFutexBackEarlyAndLocksAgainIsGrantedIt() {
        forwardOrdered();
        kGivesItBackEarly();
        long refused = k.stats.refused();
        kLocksAgain(false, 0);
        assertThat(k.stats.refused()).as("K's new lock_futex is no second one").isEqualTo(refused);
        k.nothingTo(h, kk);

        hReleases();
        PagerToKernel granted = k.one(kk);
        assertThat(granted.hasMemoryObjectFutexGranted()).as("K's new lock is granted").isTrue();
        assertThat(granted.getMemoryObjectFutexGranted().getFencingToken()).isGreaterThan(order.getForwardToken());
        assertThat(k.pager.holderOf("obj", 0)).isEqualTo("K");
        assertThat(k.stats.refused()).isEqualTo(refused);
    }

    /**
     * With a third kernel C queued behind K, K's new lock queues it behind C (it asked after C):
     * C gets the futex at the settle, and is asked to relinquish it for K. Fails on the old code
     * (K's lock refused, and C was never asked to give the futex up for K).
     */
    @Test
    void aTargetThatLocksAgainWhileAnotherWaitsQueuesBehindIt() {
        long c = k.kernel(3, "C");
        forwardOrdered();
        k.lockFutex(c, 0);
        k.take(h); // the order stands (a priority change at most)
        kGivesItBackEarly();
        long refused = k.stats.refused();
        kLocksAgain(false, 0);
        assertThat(k.stats.refused()).isEqualTo(refused);

        hReleases();
        k.nothingTo(kk);
        assertThat(k.pager.holderOf("obj", 0)).isEqualTo("C");
        var toC = k.take(c);
        assertThat(toC).anyMatch(PagerToKernel::hasMemoryObjectFutexGranted);
        assertThat(toC.stream().anyMatch(PagerToKernel::hasMemoryObjectRelinquishFutex)
                || toC.stream().anyMatch(m -> m.hasMemoryObjectFutexGranted()
                        && m.getMemoryObjectFutexGranted().getRelinquish()))
                .as("C is asked to give the futex up for K").isTrue();
        k.futexReleased(c, 0);
        assertThat(k.one(kk).hasMemoryObjectFutexGranted()).isTrue();
    }

    /**
     * K gave the futex back early by terminating the object (it left the queue then), initializes
     * it again and locks the futex: its lock is kept too, not queued, since the reserved grant takes
     * K's queue entry. Fails on the old code (K's lock was queued, the settle took it out of the
     * queue, K got no grant).
     */
    @Test
    void aTargetThatTerminatedAndLocksAgainAfterANewInitIsGrantedIt() {
        forwardOrdered();
        kGivesItBackEarly();
        k.terminate(kk);
        k.xp(kk, KernelToPager.newBuilder().setMemoryObjectInit(io.machxp.proto.xp.MemoryObjectInit.newBuilder()
                .setObjectId(OBJ).setName("obj").setPageSize(PAGE)));
        k.take(kk); // ready
        k.take(h); // the order withdrawn: K left
        long refused = k.stats.refused();
        kLocksAgain(false, 0);
        k.nothingTo(kk);

        hReleases();
        assertThat(k.one(kk).hasMemoryObjectFutexGranted()).as("K's new lock is granted").isTrue();
        assertThat(k.pager.holderOf("obj", 0)).isEqualTo("K");
        assertThat(k.stats.refused()).isEqualTo(refused);
    }

    /** After the kept lock, an update changes its priority; another lock_futex without update is refused. */
    @Test
    void aSecondLockAfterTheKeptOneIsRefusedAndAnUpdateIsNot() {
        forwardOrdered();
        kGivesItBackEarly();
        long refused = k.stats.refused();
        kLocksAgain(false, 0);
        kLocksAgain(true, 5);
        assertThat(k.stats.refused()).isEqualTo(refused);
        kLocksAgain(false, 0);
        assertThat(k.stats.refused()).isEqualTo(refused + 1);
        hReleases();
        assertThat(k.one(kk).hasMemoryObjectFutexGranted()).isTrue();
        k.nothingTo(kk);
    }

    /** An early release that asked again (request_again) queues K at the settle; a lock_futex then is a second one. */
    @Test
    void aLockAfterAnEarlyReleaseThatAskedAgainIsStillASecondOne() {
        forwardOrdered();
        k.xp(kk, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(OBJ).setOffset(0).setFencingToken(order.getForwardToken()).setRequestAgain(true)));
        long refused = k.stats.refused();
        kLocksAgain(false, 0);
        assertThat(k.stats.refused()).isEqualTo(refused + 1);
        hReleases();
        assertThat(k.one(kk).hasMemoryObjectFutexGranted()).as("granted once, for its request_again").isTrue();
        k.nothingTo(kk);
    }
}
