package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.FutexHolderMap;
import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedFutex;
import io.machxp.proto.xp.ReclaimedObject;
import org.junit.jupiter.api.Test;

/**
 * After a pager restart, kernels that reclaim what they held are published as a fresh session's
 * would be ({@link FutexHolderMap}): their object ids name their own requests, and their
 * reclaimed futexes are named to them by the ids they reclaimed them under, so a reclaimed
 * kernel's lock_futex hints the holder as any other's does.
 */
class ReclaimPublishesHoldersTest {
    private static final long LEASE = 1_000_000_000L;
    private static final int B_OBJ = 9;
    private final MemoryPageStore disk = new MemoryPageStore();

    @Test
    void aReclaimedSessionsObjectIdsArePublished() {
        XpKernels before = new XpKernels(disk, new PagerOptions(LEASE, 3));
        long a = before.kernel(1, "A", FutexHolderMap.FEATURE);
        long b = before.kernel(2, "B", FutexHolderMap.FEATURE);
        long tokenA = grant(before, a, 0);
        long tokenB = grant(before, b, 64);

        XpKernels after = new XpKernels(disk, new PagerOptions(LEASE, 4).withGrace(LEASE));
        FutexHolderMap map = new FutexHolderMap();
        after.pager.publishHolders(map);
        reclaim(after, 11, "A", 1, XpKernels.OBJ, 0, tokenA);
        reclaim(after, 12, "B", 2, B_OBJ, 64, tokenB);
        assertThat(after.take(11).get(0).hasPagerWelcome()).isTrue();
        assertThat(after.take(12).get(0).hasPagerWelcome()).isTrue();
        assertThat(map.heldCount()).isEqualTo(2);

        FutexHolderMap.Holder ofA = map.hintFor(12, B_OBJ, 0);
        assertThat(ofA).as("B's request under its reclaimed id names A's futex").isNotNull();
        assertThat(ofA.session().streamId()).isEqualTo(11);
        assertThat(ofA.objectId()).as("in A's numbering").isEqualTo(XpKernels.OBJ);
        assertThat(ofA.token()).isEqualTo(tokenA);
        FutexHolderMap.Holder ofB = map.hintFor(11, XpKernels.OBJ, 64);
        assertThat(ofB).isNotNull();
        assertThat(ofB.objectId()).as("in B's numbering").isEqualTo(B_OBJ);
        assertThat(ofB.token()).isEqualTo(tokenB);
    }

    private static long grant(XpKernels x, long session, long offset) {
        x.lockFutex(session, offset);
        return x.take(session).stream().filter(PagerToKernel::hasMemoryObjectFutexGranted).findFirst().orElseThrow()
                .getMemoryObjectFutexGranted().getFencingToken();
    }

    private static void reclaim(XpKernels x, long session, String name, int kernelId, int objectId, long offset,
            long token) {
        x.pager.sessionOpened(session);
        x.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(1).addFeatures(FutexHolderMap.FEATURE).setReclaim(Reclaim.newBuilder()
                        .setKernelId(kernelId).addObjects(ReclaimedObject.newBuilder().setObjectId(objectId)
                                .setName("obj").setPageSize(XpKernels.PAGE).addFutexes(ReclaimedFutex.newBuilder()
                                        .setOffset(offset).setFencingToken(token))))));
    }
}
