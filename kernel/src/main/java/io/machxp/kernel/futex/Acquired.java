package io.machxp.kernel.futex;

import io.machxp.proto.task.AcquirePath;

/**
 * The answer to a lock that got the futex: how (a measure of the cache), and whether the previous
 * owner died holding it (EOWNERDEAD: the caller owns it and should repair and mark it consistent).
 */
public record Acquired(AcquirePath path, boolean ownerDied) {
    private static final Acquired[] PLAIN = new Acquired[AcquirePath.values().length];

    static {
        for (AcquirePath p : AcquirePath.values()) {
            PLAIN[p.ordinal()] = new Acquired(p, false);
        }
    }

    /** Without an owner death; no allocation. */
    public static Acquired of(AcquirePath path) {
        return PLAIN[path.ordinal()];
    }
}
