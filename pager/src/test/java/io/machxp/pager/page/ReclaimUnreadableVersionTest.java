package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.page;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.pager.core.PagerOptions;
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
 * A kernel reclaims after a pager restart while the store cannot tell a page's version: what it
 * gives back is kept and judged once the store can be read, and a page it holds writable stays
 * its own. Before, both were refused: the data given back was thrown away and the kernel told to
 * drop its writable (perhaps dirty) copy.
 */
class ReclaimUnreadableVersionTest {
    private static final long LEASE = 1_000_000_000L;
    /** Past the first retry's wait (0.1 s), well within the lease. */
    private static final long RETRY = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(150);
    private final FailingStore store = new FailingStore(0);
    private final XpKernels x = new XpKernels(store, new PagerOptions(LEASE, 4).withGrace(LEASE));

    private void reclaim(long session, ReclaimedPage page) {
        reclaim(session, "A", page);
    }

    private void reclaim(long session, String kernel, ReclaimedPage page) {
        x.pager.sessionOpened(session);
        x.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(kernel)
                .setProtocolVersion(1).setReclaim(Reclaim.newBuilder().setKernelId((int) session).addObjects(ReclaimedObject
                        .newBuilder().setObjectId(XpKernels.OBJ).setName("obj").setPageSize(XpKernels.PAGE)
                        .addPages(page)))));
    }

    @Test
    void dataGivenBackIsKeptAndWrittenOnceItsVersionCanBeRead() {
        store.memory.write("obj", 0, page(1), 3);
        x.deferStoreEffects();
        store.failVersions = 1;
        reclaim(1, ReclaimedPage.newBuilder().setOffset(0).setAccess(VmProt.VM_PROT_NONE).setVersion(4)
                .setData(ByteString.copyFrom(page(9))).build()); // a return lost in the crash
        x.runStore();
        assertThat(store.read("obj", 0)).isEqualTo(page(9));
        assertThat(store.version("obj", 0)).isEqualTo(4);
    }

    @Test
    void olderDataGivenBackIsStillNotTakenOnceItsVersionCanBeRead() {
        store.memory.write("obj", 0, page(1), 3);
        x.deferStoreEffects();
        store.failVersions = 1;
        reclaim(1, ReclaimedPage.newBuilder().setOffset(0).setAccess(VmProt.VM_PROT_NONE).setVersion(2)
                .setData(ByteString.copyFrom(page(9))).build());
        x.runStore();
        assertThat(store.read("obj", 0)).isEqualTo(page(1));
        assertThat(store.version("obj", 0)).isEqualTo(3);
    }

    /**
     * Two kernels give back data for the page while its version cannot be read: the newer (B's
     * version 7) is kept, the older (A's version 6) refused as stale, and once the store can be
     * read version 7 is written and both keepalives answered. Before, A's version 6 replaced B's
     * version 7 in memory and was written: the failed entry (version 7) was never cleared nor
     * tried again, and the store held the older data.
     */
    @Test
    void olderDataGivenBackAfterNewerUnjudgedDataDoesNotReplaceIt() {
        x.deferStoreEffects();
        store.failVersions = 1_000_000;
        reclaim(2, "B", ReclaimedPage.newBuilder().setOffset(0).setAccess(VmProt.VM_PROT_NONE).setVersion(7)
                .setData(ByteString.copyFrom(page(7))).build());
        reclaim(1, "A", ReclaimedPage.newBuilder().setOffset(0).setAccess(VmProt.VM_PROT_NONE).setVersion(6)
                .setData(ByteString.copyFrom(page(6))).build());
        x.keepalive(2, 1);
        x.keepalive(1, 1);
        x.runStore();
        store.failVersions = 0;
        x.advance(RETRY);
        x.runStore();
        assertThat(store.version("obj", 0)).isEqualTo(7);
        assertThat(store.read("obj", 0)[0]).as("B's data, not A's").isEqualTo((byte) 7);
        assertThat(x.pager.unwrittenPages()).isZero();
        assertThat(x.take(2)).anyMatch(m -> m.hasPagerKeepalive() && m.getPagerKeepalive().getSequence() == 1);
        assertThat(x.take(1)).anyMatch(m -> m.hasPagerKeepalive() && m.getPagerKeepalive().getSequence() == 1);
    }

    /**
     * A writable copy reclaimed older than data kept unjudged for the page is refused as the
     * normal path refuses an older copy (the kernel is told to drop it): before, its kernel held
     * it writable, and its return would replace the newer data kept.
     */
    @Test
    void aWritableCopyOlderThanUnjudgedDataKeptIsRefused() {
        store.failVersions = 1_000_000;
        reclaim(2, "B", ReclaimedPage.newBuilder().setOffset(0).setAccess(VmProt.VM_PROT_NONE).setVersion(7)
                .setData(ByteString.copyFrom(page(7))).build());
        reclaim(1, "A", ReclaimedPage.newBuilder().setOffset(0).setAccess(VmProt.VM_PROT_READ_WRITE).setVersion(6)
                .build());
        assertThat(x.take(1)).anyMatch(m -> m.hasMemoryObjectLockRequest());
        assertThat(x.pager.pageWriter("obj", 0)).isNull();
    }

    @Test
    void aWritableCopyStaysItsKernels() {
        store.memory.write("obj", 0, page(1), 3);
        store.failVersions = 1;
        reclaim(1, ReclaimedPage.newBuilder().setOffset(0).setAccess(VmProt.VM_PROT_READ_WRITE).setVersion(3).build());
        List<PagerToKernel> a = x.take(1);
        assertThat(a).hasSize(1);
        assertThat(a.get(0).hasPagerWelcome()).isTrue(); // no lock_request telling it to drop the page
        assertThat(x.pager.pageWriter("obj", 0)).isEqualTo("A");
    }
}
