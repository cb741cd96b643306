package io.machxp.scenario;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * When each thread of a linux-mode run had which effective priority, from the run's boost and
 * deboost events (what the threads and the sampler observed, {@link LinuxPlatform#observe}), for
 * {@link LinuxLateness}: a thread below another's priority cannot have kept that one off its CPU
 * while it stayed below, however high a boost took it at another moment of the run.
 *
 * <p>An event is logged when a change is seen, not when it happened: a thread records its own
 * priority after each step and every 200us of CPU time, the sampler every 250us. So a span at or
 * above a priority is taken to begin {@link #SEEN_LATE_NANOS} before the boost was seen (a
 * deboost seen late only makes the span longer, which excuses more, never less).
 */
final class LinuxPriorityTimes {
    /** How much earlier than it was seen a boost may have happened (four sampler periods). */
    static final long SEEN_LATE_NANOS = 4 * LinuxSampler.PERIOD_NANOS;
    private static final Pattern TO = Pattern.compile("-> (\\d+)");

    /** Per thread: its priority in the file, then (time seen, new priority) in time order. */
    private final Map<String, Integer> base = new HashMap<>();
    private final Map<String, List<long[]>> changes = new HashMap<>();

    LinuxPriorityTimes(List<ScenarioResult.ThreadSummary> threads, List<Event> events) {
        for (ScenarioResult.ThreadSummary t : threads) {
            base.put(t.name(), t.priority());
            changes.put(t.name(), new ArrayList<>());
        }
        for (Event e : events) {
            List<long[]> c = changes.get(e.thread());
            if (c != null && (e.event().equals("boost") || e.event().equals("deboost"))) {
                Matcher m = TO.matcher(e.detail());
                if (m.find()) {
                    c.add(new long[] {e.time(), Integer.parseInt(m.group(1))});
                }
            }
        }
        changes.values().forEach(c -> c.sort((a, b) -> Long.compare(a[0], b[0])));
    }

    /** The merged spans in which {@code thread}'s effective priority was at least {@code priority}. */
    List<long[]> atLeast(String thread, int priority) {
        List<long[]> out = new ArrayList<>();
        Integer first = base.get(thread);
        if (first == null) {
            return out;
        }
        int now = first;
        long from = now >= priority ? -LinuxSpans.OPEN : 0;
        for (long[] c : changes.get(thread)) {
            int next = (int) c[1];
            if (now < priority && next >= priority) {
                from = c[0] - SEEN_LATE_NANOS;
            } else if (now >= priority && next < priority) {
                out.add(new long[] {from, c[0]});
            }
            now = next;
        }
        if (now >= priority) {
            out.add(new long[] {from, LinuxSpans.OPEN});
        }
        return LinuxSpans.merge(out);
    }
}
