package io.machxp.sim;

import java.util.PriorityQueue;

/**
 * The simulator's event queue in virtual time, on one Java thread: events run in (time, order of
 * scheduling), so that the same calls give the same events in the same order. Virtual time only
 * moves when an event runs: {@link #step} sets it to that event's time. An event scheduled in the
 * past runs now; a cancelled one ({@link SimEvent#cancelled}) is taken off the queue in its turn
 * without running. An event for the end of the instant ({@link #scheduleLast}) runs once no
 * other event is due now, before time moves on.
 */
final class SimEvents {
    private final PriorityQueue<SimEvent> queue = new PriorityQueue<>();
    private long now;
    private long order;
    /** Events for the end of the current instant, in order of scheduling. */
    private final java.util.ArrayDeque<Runnable> last = new java.util.ArrayDeque<>();

    /** Virtual time now, in nanoseconds since the simulation began. */
    long now() {
        return now;
    }

    /** {@code action} at virtual time {@code time} (not before now); cancel it through the event. */
    SimEvent schedule(long time, Runnable action) {
        SimEvent e = new SimEvent(Math.max(time, now), order++, action);
        queue.add(e);
        return e;
    }

    /**
     * {@code action} at the end of this instant: after every event due now, including those
     * scheduled for now meanwhile, and before any later event.
     */
    void scheduleLast(Runnable action) {
        last.add(action);
    }

    /** Runs the next event; false if there is none. */
    boolean step() {
        if (!last.isEmpty() && (queue.isEmpty() || queue.peek().time > now)) {
            last.poll().run();
            return true;
        }
        SimEvent e = queue.poll();
        if (e == null) {
            return false;
        }
        now = e.time;
        if (!e.cancelled) {
            e.action.run();
        }
        return true;
    }

    /** Runs events until none is left or the next one is after {@code limit}. */
    void runUntil(long limit) {
        while (!last.isEmpty() || (!queue.isEmpty() && queue.peek().time <= limit)) {
            step();
        }
    }

    /** The time of the next event, or -1 if none is left. */
    long nextEventTime() {
        if (!last.isEmpty()) {
            return now;
        }
        SimEvent e = queue.peek();
        return e == null ? -1 : e.time;
    }
}
