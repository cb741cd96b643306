package io.machxp.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The sequence chart's options, shared by run and trace: where to write the SVG and what it shows
 * (one futex's word, a window of scenario time).
 */
final class ChartOptions {
    @picocli.CommandLine.Spec(picocli.CommandLine.Spec.Target.MIXEE)
    picocli.CommandLine.Model.CommandSpec command;

    @Option(names = "--chart", paramLabel = "FILE.svg",
            description = "write a message sequence chart (SVG): kernels and pager as lifelines, messages as arrows")
    Path svg;

    @Option(names = "--futex", paramLabel = "WORD", description = "the chart shows only this word's futex and page")
    String futex;

    @Option(names = "--from", paramLabel = "TIME", description = "the chart starts at this scenario time (e.g. 20ms)")
    String from;

    @Option(names = "--to", paramLabel = "TIME", description = "the chart ends at this scenario time")
    String to;

    @Option(names = "--window", paramLabel = "FROM..TO",
            description = "the chart's window of scenario time in one option, e.g. 10ms..30ms (either end may be left out)")
    void window(String value) {
        int dots = value.indexOf("..");
        if (dots < 0) {
            throw new picocli.CommandLine.ParameterException(command.commandLine(),
                    "--window takes FROM..TO, e.g. 10ms..30ms, not '" + value + "'");
        }
        from = dots == 0 ? null : value.substring(0, dots);
        to = dots + 2 == value.length() ? null : value.substring(dots + 2);
    }
}
