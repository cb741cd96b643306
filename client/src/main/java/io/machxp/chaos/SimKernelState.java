package io.machxp.chaos;

import io.machxp.kernel.core.KernelCore;

/**
 * A kernel of a chaos run as the harness knows it: its fate is the harness's own record (what
 * {@link ChaosFaults} did to it), never the core's word.
 *
 * <p>States: running; {@link #paused} or cut off for a while ({@link #busyUntil}, survivable);
 * {@link #doomed} (a fault it cannot survive was injected: it must stop by then); {@link #stopped}
 * (killed, shut down, or past the time it must have stopped by: its workers make no more calls).
 */
final class SimKernelState {
    final String name;
    final KernelCore core;
    final long startedAt;
    /** Its workers make no more calls: killed, shut down, or past the time it must have stopped by. */
    boolean stopped;
    /** A fault it cannot survive was injected: it must stop by then. */
    boolean doomed;
    boolean paused;
    /** Once doomed or dead: by when the pager must have declared it dead (until then it may grant it futexes). */
    long declaredDeadBy;
    /** A survivable fault is in effect until then: no other one starts on it. */
    long busyUntil;
    /** A partition from one secondary pager has its effect until then: no second one starts on it. */
    long linkCutUntil;

    SimKernelState(String name, KernelCore core, long startedAt) {
        this.name = name;
        this.core = core;
        this.startedAt = startedAt;
    }
}
