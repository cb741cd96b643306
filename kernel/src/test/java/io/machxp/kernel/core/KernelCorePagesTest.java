package io.machxp.kernel.core;

import static io.machxp.proto.xp.KernelToPager.RoutineCase.KERNEL_KEEPALIVE;
import static io.machxp.proto.xp.KernelToPager.RoutineCase.MEMORY_OBJECT_DATA_RETURN;
import static io.machxp.proto.xp.KernelToPager.RoutineCase.MEMORY_OBJECT_LOCK_COMPLETED;
import static io.machxp.proto.xp.KernelToPager.RoutineCase.MEMORY_OBJECT_TERMINATE;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.PageData;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The kernel's page cache: access per page, lock_request, returns, and futex words in the page. */
class KernelCorePagesTest {
    private static final int PAGE = CoreFixture.PAGE;
    private final CoreFixture k = new CoreFixture(true);

    private static byte[] page(int at, int value) {
        byte[] p = new byte[PAGE];
        ByteBuffer.wrap(p).order(ByteOrder.LITTLE_ENDIAN).putInt(at, value);
        return p;
    }

    private static int intAt(byte[] data, int at) {
        return ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).getInt(at);
    }

    private static byte[] le(int value) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array();
    }

    /** A read asks for a read-only copy; a write to it asks for write access with data_unlock. */
    @Test
    void aReadFaultsReadOnlyAndAWriteUnlocksIt() {
        Answer<byte[]> read = k.read(k.base + 16, 4);
        KernelToPager request = k.single();
        assertThat(request.getMemoryObjectDataRequest().getDesiredAccess()).isEqualTo(VmProt.VM_PROT_READ);
        k.supply(0, page(16, 42), VmProt.VM_PROT_WRITE);
        assertThat(intAt(read.value(), 0)).isEqualTo(42);
        assertThat(intAt(k.read(k.base + 16, 4).value(), 0)).as("read again, locally").isEqualTo(42);
        assertThat(k.env.sent).isEmpty();

        Answer<Void> write = k.write(k.base + 16, le(43));
        assertThat(k.single().getMemoryObjectDataUnlock().getDesiredAccess()).isEqualTo(VmProt.VM_PROT_WRITE);
        assertThat(write.answered()).as("no write on a read-only copy").isFalse();
        k.lockRequest(0, ReturnPolicy.RETURN_NONE, false, VmProt.VM_PROT_NONE, false);
        assertThat(write.answered()).isTrue();
        assertThat(k.env.sent).as("an unlock grant needs no lock_completed").isEmpty();
        assertThat(intAt(k.read(k.base + 16, 4).value(), 0)).isEqualTo(43);
    }

    /**
     * A pager may answer a request for write access with a read-only copy (lock_value WRITE): the
     * kernel asks again for what is missing with data_unlock instead of waiting for a second answer
     * to a request already answered (found in review).
     */
    @Test
    void aReadOnlyAnswerToAWriteFaultIsFollowedByDataUnlock() {
        Answer<Void> write = k.write(k.base + 16, le(43));
        assertThat(k.single().getMemoryObjectDataRequest().getDesiredAccess()).isEqualTo(VmProt.VM_PROT_READ_WRITE);
        k.supply(0, page(16, 42), VmProt.VM_PROT_WRITE);
        assertThat(write.answered()).as("no write on a read-only copy").isFalse();
        assertThat(k.single().getMemoryObjectDataUnlock().getDesiredAccess()).isEqualTo(VmProt.VM_PROT_WRITE);
        k.lockRequest(0, ReturnPolicy.RETURN_NONE, false, VmProt.VM_PROT_NONE, false);
        assertThat(write.answered()).isTrue();
        assertThat(intAt(k.read(k.base + 16, 4).value(), 0)).isEqualTo(43);
        assertThat(k.env.sent).isEmpty();
    }

    /** lock_request(flush, RETURN_DIRTY): the dirty page goes back, then lock_completed; a read faults again. */
    @Test
    void aFlushReturnsDirtyDataThenCompletes() {
        k.write(k.base + PAGE + 8, le(7));
        assertThat(k.single().getMemoryObjectDataRequest().getDesiredAccess()).isEqualTo(VmProt.VM_PROT_READ_WRITE);
        k.zeroFill(PAGE);
        k.env.drain();
        k.lockRequest(PAGE, ReturnPolicy.RETURN_DIRTY, true, VmProt.VM_PROT_NONE, true);
        List<KernelToPager> sent = k.env.drain();
        assertThat(sent).extracting(KernelToPager::getRoutineCase)
                .containsExactly(MEMORY_OBJECT_DATA_RETURN, MEMORY_OBJECT_LOCK_COMPLETED);
        var ret = sent.get(0).getMemoryObjectDataReturn();
        assertThat(ret.getDirty()).isTrue();
        assertThat(ret.getKernelCopy()).isFalse();
        assertThat(intAt(ret.getData().toByteArray(), 8)).isEqualTo(7);

        Answer<byte[]> again = k.read(k.base + PAGE + 8, 4);
        assertThat(k.single().hasMemoryObjectDataRequest()).isTrue();
        assertThat(again.answered()).isFalse();
    }

    /** A downgrade keeps a read-only copy: reads stay local, the next write asks again. */
    @Test
    void aDowngradeKeepsAReadOnlyCopy() {
        k.write(k.base, le(5));
        k.env.drain();
        k.zeroFill(0);
        k.lockRequest(0, ReturnPolicy.RETURN_DIRTY, false, VmProt.VM_PROT_WRITE, true);
        List<KernelToPager> sent = k.env.drain();
        assertThat(sent.get(0).getMemoryObjectDataReturn().getKernelCopy()).isTrue();
        assertThat(sent.get(1).getRoutineCase()).isEqualTo(MEMORY_OBJECT_LOCK_COMPLETED);
        assertThat(intAt(k.read(k.base, 4).value(), 0)).isEqualTo(5);
        assertThat(k.env.sent).isEmpty();
        Answer<Void> w = k.write(k.base, le(6));
        assertThat(k.single().hasMemoryObjectDataUnlock()).isTrue();
        assertThat(w.answered()).isFalse();
    }

    /** A lock_request for a page the kernel does not hold is acknowledged at once. */
    @Test
    void aLockRequestForAPageNotHeldCompletesAtOnce() {
        k.lockRequest(2 * PAGE, ReturnPolicy.RETURN_DIRTY, true, VmProt.VM_PROT_NONE, true);
        assertThat(k.single().getMemoryObjectLockCompleted().getOffset()).isEqualTo(2 * PAGE);
    }

    /**
     * The futex word travels with the page: a downgrade returns the owner's TID; the owner's unlock
     * then needs the page writable again, and the word it leaves is 0.
     */
    @Test
    void theFutexWordIsInThePageThatLeavesTheKernel() {
        MachThread t = k.thread();
        k.acquireFromPager(t, k.base + 64);
        k.lockRequest(0, ReturnPolicy.RETURN_DIRTY, false, VmProt.VM_PROT_WRITE, true);
        List<KernelToPager> sent = k.env.drain();
        assertThat(intAt(sent.get(0).getMemoryObjectDataReturn().getData().toByteArray(), 64)).isEqualTo(t.tid);
        assertThat(intAt(k.read(k.base + 64, 4).value(), 0)).isEqualTo(t.tid);
        assertThat(k.futex(k.base + 64).tryFastUnlock(t.tid)).as("no fast path without the page").isFalse();

        Answer<Void> unlock = k.unlock(t, k.base + 64);
        assertThat(k.single().hasMemoryObjectDataUnlock()).isTrue();
        assertThat(unlock.answered()).isFalse();
        k.lockRequest(0, ReturnPolicy.RETURN_NONE, false, VmProt.VM_PROT_NONE, false);
        assertThat(unlock.answered()).isTrue();
        assertThat(FutexWord.word(k.futex(k.base + 64).state())).isZero();
        k.lockRequest(0, ReturnPolicy.RETURN_DIRTY, true, VmProt.VM_PROT_NONE, true);
        assertThat(intAt(k.env.drain().get(0).getMemoryObjectDataReturn().getData().toByteArray(), 64)).isZero();
    }

    /** A cached free futex whose page went elsewhere is given back at once, without the page. */
    @Test
    void aCachedFutexWithoutItsPageIsRelinquishedAtOnce() {
        MachThread t = k.thread();
        k.acquireFromPager(t, k.base);
        k.unlock(t, k.base).value();
        k.lockRequest(0, ReturnPolicy.RETURN_DIRTY, true, VmProt.VM_PROT_NONE, true);
        k.env.drain();
        k.relinquish(0);
        assertThat(k.single().hasMemoryObjectFutexReleased()).isTrue();
        assertThat(FutexWord.isAbsent(k.futex(k.base).state())).isTrue();
    }

    /** A futex still cached while its page was away: the next lock fetches the page, then takes it. */
    @Test
    void aLockOfACachedFutexWithoutItsPageFetchesThePage() {
        MachThread t = k.thread();
        k.acquireFromPager(t, k.base);
        k.unlock(t, k.base).value();
        k.lockRequest(0, ReturnPolicy.RETURN_DIRTY, true, VmProt.VM_PROT_NONE, true);
        k.env.drain();
        Answer<AcquirePath> again = k.lock(t, k.base);
        assertThat(k.single().getMemoryObjectDataRequest().getDesiredAccess()).isEqualTo(VmProt.VM_PROT_READ_WRITE);
        k.zeroFill(0);
        assertThat(again.value()).isEqualTo(AcquirePath.FAST_PATH);
        assertThat(k.env.sent).as("the futex itself was still this kernel's").isEmpty();
    }

    /** Beyond the resident limit the oldest page is evicted and its dirty data returned. */
    @Test
    void evictionReturnsDirtyData() {
        CoreFixture small = new CoreFixture(true, false, 1);
        small.write(small.base + 4, le(99));
        small.zeroFill(0);
        small.env.drain();
        small.read(small.base + PAGE, 4);
        small.env.drain();
        small.zeroFill(PAGE);
        KernelToPager ret = small.single();
        assertThat(ret.getMemoryObjectDataReturn().getOffset()).isZero();
        assertThat(ret.getMemoryObjectDataReturn().getKernelCopy()).isFalse();
        assertThat(intAt(ret.getMemoryObjectDataReturn().getData().toByteArray(), 4)).isEqualTo(99);
    }

    /**
     * Shutting down returns dirty pages, then terminates the object, then sends a keepalive: the
     * end's barrier (xp-spec 2.6), whose answer says the return is stored; the runtime ends the
     * stream once it comes, and the core says which keepalive that is and how many returns wait.
     */
    @Test
    void shutdownReturnsDirtyPagesThenTerminatesThenAsksForTheBarrier() {
        k.write(k.base + 3 * PAGE, le(1));
        k.zeroFill(3 * PAGE);
        k.read(k.base, 4);
        k.env.drain();
        k.supply(0, new byte[PAGE], VmProt.VM_PROT_WRITE);
        List<EndBarrier> barriers = k.core.xp().shutdown();
        List<KernelToPager> sent = k.env.drain();
        assertThat(sent).extracting(KernelToPager::getRoutineCase)
                .containsExactly(MEMORY_OBJECT_DATA_RETURN, MEMORY_OBJECT_TERMINATE, KERNEL_KEEPALIVE);
        assertThat(sent.get(0).getMemoryObjectDataReturn().getOffset()).isEqualTo(3 * PAGE);
        assertThat(barriers).containsExactly(new EndBarrier(0, sent.get(2).getKernelKeepalive().getSequence(), 1));
    }

    /** Piggyback: the futex is asked for first, its page comes with the grant and leaves with the release. */
    @Test
    void piggybackCarriesPagesWithTheFutex() {
        CoreFixture p = new CoreFixture(true, true, 0);
        MachThread t = p.thread();
        Answer<AcquirePath> lock = p.lock(t, p.base + PAGE);
        assertThat(p.single().hasMemoryObjectLockFutex()).as("no page-in first").isTrue();
        p.core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectFutexGranted(MemoryObjectFutexGranted.newBuilder()
                .setObjectId(CoreFixture.OBJECT_ID).setOffset(PAGE).addPages(PageData.newBuilder()
                        .setOffset(PAGE).setData(ByteString.copyFrom(page(8, 10))))).build());
        assertThat(lock.value()).isEqualTo(AcquirePath.PAGER_GRANT);
        assertThat(intAt(p.read(p.base + PAGE + 8, 4).value(), 0)).isEqualTo(10);
        p.write(p.base + PAGE + 8, le(11)).value();
        assertThat(p.env.sent).as("the page came with the grant, writable").isEmpty();
        p.relinquish(PAGE);
        p.unlock(t, p.base + PAGE).value();
        var released = p.single().getMemoryObjectFutexReleased();
        assertThat(released.getPagesList()).hasSize(1);
        assertThat(released.getPages(0).getDirty()).isTrue();
        assertThat(intAt(released.getPages(0).getData().toByteArray(), 8)).isEqualTo(11);
        assertThat(intAt(released.getPages(0).getData().toByteArray(), 0)).as("the futex word, free").isZero();
    }

    /**
     * A released futex always takes its own page; only piggyback (entry consistency) also takes
     * the pages written under it.
     */
    @Test
    void aReleaseTakesItsOwnPageAndPiggybackAlsoThePagesWrittenUnderIt() {
        for (boolean piggyback : new boolean[] {false, true}) {
            CoreFixture p = new CoreFixture(true, piggyback, 0);
            MachThread t = p.thread();
            p.acquireFromPager(t, p.base + PAGE);
            Answer<Void> write = p.write(p.base + 2 * PAGE + 8, le(11));
            assertThat(p.single().hasMemoryObjectDataRequest()).isTrue();
            p.zeroFill(2 * PAGE);
            write.value();
            p.relinquish(PAGE);
            p.unlock(t, p.base + PAGE).value();
            var released = p.single().getMemoryObjectFutexReleased();
            if (piggyback) {
                assertThat(released.getPagesList()).extracting(PageData::getOffset)
                        .containsExactlyInAnyOrder((long) PAGE, 2L * PAGE);
            } else {
                assertThat(released.getPagesList()).extracting(PageData::getOffset).containsExactly((long) PAGE);
                assertThat(intAt(p.read(p.base + 2 * PAGE + 8, 4).value(), 0)).as("still here").isEqualTo(11);
            }
        }
    }

    /** Bad ranges, misaligned atomics, words neither 4 nor 8 bytes wide and writes to a held futex word are EINVAL and change nothing. */
    @Test
    void badMemoryRequestsAreEinval() {
        assertThat(k.read(k.base + 4 * PAGE - 2, 4).error().errno()).isEqualTo(Errno.EINVAL);
        assertThat(k.read(k.base + 4 * PAGE, 1).error().errno()).isEqualTo(Errno.EINVAL);
        assertThat(k.read(k.base, 0).error().errno()).isEqualTo(Errno.EINVAL);
        Answer<CasResult> cas = new Answer<>();
        k.core.vmCompareAndSwap(k.task.id, k.base + 4, 8, 0, 1, cas);
        assertThat(cas.error().errno()).isEqualTo(Errno.EINVAL);
        assertThat(cas.error().message()).contains("8-byte aligned");
        for (int width : new int[] {0, 1, 2, 16, -4}) {
            Answer<Long> add = new Answer<>();
            k.core.vmFetchAdd(k.task.id, k.base + 4 * PAGE - 4, width, 1, add); // found by KernelCoreFuzzTest
            assertThat(add.error().errno()).isEqualTo(Errno.EINVAL);
            assertThat(add.error().message()).contains("a " + width + "-byte word", "4 bytes (WORD32) or 8");
            Answer<CasResult> swap = new Answer<>();
            k.core.vmCompareAndSwap(k.task.id, k.base + 4 * PAGE - 4, width, 0, 1, swap);
            assertThat(swap.error().errno()).isEqualTo(Errno.EINVAL);
        }
        MachThread t = k.thread();
        k.acquireFromPager(t, k.base + 32);
        MachThread waiter = k.thread();
        Answer<AcquirePath> waits = k.lock(waiter, k.base + 32);
        assertThat(waits.answered()).as("a waiter queued behind t").isFalse();
        long held = k.futex(k.base + 32).state();
        Answer<Void> w = k.write(k.base + 30, new byte[4]);
        assertThat(w.error().errno()).isEqualTo(Errno.EINVAL);
        assertThat(w.error().message()).contains("futex that threads wait for");
        assertThat(k.futex(k.base + 32).state()).isEqualTo(held);
        assertThat(FutexWord.word(held) & FutexWord.TID_MASK).isEqualTo(t.tid);
        assertThat(k.env.sent).isEmpty();
    }

    /**
     * A futex word nobody waits for is plain memory, as on Linux: a write, a CAS or a fetch-add
     * changes the futex itself (here: a word left holding the TID of no thread is repaired by
     * writing 0, and the next lock takes the fast path).
     */
    @Test
    void aWordNobodyWaitsForIsPlainMemory() {
        MachThread t = k.thread();
        k.acquireFromPager(t, k.base + 32);
        assertThat(k.unlock(t, k.base + 32).answered()).isTrue();
        k.write(k.base + 32, new byte[] {0x00, 0x00, 0x00, 0x20}).value(); // 0x20000000: no such thread
        assertThat(FutexWord.word(k.futex(k.base + 32).state())).isEqualTo(0x20000000);
        assertThat(k.read(k.base + 32, 4).value()).containsExactly(0x00, 0x00, 0x00, 0x20);
        Answer<CasResult> cas = new Answer<>();
        k.core.vmCompareAndSwap(k.task.id, k.base + 32, 4, 0x20000000, 0, cas);
        assertThat(cas.value()).isEqualTo(new CasResult(true, 0x20000000));
        assertThat(k.futex(k.base + 32).state()).isEqualTo(FutexWord.FREE);
        MachThread u = k.thread();
        assertThat(k.lock(u, k.base + 32).value()).isEqualTo(AcquirePath.FAST_PATH);
        assertThat(k.read(k.base + 28, 8).value()).as("bytes beside the word untouched, the word the owner")
                .containsExactly(0, 0, 0, 0, u.tid & 0xff, (u.tid >> 8) & 0xff, (u.tid >> 16) & 0xff, (u.tid >> 24) & 0xff);
        assertThat(k.env.sent).as("no message: the futex stayed here").isEmpty();
    }

    /**
     * A futex cached here whose word a task wrote over (a TID of no thread) is plain memory for
     * other kernels too: when its page comes back newer (another kernel wrote it), the word a task
     * there wrote is the futex's word, not the one this kernel last had (it kept 0x20000000 and
     * answered ESRCH for it after another kernel had written 0x20000001, or 0 over it).
     */
    @Test
    void aWrittenOverWordTakesTheValueWrittenElsewhereWhenItsPageComesBack() {
        MachThread t = k.thread();
        k.acquireFromPager(t, k.base + 32);
        assertThat(k.unlock(t, k.base + 32).answered()).isTrue();
        k.write(k.base + 32, le(0x20000000)).value();
        k.lockRequest(0, ReturnPolicy.RETURN_DIRTY, true, VmProt.VM_PROT_NONE, true); // taken for another kernel
        k.env.drain();
        assertThat(FutexWord.isNoPage(k.futex(k.base + 32).state())).isTrue();

        MachThread u = k.thread();
        Answer<AcquirePath> trylock = k.trylock(u, k.base + 32);
        supplyNewer(page(32, 0x20000001), 5); // another kernel's task wrote 0x20000001
        assertThat(trylock.error().errno()).isEqualTo(Errno.ESRCH);
        assertThat(FutexWord.word(k.futex(k.base + 32).state())).isEqualTo(0x20000001 | FutexWord.WAITERS);

        k.lockRequest(0, ReturnPolicy.RETURN_DIRTY, true, VmProt.VM_PROT_NONE, true);
        k.env.drain();
        Answer<AcquirePath> lock = k.lock(u, k.base + 32);
        supplyNewer(page(32, 0), 7); // and repaired it with 0
        assertThat(lock.value()).isNotNull();
        assertThat(FutexWord.owner(k.futex(k.base + 32).state())).isEqualTo(u.tid);
    }

    /**
     * A futex held here whose word a task on another kernel wrote over with 0 while nobody waited,
     * and that the writer's kernel then asks for (a lock there after the write): the page comes
     * back with the free word, the owner here holds the futex no more, and it goes back to the
     * pager at once, as Linux's LOCK_PI takes a free word; the owner's unlock is then EPERM. It
     * kept the owner's word and gave the futex away only at the owner's unlock, which was ok
     * (write-free-over-held-across-kernels.yaml).
     */
    @Test
    void aHeldWordWrittenFreeElsewhereBeforeAWaitThereIsGivenBack() {
        MachThread o = k.thread();
        k.acquireFromPager(o, k.base + 32);
        k.lockRequest(0, ReturnPolicy.RETURN_DIRTY, true, VmProt.VM_PROT_NONE, true); // written on another kernel
        k.env.drain();
        assertThat(FutexWord.isNoPage(k.futex(k.base + 32).state())).isTrue();

        k.relinquish(32, 90); // that kernel's lock, after its task wrote 0 over the word
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).as("the word's page is fetched").isZero();
        assertThat(o.effectivePriority).as("boosted for the wait elsewhere").isEqualTo(90);
        supplyNewer(page(32, 0), 5);
        List<KernelToPager> sent = k.env.drain();
        assertThat(sent).extracting(KernelToPager::hasMemoryObjectFutexReleased).as("given back at once").contains(true);
        assertThat(FutexWord.isAbsent(k.futex(k.base + 32).state())).isTrue();
        assertThat(o.effectivePriority).as("no longer boosted for the wait elsewhere").isEqualTo(o.basePriority);
        assertThat(k.unlock(o, k.base + 32).error().errno()).isEqualTo(Errno.EPERM);
    }

    /**
     * A trylock elsewhere of a held futex whose page is away (it left unwaited, no copy here),
     * after a task there wrote 0 over the word: the answer waits for the page, fetched writable,
     * and its free word gives the futex back, so the trylock gets it, as Linux's TRYLOCK_PI of a
     * free word (trylock-elsewhere-after-word-written-free-across-kernels.yaml); the owner's unlock
     * is EPERM. It was answered busy at once from the held word (futex_held).
     */
    @Test
    void aTrylockElsewhereOfAHeldWordWhosePageIsAwayWaitsForThePageWrittenFree() {
        MachThread o = k.thread();
        k.acquireFromPager(o, k.base + 32);
        k.lockRequest(0, ReturnPolicy.RETURN_DIRTY, true, VmProt.VM_PROT_NONE, true); // written on another kernel
        k.env.drain();

        k.relinquishTry(32);
        List<KernelToPager> asked = k.env.drain();
        assertThat(asked).extracting(KernelToPager::hasMemoryObjectFutexHeld).as("no answer before the page").doesNotContain(true);
        assertThat(asked).extracting(KernelToPager::hasMemoryObjectDataRequest).as("the page is fetched").containsOnlyOnce(true);
        supplyNewer(page(32, 0), 5); // written 0 elsewhere
        List<KernelToPager> sent = k.env.drain();
        assertThat(sent).extracting(KernelToPager::hasMemoryObjectFutexReleased).as("the trylock gets it").containsOnlyOnce(true);
        assertThat(sent).extracting(KernelToPager::hasMemoryObjectFutexHeld).doesNotContain(true);
        assertThat(FutexWord.isAbsent(k.futex(k.base + 32).state())).isTrue();
        assertThat(k.unlock(o, k.base + 32).error().errno()).isEqualTo(Errno.EPERM);
    }

    /**
     * The same trylock when the page comes back with the owner's word (nobody wrote it): answered
     * busy then (futex_held), WAITERS set in the word as Linux's TRYLOCK_PI of a held futex leaves
     * it; the owner's unlock is ok and keeps nothing pending.
     */
    @Test
    void aTrylockElsewhereOfAHeldWordWhosePageIsAwayIsBusyOnceThePageShowsTheOwner() {
        MachThread o = k.thread();
        k.acquireFromPager(o, k.base + 32);
        k.lockRequest(0, ReturnPolicy.RETURN_DIRTY, true, VmProt.VM_PROT_NONE, true); // read or written elsewhere
        k.env.drain();

        k.relinquishTry(32);
        assertThat(k.env.drain()).extracting(KernelToPager::hasMemoryObjectFutexHeld).doesNotContain(true);
        supplyNewer(page(32, o.tid), 5); // the word as it left
        List<KernelToPager> sent = k.env.drain();
        assertThat(sent).extracting(KernelToPager::hasMemoryObjectFutexHeld).as("busy").containsOnlyOnce(true);
        assertThat(sent).extracting(KernelToPager::hasMemoryObjectFutexReleased).doesNotContain(true);
        assertThat(FutexWord.word(k.futex(k.base + 32).state())).isEqualTo(o.tid | FutexWord.WAITERS);
        assertThat(k.unlock(o, k.base + 32).answered()).as("the owner's unlock is ok").isTrue();
    }

    /**
     * A second relinquish with try while the first waits for the page fetches nothing more, and the
     * page's return answers once.
     */
    @Test
    void aTrylockElsewhereWaitingForThePageIsAnsweredOnce() {
        MachThread o = k.thread();
        k.acquireFromPager(o, k.base + 32);
        k.lockRequest(0, ReturnPolicy.RETURN_DIRTY, true, VmProt.VM_PROT_NONE, true);
        k.env.drain();

        k.relinquishTry(32);
        k.env.drain();
        k.relinquishTry(32);
        assertThat(k.env.drain()).extracting(KernelToPager::hasMemoryObjectDataRequest).doesNotContain(true);
        supplyNewer(page(32, o.tid), 5);
        assertThat(k.env.drain()).extracting(KernelToPager::hasMemoryObjectFutexHeld).containsOnlyOnce(true);
    }

    /**
     * The same trylock with a copy of the page readable here, newer than this kernel's, whose word a
     * task elsewhere wrote 0 into: answered from that copy, the futex given back as unused, so the
     * trylock gets it (Linux's TRYLOCK_PI of a free word); no page is fetched.
     */
    @Test
    void aTrylockElsewhereAnsweredFromAReadableCopyWrittenFree() {
        MachThread o = k.thread();
        k.acquireFromPager(o, k.base + 32);
        k.lockRequest(0, ReturnPolicy.RETURN_DIRTY, true, VmProt.VM_PROT_NONE, true); // written on another kernel
        k.env.drain();
        Answer<byte[]> read = k.read(k.base, 4);
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).isZero();
        k.core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectDataSupply(io.machxp.proto.xp.MemoryObjectDataSupply.newBuilder()
                .setObjectId(CoreFixture.OBJECT_ID).setOffset(0).setData(ByteString.copyFrom(page(32, 0))).setVersion(5)
                .setLockValue(VmProt.VM_PROT_WRITE)).build());
        read.value();
        k.env.drain();

        k.relinquishTry(32);
        List<KernelToPager> sent = k.env.drain();
        assertThat(sent).extracting(KernelToPager::hasMemoryObjectFutexReleased).as("the trylock gets it").containsOnlyOnce(true);
        assertThat(sent).extracting(KernelToPager::hasMemoryObjectDataUnlock).doesNotContain(true);
        assertThat(sent).extracting(KernelToPager::hasMemoryObjectDataRequest).doesNotContain(true);
        assertThat(FutexWord.isAbsent(k.futex(k.base + 32).state())).isTrue();
        assertThat(k.unlock(o, k.base + 32).error().errno()).isEqualTo(Errno.EPERM);
    }

    /**
     * F1: a relinquish pending is never lost. O holds the futex; its page left unwaited; T on this
     * kernel locks it (the page is fetched); then a kernel elsewhere waits; the page comes back
     * with the word written 0 elsewhere. The relinquish is served before T's queued lock runs: the
     * futex goes back to the pager at once, and T asks for it again. It was taken by T with a
     * plain CAS, no WAITERS, and T's unlock never reached the pager: the waiter elsewhere stranded.
     */
    @Test
    void aRelinquishPendingIsServedBeforeALockQueuedForThePage() {
        MachThread o = k.thread();
        MachThread t = k.thread();
        k.acquireFromPager(o, k.base + 32);
        k.lockRequest(0, ReturnPolicy.RETURN_DIRTY, true, VmProt.VM_PROT_NONE, true);
        k.env.drain();
        Answer<AcquirePath> lock = k.lock(t, k.base + 32);
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).as("T's lock fetches the page").isZero();

        k.relinquish(32, 90);
        k.env.drain();
        supplyNewer(page(32, 0), 5);
        List<KernelToPager> sent = k.env.drain();
        assertThat(sent).extracting(KernelToPager::hasMemoryObjectFutexReleased).as("given back at once").containsOnlyOnce(true);
        assertThat(lock.answered()).as("T waits for the futex from the pager").isFalse();
        assertThat(sent).extracting(KernelToPager::hasMemoryObjectLockFutex).as("T asks for it again").contains(true);
        assertThat(k.unlock(o, k.base + 32).error().errno()).isEqualTo(Errno.EPERM);
    }

    /**
     * A third kernel's write after a wait began elsewhere, to a page that left its holder while
     * nobody waited (the holder cannot tell it from a write before the wait): a TID of no thread
     * takes effect. The futex goes back to the pager at once (the waiter elsewhere then meets that
     * TID: ESRCH, docs/architecture.md), and the old owner here holds it no more (EPERM). Linux
     * would have refused that write's later lockers EINVAL and kept the waiter blocked.
     */
    @Test
    void aThirdKernelsWriteAfterAWaitBeganTakesEffect() {
        MachThread o = k.thread();
        k.acquireFromPager(o, k.base + 32);
        k.lockRequest(0, ReturnPolicy.RETURN_DIRTY, true, VmProt.VM_PROT_NONE, true); // left unwaited
        k.env.drain();
        k.relinquish(32, 90); // kernel B waits
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).isZero();
        supplyNewer(page(32, 0x3fff0001), 5); // kernel C wrote a dead TID since
        List<KernelToPager> sent = k.env.drain();
        assertThat(sent).extracting(KernelToPager::hasMemoryObjectFutexReleased).containsOnlyOnce(true);
        assertThat(FutexWord.isAbsent(k.futex(k.base + 32).state())).isTrue();
        assertThat(o.effectivePriority).isEqualTo(o.basePriority);
        assertThat(k.unlock(o, k.base + 32).error().errno()).isEqualTo(Errno.EPERM);
    }

    /**
     * The held word stays when the wait elsewhere began before the page left: a write over it then
     * is one that should have been refused (it would have been EINVAL on a kernel that knew).
     */
    @Test
    void aHeldWordWrittenElsewhereAfterAWaitBeganKeepsTheOwner() {
        MachThread o = k.thread();
        k.acquireFromPager(o, k.base + 32);
        k.relinquish(32, 90); // a kernel waits while the page is here
        k.env.drain();
        k.lockRequest(0, ReturnPolicy.RETURN_DIRTY, true, VmProt.VM_PROT_NONE, true);
        k.env.drain();
        Answer<Void> unlock = k.unlock(o, k.base + 32);
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).isZero();
        supplyNewer(page(32, 0), 5);
        unlock.value(); // ok: still the owner's
    }

    /** memory_object_data_supply of page 0 with contents another kernel wrote (version {@code version}). */
    private void supplyNewer(byte[] data, long version) {
        k.core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectDataSupply(io.machxp.proto.xp.MemoryObjectDataSupply.newBuilder()
                .setObjectId(CoreFixture.OBJECT_ID).setOffset(0).setData(ByteString.copyFrom(data)).setVersion(version))
                .build());
    }

    /** Compare-and-swap and fetch-add on 32- and 64-bit words, little-endian. */
    @Test
    void atomicsOnWords() {
        k.write(k.base + 8, new byte[] {1}).answered();
        k.zeroFill(0);
        Answer<CasResult> miss = new Answer<>();
        k.core.vmCompareAndSwap(k.task.id, k.base + 8, 4, 2, 5, miss);
        assertThat(miss.value()).isEqualTo(new CasResult(false, 1));
        Answer<CasResult> hit = new Answer<>();
        k.core.vmCompareAndSwap(k.task.id, k.base + 8, 4, 1, 0xffffffffL, hit);
        assertThat(hit.value()).isEqualTo(new CasResult(true, 1));
        Answer<Long> add = new Answer<>();
        k.core.vmFetchAdd(k.task.id, k.base + 8, 4, 1, add);
        assertThat(add.value()).isEqualTo(0xffffffffL);
        assertThat(intAt(k.read(k.base + 8, 4).value(), 0)).as("wraps at 32 bits").isZero();
        Answer<Long> add64 = new Answer<>();
        k.core.vmFetchAdd(k.task.id, k.base + 16, 8, -1, add64);
        assertThat(add64.value()).isZero();
        assertThat(ByteBuffer.wrap(k.read(k.base + 16, 8).value()).order(ByteOrder.LITTLE_ENDIAN).getLong())
                .isEqualTo(-1L);
    }

    /**
     * A grant that arrives while the page is away waits for the page; a lock that queued for the
     * page before it waits in line behind the grant's waiter instead of faulting again.
     */
    @Test
    void aGrantWaitingForItsPageServesWaitersInOrder() {
        MachThread t2 = k.thread();
        MachThread t3 = k.thread();
        Answer<Void> write = k.write(k.base + 64, le(5));
        k.env.drain();
        k.zeroFill(0);
        assertThat(write.answered()).isTrue();
        Answer<AcquirePath> first = k.lock(t2, k.base);
        assertThat(k.single().hasMemoryObjectLockFutex()).as("the futex is asked for, its page is here").isTrue();
        k.lockRequest(0, ReturnPolicy.RETURN_DIRTY, true, VmProt.VM_PROT_NONE, true);
        assertThat(k.env.drain()).extracting(KernelToPager::getRoutineCase)
                .containsExactly(MEMORY_OBJECT_DATA_RETURN, MEMORY_OBJECT_LOCK_COMPLETED);
        Answer<AcquirePath> second = k.lock(t3, k.base);
        assertThat(k.env.sent).as("the futex is asked for once").isEmpty();
        k.grant(0);
        assertThat(k.single().hasMemoryObjectDataRequest()).as("the page was flushed meanwhile").isTrue();
        assertThat(first.answered()).as("the grant waits for the page").isFalse();
        k.supply(0, page(64, 5));
        assertThat(first.value()).isEqualTo(AcquirePath.PAGER_GRANT);
        assertThat(second.answered()).isFalse();
        k.unlock(t2, k.base).value();
        assertThat(second.value()).isEqualTo(AcquirePath.LOCAL_HANDOFF);
        assertThat(intAt(k.read(k.base + 64, 4).value(), 0)).isEqualTo(5);
        assertThat(k.env.sent).isEmpty();
    }

    /** A release carries the pages dirtied under its futex, not the page of another futex held here. */
    @Test
    void piggybackLeavesThePagesOfOtherHeldFutexes() {
        CoreFixture p = new CoreFixture(true, true, 0);
        MachThread t1 = p.thread();
        MachThread t2 = p.thread();
        for (long page : new long[] {PAGE, 2 * PAGE}) {
            Answer<AcquirePath> lock = p.lock(page == PAGE ? t1 : t2, p.base + page);
            p.env.drain();
            p.core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectFutexGranted(MemoryObjectFutexGranted.newBuilder()
                    .setObjectId(CoreFixture.OBJECT_ID).setOffset(page).addPages(PageData.newBuilder()
                            .setOffset(page).setData(ByteString.copyFrom(new byte[PAGE])))).build());
            assertThat(lock.value()).isEqualTo(AcquirePath.PAGER_GRANT);
        }
        p.write(p.base + PAGE + 8, le(1)).value();
        p.write(p.base + 2 * PAGE + 8, le(2)).value();
        p.relinquish(PAGE);
        p.unlock(t1, p.base + PAGE).value();
        var released = p.single().getMemoryObjectFutexReleased();
        assertThat(released.getPagesList()).extracting(PageData::getOffset).containsExactly((long) PAGE);
        p.write(p.base + 2 * PAGE + 8, le(3)).value();
        assertThat(p.env.sent).as("t2's page stayed, writable").isEmpty();
    }
}
