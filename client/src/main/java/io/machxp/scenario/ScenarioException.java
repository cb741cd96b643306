package io.machxp.scenario;

/** A scenario file that cannot be run, with a sentence saying what to fix and where. */
public final class ScenarioException extends RuntimeException {
    public ScenarioException(String message) {
        super(message);
    }
}
