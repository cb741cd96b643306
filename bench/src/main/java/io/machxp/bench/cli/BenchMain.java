package io.machxp.bench.cli;

import io.machxp.cli.Machxp;
import picocli.CommandLine;

/** The bench jar's entry point: every machxp command, plus bench, scale and jmh. */
public final class BenchMain {
    private BenchMain() {}

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    public static CommandLine commandLine() {
        return Machxp.commandLine()
                .addSubcommand(new BenchCommand())
                .addSubcommand(new ScaleCommand())
                .addSubcommand(new JmhCommand())
                .addSubcommand(new PagerEfficiencyCommand())
                .addSubcommand(new io.machxp.bench.compare.CompareCommand())
                .setCaseInsensitiveEnumValuesAllowed(true);
    }
}
