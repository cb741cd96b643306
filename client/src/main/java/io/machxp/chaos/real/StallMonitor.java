package io.machxp.chaos.real;

import io.machxp.chaos.real.StallProbe.Stall;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The harness's record of the stalls of every process of a real chaos run: it reads each node's
 * {@link StallProbe} file (the pager's, each kernel's; a restarted process goes on in the same
 * file) and its own probe's, every {@link #POLL_MILLIS}. A kernel's gap that falls inside a
 * SIGSTOP pause the harness injected is the fault itself, not a stall, and is left out; the
 * harness's own stalls are reported, never used to judge the system.
 */
final class StallMonitor implements AutoCloseable {
    static final String HARNESS = "harness";
    private static final long POLL_MILLIS = 100;

    private final Map<String, StallProbe.Reader> readers = new LinkedHashMap<>();
    private final List<Stall> stalls = new ArrayList<>();
    /** Injected pauses, in the order begun. */
    private final List<Pause> pauses = new ArrayList<>();
    private final ScheduledExecutorService poller;
    private final ScheduledExecutorService ownProbe;

    /** A SIGSTOP of {@code kernel} from {@code from} to {@code to} (nanoTime; Long.MAX_VALUE while it lasts). */
    private static final class Pause {
        final String kernel;
        final long from;
        long to = Long.MAX_VALUE;

        Pause(String kernel, long from) {
            this.kernel = kernel;
            this.from = from;
        }
    }

    /** Makes a probe file in {@code dir} for each of {@code processes} and probes this JVM too. */
    StallMonitor(Path dir, List<String> processes) throws IOException {
        for (String p : processes) {
            readers.put(p, new StallProbe.Reader(p, dir.resolve("probe-" + p)));
        }
        StallProbe.Reader own = new StallProbe.Reader(HARNESS, dir.resolve("probe-" + HARNESS));
        readers.put(HARNESS, own);
        ownProbe = StallProbe.start(own.path());
        poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "chaos --real stall monitor");
            t.setDaemon(true);
            return t;
        });
        poller.scheduleWithFixedDelay(this::readAll, POLL_MILLIS, POLL_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Where process {@code name}'s probe writes. */
    Path probeFile(String name) {
        return readers.get(name).path();
    }

    /** A SIGSTOP of {@code kernel} begins: its gap from now until {@link #resumed} is the fault's. */
    synchronized void paused(String kernel) {
        pauses.add(new Pause(kernel, System.nanoTime()));
    }

    synchronized void resumed(String kernel) {
        for (Pause p : pauses) {
            if (p.kernel.equals(kernel) && p.to == Long.MAX_VALUE) {
                p.to = System.nanoTime();
            }
        }
    }

    private synchronized void readAll() {
        for (StallProbe.Reader r : readers.values()) {
            for (Stall s : r.poll()) {
                if (!injected(s)) {
                    stalls.add(s);
                }
            }
        }
    }

    /** Whether the gap lies in a pause the harness injected (it starts after the SIGSTOP was sent). */
    private boolean injected(Stall s) {
        for (Pause p : pauses) {
            if (p.kernel.equals(s.process()) && s.start() >= p.from - StallProbe.RESOLUTION_NANOS && s.start() <= p.to) {
                return true;
            }
        }
        return false;
    }

    /** Every stall read so far (the last read now), the harness's own included. */
    synchronized List<Stall> stalls() {
        readAll();
        return new ArrayList<>(stalls);
    }

    /** Gaps lost because a probe's ring was overwritten before it was read. */
    synchronized long missed() {
        return readers.values().stream().mapToLong(StallProbe.Reader::missed).sum();
    }

    @Override
    public void close() {
        poller.shutdownNow();
        ownProbe.shutdownNow();
    }
}
