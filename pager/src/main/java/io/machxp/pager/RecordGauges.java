package io.machxp.pager;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The metrics' gauges of the core's record counts (machxp.pages.resident, machxp.futex.records):
 * a scrape asks the core thread for its counts ({@code PagerCore.recordCounts}) and waits at most
 * {@link #WAIT}. A core that does not answer makes the gauges NaN (unknown) rather than hang the
 * scrape's thread, with one WARN for the stall; while that query is still unanswered, later
 * scrapes do not queue another behind it nor wait again: they read NaN at once. Once the core has
 * answered, the next scrape asks afresh (late4 review A4: the gauges waited for good, so a stuck
 * core hung a Prometheus scrape thread for good). Read on the core thread itself, the counts are
 * taken at once (late6 review A6: the read queued its query behind itself, waited its whole bound
 * and read NaN).
 */
final class RecordGauges {
    /** How long a scrape waits for the core's counts. Prometheus's own scrape timeout is 10 s by default. */
    static final Duration WAIT = Duration.ofSeconds(1);

    private static final Logger log = LoggerFactory.getLogger(RecordGauges.class);

    private final String pager;
    private final CoreQueries core;
    /** The counts' query, one in flight at a time whoever scrapes. */
    private final SharedQuestion<Map<String, Integer>> counts;
    /** How long a scrape waits: {@link #WAIT}, shorter in tests ({@link Pager#bounds}). */
    private volatile Duration wait = WAIT;
    /** The query in flight that already went unanswered for a whole wait (one WARN, no more waits); guarded by this. */
    private CompletableFuture<Map<String, Integer>> stalled;

    /** {@code counts} runs on the core thread. */
    RecordGauges(String pager, CoreQueries core, Supplier<Map<String, Integer>> counts) {
        this.pager = pager;
        this.core = core;
        this.counts = new SharedQuestion<>(core, counts::get);
    }

    /** Sets how long a scrape waits for the core (tests: short bounds instead of real seconds). */
    void waitAtMost(Duration within) {
        this.wait = within;
    }

    /** The record count of {@code kind}; NaN when the pager is closed or its core did not answer within {@link #WAIT}. */
    double count(String kind) {
        if (core.closed()) {
            return Double.NaN;
        }
        Duration within = wait;
        if (core.onCore()) { // asked on the core thread itself: queued, it would wait for itself (late6 review A6)
            Integer n = counts.ask(within).get(kind);
            return n == null ? Double.NaN : n;
        }
        CompletableFuture<Map<String, Integer>> query = counts.inFlight();
        synchronized (this) {
            if (query == stalled) {
                return Double.NaN; // the core has not answered the last query yet: no second one behind it
            }
        }
        try {
            Integer n = query.get(within.toNanos(), TimeUnit.NANOSECONDS).get(kind);
            return n == null ? Double.NaN : n;
        } catch (java.util.concurrent.TimeoutException e) {
            synchronized (this) {
                if (query != stalled) {
                    stalled = query;
                    log.warn("{}; the gauges of its record counts (machxp.pages.resident, machxp.futex.records) "
                            + "read NaN until it does", new CoreNotAnswering(pager, within).getMessage());
                }
            }
            return Double.NaN;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Double.NaN;
        } catch (java.util.concurrent.ExecutionException e) {
            return Double.NaN; // closed meanwhile
        }
    }
}
