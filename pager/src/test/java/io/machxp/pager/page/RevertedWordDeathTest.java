package io.machxp.pager.page;

import static io.machxp.pager.page.FutexWords.OWNER_DIED;
import static io.machxp.pager.page.FutexWords.WAITERS;
import static io.machxp.pager.page.FutexWords.wordAt;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.snapshot.PagerSnapshot;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.PagerToKernel;
import org.junit.jupiter.api.Test;

/**
 * xp-spec 8.7: a kernel declared dead holding a page writable but no longer the futex in it
 * (chaos seed 965's shape). Its page reverts to the pager's copy, older than its writes: the
 * futex word there may still name its thread from when it held the futex, while the futex is
 * granted to another kernel already, without owner_died. The pager writes OWNER_DIED over such a
 * word before it serves the page again, so the next owner's locker gets EOWNERDEAD, not ESRCH for
 * a thread of a dead kernel. On the core with a clock the test moves.
 */
class RevertedWordDeathTest {
    private static final long LEASE = 1_000_000_000L;

    @Test
    void aDeadWritersTidInTheRevertedCopyOfAFutexGrantedElsewhereBecomesOwnerDied() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        long d = k.kernel(1, "D");
        long e = k.kernel(2, "E");
        long futex = 0x20;
        int tidOfD = 1 << 20 | 3;
        FutexWords.ownedWithWordInPagersCopy(k, d, futex, WAITERS | tidOfD); // the pager's copy names D's thread
        k.write(d, 0); // D writes the page again: its unlock's write of the word stays in its copy
        k.take(d);
        k.futexReleased(d, futex); // the futex goes back without the page
        k.take(d);

        k.lockFutex(e, futex);
        assertThat(k.one(e).getMemoryObjectFutexGranted().getOwnerDied()).as("D released the futex").isFalse();
        k.pager.sessionClosed(d);
        k.advanceHeard(LEASE, LEASE / 2, e); // D declared dead holding the page writable, not the futex
        assertThat(k.declaredDead).containsKey("D");

