package io.machxp.conform;

/** What one case found: passed, failed (with what it saw), skipped (with why) or broken (an error of the kit or the link). */
public record CaseResult(ConformCase<?> conformCase, Outcome outcome, String message, long millis) {
    public enum Outcome {
        PASS,
        FAIL,
        SKIP,
        /** The case could not complete (the target went away, an unexpected exception): counts as a failure. */
        ERROR
    }

    /** Whether this result makes the run fail: a MUST case that failed or broke. */
    public boolean failsRun() {
        return conformCase.level() == Level.MUST && (outcome == Outcome.FAIL || outcome == Outcome.ERROR);
    }
}
