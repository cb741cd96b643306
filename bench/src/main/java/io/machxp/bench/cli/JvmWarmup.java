package io.machxp.bench.cli;

import io.machxp.bench.systems.ReferenceLocks;
import io.machxp.bench.workload.BenchOptions;
import io.machxp.bench.workload.Workload;
import io.machxp.cli.DurationConverter;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The bench's shared warm-up (a picocli mixin of bench and scale), equal for every system. Before
 * the first system, the workload runs unmeasured on {@link ReferenceLocks} (ReentrantLocks in this
 * JVM, no system's code) for {@code --jvm-warmup}: that compiles the code every run shares (the
 * worker loop, the board, HdrHistogram) and none of any system's own, so the first system does not
 * start colder than the others, and no system gets a head start on its own paths. The JVM's state
 * still depends on the order (late8 review F9): the worker loop's calls into the systems are
 * bimorphic while the first is measured and megamorphic later, and libraries an earlier system
 * warmed (Netty, gRPC) help a later one; {@code --shuffle} compares orders. Every system then
 * gets the same {@code --warmup} of its own ({@link #of}). With {@code --api process} the shared
 * warm-up is skipped: the workers run in fresh JVMs for every system, and each system's workers get
 * the same warm-up from cold.
 *
 * <p>Before 2026-12-07 the first system alone got this time on top of its own warm-up (machxp or
 * machxp-r3 in every published run); figures measured so are marked in docs/performance.md.
 */
final class JvmWarmup {
    @Option(names = "--jvm-warmup", converter = DurationConverter.class, paramLabel = "TIME",
            description = {"before the first system, the workload unmeasured on plain ReentrantLocks in this JVM:",
                    "warms the bench's own code for every system alike, none of any system's (skipped with --api",
                    "process, whose workers start in fresh JVMs for every system); default 5s"})
    Duration extra = Duration.ofSeconds(5);

    /** The warm-up of run {@code index} (0 is the first): the same for every run. */
    Duration of(int index, Duration warmup) {
        return warmup;
    }

    /** The shared warm-up this run gets for {@code options}: none with worker processes. */
    Duration shared(BenchOptions options) {
        return options.api() == BenchOptions.Api.PROCESS ? Duration.ZERO : extra;
    }

    /** Runs the shared warm-up (nothing is measured or reported of it). */
    void run(BenchOptions options) throws Exception {
        Duration time = shared(options);
        if (time.compareTo(Duration.ofMillis(100)) < 0) {
            return;
        }
        BenchOptions o = new BenchOptions(options.nodes(), options.threadsPerNode(), options.locks(), options.locality(),
                options.critical(), options.think(), options.writes(), Duration.ZERO, time, options.seed(),
                BenchOptions.Api.LOCAL, options.pattern(), BenchOptions.Data.SHARED, 0);
        try (ReferenceLocks reference = new ReferenceLocks(options.locks())) {
            new Workload(o).run(reference);
        }
    }

    /** --quick: none. */
    void skip() {
        extra = Duration.ZERO;
    }
}
