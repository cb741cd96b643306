package io.machxp.kernel.core;

import static io.machxp.proto.shm.ShmLayout.INT;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.shm.SharedMemory;
import io.machxp.kernel.shm.SharedPages;
import io.machxp.kernel.shm.ShmTestFiles;
import io.machxp.kernel.vm.VmObject;
import io.machxp.kernel.vm.VmPage;
import io.machxp.proto.shm.ShmLayout;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectLockRequest;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The shared-memory slots kept for pages handed away, and the slots due, are given back also when
 * the object releases no page any more (review F1 of the shm-punch branch): a kept page forgotten
 * (its pager lost), every kept slot at a terminate of the object, and a due slot whose count
 * drained at the next lease renewal. Before, each waited for a later release of the same object,
 * which may never come, and kept its memory for the rest of the session. The page cache and the
 * core on a page file made as in production, in a directory of this test's own under
 * {@code /dev/shm}; skipped where holes cannot be punched there.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class PageCacheKeptSlotsTest {
    private static final int PAGE = ShmTestFiles.PAGE;
    private static final int PAGES = 16;

    private ShmTestFiles files;
    private SharedMemory memory;
    private SharedPages pages;
    private ByteBuffer file;
    private VmObject o;
    private PageCache cache;
    private final List<KernelToPager> sent = new ArrayList<>();

    @BeforeEach
    void directory() throws IOException {
        files = ShmTestFiles.make("kept-slots-core-test-").punchable();
        memory = files.memory();
        pages = files.pageFile(7, PAGES);
        file = ShmTestFiles.taskView(pages.file());
        o = new VmObject(7, "obj", PAGE);
        o.ready((long) PAGES * PAGE);
        o.sharedPages = pages;
        o.state = VmObject.State.READY;
        cache = cache(0);
    }

    /** A page cache of this test's object that evicts beyond {@code maxResident} pages (0: none). */
    private PageCache cache(int maxResident) {
        return new PageCache(new PageCache.Link() {
            @Override
            public void send(KernelToPager message) {
                sent.add(message);
            }

            @Override
            public KernelError pagerError(int objectId) {
                return null;
            }

            @Override
            public void violation(String what, int objectId, long offset) {
                throw new AssertionError(what);
            }

            @Override
            public void capKept(int room) {
                memory.capKept(room); // as the core's link does
            }
        }, new RetainedReturns(1, id -> 0), maxResident);
    }

    @AfterEach
    void removeDirectory() throws IOException {
        if (files != null) {
            files.close();
        }
    }

    /** Page {@code i} supplied writable and mapped to task processes (its slot allocated). */
    private VmPage mapped(int i) {
        assertThat(cache.onSupply(o, (long) i * PAGE, new byte[PAGE], VmProt.VM_PROT_NONE, 1, false)).isTrue();
        VmPage p = o.page((long) i * PAGE);
        cache.map(p, true);
        assertThat(pages.mapped(p)).as("page %d mapped to task processes", i).isTrue();
        return p;
    }

    /** Another kernel wants page {@code i}: flushed by a lock_request (handed away: its slot kept). */
    private void flushed(int i) {
        cache.onLockRequest(o, MemoryObjectLockRequest.newBuilder().setObjectId(7).setOffset((long) i * PAGE)
                .setLength(PAGE).setShouldFlush(true).setShouldReturn(ReturnPolicy.RETURN_DIRTY)
                .setLockValue(VmProt.VM_PROT_NONE).build());
        assertThat(o.page((long) i * PAGE).resident()).isFalse();
    }

    @Test
    void aKeptPageForgottenGivesItsSlotBack() {
        VmPage p = mapped(1);
        flushed(1);
        assertThat(pages.allocatedSlots()).as("kept for its return").isEqualTo(1);
        cache.forget(p); // its pager lost: it will not come back to this kernel through it
        assertThat(pages.allocatedSlots()).as("given back").isZero();
    }

    @Test
    void aTerminateGivesEveryKeptSlotBack() {
        for (int i = 0; i < 3; i++) {
            mapped(i);
        }
        flushed(0);
        flushed(1);
        assertThat(pages.allocatedSlots()).as("two kept, one resident").isEqualTo(3);
        cache.returnAll(o, false);
        assertThat(pages.allocatedSlots()).as("after the terminate's returns").isZero();
    }

    /**
     * Review S7 of shm-pool: an object the kernel forgets (retired with its pager's lost session,
     * mapped by no task) ends in the session's shared memory too (SharedMemory#objectTerminated):
     * its kept slots are given back. Before, they stayed kept, and its page file in the session's
     * records, for the rest of the session.
     */
    @Test
    void aForgottenObjectGivesItsKeptSlotsBack() {
        KernelCore core = new KernelCore("A", new FakeKernelEnv(), new KernelStats(), CoreOptions.DEFAULT);
        core.shareMemory(memory);
        mapped(1);
        flushed(1);
        assertThat(pages.allocatedSlots()).as("kept for its return").isEqualTo(1);
        core.objects.forget(o);
        assertThat(pages.allocatedSlots()).as("given back as the object ended").isZero();
    }

    @Test
    void aDueSlotWhoseCountDrainedIsPunchedAtTheNextLeaseRenewal() {
        FakeKernelEnv env = new FakeKernelEnv();
        KernelCore core = new KernelCore("A", env, new KernelStats(), CoreOptions.DEFAULT);
        core.shareMemory(memory);
        VmPage p = mapped(1);
        INT.getAndAdd(file, ShmLayout.pageCtl(1), 1); // an access under way in slot 1 at the page's eviction
        cache.evict(p);
        assertThat(pages.allocatedSlots()).as("due: an access counted").isEqualTo(1);
        INT.getAndAdd(file, ShmLayout.pageCtl(1), -1); // it ended; the object releases nothing more
        core.leaseGate().openUntil(System.nanoTime() + TimeUnit.SECONDS.toNanos(5)); // a keepalive answered
        assertThat(pages.allocatedSlots()).as("punched at the renewal").isZero();
    }

    /**
     * With --max-pages (4 here), the slots kept for pages handed away and the resident pages stay
     * within the bound together: a kept slot holds a page's memory as a resident page does. Before,
     * the pool kept up to 16 slots per object whatever the bound, so four pages handed away and
     * four others supplied held eight slots.
     */
    @Test
    void keptSlotsAndResidentPagesStayWithinMaxPages() {
        cache = cache(4);
        for (int i = 0; i < 4; i++) {
            mapped(i);
        }
        for (int i = 0; i < 4; i++) {
            flushed(i);
        }
        assertThat(pages.allocatedSlots()).as("four kept for their return, none resident").isEqualTo(4);
        for (int i = 4; i < 9; i++) {
            mapped(i); // the ninth evicts the coldest resident page
            assertThat(pages.allocatedSlots()).as("kept + resident after page %d", i).isLessThanOrEqualTo(4);
        }
        assertThat(cache.residentCount()).isEqualTo(4);
    }

    /** A kept page that comes back under --max-pages counts once (resident), and keeps its slot. */
    @Test
    void aKeptPageBackUnderMaxPagesKeepsItsSlot() {
        cache = cache(4);
        for (int i = 0; i < 4; i++) {
            mapped(i);
        }
        flushed(0);
        assertThat(pages.allocatedSlots()).as("one kept, three resident").isEqualTo(4);
        mapped(0);
        assertThat(pages.allocatedSlots()).as("four resident, page 0 in its kept slot").isEqualTo(4);
        assertThat(ShmLayout.pageSlot(file, 0)).as("page 0 in its own slot").isZero();
    }

    /**
     * Review S4 of shm-pool: pages of an object without a page file (refused for want of room, or
     * not shared) take room from the kept slots as any other resident page. Before, only a page
     * with a page file capped them: four pages of such an object supplied after four pages handed
     * away left resident 4 + kept 4 = 8 with --max-pages 4.
     */
    @Test
    void residentPagesOfAnObjectWithoutPageFileCapTheKeptSlotsToo() {
        cache = cache(4);
        for (int i = 0; i < 4; i++) {
            mapped(i);
        }
        for (int i = 0; i < 4; i++) {
            flushed(i);
        }
        assertThat(pages.allocatedSlots()).as("four kept for their return").isEqualTo(4);
        VmObject plain = new VmObject(8, "plain", PAGE);
        plain.ready((long) PAGES * PAGE);
        plain.state = VmObject.State.READY; // no page file
        for (int i = 0; i < 4; i++) {
            assertThat(cache.onSupply(plain, (long) i * PAGE, new byte[PAGE], VmProt.VM_PROT_NONE, 1, false)).isTrue();
            assertThat(cache.residentCount() + pages.allocatedSlots()).as("kept + resident after page %d", i)
                    .isLessThanOrEqualTo(4);
        }
        assertThat(cache.residentCount()).isEqualTo(4);
    }
}
