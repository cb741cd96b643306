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

    @Option(names = "--chart", paramLabel = "FILE.svg",
            description = "write a message sequence chart (SVG): kernels and pager as lifelines, messages as arrows")
    Path svg;

    @Option(names = "--futex", paramLabel = "WORD", description = "the chart shows only this word's futex and page")
    String futex;

    @Option(names = "--from", paramLabel = "TIME", description = "the chart starts at this scenario time (e.g. 20ms)")
    String from;

    @Option(names = "--to", paramLabel = "TIME", description = "the chart ends at this scenario time")
    String to;

    boolean wanted() {
        return json != null || svg != null;
    }

    /** A trace to record into, or null when neither file is asked for. */
    XpTrace recorder() {
        return wanted() ? new XpTrace() : null;
    }

    /** Checks the chart's options against the scenario before the run (a bad word is a usage error). */
    void check(Scenario scenario) {
        if (futex != null && !scenario.words().containsKey(futex)) {
            throw new ScenarioException("--futex: the scenario has no word '" + futex + "'; its words are "
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
        if (svg != null) {
            Files.writeString(svg, SequenceChart.svg(trace, window(scenario, origin),
                    t -> Durations.format(t - origin)));
        }
    }

    private SequenceChart.Window window(Scenario scenario, long origin) {
        long offset = futex == null ? -1 : scenario.words().get(futex).offset();
        long start = origin + (from == null ? 0 : Durations.parse(from, "--from"));
        long end = to == null ? Long.MAX_VALUE : origin + Durations.parse(to, "--to");
        return new SequenceChart.Window(offset, 4096, start, end);
    }
}
