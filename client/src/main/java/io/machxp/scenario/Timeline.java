package io.machxp.scenario;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.machxp.scenario.ScenarioResult.Check;
import io.machxp.scenario.ScenarioResult.ThreadSummary;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** A run as a person reads it (a timeline, a table, the checks), or as JSON for tools. */
public final class Timeline {
    /** Kernel events shown in the text timeline; "run" (every dispatch) only in --verbose. */
    private static final Set<String> QUIET = Set.of("run");

    private Timeline() {}

    public static String text(ScenarioResult r, boolean verbose) {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "%s: %s mode%s, %s%n", r.scenario().name(), r.mode(),
                r.seed() >= 0 ? ", seed " + r.seed() : "", r.priorityInheritance() ? "priority inheritance on" : "--no-pi"));
        if (!r.scenario().description().isBlank()) {
            out.append("  ").append(r.scenario().description().strip().replace("\n", "\n  ")).append('\n');
        }
        out.append('\n');
        out.append(String.format(Locale.ROOT, "%12s  %-6s %-8s %s%n", "time", "kernel", "thread", "event"));
        for (Event e : r.events()) {
            if (!verbose && QUIET.contains(e.event())) {
                continue;
            }
            out.append(String.format(Locale.ROOT, "%12s  %-6s %-8s %s%s%n", Durations.format(e.time()), e.kernel(), e.thread(),
                    e.event(), e.detail().isEmpty() ? "" : "  " + e.detail()));
        }
        out.append('\n');
        out.append(String.format(Locale.ROOT, "%-8s %-6s %8s %8s %10s %10s %10s%n", "thread", "kernel", "priority", "highest",
                "start", "finish", "waited"));
        for (ThreadSummary t : r.threads()) {
            out.append(String.format(Locale.ROOT, "%-8s %-6s %8d %8d %10s %10s %10s%n", t.name(), t.kernel(), t.priority(),
                    t.maxPriority(), t.started() < 0 ? "-" : Durations.format(t.started()),
                    t.finished() < 0 ? "-" : Durations.format(t.finished()), Durations.format(t.waited())));
        }
        if (!r.completed()) {
            out.append(String.format(Locale.ROOT, "%nstopped at the limit of %s with threads still running%n",
                    Durations.format(r.scenario().limitNanos())));
        }
        if (!r.checks().isEmpty() || !r.stepFailures().isEmpty()) {
            out.append('\n');
        }
        for (Check c : r.checks()) {
            out.append(String.format(Locale.ROOT, "%s  %s: %s%n", c.passed() ? "PASS" : "FAIL", c.expectation(), c.measured()));
        }
        for (String f : r.stepFailures()) {
            out.append("FAIL  ").append(f).append('\n');
        }
        return out.toString();
    }

    public static String json(ScenarioResult r) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("scenario", r.scenario().name());
        root.put("mode", r.mode());
        if (r.seed() >= 0) {
            root.put("seed", r.seed());
        }
        root.put("priorityInheritance", r.priorityInheritance());
        root.put("completed", r.completed());
        root.put("passed", r.passed());
        List<Map<String, Object>> threads = new ArrayList<>();
        for (ThreadSummary t : r.threads()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", t.name());
            m.put("kernel", t.kernel());
            m.put("tid", t.tid());
            m.put("priority", t.priority());
            m.put("highestPriority", t.maxPriority());
            m.put("startNanos", t.started());
            m.put("finishNanos", t.finished());
            m.put("waitNanos", t.waited());
            threads.add(m);
        }
        root.put("threads", threads);
        List<Map<String, Object>> checks = new ArrayList<>();
        for (Check c : r.checks()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("expectation", c.expectation());
            m.put("passed", c.passed());
            m.put("measured", c.measured());
            checks.add(m);
        }
        root.put("checks", checks);
        root.put("stepFailures", r.stepFailures());
        List<Map<String, Object>> events = new ArrayList<>();
        for (Event e : r.events()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("timeNanos", e.time());
            m.put("kernel", e.kernel());
            m.put("thread", e.thread());
            m.put("event", e.event());
            m.put("detail", e.detail());
            events.add(m);
        }
        root.put("events", events);
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
