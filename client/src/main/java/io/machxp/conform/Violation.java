package io.machxp.conform;

/** A conformance case saw the target break the rule it checks; the message says what it saw. */
public final class Violation extends RuntimeException {
    public Violation(String message) {
        super(message);
    }
}
