package io.machxp.cli;

import io.machxp.cluster.EmbeddedCluster;
import io.machxp.demo.DemoHooks;
import io.machxp.demo.DemoReport;
import io.machxp.trace.ChromeTrace;
import io.machxp.trace.RealXpRecorder;
import io.machxp.trace.XpTrace;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * demo --trace FILE: records the embedded cluster's XP messages in real time from the moment it is
 * up until the workload ends, and writes them as the same Chrome trace-event JSON as run --trace
 * (then hands on to the other hooks, e.g. the live view).
 */
final class DemoTrace implements DemoHooks {
    private final Path file;
    private final String title;
    private final DemoHooks next;
    private final PrintWriter err;
    private RealXpRecorder recorder;

    DemoTrace(Path file, String title, DemoHooks next, PrintWriter err) {
        this.file = file;
        this.title = title;
        this.next = next;
        this.err = err;
    }

    @Override
    public void clusterUp(EmbeddedCluster cluster) {
        recorder = new RealXpRecorder(cluster.pagers(), cluster.kernels());
        next.clusterUp(cluster);
    }

    @Override
    public void beforeRun(String pagerTarget, List<String> kernelTargets) throws IOException, InterruptedException {
        next.beforeRun(pagerTarget, kernelTargets);
    }

    @Override
    public void afterRun(DemoReport report) throws InterruptedException {
        recorder.stop();
        XpTrace trace = recorder.trace(title);
        try {
            Files.writeString(file, ChromeTrace.json(trace));
        } catch (IOException e) {
            throw new UncheckedIOException("demo --trace: cannot write " + (e instanceof java.nio.file.FileSystemException f
                    ? FileErrors.describe(f) : file + ": " + e.getMessage()), e);
        }
        err.printf(Locale.ROOT, "machxp demo: wrote %s (%d XP messages, %d kernel events, real time)%n", file,
                trace.messages().size(), trace.marks().size());
        err.flush();
        next.afterRun(report);
    }
}
