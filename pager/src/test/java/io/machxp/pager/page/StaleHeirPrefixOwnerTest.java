package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedFutex;
import io.machxp.proto.xp.ReclaimedObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Whose TID prefix a reclaimed stale heir holds after a pager restart (xp-spec 2.9, 8.4, 9.7; rv58
 * MED-1). Kernel B (primary elsewhere, stated prefix 5) shuts down while its unlock heir is stale:
 * its release names its own thread 0x500009, A is granted the futex carrying it, B comes back
 * under its name with prefix 5 and takes futex 64; the pager crashes and both reclaim, A first.
 * The stale heir's prefix is held from other kernels while the word may name the thread, but B's
 * reclaim is its own: before, A's reclaim held prefix 5 under nobody's name and B's reclaim was
 * refused EAGAIN, final for the grace period, with a sentence about a dead kernel that never died.
 */
class StaleHeirPrefixOwnerTest {
    private static final long LEASE = 1_000_000_000L;
    private static final String FEATURE = "stale_heir_tid";
    private static final int STALE = 5 << 20 | 9;
    private final MemoryPageStore disk = new MemoryPageStore();
    private long aToken;
    private long bToken;
    private int bId;

    private static List<PagerToKernel> hello(XpKernels x, long session, String name, int prefix) {
        x.pager.sessionOpened(session);
        x.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(1).addFeatures(FEATURE).setTidPrefix(prefix)));
        x.xp(session, KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder()
                .setObjectId(XpKernels.OBJ).setName("obj").setPageSize(XpKernels.PAGE)));
        return x.take(session);
    }

    private static MemoryObjectFutexGranted granted(List<PagerToKernel> got) {
        return got.stream().filter(PagerToKernel::hasMemoryObjectFutexGranted).findFirst().orElseThrow()
                .getMemoryObjectFutexGranted();
    }

    /** The run before the crash (pager epoch 3): A holds f0 carrying B's stale heir, B (back) holds f64. */
    private void beforeTheCrash() {
        XpKernels before = new XpKernels(disk, new PagerOptions(LEASE, 3));
        long a = before.kernel(1, "A", FEATURE);
        assertThat(XpKernels.welcomed(hello(before, 2, "B", 5))).isTrue();
        before.lockFutex(2, 0);
        before.take(2);
        before.lockFutex(a, 0);
        before.take(a);
        before.xp(2, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(XpKernels.OBJ).setOffset(0).setFencingToken(before.pager.fencingToken("obj", 0))
                .setStaleHeirTid(STALE)));
        before.terminate(2);
        before.pager.sessionClosed(2);
        MemoryObjectFutexGranted toA = granted(before.take(a));
        assertThat(toA.getStaleHeirTid()).isEqualTo(STALE);
        aToken = toA.getFencingToken();
        List<PagerToKernel> back = hello(before, 3, "B", 5);
        assertThat(XpKernels.welcomed(back)).as("before the restart B's own held prefix lets it in").isTrue();
        bId = back.get(0).getPagerWelcome().getKernelId();
        before.lockFutex(3, 64);
        bToken = granted(before.take(3)).getFencingToken();
    }

    private static void reclaimA(XpKernels x, long session, long token) {
        x.pager.sessionOpened(session);
        x.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("A")
                .setProtocolVersion(1).addFeatures(FEATURE).setReclaim(Reclaim.newBuilder().setKernelId(1)
                        .addObjects(ReclaimedObject.newBuilder().setObjectId(XpKernels.OBJ).setName("obj")
                                .setPageSize(XpKernels.PAGE).addFutexes(ReclaimedFutex.newBuilder().setOffset(0)
                                        .setFencingToken(token).setStaleHeirTid(STALE))))));
    }

    private static void reclaimB(XpKernels x, long session, int id, long token) {
        x.pager.sessionOpened(session);
        x.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("B")
                .setProtocolVersion(1).addFeatures(FEATURE).setTidPrefix(5).setReclaim(Reclaim.newBuilder()
                        .setKernelId(id).addObjects(ReclaimedObject.newBuilder().setObjectId(XpKernels.OBJ)
                                .setName("obj").setPageSize(XpKernels.PAGE).addFutexes(ReclaimedFutex.newBuilder()
                                        .setOffset(64).setFencingToken(token))))));
    }

    @Test
    void theHeirsOwnKernelReclaimsAfterAnotherReclaimNamedItsPrefix() {
        beforeTheCrash();
        XpKernels after = new XpKernels(disk, new PagerOptions(LEASE, 4).withGrace(LEASE));
        reclaimA(after, 11, aToken);
        assertThat(after.ended).doesNotContainKey(11L);
        reclaimB(after, 12, bId, bToken);
        assertThat(after.ended).as("B, alive with its prefix, reclaims what it holds").doesNotContainKey(12L);
        assertThat(after.finals).doesNotContain(12L);
        assertThat(after.take(12).get(0).hasPagerWelcome()).isTrue();
        assertThat(after.pager.holderOf("obj", 64)).isEqualTo("B");
        after.advanceHeard(LEASE + 1, LEASE / 4, 11, 12); // grace ends
        after.take(11);
        after.take(12);
        // the prefix is B's now: another kernel stating it is refused while B's session lasts
        assertThat(XpKernels.welcomed(after.helloWithPrefix(13, "C", 5))).isFalse();
        assertThat(after.ended.get(13L)).startsWith("EEXIST");
    }

    @Test
    void theHeirsOwnKernelReclaimedFirstOwnsTheHold() {
        beforeTheCrash();
        XpKernels after = new XpKernels(disk, new PagerOptions(LEASE, 4).withGrace(LEASE));
        reclaimB(after, 12, bId, bToken);
        reclaimA(after, 11, aToken);
        assertThat(after.ended).doesNotContainKeys(11L, 12L);
        after.advanceHeard(LEASE + 1, LEASE / 4, 11); // grace ends, B's lease with it: its futex goes on
        after.take(11);
        // while A's word may name B's old thread, prefix 5 is held under B's name: C is refused, B is not
        List<PagerToKernel> c = after.helloWithPrefix(13, "C", 5);
        assertThat(XpKernels.welcomed(c)).isFalse();
        assertThat(after.ended.get(13L)).startsWith("EAGAIN").contains("kernel 'B'")
                .contains("whose thread a futex carries as a stale unlock heir");
        assertThat(XpKernels.welcomed(after.helloWithPrefix(14, "B", 5))).as("B's own prefix").isTrue();
    }

    @Test
    void aFreshHelloOfThePrefixIsRefusedWithASentenceThatSaysWhy() {
        beforeTheCrash();
        XpKernels after = new XpKernels(disk, new PagerOptions(LEASE, 4).withGrace(LEASE));
        reclaimA(after, 11, aToken);
        after.advanceHeard(LEASE + 1, LEASE / 4, 11); // grace ends; B never reclaimed
        after.take(11);
        assertThat(XpKernels.welcomed(after.helloWithPrefix(13, "C", 5))).isFalse();
        assertThat(after.ended.get(13L)).startsWith("EAGAIN")
                .contains("a kernel's reclaim named a thread of that prefix as the stale unlock heir")
                .doesNotContain("declared dead");
        after.futexReleased(11, 0); // A rewrote the word: its release no longer names the heir
        assertThat(XpKernels.welcomed(after.helloWithPrefix(14, "C", 5))).as("prefix 5 free again").isTrue();
    }
}
