package io.machxp.scenario;

import java.util.List;

/**
 * A scenario file that cannot be run, with a sentence saying what to fix and where; for a file
 * with several mistakes, one line for each ({@link #errors()}), after a line that counts them.
 */
public final class ScenarioException extends RuntimeException {
    private final List<String> errors;

    public ScenarioException(String message) {
        super(message);
        this.errors = List.of(message);
    }

    /** Every mistake in {@code source}, one line each, like "chain.yaml:12: thread T1, step 3: ...". */
    public ScenarioException(String source, List<String> errors) {
        super(errors.size() == 1 ? errors.get(0)
                : source + ": " + errors.size() + " errors\n" + String.join("\n", errors));
        this.errors = List.copyOf(errors);
    }

    /** The mistakes, one sentence each. */
    public List<String> errors() {
        return errors;
    }
}
