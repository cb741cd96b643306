package io.machxp.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.scenario.ScenarioResult.ThreadSummary;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The point of PI across kernels, on scenarios/cross-kernel-inversion.yaml in sim mode: H on
 * kernel B waits for L's remaining critical section plus the protocol, not for M.
 */
class CrossKernelInversionTest {
    static final Scenario SCENARIO = ScenarioParser.parse(Path.of("..", "scenarios", "cross-kernel-inversion.yaml"));
    static final long CRITICAL_SECTION = 50_000_000;
    static final long M_COMPUTE = 200_000_000;
    /** A handful of XP round trips at the file's 100us (+ up to 50us) one-way latency. */
    static final long PROTOCOL_BOUND = 5_000_000;

    @Test
    void withPiHWaitsForLsCriticalSectionAndTheProtocolOnly() {
        ScenarioResult r = ScenarioRun.sim(SCENARIO, 1, true);
        ThreadSummary h = r.thread("H");
        assertThat(h.waited()).isLessThan(CRITICAL_SECTION + PROTOCOL_BOUND);
        assertThat(r.thread("L").maxPriority()).isEqualTo(90);
        assertThat(h.finished()).isLessThan(r.thread("M").finished());
        // The boost came through the pager: A boosted L after B's lock, before L's unlock.
        assertThat(r.events()).anySatisfy(e -> {
            assertThat(e.kernel()).isEqualTo("A");
            assertThat(e.thread()).isEqualTo("L");
            assertThat(e.event()).isEqualTo("boost");
            assertThat(e.detail()).isEqualTo("10 -> 90");
        });
        assertThat(r.events()).anySatisfy(e -> assertThat(e.event() + " " + e.thread()).isEqualTo("deboost L"));
    }

    @Test
    void withoutPiHWaitsAtLeastMsComputation() {
        ScenarioResult r = ScenarioRun.sim(SCENARIO, 1, false);
        assertThat(r.thread("H").waited()).isGreaterThanOrEqualTo(M_COMPUTE);
        assertThat(r.thread("L").maxPriority()).isEqualTo(10);
        assertThat(r.events()).noneSatisfy(e -> assertThat(e.event()).isIn("boost", "deboost"));
    }

    @Test
    void anotherSeedMovesMessagesButNotTheOutcome() {
        ScenarioResult a = ScenarioRun.sim(SCENARIO, 1, true);
        ScenarioResult b = ScenarioRun.sim(SCENARIO, 2, true);
        assertThat(b.events()).as("the seed drives the network jitter").isNotEqualTo(a.events());
        assertThat(b.passed()).isTrue();
        assertThat(b.thread("H").waited()).isLessThan(CRITICAL_SECTION + PROTOCOL_BOUND);
    }
}
