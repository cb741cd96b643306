package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/** The machxp command as a user runs it. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MachxpCommandTest {

    /** `demo --json` prints one JSON object with every documented key. */
    @Test
    void demoJsonHasTheDocumentedKeys() throws Exception {
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int exit;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            exit = Machxp.commandLine().execute("demo", "--json", "--ops", "40", "--threads", "2");
        } finally {
            System.setOut(stdout);
        }
        assertThat(exit).isZero();
        JsonNode json = new ObjectMapper().readTree(captured.toString(StandardCharsets.UTF_8));
        for (String key : new String[] {"kernels", "threadsPerKernel", "futexes", "ops", "opsPerSecond", "violations",
            "localAcquires", "remoteAcquires", "handoffs", "xpMessages", "xpMessagesTotal", "acquireLatencyMicros"}) {
            assertThat(json.has(key)).as(key).isTrue();
        }
        assertThat(json.get("kernels").asInt()).isEqualTo(3);
        assertThat(json.get("pagers").asInt()).isEqualTo(1);
        assertThat(json.get("threadsPerKernel").asInt()).isEqualTo(2);
        assertThat(json.get("ops").asLong()).isEqualTo(3 * 2 * 40);
        assertThat(json.get("violations").asLong()).isZero();
        assertThat(json.get("xpMessages").isObject()).isTrue();
        for (String key : new String[] {"p50", "p99", "max"}) {
            assertThat(json.get("acquireLatencyMicros").has(key)).as(key).isTrue();
        }
    }

    /** A bad flag value gets one clear line and a non-zero exit, no stack trace. */
    @Test
    void badOptionsAreExplained() {
        StringWriter err = new StringWriter();
        CommandLine cl = Machxp.commandLine();
        cl.setErr(new PrintWriter(err));
        assertThat(cl.execute("demo", "--locality", "1.5")).isNotZero();
        assertThat(err.toString()).contains("--locality must be between 0 and 1").doesNotContain("\tat ");
    }

    /** A kernel whose pager is not there says so and exits. */
    @Test
    void aKernelWithoutItsPagerSaysSo() {
        StringWriter err = new StringWriter();
        CommandLine cl = Machxp.commandLine();
        cl.setErr(new PrintWriter(err));
        assertThat(cl.execute("kernel", "--name", "A", "--pager", "127.0.0.1:1", "--port", "0",
                "--connect-timeout", "5")).isNotZero();
        assertThat(err.toString()).contains("kernel A").contains("127.0.0.1:1");
    }
}
