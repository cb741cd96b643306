package io.machxp.scenario;

/**
 * Something the run must show, checked after it ends. {@code when} limits it to runs with
 * priority inheritance ("pi"), without ("no-pi"), or any (null).
 *
 * @param thread the thread it is about
 * @param kind what is checked
 * @param nanos the bound for MAX_WAIT, MIN_WAIT, FINISH_BY
 * @param priority the priority for MAX_PRIORITY_AT_LEAST and MAX_PRIORITY_AT_MOST
 * @param other the other thread, for FINISHES_BEFORE
 */
public record Expectation(String thread, Kind kind, long nanos, int priority, String other, String when) {
    public enum Kind { MAX_WAIT, MIN_WAIT, FINISH_BY, FINISHES_BEFORE, BOOSTED_TO, NEVER_BOOSTED }

    public boolean appliesTo(boolean pi) {
        return when == null || (pi ? when.equals("pi") : when.equals("no-pi"));
    }

    @Override
    public String toString() {
        String what = switch (kind) {
            case MAX_WAIT -> thread + " waits at most " + Durations.format(nanos);
            case MIN_WAIT -> thread + " waits at least " + Durations.format(nanos);
            case FINISH_BY -> thread + " finishes by " + Durations.format(nanos);
            case FINISHES_BEFORE -> thread + " finishes before " + other;
            case BOOSTED_TO -> thread + " is boosted to at least priority " + priority;
            case NEVER_BOOSTED -> thread + " is never boosted";
        };
        return when == null ? what : what + " (" + when + ")";
    }
}
