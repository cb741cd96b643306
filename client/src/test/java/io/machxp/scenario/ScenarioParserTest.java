package io.machxp.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Scenario files: what they may say, and clear errors for what they may not. */
class ScenarioParserTest {
    static final String GOOD = """
            name: two threads
            kernels: [{name: A, cpus: 2}]
            words: {m: {offset: 8}}
            threads:
              - {name: T, priority: 7, start: 1.5ms, program: [{lock: m, timeout: 5ms}, {compute: 200us}, {unlock: m}, exit]}
            expect:
              - {thread: T, maxWait: 1ms, when: pi}
            """;

    @Test
    void readsKernelsWordsThreadsStepsAndExpectations() {
        Scenario s = ScenarioParser.parse(GOOD, "good.yaml");
        assertThat(s.kernels()).containsExactly(new Scenario.KernelSpec("A", 2));
        assertThat(s.objects()).containsEntry("shared", 65536L);
        assertThat(s.words().get("m")).isEqualTo(new Scenario.WordSpec("m", "shared", 8));
        Scenario.ThreadSpec t = s.thread("T");
        assertThat(t.priority()).isEqualTo(7);
        assertThat(t.startNanos()).isEqualTo(1_500_000);
        assertThat(t.program()).extracting(Step::kind).containsExactly(Step.Kind.LOCK, Step.Kind.COMPUTE,
                Step.Kind.UNLOCK, Step.Kind.EXIT);
        assertThat(t.program().get(0).nanos()).isEqualTo(5_000_000);
        assertThat(t.program().get(1).nanos()).isEqualTo(200_000);
        assertThat(s.expectations()).containsExactly(
                new Expectation("T", Expectation.Kind.MAX_WAIT, 1_000_000, 0, null, "pi"));
    }

    @Test
    void mistakesSayWhereAndWhatIsRight() {
        assertError(GOOD.replace("{lock: m,", "{lok: m,"), "thread T: step 1: unknown key 'lok'");
        assertError(GOOD.replace("{unlock: m}", "{unlock: q}"), "step 3: no word named 'q'");
        assertError(GOOD.replace("200us", "200 parsecs"), "is not a duration");
        assertError(GOOD.replace("priority: 7", "priority: 100"), "priority 100 must be 1 to 99");
        assertError(GOOD.replace("cpus: 2", "cpus: 0"), "cpus 0 must be 1 to 256");
        assertError(GOOD.replace("offset: 8", "offset: 6"), "must be 4-byte aligned");
        assertError(GOOD.replace("thread: T, maxWait", "thread: U, maxWait"), "no thread named 'U'");
        assertError(GOOD.replace("when: pi", "when: sometimes"), "when must be pi or no-pi");
        assertError(GOOD.replace("kernels:", "kernal:"), "unknown key 'kernal'");
        assertError("threads: [", "is not valid YAML");
        assertError("name: x\nthreads: []\nkernels: [{name: A}]", "'threads' must list at least one thread");
    }

    private static void assertError(String yaml, String message) {
        assertThatThrownBy(() -> ScenarioParser.parse(yaml, "bad.yaml"))
                .isInstanceOf(ScenarioException.class)
                .hasMessageStartingWith("bad.yaml")
                .hasMessageContaining(message);
    }
}
