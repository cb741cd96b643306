package io.machxp.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A Ctrl-C in the terminal of {@code machxp cluster up} reaches its whole process group: the pager
 * and kernels it started get SIGINT too. A server started with {@code --parent-pid} leaves it to its
 * parent, which stops the kernels first (they return their dirty pages) and the pager last; were
 * they to stop on SIGINT themselves, the pager would cut the kernels' streams while they return them.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ParentPidInterruptTest {
    /** The JVM's exit status after a signal: 128 + its number. */
    private static final int BY_SIGINT = 130;
    private static final int BY_SIGTERM = 143;

    @Test
    void aServerWithAParentLeavesCtrlCToIt() throws Exception {
        String parent = Long.toString(ProcessHandle.current().pid());
        try (MachxpProcess alone = MachxpProcess.startInterruptible("pager", "pager", "--port", "0", "--lease-ms", "0",
                "--fresh-start")) {
            alone.port();
            signal("INT", alone);
            int status = alone.exitStatus(60);
            assertThat(status).as("a pager started with SIGINT's default action (env --default-signal=INT) stops on SIGINT")
                    .isEqualTo(BY_SIGINT);
        }
        try (MachxpProcess child = MachxpProcess.startInterruptible("pager", "pager", "--port", "0", "--lease-ms", "0",
                "--fresh-start", "--parent-pid", parent)) {
            child.port();
            signal("INT", child);
            signal("TERM", child); // what cluster up sends it, after its kernels stopped
            int status = child.exitStatus(60);
            assertThat(status).as("stopped by SIGTERM, not by the SIGINT before it:\n" + child.output())
                    .isEqualTo(BY_SIGTERM);
        }
    }

    private static void signal(String name, MachxpProcess p) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(p.handle().pid())).inheritIO().start();
        assertThat(kill.waitFor()).isZero();
    }
}
