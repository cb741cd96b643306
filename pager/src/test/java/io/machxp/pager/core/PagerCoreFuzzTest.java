package io.machxp.pager.core;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.slf4j.LoggerFactory;

/**
 * Coverage-guided fuzzing of the pager core (Jazzer): random and mutated sequences of sessions and
 * XP messages from up to four kernels ({@link FuzzedKernels}), with the pager's invariants checked
 * after every step ({@link PagerInvariants}); an exception escaping the core fails the test too.
 *
 * <p>Under {@code mvn verify} this runs once per file in {@code PagerCoreFuzzTestInputs/} (the seed
 * corpus and every crash found so far, each a regression test) and on the empty input. With
 * {@code JAZZER_FUZZ=1} (the {@code fuzz} profile) Jazzer fuzzes it for {@code jazzer.max_duration}.
 */
class PagerCoreFuzzTest {
    private static final Logger CORE_LOG = (Logger) LoggerFactory.getLogger("io.machxp");
    private static Level level;

    /** Refusals are logged at WARN: millions of them would only slow the fuzzer down. */
    @BeforeAll
    static void quiet() {
        level = CORE_LOG.getLevel();
        CORE_LOG.setLevel(Level.ERROR);
    }

    @AfterAll
    static void restore() {
        CORE_LOG.setLevel(level);
    }

    /** Whatever the kernels send, in whatever order, the pager's invariants hold after every step. */
    @FuzzTest(maxDuration = "60s")
    void anySequenceOfKernelMessagesKeepsThePagerConsistent(FuzzedDataProvider data) {
        new FuzzedKernels(data).run();
    }
}
