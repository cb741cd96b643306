package io.machxp.conform;

/** A conformance case cannot run against this target (no lease, no restart command, ...): why not. */
public final class Skipped extends RuntimeException {
    public Skipped(String why) {
        super(why);
    }
}
