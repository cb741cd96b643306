package io.machxp.kernel.core;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.slf4j.LoggerFactory;

/**
 * Coverage-guided fuzzing of the kernel core (Jazzer): random and mutated sequences of XP
 * messages from its pager interleaved with task requests and timers ({@link FuzzedPager}), with
 * the kernel's invariants checked after every step ({@link KernelInvariants}); an exception
 * escaping the core fails the test too.
 *
 * <p>Under {@code mvn verify} this runs once per file in {@code KernelCoreFuzzTestInputs/} (the
 * seed corpus and every crash found so far, each a regression test) and on the empty input. With
 * {@code JAZZER_FUZZ=1} (the {@code fuzz} profile) Jazzer fuzzes it for {@code jazzer.max_duration}.
 */
class KernelCoreFuzzTest {
    private static final Logger CORE_LOG = (Logger) LoggerFactory.getLogger("io.machxp");
    private static Level level;

    /** Protocol violations are logged at WARN: millions of them would only slow the fuzzer down. */
    @BeforeAll
    static void quiet() {
        level = CORE_LOG.getLevel();
        CORE_LOG.setLevel(Level.ERROR);
    }

    @AfterAll
    static void restore() {
        CORE_LOG.setLevel(level);
    }

    /** Whatever the pager sends and the tasks ask, the kernel answers each request once and stays consistent. */
    @FuzzTest(maxDuration = "60s")
    void anyPagerAndTasksKeepTheKernelConsistent(FuzzedDataProvider data) {
        new FuzzedPager(data).run();
    }
}
