package io.machxp.kernel.core;

import static io.machxp.kernel.core.CoreFixture.OBJECT_ID;
import static io.machxp.kernel.core.CoreFixture.PAGE;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.task.MachThread;
import io.machxp.kernel.task.Tids;
import io.machxp.kernel.vm.VmMapping;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataSupply;
import io.machxp.proto.xp.MemoryObjectDestroy;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.MemoryObjectFutexProbe;
import io.machxp.proto.xp.MemoryObjectDataUnavailable;
import io.machxp.proto.xp.MemoryObjectLockRequest;
import io.machxp.proto.xp.MemoryObjectReady;
import io.machxp.proto.xp.PageData;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import org.junit.jupiter.api.Test;

/**
 * Messages from a pager that breaks the protocol are refused (logged, ignored) and leave the
 * kernel working: each case here is an input KernelCoreFuzzTest found that did otherwise.
 */
class KernelCoreBadPagerTest {
    private final CoreFixture k = new CoreFixture(true);

    /**
     * memory_object_destroy answers memory_object_init; for an object already ready it used to
     * make the kernel forget the object while tasks mapped it, so a read waiting for a page was
     * never answered, not even when the pager was lost.
     */
    @Test
    void aDestroyOfAReadyObjectIsRefused() {
        Answer<byte[]> read = k.read(k.base + PAGE, 4);
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).isEqualTo(PAGE);
        k.core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectDestroy(MemoryObjectDestroy.newBuilder()
                .setObjectId(OBJECT_ID).setReason("made up")).build());
        assertThat(read.answered()).isFalse();
        k.zeroFill(PAGE);
        assertThat(read.value()).containsExactly(0, 0, 0, 0);

        Answer<MachTask> other = new Answer<>();
        k.core.taskCreate("other", other);
        Answer<VmMapping> map = new Answer<>();
        k.core.vmMap(other.value().id, "obj", map);
        assertThat(map.value().size()).as("still known, ready, mapped at once").isEqualTo(4 * PAGE);
        assertThat(k.env.sent).isEmpty();
    }

    /**
     * A pager_welcome with a kernel id TIDs cannot carry (the TID of the first thread_create threw
     * out of the core) or a page size that is not a power of two from 64 bytes to 1 MiB (a page
     * size of 0 threw at memory_object_ready) is refused: the kernel stays without a session until
     * a good one comes.
     */
    @Test
    void aWelcomeWithAKernelIdOrPageSizeItCannotUseIsRefused() {
        FakeKernelEnv env = new FakeKernelEnv();
        KernelCore core = new KernelCore("B", env, new KernelStats(), CoreOptions.DEFAULT);
        core.xp().start();
        int[][] bad = {{0, PAGE}, {2000, PAGE}, {-1, PAGE}, {1, 0}, {1, 1000}, {1, 32}, {1, 1 << 30}};
        for (int[] w : bad) {
            core.xp().onXp(PagerToKernel.newBuilder().setPagerWelcome(PagerWelcome.newBuilder().setKernelId(w[0])
                    .setPageSize(w[1])).build());
            assertThat(core.kernelId()).as("welcome %s", java.util.Arrays.toString(w)).isZero();
            Answer<MachTask> t = new Answer<>();
            core.taskCreate("t", t);
            assertThat(t.error().errno()).isEqualTo(Errno.EIO);
        }
        core.xp().onXp(PagerToKernel.newBuilder().setPagerWelcome(PagerWelcome.newBuilder().setKernelId(3)
                .setPageSize(PAGE)).build());
        Answer<MachTask> t = new Answer<>();
        core.taskCreate("t", t);
        Answer<MachThread> thread = new Answer<>();
        core.threadCreate(t.value().id, thread);
        assertThat(Tids.kernelId(thread.value().tid)).isEqualTo(3);
    }

    /**
     * memory_object_ready with a size whose pages the kernel cannot index (2^44 bytes made a table
     * of 0 pages and every access threw), or of 0 or less, or not whole pages, fails the vm_map
     * waiting for it with EINVAL, as a destroy does; a later vm_map asks again and works.
     */
    @Test
    void aReadyWithASizeTheKernelCannotUseFailsTheMap() {
        for (long size : new long[] {1L << 44, -PAGE, 0, PAGE + 1}) {
            Answer<VmMapping> map = new Answer<>();
            k.core.vmMap(k.task.id, "other", map);
            int id = k.single().getMemoryObjectInit().getObjectId();
            k.core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectReady(MemoryObjectReady.newBuilder()
                    .setObjectId(id).setSize(size)).build());
            assertThat(map.error().errno()).as("ready with size %d", size).isEqualTo(Errno.EINVAL);
            assertThat(map.error().message()).contains("'other'").contains(Long.toString(size));
        }
        Answer<VmMapping> map = new Answer<>();
        k.core.vmMap(k.task.id, "other", map);
        int id = k.single().getMemoryObjectInit().getObjectId();
        k.core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectReady(MemoryObjectReady.newBuilder()
                .setObjectId(id).setSize(2 * PAGE)).build());
        assertThat(map.value().size()).isEqualTo(2 * PAGE);
        Answer<byte[]> read = k.read(map.value().start() + PAGE, 1);
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).isEqualTo(PAGE);
        k.core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectDataUnavailable(MemoryObjectDataUnavailable.newBuilder()
                .setObjectId(id).setOffset(PAGE).setLength(PAGE)).build());
        assertThat(read.value()).containsExactly(0);
    }

    /**
     * A lock_value (or should_return) outside the enum used to throw out of the core
     * (VmProt.UNRECOGNIZED has no number); now the message is refused, with no lock_completed.
     */
    @Test
    void aLockRequestWithAnAccessOfNoKnownValueIsRefused() {
        Answer<Void> write = k.write(k.base, new byte[] {1});
        assertThat(k.single().hasMemoryObjectDataRequest()).isTrue();
        k.zeroFill(0);
        write.value();
        for (MemoryObjectLockRequest.Builder bad : new MemoryObjectLockRequest.Builder[] {
            MemoryObjectLockRequest.newBuilder().setLockValueValue(7),
            MemoryObjectLockRequest.newBuilder().setShouldReturnValue(9),
        }) {
            k.core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectLockRequest(bad.setObjectId(OBJECT_ID).setOffset(0)
                    .setLength(PAGE).setShouldFlush(true).setReply(true)).build());
        }
        assertThat(k.env.sent).isEmpty();
        assertThat(k.read(k.base, 1).value()).as("the page stayed, writable").containsExactly(1);
        assertThat(k.write(k.base, new byte[] {2}).answered()).isTrue();
        assertThat(k.env.sent).isEmpty();
    }

    /**
     * A probe naming a thread whose lock still waits for its page (the futex is held here, its
     * word's page was taken away, so the lock faults it in before it looks at the word) used to
     * fail that wait as a deadlock and throw out of the core: the wait is not on a futex yet, so
     * the kernel sent no probe for it, and it is dropped. (Part II used to fault the page of every
     * futex in before it asked the pager for it; it asks first now, so the case is set up here.)
     */
    @Test
    void aProbeForAWaitStillFaultingItsPageInIsDropped() {
        CoreFixture part2 = new CoreFixture(false);
        var owner = part2.thread();
        var holder = part2.thread();
        part2.acquireFromPager(owner, part2.base);                  // owner's wait number 1
        part2.acquireFromPager(holder, part2.base + PAGE + 4);
        part2.lockRequest(PAGE, ReturnPolicy.RETURN_ALL, true, VmProt.VM_PROT_NONE, false); // taken for another kernel
        var returned = part2.single().getMemoryObjectDataReturn();
        assertThat(returned.getOffset()).isEqualTo(PAGE);

        Answer<AcquirePath> second = part2.lock(owner, part2.base + PAGE + 4); // number 2
        assertThat(part2.single().getMemoryObjectDataRequest().getOffset()).as("the word's page first").isEqualTo(PAGE);
        part2.core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectFutexProbe(MemoryObjectFutexProbe.newBuilder()
                .setObjectId(OBJECT_ID).setOffset(0).setInitiator(owner.tid).setWait(2)).build());
        assertThat(second.answered()).isFalse();

        part2.supply(PAGE, returned.getData().toByteArray());
        assertThat(second.answered()).as("it waits for the holder here").isFalse();
        part2.unlock(holder, part2.base + PAGE + 4).value();
        var released = part2.single().getMemoryObjectFutexReleased();
        assertThat(released.getRequestAgain()).as("Part II gives it back and asks again for the waiter").isTrue();
        part2.grant(PAGE + 4);
        assertThat(second.value()).isEqualTo(AcquirePath.PAGER_GRANT);
    }

    /**
     * A page carried by a grant at an offset past 2^63 (negative as a Java long, yet a multiple of
     * the page size) indexed the page table at -1 and threw; now that page is refused and the grant
     * is served as one without its page.
     */
    @Test
    void aPageGrantedAtAnOffsetPast2To63IsRefused() {
        var t = k.thread();
        Answer<AcquirePath> lock = k.lock(t, k.base);
        assertThat(k.single().hasMemoryObjectLockFutex()).isTrue();
        k.core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectFutexGranted(MemoryObjectFutexGranted.newBuilder()
                .setObjectId(OBJECT_ID).setOffset(0).addPages(PageData.newBuilder().setOffset(-PAGE)
                        .setData(ByteString.copyFrom(new byte[PAGE])))).build());
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).as("the grant waits for its page").isZero();
        k.zeroFill(0);
        assertThat(lock.value()).isEqualTo(AcquirePath.PAGER_GRANT);
    }

    /** A page supplied with a lock_value of no known value is refused; the fault waits for a good one. */
    @Test
    void aSupplyWithAnAccessOfNoKnownValueIsRefused() {
        Answer<byte[]> read = k.read(k.base, 1);
        assertThat(k.single().hasMemoryObjectDataRequest()).isTrue();
        byte[] page = new byte[PAGE];
        page[0] = 5;
        k.core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectDataSupply(MemoryObjectDataSupply.newBuilder()
                .setObjectId(OBJECT_ID).setOffset(0).setData(ByteString.copyFrom(page)).setLockValueValue(6)).build());
        assertThat(read.answered()).isFalse();
        k.supply(0, page);
        assertThat(read.value()).containsExactly(5);
        assertThat(k.sentRoutines()).doesNotContain(KernelToPager.RoutineCase.MEMORY_OBJECT_LOCK_COMPLETED);
    }
}
