package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexHeld;
import io.machxp.proto.xp.PagerToKernel;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Deaths review MED-1: a kernel d (TID prefix 5, primary elsewhere) dies holding a futex c waits
 * for; the pager grants it to c with owner_died, and c keeps it cached (xp-spec 8.2). A kernel e
 * that its primary later gave id 5 states prefix 5 here: it was refused EAGAIN for as long as c
 * cached the futex, since only c's release counted the death recorded and the refusal's look
 * skipped held futexes. Now the pager counts the death's TIDs gone when its copy of the page, no
 * kernel holding it, no longer names d's threads, and a refusal asks c for the futex back and
 * takes the page back from its writer.
 */
class CachedOwnerDiedGrantPrefixTest {
    private static final long LEASE = 1_000_000_000L;
    private static final int C_TID = 6 << 20 | 1;
    private static final int D_TID = 5 << 20 | 1;

    /** d dies holding the futex at 0 while c (session 2) waits: c is granted it with owner_died. */
    private static XpKernels grantedWithOwnerDied() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        assertThat(XpKernels.welcomed(k.helloWithPrefix(1, "d", 5))).isTrue();
        k.write(1, 0);
        k.take(1);
        k.returnDirty(1, 0, FutexWords.pageWithWord(0, D_TID), false); // d's thread owns it
        k.lockFutex(1, 0);
        k.take(1);
        assertThat(XpKernels.welcomed(k.helloWithPrefix(2, "c", 6))).isTrue();
        k.lockFutex(2, 0); // queued behind d
        k.take(1);
        k.take(2);
        k.pager.sessionClosed(1);
        k.advanceHeard(LEASE, LEASE / 2, 2);
        assertThat(k.declaredDead).containsKey("d");
        assertThat(k.take(2)).as("c granted with owner_died").anyMatch(m -> m.hasMemoryObjectFutexGranted()
                && m.getMemoryObjectFutexGranted().getOwnerDied());
        return k;
    }

    /** c's thread took the futex (EOWNERDEAD) and unlocked it, and c gave the page back: its word names nobody of d. */
    @Test
    void aStatedPrefixIsWelcomedOnceTheGranteesReturnedPageNoLongerNamesTheDeadKernel() {
        XpKernels k = grantedWithOwnerDied();
        k.write(2, 0);
        k.take(2);
        k.returnDirty(2, 0, FutexWords.pageWithWord(0, FutexWords.OWNER_DIED), false);
        k.take(2);
        k.advanceHeard(LEASE, LEASE / 2, 2);
        assertThat(XpKernels.welcomed(k.helloWithPrefix(10, "e", 5))).as("e's first hello; else: %s", k.ended.get(10L)).isTrue();
        assertThat(k.pager.ownerDiedPending("obj", 0)).as("c's grant still carries owner_died").isTrue();
    }

    /** c's page copy, given back before its thread took the futex, still names d's thread: still refused. */
    @Test
    void aStatedPrefixIsStillRefusedWhileThePagersCopyNamesTheDeadKernelsThread() {
        XpKernels k = grantedWithOwnerDied();
        k.write(2, 0);
        k.take(2);
        k.returnDirty(2, 0, FutexWords.pageWithWord(0, D_TID), false);
        k.take(2);
        assertThat(XpKernels.welcomed(k.helloWithPrefix(10, "e", 5))).isFalse();
        assertThat(k.ended.get(10L)).contains("EAGAIN");
    }

    /** c caches the futex idle and keeps the page writable: the refusal asks for the futex, and its release frees the prefix. */
    @Test
    void aRefusedStatedPrefixAsksTheGranteeForTheFutexBack() {
        XpKernels k = grantedWithOwnerDied();
        k.write(2, 0);
        k.take(2);
        assertThat(XpKernels.welcomed(k.helloWithPrefix(10, "e", 5))).isFalse();
        List<PagerToKernel> toC = k.take(2);
        assertThat(toC).as("asked back").anyMatch(m -> m.hasMemoryObjectRelinquishFutex()
                && m.getMemoryObjectRelinquishFutex().getTry() && m.getMemoryObjectRelinquishFutex().getOffset() == 0);
        k.futexReleased(2, 0); // idle here: given back, the death recorded (EOWNERDEAD told to c's thread before)
        assertThat(XpKernels.welcomed(k.helloWithPrefix(11, "e", 5))).as("e's second hello; else: %s", k.ended.get(11L)).isTrue();
    }

    /** c's thread owns the futex (futex_held), c keeps the page writable: the refusal takes the page back, which names c's thread. */
    @Test
    void aRefusedStatedPrefixTakesTheGranteesPageBackAndSeesTheDeadThreadGone() {
        XpKernels k = grantedWithOwnerDied();
        k.write(2, 0);
        k.take(2);
        assertThat(XpKernels.welcomed(k.helloWithPrefix(10, "e", 5))).isFalse();
        List<PagerToKernel> toC = k.take(2);
        assertThat(toC).as("the page flushed").filteredOn(PagerToKernel::hasMemoryObjectLockRequest)
                .singleElement().satisfies(m -> XpKernels.assertFlush(m, 0));
        k.xp(2, KernelToPager.newBuilder().setMemoryObjectFutexHeld(MemoryObjectFutexHeld.newBuilder()
                .setObjectId(XpKernels.OBJ).setOffset(0).setFencingToken(k.pager.fencingToken("obj", 0))));
        k.returnDirty(2, 0, FutexWords.pageWithWord(0, FutexWords.OWNER_DIED | C_TID), false);
        k.lockCompleted(2, 0);
        k.take(2);
        assertThat(XpKernels.welcomed(k.helloWithPrefix(11, "e", 5))).as("e's second hello; else: %s", k.ended.get(11L)).isTrue();
        assertThat(k.pager.ownerDiedPending("obj", 0)).as("c still holds it under its owner_died grant").isTrue();
    }

    /**
     * Deaths review LOW-1: the id of a kernel d whose primary is this pager rests while c caches
     * the futex d died holding (granted to c with owner_died, c's thread never takes it: its word
     * still names d's thread). When ids run short, the pager asks c for the futex back; its release
     * records the death and the id goes out again after its rest. Before, the id stayed pinned for
     * as long as c cached the futex, and every newcomer was refused.
     */
    @Test
    void idsRunningShortAskACachingGranteeForADeadKernelsFutexBack() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        long d = k.kernel(1, "d");
        k.write(d, 0);
        k.take(d);
        k.returnDirty(d, 0, FutexWords.pageWithWord(0, 1 << 20 | 1), false); // d is id 1 here: its thread owns it
        k.lockFutex(d, 0);
        k.take(d);
        long c = k.kernel(2, "c");
        k.lockFutex(c, 0);
        k.take(c);
        k.pager.sessionClosed(d);
        k.advanceHeard(LEASE, LEASE / 2, c);
        assertThat(k.declaredDead).containsKey("d");
        k.take(c);
        long[] live = new long[1022];
        live[0] = c;
        for (int i = 3; i <= 1023; i++) {
            k.pager.sessionOpened(i);
            k.xp(i, KernelToPager.newBuilder().setKernelHello(
                    KernelHello.newBuilder().setKernelName("k" + i).setProtocolVersion(1)));
            assertThat(k.one(i).getPagerWelcome().getKernelId()).isEqualTo(i);
            live[i - 2] = i;
        }
        k.advanceHeard(3 * LEASE, LEASE / 2, live); // id 1's rest is over; d's death still unrecorded
        k.pager.sessionOpened(5000);
        k.xp(5000, KernelToPager.newBuilder().setKernelHello(
                KernelHello.newBuilder().setKernelName("newcomer").setProtocolVersion(1)));
        assertThat(k.ended.get(5000L)).as("no id free yet").startsWith("EAGAIN");
        assertThat(k.take(c)).as("c asked for the futex back").anyMatch(m -> m.hasMemoryObjectRelinquishFutex()
                && m.getMemoryObjectRelinquishFutex().getTry());
        k.futexReleased(c, 0); // idle at c: given back, d's death recorded
        k.advanceHeard(3 * LEASE, LEASE / 2, live);
        k.pager.sessionOpened(5001);
        k.xp(5001, KernelToPager.newBuilder().setKernelHello(
                KernelHello.newBuilder().setKernelName("later").setProtocolVersion(1)));
        assertThat(k.one(5001).getPagerWelcome().getKernelId()).as("d's id, freed; else: %s", k.ended.get(5001L))
                .isEqualTo(1);
    }
}
