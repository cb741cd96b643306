package io.machxp.kernel.core;

import static io.machxp.proto.xp.KernelToPager.RoutineCase.MEMORY_OBJECT_LOCK_FUTEX;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import org.junit.jupiter.api.Test;

/**
 * A lock whose timeout has already passed (0), as Linux's FUTEX_LOCK_PI with a past deadline: it
 * takes a free futex, also one the pager must grant first, and answers ETIMEDOUT only where it
 * would wait for an owner, leaving WAITERS as a timed-out lock does
 * (scenarios/lock-timeout-zero.yaml compares it with Linux).
 */
class KernelCoreExpiredTimeoutTest {
    private final CoreFixture k = new CoreFixture(true);
    private final MachThread t1 = k.thread();
    private final MachThread t2 = k.thread();

    /** Waiting for the pager's grant of a free futex is not waiting for an owner: no timeout. */
    @Test
    void aFreeFutexThePagerGrantsIsAcquired() {
        Answer<AcquirePath> lock = k.lock(t1, k.base + 8, 0);
        KernelToPager ask = k.single();
        assertThat(ask.getRoutineCase()).isEqualTo(MEMORY_OBJECT_LOCK_FUTEX);
        assertThat(ask.getMemoryObjectLockFutex().getTry()).as("asked as a trylock: it must not wait").isTrue();
        k.env.advance(1_000_000);
        assertThat(lock.answered()).as("the grant is awaited, however late").isFalse();
        k.grant(8);
        k.zeroFill(0);
        assertThat(lock.value()).isEqualTo(AcquirePath.PAGER_GRANT);
        assertThat(FutexWord.word(k.futex(k.base + 8).state())).as("no WAITERS: it never waited").isEqualTo(t1.tid);
    }

    /** A futex another kernel holds: the pager answers busy, and the lock times out. */
    @Test
    void aFutexHeldElsewhereTimesOut() {
        Answer<AcquirePath> lock = k.lock(t1, k.base, 0);
        assertThat(k.single().getMemoryObjectLockFutex().getTry()).isTrue();
        k.busy(0);
        assertThat(lock.error().errno()).isEqualTo(Errno.ETIMEDOUT);
    }

    /** A futex owned here: ETIMEDOUT at once, WAITERS left in the word; the owner's unlock frees it. */
    @Test
    void aFutexOwnedHereTimesOutLeavingWaiters() {
        k.acquireFromPager(t1, k.base);
        Answer<AcquirePath> lock = k.lock(t2, k.base, 0);
        assertThat(lock.error().errno()).isEqualTo(Errno.ETIMEDOUT);
        assertThat(FutexWord.word(k.futex(k.base).state())).isEqualTo(t1.tid | FutexWord.WAITERS);
        k.unlock(t1, k.base).value();
        assertThat(FutexWord.word(k.futex(k.base).state())).as("nobody waits: free").isZero();
        assertThat(k.env.sent).isEmpty();
    }

    /** A free futex cached here, and one the caller owns: as any lock. */
    @Test
    void aCachedFreeFutexIsTakenAndAnOwnFutexIsEdeadlk() {
        k.acquireFromPager(t1, k.base);
        k.unlock(t1, k.base).value();
        assertThat(k.lock(t2, k.base, 0).value()).isEqualTo(AcquirePath.FAST_PATH);
        assertThat(k.lock(t2, k.base, 0).error().errno()).isEqualTo(Errno.EDEADLK);
    }
}
