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
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Review of low6 (L6-1, L6-2, L6-3), in the pager's core: the lock_futex a direct handoff's
 * target K sends after giving the futex back early is kept until the holder H's release settles
 * the forward ({@link DirectHandoffRelockTest}). It ends when K leaves the futex's queues (its
 * stream breaks, it terminates the object), and a trylock is answered at once, never kept.
 */
class DirectHandoffRelockEndsTest {
    private XpKernels k;
    private long h;
    private long kk;
    private long heldToken;
    private MemoryObjectRelinquishFutex order;

    DirectHandoffRelockEndsTest() {
        kernels(0);
    }

    /** A pager with the lease given (0: none) and kernels H and K. */
    private void kernels(long leaseNanos) {
        k = new XpKernels(new FailingStore(0), new PagerOptions(leaseNanos, 3).withGrantPolicy(new DirectHandoff()));
        h = k.kernel(1, "H");
        kk = k.kernel(2, "K");
    }

    /** H holds the futex at 0 and writes its page; K asks for it: H is told to forward it to K. */
    private void forwardOrdered() {
        k.lockFutex(h, 0);
        heldToken = k.one(h).getMemoryObjectFutexGranted().getFencingToken();
        k.write(h, 0);
        k.take(h);
        k.lockFutex(kk, 0);
        order = k.one(h).getMemoryObjectRelinquishFutex();
        assertThat(order.getForwardTo()).as("a forward ordered to K").isNotZero();
    }

    /** K took H's copy and gives the futex back early, no thread of it waiting. */
    private void kGivesItBackEarly() {
        k.xp(kk, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(OBJ).setOffset(0).setFencingToken(order.getForwardToken())
                .addPages(XpKernels.dirtyPage(0, page(2)))));
    }

    private void kLocksAgain(boolean tryLock) {
        k.xp(kk, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(OBJ).setOffset(0).setTry(tryLock)));
    }

    /** H's release, whose copy went to K under the forward's token. */
    private void hReleases() {
        k.xp(h, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(OBJ).setOffset(0).setFencingToken(heldToken).setForwardedToken(order.getForwardToken())
                .addPages(XpKernels.dirtyPage(0, page(1)))));
    }

    /** K terminates the object (every wait of it ends, spec 5.3) and initializes it again under the same id. */
    private void kTerminatesAndInitsAgain() {
        k.terminate(kk);
        k.xp(kk, KernelToPager.newBuilder().setMemoryObjectInit(io.machxp.proto.xp.MemoryObjectInit.newBuilder()
                .setObjectId(OBJ).setName("obj").setPageSize(PAGE)));
        k.take(kk); // ready
        k.take(h); // the order withdrawn: K left
    }

    private static boolean asksToRelinquish(List<PagerToKernel> ms) {
        return ms.stream().anyMatch(m -> m.hasMemoryObjectRelinquishFutex()
                || m.hasMemoryObjectFutexGranted() && m.getMemoryObjectFutexGranted().getRelinquish());
    }

    /**
     * L6-1: K's stream breaks (lease pager: its session stays, it waits in no queue) while its lock
     * is kept; C locks; H releases. C gets the futex and is not asked to give it up for K, and K's
     * death at its lease end is no owner_died for C. Fails on a2ad8257: C is asked to relinquish
     * for broken K, and after C's release K holds the futex and dies with it (owner_died to C).
     */
    @Test
    void aKeptLockEndsWhenTheTargetsStreamBreaks() {
        kernels(1_000_000_000L);
        long c = k.kernel(3, "C");
        forwardOrdered();
        kGivesItBackEarly();
        kLocksAgain(false);
        k.read(kk, PAGE); // K holds a page: its session has more than the futex
        k.take(kk);
        k.pager.sessionClosed(kk); // K's stream breaks
        k.lockFutex(c, 0);
        k.take(h);
        hReleases();

        assertThat(k.pager.holderOf("obj", 0)).isEqualTo("C");
        List<PagerToKernel> toC = k.take(c);
        assertThat(toC).anyMatch(PagerToKernel::hasMemoryObjectFutexGranted);
        assertThat(asksToRelinquish(toC)).as("C is not asked to give the futex up for broken K").isFalse();

        k.futexReleased(c, 0);
        k.lockFutex(c, 0);
        assertThat(k.pager.holderOf("obj", 0)).as("nobody waits: C gets it again").isEqualTo("C");
        k.advanceHeard(3_000_000_000L, 100_000_000L, h, c); // K's lease ends
        assertThat(k.take(c)).noneMatch(m -> m.hasMemoryObjectFutexGranted()
                && m.getMemoryObjectFutexGranted().getOwnerDied());
        assertThat(k.pager.holderOf("obj", 0)).isEqualTo("C");
    }

    /**
     * L6-2: the kept lock, then a terminate and a new init under the same id, then a new lock:
     * the new lock is taken (not refused as a second one) and granted once. Fails on a2ad8257
     * (refused 1: the stale lock was still kept).
     */
    @Test
    void aKeptLockEndsWithATerminateAndTheLockAfterANewInitIsTaken() {
        forwardOrdered();
        kGivesItBackEarly();
        kLocksAgain(false);
        kTerminatesAndInitsAgain();
        long refused = k.stats.refused();
        kLocksAgain(false);
        assertThat(k.stats.refused()).as("the new lock is no second one").isEqualTo(refused);
        k.nothingTo(kk);

        hReleases();
        List<PagerToKernel> toK = k.take(kk);
        assertThat(toK.stream().filter(PagerToKernel::hasMemoryObjectFutexGranted).count()).isEqualTo(1);
        assertThat(k.pager.holderOf("obj", 0)).isEqualTo("K");
    }

    /**
     * L6-2: the kept lock, then a terminate and a new init, and no new lock: K gets no grant (no
     * thread of it waits). Fails on a2ad8257 (the stale lock granted, K holding the futex).
     */
    @Test
    void aKeptLockEndsWithATerminateAndNoLockMeansNoGrant() {
        forwardOrdered();
        kGivesItBackEarly();
        kLocksAgain(false);
        kTerminatesAndInitsAgain();

        hReleases();
        k.nothingTo(kk);
        assertThat(k.pager.holderOf("obj", 0)).isNotEqualTo("K");
    }

    /**
     * L6-3: a trylock from K after its early release is answered busy at once (H holds the futex in
     * the pager's books until the forward settles), and is not granted later. Fails on a2ad8257
     * (nothing to K, then a grant at H's release).
     */
    @Test
    void aTrylockAfterTheEarlyReleaseIsBusyAtOnce() {
        forwardOrdered();
        kGivesItBackEarly();
        kLocksAgain(true);
        assertThat(k.one(kk).hasMemoryObjectFutexBusy()).as("busy at once").isTrue();

        hReleases();
        k.nothingTo(kk);
        assertThat(k.pager.holderOf("obj", 0)).isNotEqualTo("K");
    }
}
