package io.machxp.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.variant.Variants;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every shipped scenario under the direct handoff (xp-spec 14), with priority inheritance: the
 * same outcomes and expectations as under the default protocol, since a forwarded copy is only
 * the grant arriving early.
 */
class DirectHandoffScenariosTest {
    static java.util.stream.Stream<Path> scenarios() throws java.io.IOException {
        return ShippedScenariosTest.scenarios();
    }

    @ParameterizedTest
    @MethodSource("scenarios")
    void meetsItsExpectationsUnderDirectHandoff(Path file) {
        ScenarioResult r = ScenarioRun.sim(ScenarioParser.parse(file), 1, true, Variants.of("direct"));
        assertThat(r.completed()).as("every thread ended").isTrue();
        assertThat(r.stepFailures()).isEmpty();
        assertThat(r.checks()).allSatisfy(c -> assertThat(c.passed()).as(c.expectation() + ": " + c.measured()).isTrue());
    }
}
