package io.machxp.demo.ipc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machxp.cluster.EmbeddedCluster;
import io.machxp.proto.transport.Transport;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The IPC demo on an embedded linked cluster: every step happens, and what it shows is what Mach says. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class IpcDemoTest {
    @Test
    void rightsMoveRpcsAreAnsweredAndTheKilledServerLeavesDeadNames() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        IpcDemo.Report r = IpcDemo.run(3, 20, List.of(), Transport.LOOPBACK_PLAINTEXT,
                new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String log = bytes.toString(StandardCharsets.UTF_8);
        assertThat(r.ok()).as(log).isTrue();
        assertThat(r.clients()).isEqualTo(2);
        assertThat(r.rpcsAnswered()).isEqualTo(40);
        assertThat(r.rpcsWrong()).isZero();
        assertThat(r.deadNameNotifications()).isEqualTo(2);
        assertThat(r.deadNames()).isEqualTo(2);
        assertThat(r.invalidDestAfterKill()).isEqualTo(2);
        assertThat(log).contains("name-server: 'adder' registered")
                .contains("client-B: looked up 'adder'").contains("client-C: looked up 'adder'")
                .contains("client-B: MACH_NOTIFY_DEAD_NAME").contains("a call to it: MACH_SEND_INVALID_DEST");
    }

    @Test
    void kernelsWithoutLinksAreNamedWithWhatToDo() throws Exception {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, true, Map.of("x", 4096L))) {
            assertThatThrownBy(() -> IpcDemo.run(2, 1, cluster.kernelTargets(), Transport.LOOPBACK_PLAINTEXT,
                    new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("kernel A at " + cluster.kernelTargets().get(0) + " has no IPC links")
                    .hasMessageContaining("--ipc-id N --ipc-listen HOST:PORT");
        }
    }
}