        k.write(e, 0);
        PagerToKernel supply = k.one(e);
        assertThat(wordAt(supply.getMemoryObjectDataSupply().getData().toByteArray(), futex))
                .as("no word the pager serves names a dead kernel's thread without OWNER_DIED")
                .isEqualTo(WAITERS | OWNER_DIED);
        assertThat(k.stats.refused()).isZero();
    }

    /**
     * Chaos seed 307's shape: A dies holding the futex, the pager's copy naming A's thread; B gets
     * it with owner_died, records the death in its copy of the page and releases the futex (A's
     * death is recorded, at the pager too), keeping the page writable; then B dies. B's copy is
     * lost: the pager's names A, whose id is not B's, and no record says A's death is still to
     * record (in seed 307 a pager restart forgot it). Now the revert writes OWNER_DIED over it.
     */
    @Test
    void aTidOfAKernelThatDiedBeforeInTheRevertedCopyBecomesOwnerDied() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        long a = k.kernel(1, "A");
        long b = k.kernel(2, "B");
        long c = k.kernel(3, "C");
        long futex = 0x30;
        int tidOfA = 1 << 20 | 2;
        FutexWords.ownedWithWordInPagersCopy(k, a, futex, tidOfA); // the pager's copy names A's thread
        k.lockFutex(b, futex);
        k.take(a);
        k.pager.sessionClosed(a);
        k.advanceHeard(LEASE, LEASE / 2, b, c); // A declared dead holding the futex: B gets it
        assertThat(k.declaredDead).containsKey("A");
        assertThat(k.one(b).getMemoryObjectFutexGranted().getOwnerDied()).isTrue();
        k.write(b, 0); // B records the death in its copy, and never returns it
        k.take(b);
        k.futexReleased(b, futex);
        k.take(b);

        k.lockFutex(c, futex);
        assertThat(k.one(c).getMemoryObjectFutexGranted().getOwnerDied()).isFalse();
        k.pager.sessionClosed(b);
        k.advanceHeard(LEASE, LEASE / 2, c); // B declared dead holding the page writable
        assertThat(k.declaredDead).containsKey("B");
        k.write(c, 0);
        PagerToKernel supply = k.one(c);
        assertThat(wordAt(supply.getMemoryObjectDataSupply().getData().toByteArray(), futex))
                .as("the reverted copy's word named A's thread: OWNER_DIED now").isEqualTo(OWNER_DIED);
        assertThat(k.stats.refused()).isZero();
    }

    /** A kernel whose primary is another pager: its hello states its TID prefix. */
    private static long secondary(XpKernels x, long session, String name, int prefix) {
        x.pager.sessionOpened(session);
        x.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(1).setTidPrefix(prefix)));
        x.xp(session, KernelToPager.newBuilder().setMemoryObjectInit(
                MemoryObjectInit.newBuilder().setObjectId(XpKernels.OBJ).setName("obj").setPageSize(XpKernels.PAGE)));
        assertThat(x.take(session)).hasSize(2);
        return session;
    }

    /**
     * Seed 307's shape in a cluster: A's primary is another pager (TID prefix 7, kernel id 1 here).
     * The dead kernel is judged by its TID prefix, not by this pager's kernel ids (late12 MED-4:
     * prefix 7 was no id given here, so A's thread in the reverted copy stayed, ESRCH for C's lockers).
     */
    @Test
    void aTidOfASecondarysKernelThatDiedBeforeInTheRevertedCopyBecomesOwnerDied() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        long a = secondary(k, 1, "A", 7);
        long b = k.kernel(2, "B");
        long c = k.kernel(3, "C");
        long futex = 0x30;
        int tidOfA = 7 << 20 | 2;
        FutexWords.ownedWithWordInPagersCopy(k, a, futex, tidOfA);
        k.lockFutex(b, futex);
        k.take(a);
        k.pager.sessionClosed(a);
        k.advanceHeard(LEASE, LEASE / 2, b, c);
        assertThat(k.declaredDead).containsKey("A");
        assertThat(k.one(b).getMemoryObjectFutexGranted().getOwnerDied()).isTrue();
        k.write(b, 0);
        k.take(b);
        k.futexReleased(b, futex);
        k.take(b);

        k.lockFutex(c, futex);
        assertThat(k.one(c).getMemoryObjectFutexGranted().getOwnerDied()).isFalse();
        k.pager.sessionClosed(b);
        k.advanceHeard(LEASE, LEASE / 2, c);
        assertThat(k.declaredDead).containsKey("B");
        k.write(c, 0);
        PagerToKernel supply = k.one(c);
        assertThat(wordAt(supply.getMemoryObjectDataSupply().getData().toByteArray(), futex))
                .as("the reverted copy's word named A's thread (prefix 7, A dead): OWNER_DIED now").isEqualTo(OWNER_DIED);
        assertThat(k.stats.refused()).isZero();
    }

    /**
     * The converse: kernel id 1 here rests for S, whose primary is another pager (prefix 7). A TID
     * of prefix 1 in the reverted copy is not S's (a task wrote it, or a kernel this pager never
     * saw): it stays, as any TID of no kernel the pager knows (ESRCH, as Linux).
     */
    @Test
    void aTidWhosePrefixIsOnlyALocalIdOfASecondaryStays() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        long s = secondary(k, 1, "S", 7); // kernel id 1 here
        k.pager.sessionClosed(s); // S leaves holding nothing: id 1 rests for it
        aForeignTidInADeadWritersCopyStays(k);
    }

    /** The same on a core restored from a snapshot taken after S left: the prefix of id 1's kernel is in it. */
    @Test
    void aCoreRestoredFromASnapshotJudgesTheSecondarysPrefixAlike() throws Exception {
        XpKernels k = new XpKernels(new FailingStore(0), LEASE);
        long s = secondary(k, 1, "S", 7);
        k.pager.sessionClosed(s);
        PagerSnapshot snapshot = k.pager.snapshot();
        XpKernels r = new XpKernels(new FailingStore(0), LEASE);
        r.pager.restore(PagerSnapshot.parseFrom(snapshot.toByteArray()));
        assertThat(r.pager.snapshot()).as("read back, written again").isEqualTo(snapshot);
        aForeignTidInADeadWritersCopyStays(r);
    }

    /** Kernel id 1 rests for S (prefix 7): D dies writing a page whose copy names a TID of prefix 1. */
    private static void aForeignTidInADeadWritersCopyStays(XpKernels k) {
        long d = k.kernel(2, "D"); // id 2
        long e = k.kernel(3, "E"); // id 3
        long futex = 0x40;
        int foreign = 1 << 20 | 5; // prefix 1: no kernel's TIDs here
        FutexWords.ownedWithWordInPagersCopy(k, d, futex, foreign);
        k.write(d, 0);
        k.take(d);
        k.futexReleased(d, futex);
        k.take(d);
        k.lockFutex(e, futex);
        assertThat(k.one(e).getMemoryObjectFutexGranted().getOwnerDied()).isFalse();
        k.pager.sessionClosed(d);
        k.advanceHeard(LEASE, LEASE / 2, e); // D declared dead holding the page writable
        assertThat(k.declaredDead).containsKey("D");
        k.write(e, 0);
        assertThat(wordAt(k.one(e).getMemoryObjectDataSupply().getData().toByteArray(), futex))
                .as("prefix 1 is S's local id, not its TIDs' prefix: the word stays").isEqualTo(foreign);
    }

    /**
     * The revert looks only at the pages the dead kernel held writable (late12 LOW-1: it walked
     * every futex record of the pager at each death, uncounted: here 8,193). Counted in the entries
     * looked at ({@code PagerStats#walked}), no timing: the words of D's one page, not every record.
     */
    @Test
    void theRevertLooksOnlyAtTheDeadWritersPages() {
        int held = 8192;
        XpKernels k = new XpKernels(new MemoryPageStore(), new io.machxp.pager.core.PagerOptions(LEASE, 1, 65536),
                0, java.util.Map.of("obj", 4L * held * 4));
        long h = k.kernel(1, "H");
        long d = k.kernel(2, "D");
        long e = k.kernel(3, "E");
        for (int i = 0; i < held; i++) {
            k.lockFutex(h, XpKernels.PAGE + 4L * i); // on pages 1.. : H's, not D's
        }
        assertThat(k.take(h)).hasSize(held);
        long futex = 0x20;
        int tidOfD = 2 << 20 | 3;
        FutexWords.ownedWithWordInPagersCopy(k, d, futex, WAITERS | tidOfD);
        k.write(d, 0);
        k.take(d);
        k.futexReleased(d, futex);
        k.take(d);
        k.lockFutex(e, futex);
        assertThat(k.one(e).getMemoryObjectFutexGranted().getOwnerDied()).isFalse();
        k.pager.sessionClosed(d);
        long before = k.stats.walked();
        k.advanceHeard(LEASE, LEASE / 2, e, h);
        assertThat(k.declaredDead).containsKey("D");
        assertThat(k.stats.walked() - before).as("entries looked at for D's death").isBetween((long) XpKernels.PAGE / 4, XpKernels.PAGE / 4 + 64L);
        k.write(e, 0);
        assertThat(wordAt(k.one(e).getMemoryObjectDataSupply().getData().toByteArray(), futex))
                .as("what the walk found is still found").isEqualTo(WAITERS | OWNER_DIED);
    }
}
