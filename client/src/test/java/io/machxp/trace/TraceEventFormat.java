package io.machxp.trace;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Asserts the structure of Chrome's trace-event format (the JSON object form Perfetto reads) on a
 * trace written by any entry point: a traceEvents array, known phases, int pid/tid, timestamps in
 * microseconds (numbers, not negative), named processes and threads (metadata events), and flows
 * (s/f pairs) from a message's sending slice to its arrival slice on another process.
 */
public final class TraceEventFormat {
    static final Set<String> PHASES = Set.of("M", "X", "i", "s", "f", "C");

    private TraceEventFormat() {}

    /** Checks the structure and returns the process names by pid, in order of appearance. */
    public static Map<Integer, String> assertValid(String json) throws IOException {
        JsonNode root = new ObjectMapper().readTree(json);
        assertThat(root.get("traceEvents").isArray()).isTrue();
        JsonNode events = root.get("traceEvents");
        Map<Integer, String> processes = new java.util.LinkedHashMap<>();
        Set<String> namedThreads = new HashSet<>();
        for (JsonNode e : events) {
            assertThat(e.get("ph").asText()).isIn(PHASES);
            assertThat(e.get("pid").isInt()).isTrue();
            assertThat(e.get("tid").isInt()).isTrue();
            assertThat(e.get("name").isTextual()).isTrue();
            if (e.get("ph").asText().equals("M")) {
                if (e.get("name").asText().equals("process_name")) {
                    processes.put(e.get("pid").asInt(), e.get("args").get("name").asText());
                } else if (e.get("name").asText().equals("thread_name")) {
                    namedThreads.add(e.get("pid").asInt() + "/" + e.get("tid").asInt());
                }
            } else {
                assertThat(e.get("ts").isNumber()).as("ts of %s", e).isTrue();
                assertThat(e.get("ts").asDouble()).isGreaterThanOrEqualTo(0);
            }
        }
        for (JsonNode e : events) {
            if (!e.get("ph").asText().equals("M") && !e.get("ph").asText().equals("C")) {
                assertThat(processes).containsKey(e.get("pid").asInt());
                assertThat(namedThreads).as("thread of %s", e).contains(e.get("pid").asInt() + "/" + e.get("tid").asInt());
            }
        }
        assertFlows(events);
        return processes;
    }

    /** Every flow start has its finish, later, on another process, each end on a slice of its thread. */
    public static int assertFlows(JsonNode events) {
        Map<Integer, JsonNode> starts = new HashMap<>();
        Map<Integer, JsonNode> finishes = new HashMap<>();
        for (JsonNode e : events) {
            if (e.get("ph").asText().equals("s")) {
                starts.put(e.get("id").asInt(), e);
            } else if (e.get("ph").asText().equals("f")) {
                assertThat(e.get("bp").asText()).isEqualTo("e");
                finishes.put(e.get("id").asInt(), e);
            }
        }
        assertThat(finishes.keySet()).isEqualTo(starts.keySet());
        // The slices' ends, by process, thread and time: a flow end must sit on one of them (a set, not
        // a scan of every event per end: a demo's trace has thousands of events).
        Set<String> slices = new HashSet<>();
        for (JsonNode x : events) {
            if (x.get("ph").asText().equals("X")) {
                slices.add(where(x));
            }
        }
        starts.forEach((id, s) -> {
            JsonNode f = finishes.get(id);
            assertThat(f.get("ts").asDouble()).isGreaterThanOrEqualTo(s.get("ts").asDouble());
            assertThat(f.get("pid").asInt()).isNotEqualTo(s.get("pid").asInt());
            for (JsonNode end : List.of(s, f)) {
                assertThat(slices).as("a slice under the flow end %s", end).contains(where(end));
            }
        });
        return starts.size();
    }

    private static String where(JsonNode e) {
        return e.get("pid").asInt() + "/" + e.get("tid").asInt() + "@" + e.get("ts").asDouble();
    }
}
