package io.machxp.kernel.ipc.link;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * Frames the IPC core dropped at the hop bound (a loop of proxies, see docs/mach-ipc.md, "Trust
 * between kernels"): counted, and logged as one WARN naming the frame, the port and the kernels -
 * at most one per {@link #QUIET_NANOS}, the next one saying how many were dropped meanwhile, so a
 * loop that keeps being fed cannot flood the log. Called on the core thread; the count is read
 * from any.
 */
final class HopBoundDrops {
    /** Between two WARNs at least this long. */
    static final long QUIET_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final int self;
    private final Logger log;
    private final AtomicLong dropped = new AtomicLong();
    /** Guarded by this. */
    private long lastWarned;
    private long droppedAtLastWarn;
    private boolean warned;

    HopBoundDrops(int self, Logger log) {
        this.self = self;
        this.log = log;
    }

    void dropped(String kind, String port, int from, int next, int bound, long now) {
        long all = dropped.incrementAndGet();
        long since;
        synchronized (this) {
            if (warned && now - lastWarned < QUIET_NANOS) {
                return;
            }
            since = all - 1 - droppedAtLastWarn;
            warned = true;
            lastWarned = now;
            droppedAtLastWarn = all;
        }
        log.warn("kernel {}: dropped a {} for {} from kernel {} instead of passing it on to kernel {}: it had been"
                + " passed on {} times, the hop bound (the port's proxies point round in a loop: did a kernel give"
                + " false rights?); {} frame(s) dropped at the hop bound in all{}", self, kind, port, from, next, bound,
                all, since > 0 ? ", " + since + " of them not logged (at most one such warning per "
                + TimeUnit.NANOSECONDS.toSeconds(QUIET_NANOS) + " s)" : "");
    }

    /** Frames dropped at the hop bound since the links started. */
    long count() {
        return dropped.get();
    }
}
