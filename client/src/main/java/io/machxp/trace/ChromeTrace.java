package io.machxp.trace;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes an {@link XpTrace} as Chrome trace-event JSON (the JSON object format that Perfetto and
 * chrome://tracing open): a {@code traceEvents} array, timestamps in microseconds.
 *
 * <p>Each node is a process (pid 1 the pager, 2.. the kernels, named by {@code process_name}
 * metadata). Each node's thread 0, "XP", holds one short complete slice ({@code ph: X}) per
 * message sent or received, tied together by a flow ({@code ph: s} at the send, {@code ph: f} with
 * {@code bp: e} at the arrival). Scenario threads are threads of their kernel's process: their
 * events are instants ({@code ph: i}); a lock's wait and a futex's hold are complete slices; an
 * effective priority is a counter ({@code ph: C}). On the pager, one thread per futex shows which
 * kernel holds it, from the grant's sending to the release's arrival.
 */
public final class ChromeTrace {
    /** The width of a message's send and receive slices, in microseconds (virtual messages take no time). */
    static final double MESSAGE_SLICE_US = 1;
    private static final int XP_TID = 0;
    private static final int FUTEX_TID_BASE = 1000;
    private static final Set<String> STATE_EVENTS = Set.of("lock", "acquired", "unlock", "unlocked", "trylock", "busy");

    private final ObjectMapper json = new ObjectMapper();
    private final ArrayNode events = json.createArrayNode();
    private final Map<String, Integer> pids = new LinkedHashMap<>();
    private final Map<String, Integer> tids = new HashMap<>();

    private ChromeTrace() {}

    /** The trace as one JSON object. */
    public static ObjectNode of(XpTrace trace) {
        ChromeTrace t = new ChromeTrace();
        t.write(trace);
        ObjectNode root = t.json.createObjectNode();
        root.set("traceEvents", t.events);
        root.put("displayTimeUnit", "ns");
        root.putObject("otherData").put("title", trace.title()).put("clock", trace.clock());
        return root;
    }

    public static String json(XpTrace trace) {
        try {
            return new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(of(trace));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("a trace always serializes", e);
        }
    }

    private void write(XpTrace trace) {
        List<String> nodes = trace.nodes().stream().sorted((a, b) -> Boolean.compare(!isPager(a), !isPager(b))).toList();
        for (String node : nodes) {
            int pid = pids.size() + 1;
            pids.put(node, pid);
            meta("process_name", pid, 0, isPager(node) ? node : "kernel " + node);
            meta("process_sort_index", pid, 0, pid);
            meta("thread_name", pid, XP_TID, "XP");
        }
        int flow = 0;
        Map<Long, long[]> held = new HashMap<>();
        for (XpTrace.Xp m : trace.messages()) {
            flow++;
            ObjectNode args = json.createObjectNode().put("offset", m.offset()).put("bytes", m.bytes())
                    .put("pages", m.pages()).put("detail", m.detail()).put("from", m.from()).put("to", m.to());
            complete(pids.get(m.from()), XP_TID, m.sent(), "→ " + m.routine(), "xp", args);
            flowEvent("s", pids.get(m.from()), m.sent(), m.routine(), flow);
            complete(pids.get(m.to()), XP_TID, m.arrives(), "← " + m.routine(), "xp", args);
            flowEvent("f", pids.get(m.to()), m.arrives(), m.routine(), flow);
            if (m.pages() > 0) {
                instant(pids.get(m.to()), XP_TID, m.arrives(), "page in: " + m.pages(), "page", args);
            }
            pagerFutexState(m, held);
        }
        for (XpTrace.Mark k : trace.marks()) {
            int pid = pids.get(k.node());
            int tid = k.thread().equals("-") ? XP_TID : threadOf(pid, k.thread());
            instant(pid, tid, k.time(), k.event() + (k.detail().isEmpty() ? "" : " " + k.detail()),
                    STATE_EVENTS.contains(k.event()) ? "futex" : "sched", json.createObjectNode().put("detail", k.detail()));
        }
        ThreadSlices.write(trace.marks(), this);
    }

    /** The pager's view of who holds each futex: a slice from the grant's sending to the release's arrival. */
    private void pagerFutexState(XpTrace.Xp m, Map<Long, long[]> held) {
        int pager = pids.getOrDefault(io.machxp.sim.SimCluster.PAGER, 1);
        if (m.routine().equals("futex_granted")) {
            held.put(m.offset(), new long[] {m.sent(), pids.get(m.to())});
        } else if (m.routine().equals("futex_released") && held.containsKey(m.offset())) {
            long[] since = held.remove(m.offset());
            String holder = m.from();
            int tid = FUTEX_TID_BASE + (int) (m.offset() / 4 % 100_000);
            if (tids.putIfAbsent(pager + "/futex@" + m.offset(), tid) == null) {
                meta("thread_name", pager, tid, "futex @" + m.offset());
            }
            ObjectNode args = json.createObjectNode().put("holder", holder).put("offset", m.offset());
            complete(pager, tid, since[0], (m.arrives() - since[0]) / 1e3, "held by " + holder, "futex", args);
        }
    }

    /** The pagers' lifelines: "pager", and "pager1", "pager2"... with several (as the simulator names them). */
    static boolean isPager(String node) {
        return node.startsWith(io.machxp.sim.SimCluster.PAGER) && node.substring(5).chars().allMatch(Character::isDigit);
    }

    int threadOf(int pid, String thread) {
        return tids.computeIfAbsent(pid + "/" + thread, k -> {
            int tid = tids.size() + 1;
            meta("thread_name", pid, tid, thread);
            return tid;
        });
    }

    int pid(String node) {
        return pids.get(node);
    }

    private void meta(String name, int pid, int tid, Object value) {
        ObjectNode e = base("M", name, pid, tid);
        if (value instanceof Integer i) {
            e.putObject("args").put("sort_index", i);
        } else {
            e.putObject("args").put("name", value.toString());
        }
    }

    private void complete(int pid, int tid, long nanos, String name, String cat, ObjectNode args) {
        complete(pid, tid, nanos, MESSAGE_SLICE_US, name, cat, args);
    }

    void complete(int pid, int tid, long nanos, double durationMicros, String name, String cat, ObjectNode args) {
        ObjectNode e = base("X", name, pid, tid).put("cat", cat).put("ts", micros(nanos)).put("dur", durationMicros);
        e.set("args", args);
    }

    void instant(int pid, int tid, long nanos, String name, String cat, ObjectNode args) {
        ObjectNode e = base("i", name, pid, tid).put("cat", cat).put("ts", micros(nanos)).put("s", "t");
        e.set("args", args);
    }

    void counter(int pid, long nanos, String name, String series, int value) {
        base("C", name, pid, 0).put("ts", micros(nanos)).putObject("args").put(series, value);
    }

    ObjectNode args() {
        return json.createObjectNode();
    }

    private void flowEvent(String phase, int pid, long nanos, String name, int id) {
        ObjectNode e = base(phase, name, pid, XP_TID).put("cat", "xp").put("ts", micros(nanos)).put("id", id);
        if (phase.equals("f")) {
            e.put("bp", "e");
        }
    }

    private ObjectNode base(String phase, String name, int pid, int tid) {
        return events.addObject().put("ph", phase).put("name", name).put("pid", pid).put("tid", tid);
    }

    private static double micros(long nanos) {
        return nanos / 1e3;
    }
}
