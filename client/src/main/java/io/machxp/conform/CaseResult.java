package io.machxp.conform;

import java.util.List;

/**
 * What one case found: passed, failed (with what it saw), skipped (with why) or broken (an error of
 * the kit or the link). {@code earlierRuns}: what each earlier run of the case found when the kit
 * stalled under it and the case ran again (its outcome, full message and time); empty for a case
 * that ran once. A PASS with earlier runs passed on a rerun, and reports say so.
 */
public record CaseResult(ConformCase<?> conformCase, Outcome outcome, String message, long millis,
        List<CaseResult> earlierRuns) {
    public enum Outcome {
        PASS,
        FAIL,
        SKIP,
        /** The case could not complete (the target went away, an unexpected exception): counts as a failure. */
        ERROR
    }

    public CaseResult {
        earlierRuns = List.copyOf(earlierRuns);
    }

    /** A case that ran once. */
    public CaseResult(ConformCase<?> conformCase, Outcome outcome, String message, long millis) {
        this(conformCase, outcome, message, millis, List.of());
    }

    /** Whether this result makes the run fail: a MUST case that failed or broke. */
    public boolean failsRun() {
        return conformCase.level() == Level.MUST && (outcome == Outcome.FAIL || outcome == Outcome.ERROR);
    }

    /** Passed, but only on a rerun: an earlier run failed or broke while the kit stalled. */
    public boolean passedOnRerun() {
        return outcome == Outcome.PASS && !earlierRuns.isEmpty();
    }
}
