package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.snapshot.PagerSnapshot;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexHeld;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.PagerToKernel;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The pager's bound on futex records for all kernels (4 sessions at their bound of 4 here: 16)
 * ends no kernel that is under its own bound (XP review, finding 2; review of xpfix, findings 1,
 * 4, 5, 6): a lock_futex that needs a new record waits, parked in the core's state (so in its
 * snapshots), while the pager asks the biggest holders for idle futexes with relinquish_futex(try),
 * again after a while for those kept once; a trylock is answered busy.
 */
class FutexParkingTest {
    private static final long LEASE = 1_000_000_000L;
    private static final long[] CACHERS = {1, 2, 3, 4};

    private final XpKernels x = new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, 1, 4));
    /** The first offset no cacher holds. */
    private final long free = fillWithCachedFutexes(x);
    private final long late = x.kernel(5, "late");

    /** Four kernels K1..K4 (sessions 1..4) each granted four futexes, kept cached; returns the next offset. */
    static long fillWithCachedFutexes(XpKernels x) {
        long offset = 0;
        for (int k = 1; k <= 4; k++) {
            long s = x.kernel(k, "K" + k);
            for (int i = 0; i < 4; i++, offset += 4) {
                x.lockFutex(s, offset);
            }
            assertThat(x.take(s)).hasSize(4).allMatch(PagerToKernel::hasMemoryObjectFutexGranted);
        }
        assertThat(x.pager.recordCounts().get("futexes")).isEqualTo(16);
        return offset;
    }

    /** The relinquish_futex(try) asks sent to the cachers since the last take, by session. */
    private java.util.Map<Long, List<Long>> asks() {
        java.util.Map<Long, List<Long>> asks = new java.util.TreeMap<>();
        for (long k : CACHERS) {
            List<PagerToKernel> got = x.take(k);
            assertThat(got).allMatch(m -> m.hasMemoryObjectRelinquishFutex() && m.getMemoryObjectRelinquishFutex().getTry());
            if (!got.isEmpty()) {
                asks.put(k, got.stream().map(m -> m.getMemoryObjectRelinquishFutex().getOffset()).toList());
            }
        }
        return asks;
    }

    private static void held(XpKernels x, long k, long offset) {
        x.xp(k, KernelToPager.newBuilder().setMemoryObjectFutexHeld(MemoryObjectFutexHeld.newBuilder()
                .setObjectId(XpKernels.OBJ).setOffset(offset).setFencingToken(x.pager.fencingToken("obj", offset))));
    }

    private static void lock(XpKernels x, long s, long offset, int priority, boolean update, boolean trylock) {
        x.xp(s, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(XpKernels.OBJ).setOffset(offset).setPriority(priority).setUpdate(update).setTry(trylock)));
    }

    @Test
    void aKernelUnderItsOwnBoundWaitsWhileIdleFutexesAreAskedBackAndIsGrantedWhenOneIsGivenBack() {
        x.lockFutex(late, free);
        assertThat(x.ended).doesNotContainKey(late);
        assertThat(x.take(late)).as("it waits").isEmpty();
        assertThat(asks()).as("every idle futex is asked back (fewer than a round's)").hasSize(4)
                .allSatisfy((k, offsets) -> assertThat(offsets).hasSize(4));
        x.futexReleased(3, 8 * 4); // K3 had no thread owning it: given back
        assertThat(x.one(late).getMemoryObjectFutexGranted().getOffset()).isEqualTo(free);
        assertThat(x.pager.recordCounts().get("futexes")).isEqualTo(16);
        assertThat(x.ended).isEmpty();
    }

    /** Review of xpfix, finding 4: a futex its holder kept when asked is asked again after a while. */
    @Test
    void aFutexKeptWhenAskedIsAskedAgainLaterAndTheRequestGoesOn() {
        x.lockFutex(late, free);
        asks().forEach((k, offsets) -> offsets.forEach(offset -> held(x, k, offset)));
        assertThat(asks()).as("not asked again at once").isEmpty();
        x.advanceHeard(LEASE + LEASE / 2, LEASE / 4, 1, 2, 3, 4, late);
        java.util.Map<Long, List<Long>> again = asks();
        assertThat(again).as("asked again a lease later").hasSize(4);
        x.futexReleased(2, again.get(2L).get(0)); // now idle: given back
        assertThat(x.take(late)).extracting(m -> m.getMemoryObjectFutexGranted().getOffset()).containsExactly(free);
        assertThat(x.ended).isEmpty();
    }

    /** Review of xpfix, finding 5: a trylock at the bound is answered busy at once, never parked. */
    @Test
    void aTrylockOfANewFutexAtTheBoundIsAnsweredBusy() {
        lock(x, late, free, 0, false, true);
        PagerToKernel busy = x.one(late);
        assertThat(busy.hasMemoryObjectFutexBusy()).isTrue();
        assertThat(busy.getMemoryObjectFutexBusy().getOffset()).isEqualTo(free);
        assertThat(asks()).as("idle futexes are asked back for later").isNotEmpty();
        assertThat(x.ended).isEmpty();
    }

    /** Review of xpfix, finding 5: an update of a parked lock is taken, not refused as a breach. */
    @Test
    void anUpdateOfAParkedRequestIsTakenAndASecondLockRefused() {
        long other = x.kernel(6, "other");
        lock(x, late, free, 3, false, false);
        lock(x, other, free + 4, 1, false, false);
        lock(x, late, free, 9, true, false); // its waiting thread was boosted
        assertThat(x.stats.refused()).isZero();
        lock(x, late, free, 9, false, false);
        assertThat(x.stats.refused()).as("a second lock without update").isEqualTo(1);
        x.futexReleased(3, 8 * 4);
        assertThat(x.take(late)).as("its request goes on first").extracting(m -> m.getMemoryObjectFutexGranted()
                .getOffset()).containsExactly(free);
        assertThat(x.take(other)).isEmpty();
    }

    /**
     * Review of xpfix, finding 1: a parked request is in the core's snapshot. A replica restored
     * from it while the request waits grants it at the same input as the original, and both write
     * equal snapshots after the same inputs; nobody else gets the futex on the restored one.
     */
    @Test
    void aParkedRequestSurvivesASnapshotAndGoesOnAlikeOnTheRestoredCore() throws Exception {
        long other = x.kernel(6, "other");
        x.lockFutex(late, free);
        java.util.Map<Long, List<Long>> asked = asks();
        held(x, 1, asked.get(1L).get(0)); // kept: asked again only later, also on the restored core
        PagerSnapshot snapshot = x.pager.snapshot();
        XpKernels restored = new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, 1, 4));
        restored.pager.restore(PagerSnapshot.parseFrom(snapshot.toByteArray()));
        assertThat(restored.pager.snapshot()).as("read back, written again").isEqualTo(snapshot);
        for (XpKernels k : List.of(x, restored)) {
            k.futexReleased(4, asked.get(4L).get(0));
            assertThat(k.take(late)).extracting(m -> m.getMemoryObjectFutexGranted().getOffset()).containsExactly(free);
            assertThat(k.pager.holderOf("obj", free)).isEqualTo("late");
            k.lockFutex(other, free);
        }
        assertThat(restored.pager.snapshot()).isEqualTo(x.pager.snapshot());
        assertThat(restored.take(late)).as("the other kernel queues: late is asked to relinquish")
                .allMatch(PagerToKernel::hasMemoryObjectRelinquishFutex).hasSize(1);
        assertThat(restored.take(other)).as("nothing granted to the other kernel").noneMatch(
                PagerToKernel::hasMemoryObjectFutexGranted);
        for (XpKernels k : List.of(x, restored)) {
            k.advanceHeard(LEASE + LEASE / 2, LEASE / 4, 1, 2, 3, 4, late, other);
        }
        assertThat(restored.pager.snapshot()).as("the asks again a lease later alike").isEqualTo(x.pager.snapshot());
    }

    /** Review of xpfix, finding 6: a request parked for a futex of an object the kernel terminates is dropped. */
    @Test
    void aParkedRequestOfATerminatedObjectIsDropped() {
        x.lockFutex(late, free);
        x.terminate(late);
        x.take(late);
        x.futexReleased(3, 8 * 4);
        assertThat(x.take(late)).isEmpty();
        assertThat(x.pager.holderOf("obj", free)).isNull();
        assertThat(x.stats.refused()).isZero();
    }

    /** Parked requests count in the kernel's own bound: it cannot make the pager keep more than that for it. */
    @Test
    void parkedRequestsCountInTheKernelsOwnBound() {
        for (int i = 0; i < 4; i++) {
            x.lockFutex(late, free + 4L * i);
        }
        assertThat(x.ended).doesNotContainKey(late);
        x.lockFutex(late, free + 16);
        assertThat(x.ended.get(late)).startsWith("EAGAIN").contains("its own quota");
        x.futexReleased(3, 8 * 4);
        assertThat(x.take(late)).as("dropped as it left").noneMatch(PagerToKernel::hasMemoryObjectFutexGranted);
    }

    /**
     * Review of xpbounds, finding 2: more requests parked than the pager keeps records ends no
     * kernel (each is under its own quota; before, past as many parked as records, the kernel
     * parking the most was ended with EAGAIN). They go on in order as records come free.
     */
    @Test
    void moreRequestsParkedThanRecordsEndNoKernel() {
        long[] parkers = {x.kernel(6, "P6"), x.kernel(7, "P7"), x.kernel(8, "P8"), x.kernel(9, "P9")};
        long offset = free;
        for (int i = 0; i < 4; i++) { // 5 kernels parking 4 each (their own quota): 20 > 16 records
            x.lockFutex(late, offset += 4);
            for (long p : parkers) {
                x.lockFutex(p, offset += 4);
            }
        }
        assertThat(x.ended).as("no kernel under its own quota is ended").isEmpty();
        for (long p : parkers) {
            assertThat(x.take(p)).isEmpty();
        }
        x.futexReleased(3, 8 * 4);
        assertThat(x.take(late)).extracting(m -> m.getMemoryObjectFutexGranted().getOffset())
                .as("the first parked goes on").containsExactly(free + 4);
        assertThat(x.ended).isEmpty();
    }

    /**
     * Found by chaos at the bound: records of free futexes kept only for the pages given back with
     * them (for the next grant, 8.8) filled the bound for good. At the bound they are pruned, and
     * the next holder pages the data in.
     */
    @Test
    void recordsKeptOnlyForPagesGivenBackArePrunedAtTheBound() {
        XpKernels k = new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, 1, 1)); // 4 records in all
        long a = k.kernel(1, "A");
        for (int page = 0; page < 4; page++) {
            long offset = (long) page * XpKernels.PAGE;
            k.write(a, offset);
            k.take(a);
            k.lockFutex(a, offset);
            k.take(a);
            k.futexReleased(a, offset, XpKernels.dirtyPage(offset, XpKernels.page(page + 1)));
        }
        assertThat(k.pager.recordCounts().get("futexes")).as("free, each carrying its page").isEqualTo(4);
        long b = k.kernel(2, "B");
        k.lockFutex(b, 4);
        assertThat(k.ended).isEmpty();
        assertThat(k.one(b).getMemoryObjectFutexGranted().getOffset()).isEqualTo(4);
        long c = k.kernel(3, "C");
        k.read(c, 0);
        XpKernels.assertReadCopy(k.one(c), 0, XpKernels.page(1)); // the data given back with the futex
    }
}
