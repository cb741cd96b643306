package io.machxp.pager.page;

import static io.machxp.pager.page.FutexWords.OWNER_DIED;
import static io.machxp.pager.page.FutexWords.wordAt;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import org.junit.jupiter.api.Test;

/**
 * Chaos --mix contended seeds 234 and 249 (against the deaths review MED-1 fix): d dies holding a
 * futex and its page writable (its TID write lost with its copy), c is granted the futex with
 * owner_died but never sees the grant; a refused hello stating d's prefix has the pager see that
 * its copy of the word names no thread of d, so d's prefix is free again (MED-1). Then c dies too,
 * the grant unseen. d's owner_died was never told: the next owner must still learn that an owner
 * may have died. The MED-1 fix had emptied the futex's dead kernels, which also said "a death is
 * pending here": c's death then counted as the first, the 0 word as clean (c never wrote the page),
 * and the recording left it alone and dropped the owner_died, so b locked without EOWNERDEAD and
 * read data d's lost writes should have flagged. Now the futex keeps {@code deathUntold} until the
 * death is told or recorded.
 */
class UntoldOwnerDiedGrantTest {
    private static final long LEASE = 1_000_000_000L;
    private static final int X_TID = 8 << 20 | 1;

    /**
     * d (prefix 5, session 1) holds page 0 writable and futex 0, c (prefix 6, session 2) waits; x
     * (prefix 8, session 4, alive throughout) wrote {@code word} at the futex into the pager's copy
     * first. d dies: c is granted with owner_died. e stating prefix 5 is refused once, and its look
     * sees d's TIDs gone from the pager's copy: e's next hello is welcomed. Then c dies, the grant
     * unseen, and b (prefix 7, session 3) locks the futex.
     */
    private static MemoryObjectFutexGranted grantAfterTwoDeaths(XpKernels k, int word) {
        assertThat(XpKernels.welcomed(k.helloWithPrefix(4, "x", 8))).isTrue();
        if (word != 0) {
            k.write(4, 0);
            k.take(4);
            k.returnDirty(4, 0, FutexWords.pageWithWord(0, word), false);
        }
        assertThat(XpKernels.welcomed(k.helloWithPrefix(1, "d", 5))).isTrue();
        k.write(1, 0); // d's copy is the page: its thread's TID in the word is lost with it
        k.take(1);
        k.lockFutex(1, 0);
        assertThat(k.one(1).hasMemoryObjectFutexGranted()).isTrue();
        assertThat(XpKernels.welcomed(k.helloWithPrefix(2, "c", 6))).isTrue();
        k.lockFutex(2, 0); // queued behind d
        k.take(1);
        k.pager.sessionClosed(1);
        k.advanceHeard(2 * LEASE, LEASE / 2, 2, 4);
        assertThat(k.declaredDead).containsKey("d");
        assertThat(k.take(2)).as("c granted with owner_died").anyMatch(m -> m.hasMemoryObjectFutexGranted()
                && m.getMemoryObjectFutexGranted().getOwnerDied());

        assertThat(XpKernels.welcomed(k.helloWithPrefix(10, "e", 5))).as("d's death not seen recorded yet").isFalse();
        assertThat(XpKernels.welcomed(k.helloWithPrefix(11, "e", 5))).as("d's TIDs seen gone: %s", k.ended.get(11L)).isTrue();
        k.pager.sessionClosed(11); // e holds nothing: forgotten

        k.pager.sessionClosed(2); // c never saw its grant, nor told the owner_died
        k.advanceHeard(2 * LEASE, LEASE / 2, 4);
        assertThat(k.declaredDead).containsKey("c");
        assertThat(XpKernels.welcomed(k.helloWithPrefix(3, "b", 7))).isTrue();
        k.lockFutex(3, 0);
        return k.one(3).getMemoryObjectFutexGranted();
    }

    /** The pager's copy of the word was 0 (d's write of its TID lost): the pager records OWNER_DIED in it. */
    @Test
    void aDeadWritersLostWordIsRecordedAfterItsGranteeDiedUntold() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        MemoryObjectFutexGranted granted = grantAfterTwoDeaths(k, 0);
        k.read(3, 0);
        int word = wordAt(k.one(3).getMemoryObjectDataSupply().getData().toByteArray(), 0);
        assertThat(granted.getOwnerDied() || (word & OWNER_DIED) != 0)
                .as("b learns an owner may have died (grant owner_died %s, word 0x%s)", granted.getOwnerDied(),
                        Integer.toHexString(word)).isTrue();
        assertThat(word).as("d held the page writable: a 0 word is not clean").isEqualTo(OWNER_DIED);
    }

    /** The word names a live kernel's thread (not a dead one's, so left alone): the owed owner_died goes to b's grant. */
    @Test
    void anOwnerDiedOfAnUntoldGrantGoesOnWhenTheWordIsLeftAlone() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        MemoryObjectFutexGranted granted = grantAfterTwoDeaths(k, X_TID);
        assertThat(granted.getOwnerDied()).as("d's owner_died, never told, goes on to b").isTrue();
        assertThat(k.stats.refused()).isZero();
    }
}
