package io.machxp.scenario;

import static io.machxp.scenario.ScenarioFormat.or;

import com.fasterxml.jackson.databind.JsonNode;
import io.machxp.kernel.sched.Priority;
import io.machxp.scenario.Scenario.ThreadSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * The expectations of a scenario ({@code expect:}), read and checked for {@link ScenarioParser}:
 * each names a thread the scenario has, exactly one kind ({@link ScenarioFormat#EXPECTATION_KINDS}:
 * maxWait, minWait, finishBy, finishesBefore, boostedTo, neverBoosted) with a value of that kind,
 * and optionally {@code when: pi | no-pi}. Mistakes go to the parser's list with their line;
 * an expectation with a mistake is left out, so the scenario does not run.
 */
final class ExpectationParser {
    private final ScenarioParser parser;

    ExpectationParser(ScenarioParser parser) {
        this.parser = parser;
    }

    List<Expectation> expectations(JsonNode root, List<ThreadSpec> threads) {
        YamlTree tree = parser.tree;
        JsonNode node = root.get("expect");
        List<Expectation> out = new ArrayList<>();
        if (node == null) {
            return out;
        }
        if (!node.isArray()) {
            parser.error(tree.line(root, "expect"), "",
                    "'expect' lists expectations, like [{thread: H, maxWait: 60ms}]");
            return out;
        }
        List<String> names = threads.stream().map(ThreadSpec::name).toList();
        for (int i = 0; i < node.size(); i++) {
            JsonNode e = node.get(i);
            String thread = ScenarioParser.named(e, "thread");
            String where = "expectation " + (i + 1) + (thread != null ? " (thread " + thread + ")" : "");
            if (!parser.onlyKeys(e, ScenarioFormat.EXPECTATION, where, tree.line(node, i),
                    "an expectation takes thread, one of " + or(ScenarioFormat.EXPECTATION_KINDS) + ", and when")) {
                continue;
            }
            parser.required(e, "thread", where);
            if (thread != null) {
                parser.threadNamed(thread, names, tree.line(e, "thread"), where);
            }
            String when = parser.text(e, "when", where, null);
            if (when != null && !ScenarioFormat.WHEN.contains(when)) {
                parser.error(tree.line(e, "when"), where, "when must be pi or no-pi, not '" + when + "'");
            }
            List<String> kinds = ScenarioFormat.EXPECTATION_KINDS.stream().filter(e::has).toList();
            if (kinds.isEmpty()) {
                parser.error(tree.line(e), where, "say what to expect: " + or(ScenarioFormat.EXPECTATION_KINDS));
                continue;
            }
            if (kinds.size() > 1) {
                parser.error(tree.line(e, kinds.get(1)), where, "one expectation checks one thing; found both "
                        + kinds.get(0) + " and " + kinds.get(1) + ": write two");
            }
            String kind = kinds.get(0);
            Expectation x = switch (kind) {
                case "maxWait" -> new Expectation(thread, Expectation.Kind.MAX_WAIT,
                        parser.duration(e, kind, where, 0), 0, null, when);
                case "minWait" -> new Expectation(thread, Expectation.Kind.MIN_WAIT,
                        parser.duration(e, kind, where, 0), 0, null, when);
                case "finishBy" -> new Expectation(thread, Expectation.Kind.FINISH_BY,
                        parser.duration(e, kind, where, 0), 0, null, when);
                case "finishesBefore" -> {
                    String other = parser.text(e, kind, where, "");
                    parser.threadNamed(other, names, tree.line(e, kind), where);
                    yield new Expectation(thread, Expectation.Kind.FINISHES_BEFORE, 0, 0, other, when);
                }
                case "boostedTo" -> {
                    long p = parser.integer(e, kind, where, Priority.MAX);
                    if (!ScenarioParser.validPriority(p)) {
                        parser.error(tree.line(e, kind), where, "boostedTo " + p + " must be " + Priority.MIN + " to "
                                + Priority.MAX);
                    }
                    yield new Expectation(thread, Expectation.Kind.BOOSTED_TO, 0, (int) p, null, when);
                }
                default -> {
                    if (!e.get(kind).asBoolean(false)) {
                        parser.error(tree.line(e, kind), where, "neverBoosted takes true; leave the expectation out to "
                                + "expect nothing");
                    }
                    yield new Expectation(thread, Expectation.Kind.NEVER_BOOSTED, 0, 0, null, when);
                }
            };
            out.add(x);
        }
        return out;
    }
}
