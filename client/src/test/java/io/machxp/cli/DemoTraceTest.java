package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.machxp.trace.TraceEventFormat;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * demo --trace: the embedded cluster's XP messages, recorded in real time on both ends of each
 * stream, written as the trace-event JSON that run --trace writes (the same structure check), and
 * refused where this JVM cannot see the messages (--connect).
 */
class DemoTraceTest {
    @Test
    void theDemoWritesARealTimeTraceOfItsMessages(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("demo.json");
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        ExitCodesTest.Run r;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            r = ExitCodesTest.run("demo", "--json", "--kernels", "2", "--threads", "1", "--futexes", "2", "--ops", "40",
                    "--locality", "0.5", "--warmup", "0", "--trace", file.toString());
        } finally {
            System.setOut(stdout);
        }
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.err()).contains("wrote " + file, "XP messages", "real time");
        JsonNode report = new ObjectMapper().readTree(captured.toString(StandardCharsets.UTF_8));
        assertThat(report.get("violations").asLong()).isZero();

        String json = Files.readString(file);
        Map<Integer, String> processes = TraceEventFormat.assertValid(json);
        assertThat(processes.values()).containsExactly("pager", "kernel A", "kernel B");
        JsonNode root = new ObjectMapper().readTree(json);
        assertThat(root.get("otherData").get("clock").asText()).startsWith("real time");
        int flows = TraceEventFormat.assertFlows(root.get("traceEvents"));
        List<String> names = new ArrayList<>();
        root.get("traceEvents").forEach(e -> names.add(e.get("name").asText()));
        // both kernels use both futexes (locality 0.5): futexes move between them, through the pager
        assertThat(names).contains("→ lock_futex", "← lock_futex", "→ futex_granted", "← futex_granted",
                "→ futex_released");
        assertThat(flows).as("one flow per paired message").isEqualTo(names.stream().filter(n -> n.startsWith("→ ")).count());
        assertThat(flows).isGreaterThan(10);
    }

    @Test
    void runningKernelsCannotBeTracedFromHere(@TempDir Path dir) {
        ExitCodesTest.Run r = ExitCodesTest.run("demo", "--connect", "127.0.0.1:1", "--plaintext", "--trace",
                dir.resolve("t.json").toString());
        assertThat(r.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("--trace records the embedded cluster's messages", "machxp trace");
        assertThat(Files.exists(dir.resolve("t.json"))).isFalse();
    }
}
