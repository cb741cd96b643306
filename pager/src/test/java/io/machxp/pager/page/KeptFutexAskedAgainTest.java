package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexHeld;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A futex its holder kept when the pager asked it back (futex_held) is asked again a wait later
 * (docs/limits.md, xp-spec 8.2: without a lease, one ask-again period, one timer round), also
 * when its holder holds many times the timer round's share of busy futexes: the ask-back rotation
 * had moved it to the end of its holder's futexes, so it came back only after M / share rounds
 * (walks review F1). Counted in timer rounds on the test's clock, no timing.
 */
class KeptFutexAskedAgainTest {
    /** Four times the timer round's share of one holder ({@code FutexParking.TIMER_LOOKS}). */
    private static final int M = 4 * 4096;
    private static final long ROUND = 1_000_000_000L; // the ask-again period without a lease
    private static final long H = 1;
    private static final long LATE = 3;

    /**
     * H holds {@link #M} futexes, W waits for all but the first, so the pager sees one idle; they
     * fill the records. A late kernel's lock_futex parks, the message round asks H for the idle
     * one, and H keeps it.
     */
    private static XpKernels keptOnce(long clockStart) {
        XpKernels x = kernels(clockStart);
        long h = x.kernel(H, "H");
        long w = x.kernel(2, "W");
        for (int i = 0; i < M; i++) {
            x.lockFutex(h, 4L * i);
            if (i != 0) {
                x.lockFutex(w, 4L * i); // busy: W waits
            }
        }
        x.take(h);
        assertThat(x.take(w)).isEmpty();
        x.kernel(LATE, "late");
        x.lockFutex(LATE, 4L * M);
        assertThat(x.take(LATE)).as("parked").isEmpty();
        assertThat(askedOf(x)).as("the message round asks the idle one").containsExactly(0L);
        keep(x);
        return x;
    }

    private static XpKernels kernels(long clockStart) {
        return new XpKernels(new MemoryPageStore(), new PagerOptions(0, 1, 2 * M).withFutexRecords(M), clockStart,
                Map.of("obj", 64L * M * 4));
    }

    private static void keep(XpKernels x) {
        x.xp(H, KernelToPager.newBuilder().setMemoryObjectFutexHeld(MemoryObjectFutexHeld.newBuilder()
                .setObjectId(XpKernels.OBJ).setOffset(0).setFencingToken(x.pager.fencingToken("obj", 0))));
        assertThat(askedOf(x)).as("nothing else idle to ask instead").isEmpty();
    }

    private static List<Long> askedOf(XpKernels x) {
        return x.take(H).stream().filter(PagerToKernel::hasMemoryObjectRelinquishFutex)
                .map(m -> m.getMemoryObjectRelinquishFutex().getOffset()).toList();
    }

    /** Timer rounds until H is asked for something again (at most {@code max}). */
    private static int roundsUntilAsked(XpKernels x, int max) {
        for (int rounds = 1; rounds <= max; rounds++) {
            x.advance(ROUND);
            List<Long> asked = askedOf(x);
            if (!asked.isEmpty()) {
                assertThat(asked).as("the kept futex").containsExactly(0L);
                return rounds;
            }
        }
        return -1;
    }

    @Test
    void aKeptFutexIsAskedAgainAfterOneRoundAmongManyBusyOnes() {
        XpKernels x = keptOnce(0);
        // Old: after M / 4,096 = 4 rounds (the rotation's way round H's futexes).
        assertThat(roundsUntilAsked(x, 16)).as("timer rounds until asked again").isEqualTo(1);
        for (int again = 0; again < 3; again++) {
            keep(x); // kept again: again a round later
            assertThat(roundsUntilAsked(x, 16)).as("rounds after keep %d", again + 2).isEqualTo(1);
        }
        x.futexReleased(H, 0); // given back at last
        assertThat(x.take(LATE)).singleElement()
                .satisfies(m -> assertThat(m.hasMemoryObjectFutexGranted()).isTrue());
    }

    /**
     * Which futexes wait to be asked again is derived from the records' keptWhenAsked, which the
     * snapshot holds: a core restored just after the keep asks again as the original does.
     */
    @Test
    void aCoreRestoredAfterTheKeepAsksAgainAlike() {
        XpKernels x = keptOnce(0);
        var snapshot = x.pager.snapshot();
        XpKernels restored = kernels(0); // its clock reads as the original's (not moved yet)
        restored.pager.restore(snapshot);
        assertThat(restored.pager.snapshot()).isEqualTo(snapshot);
        List<List<PagerToKernel>> sent = new ArrayList<>();
        for (XpKernels k : List.of(x, restored)) {
            List<PagerToKernel> out = new ArrayList<>();
            for (int round = 0; round < 3; round++) {
                k.advance(ROUND);
                out.addAll(k.take(H));
            }
            sent.add(out);
        }
        assertThat(sent.get(0)).as("the original asks again in the first round").hasSize(1)
                .allMatch(PagerToKernel::hasMemoryObjectRelinquishFutex);
        assertThat(sent.get(1)).as("the restored core alike").isEqualTo(sent.get(0));
        assertThat(restored.pager.snapshot()).isEqualTo(x.pager.snapshot());
    }
}
