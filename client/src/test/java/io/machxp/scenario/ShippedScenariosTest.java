package io.machxp.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every scenario shipped in scenarios/ runs in sim mode, with and without priority inheritance,
 * and meets its expectations and the outcomes its steps expect; and a sim run is a function of
 * its file and seed.
 */
class ShippedScenariosTest {
    static final Path DIR = Path.of("..", "scenarios");

    static Stream<Path> scenarios() throws IOException {
        try (Stream<Path> files = Files.list(DIR)) {
            return files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList().stream();
        }
    }

    @ParameterizedTest
    @MethodSource("scenarios")
    void meetsItsExpectationsWithPriorityInheritance(Path file) {
        ScenarioResult r = ScenarioRun.sim(ScenarioParser.parse(file), 1, true);
        assertThat(r.completed()).as("every thread ended").isTrue();
        assertThat(r.stepFailures()).isEmpty();
        assertThat(r.checks()).allSatisfy(c -> assertThat(c.passed()).as(c.expectation() + ": " + c.measured()).isTrue());
    }

    @ParameterizedTest
    @MethodSource("scenarios")
    void meetsItsExpectationsWithoutPriorityInheritance(Path file) {
        ScenarioResult r = ScenarioRun.sim(ScenarioParser.parse(file), 1, false);
        assertThat(r.completed()).as("every thread ended").isTrue();
        assertThat(r.stepFailures()).isEmpty();
        assertThat(r.checks()).allSatisfy(c -> assertThat(c.passed()).as(c.expectation() + ": " + c.measured()).isTrue());
    }

    @ParameterizedTest
    @MethodSource("scenarios")
    void theSameSeedGivesTheSameEventLog(Path file) {
        Scenario s = ScenarioParser.parse(file);
        for (boolean pi : new boolean[] {true, false}) {
            ScenarioResult first = ScenarioRun.sim(s, 42, pi);
            ScenarioResult second = ScenarioRun.sim(s, 42, pi);
            assertThat(second.events()).isNotEmpty().isEqualTo(first.events());
            assertThat(Timeline.json(second)).isEqualTo(Timeline.json(first));
        }
    }
}
