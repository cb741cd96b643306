package io.machxp.pager.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexHeld;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import org.junit.jupiter.api.Test;

/**
 * Trylocks across kernels (xp-spec 8.3): the holder that caches the futex is asked
 * (relinquish_futex try), a futex it gives back goes to the try, one it keeps answers the try
 * busy, and a try never waits behind a lock.
 */
class PagerCoreTryLockTest extends PagerCoreKernels {
    /** memory_object_futex_held from the holder, with the token of its grant. */
    private void held(long session, long offset) {
        pager.onXp(session, KernelToPager.newBuilder().setMemoryObjectFutexHeld(MemoryObjectFutexHeld.newBuilder()
                .setObjectId(7).setOffset(offset).setFencingToken(pager.fencingToken("obj", offset))).build());
    }

    /**
     * A trylock of a futex another kernel caches asks that kernel (relinquish with try): it is free
     * if nobody there owns it, and then the trylock gets it (Linux: TRYLOCK_PI on a free word).
     */
    @Test
    void aTryOnACachedFutexAsksTheHolderAndGetsItWhenGivenBack() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        lock(a, 0);
        said(a);
        trylock(b, 0);
        trylock(b, 0);
        assertThat(said(a)).as("asked once").containsExactly("relinquish 0 try");
        assertThat(said(b)).isEmpty();
        assertThat(stats.refused()).as("a second try while the first waits").isEqualTo(1);
        released(a, 0);
        assertThat(said(b)).containsExactly("granted");
        assertThat(pager.holderOf("obj", 0)).isEqualTo("B");
        assertThat(said(a)).isEmpty();
    }

    /**
     * The relinquish with try carries the trylock's priority, so that a holder whose woken heir has
     * not run gives the futex to a try above it (Linux's TRYLOCK_PI steal): released without
     * request_again, it goes to the try; the holder's own lock_futex after it queues as any (an
     * older kernel's way: a kernel now asks again inside the release, TryAheadOfQueueTest).
     */
    @Test
    void aTrysPriorityGoesToTheHolderAndAReleaseWithoutAskingAgainGrantsTheTry() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        lock(a, 0);
        said(a);
        pager.onXp(b, KernelToPager.newBuilder().setMemoryObjectLockFutex(
                MemoryObjectLockFutex.newBuilder().setObjectId(7).setOffset(0).setTry(true).setPriority(30)).build());
        assertThat(said(a)).containsExactly("relinquish 30 try");
        released(a, 0);
        lock(a, 0, 20);
        assertThat(said(b)).containsExactly("granted", "relinquish 20");
        assertThat(pager.holderOf("obj", 0)).isEqualTo("B");
    }

    /** The holder keeps a futex a thread there owns: futex_held, and the trylock is busy. */
    @Test
    void aTryOnAnOwnedFutexIsBusyOnceTheHolderSaysSo() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        long c = kernel(3, "C");
        lock(a, 0);
        said(a);
        trylock(b, 0);
        trylock(c, 0);
        assertThat(said(a)).containsExactly("relinquish 0 try");
        held(a, 0);
        assertThat(said(b)).containsExactly("busy");
        assertThat(said(c)).containsExactly("busy");
        assertThat(pager.holderOf("obj", 0)).isEqualTo("A");
        held(a, 0);
        assertThat(said(b)).as("a futex_held nobody asked for is dropped").isEmpty();
        trylock(b, 0);
        assertThat(said(a)).as("a later try asks again").containsExactly("relinquish 0 try");
    }

    /**
     * A trylock never queues: busy at once while kernels wait. One asked of the holder before a
     * lock came is answered by the release: busy if the lock is above it (xp-spec 8.3: the lock may
     * have reached the holder first, and a trylock steals only above the top waiter; review tb
     * LOW-1, before the try at 0 went ahead of C at 5), first if it is above the lock.
     */
    @Test
    void aTryNeverWaitsBehindALock() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        long c = kernel(3, "C");
        lock(a, 0);
        said(a);
        trylock(b, 0);
        lock(c, 0, 5);
        assertThat(said(a)).containsExactly("relinquish 0 try", "relinquish 5");
        released(a, 0);
        assertThat(said(c)).as("C (5) above the try (0)").containsExactly("granted");
        assertThat(said(b)).containsExactly("busy");
        trylock(a, 0);
        assertThat(said(c)).as("nobody waits: the holder is asked").containsExactly("relinquish 0 try");
        released(c, 0);
        assertThat(said(a)).containsExactly("granted");
    }

    /** A futex_held that crossed the futex on its way back (from a kernel that no longer holds it) is dropped. */
    @Test
    void aFutexHeldFromAKernelThatGaveItBackIsDropped() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        lock(a, 0);
        said(a);
        trylock(b, 0);
        released(a, 0);
        assertThat(said(b)).containsExactly("granted");
        said(a);
        held(a, 0);
        assertThat(said(b)).isEmpty();
        assertThat(pager.holderOf("obj", 0)).isEqualTo("B");
        assertThat(stats.refused()).isZero();
    }
}
