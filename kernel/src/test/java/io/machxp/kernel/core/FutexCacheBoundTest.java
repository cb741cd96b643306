package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.policy.FutexPolicy;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.xp.KernelToPager;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The kernel bounds the futexes it caches (xp-spec 8.2, review xp finding 2): past the bound it
 * gives idle ones back, oldest grant first; a futex a thread owns is never given back for it.
 */
class FutexCacheBoundTest {
    /** The cache policy with a bound of two futexes. */
    private static final FutexPolicy TWO = new FutexPolicy() {
        @Override
        public String name() {
            return "cache-of-two";
        }

        @Override
        public int maxCachedFutexes() {
            return 2;
        }
    };

    private final CoreFixture k = new CoreFixture(CoreOptions.DEFAULT.withFutexPolicy(TWO));

    private static List<Long> released(List<KernelToPager> sent) {
        return sent.stream().filter(KernelToPager::hasMemoryObjectFutexReleased)
                .map(m -> m.getMemoryObjectFutexReleased().getOffset()).toList();
    }

    /** Locks a futex of the page already here: lock_futex, its grant; returns what the kernel sent after the grant. */
    private List<KernelToPager> acquire(MachThread t, long offset) {
        var a = k.lock(t, k.base + offset);
        assertThat(k.env.drain()).extracting(KernelToPager::hasMemoryObjectLockFutex).containsExactly(true);
        k.grant(offset);
        assertThat(a.answered()).isTrue();
        return k.env.drain();
    }

    @Test
    void pastTheBoundTheOldestIdleFutexGoesBack() {
        MachThread t = k.thread();
        k.acquireFromPager(t, k.base);
        assertThat(k.unlock(t, k.base).answered()).isTrue();
        assertThat(acquire(t, 4)).isEmpty();
        assertThat(k.unlock(t, k.base + 4).answered()).isTrue();
        assertThat(k.env.drain()).as("two cached: within the bound").isEmpty();
        assertThat(released(acquire(t, 8))).as("the third: the oldest idle one goes back").containsExactly(0L);
        assertThat(FutexWord.isAbsent(k.futex(k.base).state())).isTrue();
        assertThat(FutexWord.isAbsent(k.futex(k.base + 4).state())).isFalse();
    }

    @Test
    void aFutexAThreadOwnsIsNotGivenBack() {
        MachThread t = k.thread();
        k.acquireFromPager(t, k.base);
        assertThat(acquire(t, 4)).isEmpty();
        assertThat(released(acquire(t, 8))).isEmpty();
        assertThat(k.unlock(t, k.base + 4).answered()).isTrue();
        k.env.drain();
        MachThread u = k.thread();
        // over the bound: the idle one at 4 goes back, the owned ones stay
        assertThat(released(acquire(u, 12))).containsExactly(4L);
        assertThat(FutexWord.owner(k.futex(k.base).state())).isNotZero();
    }
}
