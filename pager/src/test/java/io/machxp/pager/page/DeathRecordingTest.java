package io.machxp.pager.page;

import static io.machxp.pager.page.FutexWords.OWNER_DIED;
import static io.machxp.pager.page.FutexWords.WAITERS;
import static io.machxp.pager.page.FutexWords.pageWithWord;
import static io.machxp.pager.page.FutexWords.wordAt;
import static io.machxp.pager.page.XpKernels.PAGE;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import org.junit.jupiter.api.Test;

/**
 * xp-spec 2.5, 8.7: a kernel declared dead holding a futex nobody locks again pins neither its
 * kernel id nor the futex's record. The pager records the death in the futex word of its own copy
 * of the page once no kernel holds the page (readers are flushed first), as Linux's robust-list walk
 * does: {@code (word & WAITERS) | OWNER_DIED}. On the core with a clock the test moves.
 */
class DeathRecordingTest {
    private static final long LEASE = 1_000_000_000L;

    private static int welcomedId(XpKernels k, long session, String name) {
        k.pager.sessionOpened(session);
        k.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(1)));
        PagerToKernel m = k.one(session);
        assertThat(k.ended.get(session)).as("the hello of '%s' is refused", name).isNull();
        return m.getPagerWelcome().getKernelId();
    }

    /**
     * Every kernel id goes to a kernel that locks a futex of its own and dies holding it (the
     * reviewer's 1,018 short sessions): a new name is still welcomed once the ids have rested,
     * and the dead kernels leave no futex record behind to count against the pager's bound.
     */
    @Test
    void kernelsThatDieHoldingFutexesNobodyLocksAgainDoNotLockNewNamesOut() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        for (int i = 1; i <= 1023; i++) {
            k.kernel(i, "leak" + i);
            k.lockFutex(i, 4L * i);
            assertThat(k.one(i).hasMemoryObjectFutexGranted()).isTrue();
            k.pager.sessionClosed(i); // its stream breaks while it holds the futex
        }
        k.advance(LEASE); // each declared dead: its futex owes owner_died, and nobody waits for it
        assertThat(k.declaredDead).hasSize(1023);
        k.advance(2 * LEASE); // every id has rested
        assertThat(welcomedId(k, 5000, "newcomer")).isBetween(1, 1023);
        assertThat(k.pager.recordCounts()).as("recorded by the pager: no word carries a dead TID, no record is "
                + "left to count against the pager's bound").containsEntry("futexes", 0)
                .containsEntry("deadKernelIdsInWords", 0);
        assertThat(k.stats.deathsRecordedByPager()).isEqualTo(1023);

        k.kernel(5001, "next");
        k.lockFutex(5001, 4L * 7);
        assertThat(k.one(5001).getMemoryObjectFutexGranted().getOwnerDied())
                .as("the death is recorded: the grant does not carry it").isFalse();
        k.write(5001, 0);
        byte[] page = k.one(5001).getMemoryObjectDataSupply().getData().toByteArray();
        assertThat(wordAt(page, 4L * 7)).as("the dead kernel never had the page: no TID of it can be lost, the 0 "
                + "word stays").isZero();
        assertThat(k.stats.refused()).isZero();
    }

    /**
     * The dead kernel's TID was in the word of the pager's copy (it returned the page while it
     * owned the futex) and another kernel reads the page: that reader is flushed, the pager writes
     * {@code (word & WAITERS) | OWNER_DIED} at the next version, and the next locker, on another
     * kernel, finds it in the page it faults in: TID 0 and OWNER_DIED, so its lock answers
     * EOWNERDEAD as Linux's after the robust-list walk.
     */
    @Test
    void thePagerWritesOwnerDiedIntoItsCopyAfterFlushingReaders() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        long d = k.kernel(1, "D");
        long r = k.kernel(2, "R");
        long e = k.kernel(3, "E");
        long futex = 0x10;
        int tidOfD = 1 << 20 | 5;
        FutexWords.ownedWithWordInPagersCopy(k, d, futex, WAITERS | tidOfD); // written back while D's thread owns it
        k.read(r, 0);
        XpKernels.assertReadCopy(k.one(r), 0, pageWithWord(futex, WAITERS | tidOfD));

        k.pager.sessionClosed(d);
        k.advanceHeard(LEASE, LEASE / 2, r, e); // D declared dead; nobody waits for the futex
        assertThat(k.declaredDead).containsKey("D");
        XpKernels.assertFlush(k.one(r), 0);
        assertThat(k.pager.recordCounts()).as("until R has dropped its copy").containsEntry("deadKernelIdsInWords", 1);
        k.lockCompleted(r, 0);
        assertThat(k.pager.recordCounts()).containsEntry("deadKernelIdsInWords", 0).containsEntry("futexes", 0)
                .containsEntry("pages", 0);

        k.lockFutex(e, futex);
        assertThat(k.one(e).getMemoryObjectFutexGranted().getOwnerDied()).isFalse();
        k.write(e, 0);
        PagerToKernel supply = k.one(e);
        assertThat(supply.getMemoryObjectDataSupply().getVersion()).as("D's return was version 1").isEqualTo(2);
        assertThat(wordAt(supply.getMemoryObjectDataSupply().getData().toByteArray(), futex))
                .isEqualTo(WAITERS | OWNER_DIED);
        k.nothingTo(r);
        assertThat(k.stats.refused()).isZero();
    }

    /**
     * The pager's recording is part of its state: a core restored from a snapshot taken while the
     * recording waits for a reader's lock_completed (a replica that caught up from it) records the
     * death as the original does, and ends in the same state.
     */
    @Test
    void aRecordingInProgressGoesOnInACoreRestoredFromASnapshot() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        long d = k.kernel(1, "D");
        long r = k.kernel(2, "R");
        long e = k.kernel(3, "E");
        long futex = 0x40;
        k.lockFutex(d, futex);
        k.take(d);
        k.write(d, 0);
        k.take(d);
        k.returnDirty(d, 0, pageWithWord(futex, 1 << 20 | 3), false);
        k.read(r, 0);
        k.take(r);
        k.pager.sessionClosed(d);
        k.advanceHeard(LEASE, LEASE / 2, r, e);
        XpKernels.assertFlush(k.one(r), 0);
        var snapshot = k.pager.snapshot();
        assertThat(snapshot.getPagesList()).anyMatch(p -> p.hasCurrent() && p.getCurrent().getRecordDeaths());

        XpKernels restored = new XpKernels(new MemoryPageStore(), new io.machxp.pager.core.PagerOptions(LEASE, 3),
                LEASE); // its clock reads as the original's
        restored.pager.restore(snapshot);
        assertThat(restored.pager.snapshot()).isEqualTo(snapshot);
        for (XpKernels x : java.util.List.of(k, restored)) {
            x.lockCompleted(r, 0);
            x.lockFutex(e, futex);
            assertThat(x.one(e).getMemoryObjectFutexGranted().getOwnerDied()).isFalse();
            x.write(e, 0);
            assertThat(wordAt(x.one(e).getMemoryObjectDataSupply().getData().toByteArray(), futex))
                    .isEqualTo(OWNER_DIED);
        }
        assertThat(restored.pager.snapshot()).isEqualTo(k.pager.snapshot());
    }

    /**
     * Review indep-fix F1 (xp-spec 8.7): a recording queued at an ordinary death, with kernel ids
     * plentiful, behind a write to the page does not take the page from that writer once its turn
     * comes: the writer gets its supply and nothing else, and the death is recorded when it gives
     * the page back.
     */
    @Test
    void aRecordingQueuedAtADeathLeavesAWriterThatCameMeanwhileAlone() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        long d = k.kernel(1, "D");
        long r = k.kernel(2, "R");
        long w = k.kernel(3, "W");
        long futex = 0x10;
        k.lockFutex(d, futex);
        k.take(d);
        k.write(d, 0);
        k.take(d);
        k.returnDirty(d, 0, pageWithWord(futex, 1 << 20 | 5), false);
        k.read(r, 0);
        k.take(r);
        k.write(w, 0);
        XpKernels.assertFlush(k.one(r), 0); // W's write waits for R
        k.pager.sessionClosed(d);
        k.advanceHeard(LEASE, LEASE / 2, r, w); // D declared dead: the recording queues behind W's write
        assertThat(k.declaredDead).containsKey("D");
        k.lockCompleted(r, 0);
        java.util.List<PagerToKernel> toW = k.take(w);
        assertThat(toW).as("ids are plentiful: W gets its supply and is not flushed").hasSize(1);
        assertThat(toW.get(0).hasMemoryObjectDataSupply()).isTrue();
        assertThat(k.pager.recordCounts()).as("held back while W writes the page")
                .containsEntry("deadKernelIdsInWords", 1);

        k.returnDirty(w, 0, pageWithWord(futex, 1 << 20 | 5), false); // W gives the page up
        assertThat(k.pager.recordCounts()).as("recorded at W's give-up").containsEntry("deadKernelIdsInWords", 0);
        k.nothingTo(w, r);
        assertThat(k.stats.refused()).isZero();
    }

    /**
     * A kernel holds the page writable when the futex's holder dies: its copy is the page, so the
     * pager does not record the death at once (the id stays held back, and the refusal says why);
     * when ids run short it takes the page back from the writer (a flush, as for a write: review
     * indep-2 N4, where one innocent writer held 1,022 dead kernels' ids for as long as it kept
     * the page), records the death once the writer answered, and the id goes out again. A word
     * with another kernel's TID (a task wrote it) is left as is.
     */
    @Test
    void aPageHeldWritableHoldsTheDeathBackUntilItIsGivenBack() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        long d = k.kernel(1, "D");
        long w = k.kernel(2, "W");
        long futex = 0x20;
        k.lockFutex(d, futex);
        k.take(d);
        k.write(w, 0);
        k.take(w);
        k.pager.sessionClosed(d);
        k.advanceHeard(LEASE, LEASE / 2, w);
        assertThat(k.pager.recordCounts()).containsEntry("deadKernelIdsInWords", 1);
        for (int id = 3; id <= 1023; id++) {
            assertThat(welcomedId(k, id, "k" + id)).isEqualTo(id);
            k.pager.sessionClosed(id);
        }
        k.advanceHeard(2 * LEASE, LEASE / 2, w);
        assertThat(welcomedId(k, 2000, "N0")).as("D's id is held back; the next freed goes").isEqualTo(3);
        for (int id = 4; id <= 1023; id++) {
            welcomedId(k, 10_000 + id, "M" + id);
        }
        k.pager.sessionOpened(20_000);
        k.xp(20_000, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("late")
                .setProtocolVersion(1)));
        assertThat(k.ended.get(20_000L)).startsWith("EAGAIN").contains("1 of them are held back by kernels that died");
        java.util.List<PagerToKernel> toW = k.take(w);
        assertThat(toW).as("ids ran short: the pager takes the page back from its writer").hasSize(1);
        XpKernels.assertFlush(toW.get(0), 0);

        int otherTid = 2 << 20 | 9; // W's kernel id: not D's
        k.returnDirty(w, 0, pageWithWord(futex, otherTid), false);
        k.lockCompleted(w, 0);
        k.advanceHeard(2 * LEASE, LEASE / 2, w); // D's id rests again from the hello that found it held back
        assertThat(welcomedId(k, 20_001, "late")).as("recorded now that W gave the page back").isEqualTo(1);
        k.lockFutex(w, futex);
        k.take(w);
        k.write(w, 0);
        assertThat(wordAt(k.one(w).getMemoryObjectDataSupply().getData().toByteArray(), futex))
                .as("a TID that is not the dead kernel's stays").isEqualTo(otherTid);
        assertThat(k.stats.refused()).isZero();
    }

    /**
     * Review R2: a kernel that caches every page writable while holders of their futexes die fills
     * the pager's futex records (cap 2 x 4 = 8 here); a newcomer's lock_futex waits while the pages
     * are held (before the XP review's finding 2 it was ended with EAGAIN), and the pager then takes
     * them back from the writer (review indep-2 N4); once the writer gave them back, each page that
     * comes back has its deaths recorded at once, their records pruned, and the newcomer's request
     * goes on; a later newcomer goes through at once.
     */
    @Test
    void deathsHeldBackByAWriterAreRecordedWhenItGivesThePagesBack() {
        XpKernels k = new XpKernels(new MemoryPageStore(), new io.machxp.pager.core.PagerOptions(LEASE, 3, 2));
        long w = k.kernel(1, "W");
        for (int page = 0; page < 4; page++) {
            k.write(w, (long) page * PAGE);
            k.take(w);
        }
        long[] dead = {2, 3, 4, 5};
        for (long d : dead) {
            k.kernel(d, "D" + d);
            for (int i = 0; i < 2; i++) {
                k.lockFutex(d, (d - 2) * PAGE + 4L * (d * 2 + i));
                assertThat(k.one(d).hasMemoryObjectFutexGranted()).isTrue();
            }
            k.pager.sessionClosed(d);
        }
        long n = k.kernel(10, "N");
        k.advanceHeard(LEASE, LEASE / 2, w, n);
        assertThat(k.declaredDead).containsKeys("D2", "D3", "D4", "D5");
        assertThat(k.pager.recordCounts()).containsEntry("futexes", 8).containsEntry("deadKernelIdsInWords", 4);
        k.lockFutex(n, 3 * PAGE + 0x100);
        assertThat(k.ended).as("N is under its own bound: it waits, not ended (FutexParking)").doesNotContainKey(n);
        assertThat(k.take(n)).as("W still holds every page").isEmpty();
        java.util.List<PagerToKernel> toW = k.take(w);
        assertThat(toW).as("the records ran short: the pager takes the pages back from their writer (review "
                + "indep-2 N4)").hasSize(4);
        for (int page = 0; page < 4; page++) {
            XpKernels.assertFlush(toW.get(page), (long) page * PAGE);
        }

        for (int page = 0; page < 4; page++) {
            k.returnDirty(w, (long) page * PAGE, new byte[PAGE], false);
            k.lockCompleted(w, (long) page * PAGE);
        }
        assertThat(k.one(n).hasMemoryObjectFutexGranted()).as("N's request went on once records were free").isTrue();
        assertThat(k.pager.recordCounts()).as("recorded as each page came back")
                .containsEntry("futexes", 1).containsEntry("deadKernelIdsInWords", 0);
        long n2 = k.kernel(11, "N2");
        k.lockFutex(n2, 3 * PAGE + 0x104);
        assertThat(k.one(n2).hasMemoryObjectFutexGranted()).isTrue();
        assertThat(k.ended.get(n2)).isNull();
        assertThat(k.stats.deathsRecordedByPager()).isEqualTo(8);
        assertThat(k.stats.refused()).isZero();
    }

    /**
     * Review of xpbounds, finding 3: a kernel dies holding idle futexes after a request parked at
     * the records' bound, while another kernel keeps their page writable, and no new lock_futex
     * comes. The ask-back timer forces the deaths (a flush to the writer, as at a new request),
     * so the parked request goes on once the writer gave the page back. Before, only a new
     * lock_futex at the bound forced them: the request waited for the writer to let the page go.
     */
    @Test
    void theAskBackTimerForcesDeathsThatCameAfterARequestParked() {
        XpKernels k = new XpKernels(new MemoryPageStore(), new io.machxp.pager.core.PagerOptions(LEASE, 3, 2));
        long w = k.kernel(1, "W");
        k.write(w, 0);
        k.take(w);
        long d = k.kernel(2, "D");
        long h3 = k.kernel(3, "H3");
        long h4 = k.kernel(4, "H4");
        long[][] futexes = {{w, PAGE}, {w, PAGE + 4}, {d, 0x10}, {d, 0x14}, {h3, 2 * PAGE}, {h3, 2 * PAGE + 4},
            {h4, 3 * PAGE}, {h4, 3 * PAGE + 4}};
        for (long[] f : futexes) {
            k.lockFutex(f[0], f[1]);
            assertThat(k.one(f[0]).hasMemoryObjectFutexGranted()).isTrue();
        }
        assertThat(k.pager.recordCounts()).containsEntry("futexes", 8);
        k.pager.sessionClosed(d); // D's stream breaks: it still holds its futexes until declared dead
        long n = k.kernel(10, "N");
        k.lockFutex(n, 3 * PAGE + 0x100);
        assertThat(k.take(n)).as("parked").isEmpty();
        k.take(w);
        k.take(h3);
        k.take(h4);

        k.advanceHeard(LEASE, LEASE / 2, w, h3, h4, n);
        assertThat(k.declaredDead).containsKey("D");
        k.advanceHeard(LEASE + LEASE / 2, LEASE / 2, w, h3, h4, n); // an ask-back round since
        assertThat(k.take(w)).as("the timer takes the page of D's futexes back from its writer")
                .filteredOn(PagerToKernel::hasMemoryObjectLockRequest).singleElement()
                .satisfies(m -> XpKernels.assertFlush(m, 0));
        assertThat(k.take(n)).as("still waiting: W holds the page").isEmpty();

        k.returnDirty(w, 0, new byte[PAGE], false);
        k.lockCompleted(w, 0);
        assertThat(k.one(n).getMemoryObjectFutexGranted().getOffset()).as("N's request went on")
                .isEqualTo(3 * PAGE + 0x100);
        assertThat(k.ended).doesNotContainKeys(w, h3, h4, n);
        assertThat(k.stats.deathsRecordedByPager()).isEqualTo(2);
    }

    /**
     * Review R4: a dead kernel's futexes on two pages that a reader holds: the pager flushes the
     * reader page by page in the order of object and offset (not in the order the futexes were
     * taken, nor a hash map's), and a core restored from a snapshot sends the very same messages.
     */
    @Test
    void aCoreRestoredFromASnapshotSendsTheRecordingsFlushesInTheSameOrder() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        long d = k.kernel(1, "D");
        long r = k.kernel(2, "R");
        long l = k.kernel(3, "L");
        for (int i = 0; i < 1600; i++) { // the original's futex table grows large, the restored one's does not
            k.lockFutex(l, 2L * PAGE + 4L * i);
            k.take(l);
        }
        for (int i = 0; i < 1600; i++) {
            k.futexReleased(l, 2L * PAGE + 4L * i);
        }
        k.take(l);
        k.lockFutex(d, PAGE + 0x10);
        k.lockFutex(d, 0x0);
        k.take(d);
        k.read(r, 0);
        k.read(r, PAGE);
        k.take(r);
        k.pager.sessionClosed(d);
        var snapshot = k.pager.snapshot();
        XpKernels restored = new XpKernels(new MemoryPageStore(), LEASE); // its clock reads as the original's: 0
        restored.pager.restore(snapshot);
        assertThat(restored.pager.snapshot()).isEqualTo(snapshot);
        java.util.List<java.util.List<PagerToKernel>> sent = new java.util.ArrayList<>();
        for (XpKernels x : java.util.List.of(k, restored)) {
            x.advanceHeard(LEASE, LEASE / 2, r, l);
            assertThat(x.declaredDead).containsKey("D");
            java.util.List<PagerToKernel> toR = x.take(r);
            sent.add(toR);
            assertThat(toR).hasSize(2);
            XpKernels.assertFlush(toR.get(0), 0);
            XpKernels.assertFlush(toR.get(1), PAGE);
        }
        assertThat(sent.get(1)).isEqualTo(sent.get(0));
        for (XpKernels x : java.util.List.of(k, restored)) {
            x.lockCompleted(r, PAGE);
            x.lockCompleted(r, 0);
        }
        assertThat(restored.pager.snapshot()).isEqualTo(k.pager.snapshot());
        assertThat(k.pager.recordCounts()).containsEntry("deadKernelIdsInWords", 0);
    }

    /**
     * Review R3, R6: a kernel that locks one futex on each of the object's pages and dies without
     * ever having a page writable cannot have written a TID that its death lost: the 0 words stay
     * as they are (as on Linux), no page is written or staged in the store, the deaths are still
     * recorded, and the next locker takes the futex plainly. One that held the page writable when
     * it died may have lost its TID's write: its 0 word gets OWNER_DIED.
     */
    @Test
    void aDeadKernelThatNeverHadThePageWritableLeavesItsZeroWordsAlone() {
        MemoryPageStore store = new MemoryPageStore();
        XpKernels k = new XpKernels(store, LEASE);
        long d = k.kernel(1, "D");
        long x = k.kernel(2, "X");
        long e = k.kernel(3, "E");
        for (int page = 0; page < 3; page++) {
            k.lockFutex(d, (long) page * PAGE + 0x20);
            assertThat(k.one(d).hasMemoryObjectFutexGranted()).isTrue();
        }
        k.lockFutex(x, 3L * PAGE + 0x20);
        k.take(x);
        k.write(x, 3L * PAGE); // X holds its futex's page writable when it dies
        k.take(x);
        k.pager.sessionClosed(d);
        k.pager.sessionClosed(x);
        k.advanceHeard(LEASE, LEASE / 2, e);
        assertThat(k.declaredDead).containsKeys("D", "X");
        assertThat(k.pager.recordCounts()).containsEntry("futexes", 0).containsEntry("deadKernelIdsInWords", 0);
        java.util.List<Long> written = new java.util.ArrayList<>();
        store.forEachPage((object, offset, data, version) -> written.add(offset));
        assertThat(written).as("only the page X had writable is written").containsExactly(3L * PAGE);

        k.lockFutex(e, 0x20);
        assertThat(k.one(e).getMemoryObjectFutexGranted().getOwnerDied()).isFalse();
        k.write(e, 0);
        assertThat(wordAt(k.one(e).getMemoryObjectDataSupply().getData().toByteArray(), 0x20)).isZero();
        k.lockFutex(e, 3L * PAGE + 0x20);
        assertThat(k.one(e).getMemoryObjectFutexGranted().getOwnerDied()).isFalse();
        k.write(e, 3L * PAGE);
        assertThat(wordAt(k.one(e).getMemoryObjectDataSupply().getData().toByteArray(), 0x20))
                .as("X's write of its TID may be lost with its page").isEqualTo(OWNER_DIED);
        assertThat(k.stats.refused()).isZero();
    }
}
