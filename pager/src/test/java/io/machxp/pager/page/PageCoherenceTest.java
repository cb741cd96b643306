package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.PAGE;
import static io.machxp.pager.page.XpKernels.assertAllowWrite;
import static io.machxp.pager.page.XpKernels.assertDowngrade;
import static io.machxp.pager.page.XpKernels.assertFlush;
import static io.machxp.pager.page.XpKernels.assertReadCopy;
import static io.machxp.pager.page.XpKernels.assertWriteCopy;
import static io.machxp.pager.page.XpKernels.dirtyPage;
import static io.machxp.pager.page.XpKernels.page;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerCore;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.PageData;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.VmProt;
import java.util.List;
import org.junit.jupiter.api.Test;

/** One writer or many readers per page, across kernels; the test plays kernels A, B and C. */
class PageCoherenceTest {
    private final XpKernels k = new XpKernels(new MemoryPageStore());
    private final PagerCore pager = k.pager;
    private final long a = k.kernel(1, "A");
    private final long b = k.kernel(2, "B");
    private final long c = k.kernel(3, "C");

    /** A has page 0 writable with {@code data} as the pager's copy (returned, kept). */
    private void aWrites(byte[] data) {
        k.write(a, 0);
        assertWriteCopy(k.one(a), 0, null);
        if (data != null) {
            k.returnDirty(a, 0, data, true);
        }
    }

    @Test
    void readersShareAPageWithoutMessagesToEachOther() {
        k.read(a, 0);
        assertReadCopy(k.one(a), 0, null);
        k.read(b, 0);
        assertReadCopy(k.one(b), 0, null);
        k.nothingTo(a, c);
        assertThat(pager.pageReaders("obj", 0)).containsExactly("A", "B");
        assertThat(pager.pageWriter("obj", 0)).isNull();
    }

    @Test
    void aWriteFlushesEveryReaderBeforeTheWriterGetsThePage() {
        k.read(a, 0);
        k.read(b, 0);
        k.take(a);
        k.take(b);
        k.write(c, 0);
        assertFlush(k.one(a), 0);
        assertFlush(k.one(b), 0);
        k.nothingTo(c);
        k.lockCompleted(a, 0);
        k.nothingTo(a, b, c);
        k.lockCompleted(b, 0);
        assertWriteCopy(k.one(c), 0, null);
        assertThat(pager.pageWriter("obj", 0)).isEqualTo("C");
        assertThat(pager.pageReaders("obj", 0)).isEmpty();
    }

    @Test
    void anUnlockByAReaderFlushesTheOthersAndGrantsWriteWithoutData() {
        k.read(a, 0);
        k.read(b, 0);
        k.take(a);
        k.take(b);
        k.unlock(a, 0);
        assertFlush(k.one(b), 0);
        k.nothingTo(a);
        k.lockCompleted(b, 0);
        assertAllowWrite(k.one(a), 0);
        assertThat(pager.pageWriter("obj", 0)).isEqualTo("A");
        assertThat(pager.pageReaders("obj", 0)).isEmpty();
    }

    @Test
    void aReadDowngradesTheWriterAndCarriesItsData() {
        aWrites(null);
        k.read(b, 0);
        assertDowngrade(k.one(a), 0);
        k.returnDirty(a, 0, page(0x41), true);
        k.nothingTo(b);
        k.lockCompleted(a, 0);
        assertReadCopy(k.one(b), 0, page(0x41));
        assertThat(pager.pageReaders("obj", 0)).containsExactly("A", "B");

        k.write(c, 0);
        assertFlush(k.one(a), 0);
        assertFlush(k.one(b), 0);
        k.lockCompleted(b, 0);
        k.lockCompleted(a, 0);
        assertWriteCopy(k.one(c), 0, page(0x41));
    }

    @Test
    void requestsQueueBehindTheOperationInProgressAndAreServedInOrder() {
        aWrites(null);
        k.read(b, 0);          // downgrade A
        k.write(c, 0);         // queued
        long d = k.kernel(4, "D");
        k.read(d, 0);          // queued
        assertDowngrade(k.one(a), 0);
        k.nothingTo(b, c, d);

        k.returnDirty(a, 0, page(1), true);
        k.lockCompleted(a, 0);
        List<PagerToKernel> toB = k.take(b);
        assertThat(toB).hasSize(2);
        assertReadCopy(toB.get(0), 0, page(1));
        assertFlush(toB.get(1), 0);   // C's turn
        assertFlush(k.one(a), 0);
        k.nothingTo(c, d);
        k.lockCompleted(a, 0);
        k.lockCompleted(b, 0);
        List<PagerToKernel> toC = k.take(c);
        assertThat(toC).hasSize(2);
        assertWriteCopy(toC.get(0), 0, page(1));
        assertDowngrade(toC.get(1), 0); // D's turn
        k.returnDirty(c, 0, page(2), true);
        k.lockCompleted(c, 0);
        assertReadCopy(k.one(d), 0, page(2));
        assertThat(pager.pageReaders("obj", 0)).containsExactly("C", "D");
    }

