package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Small points of the frontdoor review (L1, L6, L8), each failing on the code before its fix. */
class FrontDoorLowsTest {
    /** L1: cluster up's pid file and logs go to $TMPDIR, as cli.md and --help say, not always to /tmp. */
    @Test
    void clusterStateGoesToTmpdir(@TempDir Path dir) {
        assertThat(ClusterCommand.temporaryDirectory(Map.of("TMPDIR", dir.toString()))).isEqualTo(dir);
        Path javaTmp = Path.of(System.getProperty("java.io.tmpdir"));
        assertThat(ClusterCommand.temporaryDirectory(Map.of())).isEqualTo(javaTmp);
        assertThat(ClusterCommand.temporaryDirectory(Map.of("TMPDIR", dir.resolve("missing").toString()))).isEqualTo(javaTmp);
    }

    /** L6: an option of chaos --real given to a simulator run is refused, not silently ignored. */
    @Test
    void chaosRefusesRealOnlyOptionsWithoutReal() {
        for (String[] args : new String[][] {{"--duration", "10s"}, {"--workers", "3"}, {"--fault-gap", "2s"}}) {
            ExitCodesTest.Run r = ExitCodesTest.run("chaos", "--seeds", "1", args[0], args[1]);
            assertThat(r.exit()).as(r.err()).isEqualTo(ExitCodes.USAGE);
            assertThat(r.err()).contains(args[0] + " applies with --real only");
        }
    }

    /** L5: a file error says why, not only the path (nor a Java class name). */
    @Test
    void fileErrorsSayWhy() {
        var missing = new java.nio.file.NoSuchFileException("/nonexistent/x.json");
        assertThat(ExitCodes.sentence(new java.io.UncheckedIOException(missing)))
                .isEqualTo("/nonexistent/x.json: no such file or directory (does its directory exist?)");
        assertThat(ExitCodes.sentence(missing)).startsWith("/nonexistent/x.json: no such file");
        assertThat(ExitCodes.sentence(new IllegalStateException("cannot open /d: /d",
                new java.nio.file.AccessDeniedException("/d")))).isEqualTo("cannot open /d: permission denied");
        assertThat(ExitCodes.sentence(new IllegalArgumentException("plain"))).isEqualTo("plain");
    }

    /** L5: an address that is not HOST:PORT is a usage error naming the option, before any connection. */
    @Test
    void addressesThatAreNotHostPortAreUsageErrors() {
        ExitCodesTest.Run status = ExitCodesTest.run("status", "--pager", "localhost:notaport");
        assertThat(status.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(status.err()).contains("--pager 'localhost:notaport' is not HOST:PORT");
        ExitCodesTest.Run lock = ExitCodesTest.run("lock", "--kernel", "127.0.0.1", "shared:0", "--", "true");
        assertThat(lock.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(lock.err()).contains("--kernel '127.0.0.1' is not HOST:PORT");
    }

    /** L9: one session is "1 session", not "1 sessions". */
    @Test
    void oneSessionIsSingular() {
        java.io.StringWriter text = new java.io.StringWriter();
        StatusCommand.table(new java.io.PrintWriter(text, true), io.machxp.proto.admin.PagerStatusReply.newBuilder()
                .setPagerName("p").setLeaseMs(5000).addSessions(io.machxp.proto.admin.SessionStatus.newBuilder()
                        .setKernelName("A")).build(), java.util.List.of());
        assertThat(text.toString()).startsWith("pager p: 1 session, lease 5000 ms");
    }

    /** L8: the completion script lists the bench jar's commands too, as --help does. */
    @Test
    void completionListsEveryCommand() {
        String script = ExitCodesTest.run("completion", "bash").out();
        String commands = script.lines().filter(l -> l.contains("local commands=")).findFirst().orElseThrow();
        assertThat(commands).contains("bench", "scale", "jmh", "compare", "pager-efficiency", "lock", "status");
    }
}
