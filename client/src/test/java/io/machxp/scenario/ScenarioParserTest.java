package io.machxp.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Path;
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

    /** A newcomer's first file: a typo, keys that mean nothing where they are, an outcome a lock never has. */
    static final String NEWCOMER = """
            name: my first inversion
            kernels: [{name: A, cpus: 1}]
            words: {m: {offset: 0}}
            threads:
              - name: L
                priority: 10
                program:
                  - lock: m
                  - {compute: 50ms, expect: ok}
                  - {unlock: m, timeout: 5ms}
              - name: H
                priority: 90
                start: 20ms
                program:
                  - {lock: m, timout: 10ms}
                  - {lock: m, expect: busy}
            expect:
              - {thread: HH, maxWait: 41ms}
              - {thread: L, boostedTo: 90, wehn: pi}
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
        assertError(GOOD.replace("{lock: m,", "{lok: m,"), "bad.yaml:5: thread T, step 1: unknown key 'lok'; "
                + "did you mean 'lock'? a step is one of lock, trylock,");
        assertError(GOOD.replace("{unlock: m}", "{unlock: q}"), "bad.yaml:5: thread T, step 3: no word named 'q'");
        assertError(GOOD.replace("200us", "200 parsecs"), "is not a duration");
        assertError(GOOD.replace("priority: 7", "priority: 100"), "priority 100 must be 1 to 99");
        assertError(GOOD.replace("cpus: 2", "cpus: 0"), "cpus 0 must be 1 to 256");
        assertError(GOOD.replace("offset: 8", "offset: 6"), "must be 4-byte aligned");
        assertError(GOOD.replace("thread: T, maxWait", "thread: U, maxWait"), "no thread named 'U'");
        assertError(GOOD.replace("when: pi", "when: sometimes"), "when must be pi or no-pi");
        assertError(GOOD.replace("kernels:", "kernal:"), "unknown key 'kernal'");
        assertError("threads: [", "not valid YAML");
        assertError("name: x\nthreads: []\nkernels: [{name: A}]", "'threads' must list at least one thread");
    }

    @Test
    void aNewcomersMistakesAreReportedAllAtOnceWithTheirLinesAndThreads() {
        ScenarioException e = errorOf(NEWCOMER);
        assertThat(e.errors()).containsExactly(
                "bad.yaml:9: thread L, step 2: compute has no outcome to expect; only lock, trylock, unlock, "
                        + "consistent, read, write, send, receive and rpc do",
                "bad.yaml:10: thread L, step 3: 'timeout' does not apply to unlock; an unlock takes expect",
                "bad.yaml:15: thread H, step 1: unknown key 'timout'; did you mean 'timeout'? a lock takes timeout "
                        + "and expect",
                "bad.yaml:16: thread H, step 2: a lock never gives busy; it gives ok, EOWNERDEAD, EDEADLK, ETIMEDOUT, "
                        + "ENOTRECOVERABLE, EINVAL, ESRCH or EIO",
                "bad.yaml:18: expectation 1 (thread HH): no thread named 'HH'; did you mean 'H'? threads are [L, H]",
                "bad.yaml:19: expectation 2 (thread L): unknown key 'wehn'; did you mean 'when'? an expectation takes "
                        + "thread, one of maxWait, minWait, finishBy, finishesBefore, boostedTo or neverBoosted, and when");
        assertThat(e.getMessage()).startsWith("bad.yaml: 6 errors\nbad.yaml:9: ").hasLineCount(7);
    }

    /** A priority step sets its own thread's priority, or with of another's, named and checked. */
    @Test
    void aPriorityStepMayNameAnotherThread() {
        String file = """
                kernels: [{name: A}]
                threads:
                  - {name: W, program: [{sleep: 1ms}]}
                  - {name: C, program: [{priority: 40, of: W}, {priority: 30}]}
                """;
        Scenario s = ScenarioParser.parse(file, "of.yaml");
        assertThat(s.thread("C").program().get(0)).isEqualTo(new Step(Step.Kind.PRIORITY, "W", -1, 40, null));
        assertThat(s.thread("C").program().get(0).toString()).isEqualTo("priority 40 of W");
        assertThat(s.thread("C").program().get(1).word()).as("itself").isNull();
        assertError(file.replace("of: W", "of: V"), "bad.yaml:4: thread C, step 1: no thread named 'V'; threads are [W, C]");
        assertError(file.replace("{sleep: 1ms}", "{sleep: 1ms, of: C}"), "bad.yaml:3: thread W, step 1: unknown key 'of'");
    }

    @Test
    void outcomesAreThoseTheStepCanHave() {
        String file = """
                kernels: [{name: A}]
                words: {m: 0, data: 64}
                threads:
                  - name: T
                    program:
                      - {lock: m, expect: ETIMEDOUT}
                      - {trylock: m, expect: EDEADLOCK}
                      - {unlock: m, expect: etimedout}
                      - {write: data, expect: ok}
                      - {read: data, timeout: 3ms}
                      - {sleep: 1ms, expect: ok}
                      - {consistent: m, expect: [ok]}
                """;
        assertThat(errorOf(file).errors()).containsExactly(
                "bad.yaml:6: thread T, step 1: a lock without a timeout never gives ETIMEDOUT; give it one, like "
                        + "timeout: 10ms",
                "bad.yaml:7: thread T, step 2: unknown outcome 'EDEADLOCK'; did you mean 'EDEADLK'? a trylock gives "
                        + "ok, busy, EOWNERDEAD, EDEADLK, ENOTRECOVERABLE, EINVAL, ESRCH or EIO",
                "bad.yaml:8: thread T, step 3: unknown outcome 'etimedout'; did you mean 'ETIMEDOUT'? an unlock gives "
                        + "ok, EPERM, EINVAL, ESRCH or EIO",
                "bad.yaml:9: thread T, step 4: write needs a value, like {write: data, value: 7}",
                "bad.yaml:10: thread T, step 5: 'timeout' does not apply to read; a read takes value and expect",
                "bad.yaml:11: thread T, step 6: sleep has no outcome to expect; only lock, trylock, unlock, "
                        + "consistent, read, write, send, receive and rpc do",
                "bad.yaml:12: thread T, step 7: expect names one outcome, like ok or EIO");
        Scenario ok = ScenarioParser.parse(file.replace("{lock: m, expect: ETIMEDOUT}",
                "{lock: m, timeout: 1ms, expect: ETIMEDOUT}").replace("EDEADLOCK", "busy").replace("etimedout", "EPERM")
                .replace("{write: data,", "{write: data, value: 1,").replace(", timeout: 3ms}", "}")
                .replace("{sleep: 1ms, expect: ok}", "{sleep: 1ms}").replace("[ok]", "EINVAL"), "good.yaml");
        assertThat(ok.thread("T").program()).extracting(Step::expect)
                .containsExactly("ETIMEDOUT", "busy", "EPERM", "ok", null, null, "EINVAL");
    }

    @Test
    void referencesAndNamesAreChecked() {
        String file = """
                kernels: [{name: A}, {name: A, cpu: 2}]
                objects: {shared: 5000}
                words: {m: {object: sharde}, n: {offset: 6}}
                threads:
                  - {name: T, kernel: B, program: [{lock: n}, {unlok: m}, exti]}
                  - {name: T, start: 5, priority: 0, program: [{lock: m, unlock: m}, {timeout: 1ms}]}
                expect:
                  - {thread: T, finishesBefore: U, boostedTo: 100}
                  - {thread: T, neverBoosted: false, when: always}
                """;
        assertThat(errorOf(file).errors()).containsExactly(
                "bad.yaml:1: kernel A: unknown key 'cpu'; did you mean 'cpus'? a kernel takes name and cpus",
                "bad.yaml:1: kernel A: two kernels are named 'A'",
                "bad.yaml:2: object shared: size 5000 is not a positive multiple of the page size, 4096",
                "bad.yaml:3: word m: no object named 'sharde'; did you mean 'shared'? objects are [shared]",
                "bad.yaml:3: word n: offset 6 must be 4-byte aligned and inside 'shared' (5000 bytes)",
                "bad.yaml:5: thread T: no kernel named 'B'; kernels are [A, A]",
                "bad.yaml:5: thread T, step 2: unknown key 'unlok'; did you mean 'unlock'? a step is one of lock, "
                        + "trylock, unlock, consistent, compute, sleep, read, write, priority, exit, die, port_allocate, send, receive or rpc",
                "bad.yaml:5: thread T, step 3: unknown step 'exti'; did you mean 'exit'? a step is one of lock, "
                        + "trylock, unlock, consistent, compute, sleep, read, write, priority, exit, die, port_allocate, send, receive or rpc",
                "bad.yaml:6: thread T: two threads have this name",
                "bad.yaml:6: thread T: priority 0 must be 1 to 99",
                "bad.yaml:6: thread T: start '5' needs a unit, like 50ms or 200us",
                "bad.yaml:6: thread T, step 1: one step does one thing; found both lock and unlock",
                "bad.yaml:6: thread T, step 2: no step found; a step is one of lock, trylock, unlock, consistent, "
                        + "compute, sleep, read, write, priority, exit, die, port_allocate, send, receive or rpc",
                "bad.yaml:8: expectation 1 (thread T): one expectation checks one thing; found both finishesBefore "
                        + "and boostedTo: write two",
                "bad.yaml:8: expectation 1 (thread T): no thread named 'U'; threads are [T, T]",
                "bad.yaml:9: expectation 2 (thread T): when must be pi or no-pi, not 'always'",
                "bad.yaml:9: expectation 2 (thread T): neverBoosted takes true; leave the expectation out to expect "
                        + "nothing");
    }

    @Test
    void malformedYamlIsOneLineWithItsLineAndColumn() {
        ScenarioException e = errorOf("kernels: [{name: A}]\nthreads:\n  - {name: T, program: [exit]\n  - x\n");
        assertThat(e.getMessage()).matches("bad\\.yaml:4:[1-9][0-9]*: not valid YAML: .*").hasLineCount(1);
        assertThat(errorOf("kernels:\n\t- name: A\n").getMessage()).startsWith("bad.yaml:2:1: not valid YAML: ")
                .contains("TAB").hasLineCount(1);
        assertThat(errorOf("kernels: [{name: A}]\nkernels: [{name: B}]\nthreads: [{name: T, program: [exit]}]\n")
                .errors()).containsExactly("bad.yaml:2: 'kernels' is written twice in one mapping");
    }

    @Test
    void warnsOfThreadsThatStartLessThan10msApartAndUseAWord() {
        String file = """
                kernels: [{name: A}]
                words: {m: 0, n: 64}
                threads:
                  - {name: L, program: [{lock: m}, {compute: 20ms}, {unlock: m}]}
                  - {name: H, start: 5ms, program: [{lock: m}, {unlock: m}]}
                  - {name: M, start: 5ms, program: [{compute: 10ms}]}
                  - {name: N, start: 14ms, program: [{lock: n}, {unlock: n}]}
                """;
        assertThat(ScenarioParser.parse(file, "w.yaml").warnings()).containsExactly(
                "w.yaml:5: warning: thread H starts 5ms after L (line 4), and both use m; events whose order decides "
                        + "an outcome need 10ms between them, or real timing may flip them");
        assertThat(ScenarioParser.parse(file.replace("start: 5ms, program: [{lock: m}", "start: 10ms, program: [{lock: m}"),
                "w.yaml").warnings()).isEmpty();
    }

    @Test
    void warnsOfATimeoutThatExpiresLessThan10msFromAStartOrTheEndOfAComputation() {
        String file = """
                kernels: [{name: A}]
                words: {m: 0}
                threads:
                  - {name: L, priority: 10, program: [{lock: m}, {compute: 15ms}, {sleep: 10ms}, {unlock: m}]}
                  - {name: M, priority: 50, start: 28ms, program: [{compute: 50ms}]}
                  - {name: H, priority: 90, start: 10ms, program: [{lock: m, timeout: 10ms, expect: ETIMEDOUT}]}
                """;
        assertThat(ScenarioParser.parse(file, "t.yaml").warnings()).containsExactly(
                "t.yaml:6: warning: thread H, step 1: the lock's timeout expires at 20ms, 5ms before L's sleep ends at "
                        + "25ms (line 4); events whose order decides an outcome need 10ms between them, or real timing "
                        + "may flip them",
                "t.yaml:6: warning: thread H, step 1: the lock's timeout expires at 20ms, 8ms before M starts (line 5); "
                        + "events whose order decides an outcome need 10ms between them, or real timing may flip them");
        // L's schedule is not known after a lock that may wait (H's lock of m, started no later, comes first).
        assertThat(ScenarioParser.parse(file.replace("name: L, priority: 10,", "name: L, priority: 10, start: 10ms,")
                .replace("start: 28ms", "start: 40ms"), "t.yaml").warnings())
                .noneMatch(w -> w.contains("L's sleep"));
    }

    /** YAML reads an unquoted On as the boolean true: a thread so named printed as "true", without an error. */
    @Test
    void aNameYamlReadsAsABooleanIsAnErrorThatSaysToQuoteIt() {
        String onThread = """
                kernels: [{name: A}]
                words: {m: {offset: 0}}
                threads:
                  - {name: On, program: [{lock: m}, {unlock: m}]}
                """;
        assertError(onThread, "bad.yaml:4: thread 1: 'name' was read as the boolean true: YAML reads On, Off, Yes, No, "
                + "True and False unquoted as booleans; quote the name, like name: 'On'");
        assertThat(ScenarioParser.parse(onThread.replace("name: On", "name: 'On'"), "t.yaml").threads().get(0).name())
                .isEqualTo("On");
        assertError("""
                kernels: [{name: A}, {name: B}]
                words: {m: {offset: 0}}
                threads:
                  - {name: T, kernel: No, program: [{lock: m}]}
                """, "'kernel' was read as the boolean false");
    }

    @Test
    void theShippedScenariosAreFreeOfErrors() throws Exception {
        for (Path file : ShippedScenariosTest.scenarios().toList()) {
            assertThat(ScenarioParser.parse(file).warnings()).allMatch(w -> w.startsWith(file.getFileName() + ":"));
        }
    }

    private static ScenarioException errorOf(String yaml) {
        return catchThrowableOfType(ScenarioException.class, () -> ScenarioParser.parse(yaml, "bad.yaml"));
    }

    private static void assertError(String yaml, String message) {
        assertThatThrownBy(() -> ScenarioParser.parse(yaml, "bad.yaml"))
                .isInstanceOf(ScenarioException.class)
                .hasMessageStartingWith("bad.yaml")
                .hasMessageContaining(message);
    }
}
