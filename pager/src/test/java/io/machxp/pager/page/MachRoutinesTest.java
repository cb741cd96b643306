package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.OBJ;
import static io.machxp.pager.page.XpKernels.PAGE;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.MemoryObjectLockCompleted;
import io.machxp.proto.xp.MemoryObjectSupplyCompleted;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.VmProt;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The pager's side of the rest of Mach's memory_object interface (XP spec 6.4, 6.10, 6.12):
 * lock_requests merged into ranges for a kernel with lock_ranges, one lock_completed for a range,
 * precious supplies only to a kernel with precious, and supply_completed.
 */
class MachRoutinesTest {
    private final XpKernels k = new XpKernels(new MemoryPageStore());

    private void requestRange(long s, long offset, int pages, VmProt access) {
        k.xp(s, KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                .setObjectId(OBJ).setOffset(offset).setLength((long) pages * PAGE).setDesiredAccess(access)));
    }

    @Test
    void theFlushesOfARangeGoAsOneLockRequestToAKernelWithLockRanges() {
        long a = k.kernel(1, "A", "lock_ranges");
        long b = k.kernel(2, "B");
        requestRange(a, 0, 3, VmProt.VM_PROT_READ_WRITE);
        assertThat(k.take(a)).hasSize(3);
        requestRange(b, 0, 3, VmProt.VM_PROT_READ_WRITE);
        var flush = k.one(a).getMemoryObjectLockRequest();
        assertThat(flush.getOffset()).isZero();
        assertThat(flush.getLength()).isEqualTo(3L * PAGE);
        assertThat(flush.getShouldFlush() && flush.getReply()).isTrue();
        k.nothingTo(b);
        k.xp(a, KernelToPager.newBuilder().setMemoryObjectLockCompleted(MemoryObjectLockCompleted.newBuilder()
                .setObjectId(OBJ).setOffset(0).setLength(3L * PAGE)));
        assertThat(k.take(b)).hasSize(3);
        assertThat(k.pager.pageWriter("obj", 2L * PAGE)).isEqualTo("B");
    }

    @Test
    void aKernelWithoutLockRangesGetsOnePagePerLockRequest() {
        long a = k.kernel(1, "A");
        long b = k.kernel(2, "B", "lock_ranges");
        requestRange(a, 0, 3, VmProt.VM_PROT_READ_WRITE);
        k.take(a);
        requestRange(b, 0, 3, VmProt.VM_PROT_READ_WRITE);
        List<PagerToKernel> flushes = k.take(a);
        assertThat(flushes).hasSize(3)
                .allSatisfy(m -> assertThat(m.getMemoryObjectLockRequest().getLength()).isEqualTo(PAGE));
    }

    @Test
    void preciousPagesGoOnlyToKernelsThatNamePrecious() {
        k.pager.supplyPrecious(true);
        long a = k.kernel(1, "A", "precious");
        long b = k.kernel(2, "B");
        k.read(a, 0);
        var supply = k.one(a).getMemoryObjectDataSupply();
        assertThat(supply.getPrecious() && supply.getReply()).isTrue();
        assertThat(supply.getData().size()).as("a precious page never written: zeros").isEqualTo(PAGE);
        k.read(b, PAGE);
        PagerToKernel toB = k.one(b);
        assertThat(toB.hasMemoryObjectDataUnavailable()).isTrue();
        long refusedBefore = k.stats.refused();
        k.xp(a, KernelToPager.newBuilder().setMemoryObjectSupplyCompleted(MemoryObjectSupplyCompleted.newBuilder()
                .setObjectId(OBJ).setOffset(0).setLength(PAGE)));
        assertThat(k.stats.refused()).as("an answered supply is taken").isEqualTo(refusedBefore);
        k.xp(a, KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                .setObjectId(OBJ).setOffset(0).setData(supply.getData())));
        assertThat(k.pager.pageReaders("obj", 0)).as("the precious page came back with its data").isEmpty();
        k.write(b, 0);
        assertThat(k.one(b).hasMemoryObjectDataUnavailable()).as("no flush to A: it gave the page back").isTrue();
        k.nothingTo(a);
    }
}
