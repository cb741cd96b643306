package io.machxp.cli;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.machxp.client.MachxpException;
import io.machxp.proto.transport.ServerUnreachable;
import io.machxp.scenario.NotSupportedHere;
import picocli.CommandLine;

/**
 * The machxp command's exit codes, the same for every command (docs/cli.md lists them), and the
 * one mapping from an exception that ended a command to its code.
 */
public final class ExitCodes {
    /** Done; every check held. */
    public static final int OK = 0;
    /** Bad usage or configuration: an unknown option, a bad value, a missing or malformed file. */
    public static final int USAGE = 1;
    /** A check failed: a violation, an expectation that did not hold, runs that differ. */
    public static final int CHECK_FAILED = 2;
    /** A server (pager or kernel) could not be reached, or did not answer within its deadline. */
    public static final int UNREACHABLE = 3;
    /** Not supported on this machine (e.g. no SCHED_FIFO for run --mode linux). */
    public static final int NOT_SUPPORTED = 4;

    private ExitCodes() {}

    /** The commands of the bench module's jar, which client/target/machxp.jar does not have. */
    static final java.util.Set<String> BENCH_JAR_COMMANDS =
            java.util.Set.of("bench", "scale", "jmh", "compare", "pager-efficiency");

    /**
     * Makes {@code cl} (and the subcommands added later) exit with these codes: a parameter error
     * with {@link #USAGE} after its message and usage, and an exception from a command with
     * {@link #of}'s code after one line naming the command (and the stack trace with --verbose).
     */
    public static CommandLine configure(CommandLine cl) {
        cl.setExitCodeExceptionMapper(ExitCodes::of);
        // A usage error is its sentence and a pointer to --help, not the whole usage text.
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine cmd = ex.getCommandLine();
            if (cmd.getParent() == null && args.length > 0 && BENCH_JAR_COMMANDS.contains(args[0])
                    && !cmd.getSubcommands().containsKey(args[0])) {
                cmd.getErr().println(fullName(cmd) + ": " + args[0] + " runs from the bench module's jar: ./machxp "
                        + args[0] + " (which picks it), or java -jar bench/target/machxp-bench.jar " + args[0]);
                cmd.getErr().flush();
                return USAGE;
            }
            cmd.getErr().println(fullName(cmd) + ": " + ex.getMessage());
            CommandLine.UnmatchedArgumentException.printSuggestions(ex, cmd.getErr());
            cmd.getErr().println("Try '" + fullName(cmd) + " --help' for its options.");
            cmd.getErr().flush();
            return USAGE;
        });
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println(fullName(cmd) + ": " + sentence(e));
            if (verbose(parsed)) {
                e.printStackTrace(cmd.getErr());
            }
            cmd.getErr().flush();
            return of(e);
        });
        return cl;
    }

    /** "machxp cluster up", for messages. */
    static String fullName(CommandLine cmd) {
        return cmd.getCommandSpec().qualifiedName();
    }

    /** The exception's message, else its type (a bug: there is no sentence to show). */
    public static String sentence(Throwable e) {
        String m = FileErrors.explain(e.getMessage(), e);
        return m != null && !m.isBlank() ? m : e.getClass().getName() + " (run again with --verbose for the trace)";
    }

    /** Whether --verbose (or -v) was given to the command or one of its parents. */
    static boolean verbose(CommandLine.ParseResult parsed) {
        for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }

    /** 0 when a check held, else {@link #CHECK_FAILED}. */
    public static int check(boolean held) {
        return held ? OK : CHECK_FAILED;
    }

    /** The code for an exception that ended a command (its causes included). */
    public static int of(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof CommandLine.ParameterException) {
                return USAGE;
            }
            if (t instanceof ServerUnreachable) {
                return UNREACHABLE;
            }
            if (t instanceof NotSupportedHere) {
                return NOT_SUPPORTED;
            }
            if (t instanceof MachxpException m && (m.unreachable() || m.noAnswer())) {
                return UNREACHABLE;
            }
            if (t instanceof StatusRuntimeException s && s.getStatus().getCode() == Status.Code.UNAVAILABLE) {
                return UNREACHABLE;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return USAGE;
    }
}
