package io.machxp.scenario;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.machxp.kernel.sched.Priority;
import io.machxp.scenario.Scenario.KernelSpec;
import io.machxp.scenario.Scenario.ThreadSpec;
import io.machxp.scenario.Scenario.WordSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a scenario from YAML. Every mistake is a {@link ScenarioException} that says where it is
 * and what would be right. The format (see scenarios/ for examples):
 * <pre>
 * name: cross-kernel priority inversion
 * seed: 1                       # sim mode; default 1
 * network: {latency: 100us, jitter: 20us}
 * limit: 10s                    # stop if threads still run then; default 60s
 * kernels: [{name: A, cpus: 1}, {name: B}]
 * objects: {shared: 64KiB}      # or a byte count; default one object "shared" of 64 KiB
 * words: {m: {object: shared, offset: 0}, data: {offset: 64}}
 * threads:
 *   - name: L
 *     kernel: A
 *     priority: 10              # 1-99, default 1
 *     start: 0ms                # default 0
 *     task: app                 # optional: threads naming one task on one kernel share it
 *     program:
 *       - lock: m               # or {lock: m, timeout: 5ms, expect: EOWNERDEAD}
 *       - compute: 50ms
 *       - unlock: m
 * expect:
 *   - {thread: H, maxWait: 60ms, when: pi}
 *   - {thread: H, minWait: 200ms, when: no-pi}
 *   - {thread: L, boostedTo: 90}
 * </pre>
 */
public final class ScenarioParser {
    private static final long DEFAULT_OBJECT_SIZE = 64 * 1024;
    private static final Set<String> TOP = Set.of("name", "description", "seed", "network", "limit", "kernels",
            "objects", "words", "threads", "expect");

    private ScenarioParser() {}

