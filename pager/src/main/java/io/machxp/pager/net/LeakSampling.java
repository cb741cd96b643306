package io.machxp.pager.net;

import io.netty.util.ResourceLeakDetector;
import java.util.List;

/**
 * Netty's buffer-leak sampling in a pager process: off unless asked for.
 *
 * <p>By default Netty tracks one buffer in 128 it allocates ({@code SIMPLE}) and records a stack
 * trace for each tracked one (a {@code Throwable} filled in at the allocation and again at its
 * release). The pager's core thread allocates several buffers per XP message (the read, each
 * frame written, each message's gRPC frame), so under a saturating load the sampling was 2.0% of
 * the core thread's {@code perf} samples (54 of 2,739), most of it {@code fillInStackTrace}, on
 * {@code machxp pager-efficiency} (docs/pager-efficiency.md). A pager process started by
 * {@code machxp pager} therefore turns it off; any of the properties Netty reads its level from
 * ({@code -Dio.netty.leakDetection.level=simple}, or {@code advanced}, {@code paranoid}; or the
 * older {@code io.netty.leakDetectionLevel} and {@code io.netty.noResourceLeakDetection}) keeps
 * Netty's choice. A pager embedded in another program
 * (the pager library, the demo, the tests) is left as that program has it.
 */
public final class LeakSampling {
    /** The system property Netty reads its level from. */
    static final String PROPERTY = "io.netty.leakDetection.level";
    /** The older names Netty still honours: a level, and a flag that turns detection off. */
    static final List<String> LEGACY_PROPERTIES = List.of("io.netty.leakDetectionLevel",
            "io.netty.noResourceLeakDetection");

    private LeakSampling() {}

    /**
     * Turns Netty's leak sampling off for this process unless {@value #PROPERTY} or one of the
     * {@link #LEGACY_PROPERTIES} is set; whether it did.
     */
    public static boolean offUnlessConfigured() {
        if (System.getProperty(PROPERTY) != null
                || LEGACY_PROPERTIES.stream().anyMatch(p -> System.getProperty(p) != null)) {
            return false;
        }
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        return true;
    }
}
