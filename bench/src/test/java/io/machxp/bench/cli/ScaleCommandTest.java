package io.machxp.bench.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.machxp.cli.ExitCodes;
import org.junit.jupiter.api.Test;

/**
 * machxp scale --pagers: the pagers measured here and the simulator's CPU-cost model of them. The
 * runs are bounded by operations ({@code --ops}), not by a time: an assertion that some operation
 * finished within --quick's half second failed on a loaded machine.
 */
class ScaleCommandTest {
    @Test
    void pagersAreMeasuredAndModelled() throws Exception {
        CliRun r = CliRun.of("scale", "--quick", "--ops", "20", "--pagers", "1,2", "--json", "--no-chart");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode report = new ObjectMapper().readTree(r.out());
        assertThat(report.get("kernels")).hasSize(2);
        for (JsonNode point : report.get("kernels")) {
            assertThat(point.get("result").get("violations").asLong()).isZero();
        }
        assertThat(report.get("pagers")).hasSize(2);
        for (JsonNode measured : report.get("pagers")) {
            assertThat(measured.get("result").get("ops").asLong()).as("4 kernels x 1 worker x 20").isEqualTo(80);
            assertThat(measured.get("result").get("violations").asLong()).isZero();
        }
        JsonNode model = report.get("pagerModel");
        assertThat(model.get("network").asText()).isEqualTo("lan");
        assertThat(model.get("pagerCpuNanosPerMessage").asLong()).isEqualTo(2_000);
        assertThat(model.get("load").asText()).contains("Part II").contains("32 kernels");
        assertThat(model.get("points")).hasSize(2);
        assertThat(model.get("points").get(0).get("pagers").asInt()).isEqualTo(1);
        assertThat(model.get("points").get(0).get("speedup").asDouble()).isEqualTo(1.0);
        assertThat(model.get("points").get(1).get("pagers").asInt()).isEqualTo(2);
    }

    @Test
    void anUnknownModelNetworkIsAUsageError() {
        CliRun r = CliRun.of("scale", "--pagers", "1,2", "--model-network", "moon", "--no-chart");
        assertThat(r.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("--model-network").contains("lan, dc and wan");
    }
}
