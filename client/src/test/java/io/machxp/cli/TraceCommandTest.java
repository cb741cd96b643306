package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.trace.TraceEventFormat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * machxp trace as a user runs it: the JSON it writes has the trace-event format's structure, is
 * the same trace as run --trace of the same seed, the chart honours --futex and --window, and bad
 * options are usage errors.
 */
class TraceCommandTest {
    static final String INVERSION = RunCommandTest.INVERSION;

    @Test
    void traceWritesAValidTraceEventFileAndSaysWhatItRecorded(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("t.json");
        ExitCodesTest.Run r = ExitCodesTest.run("trace", INVERSION, "-o", out.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("XP messages", "expectations held", out.toString());
        Map<Integer, String> processes = TraceEventFormat.assertValid(Files.readString(out));
        assertThat(processes.values()).containsExactly("pager", "kernel A", "kernel B");
        var events = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.toFile()).get("traceEvents");
        assertThat(TraceEventFormat.assertFlows(events)).as("message flows").isGreaterThanOrEqualTo(6);
    }

    @Test
    void traceAndRunTraceRecordTheSameRun(@TempDir Path dir) throws Exception {
        Path viaTrace = dir.resolve("a.json");
        Path viaRun = dir.resolve("b.json");
        assertThat(ExitCodesTest.run("trace", INVERSION, "-o", viaTrace.toString(), "--seed", "5").exit()).isZero();
        assertThat(ExitCodesTest.run("run", INVERSION, "--trace", viaRun.toString(), "--seed", "5").exit()).isZero();
        TraceEventFormat.assertValid(Files.readString(viaRun));
        assertThat(Files.readString(viaTrace)).isEqualTo(Files.readString(viaRun));
    }

    @Test
    void theChartHonoursFutexAndWindow(@TempDir Path dir) throws Exception {
        Path all = dir.resolve("all.svg");
        Path early = dir.resolve("early.svg");
        ExitCodesTest.Run a = ExitCodesTest.run("trace", INVERSION, "-o", dir.resolve("a.json").toString(),
                "--chart", all.toString(), "--futex", "m");
        ExitCodesTest.Run b = ExitCodesTest.run("trace", INVERSION, "-o", dir.resolve("b.json").toString(),
                "--chart", early.toString(), "--futex", "m", "--window", "..0ms");
        assertThat(a.exit()).as(a.err()).isZero();
        assertThat(b.exit()).as(b.err()).isZero();
        assertThat(Files.readString(all)).startsWith("<svg").contains("relinquish_futex");
        assertThat(Files.readString(early)).startsWith("<svg").doesNotContain("relinquish_futex");
    }

    @Test
    void badOptionsAreUsageErrorsThatSayWhatToDo(@TempDir Path dir) {
        String out = dir.resolve("t.json").toString();
        ExitCodesTest.Run window = ExitCodesTest.run("trace", INVERSION, "-o", out, "--chart", "c.svg", "--window", "10ms");
        assertThat(window.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(window.err()).contains("--window takes FROM..TO");
        ExitCodesTest.Run futex = ExitCodesTest.run("trace", INVERSION, "-o", out, "--chart", "c.svg", "--futex", "nope");
        assertThat(futex.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(futex.err()).contains("machxp trace: --futex: the scenario has no word 'nope'");
        assertThat(dir.resolve("t.json")).doesNotExist();
    }
}
