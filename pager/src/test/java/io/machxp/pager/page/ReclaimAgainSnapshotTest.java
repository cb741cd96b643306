package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.snapshot.PagerSnapshot;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedObject;
import io.machxp.proto.xp.ReclaimedPage;
import io.machxp.proto.xp.VmProt;
import org.junit.jupiter.api.Test;

/**
 * Review F6 of reclaim-retry: what decides a reclaim again (xp-spec 9.4, Again) is in a core's
 * snapshot, so that a core restored from it judges the reclaim again as the core it was taken of.
 * Whether the name's session was welcomed by a reclaim of this grace period is derived (in grace
 * every welcomed session was), and the boot_nonce and attempt of that reclaim are in SessionImage.
 * Before, none of the three was kept: the restored core refused the kernel's newer attempt with
 * EEXIST ("restart the kernel") where the core it was taken of welcomed it.
 */
class ReclaimAgainSnapshotTest {
    private static final long LEASE = 1_000_000_000L;
    private static final long BOOT = 0x5eed_0002L;
    private final XpKernels x = kernels();

    private static XpKernels kernels() {
        return new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, 4).withGrace(LEASE));
    }

    private static void reclaim(XpKernels k, long session, long attempt) {
        k.pager.sessionOpened(session);
        k.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("A")
                .setProtocolVersion(1).setReclaim(Reclaim.newBuilder().setKernelId(5).setBootNonce(BOOT)
                        .setAttempt(attempt).addObjects(ReclaimedObject.newBuilder().setObjectId(XpKernels.OBJ)
                                .setName("obj").setPageSize(XpKernels.PAGE).addPages(ReclaimedPage.newBuilder()
                                        .setOffset(0).setAccess(VmProt.VM_PROT_READ_WRITE).setVersion(0))))));
    }

    /** A core given {@link #x}'s snapshot, read back through bytes. */
    private XpKernels restored() throws Exception {
        PagerSnapshot snapshot = x.pager.snapshot();
        XpKernels r = kernels();
        r.pager.restore(PagerSnapshot.parseFrom(snapshot.toByteArray()));
        assertThat(r.pager.snapshot()).as("read back, written again").isEqualTo(snapshot);
        assertThat(r.pager.inGrace()).isTrue();
        return r;
    }

    @Test
    void aRestoredCoreTakesTheNewerAttemptAsTheCoreItWasTakenOf() throws Exception {
        reclaim(x, 1, 2);
        assertThat(x.one(1).getPagerWelcome().getKernelId()).isEqualTo(5);
        x.pager.sessionClosed(1); // the welcome lost with the stream

        XpKernels r = restored();
        reclaim(r, 2, 3);
        assertThat(r.ended).as("the newer attempt is taken on the restored core").doesNotContainKey(2L);
        assertThat(r.one(2).getPagerWelcome().getKernelId()).isEqualTo(5);
    }

    @Test
    void aRestoredCoreRefusesALateEarlierAttemptAsTheCoreItWasTakenOf() throws Exception {
        reclaim(x, 1, 2);
        x.one(1);
        x.pager.sessionClosed(1);

        XpKernels r = restored();
        reclaim(r, 2, 1);
        assertThat(r.ended.get(2L)).as("the restored core knows which attempt it took").contains("ESTALE");
    }
}
