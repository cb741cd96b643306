package io.machxp.pager.core;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Coverage-guided fuzzing of the pager core (Jazzer): random and mutated sequences of sessions and
 * XP messages from up to four kernels ({@link FuzzedKernels}), with the pager's invariants checked
 * after every step ({@link PagerInvariants}); an exception escaping the core fails the test too.
 *
 * <p>Under {@code mvn verify} this runs once per file in {@code PagerCoreFuzzTestInputs/} (the seed
 * corpus and every crash found so far, each a regression test) and on the empty input. With
 * {@code JAZZER_FUZZ=1} (the {@code fuzz} profile) Jazzer fuzzes it for {@code jazzer.max_duration}.
 */
@ExtendWith(QuietCoreLogs.class)
class PagerCoreFuzzTest {
    /** Whatever the kernels send, in whatever order, the pager's invariants hold after every step. */
    @FuzzTest(maxDuration = "60s")
    void anySequenceOfKernelMessagesKeepsThePagerConsistent(FuzzedDataProvider data) {
        new FuzzedKernels(data).run();
    }
}
