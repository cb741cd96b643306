package io.machxp.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.scenario.ScenarioParser;
import io.machxp.scenario.ScenarioResult;
import io.machxp.scenario.ScenarioRun;
import io.machxp.variant.Variants;
import org.junit.jupiter.api.Test;

/**
 * Under the direct handoff (xp-spec 14), a read of a futex's page on another kernel while a forward
 * of that futex is ordered must not wait for the holder's unlock: the holder may itself wait for the
 * reader (here for a futex the reading thread owns), a cycle that does not exist under Linux or the
 * default protocol. The pager withdraws the order and takes the page back from the holder, as it
 * would without one.
 */
class DirectHandoffPageReadTest {

    private static ScenarioResult direct(String yaml) {
        return ScenarioRun.sim(ScenarioParser.parse(yaml, "inline"), 1, true, Variants.of("direct"));
    }

    private static void everyThreadEndsAndEveryCheckHolds(ScenarioResult r) {
        assertThat(r.completed()).as("every thread ended").isTrue();
        assertThat(r.stepFailures()).isEmpty();
        assertThat(r.checks()).allSatisfy(c -> assertThat(c.passed()).as(c.expectation() + ": " + c.measured()).isTrue());
    }

    @Test
    void aReadOnTheWaitingKernelIsAnsweredWhileTheHolderWaitsForTheReader() {
        // T1 (A) holds a and waits for b, which R (B) owns; W (B) waits for a, so the pager orders A
        // to forward a to B; R reads a's word before it lets b go.
        everyThreadEndsAndEveryCheckHolds(direct("""
                name: a read of a forwarded futex's page
                network: {latency: 100us, jitter: 20us}
                kernels: [{name: A}, {name: B}]
                words:
                  a: {object: shared, offset: 0}
                  b: {object: shared, offset: 4096}
                threads:
                  - {name: T1, kernel: A, program: [{lock: a}, {sleep: 4ms}, {lock: b}, {unlock: b}, {unlock: a}]}
                  - {name: R, kernel: B, start: 1ms, program: [{lock: b}, {sleep: 8ms}, {read: a, value: "T1|WAITERS"}, {unlock: b}]}
                  - {name: W, kernel: B, start: 6ms, program: [{lock: a}, {unlock: a}]}
                expect:
                  - {thread: T1, finishBy: 15ms}
                  - {thread: W, finishBy: 15ms}
                """));
    }

    @Test
    void aReadAfterTheWaitEndedInEdeadlkIsAnswered() {
        // deadlock-timed-across-kernels: T2's wait for a ends in EDEADLK, but its kernel stays queued
        // for a (xp-spec 8: a lock_futex is not taken back), so the order to forward a to B stands.
        everyThreadEndsAndEveryCheckHolds(direct("""
                name: a read after EDEADLK of a forwarded futex's page
                network: {latency: 100us, jitter: 20us}
                kernels: [{name: A}, {name: B}]
                words:
                  a: {object: shared, offset: 0}
                  b: {object: shared, offset: 4096}
                threads:
                  - {name: T1, kernel: A, program: [{lock: a}, {sleep: 20ms}, {lock: b}, {unlock: b}, {unlock: a}]}
                  - {name: T2, kernel: B, start: 10ms, program: [{lock: b}, {sleep: 20ms}, {lock: a, timeout: 20ms, expect: EDEADLK}, {read: a, value: "T1|WAITERS"}, {unlock: b}]}
                expect:
                  - {thread: T1, finishBy: 40ms}
                """));
    }
}