    public static Scenario parse(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new ScenarioException("cannot read scenario " + file + ": " + e.getMessage());
        }
        return parse(text, file.getFileName().toString());
    }

    public static Scenario parse(String yaml, String source) {
        JsonNode root;
        try {
            root = new YAMLMapper().readTree(yaml);
        } catch (JacksonException e) {
            throw new ScenarioException(source + " is not valid YAML: " + e.getOriginalMessage()
                    + (e.getLocation() != null ? " (line " + e.getLocation().getLineNr() + ")" : ""));
        }
        if (root == null || !root.isObject()) {
            throw new ScenarioException(source + ": a scenario is a YAML mapping with kernels, threads and so on");
        }
        onlyKeys(root, TOP, source);
        String name = text(root, "name", source, source.replaceFirst("\\.ya?ml$", ""));
        String description = text(root, "description", source, "");
        long seed = root.has("seed") ? integer(root.get("seed"), source + ": seed") : 1;
        long latency = 100_000;
        long jitter = 0;
        if (root.has("network")) {
            JsonNode n = root.get("network");
            onlyKeys(n, Set.of("latency", "jitter"), source + ": network");
            latency = duration(n, "latency", source + ": network", latency);
            jitter = duration(n, "jitter", source + ": network", jitter);
        }
        long limit = duration(root, "limit", source, 60_000_000_000L);

        List<KernelSpec> kernels = kernels(root.get("kernels"), source);
        Map<String, Long> objects = objects(root.get("objects"), source);
        Map<String, WordSpec> words = words(root.get("words"), objects, source);
        List<ThreadSpec> threads = threads(root.get("threads"), kernels, words, source);
        List<Expectation> expectations = expectations(root.get("expect"), threads, source);
        return new Scenario(name, description, seed, latency, jitter, kernels, objects, words, threads, expectations,
                limit);
    }

    private static List<KernelSpec> kernels(JsonNode node, String source) {
        if (node == null || !node.isArray() || node.isEmpty()) {
            throw new ScenarioException(source + ": 'kernels' must list at least one kernel, like [{name: A, cpus: 1}]");
        }
        List<KernelSpec> kernels = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        for (JsonNode k : node) {
            String where = source + ": kernel " + (kernels.size() + 1);
            onlyKeys(k, Set.of("name", "cpus"), where);
            String name = required(k, "name", where);
            if (!names.add(name)) {
                throw new ScenarioException(where + ": two kernels are named '" + name + "'");
            }
            long cpus = k.has("cpus") ? integer(k.get("cpus"), where + ": cpus") : 1;
            if (cpus < 1 || cpus > 256) {
                throw new ScenarioException(where + ": cpus " + cpus + " must be 1 to 256");
            }
            kernels.add(new KernelSpec(name, (int) cpus));
        }
        return kernels;
    }

    private static Map<String, Long> objects(JsonNode node, String source) {
        Map<String, Long> objects = new LinkedHashMap<>();
        if (node == null) {
            objects.put("shared", DEFAULT_OBJECT_SIZE);
            return objects;
        }
        if (!node.isObject() || node.isEmpty()) {
            throw new ScenarioException(source + ": 'objects' maps object names to sizes, like {shared: 64KiB}");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            long size = size(e.getValue(), source + ": object " + e.getKey());
            if (size <= 0 || size % 4096 != 0) {
                throw new ScenarioException(source + ": object " + e.getKey() + " has size " + size
                        + "; use a positive multiple of the page size, 4096");
            }
            objects.put(e.getKey(), size);
        }
        return objects;
    }

    private static Map<String, WordSpec> words(JsonNode node, Map<String, Long> objects, String source) {
        Map<String, WordSpec> words = new LinkedHashMap<>();
        if (node == null) {
            return words;
        }
        if (!node.isObject()) {
            throw new ScenarioException(source + ": 'words' maps names to {object, offset}, like {m: {offset: 0}}");
        }
        String firstObject = objects.keySet().iterator().next();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String where = source + ": word " + e.getKey();
            JsonNode w = e.getValue();
            long offset;
            String object = firstObject;
            if (w.isNumber()) {
                offset = w.asLong();
            } else {
                onlyKeys(w, Set.of("object", "offset"), where);
                object = text(w, "object", where, firstObject);
                offset = w.has("offset") ? integer(w.get("offset"), where + ": offset") : 0;
            }
            Long size = objects.get(object);
            if (size == null) {
                throw new ScenarioException(where + ": no object named '" + object + "'; objects are " + objects.keySet());
            }
            if (offset < 0 || offset + 4 > size || offset % 4 != 0) {
                throw new ScenarioException(where + ": offset " + offset + " must be 4-byte aligned and inside '"
                        + object + "' (" + size + " bytes)");
            }
            words.put(e.getKey(), new WordSpec(e.getKey(), object, offset));
        }
        return words;
    }

    private static List<ThreadSpec> threads(JsonNode node, List<KernelSpec> kernels, Map<String, WordSpec> words,
            String source) {
        if (node == null || !node.isArray() || node.isEmpty()) {
            throw new ScenarioException(source + ": 'threads' must list at least one thread");
        }
        Set<String> kernelNames = new LinkedHashSet<>();
        kernels.forEach(k -> kernelNames.add(k.name()));
        List<ThreadSpec> threads = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        for (JsonNode t : node) {
            String where = source + ": thread " + (threads.size() + 1);
            onlyKeys(t, Set.of("name", "kernel", "task", "priority", "start", "program"), where);
            String name = required(t, "name", where);
            where = source + ": thread " + name;
            if (!names.add(name)) {
                throw new ScenarioException(where + ": two threads have this name");
            }
            String kernel = text(t, "kernel", where, kernels.get(0).name());
            if (!kernelNames.contains(kernel)) {
                throw new ScenarioException(where + ": no kernel named '" + kernel + "'; kernels are " + kernelNames);
            }
            long priority = t.has("priority") ? integer(t.get("priority"), where + ": priority") : Priority.DEFAULT;
            if (!Priority.valid((int) priority) || priority != (int) priority) {
                throw new ScenarioException(where + ": priority " + priority + " must be " + Priority.MIN + " to "
                        + Priority.MAX);
            }
            String task = text(t, "task", where, name);
            long start = duration(t, "start", where, 0);
            JsonNode program = t.get("program");
            if (program == null || !program.isArray()) {
                throw new ScenarioException(where + ": 'program' must list the thread's steps, like [{lock: m}, {unlock: m}]");
            }
            List<Step> steps = new ArrayList<>();
            for (JsonNode s : program) {
                steps.add(step(s, words, where + ": step " + (steps.size() + 1)));
            }
            threads.add(new ThreadSpec(name, kernel, task, (int) priority, start, steps));
        }
        return threads;
    }

    private static Step step(JsonNode s, Map<String, WordSpec> words, String where) {
        if (s.isTextual()) {
            Step.Kind kind = Step.Kind.of(s.asText());
            if (kind == Step.Kind.EXIT || kind == Step.Kind.DIE) {
                return new Step(kind, null, -1, 0, null);
            }
            throw new ScenarioException(where + ": '" + s.asText() + "' needs an argument, like {lock: m}; "
                    + "only exit and die stand alone");
        }
        if (!s.isObject()) {
            throw new ScenarioException(where + ": a step is a mapping like {lock: m} or {compute: 10ms}");
        }
        Step.Kind kind = null;
        JsonNode arg = null;
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            Step.Kind k = Step.Kind.of(key);
            if (k != null) {
                if (kind != null) {
                    throw new ScenarioException(where + ": one step does one thing; found both " + kind.key + " and " + key);
                }
                kind = k;
                arg = s.get(key);
            } else if (!Set.of("timeout", "value", "expect").contains(key)) {
                throw new ScenarioException(where + ": unknown key '" + key + "'; a step is one of " + kinds()
                        + ", with timeout (lock), value (write) or expect");
            }
        }
        if (kind == null) {
            throw new ScenarioException(where + ": no step found; a step is one of " + kinds());
        }
        String expect = s.has("expect") ? s.get("expect").asText() : null;
        return switch (kind) {
            case LOCK -> new Step(kind, word(arg, words, where), duration(s, "timeout", where, -1), 0, expect);
            case TRYLOCK, UNLOCK, CONSISTENT, READ -> new Step(kind, word(arg, words, where), -1, 0, expect);
            case WRITE -> {
                if (!s.has("value")) {
                    throw new ScenarioException(where + ": write needs a value, like {write: data, value: 7}");
                }
                yield new Step(kind, word(arg, words, where), -1, integer(s.get("value"), where + ": value"), expect);
            }
            case COMPUTE, SLEEP -> new Step(kind, null, Durations.parse(arg.asText(), where + ": " + kind.key), 0, expect);
            case PRIORITY -> {
                long p = integer(arg, where + ": priority");
                if (!Priority.valid((int) p) || p != (int) p) {
                    throw new ScenarioException(where + ": priority " + p + " must be 1 to 99");
                }
                yield new Step(kind, null, -1, p, expect);
            }
            case EXIT, DIE -> new Step(kind, null, -1, 0, expect);
        };
    }

    private static String word(JsonNode arg, Map<String, WordSpec> words, String where) {
        String name = arg == null ? "" : arg.asText();
        if (!words.containsKey(name)) {
            throw new ScenarioException(where + ": no word named '" + name + "'; declare it under 'words', "
                    + "like {" + (name.isEmpty() ? "m" : name) + ": {object: shared, offset: 0}}; words are " + words.keySet());
        }
        return name;
    }

    private static List<Expectation> expectations(JsonNode node, List<ThreadSpec> threads, String source) {
        List<Expectation> out = new ArrayList<>();
        if (node == null) {
            return out;
        }
        if (!node.isArray()) {
            throw new ScenarioException(source + ": 'expect' lists expectations, like [{thread: H, maxWait: 60ms}]");
        }
        Set<String> names = new LinkedHashSet<>();
        threads.forEach(t -> names.add(t.name()));
        for (JsonNode e : node) {
            String where = source + ": expectation " + (out.size() + 1);
            onlyKeys(e, Set.of("thread", "maxWait", "minWait", "finishBy", "finishesBefore", "boostedTo",
                    "neverBoosted", "when"), where);
            String thread = required(e, "thread", where);
            if (!names.contains(thread)) {
                throw new ScenarioException(where + ": no thread named '" + thread + "'; threads are " + names);
            }
            String when = e.has("when") ? e.get("when").asText() : null;
            if (when != null && !when.equals("pi") && !when.equals("no-pi")) {
                throw new ScenarioException(where + ": when must be pi or no-pi, not '" + when + "'");
            }
            Expectation x;
            if (e.has("maxWait")) {
                x = new Expectation(thread, Expectation.Kind.MAX_WAIT, duration(e, "maxWait", where, 0), 0, null, when);
            } else if (e.has("minWait")) {
                x = new Expectation(thread, Expectation.Kind.MIN_WAIT, duration(e, "minWait", where, 0), 0, null, when);
            } else if (e.has("finishBy")) {
                x = new Expectation(thread, Expectation.Kind.FINISH_BY, duration(e, "finishBy", where, 0), 0, null, when);
            } else if (e.has("finishesBefore")) {
                String other = e.get("finishesBefore").asText();
                if (!names.contains(other)) {
                    throw new ScenarioException(where + ": no thread named '" + other + "'; threads are " + names);
                }
                x = new Expectation(thread, Expectation.Kind.FINISHES_BEFORE, 0, 0, other, when);
            } else if (e.has("boostedTo")) {
                x = new Expectation(thread, Expectation.Kind.BOOSTED_TO, 0,
                        (int) integer(e.get("boostedTo"), where + ": boostedTo"), null, when);
            } else if (e.has("neverBoosted")) {
                x = new Expectation(thread, Expectation.Kind.NEVER_BOOSTED, 0, 0, null, when);
            } else {
                throw new ScenarioException(where + ": say what to expect: maxWait, minWait, finishBy, "
                        + "finishesBefore, boostedTo or neverBoosted");
            }
            out.add(x);
        }
        return out;
    }

    // ---- values -------------------------------------------------------------------------------

    private static void onlyKeys(JsonNode node, Set<String> allowed, String where) {
        if (!node.isObject()) {
            throw new ScenarioException(where + ": expected a mapping with keys among " + allowed);
        }
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!allowed.contains(key)) {
                throw new ScenarioException(where + ": unknown key '" + key + "'; the keys here are " + allowed);
            }
        }
    }

    private static String required(JsonNode node, String key, String where) {
        JsonNode v = node.get(key);
        if (v == null || !v.isValueNode() || v.asText().isBlank()) {
            throw new ScenarioException(where + ": '" + key + "' is required");
        }
        return v.asText();
    }

    private static String text(JsonNode node, String key, String where, String fallback) {
        JsonNode v = node.get(key);
        if (v == null) {
            return fallback;
        }
        if (!v.isValueNode()) {
            throw new ScenarioException(where + ": '" + key + "' must be a plain value");
        }
        return v.asText();
    }

    private static long integer(JsonNode v, String where) {
        if (v != null && v.isIntegralNumber()) {
            return v.asLong();
        }
        if (v != null && v.isTextual()) {
            try {
                return Long.decode(v.asText().trim());
            } catch (NumberFormatException e) {
                // fall through
            }
        }
        throw new ScenarioException(where + ": '" + (v == null ? "" : v.asText()) + "' is not a whole number");
    }

    private static long duration(JsonNode node, String key, String where, long fallback) {
        JsonNode v = node.get(key);
        if (v == null) {
            return fallback;
        }
        if (v.isNumber() && v.asLong() == 0) {
            return 0;
        }
        if (!v.isTextual()) {
            throw new ScenarioException(where + ": " + key + " '" + v.asText() + "' needs a unit, like 50ms or 200us");
        }
        return Durations.parse(v.asText(), where + ": " + key);
    }

    private static long size(JsonNode v, String where) {
        if (v.isIntegralNumber()) {
            return v.asLong();
        }
        String t = v.asText().trim();
        long unit = 1;
        if (t.endsWith("KiB")) {
            unit = 1024;
            t = t.substring(0, t.length() - 3);
        } else if (t.endsWith("MiB")) {
            unit = 1024 * 1024;
            t = t.substring(0, t.length() - 3);
        }
        try {
            return Long.parseLong(t.trim()) * unit;
        } catch (NumberFormatException e) {
            throw new ScenarioException(where + ": size '" + v.asText() + "' must be bytes, or like 64KiB or 1MiB");
        }
    }

    private static String kinds() {
        List<String> keys = new ArrayList<>();
        for (Step.Kind k : Step.Kind.values()) {
            keys.add(k.key);
        }
        return String.join(", ", keys);
    }
}
