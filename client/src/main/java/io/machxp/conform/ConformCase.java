package io.machxp.conform;

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
public record ConformCase(String id, String section, Level level, String title, boolean needsRestart,
        boolean waitsLeases, Body body) {
    /** What a case does against the target. */
    @FunctionalInterface
    public interface Body {
        void run(PagerProbe probe) throws Exception;
    }

    public static ConformCase must(String id, String title, Body body) {
        return new ConformCase(id, sectionOf(id), Level.MUST, title, false, false, body);
    }

    public static ConformCase should(String id, String title, Body body) {
        return new ConformCase(id, sectionOf(id), Level.SHOULD, title, false, false, body);
    }

    /** The same case, run only when the target can be restarted; it waits out leases. */
    public ConformCase restarting() {
        return new ConformCase(id, section, level, title, true, true, body);
    }

    /** The same case, given three of the target's leases on top of the per-case timeout. */
    public ConformCase waitingLeases() {
        return new ConformCase(id, section, level, title, needsRestart, true, body);
    }

    private static String sectionOf(String id) {
        return id.substring(0, id.indexOf('-'));
    }
}
