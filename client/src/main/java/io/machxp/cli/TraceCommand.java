package io.machxp.cli;

import io.machxp.scenario.Scenario;
import io.machxp.scenario.ScenarioException;
import io.machxp.scenario.ScenarioParser;
import io.machxp.scenario.ScenarioResult;
import io.machxp.scenario.ScenarioRun;
import io.machxp.trace.XpTrace;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * machxp trace FILE -o OUT.json: runs a scenario in the simulator (virtual time, seeded) only to
 * record it, and writes the Chrome trace-event JSON (and, with --chart, the sequence chart). The
 * same recording and writing as run --trace (TraceOptions); this command prints a one-line summary
 * instead of the timeline.
 */
@Command(name = "trace", mixinStandardHelpOptions = true,
        description = {"Record a scenario's sim run as Chrome trace-event JSON, for Perfetto or chrome://tracing.",
                "Every XP message, futex state change, boost and page move, in virtual time; optionally an SVG sequence chart.",
                "Exit code 0 when the trace was written (whether or not the scenario's expectations held), 1 on a bad file or usage."})
final class TraceCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "FILE", description = "the scenario, e.g. scenarios/cross-kernel-inversion.yaml")
    Path file;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE.json", defaultValue = "machxp-trace.json",
            description = "where to write the trace-event JSON (default ${DEFAULT-VALUE})")
    Path output;

    @Option(names = "--seed", description = "the seed of the run (default: the file's, else 1)")
    Long seed;

    @Option(names = "--no-pi", description = "no priority inheritance: FIFO futex queues, no boosting")
    boolean noPi;

    @Mixin
    ChartOptions chart = new ChartOptions();

    @Mixin
    VerboseOption verbose = new VerboseOption();

    @Override
    public Integer call() throws IOException {
        Logs.warningsOnly();
        TraceOptions traces = TraceOptions.to(output, chart);
        Scenario scenario;
        ScenarioResult result;
        XpTrace trace = traces.recorder();
        try {
            scenario = ScenarioParser.parse(file);
            scenario.warnings().forEach(spec.commandLine().getErr()::println);
            traces.check(scenario);
            result = ScenarioRun.sim(scenario, seed != null ? seed : scenario.seed(), !noPi, trace);
        } catch (ScenarioException e) {
            spec.commandLine().getErr().println("machxp trace: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        traces.write(trace, scenario);
        spec.commandLine().getOut().printf(Locale.ROOT, "%s: %d XP messages, %d events; expectations %s; wrote %s%s%n",
                file, trace.messages().size(), trace.marks().size(), result.passed() ? "held" : "did NOT hold",
                output, chart.svg == null ? "" : " and " + chart.svg);
        spec.commandLine().getOut().flush();
        return ExitCodes.OK;
    }
}
