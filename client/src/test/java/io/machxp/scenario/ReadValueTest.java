package io.machxp.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import org.junit.jupiter.api.Test;

/** A read's value expectation: {read: m, value: "O|WAITERS"}, checked by the parser and by the run. */
class ReadValueTest {
    static final String HELD = """
            name: a waiter sets WAITERS
            kernels: [{name: A, cpus: 1}]
            words: {m: 0, data: 64}
            threads:
              - name: O
                priority: 10
                program:
                  - {lock: m}
                  - {read: m, value: O}
                  - {write: data, value: -3}
                  - {sleep: 20ms}
                  - {read: m, value: "O|WAITERS"}
                  - {read: data, value: -3}
                  - {unlock: m}
              - name: W
                priority: 20
                start: 10ms
                program: [{lock: m}, {read: m, value: "W|WAITERS"}, {unlock: m}, {read: m, value: free}]
            """;

    @Test
    void theParserKeepsTheValueAReadMustSee() {
        Scenario s = ScenarioParser.parse(HELD, "held.yaml");
        assertThat(s.thread("O").program()).extracting(Step::read)
                .containsExactly(null, "O", null, null, "O|WAITERS", "-3", null);
        assertThat(s.thread("W").program()).extracting(Step::read).containsExactly(null, "W|WAITERS", null, "free");
        assertThat(s.thread("O").program().get(4).toString()).isEqualTo("read m (expect O|WAITERS)");
        assertThat(s.thread("O").program().get(2).value()).isEqualTo(-3);
    }

    @Test
    void aValueThatNoReadCanSeeIsAnError() {
        String bad = HELD.replace("{read: m, value: O}", "{read: m, value: OO}")
                .replace("value: \"O|WAITERS\"", "value: \"WAITERS|O\"")
                .replace("{read: data, value: -3}", "{read: data, value: free}")
                .replace("value: free}]", "value: [free]}]");
        ScenarioException e = catchThrowableOfType(ScenarioException.class, () -> ScenarioParser.parse(bad, "bad.yaml"));
        assertThat(e.errors()).hasSize(4);
        assertThat(e.errors().get(0)).startsWith("bad.yaml:9: thread O, step 2: 'OO' in 'OO' is no thread nor flag; "
                + "did you mean 'O'? a futex word reads as free");
        assertThat(e.errors().get(1)).startsWith("bad.yaml:12: thread O, step 5: 'O' in 'WAITERS|O' is not a flag here");
        assertThat(e.errors().get(2)).startsWith("bad.yaml:13: thread O, step 6: 'free' is no value of data, a data "
                + "word");
        assertThat(e.errors().get(3)).startsWith("bad.yaml:18: thread W, step 4: a read's value is what it must see");
        assertThat(ScenarioParser.parse(HELD.replace("value: O}", "value: \"OWNER_DIED\"}"), "ok.yaml")
                .thread("O").program().get(1).read()).isEqualTo("OWNER_DIED");
    }

    @Test
    void aRunFailsTheStepWhoseReadSeesAnotherValue() {
        ScenarioResult good = ScenarioRun.sim(ScenarioParser.parse(HELD, "held.yaml"), 1, true);
        assertThat(good.completed()).isTrue();
        assertThat(good.stepFailures()).isEmpty();

        ScenarioResult bad = ScenarioRun.sim(ScenarioParser.parse(HELD.replace("value: \"O|WAITERS\"", "value: O")
                .replace("value: free}]", "value: W}]"), "held.yaml"), 1, false);
        assertThat(bad.stepFailures()).containsExactly(
                "O step 5 (read m (expect O)) expected to read O but read O|WAITERS",
                "W step 4 (read m (expect W)) expected to read W but read free");
    }

    @Test
    void aWrittenValueOfTenDigitsIsNoTidAndTheRunGoesOn() {
        // the event log names TIDs in event details; 2147483648 (0x80000000, WAITERS alone) is no int
        ScenarioResult r = ScenarioRun.sim(ScenarioParser.parse("""
                name: waiters alone
                kernels: [{name: A}]
                words: {m: 0, data: 64}
                threads:
                  - name: T
                    program:
                      - {write: data, value: 2147483648}
                      - {read: data, value: -2147483648}
                      - {write: m, value: 2147483648}
                      - {read: m, value: WAITERS}
                      - {lock: m}
                      - {unlock: m}
                """, "waiters.yaml"), 1, true);
        assertThat(r.completed()).isTrue();
        assertThat(r.stepFailures()).isEmpty();
    }
}
