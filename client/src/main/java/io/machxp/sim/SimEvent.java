package io.machxp.sim;

/** One event of the simulation: an action at a virtual time, run in (time, order of scheduling). */
final class SimEvent implements Comparable<SimEvent> {
    final long time;
    final long order;
    final Runnable action;
    boolean cancelled;

    SimEvent(long time, long order, Runnable action) {
        this.time = time;
        this.order = order;
        this.action = action;
    }

    @Override
    public int compareTo(SimEvent o) {
        return time != o.time ? Long.compare(time, o.time) : Long.compare(order, o.order);
    }
}
