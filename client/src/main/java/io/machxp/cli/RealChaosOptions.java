package io.machxp.cli;

import io.machxp.chaos.real.RealChaos;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** The options of machxp chaos --real (see docs/chaos-real.md). */
final class RealChaosOptions {
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(s|m|h)?");

    @Option(names = "--real", description = "real processes instead of the simulator: a pager and three kernels as "
            + "JVMs in Linux network namespaces, with link cuts, SIGSTOP pauses, SIGKILLs and restarts "
            + "(needs root and ip; exit 4 where missing, see docs/chaos-real.md)")
    boolean real;

    @Option(names = "--duration", defaultValue = "2m",
            description = "with --real: how long the run lasts, e.g. 90s, 10m (default ${DEFAULT-VALUE})")
    String duration;

    @Option(names = "--real-lease-ms", defaultValue = "3000",
            description = "with --real: the pager's lease in ms (default ${DEFAULT-VALUE})")
    long leaseMillis;

    @Option(names = "--fault-gap", defaultValue = "4s",
            description = "with --real: mean time between faults, e.g. 4s (default ${DEFAULT-VALUE})")
    String faultGap;

    @Option(names = "--workers", defaultValue = "2", description = "with --real: client workers per kernel "
            + "(default ${DEFAULT-VALUE})")
    int workers;

    @Option(names = "--election-timeout-ms", defaultValue = "0", description = "with --real --replicas: the "
            + "replicas' shortest Raft election timeout, the longest twice it (default: Ratis's, 150 to 300 ms)")
    long electionTimeoutMillis;

    /** The options above that apply with --real only. */
    static final java.util.List<String> REAL_ONLY = java.util.List.of("--duration", "--real-lease-ms", "--fault-gap",
            "--workers", "--election-timeout-ms");

    /**
     * A simulator run (no --real) given one of {@link #REAL_ONLY} is refused, not run as if it had
     * not been given: {@code chaos --duration 10s} would otherwise run the default virtual second.
     */
    void refuseWithoutReal(CommandSpec spec) {
        for (String option : REAL_ONLY) {
            if (spec.commandLine().getParseResult().hasMatchedOption(option)) {
                throw new ParameterException(spec.commandLine(), option + " applies with --real only; in the "
                        + "simulator a seed's virtual time is --duration-ms and how many seeds run is --seeds");
            }
        }
    }

    /** Runs chaos on real processes; {@code replicas}: 0 or 1 for one pager process, 3 or 5 for a replicated pager. */
    int run(CommandSpec spec, int futexes, long seed, int replicas) {
        Logs.errorsOnly();
        if (leaseMillis < 500 || workers < 1 || futexes < 1) {
            throw new ParameterException(spec.commandLine(), "--real-lease-ms must be 500 or more, --workers and "
                    + "--futexes 1 or more");
        }
        if (electionTimeoutMillis != 0 && electionTimeoutMillis < 10) {
            throw new ParameterException(spec.commandLine(), "--election-timeout-ms: 10 or more, or 0 for Ratis's");
        }
        return RealChaos.run(new RealChaos.Options(parse(spec, duration, "--duration"), leaseMillis, futexes, workers,
                parse(spec, faultGap, "--fault-gap").toMillis(), seed, Math.max(1, replicas), electionTimeoutMillis), spec.commandLine().getOut());
    }

    private static Duration parse(CommandSpec spec, String text, String option) {
        Matcher m = DURATION.matcher(text.trim());
        if (!m.matches()) {
            throw new ParameterException(spec.commandLine(), option + " '" + text + "' is not a duration: write e.g. "
                    + "90s, 10m or 1h");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2) == null ? "s" : m.group(2)) {
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofSeconds(n);
        };
    }
}
