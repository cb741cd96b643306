package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.page;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.pager.core.PagerCore;
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
    private final FailingStore store = new FailingStore(0);
    private final XpKernels x = new XpKernels(store, new PagerCore.Options(LEASE, 4).withGrace(LEASE));

    private void reclaim(long session, ReclaimedPage page) {
        x.pager.sessionOpened(session);
        x.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("A")
                .setProtocolVersion(1).setReclaim(Reclaim.newBuilder().setKernelId(1).addObjects(ReclaimedObject
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