    @Test
    void pagesAreIndependent() {
        aWrites(null);
        k.write(b, PAGE);
        assertWriteCopy(k.one(b), PAGE, null);
        k.nothingTo(a);
    }

    @Test
    void protocolViolationsAreRefusedAndChangeNothing() {
        k.read(a, 0);
        k.read(b, 0);
        k.write(c, PAGE);
        k.take(a);
        k.take(b);
        k.take(c);

        k.lockCompleted(a, 0);                      // nobody asked
        k.returnDirty(c, 0, page(9), false);        // C does not hold page 0
        k.returnClean(c, 0, false);                 // nor clean
        k.returnDirty(a, 0, page(9), false);        // dirty from a reader
        k.returnDirty(c, PAGE, new byte[100], false); // not a page
        k.unlock(a, 4L * PAGE);                     // outside the object
        k.unlock(a, 0, 2L * PAGE);                  // not one page
        k.unlock(a, 1);                             // unaligned
        assertThat(k.stats.refused()).isEqualTo(5);
        // an unlock promises an answer: each bad one gets data_error for the range it named
        assertThat(k.take(a)).extracting(m -> m.getMemoryObjectDataError().getOffset() + "+"
                + m.getMemoryObjectDataError().getLength())
                .containsExactly(4L * PAGE + "+" + PAGE, "0+" + 2L * PAGE, "1+" + PAGE);
        k.nothingTo(a, b, c);

        // A and B still read page 0, with no data; C still writes page 1, with no data
        k.write(c, 0);
        assertFlush(k.one(a), 0);
        assertFlush(k.one(b), 0);
        k.lockCompleted(a, 0);
        k.lockCompleted(b, 0);
        assertWriteCopy(k.one(c), 0, null);
        k.read(b, PAGE);
        assertDowngrade(k.one(c), PAGE);
        k.lockCompleted(c, PAGE);
        assertReadCopy(k.one(b), PAGE, null);
        assertThat(k.stats.refused()).isEqualTo(5);
    }

    @Test
    void aSecondLockCompletedIsRefused() {
        aWrites(null);
        k.read(b, 0);
        k.take(a);
        k.lockCompleted(a, 0);
        k.lockCompleted(a, 0);
        assertThat(k.stats.refused()).isEqualTo(1);
        assertReadCopy(k.one(b), 0, null);
    }

    @Test
    void aWriterThatClosesWhileAwaitedLosesItsUnreturnedData() {
        aWrites(page(0x11));       // the pager's last copy
        k.read(b, 0);
        assertDowngrade(k.one(a), 0);
        pager.sessionClosed(a);    // its newer data never comes back
        assertReadCopy(k.one(b), 0, page(0x11));
        assertThat(pager.pageReaders("obj", 0)).containsExactly("B");
    }

    @Test
    void aRequesterThatClosesIsAnsweredByNobodyAndTheQueueGoesOn() {
        aWrites(null);
        k.write(b, 0);
        assertFlush(k.one(a), 0);
        k.read(c, 0);              // queued behind B
        pager.sessionClosed(b);
        k.nothingTo(c);            // A has not completed yet
        k.returnDirty(a, 0, page(3), false);
        k.lockCompleted(a, 0);
        assertReadCopy(k.one(c), 0, page(3));
        assertThat(k.stats.refused()).isZero();
        assertThat(pager.pageWriter("obj", 0)).isNull();
        assertThat(pager.pageReaders("obj", 0)).containsExactly("C");
    }

    @Test
    void queuedRequestsOfAClosedSessionAreDropped() {
        aWrites(null);
        k.read(b, 0);
        k.write(c, 0);             // queued
        assertDowngrade(k.one(a), 0);
        pager.sessionClosed(c);
        k.lockCompleted(a, 0);
        assertReadCopy(k.one(b), 0, null);
        k.nothingTo(a);            // no flush for C
        assertThat(pager.pageReaders("obj", 0)).containsExactly("A", "B");
    }

    @Test
    void terminateAfterDataReturnKeepsTheData() {
        aWrites(null);
        k.returnDirty(a, 0, page(0x77), false);
        k.terminate(a);
        k.read(b, 0);
        assertReadCopy(k.one(b), 0, page(0x77));
        k.nothingTo(a);
    }

