package io.machxp.cli;

import io.machxp.scenario.Comparison;
import io.machxp.scenario.LinuxCompare;
import io.machxp.scenario.NotSupportedHere;
import io.machxp.scenario.Scenario;
import io.machxp.scenario.ScenarioException;
import io.machxp.scenario.ScenarioParser;
import io.machxp.scenario.ScenarioResult;
import io.machxp.scenario.ScenarioRun;
import io.machxp.scenario.Timeline;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * machxp run FILE: a scenario, in virtual time (sim), on loopback gRPC (real), or as real
 * SCHED_FIFO threads on Linux PI futexes (linux); --compare linux runs it in sim and on Linux
 * and prints both side by side.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run a scenario file (YAML): kernels, threads with priorities and programs, expectations.",
                "Exit code 0 when every expectation holds (with --compare: when both runs agree), 2 when one does not",
                "(they differ), 1 on a bad file or usage, 4 when linux mode is not supported on this machine."})
final class RunCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "FILE", arity = "1..*",
            description = "the scenario, e.g. scenarios/cross-kernel-inversion.yaml (several only with --compare linux)")
    java.util.List<Path> files;

    @Option(names = "--skip-unfit",
            description = "with --compare linux: a file that needs more CPUs than this machine has is skipped, not a failure")
    boolean skipUnfit;

    @Option(names = "--verdicts",
            description = "with --compare linux: a verdict line per file and a summary, as with several files, for one file too")
    boolean verdicts;

    @Option(names = "--mode", defaultValue = "sim",
            description = "sim: virtual time, seeded, repeatable; real: embedded pager and kernels on loopback gRPC; "
                    + "linux: real SCHED_FIFO threads on Linux PI futexes and robust mutexes, see docs/linux-mode.md (default ${DEFAULT-VALUE})")
    String mode;

    @Option(names = "--compare", paramLabel = "linux",
            description = "run the scenario in sim (with its seed) and on Linux, and print each thread's step outcomes, "
                    + "highest priorities and each word's order of acquisition side by side, differences marked")
    String compare;

    @Option(names = "--seed", description = "the seed of a sim run (default: the file's, else 1)")
    Long seed;

    @Option(names = "--no-pi", description = "no priority inheritance: FIFO futex queues, no boosting")
    boolean noPi;

    @Option(names = "--json", description = "print the run as JSON: threads, checks and the event log")
    boolean json;

    @Option(names = {"-v", "--verbose"}, description = "show every dispatch in the timeline")
    boolean verbose;

    @Option(names = "--variant", paramLabel = "NAME",
            description = "sim only: the protocol variant of the workbench (cache, direct, ...; docs/workbench.md); "
                    + "default: the default protocol")
    String variantName;

    @picocli.CommandLine.Mixin
    TraceOptions traces = new TraceOptions();

    @Override
    public Integer call() throws java.io.IOException {
        Logs.warningsOnly();
        if (files.size() > 1 || skipUnfit || verdicts) {
            if (!"linux".equals(compare) || json || traces.wanted()) {
                spec.commandLine().getErr().println("machxp run: several files, --skip-unfit and --verdicts only with"
                        + " --compare linux (without --json, --trace or --chart)");
                return ExitCodes.USAGE;
            }
            if (!mode.equals("sim") || noPi || variantName != null) {
                return compareRefused();
            }
            return new LinuxComparisons(spec.commandLine().getOut(), spec.commandLine().getErr(), skipUnfit)
                    .run(files, seed);
        }
        Path file = files.get(0);
        Scenario scenario;
        try {
            scenario = ScenarioParser.parse(file);
        } catch (ScenarioException e) {
            spec.commandLine().getErr().println("machxp run: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        scenario.warnings().forEach(spec.commandLine().getErr()::println);
        if (compare != null) {
            return compare(scenario);
        }
        if (traces.wanted() && (!mode.equals("sim") || compare != null)) {
            spec.commandLine().getErr().println("machxp run: --trace and --chart record a sim run (virtual time); "
                    + "leave out --mode and --compare");
            return ExitCodes.USAGE;
        }
        if (mode.equals("linux") && noPi) {
            spec.commandLine().getErr().println("machxp run: linux mode always inherits priorities (PI futexes); "
                    + "--no-pi applies to sim and real only");
            return ExitCodes.USAGE;
        }
        io.machxp.variant.Variant variant = null;
        if (variantName != null) {
            if (!mode.equals("sim")) {
                spec.commandLine().getErr().println("machxp run: --variant applies to sim runs only");
                return ExitCodes.USAGE;
            }
            try {
                variant = io.machxp.variant.Variants.of(variantName);
            } catch (IllegalArgumentException e) {
                spec.commandLine().getErr().println("machxp run: --variant: " + e.getMessage());
                return ExitCodes.USAGE;
            }
        }
        ScenarioResult result;
        io.machxp.trace.XpTrace trace = traces.recorder();
        try {
            traces.check(scenario);
            result = switch (mode) {
                case "sim" -> ScenarioRun.sim(scenario, seed != null ? seed : scenario.seed(), !noPi, variant, trace);
                case "real" -> ScenarioRun.real(scenario, !noPi);
                case "linux" -> ScenarioRun.linux(scenario);
                default -> {
                    spec.commandLine().getErr().println("machxp run: --mode must be sim, real or linux, not '" + mode + "'");
                    yield null;
                }
            };
        } catch (NotSupportedHere e) {
            spec.commandLine().getErr().println("machxp run: " + e.getMessage());
            return ExitCodes.NOT_SUPPORTED;
        } catch (ScenarioException e) {
            spec.commandLine().getErr().println("machxp run: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        if (result == null) {
            return ExitCodes.USAGE;
        }
        if (trace != null) {
            traces.write(trace, scenario);
        }
        spec.commandLine().getOut().print(json ? Timeline.json(result) + "\n" : Timeline.text(result, verbose));
        spec.commandLine().getOut().flush();
        return ExitCodes.check(result.passed());
    }

    private Integer compareRefused() {
        spec.commandLine().getErr().println("machxp run: --compare linux runs sim (with priority inheritance) against "
                + "linux; leave out --mode, --no-pi and --variant");
        return ExitCodes.USAGE;
    }

    private Integer compare(Scenario scenario) {
        if (!compare.equals("linux")) {
            spec.commandLine().getErr().println("machxp run: --compare takes linux, not '" + compare + "'");
            return ExitCodes.USAGE;
        }
        if (!mode.equals("sim") || noPi || variantName != null) {
            return compareRefused();
        }
        ScenarioResult sim = ScenarioRun.sim(scenario, seed != null ? seed : scenario.seed(), true);
        LinuxCompare runs;
        try {
            runs = LinuxCompare.run(scenario, sim);
        } catch (NotSupportedHere e) {
            spec.commandLine().getErr().println("machxp run: " + e.getMessage());
            return ExitCodes.NOT_SUPPORTED;
        }
        if (runs.failed()) {
            spec.commandLine().getErr().println("machxp run: FAILED: " + runs.failure());
            return ExitCodes.CHECK_FAILED;
        }
        Comparison c = runs.comparison();
        spec.commandLine().getOut().print(json ? c.json() + "\n" : c.text());
        spec.commandLine().getOut().flush();
        if (!runs.note().isEmpty()) {
            (json ? spec.commandLine().getErr() : spec.commandLine().getOut()).println(runs.note());
        }
        return ExitCodes.check(c.agreed());
    }
}
