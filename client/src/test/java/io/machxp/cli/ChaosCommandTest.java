package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** machxp chaos --json: one JSON object a script can read, not a printed Java map. */
class ChaosCommandTest {
    @Test
    void jsonHasTheTotalsAndEachRun() throws Exception {
        ExitCodesTest.Run all = ExitCodesTest.run("chaos", "--json", "--seeds", "2", "--duration-ms", "100", "--jobs", "1");
        assertThat(all.exit()).as(all.err()).isZero();
        JsonNode json = new ObjectMapper().readTree(all.out());
        assertThat(json.get("seeds").asInt()).isEqualTo(2);
        assertThat(json.get("passed").asBoolean()).isTrue();
        assertThat(json.get("violations").asInt()).isZero();
        assertThat(json.get("counts").isObject()).isTrue();
        assertThat(json.get("failed").isArray()).isTrue();

        ExitCodesTest.Run one = ExitCodesTest.run("chaos", "--json", "--seed", "3", "--duration-ms", "100", "--history");
        JsonNode run = new ObjectMapper().readTree(one.out());
        assertThat(run.get("seed").asLong()).isEqualTo(3);
        assertThat(run.get("passed").asBoolean()).isTrue();
        assertThat(run.get("history").size()).isPositive();
    }

    @Test
    void jsonIsForTheSimulatorNotForReal() {
        ExitCodesTest.Run real = ExitCodesTest.run("chaos", "--real", "--json");
        assertThat(real.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(real.err()).contains("--json applies to the simulator's runs, not to --real");
    }
}
