package io.machxp.demo;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;

/** The outcome of a demo run: what `--json` prints, and the table otherwise. */
@JsonPropertyOrder({"mode", "kernels", "pagers", "threadsPerKernel", "futexes", "locality", "thinkMicros", "seed", "cache", "piggyback", "ops",
    "elapsedSeconds", "opsPerSecond", "violations", "overtaken", "localAcquires", "remoteAcquires", "acquires", "handoffs",
    "counter", "expectedCounter", "xpMessages", "xpMessagesTotal", "xpMessagesPerOp", "xpMessagesPerRemoteAcquire",
    "acquireLatencyMicros", "errors", "ownerDied", "warmupOps", "warmupSeconds", "kernelCallsPerOp", "silentLoss"})
public record DemoReport(String mode, int kernels, int pagers, int threadsPerKernel, int futexes, double locality, long thinkMicros,
        long seed,
        boolean cache, boolean piggyback, long ops, double elapsedSeconds, double opsPerSecond, long violations,
        long overtaken, long localAcquires, long remoteAcquires, Map<String, Long> acquires, long handoffs, long counter,
        long expectedCounter, Map<String, Long> xpMessages, long xpMessagesTotal, double xpMessagesPerOp,
        double xpMessagesPerRemoteAcquire, Latency acquireLatencyMicros, Map<String, Long> errors, long ownerDied,
        long warmupOps, double warmupSeconds, double kernelCallsPerOp) {

    /**
     * Acknowledged increments missing from the counters with no owner death told to anyone (the
     * only losses allowed are a dead owner's unreturned writes, which OWNER_DIED announces).
     * Counters that could not be read at the end count as a loss.
     */
    @com.fasterxml.jackson.annotation.JsonProperty("silentLoss")
    public boolean silentLoss() {
        return counter < 0 || (counter < expectedCounter && ownerDied == 0);
    }

    /**
     * What went wrong in the run, one sentence each; empty when it passed. A failed call of a
     * worker (the errors row) counts: before, only violations and silent losses did, and a run
     * whose every lock failed ENOTRECOVERABLE exited 0 (front-door review L7).
     */
    public java.util.List<String> failures() {
        java.util.List<String> failed = new java.util.ArrayList<>();
        if (violations > 0) {
            failed.add(String.format(Locale.ROOT, "%,d violations of mutual exclusion", violations));
        }
        if (counter < 0) {
            failed.add("the counters could not be read at the end: no kernel answered");
        } else if (silentLoss()) {
            failed.add(String.format(Locale.ROOT, "%,d acknowledged updates lost with no owner death told (counter "
                    + "%,d, expected %,d)", expectedCounter - counter, counter, expectedCounter));
        }
        if (!errors.isEmpty()) {
            long n = errors.values().stream().mapToLong(Long::longValue).sum();
            failed.add(String.format(Locale.ROOT, "%,d calls of the workers failed: %s (each ended its worker's "
                    + "task)", n, errors));
        }
        return failed;
    }

    /** Acquire latency in microseconds, from the call to vm_lock_futex to its return. */
    public record Latency(long p50, long p99, long max) {}

    public void printTable(PrintStream out) {
        out.printf(Locale.ROOT, "machxp demo (%s): %d %s x %d %s, %s, %d futexes, locality %.2f, %sseed %d, "
                + "futex cache %s%s%n%n", mode, kernels, kernels == 1 ? "kernel" : "kernels", threadsPerKernel,
                threadsPerKernel == 1 ? "thread" : "threads", pagers == 1 ? "1 pager" : pagers + " pagers",
                futexes, locality,
                thinkMicros == 0 ? "" : "think " + thinkMicros + " us, ", seed,
                cache ? "on (Parts III-IV)" : "off (Part II only)", piggyback ? ", pages piggybacked on grants" : "");
        if (warmupSeconds > 0) {
            row(out, "warm-up", String.format(Locale.ROOT, "%,d ops in %.2f s first, not measured (the JVM compiles "
                    + "meanwhile); their updates and violations are checked below", warmupOps, warmupSeconds));
        }
        row(out, "ops", String.format(Locale.ROOT, "%,d in %.2f s", ops, elapsedSeconds));
        row(out, "ops/s", String.format(Locale.ROOT, "%,.0f", opsPerSecond));
        row(out, "violations", violations == 0 ? "0 (mutual exclusion held)" : violations + "  <-- BROKEN");
        if (overtaken > 0) {
            row(out, "overtaken", String.format(Locale.ROOT, "%,d critical sections of owners declared dead (their "
                    + "kernel gone) were still running here when the futex passed on with OWNER_DIED; what they wrote "
                    + "after that cannot reach the object", overtaken));
        }
        row(out, "counter", counter < 0 ? "could not be read: no kernel answered  <-- UNKNOWN"
                : counter >= expectedCounter
                ? String.format(Locale.ROOT, "%,d, %,d acknowledged (no acknowledged update lost)", counter,
                        expectedCounter)
                : !silentLoss() ? String.format(Locale.ROOT, "%,d, %,d acknowledged: %,d lost with owners that died, "
                        + "told to the next owners (OWNER_DIED %,d times)", counter, expectedCounter,
                        expectedCounter - counter, ownerDied)
                : String.format(Locale.ROOT, "%,d, expected %,d  <-- UPDATES LOST SILENTLY", counter, expectedCounter));
        row(out, "errors", errors.isEmpty() ? "none" : errors.toString() + " (each ended its worker's task; "
                + "the worker went on with a new one)");
        row(out, "OWNER_DIED", String.format(Locale.ROOT, "%,d acquisitions told an owner died", ownerDied));
        row(out, "local acquires", String.format(Locale.ROOT, "%,d (%.1f%%)  fast path %,d, local handoff %,d",
                localAcquires, percent(localAcquires, ops), acquires.getOrDefault("FAST_PATH", 0L),
                acquires.getOrDefault("LOCAL_HANDOFF", 0L)));
        row(out, "remote acquires", String.format(Locale.ROOT, "%,d (%.1f%%)  granted by the pager",
                remoteAcquires, percent(remoteAcquires, ops)));
        row(out, "handoffs", String.format(Locale.ROOT, "%,d between kernels", handoffs));
        row(out, "acquire latency", String.format(Locale.ROOT, "p50 %,d us   p99 %,d us   max %,d us",
                acquireLatencyMicros.p50(), acquireLatencyMicros.p99(), acquireLatencyMicros.max()));
        row(out, "kernel calls", String.format(Locale.ROOT, "%.3f per op (calls of the workers to their kernels, over gRPC "
                + "or the call file; the rest was done in shared memory without a call)", kernelCallsPerOp));
        row(out, "XP messages", String.format(Locale.ROOT, "%,d total, %.3f per op, %.2f per remote acquire",
                xpMessagesTotal, xpMessagesPerOp, xpMessagesPerRemoteAcquire));
        xpMessages.forEach((routine, count) -> out.printf(Locale.ROOT, "    %-34s %,12d%n", routine, count));
    }

    private static void row(PrintStream out, String name, String value) {
        out.printf(Locale.ROOT, "  %-18s %s%n", name, value);
    }

    private static double percent(long part, long whole) {
        return whole == 0 ? 0 : 100.0 * part / whole;
    }
}
