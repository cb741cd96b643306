package io.machxp.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.machxp.cli.Machxp;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** machxp cluster up as a process: a pager and a kernel as its children, usable, and all gone after down. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ClusterUpTest {
    @Test
    void upStartsAUsableClusterAndDownStopsEveryProcess(@TempDir Path dir) throws Exception {
        Path state = dir.resolve("cluster.pid");
        try (MachxpProcess up = MachxpProcess.start("cluster", "cluster", "up", "--kernels", "1", "--port", "0",
                "--state", state.toString(), "--logs", dir.resolve("logs").toString())) {
            // the whole block, up to its last line (the output is taken line by line, whole lines only):
            // "pager X, kernels Y\n" below needs the line after it read too
            String lastLine = "machxp cluster down --state " + state;
            await().atMost(Duration.ofSeconds(150)).until(() -> up.output().contains(lastLine) || !up.handle().isAlive());
            Matcher m = Pattern.compile("pager (\\S+), kernels (\\S+)\n").matcher(up.output());
            assertThat(m.find()).as(up.output()).isTrue();
            List<ProcessHandle> children = up.handle().children().toList();
            assertThat(children).hasSize(2);
            assertThat(up.output()).contains("machxp lock --kernel " + m.group(2) + " shared:0")
                    .contains("machxp cluster down --state " + state);

            assertThat(run("lock", "--kernel", m.group(2), "shared:0", "--", "true")).isZero();

            assertThat(run("cluster", "down", "--state", state.toString())).isZero();
            for (ProcessHandle child : children) {
                assertThat(child.onExit().get(60, TimeUnit.SECONDS).isAlive()).isFalse();
            }
            assertThat(up.handle().isAlive()).isFalse();
            assertThat(state).doesNotExist();
            assertThat(run("cluster", "down", "--state", state.toString())).as("nothing left to stop").isEqualTo(1);
        }
    }

    /** SIGKILL runs no shutdown hook: the children see their parent end (--parent-pid) and stop by themselves. */
    @Test
    void childrenStopWhenClusterUpIsKilled(@TempDir Path dir) throws Exception {
        try (MachxpProcess up = MachxpProcess.start("cluster", "cluster", "up", "--kernels", "1", "--port", "0",
                "--state", dir.resolve("cluster.pid").toString(), "--logs", dir.resolve("logs").toString())) {
            await().atMost(Duration.ofSeconds(150)).until(() -> up.output().contains("machxp cluster up:")
                    || !up.handle().isAlive());
            List<ProcessHandle> children = up.handle().children().toList();
            assertThat(children).as(up.output()).hasSize(2);

            up.kill();

            for (ProcessHandle child : children) { // (their logs went through the parent: nothing more is written)
                assertThat(child.onExit().get(60, TimeUnit.SECONDS).isAlive()).isFalse();
            }
        }
    }

    private static int run(String... args) {
        CommandLine cl = Machxp.commandLine();
        cl.setOut(new PrintWriter(new StringWriter()));
        cl.setErr(new PrintWriter(new StringWriter()));
        return cl.execute(args);
    }
}
