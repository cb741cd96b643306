package io.machxp.cli;

import io.machxp.chaos.ChaosOptions;
import io.machxp.chaos.ipc.IpcChaosRun;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * machxp chaos --ipc: IPC chaos runs ({@link IpcChaosRun}) for a range of seeds on every CPU, or
 * one seed replayed with its violations (and its history). The same options as the futex runs:
 * {@code --threads} is clients per kernel; {@code --futexes} and {@code --variant} do not apply.
 */
final class IpcChaos {
    private IpcChaos() {}

    static int one(PrintWriter out, long seed, ChaosOptions options, boolean history, String replay) {
        IpcChaosRun.Result r = new IpcChaosRun(seed, options).run();
        if (history) {
            r.history().entries().forEach(out::println);
        }
        report(out, r, replay);
        return ExitCodes.check(r.passed());
    }

    static int many(PrintWriter out, long first, int seeds, int jobs, ChaosOptions options,
            java.util.function.LongFunction<String> replay) throws Exception {
        long started = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(jobs);
        List<Future<IpcChaosRun.Result>> runs = new ArrayList<>();
        for (long s = first; s < first + seeds; s++) {
            long one = s;
            runs.add(pool.submit(() -> new IpcChaosRun(one, options).run()));
        }
        Map<String, Long> totals = new TreeMap<>();
        List<IpcChaosRun.Result> failed = new ArrayList<>();
        try {
            for (Future<IpcChaosRun.Result> f : runs) {
                IpcChaosRun.Result r = f.get();
                r.counts().forEach((k, v) -> totals.merge(k, v, Long::sum));
                if (!r.passed()) {
                    failed.add(r);
                }
            }
        } finally {
            pool.shutdownNow();
        }
        totals.remove("calls");
        out.printf(Locale.ROOT, "machxp chaos --ipc: %d %s (%d..%d) in %.1f s, %d jobs: %d with violations%n", seeds,
                seeds == 1 ? "seed" : "seeds", first,
                first + seeds - 1, (System.nanoTime() - started) / 1e9, jobs, failed.size());
        out.println("  injected: " + totals);
        failed.forEach(r -> report(out, r, replay.apply(r.seed())));
        return ExitCodes.check(failed.isEmpty());
    }

    private static void report(PrintWriter out, IpcChaosRun.Result r, String replay) {
        if (r.passed()) {
            out.printf(Locale.ROOT, "seed %d: passed %s%n", r.seed(), r.counts());
            return;
        }
        out.printf(Locale.ROOT, "seed %d: %d violations%n", r.seed(), r.violations().size());
        r.violations().forEach(v -> out.println("  " + v));
        out.println("  replay: " + replay);
    }
}