    @Test
    void terminateGivesUpThePagesOfTheObject() {
        aWrites(null);
        k.terminate(a);
        k.write(b, 0);
        assertWriteCopy(k.one(b), 0, null);
        k.nothingTo(a);
    }

    /**
     * Found by PagerCoreFuzzTest: a page asked for under an object id that the kernel terminated
     * before the answer (keeping the object under another id, then reusing the first for another
     * object) was answered under the terminated id, which named the other object by then.
     */
    @Test
    void anAnswerNamesTheObjectByTheIdTheKernelHasForItNow() {
        aWrites(null);
        k.xp(b, KernelToPager.newBuilder().setMemoryObjectInit(
                MemoryObjectInit.newBuilder().setObjectId(8).setName("obj").setPageSize(PAGE)));
        k.take(b);
        k.write(b, 0);             // asked as object 7
        assertFlush(k.one(a), 0);
        k.terminate(b);            // 7 goes; "obj" stays as 8
        k.lockCompleted(a, 0);
        PagerToKernel supplied = k.one(b);
        assertThat(supplied.getMemoryObjectDataUnavailable().getObjectId()).isEqualTo(8);
        assertThat(pager.pageWriter("obj", 0)).isEqualTo("B");
        assertThat(k.stats.refused()).isZero();
    }

    @Test
    void oldKernelsAskingForNoAccessGetAWritableCopy() {
        k.request(a, 0, VmProt.VM_PROT_NONE);
        assertWriteCopy(k.one(a), 0, null);
        k.request(b, 0, VmProt.VM_PROT_WRITE);
        assertFlush(k.one(a), 0);
    }

    // ---- entry consistency: pages with the futex ----------------------------------------------

    @Test
    void aPageReleasedWithTheFutexGoesToTheNextOwnerAsItsWriter() {
        k.lockFutex(a, 0);
        assertThat(k.one(a).getMemoryObjectFutexGranted().getPagesList()).isEmpty();
        aWrites(null);
        k.lockFutex(b, 0);
        assertThat(k.one(a).getRoutineCase()).isEqualTo(PagerToKernel.RoutineCase.MEMORY_OBJECT_RELINQUISH_FUTEX);

        k.futexReleased(a, 0, dirtyPage(0, page(0x5a)));
        MemoryObjectFutexGranted granted = k.one(b).getMemoryObjectFutexGranted();
        assertThat(granted.getPagesList()).hasSize(1);
        PageData p = granted.getPages(0);
        assertThat(p.getOffset()).isZero();
        assertThat(p.getData().toByteArray()).isEqualTo(page(0x5a));
        assertThat(p.getDirty()).isFalse();
        assertThat(pager.pageWriter("obj", 0)).isEqualTo("B");

        k.write(b, 0);             // in flight before the grant: B has the access already
        k.nothingTo(a, b);
        k.read(c, 0);
        assertDowngrade(k.one(b), 0);
        k.lockCompleted(b, 0);
        assertReadCopy(k.one(c), 0, page(0x5a));
    }

    @Test
    void aPageSomebodyHoldsAtGrantTimeIsNotAttached() {
        k.lockFutex(a, 0);
        k.take(a);
        aWrites(null);
        k.futexReleased(a, 0, dirtyPage(0, page(0x5a)));   // nobody waits: the futex is free
        k.read(c, 0);
        assertReadCopy(k.one(c), 0, page(0x5a));
        k.lockFutex(b, 0);
        assertThat(k.one(b).getMemoryObjectFutexGranted().getPagesList()).isEmpty();
        assertThat(pager.pageReaders("obj", 0)).containsExactly("C");
    }

    @Test
    void aPageAskedForAtGrantTimeIsNotAttached() {
        k.lockFutex(a, 0);
        k.take(a);
        aWrites(null);
        k.read(c, PAGE);
        assertReadCopy(k.one(c), PAGE, null);
        k.write(a, PAGE);          // A writes page 1 too, after C's read
        assertFlush(k.one(c), PAGE);
        k.lockFutex(b, 0);
        k.take(a);
        k.futexReleased(a, 0, dirtyPage(0, page(1)));
        List<PageData> pages = k.one(b).getMemoryObjectFutexGranted().getPagesList();
        assertThat(pages).extracting(PageData::getOffset).containsExactly(0L);
        assertThat(k.stats.refused()).isZero();
    }

    @Test
    void aPageTheReleaserDoesNotWriteIsRefusedButTheFutexIsReleased() {
        k.lockFutex(a, 0);
        k.lockFutex(b, 0);
        k.take(a);
        k.read(a, 0);
        k.take(a);
        k.futexReleased(a, 0, dirtyPage(0, page(1)));
        assertThat(k.stats.refused()).isEqualTo(1);
        assertThat(k.one(b).getMemoryObjectFutexGranted().getPagesList()).isEmpty();
        assertThat(pager.pageReaders("obj", 0)).containsExactly("A");
        k.read(c, 0);
        assertReadCopy(k.one(c), 0, null);
    }

