package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.PagerToKernel;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The answer deadline's work per message does not grow with what kernels hold (xpprobe XP-P1):
 * after every grant the pager looked for the oldest answer the grantee owes by walking every
 * futex it held and every page record, so a kernel caching tens of thousands of futexes made each
 * grant cost that much on the core's thread, and the pager stalled for minutes. Counted in the
 * entries the deadline looks at ({@code PagerStats#owedExamined}), no timing. The index that
 * replaced the walk must still find what is owed: among many held futexes, after an older answer,
 * and after a snapshot's restore (the index is not in the snapshot: rebuilt from the records).
 */
class OwedAnswersBoundTest {
    private static final long LEASE = 1_000_000_000L;
    private static final long DEADLINE = 3 * LEASE;
    private static final int PAGES = 64;
    /** Futexes C takes: 4-byte words over the object. */
    private static final int FUTEXES = 8192;

    private final XpKernels x = new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, 3)
            .withAnswerDeadline(DEADLINE), 0, Map.of("obj", (long) PAGES * XpKernels.PAGE));

    @Test
    void aGrantLooksAtNoneOfTheFutexesTheGranteeHoldsNorAtThePageRecords() {
        long k = x.kernel(1, "K");
        long c = x.kernel(2, "C");
        for (int page = 0; page < PAGES; page++) {
            x.read(k, (long) page * XpKernels.PAGE); // a page record for each page
        }
        for (int i = 0; i < FUTEXES; i++) {
            x.lockFutex(c, 4L * i);
        }
        assertThat(x.take(c)).filteredOn(PagerToKernel::hasMemoryObjectFutexGranted).hasSize(FUTEXES);
        // The old walk looked at every futex C held and every page record after each grant: some
        // FUTEXES^2/2 + FUTEXES*PAGES entries (33.5 million). Nothing is owed: nothing to look at.
        assertThat(x.stats.owedExamined()).as("entries looked at for %d grants", FUTEXES).isLessThan(FUTEXES);
    }

    @Test
    void aTryOwedAmongManyHeldFutexesStillEndsItsHolderAtTheDeadline() {
        long k = x.kernel(1, "K");
        long c = x.kernel(2, "C");
        for (int i = 0; i < FUTEXES; i++) {
            x.lockFutex(c, 4L * i);
        }
        x.take(c);
        long tried = 4L * (FUTEXES / 2);
        x.xp(k, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(XpKernels.OBJ).setOffset(tried).setTry(true))); // C owes a relinquish(try)
        assertThat(x.take(c)).filteredOn(PagerToKernel::hasMemoryObjectRelinquishFutex).hasSize(1);
        long before = x.stats.owedExamined();
        for (int i = FUTEXES; i < FUTEXES + 1024; i++) {
            x.lockFutex(c, 4L * i); // grants while a try is owed
        }
        x.advanceHeard(DEADLINE - LEASE / 4, LEASE / 4, c, k);
        assertThat(x.ended).as("within the deadline").doesNotContainKey(c);
        x.advanceHeard(LEASE / 2, LEASE / 4, c, k);
        assertThat(x.ended.get(c)).as("the deadline passed, unanswered").startsWith("ETIMEDOUT")
                .contains("memory_object_relinquish_futex (try) for the futex at 0x" + Long.toHexString(tried) + " of 'obj'");
        assertThat(x.stats.owedExamined() - before).as("entries looked at for 1,024 grants and the checks")
                .isLessThan(64);
    }

    @Test
    void theOldestOwedIsFoundAmongAnsweredOnesAndAPageLockRequestCounts() {
        long w = x.kernel(1, "W");
        long r = x.kernel(2, "R");
        x.write(w, 0);
        x.write(w, XpKernels.PAGE);
        x.take(w);
        for (int i = 0; i < 512; i++) {
            x.lockFutex(w, 4L * (i + 2 * XpKernels.PAGE / 4)); // futexes beyond the two pages
        }
        x.take(w);
        x.read(r, 0); // W owes a lock_completed for page 0, then for page 1
        x.advance(LEASE / 4);
        x.read(r, XpKernels.PAGE);
        assertThat(x.take(w)).filteredOn(PagerToKernel::hasMemoryObjectLockRequest).hasSize(2);
        x.advanceHeard(LEASE, LEASE / 4, w, r);
        x.lockCompleted(w, 0); // the older one answered: page 1's is owed, due a deadline after that answer
        x.advanceHeard(DEADLINE - LEASE / 4, LEASE / 4, w, r);
        assertThat(x.ended).as("page 1's lock_request is within its deadline").doesNotContainKey(w);
        x.advanceHeard(LEASE / 2, LEASE / 4, w, r);
        assertThat(x.ended.get(w)).as("page 1's passed").startsWith("ETIMEDOUT")
                .contains("memory_object_lock_request for page 0x1000 of 'obj'");
    }

    @Test
    void aTryOwedWhenASnapshotWasTakenIsOwedAfterItsRestore() {
        long h = x.kernel(1, "H");
        long k = x.kernel(2, "K");
        x.lockFutex(h, 0);
        x.xp(k, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(XpKernels.OBJ).setOffset(0).setTry(true))); // H owes a relinquish(try)
        XpKernels restored = new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, 3)
                .withAnswerDeadline(DEADLINE), 0, Map.of("obj", (long) PAGES * XpKernels.PAGE));
        restored.pager.restore(x.pager.snapshot());
        restored.advanceHeard(DEADLINE - LEASE / 4, LEASE / 4, h, k);
        assertThat(restored.ended).as("within the deadline").doesNotContainKey(h);
        restored.advanceHeard(LEASE / 2, LEASE / 4, h, k);
        assertThat(restored.ended.get(h)).as("the deadline passed after the restore").startsWith("ETIMEDOUT")
                .contains("memory_object_relinquish_futex (try) for the futex at 0x0 of 'obj'");
    }
}
