package io.machxp.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machxp.trace.XpTrace;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * A scenario names the pager of each object (pagers: N, and {size, pager} under objects): the
 * simulator gives each object to its pager, the futexes of each object are asked of that pager
 * only, and bad pager numbers are mistakes that say what is right.
 */
class ScenarioPagersTest {
    static final Path TWO_PAGERS = ShippedScenariosTest.DIR.resolve("two-pagers.yaml");

    @Test
    void eachObjectIsServedByThePagerItNames() {
        Scenario s = ScenarioParser.parse(TWO_PAGERS);
        assertThat(s.pagers().count()).isEqualTo(2);
        assertThat(s.pagers().pagerOf("a")).isZero();
        assertThat(s.pagers().pagerOf("b")).isEqualTo(1);
        assertThat(s.objects()).containsEntry("a", 65536L).containsEntry("b", 65536L);

        XpTrace trace = new XpTrace();
        ScenarioResult r = ScenarioRun.sim(s, 1, true, trace);
        assertThat(r.checks()).allSatisfy(c -> assertThat(c.passed()).as(c.expectation() + ": " + c.measured()).isTrue());
        // futex m is at offset 0 of a, n at offset 0 of b: each pager hears only of its own
        Set<String> askedOf = trace.messages().stream().filter(m -> m.routine().equals("lock_futex"))
                .map(XpTrace.Xp::to).collect(Collectors.toSet());
        assertThat(askedOf).containsExactlyInAnyOrder("pager", "pager1");
        Set<String> relinquishedBy = trace.messages().stream().filter(m -> m.routine().equals("relinquish_futex"))
                .map(m -> m.from() + "->" + m.to()).collect(Collectors.toSet());
        assertThat(relinquishedBy).as("each pager asks the owner's kernel of its own futex")
                .containsExactlyInAnyOrder("pager->A", "pager1->B");
    }

    @Test
    void withoutPagersEveryObjectIsOnTheOnePager() {
        Scenario s = ScenarioParser.parse("""
                kernels: [{name: A}]
                objects: {x: 8KiB, y: {size: 4096}}
                threads: [{name: T, kernel: A, program: [{compute: 1ms}]}]
                """, "one.yaml");
        assertThat(s.pagers().count()).isEqualTo(1);
        assertThat(s.objects()).containsEntry("x", 8192L).containsEntry("y", 4096L);
    }

    @Test
    void aPagerThatIsNotThereIsAMistakeThatSaysWhatIsRight() {
        assertThatThrownBy(() -> ScenarioParser.parse("""
                pagers: 2
                kernels: [{name: A}]
                objects: {x: {size: 8KiB, pager: 2}, y: {pager: 1}, z: {size: 4KiB, pagr: 1}}
                threads: [{name: T, kernel: A, program: [{compute: 1ms}]}]
                """, "bad.yaml"))
                .isInstanceOf(ScenarioException.class)
                .hasMessageContaining("bad.yaml:3: object x: pager 2 is not one of the scenario's 2 pager(s), numbered 0 to 1")
                .hasMessageContaining("object y: an object written as a mapping needs its size")
                .hasMessageContaining("unknown key 'pagr'");
        assertThatThrownBy(() -> ScenarioParser.parse("""
                kernels: [{name: A}]
                objects: {x: {size: 8KiB, pager: 1}}
                threads: [{name: T, kernel: A, program: [{compute: 1ms}]}]
                """, "one.yaml"))
                .hasMessageContaining("say how many with pagers: N at the top");
        assertThatThrownBy(() -> ScenarioParser.parse("""
                pagers: 0
                kernels: [{name: A}]
                threads: [{name: T, kernel: A, program: [{compute: 1ms}]}]
                """, "zero.yaml"))
                .hasMessageContaining("pagers 0 must be 1 to 64");
    }
}
