package io.machxp.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The machxp command. */
@Command(name = "machxp", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Mach-style kernels and an external pager speaking XP over gRPC, with cached futexes.",
        footer = {"", "Benchmarks and the workbench, from the bench module's jar (./machxp picks it):",
                "  machxp bench | scale | jmh | compare | pager-efficiency"},
        subcommands = {PagerCommand.class, KernelCommand.class, DemoCommand.class, RunCommand.class, TraceCommand.class, ChaosCommand.class,
                CertsCommand.class, ConformCommand.class, CompletionCommand.class, LockCommand.class, ClusterCommand.class,
                StatusCommand.class, ViewCommand.class, LinuxFuzzCommand.class,
                CommandLine.HelpCommand.class})
public final class Machxp implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line, for main and for tests. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Machxp());
        // every command, machxp conform included, exits 1 on a usage error (conform keeps 2 and 3 for what it
        // finds: a case failed, the target unreachable)
        return ExitCodes.configure(cl);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getErr());
    }
}
