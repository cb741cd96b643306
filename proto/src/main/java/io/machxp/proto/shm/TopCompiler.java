package io.machxp.proto.shm;

/**
 * Whether this JVM compiles a hot method with C2, the only HotSpot compiler of Java 17 and 18 that
 * turns a foreign-linker downcall into a direct call: C1 and the interpreter run it through the
 * linker's generic path ({@code ProgrammableInvoker.invokeMoves}), which allocates a segment and
 * looks its registers up in hash maps on every call. {@link TaskClock} reads the coarse clock
 * through such a downcall; without C2 one read costs microseconds, far more than the
 * {@code System.nanoTime()} it replaces (an intrinsic in every tier), so the lease check keeps to
 * {@code System.nanoTime()} there.
 *
 * <p>Measured (2026-12-07, 2 cores, load 20-35, 2 million checks after a warm-up): a lease check
 * on the coarse clock under {@code -XX:TieredStopAtLevel=1} 3.4-3.6 µs against 0.12 µs on
 * {@code System.nanoTime()}; with C2 both are tens of ns ({@code docs/performance.md}).
 * {@code ./machxp demo} runs C1 only (docs/demo.md, "The demo's JIT"), and its workers paid this
 * on every fast lock and every read and write of their counter.
 *
 * <p>The flags are read once from the JVM's own options ({@code HotSpotDiagnosticMXBean}); on a
 * JVM that has none of them (not HotSpot), C2 is assumed, as before.
 */
final class TopCompiler {
    private TopCompiler() {}

    /** Null if a hot method here is compiled by C2 (or a compiler this does not know), else why not. */
    static String missingC2() {
        try {
            com.sun.management.HotSpotDiagnosticMXBean vm = java.lang.management.ManagementFactory
                    .getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            return vm == null ? null : missingC2(option(vm, "UseCompiler"), option(vm, "TieredCompilation"),
                    option(vm, "TieredStopAtLevel"));
        } catch (RuntimeException | LinkageError e) {
            return null; // no such options: not HotSpot, nothing known
        }
    }

    /**
     * The rule, on the options' values (null: the JVM has no such option): no compiler at all
     * ({@code -Xint}: UseCompiler false), or tiered compilation stopping below level 4 (levels 1-3
     * are C1's). Tiered compilation off means C2 alone.
     */
    static String missingC2(String useCompiler, String tieredCompilation, String tieredStopAtLevel) {
        if ("false".equals(useCompiler)) {
            return "no JIT (-Xint): the downcall is not compiled, System.nanoTime() costs less";
        }
        if ("true".equals(tieredCompilation) && tieredStopAtLevel != null) {
            int level;
            try {
                level = Integer.parseInt(tieredStopAtLevel.trim());
            } catch (NumberFormatException e) {
                return null;
            }
            if (level < 4) {
                return (level == 0 ? "no JIT" : "C1 only") + " (-XX:TieredStopAtLevel=" + level + "): the downcall is "
                        + "not compiled there and costs microseconds, System.nanoTime() less";
            }
        }
        return null;
    }

    private static String option(com.sun.management.HotSpotDiagnosticMXBean vm, String name) {
        try {
            return vm.getVMOption(name).getValue();
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
