package io.machxp.cli;

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

/** machxp run FILE: a scenario, in virtual time (sim) or on loopback gRPC (real). */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run a scenario file (YAML): kernels, threads with priorities and programs, expectations.",
                "Exit code 0 when every expectation holds, 2 when one does not, 1 on a bad file."})
final class RunCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "FILE", description = "the scenario, e.g. scenarios/cross-kernel-inversion.yaml")
    Path file;

    @Option(names = "--mode", defaultValue = "sim",
            description = "sim: virtual time, seeded, repeatable; real: embedded pager and kernels on loopback gRPC (default ${DEFAULT-VALUE})")
    String mode;

    @Option(names = "--seed", description = "the seed of a sim run (default: the file's, else 1)")
    Long seed;

    @Option(names = "--no-pi", description = "no priority inheritance: FIFO futex queues, no boosting")
    boolean noPi;

    @Option(names = "--json", description = "print the run as JSON: threads, checks and the event log")
    boolean json;

    @Option(names = {"-v", "--verbose"}, description = "show every dispatch in the timeline")
    boolean verbose;

    @Override
    public Integer call() {
        Logs.warningsOnly();
        Scenario scenario;
        try {
            scenario = ScenarioParser.parse(file);
        } catch (ScenarioException e) {
            spec.commandLine().getErr().println("machxp run: " + e.getMessage());
            return 1;
        }
        scenario.warnings().forEach(spec.commandLine().getErr()::println);
        ScenarioResult result = switch (mode) {
            case "sim" -> ScenarioRun.sim(scenario, seed != null ? seed : scenario.seed(), !noPi);
            case "real" -> ScenarioRun.real(scenario, !noPi);
            default -> {
                spec.commandLine().getErr().println("machxp run: --mode must be sim or real, not '" + mode + "'");
                yield null;
            }
        };
        if (result == null) {
            return 1;
        }
        spec.commandLine().getOut().print(json ? Timeline.json(result) + "\n" : Timeline.text(result, verbose));
        spec.commandLine().getOut().flush();
        return result.passed() ? 0 : 2;
    }
}
