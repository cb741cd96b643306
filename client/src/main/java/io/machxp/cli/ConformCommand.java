package io.machxp.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** machxp conform: the XP conformance kit (docs/xp-spec.md). */
@Command(name = "conform", mixinStandardHelpOptions = true,
        description = "Check an XP implementation against docs/xp-spec.md: every case names the section it checks.",
        subcommands = {ConformPagerCommand.class, ConformKernelCommand.class},
        footer = {"", "Exit status: 0 every MUST case passed; 2 a MUST case failed; 3 the target cannot be reached; "
                + "1 usage."})
final class ConformCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getErr());
    }
}
