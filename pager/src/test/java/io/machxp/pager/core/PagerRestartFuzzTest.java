package io.machxp.pager.core;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Coverage-guided fuzzing of a pager that restarted ({@link FuzzedKernels} in its restarted form):
 * kernels reclaim whatever they say they hold, well-formed or not, in the grace period or after it,
 * while others send every routine and time passes; the pager's invariants hold after every step.
 * A fuzz test of its own because Jazzer fuzzes one test per run (the fuzz profile runs this one in
 * a second surefire execution); under {@code mvn verify} it runs on its inputs and the empty one.
 */
@ExtendWith(QuietCoreLogs.class)
class PagerRestartFuzzTest {
    /** Whatever reconnecting kernels claim, and whatever the others send, the pager stays consistent. */
    @FuzzTest(maxDuration = "60s")
    void anyReclaimAfterARestartKeepsThePagerConsistent(FuzzedDataProvider data) {
        new FuzzedKernels(data, true).run();
    }
}
