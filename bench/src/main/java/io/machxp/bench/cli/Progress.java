package io.machxp.bench.cli;

import io.machxp.bench.workload.BenchOptions;
import io.machxp.bench.workload.Run;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The progress bar of machxp bench on stderr (me.tongfei progressbar): the bar is the bench's
 * timed part (warm-up plus measurement of each system); its message names the system running
 * and its throughput over the last update.
 */
final class Progress implements AutoCloseable {
    private static final long TICK_MILLIS = 250;

    private final ProgressBar bar;
    private final ScheduledExecutorService ticker;
    private final long perSystemMillis;
    /** The shared warm-up before the first system ({@link JvmWarmup}). */
    private final long firstExtraMillis;
    private int index = -1;
    private long offsetMillis;
    private String label = "";
    private Run workload;
    private long runningSince;
    private long lastOps;
    private long lastNanos;

    private Progress(ProgressBar bar, long perSystemMillis, long firstExtraMillis) {
        this.bar = bar;
        this.perSystemMillis = perSystemMillis;
        this.firstExtraMillis = firstExtraMillis;
        this.ticker = bar == null ? null : Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bench-progress");
            t.setDaemon(true);
            return t;
        });
        if (ticker != null) {
            ticker.scheduleAtFixedRate(this::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    static Progress start(boolean enabled, int systems, BenchOptions options, Duration firstExtra) {
        long perSystem = options.warmup().toMillis() + options.duration().toMillis();
        if (!enabled) {
            return new Progress(null, perSystem, firstExtra.toMillis());
        }
        ProgressBar bar = new ProgressBarBuilder().setTaskName("bench").setInitialMax(systems * perSystem + firstExtra.toMillis())
                .setStyle(ProgressBarStyle.ASCII).setUnit(" s", 1000).setUpdateIntervalMillis((int) TICK_MILLIS)
                .showSpeed(new java.text.DecimalFormat("0.0")).setMaxRenderedLength(110).build();
        return new Progress(bar, perSystem, firstExtra.toMillis());
    }

    /** The next system is starting (its servers are not up yet). */
    synchronized void system(String name) {
        index++;
        offsetMillis = firstExtraMillis + index * perSystemMillis;
        label = name;
        workload = null;
        if (bar != null) {
            bar.stepTo(offsetMillis);
            bar.setExtraMessage(name + ": starting");
        }
    }

    /** Its servers are up: the timed part begins. */
    synchronized void running(Run w) {
        runningSince = System.nanoTime();
        lastNanos = runningSince;
        lastOps = 0;
        workload = w;
    }

    private synchronized void tick() {
        Run w = workload;
        if (w == null) {
            return;
        }
        long now = System.nanoTime();
        long elapsed = Math.min(TimeUnit.NANOSECONDS.toMillis(now - runningSince), perSystemMillis);
        long ops = w.completed();
        double rate = (ops - lastOps) / Math.max((now - lastNanos) / 1e9, 1e-9);
        lastOps = ops;
        lastNanos = now;
        bar.stepTo(offsetMillis + elapsed);
        bar.setExtraMessage(String.format(java.util.Locale.ROOT, "%s: %,.0f ops/s", label, rate));
    }

    @Override
    public void close() {
        if (bar != null) {
            ticker.shutdownNow();
            synchronized (this) {
                bar.stepTo(bar.getMax());
                bar.setExtraMessage("done");
            }
            bar.close();
        }
    }
}
