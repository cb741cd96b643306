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

    /** --mix contended prints each path the mix is there to reach, with its count; --mix is checked. */
    @Test
    void theContendedMixPrintsItsPaths() {
        ExitCodesTest.Run run = ExitCodesTest.run("chaos", "--mix", "contended", "--seeds", "1", "--duration-ms", "300",
                "--jobs", "1");
        assertThat(run.exit()).as(run.out() + run.err()).isZero();
        assertThat(run.out()).containsPattern("contended paths: trylocks made [1-9][0-9]*, EBUSY [0-9]+, "
                + "relinquish_futex\\(try\\) sent [0-9]+, lock_requests with reply sent [1-9][0-9]*, owners killed with "
                + "waiters [0-9]+, heirs woken [0-9]+, sessions ended for an answer overdue 0");

        ExitCodesTest.Run bogus = ExitCodesTest.run("chaos", "--mix", "bogus");
        assertThat(bogus.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(bogus.err()).contains("--mix: no workload mix \"bogus\": one of standard, contended");
        ExitCodesTest.Run ipc = ExitCodesTest.run("chaos", "--mix", "contended", "--ipc");
        assertThat(ipc.exit()).isEqualTo(ExitCodes.USAGE);
    }
}
