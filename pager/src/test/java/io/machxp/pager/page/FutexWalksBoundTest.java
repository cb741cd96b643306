package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.MemoryObjectTerminate;
import io.machxp.proto.xp.PagerToKernel;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The pager's futex work per message does not grow with what kernels hold (docs/limits.md, the
 * per-message walks): a memory_object_terminate looked at every futex its kernel held or waited
 * for (all its objects) and at every request parked at the records' bound (of every kernel); a
 * lock_futex at the records' bound looked at every futex carrying an unrecorded death
 * ({@code DeathRecorder.recordAll}); the ask-back timer's round at every held futex. Counted in
 * the entries looked at ({@code PagerStats#walked}), no timing; each test also checks that what
 * the old walks found is still found.
 */
class FutexWalksBoundTest {
    private static final int PAGE = XpKernels.PAGE;
    private static final int SMALL = 9;
    /** {@code DeathRecorder.LOOKED_PER_CALL}. */
    private static final int LOOKED_PER_CALL = 128;
    /** {@code FutexParking.TIMER_LOOKS}. */
    private static final int TIMER_LOOKS = 4096;

    private static KernelToPager.Builder initSmall() {
        return KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder().setObjectId(SMALL)
                .setName("small").setPageSize(PAGE));
    }

    private static KernelToPager.Builder terminateSmall() {
        return KernelToPager.newBuilder().setMemoryObjectTerminate(MemoryObjectTerminate.newBuilder()
                .setObjectId(SMALL));
    }

    @Test
    void aTerminateLooksOnlyAtTheTerminatedObjectsFutexes() {
        int held = 4096;
        int queued = 1024;
        int rounds = 200;
        XpKernels x = new XpKernels(new MemoryPageStore(), new PagerOptions(0, 1, 8192), 0,
                Map.of("obj", 64L * held * 4, "small", 4L * PAGE));
        long k = x.kernel(1, "K");
        long h = x.kernel(2, "H");
        for (int i = 0; i < held; i++) {
            x.lockFutex(k, 4L * i);
        }
        assertThat(x.take(k)).hasSize(held).allMatch(PagerToKernel::hasMemoryObjectFutexGranted);
        long first = 4L * held;
        for (int i = 0; i < queued; i++) {
            x.lockFutex(h, first + 4L * i);
            x.lockFutex(k, first + 4L * i); // K waits for it
        }
        x.take(h);
        assertThat(x.take(k)).isEmpty();
        long before = x.stats.walked();
        for (int i = 0; i < rounds; i++) {
            x.xp(k, initSmall());
            assertThat(x.take(k)).as("ready").hasSize(1);
            x.xp(k, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                    .setObjectId(SMALL).setOffset(0)));
            assertThat(x.take(k)).as("granted").singleElement().satisfies(m -> assertThat(
                    m.hasMemoryObjectFutexGranted()).isTrue());
            x.xp(k, terminateSmall());
            assertThat(x.pager.holderOf("small", 0)).as("released at the terminate").isNull();
        }
        // Old: each terminate looked at all K held and waited for (5,121), a million in all. Now
        // the one futex of "small" K held, to release it (and K's forwards ordered: none).
        assertThat(x.stats.walked() - before).as("entries looked at for %d terminates", rounds)
                .isEqualTo(rounds);
        assertThat(x.pager.holderOf("obj", 0)).isEqualTo("K");
        assertThat(x.pager.holderOf("obj", 4L * (held - 1))).isEqualTo("K");
        x.futexReleased(h, first); // K still waits for H's futexes of "obj"
        assertThat(x.take(k)).singleElement().satisfies(m -> assertThat(m.getMemoryObjectFutexGranted().getOffset())
                .isEqualTo(first));
        x.nothingTo(h);
    }

    private static final long LEASE = 1_000_000_000L;
    /** The futexes D dies holding: every word of four pages. */
    private static final int DEATHS = 4 * (PAGE / 4);

    private static XpKernels boundByDeaths(long clockStart) {
        return new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, 1, 2 * DEATHS).withFutexRecords(DEATHS),
                clockStart, Map.of("obj", 64L * PAGE, "small", 4L * PAGE));
    }

    /** W (session 1) writes pages 0-3; D dies holding every futex of them, which fill the records; late is 3. */
    private static XpKernels deadHolderFillingTheRecords() {
        XpKernels x = boundByDeaths(0);
        long w = x.kernel(1, "W");
        for (int page = 0; page < 4; page++) {
            x.write(w, (long) page * PAGE);
        }
        x.take(w);
        long d = x.kernel(2, "D");
        for (int i = 0; i < DEATHS; i++) {
            x.lockFutex(d, 4L * i);
        }
        assertThat(x.take(d)).hasSize(DEATHS);
        x.pager.sessionClosed(d);
        x.kernel(3, "late");
        x.advanceHeard(LEASE, LEASE / 2, 1, 3);
        assertThat(x.declaredDead).containsKey("D");
        assertThat(x.pager.recordCounts()).containsEntry("futexes", DEATHS);
        return x;
    }

    /**
     * Kernel D dies holding {@link #DEATHS} futexes of four pages kernel W keeps writable, which fill
     * the records. Each of the late kernel's lock_futex parks, and forces the unrecorded deaths
     * (flushes to W): it looked at every futex carrying one, so the first took all four pages back
     * from W at once; now at {@link #LOOKED_PER_CALL}, going on where the last stopped, so the
     * first takes back page 0 alone and the later ones the other pages in turn (1,024 futexes a
     * page: eight calls each). A terminate of the late kernel looked at every request parked; now
     * at its own of the object. (The old walks were not counted in {@code PagerStats#walked}: the
     * counts below guard against their coming back; the pages taken back one by one are what the
     * old code did otherwise, walks review F4.)
     */
    @Test
    void aLockFutexAtTheBoundLooksAtABoundedNumberOfDeathsAndATerminateNotAtOthersParkedRequests() {
        int deaths = DEATHS;
        int parked = 300;
        int rounds = 100;
        XpKernels x = deadHolderFillingTheRecords();
        long w = 1;
        long late = 3;
        long before = x.stats.walked();
        List<Long> flushed = new java.util.ArrayList<>();
        int perPage = PAGE / 4 / LOOKED_PER_CALL; // calls whose looks stay on one page
        for (int i = 0; i < parked; i++) {
            x.lockFutex(late, 8L * PAGE + 4L * i); // parked: no record is free
            for (PagerToKernel m : x.take(w)) {
                assertThat(m.hasMemoryObjectLockRequest()).isTrue();
                flushed.add(m.getMemoryObjectLockRequest().getOffset());
            }
            if (i == 0) {
                // Old: all four pages at the first call.
                assertThat(flushed).as("the first call takes back only page 0").containsExactly(0L);
            } else if (i == perPage - 1) {
                assertThat(flushed).as("page 1 not before call %d", perPage + 1).containsExactly(0L);
            }
        }
        assertThat(x.take(late)).as("every request waits").isEmpty();
        // Old: each looked at all 4,096 futexes carrying a death, 1.2 million in all (not counted there).
        assertThat(x.stats.walked() - before).as("entries looked at for %d parked lock_futex", parked)
                .isLessThanOrEqualTo((long) LOOKED_PER_CALL * parked);
        assertThat(flushed).as("every page taken back from W, by the calls in turn, once")
                .containsExactly(0L, (long) PAGE, 2L * PAGE, 3L * PAGE);

        before = x.stats.walked();
        for (int i = 0; i < rounds; i++) {
            x.xp(late, initSmall());
            assertThat(x.take(late)).as("ready").hasSize(1);
            x.xp(late, terminateSmall());
        }
        // Old: each looked at all 300 parked requests (of "obj"), 30,000 in all (not counted there).
        assertThat(x.stats.walked() - before).as("entries looked at for %d terminates", rounds).isZero();

        for (int page = 0; page < 4; page++) {
            x.returnDirty(w, (long) page * PAGE, new byte[PAGE], false);
            x.lockCompleted(w, (long) page * PAGE);
        }
        assertThat(x.stats.deathsRecordedByPager()).as("every death recorded").isEqualTo(deaths);
        List<PagerToKernel> granted = x.take(late);
        assertThat(granted).as("the parked requests went on").hasSize(parked)
                .allMatch(PagerToKernel::hasMemoryObjectFutexGranted);
        assertThat(x.ended).isEmpty();
    }

    /**
     * Where the looks at unrecorded deaths stopped is in the snapshot ({@code death_cursor}): a core
     * restored mid-way goes on from there, sending W the same flushes as the original. Without it,
     * the restored core started again at the first page.
     */
    @Test
    void aCoreRestoredMidWayGoesOnFromTheSameFutex() {
        XpKernels x = deadHolderFillingTheRecords();
        for (int i = 0; i < 3; i++) {
            x.lockFutex(3, 8L * PAGE + 4L * i); // parked; the looks reach futex 384 of page 0
        }
        assertThat(x.take(1)).as("page 0 taken back from W").singleElement()
                .satisfies(m -> XpKernels.assertFlush(m, 0));
        var snapshot = x.pager.snapshot();
        XpKernels restored = boundByDeaths(LEASE); // its clock reads as the original's
        restored.pager.restore(snapshot);
        assertThat(restored.pager.snapshot()).isEqualTo(snapshot);
        List<List<PagerToKernel>> sent = new java.util.ArrayList<>();
        for (XpKernels k : List.of(x, restored)) {
            for (int i = 3; i < 9; i++) {
                k.lockFutex(3, 8L * PAGE + 4L * i); // six more looks: on to futex 1,152, of page 1
            }
            sent.add(k.take(1));
        }
        assertThat(sent.get(0)).as("the original takes page 1 back").singleElement()
                .satisfies(m -> XpKernels.assertFlush(m, PAGE));
        assertThat(sent.get(1)).as("the restored core alike").isEqualTo(sent.get(0));
        assertThat(restored.pager.snapshot()).isEqualTo(x.pager.snapshot());
    }

    /**
     * Two holders of {@code quota} futexes each fill the records, every futex waited for but the
     * last of H1; one request parks. The ask-back timer's round looked at every held futex; now at
     * a share of {@link #TIMER_LOOKS} per holder, moving on through each holder's futexes from
     * round to round, so the idle one is still asked back within a few rounds.
     */
    @Test
    void theAskBackTimersRoundLooksAtABoundedBatchAndStillFindsTheIdleFutex() {
        int quota = 8192;
        XpKernels x = new XpKernels(new MemoryPageStore(), new PagerOptions(0, 1, quota).withFutexRecords(2 * quota),
                0, Map.of("obj", 64L * quota * 4));
        long offset = 0;
        long idle = -1;
        for (int h = 1; h <= 2; h++) {
            long holder = x.kernel(h, "H" + h);
            long waiter = x.kernel(2 + h, "W" + h);
            for (int i = 0; i < quota; i++, offset += 4) {
                x.lockFutex(holder, offset);
                if (h == 1 && i == quota - 1) {
                    idle = offset;
                } else {
                    x.lockFutex(waiter, offset);
                }
            }
            x.take(holder);
            assertThat(x.take(waiter)).isEmpty();
        }
        long late = x.kernel(9, "late");
        x.lockFutex(late, offset);
        assertThat(x.take(late)).as("parked").isEmpty();
        assertThat(x.take(1)).as("a message's round does not reach the idle futex").isEmpty();
        int rounds = 0;
        List<Long> asked = List.of();
        while (asked.isEmpty() && rounds < 8) {
            long before = x.stats.walked();
            x.advance(1_000_000_000L); // the ask-again period without a lease: one timer round
            rounds++;
            // Old: every held futex, 16,384 a round.
            assertThat(x.stats.walked() - before).as("entries looked at by timer round %d", rounds)
                    .isLessThanOrEqualTo(TIMER_LOOKS + 64);
            asked = x.take(1).stream().filter(PagerToKernel::hasMemoryObjectRelinquishFutex)
                    .map(m -> m.getMemoryObjectRelinquishFutex().getOffset()).toList();
        }
        assertThat(asked).as("H1's idle futex asked back, after %d rounds", rounds).containsExactly(idle);
        assertThat(x.take(2)).as("H2 has nothing idle").isEmpty();
        x.futexReleased(1, idle);
        assertThat(x.take(late)).singleElement().satisfies(m -> assertThat(m.hasMemoryObjectFutexGranted()).isTrue());
    }
}
