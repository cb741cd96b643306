package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedFutex;
import io.machxp.proto.xp.ReclaimedObject;
import org.junit.jupiter.api.Test;

/**
 * ReclaimedFutex.stale_heir_tid after a pager restart (xp-spec 8.4, 9.4; staleheir review MED-1):
 * a reclaim may name only the stale_heir_tid of the grant it holds the futex under, a thread's
 * TID, which the last pager validated when a release named it. The restarted pager cannot tell
 * which that was, but what is no thread's TID at all is refused before the welcome, EINVAL with a
 * sentence, as a reclaim of a futex the journal gives another kernel is. Before, any value was
 * kept on the record and passed as "the TID its grant carried" when the reclaimer's release
 * named it again: a TID of prefix 0 then pinned the record for good (the pager's own recording
 * never looks at it), one with OWNER_DIED or WAITERS bits went to the next grantees.
 */
class StaleHeirReclaimTest {
    private static final long LEASE = 1_000_000_000L;
    private static final String FEATURE = "stale_heir_tid";
    private final MemoryPageStore disk = new MemoryPageStore();

    /** Kernel "A" holds futex 0 of "obj" at a pager of epoch 3, which crashes; returns its token. */
    private long aHeldFutexZeroAtTheCrash() {
        XpKernels before = new XpKernels(disk, new PagerOptions(LEASE, 3));
        long a = before.kernel(1, "A", FEATURE);
        before.lockFutex(a, 0);
        return before.one(a).getMemoryObjectFutexGranted().getFencingToken();
    }

    private static void reclaim(XpKernels x, long session, long token, ReclaimedFutex.Builder f) {
        x.pager.sessionOpened(session);
        x.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("A")
                .setProtocolVersion(1).addFeatures(FEATURE).setReclaim(Reclaim.newBuilder().setKernelId(1)
                        .addObjects(ReclaimedObject.newBuilder().setObjectId(XpKernels.OBJ).setName("obj")
                                .setPageSize(XpKernels.PAGE).addFutexes(f.setOffset(0).setFencingToken(token))))));
    }

    @Test
    void aStaleHeirTidThatIsNoThreadsTidIsRefusedBeforeTheWelcome() {
        long token = aHeldFutexZeroAtTheCrash();
        int[] bad = {5, 0x40000000 | 2 << 20 | 5, 0x80000000 | 2 << 20 | 5, 0x3fffffff, 2 << 20};
        long session = 1;
        for (int tid : bad) {
            XpKernels after = new XpKernels(disk, new PagerOptions(LEASE, 4).withGrace(LEASE));
            reclaim(after, session, token, ReclaimedFutex.newBuilder().setStaleHeirTid(tid));
            assertThat(after.ended.get(session)).as("stale_heir_tid 0x%x", tid).startsWith("EINVAL")
                    .contains("with stale_heir_tid 0x" + Integer.toHexString(tid) + ", which is not a thread's TID")
                    .contains("a reclaim names 0 there or exactly the stale_heir_tid of the futex_granted");
            assertThat(after.take(session)).noneMatch(PagerToKernel::hasPagerWelcome);
            assertThat(after.pager.holderOf("obj", 0)).isNull();
            session++;
        }
    }

    @Test
    void underOwnerDiedTheFieldIsIgnoredAsInARelease() {
        long token = aHeldFutexZeroAtTheCrash();
        XpKernels after = new XpKernels(disk, new PagerOptions(LEASE, 4).withGrace(LEASE));
        reclaim(after, 1, token, ReclaimedFutex.newBuilder().setOwnerDied(true).setStaleHeirTid(5));
        assertThat(after.ended).doesNotContainKey(1L);
        assertThat(after.take(1).get(0).hasPagerWelcome()).isTrue();
        assertThat(after.pager.holderOf("obj", 0)).isEqualTo("A");
    }

    /**
     * LOW-3: the heir's TID prefix is held while the reclaimer's rewrite is pending, as after a
     * release that names it (xp-spec 2.9): a kernel stating that prefix is refused until the
     * reclaimer's release says it rewrote the word. Before, the restarted pager let it in at once.
     */
    @Test
    void theReclaimedHeirsPrefixIsHeldUntilTheWordIsRewritten() {
        long token = aHeldFutexZeroAtTheCrash();
        XpKernels after = new XpKernels(disk, new PagerOptions(LEASE, 4).withGrace(LEASE));
        reclaim(after, 1, token, ReclaimedFutex.newBuilder().setStaleHeirTid(5 << 20 | 9));
        assertThat(after.take(1).get(0).hasPagerWelcome()).isTrue();
        after.advanceHeard(LEASE + 1, LEASE / 4, 1); // grace ends
        after.take(1);
        assertThat(XpKernels.welcomed(after.helloWithPrefix(2, "C", 5))).as("prefix 5 may be in the word").isFalse();
        after.futexReleased(1, 0); // A rewrote the word: its release no longer names the heir
        assertThat(XpKernels.welcomed(after.helloWithPrefix(3, "C", 5))).as("prefix 5 free again").isTrue();
    }

    /** A thread's TID is taken, and the reclaimer's release naming it again carries it to the next grant. */
    @Test
    void aThreadsTidIsTakenAndCarriedOn() {
        long token = aHeldFutexZeroAtTheCrash();
        XpKernels after = new XpKernels(disk, new PagerOptions(LEASE, 4).withGrace(LEASE));
        int stale = 5 << 20 | 9; // a thread of a kernel (prefix 5) that gave it back before the crash
        reclaim(after, 1, token, ReclaimedFutex.newBuilder().setStaleHeirTid(stale));
        assertThat(after.ended).doesNotContainKey(1L);
        assertThat(after.take(1).get(0).hasPagerWelcome()).isTrue();
        after.advanceHeard(LEASE + 1, LEASE / 4, 1); // grace ends
        after.take(1);
        after.xp(1, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(XpKernels.OBJ).setOffset(0).setFencingToken(token).setStaleHeirTid(stale)));
        long b = after.kernel(2, "B", FEATURE);
        after.lockFutex(b, 0);
        MemoryObjectFutexGranted toB = after.one(b).getMemoryObjectFutexGranted();
        assertThat(toB.getStaleHeirTid()).isEqualTo(stale);
        assertThat(toB.getOwnerDied()).isFalse();
    }
}
