package io.machxp.cli;

import io.machxp.scenario.Durations;
import io.machxp.scenario.Scenario;
import io.machxp.scenario.ScenarioException;
import io.machxp.trace.ChromeTrace;
import io.machxp.trace.SequenceChart;
import io.machxp.trace.XpTrace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;


/**
 * The trace options of run and trace: where to write the Chrome trace-event JSON and the SVG
 * message sequence chart, and what the chart shows (one futex, a time window).
 */
final class TraceOptions {
    @Option(names = "--trace", paramLabel = "FILE",
            description = "write every XP message, futex event, boost and page move as Chrome trace-event JSON "
                    + "(open it in ui.perfetto.dev or chrome://tracing); sim mode")
    Path json;

    @picocli.CommandLine.Mixin
    ChartOptions chart = new ChartOptions();

    /** Options for machxp trace: the JSON goes to {@code output}, the chart as asked. */
    static TraceOptions to(Path output, ChartOptions chart) {
        TraceOptions options = new TraceOptions();
        options.json = output;
        options.chart = chart;
        return options;
    }

    boolean wanted() {
        return json != null || chart.svg != null;
    }

    /** A trace to record into, or null when neither file is asked for. */
    XpTrace recorder() {
        return wanted() ? new XpTrace() : null;
    }

    /** Checks the chart's options against the scenario before the run (a bad word is a usage error). */
    void check(Scenario scenario) {
        if (chart.futex != null && !scenario.words().containsKey(chart.futex)) {
            throw new ScenarioException("--futex: the scenario has no word '" + chart.futex + "'; its words are "
                    + scenario.words().keySet());
        }
        window(scenario, 0);
    }

    /** Writes the files asked for; the chart's times are the run's (0 at the trace's origin). */
    void write(XpTrace trace, Scenario scenario) throws IOException {
        write(trace, scenario, trace.origin());
    }

    /** Writes the files asked for; scenario time 0 is {@code origin} in the trace's clock. */
    private void write(XpTrace trace, Scenario scenario, long origin) throws IOException {
        if (json != null) {
            Files.writeString(json, ChromeTrace.json(trace));
        }
        if (chart.svg != null) {
            Files.writeString(chart.svg, SequenceChart.svg(trace, window(scenario, origin),
                    t -> Durations.format(t - origin)));
        }
    }

    private SequenceChart.Window window(Scenario scenario, long origin) {
        long offset = chart.futex == null ? -1 : scenario.words().get(chart.futex).offset();
        long start = origin + (chart.from == null ? 0 : Durations.parse(chart.from, "--from"));
        long end = chart.to == null ? Long.MAX_VALUE : origin + Durations.parse(chart.to, "--to");
        return new SequenceChart.Window(offset, 4096, start, end);
    }
}
