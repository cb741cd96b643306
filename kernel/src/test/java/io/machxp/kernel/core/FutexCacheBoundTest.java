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

    /** The cache policy with a bound of 64 futexes. */
    private static final FutexPolicy SIXTY_FOUR = new FutexPolicy() {
        @Override
        public String name() {
            return "cache-of-64";
        }

        @Override
        public int maxCachedFutexes() {
            return 64;
        }
    };

    /**
     * Review rv58 MED-3: with more futexes owned than the bound, every later grant walked the whole
     * cache looking for idle ones, on the core thread. Now a grant past the bound looks at itself
     * and at most {@link FutexCacheBound#REVISITS_PER_TRIM} parked futexes (counted, not timed).
     */
    @Test
    void aCacheFullOfOwnedFutexesCostsAFewLooksPerGrant() {
        CoreFixture big = new CoreFixture(CoreOptions.DEFAULT.withFutexPolicy(SIXTY_FOUR));
        FutexCacheBound cache = big.core.futexes.cache();
        MachThread t = big.thread();
        int owned = 3 * 64; // three times the bound, all owned by t
        for (int i = 0; i < owned; i++) {
            lockOwned(big, t, 4L * i);
        }
        assertThat(cache.size()).as("a futex a thread owns is never given back").isEqualTo(owned);
        long before = cache.examined();
        int grants = 100;
        for (int i = owned; i < owned + grants; i++) {
            lockOwned(big, t, 4L * i);
        }
        long perGrant = 1 + FutexCacheBound.REVISITS_PER_TRIM;
        assertThat(cache.examined() - before)
                .as("looked at over %d grants past the bound with %d owned (the whole cache each time before)", grants, owned)
                .isLessThanOrEqualTo(grants * perGrant);
        assertThat(cache.size()).isEqualTo(owned + grants);
    }

    /**
     * Parked futexes whose owners unlocked (the core hears of no fast-path unlock) are found again,
     * a few per grant: the cache comes back under its bound, and never grows meanwhile.
     */
    @Test
    void parkedFutexesUnlockedLaterAreGivenBackAFewPerGrant() {
        CoreFixture big = new CoreFixture(CoreOptions.DEFAULT.withFutexPolicy(SIXTY_FOUR));
        FutexCacheBound cache = big.core.futexes.cache();
        MachThread t = big.thread();
        int owned = 2 * 64;
        for (int i = 0; i < owned; i++) {
            lockOwned(big, t, 4L * i);
        }
        for (int i = 0; i < owned; i++) {
            assertThat(big.unlock(t, big.base + 4L * i).answered()).isTrue();
        }
        big.env.drain();
        int size = cache.size();
        int grants = 0;
        for (int i = owned; cache.size() > 64; i++, grants++) {
            lockOwned(big, t, 4L * i);
            assertThat(cache.size()).as("never grows while parked ones are idle").isLessThanOrEqualTo(size);
            size = cache.size();
            assertThat(grants).as("given back within a bounded number of grants").isLessThan(owned);
        }
        assertThat(cache.size()).isLessThanOrEqualTo(64);
    }

    /**
     * Review rv60 LOW-1: futexes owned (so parked) when their pager was lost are forgotten
     * (forgetFutex, as a pager loss does); the cache forgets them too, so the idle futexes locked
     * and unlocked after it stay cached: none is given back (before, 46 of 48 were, one per grant,
     * while the forgotten ones were drained {@link FutexCacheBound#REVISITS_PER_TRIM} per grant).
     */
    @Test
    void futexesForgottenWithTheirPagerLeaveTheCache() {
        CoreFixture big = new CoreFixture(CoreOptions.DEFAULT.withFutexPolicy(SIXTY_FOUR));
        FutexCacheBound cache = big.core.futexes.cache();
        MachThread t = big.thread();
        int owned = 3 * 64;
        for (int i = 0; i < owned; i++) {
            lockOwned(big, t, 4L * i);
        }
        for (int i = 0; i < owned; i++) {
            big.core.futexes.forgetFutex(big.futex(big.base + 4L * i),
                    KernelError.of(io.machxp.proto.task.Errno.EIO, "test: pager lost"));
        }
        big.env.drain();
        assertThat(cache.size()).as("forgotten futexes leave the cache at once").isZero();
        MachThread u = big.thread();
        int grants = 48; // fewer than the bound: a cache that counts right keeps them all
        List<Long> givenBack = new java.util.ArrayList<>();
        for (int i = 0; i < grants; i++) {
            long offset = 2048L + 4L * i;
            var a = big.lock(u, big.base + offset);
            big.env.drain();
            big.grant(offset);
            assertThat(a.answered()).isTrue();
            givenBack.addAll(released(big.env.drain()));
            assertThat(big.unlock(u, big.base + offset).answered()).isTrue();
            givenBack.addAll(released(big.env.drain()));
        }
        assertThat(givenBack).as("idle futexes given back under the bound").isEmpty();
        assertThat(cache.size()).isEqualTo(grants);
    }

    /**
     * Random locks and unlocks of 48 futexes by 6 threads against a bound of 8 (trims at most
     * grants, and parked futexes unlocked since): the two sets never lose or double a futex (the cache's size is the futexes the kernel holds from the
     * pager, as the pager sees them: granted and not released), and a futex a thread owns is never
     * given back.
     */
    @Test
    void randomLocksKeepTheCacheExactAndOwnedFutexesHere() {
        FutexPolicy eight = new FutexPolicy() {
            @Override
            public String name() {
                return "cache-of-8";
            }

            @Override
            public int maxCachedFutexes() {
                return 8;
            }
        };
        CoreFixture f = new CoreFixture(CoreOptions.DEFAULT.withFutexPolicy(eight));
        FutexCacheBound cache = f.core.futexes.cache();
        java.util.Random random = new java.util.Random(58);
        int futexCount = 48;
        MachThread[] threads = new MachThread[6];
        for (int i = 0; i < threads.length; i++) {
            threads[i] = f.thread();
        }
        lockOwned(f, threads[0], 0); // brings the page in; thread 0 keeps it for the whole run
        int[] ownerOf = new int[futexCount]; // index of the owning thread + 1; 0: nobody
        ownerOf[0] = 1;
        java.util.Set<Long> held = new java.util.HashSet<>(List.of(0L)); // granted and not released, by offset
        for (int step = 0; step < 4_000; step++) {
            int i = 1 + random.nextInt(futexCount - 1);
            long offset = 4L * i;
            List<KernelToPager> sent = new java.util.ArrayList<>();
            if (ownerOf[i] != 0) {
                assertThat(f.unlock(threads[ownerOf[i] - 1], f.base + offset).answered()).isTrue();
                ownerOf[i] = 0;
                sent.addAll(f.env.drain());
            } else {
                int t = random.nextInt(threads.length);
                var a = f.lock(threads[t], f.base + offset);
                List<KernelToPager> asked = f.env.drain();
                sent.addAll(asked);
                if (asked.stream().anyMatch(KernelToPager::hasMemoryObjectLockFutex)) {
                    assertThat(held).as("asked for a futex it holds").doesNotContain(offset);
                    f.grant(offset);
                    held.add(offset);
                    sent.addAll(f.env.drain());
                }
                assertThat(a.answered()).as("step %d: lock of %d", step, offset).isTrue();
                ownerOf[i] = t + 1;
            }
            for (long r : released(sent)) {
                assertThat(ownerOf[(int) (r / 4)]).as("step %d: futex %d given back while owned", step, r).isZero();
                assertThat(held.remove(r)).as("released once").isTrue();
            }
            assertThat(cache.size()).as("step %d: the cache holds what the pager granted and got no release of", step)
                    .isEqualTo(held.size());
        }
    }

    /**
     * Thread {@code t} locks the futex at {@code offset} of the fixture's first page: lock_futex and
     * its grant (the first lock brings the page in).
     */
    private static void lockOwned(CoreFixture f, MachThread t, long offset) {
        if (offset == 0) {
            f.acquireFromPager(t, f.base);
            f.env.drain();
            return;
        }
        var a = f.lock(t, f.base + offset);
        f.grant(offset);
        assertThat(a.answered()).isTrue();
        f.env.drain();
    }
}
