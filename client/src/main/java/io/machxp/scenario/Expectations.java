package io.machxp.scenario;

import io.machxp.scenario.ScenarioResult.Check;
import io.machxp.scenario.ScenarioResult.ThreadSummary;
import java.util.ArrayList;
import java.util.List;

/** Checks a scenario's expectations against a run. */
final class Expectations {
    private Expectations() {}

    static List<Check> check(Scenario scenario, ScenarioResult run) {
        List<Check> checks = new ArrayList<>();
        for (Expectation x : scenario.expectations()) {
            if (!x.appliesTo(run.priorityInheritance())) {
                continue;
            }
            ThreadSummary t = run.thread(x.thread());
            checks.add(switch (x.kind()) {
                case MAX_WAIT -> new Check(x.toString(), t.finished() >= 0 && t.waited() <= x.nanos(),
                        "waited " + Durations.format(t.waited()));
                case MIN_WAIT -> new Check(x.toString(), t.waited() >= x.nanos(), "waited " + Durations.format(t.waited()));
                case FINISH_BY -> new Check(x.toString(), t.finished() >= 0 && t.finished() <= x.nanos(),
                        t.finished() < 0 ? "did not finish" : "finished at " + Durations.format(t.finished()));
                case FINISHES_BEFORE -> {
                    ThreadSummary o = run.thread(x.other());
                    boolean ok = t.finished() >= 0 && (o.finished() < 0 || t.finished() < o.finished());
                    yield new Check(x.toString(), ok, x.thread() + " at " + at(t) + ", " + x.other() + " at " + at(o));
                }
                case BOOSTED_TO -> new Check(x.toString(), t.maxPriority() >= x.priority(),
                        "highest priority " + t.maxPriority());
                case NEVER_BOOSTED -> new Check(x.toString(), t.maxPriority() == t.priority(),
                        "highest priority " + t.maxPriority());
            });
        }
        return checks;
    }

    private static String at(ThreadSummary t) {
        return t.finished() < 0 ? "never" : Durations.format(t.finished());
    }
}
