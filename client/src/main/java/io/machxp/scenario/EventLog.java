package io.machxp.scenario;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The events of a run, in order, with TIDs shown as scenario thread names. Appended to from the
 * kernels' core threads and the scenario threads in real and linux mode, so it is thread-safe,
 * and without locks: in linux mode a SCHED_FIFO thread that found the log locked by a thread it
 * preempted would wait for a thread that cannot run (a priority inversion of the tool's own).
 */
public final class EventLog {
    private static final Pattern TID = Pattern.compile("\\b(\\d{7,})\\b");
    private final ConcurrentLinkedQueue<Event> events = new ConcurrentLinkedQueue<>();
    private final Map<Integer, String> names = new ConcurrentHashMap<>();

    void name(int tid, String thread) {
        names.put(tid, thread);
    }

    String nameOf(int tid) {
        return names.getOrDefault(tid, tid == 0 ? "-" : "tid " + tid);
    }

    /** An event of a scenario thread; TIDs in the detail become thread names. */
    public void add(long time, String kernel, String thread, String event, String detail) {
        events.add(new Event(time, kernel, thread, event, named(detail)));
    }

    /** A kernel event about TID {@code tid}; TIDs in the detail become thread names too. */
    public void kernelEvent(long time, String kernel, String event, int tid, String detail) {
        events.add(new Event(time, kernel, nameOf(tid), event, named(detail)));
    }

    /** {@code text} with each TID of a scenario thread replaced by the thread's name. */
    String named(String text) {
        Matcher m = TID.matcher(text);
        StringBuilder named = new StringBuilder();
        while (m.find()) {
            // a number of 10 digits or more may be no int: a value a scenario wrote (0x80000000 is
            // 2147483648), never a TID
            long number = m.group(1).length() <= 10 ? Long.parseLong(m.group(1)) : -1;
            String n = number >= 0 && number <= Integer.MAX_VALUE ? names.get((int) number) : null;
            m.appendReplacement(named, Matcher.quoteReplacement(n != null ? n : m.group(1)));
        }
        m.appendTail(named);
        return named.toString();
    }

    public List<Event> events() {
        return List.copyOf(events);
    }
}