    // ---- a refused message changes nothing ----------------------------------------------------

    /** A release by a kernel that does not hold the futex, or with another grant's token, takes no page. */
    @Test
    void aRefusedReleaseTakesNoPages() {
        k.lockFutex(a, 0);
        k.take(a);
        aWrites(page(0x11));
        k.write(c, PAGE);
        k.take(c);
        k.lockFutex(b, 0);
        k.take(a);
        long token = pager.fencingToken("obj", 0);

        release(a, token + 1, dirtyPage(0, page(0x22)));   // a token that is not its grant's
        release(c, token, dirtyPage(PAGE, page(0x33)));    // C does not hold the futex
        assertThat(k.stats.refused()).isEqualTo(2);
        assertThat(pager.pageWriter("obj", 0)).isEqualTo("A");
        assertThat(pager.pageWriter("obj", PAGE)).isEqualTo("C");
        k.nothingTo(a, b, c);

        k.futexReleased(a, 0);                             // the real release, without the page
        assertThat(k.one(b).getMemoryObjectFutexGranted().getPagesList()).isEmpty();
        assertThat(pager.pageWriter("obj", 0)).isEqualTo("A");
        k.read(b, 0);
        assertDowngrade(k.one(a), 0);
        k.lockCompleted(a, 0);
        assertReadCopy(k.one(b), 0, page(0x11));            // the refused data was not taken
    }

    /**
     * A well-formed data_return whose data is not newer than the pager's copy: the data is refused,
     * but a kernel that kept no copy holds the page no more (it has dropped it either way).
     */
    @Test
    void aStaleReturnWithoutAKernelCopyEndsTheHoldButIsNotTaken() {
        k.write(a, 0);
        k.take(a);
        returnVersion(a, 0, page(0x11), 5, true);
        returnVersion(a, 0, page(0x22), 4, false);          // stale: version 4 is not newer than 5
        assertThat(k.stats.refused()).isEqualTo(1);
        assertThat(pager.pageWriter("obj", 0)).isNull();
        k.read(b, 0);                                       // no lock_request to A: it holds nothing
        k.nothingTo(a);
        PagerToKernel m = k.one(b);
        assertReadCopy(m, 0, page(0x11));
        assertThat(m.getMemoryObjectDataSupply().getVersion()).isEqualTo(5);
    }

    /** A stale data_return that keeps its copy changes nothing. */
    @Test
    void aStaleReturnWithAKernelCopyChangesNothing() {
        k.write(a, 0);
        k.take(a);
        returnVersion(a, 0, page(0x11), 5, true);
        returnVersion(a, 0, page(0x22), 4, true);
        assertThat(k.stats.refused()).isEqualTo(1);
        assertThat(pager.pageWriter("obj", 0)).isEqualTo("A");
    }

    /** Refused page messages leave no page record behind. */
    @Test
    void refusedPageMessagesLeaveNoRecords() {
        int before = pager.recordCounts().get("pages");
        k.lockCompleted(a, 2L * PAGE);                      // nobody asked
        k.returnClean(c, 3L * PAGE, false);                 // C holds nothing
        k.returnDirty(c, 3L * PAGE, page(1), false);
        k.xp(a, KernelToPager.newBuilder().setMemoryObjectLockFutex(io.machxp.proto.xp.MemoryObjectLockFutex
                .newBuilder().setObjectId(XpKernels.OBJ).setOffset(8).setUpdate(true))); // never asked for
        assertThat(k.stats.refused()).isEqualTo(4);
        assertThat(pager.recordCounts().get("pages")).isEqualTo(before);
        assertThat(pager.recordCounts().get("futexes")).isZero();
    }

    private void release(long s, long token, PageData... pages) {
        k.xp(s, KernelToPager.newBuilder().setMemoryObjectFutexReleased(
                io.machxp.proto.xp.MemoryObjectFutexReleased.newBuilder().setObjectId(XpKernels.OBJ).setOffset(0)
                        .setFencingToken(token).addAllPages(List.of(pages))));
    }

    private void returnVersion(long s, long offset, byte[] data, long version, boolean kernelCopy) {
        k.xp(s, KernelToPager.newBuilder().setMemoryObjectDataReturn(io.machxp.proto.xp.MemoryObjectDataReturn
                .newBuilder().setObjectId(XpKernels.OBJ).setOffset(offset).setData(
                        com.google.protobuf.ByteString.copyFrom(data)).setDirty(true).setKernelCopy(kernelCopy)
                .setVersion(version)));
    }
}
