package io.machxp.scenario;

import static io.machxp.scenario.ScenarioFormat.and;
import static io.machxp.scenario.ScenarioFormat.didYouMean;
import static io.machxp.scenario.ScenarioFormat.or;

import com.fasterxml.jackson.databind.JsonNode;
import io.machxp.kernel.sched.Priority;
import io.machxp.scenario.Scenario.WordSpec;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The steps of a thread's program, read and checked for {@link ScenarioParser}: which step a
 * mapping is, the options it takes ({@link ScenarioFormat#stepOptions}), the outcome it expects,
 * the word it names and the value a read expects. Mistakes go to the parser's list with their
 * line; Mach IPC steps are read by {@link IpcStepParser}.
 */
final class StepParser {
    private final ScenarioParser parser;
    private final IpcStepParser ipc;

    StepParser(ScenarioParser parser) {
        this.parser = parser;
        this.ipc = new IpcStepParser(parser);
    }

    /**
     * The value a read expects, as {@link WordValues} shows it: for a futex word "free",
     * "NOT_RECOVERABLE", or an owner (a thread's name, a TID as a number, unknown-tid) and flags
     * (OWNER_DIED, then WAITERS) joined by "|"; for a data word a whole number, kept as its
     * signed 32-bit decimal.
     */
    private String readValue(JsonNode s, String word, String where) {
        JsonNode v = s.get("value");
        if (v == null) {
            return null;
        }
        int line = parser.tree.line(s, "value");
        if (!v.isValueNode() || v.isNull()) {
            parser.error(line, where, "a read's value is what it must see, like free, T|WAITERS or 13");
            return null;
        }
        String text = v.asText().strip();
        if (!parser.futexWords.contains(word)) {
            try {
                return Integer.toString((int) Long.decode(text).longValue());
            } catch (NumberFormatException e) {
                parser.error(line, where, "'" + text + "' is no value of " + word + ", a data word (no lock, trylock, unlock "
                        + "or consistent names it): it reads as a whole number, like 13");
                return null;
            }
        }
        if (text.equals("free") || text.equals("NOT_RECOVERABLE")) {
            return text;
        }
        String hint = "a futex word reads as free, NOT_RECOVERABLE, or an owner (a thread's name, a TID the scenario "
                + "wrote, unknown-tid) and flags " + and(ScenarioFormat.READ_FLAGS) + " in this order, joined by |, "
                + "like T|WAITERS or OWNER_DIED";
        List<String> parts = List.of(text.split("\\|", -1));
        int i = 0;
        String first = parts.get(0);
        if (!ScenarioFormat.READ_FLAGS.contains(first)) {
            boolean owner = parser.threadNames.contains(first) || first.equals("unknown-tid") || first.matches("[1-9][0-9]*");
            if (!owner) {
                List<String> known = new ArrayList<>(parser.threadNames);
                known.addAll(ScenarioFormat.READ_FLAGS);
                known.addAll(List.of("free", "NOT_RECOVERABLE", "unknown-tid"));
                parser.error(line, where, "'" + first + "' in '" + text + "' is no thread nor flag" + didYouMean(first, known)
                        + hint);
                return null;
            }
            i = 1;
        }
        int flag = 0;
        for (; i < parts.size(); i++) {
            int at = ScenarioFormat.READ_FLAGS.indexOf(parts.get(i));
            if (at < flag) {
                parser.error(line, where, "'" + parts.get(i) + "' in '" + text + "' is not a flag here" + didYouMean(parts
                        .get(i), ScenarioFormat.READ_FLAGS) + hint);
                return null;
            }
            flag = at + 1;
        }
        return text;
    }

    Step step(JsonNode s, int line, String where, Map<String, WordSpec> words) {
        List<String> kinds = ScenarioFormat.stepKinds();
        if (s.isTextual()) {
            String text = s.asText();
            Step.Kind kind = Step.Kind.of(text);
            if (kind == Step.Kind.EXIT || kind == Step.Kind.DIE) {
                return new Step(kind, null, -1, 0, null);
            }
            parser.error(line, where, kind != null
                    ? "'" + text + "' needs an argument, like {" + text + ": " + example(kind) + "}; only exit and die "
                            + "stand alone"
                    : "unknown step '" + text + "'" + didYouMean(text, kinds) + "a step is one of " + or(kinds));
            return null;
        }
        if (!s.isObject()) {
            parser.error(line, where, "a step is a mapping like {lock: m} or {compute: 10ms}, or exit or die");
            return null;
        }
        Step.Kind kind = null;
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            Step.Kind k = Step.Kind.of(key);
            if (k != null && kind != null) {
                parser.error(parser.tree.line(s, key), where, "one step does one thing; found both " + kind.key + " and " + key);
            } else if (k != null) {
                kind = k;
            }
        }
        int errorsBefore = parser.errors.size();
        List<String> optionKeys = List.of("timeout", "value", "expect");
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (Step.Kind.of(key) != null || (kind != null && ScenarioFormat.stepOptions(kind).contains(key))) {
                continue;
            }
            int keyLine = parser.tree.line(s, key);
            if (kind == null) {
                List<String> known = new ArrayList<>(kinds);
                known.addAll(optionKeys);
                if (!optionKeys.contains(key)) {
                    parser.error(keyLine, where, "unknown key '" + key + "'" + didYouMean(key, known) + "a step is one of "
                            + or(kinds));
                }
            } else if (key.equals("expect") && ScenarioFormat.outcomes(kind).isEmpty()) {
                parser.error(keyLine, where, kind.key + " has no outcome to expect; only lock, trylock, unlock, consistent, "
                        + "read, write, send, receive and rpc do");
            } else if (optionKeys.contains(key)) {
                parser.error(keyLine, where, "'" + key + "' does not apply to " + kind.key + "; " + takes(kind));
            } else {
                List<String> known = new ArrayList<>(ScenarioFormat.stepOptions(kind));
                known.addAll(optionKeys);
                known.addAll(kinds);
                parser.error(keyLine, where, "unknown key '" + key + "'" + didYouMean(key, known) + takes(kind));
            }
        }
        if (kind == null) {
            if (parser.errors.size() == errorsBefore) {
                parser.error(line, where, "no step found; a step is one of " + or(kinds));
            }
            return null;
        }
        JsonNode arg = s.get(kind.key);
        String expect = expect(s, kind, where);
        return switch (kind) {
            case LOCK -> new Step(kind, word(s, kind, words, where), parser.duration(s, "timeout", where, -1), 0, expect);
            case TRYLOCK, UNLOCK, CONSISTENT -> new Step(kind, word(s, kind, words, where), -1, 0, expect);
            case READ -> {
                String word = word(s, kind, words, where);
                yield new Step(kind, word, -1, 0, expect, readValue(s, word, where));
            }
            case WRITE -> {
                String word = word(s, kind, words, where);
                if (!s.has("value")) {
                    parser.error(line, where, "write needs a value, like {write: " + word + ", value: 7}");
                }
                yield new Step(kind, word, -1, parser.integer(s, "value", where, 0), expect);
            }
            case COMPUTE, SLEEP -> {
                long nanos = 0;
                if (arg.isTextual() || (arg.isNumber() && arg.asLong() == 0)) {
                    nanos = parser.duration(s, kind.key, where, 0);
                } else {
                    parser.error(parser.tree.line(s, kind.key), where, kind.key + " needs a duration, like {" + kind.key + ": 10ms}");
                }
                yield new Step(kind, null, nanos, 0, expect);
            }
            case PRIORITY -> {
                long p = parser.integer(s, kind.key, where, Priority.DEFAULT);
                if (!ScenarioParser.validPriority(p)) {
                    parser.error(parser.tree.line(s, kind.key), where, "priority " + p + " must be " + Priority.MIN + " to "
                            + Priority.MAX);
                }
                yield new Step(kind, of(s, where), -1, p, expect);
            }
            case EXIT, DIE -> new Step(kind, null, -1, 0, expect);
            case PORT_ALLOCATE, SEND, RECEIVE, RPC -> ipc.step(s, kind, where, expect);
        };
    }

    /** The step's expected outcome, if it names one this kind of step can have. */
    private String expect(JsonNode s, Step.Kind kind, String where) {
        JsonNode v = s.get("expect");
        List<String> possible = ScenarioFormat.outcomes(kind);
        if (v == null || possible.isEmpty()) {
            return null;
        }
        int line = parser.tree.line(s, "expect");
        String outcome = v.asText();
        if (!v.isValueNode() || v.isNull()) {
            parser.error(line, where, "expect names one outcome, like ok or " + possible.get(possible.size() - 1));
        } else if (!ScenarioFormat.OUTCOMES.contains(outcome)) {
            parser.error(line, where, "unknown outcome '" + outcome + "'" + didYouMean(outcome, ScenarioFormat.OUTCOMES)
                    + article(kind) + " gives " + or(possible));
        } else if (!possible.contains(outcome)) {
            parser.error(line, where, article(kind) + " never gives " + outcome + "; it gives " + or(possible));
        } else if (kind == Step.Kind.LOCK && outcome.equals("ETIMEDOUT") && !s.has("timeout")) {
            parser.error(line, where, "a lock without a timeout never gives ETIMEDOUT; give it one, like timeout: 10ms");
        } else {
            return outcome;
        }
        return null;
    }

    /** The thread whose priority a priority step sets ({@code of}), or null: the thread itself. */
    private String of(JsonNode s, String where) {
        JsonNode v = s.get("of");
        if (v == null) {
            return null;
        }
        int line = parser.tree.line(s, "of");
        String name = v.isValueNode() && !v.isNull() ? v.asText() : "";
        if (name.isEmpty()) {
            parser.error(line, where, "'of' names the thread whose priority it sets, like {priority: 50, of: W}");
            return null;
        }
        parser.threadNamed(name, List.copyOf(parser.threadNames), line, where);
        return name;
    }

    /** The word a step names; its name even when no such word is declared (after an error). */
    private String word(JsonNode s, Step.Kind kind, Map<String, WordSpec> words, String where) {
        JsonNode arg = s.get(kind.key);
        String name = arg == null || !arg.isValueNode() || arg.isNull() ? "" : arg.asText();
        if (!words.containsKey(name)) {
            parser.error(parser.tree.line(s, kind.key), where, (name.isEmpty() ? kind.key + " needs a word; " : "no word named '"
                    + name + "'" + didYouMean(name, words.keySet())) + "declare it under 'words', like {"
                    + (name.isEmpty() ? "m" : name) + ": {object: shared, offset: 0}}; words are " + words.keySet());
        }
        return name;
    }

    /** "a lock takes timeout and expect", "a compute takes nothing else". */
    private static String takes(Step.Kind kind) {
        List<String> options = ScenarioFormat.stepOptions(kind);
        return article(kind) + " takes " + (options.isEmpty() ? "nothing else" : and(options));
    }

    private static String article(Step.Kind kind) {
        return (kind == Step.Kind.UNLOCK || kind == Step.Kind.EXIT ? "an " : "a ") + kind.key;
    }

    private static String example(Step.Kind kind) {
        return switch (kind) {
            case COMPUTE, SLEEP -> "10ms";
            case PRIORITY -> "50";
            default -> "m";
        };
    }
}
