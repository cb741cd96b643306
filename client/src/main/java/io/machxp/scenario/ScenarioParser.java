package io.machxp.scenario;

import static io.machxp.scenario.ScenarioFormat.and;
import static io.machxp.scenario.ScenarioFormat.didYouMean;
import static io.machxp.scenario.ScenarioFormat.or;

import com.fasterxml.jackson.databind.JsonNode;
import io.machxp.kernel.sched.Priority;
import io.machxp.scenario.Scenario.KernelSpec;
import io.machxp.scenario.Scenario.ThreadSpec;
import io.machxp.scenario.Scenario.WordSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a scenario from YAML and checks it before it runs. Every mistake is found, not only the
 * first: a file with mistakes is a {@link ScenarioException} with one line for each, naming the
 * file's line, the part (the thread by its name, the step by its number) and what would be right.
 * A file without mistakes may still have warnings ({@link Scenario#warnings()}, from
 * {@link ScenarioTiming}). The format is {@link ScenarioFormat}, described in
 * docs/scenario-format.md and scenarios/schema.json; for example:
 * <pre>
 * name: cross-kernel priority inversion
 * seed: 1                       # sim mode; default 1
 * network: {latency: 100us, jitter: 20us}
 * limit: 10s                    # stop if threads still run then; default 60s
 * kernels: [{name: A, cpus: 1}, {name: B}]
 * pagers: 1                     # default 1; with more, objects name their pager
 * objects: {shared: 64KiB}      # or a byte count, or {size: 64KiB, pager: 1}; default one object "shared" of 64 KiB
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

    private final String source;
    final YamlTree tree;
    /** The mistakes found so far, as (line, sentence); reported in the order of their lines. */
    final List<Map.Entry<Integer, String>> errors = new ArrayList<>();
    /** Per thread, the lines of its start and of each step, for the warnings. */
    private final Map<String, ScenarioTiming.Lines> lines = new LinkedHashMap<>();
    /** The threads' names and the futex words, from the tree before the threads are read. */
    final Set<String> threadNames = new LinkedHashSet<>();
    final Set<String> futexWords = new LinkedHashSet<>();

    private final StepParser stepParser = new StepParser(this);
    private final ExpectationParser expectationParser = new ExpectationParser(this);

    private ScenarioParser(String source, YamlTree tree) {
        this.source = source;
        this.tree = tree;
    }

    public static Scenario parse(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new ScenarioException("cannot read scenario " + file + ": no such file; check the path (the shipped"
                    + " scenarios are in scenarios/)");
        } catch (IOException e) {
            throw new ScenarioException("cannot read scenario " + file + ": " + e.getMessage());
        }
        return parse(text, file.getFileName().toString());
    }

    /** The scenario in {@code yaml}; {@code source} names the file in messages. */
    public static Scenario parse(String yaml, String source) {
        YamlTree tree;
        try {
            tree = YamlTree.read(yaml);
        } catch (YamlTree.Malformed e) {
            throw new ScenarioException(source + ":" + e.line + (e.column > 0 ? ":" + e.column : "")
                    + ": not valid YAML: " + e.getMessage() + "; fix the file there (docs/scenario-format.md)");
        }
        ScenarioParser parser = new ScenarioParser(source, tree);
        Scenario scenario = parser.scenario();
        if (!parser.errors.isEmpty()) {
            throw new ScenarioException(source, parser.errors.stream()
                    .sorted(Map.Entry.comparingByKey()).map(Map.Entry::getValue).toList());
        }
        return scenario;
    }

    private Scenario scenario() {
        JsonNode root = tree.root();
        if (root == null || !root.isObject()) {
            error(Math.max(tree.line(root), 1), "", "a scenario is a YAML mapping with kernels, threads and so on, "
                    + "like kernels: [{name: A}]");
            return null;
        }
        tree.duplicateKeys().forEach(d -> error(d.line(), "", "'" + d.key() + "' is written twice in one mapping"));
        onlyKeys(root, ScenarioFormat.TOP, "", "a scenario takes " + and(ScenarioFormat.TOP));
        String name = text(root, "name", "", source.replaceFirst("\\.ya?ml$", ""));
        String description = text(root, "description", "", "");
        long seed = integer(root, "seed", "", 1);
        long latency = 100_000;
        long jitter = 0;
        JsonNode network = root.get("network");
        if (network != null && onlyKeys(network, ScenarioFormat.NETWORK, "network",
                "network takes " + and(ScenarioFormat.NETWORK))) {
            latency = duration(network, "latency", "network", latency);
            jitter = duration(network, "jitter", "network", jitter);
        }
        long limit = duration(root, "limit", "", 60_000_000_000L);

        List<KernelSpec> kernels = kernels(root);
        ScenarioObjects objectsAndPagers = ScenarioObjects.read(this, root, DEFAULT_OBJECT_SIZE);
        Map<String, Long> objects = objectsAndPagers.sizes();
        Map<String, WordSpec> words = words(root, objects);
        List<ThreadSpec> threads = threads(root, kernels, words);
        List<Expectation> expectations = expectationParser.expectations(root, threads);
        if (!errors.isEmpty()) {
            return null;
        }
        List<String> warnings = ScenarioTiming.warnings(source, threads, lines);
        return new Scenario(name, description, seed, latency, jitter, kernels, objects, words, threads, expectations,
                limit, warnings, objectsAndPagers.directory());
    }

    private List<KernelSpec> kernels(JsonNode root) {
        JsonNode node = root.get("kernels");
        List<KernelSpec> kernels = new ArrayList<>();
        if (node == null || !node.isArray() || node.isEmpty()) {
            error(tree.line(root, "kernels"), "", "'kernels' must list at least one kernel, like [{name: A, cpus: 1}]");
            return kernels;
        }
        Set<String> names = new LinkedHashSet<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode k = node.get(i);
            String name = named(k, "name");
            String where = "kernel " + (name != null ? name : String.valueOf(i + 1));
            if (!onlyKeys(k, ScenarioFormat.KERNEL, where, tree.line(node, i), "a kernel takes name and cpus")
                    || required(k, "name", where) == null) {
                continue;
            }
            if (!names.add(name)) {
                error(tree.line(k, "name"), where, "two kernels are named '" + name + "'");
            }
            long cpus = integer(k, "cpus", where, 1);
            if (cpus < 1 || cpus > 256) {
                error(tree.line(k, "cpus"), where, "cpus " + cpus + " must be 1 to 256");
            }
            kernels.add(new KernelSpec(name, (int) cpus));
        }
        return kernels;
    }

    private Map<String, WordSpec> words(JsonNode root, Map<String, Long> objects) {
        JsonNode node = root.get("words");
        Map<String, WordSpec> words = new LinkedHashMap<>();
        if (node == null) {
            return words;
        }
        if (!node.isObject()) {
            error(tree.line(root, "words"), "", "'words' maps names to {object, offset}, like {m: {offset: 0}}");
            return words;
        }
        String firstObject = objects.keySet().iterator().next();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String where = "word " + e.getKey();
            JsonNode w = e.getValue();
            int line = tree.line(node, e.getKey());
            long offset = 0;
            String object = firstObject;
            if (w.isNumber()) {
                offset = integer(w, line, where + ": offset");
            } else if (onlyKeys(w, ScenarioFormat.WORD, where, line, "a word takes object and offset, "
                    + "like {object: shared, offset: 64}, or is an offset")) {
                object = text(w, "object", where, firstObject);
                offset = integer(w, "offset", where, 0);
                line = tree.line(w, "offset");
            }
            words.put(e.getKey(), new WordSpec(e.getKey(), object, offset));
            Long size = objects.get(object);
            if (size == null) {
                error(tree.line(w, "object"), where, "no object named '" + object + "'" + didYouMean(object,
                        objects.keySet()) + "objects are " + objects.keySet());
            } else if (offset < 0 || offset + 4 > size || offset % 4 != 0) {
                error(line, where, "offset " + offset + " must be 4-byte aligned and inside '" + object + "' ("
                        + size + " bytes)");
            }
        }
        return words;
    }

    private List<ThreadSpec> threads(JsonNode root, List<KernelSpec> kernels, Map<String, WordSpec> words) {
        JsonNode node = root.get("threads");
        List<ThreadSpec> threads = new ArrayList<>();
        if (node == null || !node.isArray() || node.isEmpty()) {
            error(tree.line(root, "threads"), "", "'threads' must list at least one thread");
            return threads;
        }
        List<String> kernelNames = kernels.stream().map(KernelSpec::name).toList();
        rawNames(node);
        Set<String> names = new LinkedHashSet<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode t = node.get(i);
            String name = named(t, "name");
            String where = "thread " + (name != null ? name : String.valueOf(i + 1));
            if (!onlyKeys(t, ScenarioFormat.THREAD, where, tree.line(node, i), "a thread takes "
                    + and(ScenarioFormat.THREAD))) {
                continue;
            }
            required(t, "name", where);
            if (name != null) {
                if (!names.add(name)) {
                    error(tree.line(t, "name"), where, "two threads have this name");
                }
            }
            String kernel = text(t, "kernel", where, kernelNames.isEmpty() ? "" : kernelNames.get(0));
            if (!kernelNames.isEmpty() && !kernelNames.contains(kernel)) {
                error(tree.line(t, "kernel"), where, "no kernel named '" + kernel + "'"
                        + didYouMean(kernel, kernelNames) + "kernels are " + kernelNames);
            }
            long priority = integer(t, "priority", where, Priority.DEFAULT);
            if (!validPriority(priority)) {
                error(tree.line(t, "priority"), where, "priority " + priority + " must be " + Priority.MIN + " to "
                        + Priority.MAX);
            }
            String task = text(t, "task", where, name);
            long start = duration(t, "start", where, 0);
            JsonNode program = t.get("program");
            List<Step> steps = new ArrayList<>();
            List<Integer> stepLines = new ArrayList<>();
            if (program == null || !program.isArray()) {
                error(tree.line(t, "program"), where, "'program' must list the thread's steps, like "
                        + "[{lock: m}, {unlock: m}]");
            } else {
                for (int s = 0; s < program.size(); s++) {
                    int line = tree.line(program, s);
                    Step step = stepParser.step(program.get(s), line, where + ", step " + (s + 1), words);
                    if (step != null) {
                        steps.add(step);
                        stepLines.add(line);
                    }
                }
            }
            if (name != null) {
                threads.add(new ThreadSpec(name, kernel, task, (int) priority, start, steps));
                lines.put(name, new ScenarioTiming.Lines(tree.line(t, t.has("start") ? "start" : "name"), stepLines));
            }
        }
        return threads;
    }

    /**
     * The threads' names and the futex words (those a lock, trylock, unlock or consistent step
     * names, as in {@link WordValues#futexWords}), read from the tree before the threads are, for
     * checking the values reads expect.
     */
    private void rawNames(JsonNode threads) {
        for (JsonNode t : threads) {
            String name = named(t, "name");
            if (name != null) {
                threadNames.add(name);
            }
            JsonNode program = t.isObject() ? t.get("program") : null;
            if (program == null || !program.isArray()) {
                continue;
            }
            for (JsonNode s : program) {
                for (String key : List.of("lock", "trylock", "unlock", "consistent")) {
                    String word = named(s, key);
                    if (word != null) {
                        futexWords.add(word);
                    }
                }
            }
        }
    }

    /** The name under {@code key} (a thread's name, the thread an expectation is about), or null. */
    static String named(JsonNode node, String key) {
        JsonNode name = node.isObject() ? node.get(key) : null;
        return name != null && name.isValueNode() && !name.isNull() && !name.isBoolean() && !name.asText().isBlank()
                ? name.asText() : null;
    }

    /**
     * A value YAML read as a boolean where a name or word is wanted: unquoted On, Off, Yes, No,
     * True and False are booleans in YAML, so a thread named On became "true" (and printed so).
     */
    private boolean booleanForText(JsonNode v, JsonNode node, String key, String where) {
        if (!v.isBoolean()) {
            return false;
        }
        error(tree.line(node, key), where, "'" + key + "' was read as the boolean " + v.asText() + ": YAML reads "
                + "On, Off, Yes, No, True and False unquoted as booleans; quote the name, like " + key + ": 'On'");
        return true;
    }

    void threadNamed(String name, List<String> names, int line, String where) {
        if (!names.contains(name)) {
            error(line, where, "no thread named '" + name + "'" + didYouMean(name, names) + "threads are " + names);
        }
    }

    // ---- errors and values --------------------------------------------------------------------

    void error(int line, String where, String message) {
        errors.add(Map.entry(line, source + ":" + line + ": " + (where.isEmpty() ? "" : where + ": ") + message));
    }

    /** False (after an error) if {@code node} is not a mapping; every key not in {@code allowed} is an error. */
    boolean onlyKeys(JsonNode node, Collection<String> allowed, String where, String hint) {
        return onlyKeys(node, allowed, where, tree.line(node), hint);
    }

    boolean onlyKeys(JsonNode node, Collection<String> allowed, String where, int line, String hint) {
        if (!node.isObject()) {
            error(line, where, "expected a mapping; " + hint);
            return false;
        }
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!allowed.contains(key)) {
                error(tree.line(node, key), where, "unknown key '" + key + "'" + didYouMean(key, allowed) + hint);
            }
        }
        return true;
    }

    String required(JsonNode node, String key, String where) {
        JsonNode v = node.get(key);
        if (v == null || !v.isValueNode() || v.isNull() || v.asText().isBlank()) {
            error(tree.line(node, key), where, "'" + key + "' is required");
            return null;
        }
        if (booleanForText(v, node, key, where)) {
            return null;
        }
        return v.asText();
    }

    String text(JsonNode node, String key, String where, String fallback) {
        JsonNode v = node.get(key);
        if (v == null) {
            return fallback;
        }
        if (!v.isValueNode()) {
            error(tree.line(node, key), where, "'" + key + "' must be a plain value");
            return fallback;
        }
        if (booleanForText(v, node, key, where)) {
            return fallback;
        }
        return v.asText();
    }

    long integer(JsonNode node, String key, String where, long fallback) {
        JsonNode v = node.get(key);
        return v == null ? fallback : integer(v, tree.line(node, key), (where.isEmpty() ? "" : where + ": ") + key);
    }

    long integer(JsonNode v, int line, String what) {
        if (v.isIntegralNumber()) {
            return v.asLong();
        }
        if (v.isTextual()) {
            try {
                return Long.decode(v.asText().trim());
            } catch (NumberFormatException e) {
                // an error below
            }
        }
        error(line, what, "'" + v.asText() + "' is not a whole number");
        return 0;
    }

    long duration(JsonNode node, String key, String where, long fallback) {
        JsonNode v = node.get(key);
        if (v == null) {
            return fallback;
        }
        int line = tree.line(node, key);
        if (v.isNumber() && v.asDouble() == 0) {
            return 0;
        }
        if (!v.isTextual()) {
            error(line, where, key + " '" + v.asText() + "' needs a unit, like 50ms or 200us");
            return fallback;
        }
        try {
            return Durations.parse(v.asText(), key);
        } catch (ScenarioException e) {
            error(line, where, e.getMessage());
            return fallback;
        }
    }

    long size(JsonNode v, int line, String where) {
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
            error(line, where, "size '" + v.asText() + "' must be bytes, or like 64KiB or 1MiB");
            return DEFAULT_OBJECT_SIZE;
        }
    }

    static boolean validPriority(long p) {
        return p == (int) p && Priority.valid((int) p);
    }

}
