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
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedObject;
import io.machxp.proto.xp.ReclaimedPage;
import io.machxp.proto.xp.VmProt;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Version 0 (unversioned, xp-spec 7.2) in a reclaim (9.4): a kernel that does not track versions
 * keeps a page it held writable (it was its only writer: nothing newer can exist), and data it gave
 * back that the pager cannot judge is not silently dropped: the kernel is told (its session ends
 * with a sentence). Found by the XP review (finding 4): both were dropped with a log line only.
 */
class ReclaimUnversionedTest {
    private static final long LEASE = 1_000_000_000L;
    private final MemoryPageStore store = new MemoryPageStore();

    /** Kernel A wrote page 0 and returned 0x11s (stored as version 1), then took it writable again. */
    private void beforeTheRestart() {
        XpKernels before = new XpKernels(store, LEASE);
        long a = before.kernel(1, "A");
        before.write(a, 0);
        before.take(a);
        before.returnDirty(a, 0, page(0x11), false);
        before.write(a, 0);
        before.take(a);
        assertThat(store.read("obj", 0)).isEqualTo(page(0x11));
    }

    /** The restarted pager, A reclaiming page 0 with version 0. */
    private XpKernels reclaim(VmProt access, byte[] data) {
        XpKernels after = new XpKernels(store, new PagerOptions(LEASE, 4).withGrace(LEASE));
        after.pager.sessionOpened(1);
        ReclaimedPage.Builder p = ReclaimedPage.newBuilder().setOffset(0).setAccess(access).setVersion(0);
        if (data != null) {
            p.setData(ByteString.copyFrom(data));
        }
        after.xp(1, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("A")
                .setProtocolVersion(1).setReclaim(Reclaim.newBuilder().setKernelId(1).addObjects(
                        ReclaimedObject.newBuilder().setObjectId(XpKernels.OBJ).setName("obj").setPageSize(PAGE)
                                .addPages(p)))));
        return after;
    }

    private static void graceEnds(XpKernels after) {
        for (int i = 0; i < 4; i++) { // A keeping its lease
            after.advance(LEASE / 4);
            after.keepalive(1, 100 + i);
            after.take(1);
        }
    }

    @Test
    void aPageHeldWritableStaysTheKernelsWithItsUnversionedData() {
        beforeTheRestart();
        XpKernels after = reclaim(VmProt.VM_PROT_READ_WRITE, page(0x22));
        List<PagerToKernel> got = after.take(1);
        assertThat(got).noneMatch(PagerToKernel::hasMemoryObjectLockRequest); // not told to drop it
        assertThat(after.ended).isEmpty();
        assertThat(store.read("obj", 0)).isEqualTo(page(0x22));
        graceEnds(after);
        long b = after.kernel(2, "B");
        after.read(b, 0);
        assertThat(after.take(1)).anyMatch(PagerToKernel::hasMemoryObjectLockRequest); // A, the writer, is asked
        after.lockCompleted(1, 0);
        assertReadCopy(after.one(b), 0, page(0x22));
    }

    @Test
    void aPageHeldWritableWithoutDataIsNotRefusedAsOlder() {
        beforeTheRestart();
        XpKernels after = reclaim(VmProt.VM_PROT_READ_WRITE, null);
        assertThat(after.take(1)).noneMatch(PagerToKernel::hasMemoryObjectLockRequest);
        assertThat(after.pager.pageWriter("obj", 0)).isEqualTo("A");
    }

    @Test
    void unversionedDataGivenBackThatCannotBeJudgedEndsTheSessionWithASentence() {
        beforeTheRestart();
        XpKernels after = reclaim(VmProt.VM_PROT_NONE, page(0x33));
        assertThat(after.ended.get(1L)).startsWith("EINVAL").contains("without a version (0)")
                .contains("not taken");
        assertThat(store.read("obj", 0)).as("the store's page stands").isEqualTo(page(0x11));
    }
}
