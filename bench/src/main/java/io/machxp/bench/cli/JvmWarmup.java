package io.machxp.bench.cli;

import io.machxp.cli.DurationConverter;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The extra warm-up of a report's first run (a picocli mixin of bench and scale): the first run
 * also compiles the code every run shares (the workload, HdrHistogram, gRPC, Netty), and on 2
 * cores measured up to a third lower without it.
 */
final class JvmWarmup {
    @Option(names = "--jvm-warmup", converter = DurationConverter.class, paramLabel = "TIME",
            description = "more warm-up for the first run, which also warms the code all runs share; default 15s")
    Duration extra = Duration.ofSeconds(15);

    /** The warm-up of run {@code index} (0 is the first). */
    Duration of(int index, Duration warmup) {
        return index == 0 ? warmup.plus(extra) : warmup;
    }

    /** --quick: none. */
    void skip() {
        extra = Duration.ZERO;
    }
}
