package io.machxp.pager.replica;

import java.util.function.LongSupplier;

/**
 * The group clock as a leader reads it to stamp its entries ({@code PagerLogEntry.clock_nanos}):
 * the group clock as of this replica's applied leader_started of the leader's term, plus the time
 * this replica's monotonic clock ({@link System#nanoTime()}) counted since it applied that entry.
 *
 * <pre>
 *  reading for the leader of term T      the group clock then
 *  leader_started(T) applied here        base(T) + (nanoTime() - nanoTime at that apply)
 *  not yet (the genesis, leader_started   the group clock as applied here: it does not advance
 *    itself, or another term's leader)     (a genesis with no clock applied yet: the caller's origin)
 * </pre>
 *
 * No replica's wall clock takes part: a step of a leader's wall clock (NTP, date -s, a VM
 * restored) changes no reading, and replicas whose wall clocks disagree agree on the group clock.
 * Within a term the group clock advances exactly as the leader's monotonic clock; across a change
 * of leader it stands still from the last entry applied until the new leader's leader_started
 * (which gives every session a full lease from there), so it never runs ahead of real time by
 * more than the leaders' monotonic clocks' rate error. A leader that starts again (a new process)
 * leads a new term, with a leader_started of its own, so a base is never carried across processes.
 * Followers record the base too (they apply the same entries); only the leader of the base's term
 * reads it. Any thread: the applying thread sets the base, the XP and ticker threads read it.
 */
public final class GroupClock {
    private record Base(long term, long clock, long at) {}

    private final LongSupplier monotonic;
    private volatile Base base = new Base(-1, 0, 0);

    /** On this machine's monotonic clock ({@link System#nanoTime()}). */
    public GroupClock() {
        this(System::nanoTime);
    }

    /** On {@code monotonic} (the simulator's replicas: their modelled {@code nanoTime()}). */
    public GroupClock(LongSupplier monotonic) {
        this.monotonic = monotonic;
    }

    /** The applying thread: the leader_started of {@code term} was applied, the group clock then at {@code clock}. */
    public void leaderStarted(long term, long clock) {
        base = new Base(term, clock, monotonic.getAsLong());
    }

    /**
     * The reading the leader of {@code term} stamps an entry with now: see the overview;
     * {@code applied} is the group clock as applied here, which a reading never goes below.
     */
    public long now(long term, long applied) {
        Base b = base;
        if (b.term != term) {
            return applied;
        }
        return Math.max(applied, b.clock + Math.max(0, monotonic.getAsLong() - b.at));
    }
}
