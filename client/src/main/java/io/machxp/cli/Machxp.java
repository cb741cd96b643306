package io.machxp.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The machxp command. */
@Command(name = "machxp", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Mach-style kernels and an external pager speaking XP over gRPC, with cached futexes.",
        footer = {"", "Benchmarks: machxp bench | scale | jmh (the bench module's jar; ./machxp picks it)."},
        subcommands = {PagerCommand.class, KernelCommand.class, DemoCommand.class, RunCommand.class, ChaosCommand.class,
                CertsCommand.class,
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
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("machxp " + cmd.getCommandName() + ": " + e.getMessage());
            return 1;
        });
        return cl;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getErr());
    }
}
