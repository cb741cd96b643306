package io.machxp.pager;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * A pager env's clock and timers for tests: time moves only when the test says, and the timers
 * that come due on the way run in time order (in scheduling order at one time).
 */
public final class ManualClock {
    private final TreeMap<Long, List<Runnable>> timers = new TreeMap<>();
    private long now;

    public long now() {
        return now;
    }

    public void schedule(long delayNanos, Runnable action) {
        timers.computeIfAbsent(now + delayNanos, t -> new ArrayList<>()).add(action);
    }

    /** Moves the clock on by {@code nanos}; {@code afterEach} runs after the timers of each due time. */
    public void advance(long nanos, Runnable afterEach) {
        long until = now + nanos;
        while (!timers.isEmpty() && timers.firstKey() <= until) {
            var due = timers.pollFirstEntry();
            now = due.getKey();
            due.getValue().forEach(Runnable::run);
            afterEach.run();
        }
        now = until;
    }
}
