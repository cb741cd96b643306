package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every command that runs takes --verbose, and with it an error that ends the command shows its stack trace. */
class VerboseOptionTest {

    @Test
    void everyCommandThatRunsTakesVerbose() {
        List<String> without = new ArrayList<>();
        collect(Machxp.commandLine(), without);
        assertThat(without).as("commands without --verbose").isEmpty();
    }

    @Test
    void verboseAddsTheStackTraceToTheOneLineError() {
        ExitCodesTest.Run plain = ExitCodesTest.run("status", "--pager", "127.0.0.1:1");
        ExitCodesTest.Run verbose = ExitCodesTest.run("status", "--pager", "127.0.0.1:1", "--verbose");
        assertThat(plain.exit()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(verbose.exit()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(plain.err()).contains("127.0.0.1:1").doesNotContain("\tat ");
        assertThat(verbose.err()).startsWith(plain.err().lines().findFirst().orElseThrow()).contains("\tat ");
    }

    /** Commands with subcommands only route (help, conform, cluster); the ones that run are the leaves. */
    private static void collect(CommandLine cl, List<String> without) {
        if (cl.getSubcommands().isEmpty()) {
            String name = cl.getCommandSpec().qualifiedName();
            if (!name.endsWith(" help") && cl.getCommandSpec().findOption("--verbose") == null) {
                without.add(name);
            }
            return;
        }
        cl.getSubcommands().values().stream().distinct().forEach(sub -> collect(sub, without));
    }
}
