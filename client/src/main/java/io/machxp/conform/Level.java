package io.machxp.conform;

/** How binding the rule a conformance case checks is (RFC 2119): only MUST cases decide the exit status. */
public enum Level {
    MUST,
    SHOULD
}
