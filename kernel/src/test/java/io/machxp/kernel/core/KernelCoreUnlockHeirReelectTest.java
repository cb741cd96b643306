package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.AcquirePath;
import org.junit.jupiter.api.Test;

/**
 * A priority change that puts another waiter in the place of an unlock's woken heir before it
 * runs (FutexHeirs.reelect): as on Linux (measured, scenarios/unlock-heir-passed-by-raised-waiter.yaml
 * and unlock-heir-lowered-below-waiter.yaml), the chain walk wakes the new top waiter of the
 * ownerless rt_mutex, but the word stays as FUTEX_UNLOCK_PI wrote it, the first heir's
 * TID|WAITERS, until the new one runs and takes the futex (fixup_pi_state_owner). Until
 * 2026-12-07 machxp wrote the new heir's TID into the word at the priority change.
 */
class KernelCoreUnlockHeirReelectTest {
    private static final long MS = 1_000_000L;

    private static long word(CoreFixture k) {
        return FutexWord.word(k.futex(k.base).state()) & 0xffffffffL;
    }

    private static long held(MachThread t) {
        return (t.tid | FutexWord.WAITERS) & 0xffffffffL;
    }

    /**
     * One CPU: H (70) unlocks with L (30) and W (20) waiting and keeps its CPU; it raises W to 40.
     * The word still names L; when H stops, W runs, takes the futex and the word names it; L waits
     * for W's unlock, which hands it to L.
     */
    @Test
    void aWaiterRaisedAboveTheHeirTakesItWhenItRunsAndTheWordNamesTheHeirUntilThen() {
        CoreFixture k = new CoreFixture(true);
        MachThread high = k.thread(70);
        MachThread heir = k.thread(30);
        MachThread other = k.thread(20);
        k.acquireFromPager(high, k.base);
        Answer<Acquired> heirLock = k.lockFull(heir, k.base);
        Answer<Acquired> otherLock = k.lockFull(other, k.base);
        long[] seen = new long[2];
        k.computeThen(high, 10 * MS, () -> {
            k.unlock(high, k.base).value();
            seen[0] = word(k);
            k.setPriority(other, 40).value();
            seen[1] = word(k);
        });
        k.env.advance(10 * MS);
        assertThat(seen[0]).as("FUTEX_UNLOCK_PI writes the top waiter's TID").isEqualTo(held(heir));
        assertThat(seen[1]).as("the raise wakes the new top waiter but leaves the word").isEqualTo(held(heir));
        assertThat(otherLock.value().path()).as("the raised waiter takes it when it runs").isEqualTo(AcquirePath.LOCAL_HANDOFF);
        assertThat(word(k)).isEqualTo(held(other));
        assertThat(heirLock.answered()).as("the passed-over heir waits on").isFalse();
        assertThat(k.env.traces).anyMatch(t -> t.startsWith("unlock-reelect"));
        k.unlock(other, k.base).value();
        assertThat(heirLock.value().ownerDied()).isFalse();
        assertThat(word(k)).isEqualTo(held(heir));
    }

    /**
     * The passed-over waiter the word still names ends before the new heir runs: the word names the
     * new heir from then on, so the end's scan of what the passed-over one owns finds nothing (it
     * owned nothing) and the new heir gets the futex without OWNER_DIED.
     */
    @Test
    void thePassedOverWaiterTheWordNamesEndsAndTheNewHeirGetsItWithoutOwnerDied() {
        CoreFixture k = new CoreFixture(true);
        MachThread high = k.thread(70);
        MachThread heir = k.thread(30);
        MachThread other = k.thread(20);
        k.acquireFromPager(high, k.base);
        Answer<Acquired> heirLock = k.lockFull(heir, k.base);
        Answer<Acquired> otherLock = k.lockFull(other, k.base);
        long[] seen = new long[1];
        k.computeThen(high, 10 * MS, () -> {
            k.unlock(high, k.base).value();
            k.setPriority(other, 40).value();
            k.terminate(heir).value();
            seen[0] = word(k);
        });
        k.env.advance(10 * MS);
        assertThat(heirLock.answered()).isTrue();
        assertThat(seen[0]).as("the word names the heir once the waiter it named left").isEqualTo(held(other));
        assertThat(otherLock.value().ownerDied()).as("nobody died holding it").isFalse();
        assertThat(word(k)).isEqualTo(held(other));
    }

    /**
     * The new heir ends before it runs: it dies holding the futex (Linux's woken waiter takes the
     * ownerless lock on its way out), so its TID goes into the word first and the end's scan passes
     * the futex on as a death: the passed-over waiter gets it with EOWNERDEAD.
     */
    @Test
    void theNewHeirEndsBeforeItRunsAndDiesHoldingIt() {
        CoreFixture k = new CoreFixture(true);
        MachThread high = k.thread(70);
        MachThread heir = k.thread(30);
        MachThread other = k.thread(20);
        k.acquireFromPager(high, k.base);
        Answer<Acquired> heirLock = k.lockFull(heir, k.base);
        Answer<Acquired> otherLock = k.lockFull(other, k.base);
        k.computeThen(high, 10 * MS, () -> {
            k.unlock(high, k.base).value();
            k.setPriority(other, 40).value();
            k.terminate(other).value();
        });
        k.env.advance(10 * MS);
        assertThat(otherLock.answered()).isTrue();
        assertThat(heirLock.value().ownerDied()).as("the new heir died holding it").isTrue();
        assertThat(word(k)).isEqualTo((heir.tid | FutexWord.OWNER_DIED | FutexWord.WAITERS) & 0xffffffffL);
    }
}
