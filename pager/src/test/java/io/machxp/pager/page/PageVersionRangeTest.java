package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.PAGE;
import static io.machxp.pager.page.XpKernels.assertReadCopy;
import static io.machxp.pager.page.XpKernels.page;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedObject;
import io.machxp.proto.xp.ReclaimedPage;
import io.machxp.proto.xp.VmProt;
import org.junit.jupiter.api.Test;

/**
 * Page versions are uint64 on the wire and below 2^63 at the pager (docs/xp-spec.md 7.3): a
 * dirty page given back with a version of 2^63 or more, or more than 2^32 above the pager's copy,
 * is not taken, so one kernel's bad version cannot put a page out of reach of every later write.
 */
class PageVersionRangeTest {
    private final MemoryPageStore store = new MemoryPageStore();
    private final XpKernels k = new XpKernels(store);

    private void returnVersion(long s, long offset, byte[] data, long version, boolean kernelCopy) {
        k.xp(s, KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                .setObjectId(XpKernels.OBJ).setOffset(offset).setData(ByteString.copyFrom(data)).setDirty(true)
                .setKernelCopy(kernelCopy).setVersion(version)));
    }

    private long suppliedVersion(PagerToKernel m) {
        return m.hasMemoryObjectDataSupply() ? m.getMemoryObjectDataSupply().getVersion()
                : m.getMemoryObjectDataUnavailable().getVersion();
    }

    /** The reviewer's p28: version 2^63-1 from A, then B's write at supplied + 1. */
    @Test
    void aVersionFarAboveTheCopyIsNotTakenAndTheNextWriterStillIs() {
        long a = k.kernel(1, "A");
        long b = k.kernel(2, "B");
        long c = k.kernel(3, "C");
        k.write(a, 0);
        assertThat(suppliedVersion(k.one(a))).isZero();
        returnVersion(a, 0, page(0x4d), Long.MAX_VALUE, false);
        assertThat(k.stats.refused()).isEqualTo(1);
        assertThat(store.version("obj", 0)).isZero();
        k.write(b, 0);
        long supplied = suppliedVersion(k.one(b));
        assertThat(supplied).isZero();
        returnVersion(b, 0, page(0x42), supplied + 1, false);
        k.read(c, 0);
        PagerToKernel m = k.one(c);
        assertReadCopy(m, 0, page(0x42));
        assertThat(m.getMemoryObjectDataSupply().getVersion()).isEqualTo(1);
    }

    /**
     * Up to 2^32 above the copy is taken (a kernel whose returns a restart lost is ahead by them);
     * one more is not; 2^63 and 2^64-1, read as uint64, never are.
     */
    @Test
    void aVersionUpToTwoToThe32AboveTheCopyIsTakenAndNoneAtOrAboveTwoToThe63() {
        long a = k.kernel(1, "A");
        k.write(a, 0);
        k.take(a);
        returnVersion(a, 0, page(1), 3, true);                     // two returns lost: taken
        assertThat(store.version("obj", 0)).isEqualTo(3);
        returnVersion(a, 0, page(2), 3 + (1L << 32), true);        // the most ahead: taken
        assertThat(store.version("obj", 0)).isEqualTo(3 + (1L << 32));
        long copy = 3 + (1L << 32);
        returnVersion(a, 0, page(3), copy + (1L << 32) + 1, true); // one more than the bound
        returnVersion(a, 0, page(4), Long.MIN_VALUE, true);        // 2^63
        returnVersion(a, 0, page(5), -1L, true);                   // 2^64-1
        assertThat(k.stats.refused()).isEqualTo(3);
        assertThat(store.version("obj", 0)).isEqualTo(copy);
        assertThat(store.read("obj", 0)).isEqualTo(page(2));
        assertThat(k.pager.pageWriter("obj", 0)).as("refused returns with a kernel copy change nothing")
                .isEqualTo("A");
    }

    /** After a restart: a writable copy reclaimed far above the store's version is refused and dropped. */
    @Test
    void aReclaimedPageFarAboveTheStoreIsRefused() {
        long lease = 1_000_000_000L;
        XpKernels x = new XpKernels(store, new PagerOptions(lease, 4).withGrace(lease));
        store.write("obj", 0, page(1), 3);
        x.pager.sessionOpened(1);
        x.xp(1, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("A")
                .setProtocolVersion(1).setReclaim(Reclaim.newBuilder().setKernelId(1).addObjects(
                        ReclaimedObject.newBuilder().setObjectId(XpKernels.OBJ).setName("obj").setPageSize(PAGE)
                                .addPages(ReclaimedPage.newBuilder().setOffset(0).setAccess(VmProt.VM_PROT_READ_WRITE)
                                        .setVersion(Long.MAX_VALUE))
                                .addPages(ReclaimedPage.newBuilder().setOffset(PAGE).setAccess(VmProt.VM_PROT_NONE)
                                        .setVersion(-1L).setData(ByteString.copyFrom(page(9))))
                                .addPages(ReclaimedPage.newBuilder().setOffset(2L * PAGE)
                                        .setAccess(VmProt.VM_PROT_READ_WRITE).setVersion(2))))));
        assertThat(x.take(1).stream().filter(PagerToKernel::hasMemoryObjectLockRequest).count())
                .as("told to drop the first page").isEqualTo(1);
        assertThat(x.pager.pageWriter("obj", 0)).isNull();
        assertThat(store.version("obj", 0)).isEqualTo(3);
        assertThat(store.version("obj", PAGE)).as("2^64-1 is not a version").isZero();
        assertThat(x.pager.pageWriter("obj", 2L * PAGE)).as("a version two returns ahead is taken").isEqualTo("A");
    }

    /**
     * Review R4: when the store cannot read the page's version the data is kept unjudged and the
     * store judges it later; the range holds there too. Before, 2^63-1 was written and froze the
     * page (B's later write at supplied + 1 was refused as stale).
     */
    @Test
    void aVersionFarAboveTheCopyIsNotTakenWhenTheStoreJudgesItLater() {
        FailingStore failing = new FailingStore(0);
        XpKernels x = new XpKernels(failing);
        long a = x.kernel(1, "A");
        long b = x.kernel(2, "B");
        x.write(a, 0);
        x.take(a);
        failing.failVersions = 1;
        x.xp(a, KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                .setObjectId(XpKernels.OBJ).setOffset(0).setData(ByteString.copyFrom(page(0x4d))).setDirty(true)
                .setVersion(Long.MAX_VALUE)));
        assertThat(failing.memory.version("obj", 0)).as("2^63-1 is not written").isZero();
        x.write(b, 0);
        long supplied = suppliedVersion(x.one(b));
        x.xp(b, KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                .setObjectId(XpKernels.OBJ).setOffset(0).setData(ByteString.copyFrom(page(0x42))).setDirty(true)
                .setVersion(supplied + 1)));
        assertThat(failing.memory.version("obj", 0)).isEqualTo(supplied + 1);
        assertThat(failing.memory.read("obj", 0)).isEqualTo(page(0x42));
    }

    /**
     * Review R4: data kept unjudged stands for the copy; a return far above it is not taken, so a
     * later conforming return (kept + 1) still is.
     */
    @Test
    void aVersionFarAboveTheDataKeptUnjudgedIsNotTaken() {
        FailingStore failing = new FailingStore(0);
        XpKernels x = new XpKernels(failing);
        long a = x.kernel(1, "A");
        x.write(a, 0);
        x.take(a);
        x.deferStoreEffects();
        failing.failVersions = 1; // the first return; the next ones find data kept unjudged
        returnVersionTo(x, a, page(1), 1);
        returnVersionTo(x, a, page(2), 1 + (1L << 32) + 1);
        returnVersionTo(x, a, page(3), 2);
        x.runStore();
        assertThat(failing.memory.version("obj", 0)).isEqualTo(2);
        assertThat(failing.memory.read("obj", 0)).isEqualTo(page(3));
    }

    private static void returnVersionTo(XpKernels x, long s, byte[] data, long version) {
        x.xp(s, KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                .setObjectId(XpKernels.OBJ).setOffset(0).setData(ByteString.copyFrom(data)).setDirty(true)
                .setKernelCopy(true).setVersion(version)));
    }
}
