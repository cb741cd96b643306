package io.machxp.conform;

import java.util.List;
import java.util.regex.Pattern;

/**
 * One check of the conformance kit: the section of docs/xp-spec.md whose rule it checks, how
 * binding that rule is, and what it does against the target.
 *
 * @param id stable, {@code <section>-<short name>}; what --cases matches
 * @param section the spec section, e.g. "8.5"
 * @param level MUST cases decide the exit status; SHOULD cases are reported only
 * @param title one line saying what the target must do
 * @param needsRestart the case restarts the target (runs only with a restart command)
 * @param waitsLeases the case waits out the target's lease (its deadline grows by three leases)
 * @param body the check: returns normally when the target follows the rule, throws
 *     {@link Violation} when it does not, {@link Skipped} when it cannot be checked here
 */
public record ConformCase<P>(String id, String section, Level level, String title, boolean needsRestart,
        boolean waitsLeases, Body<P> body) {
    /**
     * What a case does against the target, through its probe: a {@link PagerProbe} (fake kernels
     * against a pager) or a {@code KernelProbe} (a fake pager and the task interface of a kernel).
     */
    @FunctionalInterface
    public interface Body<P> {
        void run(P probe) throws Exception;
    }

    public static <P> ConformCase<P> must(String id, String title, Body<P> body) {
        return new ConformCase<>(id, sectionOf(id), Level.MUST, title, false, false, body);
    }

    public static <P> ConformCase<P> should(String id, String title, Body<P> body) {
        return new ConformCase<>(id, sectionOf(id), Level.SHOULD, title, false, false, body);
    }

    /** The same case, run only when the target can be restarted; it waits out leases. */
    public ConformCase<P> restarting() {
        return new ConformCase<>(id, section, level, title, true, true, body);
    }

    /** The same case, given three of the target's leases on top of the per-case timeout. */
    public ConformCase<P> waitingLeases() {
        return new ConformCase<>(id, section, level, title, needsRestart, true, body);
    }

    /** The cases whose id matches {@code pattern} (a regular expression, found anywhere in the id); null: all. */
    public static <P> List<ConformCase<P>> matching(List<ConformCase<P>> all, String pattern) {
        if (pattern == null) {
            return all;
        }
        Pattern p = Pattern.compile(pattern);
        return all.stream().filter(c -> p.matcher(c.id()).find()).toList();
    }

    private static String sectionOf(String id) {
        return id.substring(0, id.indexOf('-'));
    }
}
