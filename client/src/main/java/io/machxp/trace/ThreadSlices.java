package io.machxp.trace;

import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a thread's marks into spans for {@link ChromeTrace}: a lock's wait (lock to acquired or
 * its failure), a futex's hold (acquired to unlocked), and the thread's effective priority as a
 * counter that steps at each boost and deboost.
 */
final class ThreadSlices {
    private static final Pattern TO_PRIORITY = Pattern.compile("-> (\\d+)");
    private static final Pattern PRIORITY = Pattern.compile("priority (\\d+)");

    private ThreadSlices() {}

    static void write(Iterable<XpTrace.Mark> marks, ChromeTrace out) {
        Map<String, Long> waiting = new HashMap<>();
        Map<String, Long> holding = new HashMap<>();
        for (XpTrace.Mark k : marks) {
            if (k.thread().equals("-")) {
                continue;
            }
            int pid = out.pid(k.node());
            int tid = out.threadOf(pid, k.thread());
            String word = k.detail().split(" ")[0];
            String key = k.thread() + "/" + word;
            switch (k.event()) {
                case "lock", "trylock" -> waiting.put(key, k.time());
                case "acquired", "busy", "lock-failed", "trylock-failed" -> {
                    Long since = waiting.remove(key);
                    if (since != null && k.time() > since) {
                        out.complete(pid, tid, since, (k.time() - since) / 1e3, "wait " + word, "futex", out.args());
                    }
                    if (k.event().equals("acquired")) {
                        holding.put(key, k.time());
                    }
                }
                case "unlocked" -> {
                    Long since = holding.remove(key);
                    if (since != null) {
                        out.complete(pid, tid, since, (k.time() - since) / 1e3, "hold " + word, "futex", out.args());
                    }
                }
                case "start" -> priority(out, pid, k, PRIORITY.matcher(k.detail()));
                case "boost", "deboost" -> priority(out, pid, k, TO_PRIORITY.matcher(k.detail()));
                default -> { }
            }
        }
    }

    private static void priority(ChromeTrace out, int pid, XpTrace.Mark k, Matcher m) {
        if (m.find()) {
            out.counter(pid, k.time(), "priority " + k.thread(), k.thread(), Integer.parseInt(m.group(1)));
        }
    }
}
