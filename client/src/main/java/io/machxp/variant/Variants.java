package io.machxp.variant;

import io.machxp.kernel.policy.AdaptiveHold;
import io.machxp.kernel.policy.FutexPolicies;
import io.machxp.kernel.policy.MinimumHold;
import io.machxp.pager.policy.DirectHandoff;
import io.machxp.pager.policy.GrantPolicy;
import io.machxp.pager.policy.StickyLease;
import io.machxp.scenario.Durations;
import java.util.List;

/**
 * The protocol variants machxp offers by name. A name may carry a duration after a colon for
 * the variants that take one: min-hold:2ms, adaptive-hold:10ms (its most), sticky-lease:500us.
 */
public final class Variants {
    /** Every variant's base name, in the order tables show them. */
    public static final List<String> NAMES = List.of("no-cache", "cache", "page-separate", "piggyback", "min-hold",
            "adaptive-hold", "sticky-lease", "direct");
    public static final String DEFAULT = "cache";
    static final long DEFAULT_HOLD = 1_000_000;
    static final long DEFAULT_ADAPTIVE_MAX = 1_000_000;
    static final long DEFAULT_LEASE = 1_000_000;

    private Variants() {}

    /**
     * The variant named {@code spec}.
     *
     * @throws IllegalArgumentException naming the variants there are, for an unknown name or a bad duration
     */
    public static Variant of(String spec) {
        int colon = spec.indexOf(':');
        String name = colon < 0 ? spec : spec.substring(0, colon);
        Long nanos = colon < 0 ? null : duration(spec, spec.substring(colon + 1));
        if (nanos != null && !List.of("min-hold", "adaptive-hold", "sticky-lease").contains(name)) {
            throw new IllegalArgumentException("variant '" + name + "' takes no duration (only min-hold, adaptive-hold, "
                    + "and sticky-lease do, as in min-hold:2ms)");
        }
        GrantPolicy immediate = GrantPolicy.IMMEDIATE;
        return switch (name) {
            case "no-cache" -> new Variant(spec, "Part II: every lock and unlock goes to the pager",
                    FutexPolicies.NO_CACHE, immediate);
            case "cache" -> new Variant(spec, "Parts III/IV: futexes cached, the page inside grant and release",
                    FutexPolicies.CACHE, immediate);
            case "page-separate" -> new Variant(spec, "futexes cached, the page fetched on its own (page-in)",
                    FutexPolicies.PAGE_SEPARATE, immediate);
            case "piggyback" -> new Variant(spec, "cache, and a release carries the pages dirtied under the futex",
                    FutexPolicies.PIGGYBACK, immediate);
            case "min-hold" -> new Variant(spec, "cache, a granted futex kept at least "
                    + Durations.format(or(nanos, DEFAULT_HOLD)) + " (a higher priority elsewhere skips the hold)",
                    new MinimumHold(or(nanos, DEFAULT_HOLD)), immediate);
            case "adaptive-hold" -> new Variant(spec, "cache, a granted futex kept as long as getting it took, at most "
                    + Durations.format(or(nanos, DEFAULT_ADAPTIVE_MAX)), new AdaptiveHold(or(nanos, DEFAULT_ADAPTIVE_MAX)),
                    immediate);
            case "sticky-lease" -> new Variant(spec, "cache, the pager asks for a futex back only after a lease of "
                    + Durations.format(or(nanos, DEFAULT_LEASE)) + " from its grant",
                    FutexPolicies.CACHE, new StickyLease(or(nanos, DEFAULT_LEASE)));
            case "direct" -> new Variant(spec, "cache, and the holder also sends its release with the page straight "
                    + "to the next kernel over the kernel link (the pager's grant confirms it)", FutexPolicies.DIRECT,
                    new DirectHandoff());
            default -> throw new IllegalArgumentException("no variant '" + name + "'; the variants are "
                    + String.join(", ", NAMES));
        };
    }

    /** The variant of the old switches --no-cache and --piggyback. */
    public static Variant ofSwitches(boolean noCache, boolean piggyback) {
        return of(noCache ? "no-cache" : piggyback ? "piggyback" : DEFAULT);
    }

    private static long or(Long value, long otherwise) {
        return value == null ? otherwise : value;
    }

    private static long duration(String spec, String text) {
        try {
            return Durations.parse(text, "variant " + spec);
        } catch (io.machxp.scenario.ScenarioException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }
}
