package io.machxp.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The parts of linux mode that need no real thread: word values, CPUs, the "not supported" sentence, the interface rule. */
class LinuxSupportTest {
    private static Step step(Step.Kind kind, String word, String expect) {
        return new Step(kind, word, -1, kind == Step.Kind.WRITE ? 4242 : 0, expect);
    }

    private static Scenario scenario(List<Scenario.KernelSpec> kernels, List<Scenario.ThreadSpec> threads) {
        return new Scenario("s", "", 1, 0, 0, kernels, Map.of("shared", 65536L),
                Map.of("m", new Scenario.WordSpec("m", "shared", 0), "n", new Scenario.WordSpec("n", "shared", 64),
                        "data", new Scenario.WordSpec("data", "shared", 128)),
                threads, List.of(), 1_000_000_000L);
    }

    private static final List<Scenario.KernelSpec> ONE = List.of(new Scenario.KernelSpec("A", 1));

    @Test
    void wordValuesAreShownByMeaningTheSameOnEveryPlatform() {
        Scenario s = scenario(ONE, List.of(new Scenario.ThreadSpec("T", "A", "T", 1, 0, List.of(
                step(Step.Kind.LOCK, "m", null), step(Step.Kind.WRITE, "m", null), step(Step.Kind.WRITE, "data", null)))));
        WordValues v = new WordValues(s, Map.of(1234, "T", 99, "U"));
        assertThat(v.render("m", 0)).isEqualTo("free");
        assertThat(v.render("m", 1234)).isEqualTo("T");
        assertThat(v.render("m", 1234 | 0x80000000)).isEqualTo("T|WAITERS");
        assertThat(v.render("m", 99 | 0x40000000 | 0x80000000)).isEqualTo("U|OWNER_DIED|WAITERS");
        assertThat(v.render("m", 0x40000000)).isEqualTo("OWNER_DIED");
        assertThat(v.render("m", 0x7fffffff)).isEqualTo("NOT_RECOVERABLE");
        assertThat(v.render("m", 4242)).as("a TID the scenario wrote").isEqualTo("4242");
        assertThat(v.render("m", 777)).as("a TID of no thread, not written").isEqualTo("unknown-tid");
        assertThat(v.render("data", 13)).as("data words are numbers").isEqualTo("13");
        assertThat(v.render("data", 0)).isEqualTo("0");
    }

    @Test
    void eachKernelCpuIsOneLinuxCpuInOrderAndTheJvmGetsTheRest() {
        List<Scenario.KernelSpec> kernels = List.of(new Scenario.KernelSpec("A", 1), new Scenario.KernelSpec("B", 2));
        Map<String, int[]> map = LinuxSupport.cpuMap(kernels, new int[] {0, 1, 2, 3});
        assertThat(map.get("A")).containsExactly(0);
        assertThat(map.get("B")).containsExactly(1, 2);
        assertThat(LinuxSupport.jvmCpus(new int[] {0, 1, 2, 3}, map)).containsExactly(3);
        assertThat(LinuxSupport.cpuMap(kernels, new int[] {2, 5, 7}).get("B")).containsExactly(5, 7);
        assertThat(LinuxSupport.cpuMap(kernels, new int[] {0, 1})).as("3 CPUs needed, 2 allowed").isNull();
        Map<String, int[]> all = LinuxSupport.cpuMap(ONE, new int[] {0});
        assertThat(LinuxSupport.jvmCpus(new int[] {0}, all)).as("every CPU used: the JVM shares them").containsExactly(0);
    }

    @Test
    void notSupportedHereIsOneSentenceFromTheErrnoOrTheCpuCount() {
        assertThat(LinuxSupport.unsupported(null, 2, 2, 0, 0)).isNull();
        assertThat(LinuxSupport.unsupported(null, 3, 2, 0, 0)).contains("needs 3 CPUs").contains("2").endsWith(".");
        assertThat(LinuxSupport.unsupported(null, 1, 2, LinuxSupport.EPERM, 0))
                .contains("SCHED_FIFO").contains("EPERM").endsWith("not supported here.");
        assertThat(LinuxSupport.unsupported(null, 1, 2, 0, LinuxSupport.EINVAL))
                .contains("sched_setaffinity: EINVAL").endsWith("not supported here.");
        assertThat(LinuxSupport.unsupported("linux mode needs Linux on x86_64, and this is Mac OS X on aarch64", 1, 2, 0, 0))
                .endsWith("aarch64.");
    }

    @Test
    void wordsThatOwnersMayDieHoldingOrThatAreMadeConsistentAreRobustMutexes() {
        Scenario s = scenario(ONE, List.of(
                new Scenario.ThreadSpec("D", "A", "D", 1, 0, List.of(step(Step.Kind.LOCK, "m", null), new Step(Step.Kind.DIE, null, -1, 0, null))),
                new Scenario.ThreadSpec("E", "A", "E", 1, 0, List.of(step(Step.Kind.LOCK, "n", null), step(Step.Kind.UNLOCK, "n", null))),
                new Scenario.ThreadSpec("F", "A", "F", 1, 0, List.of(step(Step.Kind.TRYLOCK, "data", null)))));
        assertThat(LinuxSupport.robustWords(s)).as("m: held at die; data: held at the end of F's program; n: unlocked")
                .containsExactlyInAnyOrder("m", "data");
        Scenario consistent = scenario(ONE, List.of(new Scenario.ThreadSpec("N", "A", "N", 1, 0, List.of(
                step(Step.Kind.LOCK, "n", "EOWNERDEAD"), step(Step.Kind.CONSISTENT, "m", null), step(Step.Kind.UNLOCK, "n", null)))));
        assertThat(LinuxSupport.robustWords(consistent)).containsExactlyInAnyOrder("m", "n");
    }

    @Test
    void aWordHeldAtAStepExpectedToAnswerEsrchIsARobustMutex() {
        Scenario s = scenario(ONE, List.of(new Scenario.ThreadSpec("X", "A", "X", 1, 0, List.of(
                step(Step.Kind.LOCK, "m", null), step(Step.Kind.LOCK, "d", "ESRCH"), step(Step.Kind.UNLOCK, "m", null)))));
        assertThat(LinuxSupport.robustWords(s)).as("m: held when X's program ends at ESRCH; its unlock never runs")
                .containsExactly("m");
    }

    @Test
    void theEffectivePriorityIsReadFromStatField18() {
        String rt = "4242 (linux-L (x)) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 -91 0 1 0 5 6 7";
        byte[] b = rt.getBytes(StandardCharsets.US_ASCII);
        assertThat(LinuxSupport.effectivePriority(b, b.length)).as("prio -91 is SCHED_FIFO 90").isEqualTo(90);
        String normal = "4242 (java) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 20 0 1 0";
        byte[] n = normal.getBytes(StandardCharsets.US_ASCII);
        assertThat(LinuxSupport.effectivePriority(n, n.length)).isZero();
        assertThat(LinuxSupport.effectivePriority(new byte[] {'x'}, 1)).isEqualTo(-1);
        assertThat(LinuxSupport.errnoName(LinuxSupport.ENOTRECOVERABLE)).isEqualTo("ENOTRECOVERABLE");
        assertThat(LinuxSupport.errnoName(999)).isEqualTo("errno 999");
    }
}
