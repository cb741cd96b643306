package io.machxp.scenario;

import java.util.List;

/**
 * What a run produced: the event log, a summary per thread, and the checks.
 *
 * @param seed the seed of a sim run; -1 in real mode
 * @param completed every thread ended before the scenario's limit
 * @param stepFailures steps whose outcome was not the one they expected
 */
public record ScenarioResult(Scenario scenario, String mode, long seed, boolean priorityInheritance, boolean completed,
        List<Event> events, List<ThreadSummary> threads, List<Check> checks, List<String> stepFailures,
        List<StepOutcome> outcomes) {

    /**
     * How one step of one thread ended, in the order the steps were answered.
     *
     * @param number the step's place in its thread's program, from 1 (one past the end: the implicit exit)
     * @param step the step as written, like "lock m (timeout 10ms)"
     * @param word the word it acts on, or null
     * @param code the outcome's code: "ok", "busy", "EOWNERDEAD" or an errno name
     * @param value what a read step read (see {@link WordValues}), else ""
     * @param time when it was answered, nanoseconds since the run began
     */
    public record StepOutcome(String thread, int number, String step, Step.Kind kind, String word, String code,
            String value, long time) {}

    /**
     * @param started when its first step was asked (-1: never started)
     * @param finished when it ended (-1: still going at the limit)
     * @param waited time spent in lock, trylock and rpc
     * @param maxPriority the highest effective priority it ran at (boosts included)
     */
    public record ThreadSummary(String name, String kernel, int tid, int priority, int maxPriority, long started,
            long finished, long waited) {}

    /** One expectation and whether the run met it, with what was measured. */
    public record Check(String expectation, boolean passed, String measured) {}

    ScenarioResult withExpectations(List<Check> checks) {
        return new ScenarioResult(scenario, mode, seed, priorityInheritance, completed, events, threads, checks,
                stepFailures, outcomes);
    }

    public ThreadSummary thread(String name) {
        return threads.stream().filter(t -> t.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no thread " + name));
    }

    /** Every thread ended, every step had the outcome it expected, every check passed. */
    public boolean passed() {
        return completed && stepFailures.isEmpty() && checks.stream().allMatch(Check::passed);
    }
}
