package io.machxp.cluster;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whether a failed {@link PagerProcessRestartTest} run says nothing about reclaims (the host was
 * too slow for the test's lease, so it stops as skipped) or shows a bug (it fails). Pure: decided
 * from the kernel's and the restarted pager's output after the kill and from the restart's timing.
 * A run is inconclusive only when both kinds of evidence say the restart was late:
 * <pre>
 *   log:     the kernel said its lease ran out before (or without) saying it reconnected, and
 *            neither it nor the new pager said the kernel's reclaim arrived (a reclaim refused,
 *            EAGAIN or ESTALE, or taken, arrived: then the restart was not too late for it)
 *   timing:  the new pager listened so late that, with the kernel's reconnect cadence
 *            ({@link #RECONNECT_MILLIS}), the kernel's lease left at the break was used up; both
 *            counted from the kill: the lease left runs from when the kernel saw the break, which
 *            comes after the kill (late10 review L4: before, from the kill, so a restart up to that
 *            detection time earlier than truly late passed as late); when the kernel saw it is
 *            the time its log line carries ({@link #brokeMillis}), not when the test read the
 *            line (late11 review LOW-P4: a reader lagging seconds behind on a loaded host made a
 *            late restart look in time, so the test failed instead of skipping)
 * </pre>
 * A reclaim that is refused, dropped or never answered after a quick restart fails the test: that
 * is the bug class the test exists for.
 */
final class RestartVerdict {
    /** The kernel's reconnect cadence after the restart: its retry period and the time it gives a connection. */
    static final long RECONNECT_MILLIS = 2_000;
    /** What a kernel logs when its stream breaks: how long its lease still runs (SessionReclaim). */
    static final Pattern LEASE_LEFT = Pattern.compile("it keeps what it holds for the (\\d+) ms its lease");
    /** What a kernel logs when its lease ran out (SessionLease). */
    static final Pattern RAN_OUT = Pattern.compile("its lease( with pager \\S+)? ran out");
    /** What a kernel logs when its reclaim was welcomed (SessionReclaim). */
    static final Pattern RECONNECTED = Pattern.compile("reconnected to pager");
    static final Pattern RAN_OUT_OR_RECONNECTED = Pattern.compile(RAN_OUT + "|" + RECONNECTED);
    /** What a kernel logs when a pager refused its reclaim (SessionReclaim): the reclaim arrived. */
    private static final Pattern REFUSED = Pattern.compile("cannot take its reclaim|does not take a reclaim in parts");

    /** The time logback's pattern (client's logback.xml, {@code %d{HH:mm:ss.SSS}}) puts at a line's start. */
    private static final Pattern STAMP = Pattern.compile("^(\\d{2}):(\\d{2}):(\\d{2})\\.(\\d{3}) ");
    private static final long DAY_MILLIS = 86_400_000;

    private RestartVerdict() {}

    /**
     * When the kernel said its stream broke, in ms from the kill: from the time at the start of its
     * log {@code line} (its wall clock's time of day; the kill at {@code killedMillisOfDay}, this
     * JVM's, on the same host and zone; across midnight too), but no later than {@code readMillis},
     * when the test read the line (a clock set back cannot make it later than that); just
     * {@code readMillis} for a line without a time.
     */
    static long brokeMillis(String line, long killedMillisOfDay, long readMillis) {
        Matcher m = STAMP.matcher(line);
        if (!m.find()) {
            return readMillis;
        }
        long logged = ((Long.parseLong(m.group(1)) * 60 + Long.parseLong(m.group(2))) * 60
                + Long.parseLong(m.group(3))) * 1_000 + Long.parseLong(m.group(4));
        long since = Math.floorMod(logged - killedMillisOfDay, DAY_MILLIS);
        if (since > DAY_MILLIS / 2) {
            since -= DAY_MILLIS; // logged before the kill was timed
        }
        return Math.min(since, readMillis);
    }

    /**
     * True when the run is inconclusive (skip), false when its failure stands. {@code kernelOut} is
     * kernel {@code kernel}'s output after the kill, {@code pagerOut} the restarted pager's,
     * {@code restartedMillis} when the new pager listened and {@code brokeMillis} when the kernel
     * said its stream broke, both from the kill, {@code leaseLeft} what the kernel said its lease
     * still ran at the break (-1: not said).
     */
    static boolean inconclusive(String kernel, String kernelOut, String pagerOut, long restartedMillis,
            long brokeMillis, long leaseLeft) {
        if (REFUSED.matcher(kernelOut).find() || reclaimArrived(kernel, pagerOut)) {
            return false;
        }
        if (!ranOutBeforeReconnecting(kernelOut)) {
            return false;
        }
        return leaseLeft >= 0 && restartedMillis + RECONNECT_MILLIS >= Math.max(0, brokeMillis) + leaseLeft;
    }

    /** Whether the kernel said its lease ran out before it said it had reconnected (or without saying so). */
    static boolean ranOutBeforeReconnecting(String kernelOut) {
        Matcher ranOut = RAN_OUT.matcher(kernelOut);
        Matcher reconnected = RECONNECTED.matcher(kernelOut);
        return ranOut.find() && (!reconnected.find() || ranOut.start() < reconnected.start());
    }

    /** Whether the pager logged taking kernel {@code kernel}'s reclaim, whole or in parts, or again (GraceReclaims, ReclaimRetry). */
    private static boolean reclaimArrived(String kernel, String pagerOut) {
        return Pattern.compile("kernel " + Pattern.quote(kernel) + " (reconnected|reclaims again|sent its reclaim)")
                .matcher(pagerOut).find();
    }

    /** What the kernel said its lease still ran when its stream broke, in ms; -1: not said. */
    static long leaseLeft(String kernelOut) {
        Matcher m = LEASE_LEFT.matcher(kernelOut);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }
}
