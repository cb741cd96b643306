package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.machxp.proto.transport.ServerUnreachable;
import io.machxp.scenario.NotSupportedHere;
import io.machxp.scenario.ScenarioException;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** One set of exit codes for every command: 0 ok, 1 usage, 2 a check failed, 3 unreachable, 4 not supported. */
class ExitCodesTest {
    record Run(int exit, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Machxp.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void theCodesAreTheDocumentedOnes() {
        assertThat(new int[] {ExitCodes.OK, ExitCodes.USAGE, ExitCodes.CHECK_FAILED, ExitCodes.UNREACHABLE,
            ExitCodes.NOT_SUPPORTED}).containsExactly(0, 1, 2, 3, 4);
        assertThat(ExitCodes.check(true)).isZero();
        assertThat(ExitCodes.check(false)).isEqualTo(2);
    }

    @Test
    void exceptionsMapToTheirCodeThroughTheirCauses() {
        assertThat(ExitCodes.of(new IllegalArgumentException("--x bad"))).isEqualTo(ExitCodes.USAGE);
        assertThat(ExitCodes.of(new ScenarioException("a.yaml:1: bad"))).isEqualTo(ExitCodes.USAGE);
        assertThat(ExitCodes.of(new NotSupportedHere("no SCHED_FIFO"))).isEqualTo(ExitCodes.NOT_SUPPORTED);
        assertThat(ExitCodes.of(new IllegalStateException("wrapped", new ServerUnreachable("gone", null))))
                .isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(ExitCodes.of(Status.UNAVAILABLE.asRuntimeException())).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(ExitCodes.of(Status.PERMISSION_DENIED.asRuntimeException())).isEqualTo(ExitCodes.USAGE);
    }

    @Test
    void helpAndVersionAreZeroAndParameterErrorsOne() {
        assertThat(run("--help").exit()).isZero();
        assertThat(run("demo", "--help").exit()).isZero();
        Run unknown = run("demo", "--no-such-flag");
        assertThat(unknown.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(unknown.err()).contains("machxp demo: Unknown option: '--no-such-flag'")
                .contains("Try 'machxp demo --help' for its options.").doesNotContain("Usage:");
        Run notANumber = run("chaos", "--seeds", "many");
        assertThat(notANumber.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(run("pager", "--lease-ms", "-1", "--port", "0").exit()).isEqualTo(ExitCodes.USAGE);
        Run tiny = run("pager", "--lease-ms", "5", "--port", "0");
        assertThat(tiny.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(tiny.err()).contains("--lease-ms 5 must be 0 (no lease) or at least 100");
    }

    @Test
    void connectingToNothingIsThreeAndNamesTheAddress() throws Exception {
        try (RefusingPort down = RefusingPort.open()) { // nothing listens there, nor can while it is held
            String target = down.target();
            Run demo = run("demo", "--connect", target, "--pager", target, "--ops", "1");
            assertThat(demo.exit()).isEqualTo(ExitCodes.UNREACHABLE);
            assertThat(demo.err()).contains("cannot reach " + target).contains("is the server running there")
                    .doesNotContain("\tat ").hasLineCount(1);
        }
    }

    /** machxp --help lists each command with one whole sentence, not a first line cut mid-sentence. */
    @Test
    void everyCommandsSummaryIsOneWholeSentence() {
        Machxp.commandLine().getSubcommands().forEach((name, sub) -> {
            if (name.equals("help")) {
                return;
            }
            var spec = sub.getCommandSpec().usageMessage();
            String summary = spec.header().length > 0 ? spec.header()[0] : spec.description()[0];
            assertThat(summary).as(name).endsWith(".").hasSizeLessThan(100);
        });
    }
}
