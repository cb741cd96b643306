package io.machxp.pager.core;

import org.slf4j.Logger;

/**
 * The WARN line of each message the pager refuses (drops, xp-spec 3.4), rate-limited so that a
 * kernel sending message after message the pager drops cannot fill the log. Every refusal is
 * counted ({@code machxp.refused}) whether or not it is logged.
 * <pre>
 *  a window of WINDOW_NANOS (10 s) opens at a refusal
 *  the window's first LINES (32) refusals  -> one WARN line each
 *  past those                              -> not logged, counted
 *  the first refusal after the window      -> one WARN line saying how many were not logged in it,
 *                                             then a new window opens with this refusal
 * </pre>
 * The clock is the core's (its env's), so the limit behaves the same under a test's clock.
 * Pager core thread only.
 */
final class RefusalLog {
    static final int LINES = 32;
    static final long WINDOW_NANOS = 10_000_000_000L;

    private boolean open;
    private long windowStart;
    private int logged;
    private long unlogged;

    /** A refusal at {@code now}: logged as {@code pager NAME: refused from S: WHAT}, or counted. */
    void refused(Logger log, long now, String pager, Object from, String what) {
        if (!open || now - windowStart >= WINDOW_NANOS) {
            if (unlogged > 0) {
                log.warn("pager {}: {} more refused messages were not logged in {} s (the first {} of a window of "
                        + "{} s are; every one is counted in machxp.refused)", pager, unlogged,
                        (now - windowStart) / 1_000_000_000L, LINES, WINDOW_NANOS / 1_000_000_000L);
            }
            open = true;
            windowStart = now;
            logged = 0;
            unlogged = 0;
        }
        if (logged < LINES) {
            logged++;
            log.warn("pager {}: refused from {}: {}", pager, from, what);
        } else {
            unlogged++;
        }
    }
}
