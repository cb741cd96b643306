package io.machxp.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The machxp command. */
@Command(name = "machxp", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Mach-style kernels and an external pager speaking XP over gRPC, with cached futexes.",
        footer = {"", "Benchmarks: machxp bench | scale | jmh (the bench module's jar; ./machxp picks it)."},
        subcommands = {PagerCommand.class, KernelCommand.class, DemoCommand.class, RunCommand.class, ChaosCommand.class,
                CertsCommand.class, ConformCommand.class,
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
        // machxp conform keeps 2 and 3 for what it finds (a case failed, the target unreachable): usage is 1
        CommandLine.IParameterExceptionHandler usage = cl.getParameterExceptionHandler();
        cl.setParameterExceptionHandler((e, args) -> {
            int status = usage.handleParseException(e, args);
            return underConform(e.getCommandLine()) ? 1 : status;
        });
        return cl;
    }

    private static boolean underConform(CommandLine cmd) {
        for (CommandLine c = cmd; c != null; c = c.getParent()) {
            if (c.getCommandSpec().userObject() instanceof ConformCommand) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getErr());
    }
}
