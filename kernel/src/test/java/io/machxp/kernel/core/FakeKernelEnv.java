package io.machxp.kernel.core;

import io.machxp.proto.xp.KernelToPager;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;

/**
 * A KernelEnv for tests: keeps what the core sends, and runs timers in virtual time. An action for
 * the end of an instant ({@link #scheduleAtEndOfInstant}) runs as the simulator runs it
 * (SimEvents): after every timer due at that instant, also those scheduled for it meanwhile, before
 * time moves on. Before, it ran as {@code schedule(0)}, one timer later: the kernel's unit tests
 * ran a CPU release timing the simulator no longer has (late8 review F6).
 */
final class FakeKernelEnv implements KernelEnv {
    final List<KernelToPager> sent = new ArrayList<>();
    private final PriorityQueue<Scheduled> timers = new PriorityQueue<>();
    /** Actions for the end of the instant {@link #now}, in order of scheduling. */
    private final java.util.ArrayDeque<Runnable> endOfInstant = new java.util.ArrayDeque<>();
    private long now;
    private long sequence;

    private final class Scheduled implements Comparable<Scheduled>, Timer {
        final long due;
        final long order = sequence++;
        final Runnable action;
        boolean cancelled;

        Scheduled(long due, Runnable action) {
            this.due = due;
            this.action = action;
        }

        @Override
        public int compareTo(Scheduled o) {
            return due != o.due ? Long.compare(due, o.due) : Long.compare(order, o.order);
        }

        @Override
        public void cancel() {
            cancelled = true;
        }
    }

    /** File effects the core asked for, not run yet: run by {@link #runFileEffects}. */
    final List<Runnable> fileEffects = new ArrayList<>();

    @Override
    public <T> void fileEffect(java.util.function.Supplier<T> io, java.util.function.Consumer<T> done) {
        fileEffects.add(() -> done.accept(io.get()));
    }

    /** Runs the file effects asked for so far, in order (as the runtime's file thread, then the core). */
    void runFileEffects() {
        List<Runnable> due = new ArrayList<>(fileEffects);
        fileEffects.clear();
        due.forEach(Runnable::run);
    }

    /** The events the core traced, "event detail". */
    final List<String> traces = new ArrayList<>();

    @Override
    public void trace(String event, int tid, String detail) {
        traces.add(event + " " + detail);
    }

    /** New streams the core opened after one broke. */
    int reconnects;

    /** Whether the pager is replicated: a broken stream is resumed (xp-spec 13), and a lease grace may follow. */
    boolean replicated;

    /** The pagers whose ending session was lost for good ({@link KernelEnv#endOver}). */
    final List<Integer> endsOver = new ArrayList<>();

    @Override
    public void endOver(int pager) {
        endsOver.add(pager);
    }

    /** Messages sent other than kernel_hello: what a pager that lost none of them says it received. */
    long numbered;

    @Override
    public void send(KernelToPager message) {
        sent.add(message);
        if (!message.hasKernelHello()) {
            numbered++;
        }
    }

    @Override
    public boolean replicated(int pager) {
        return replicated;
    }

    @Override
    public boolean resume() {
        return replicated;
    }

    /** A pager whose stream fails every send (it throws, as a stream gone under the core may): -1, none. */
    int failSendsTo = -1;

    /** With several pagers, what goes to each is kept together (a test with one pager sees only pager 0). */
    @Override
    public void send(int pager, KernelToPager message) {
        if (pager == failSendsTo) {
            throw new IllegalStateException("test: the stream to pager " + pager + " is gone");
        }
        send(message);
    }

    @Override
    public boolean reconnect() {
        reconnects++;
        return true;
    }

    @Override
    public Timer schedule(long delayNanos, Runnable action) {
        Scheduled s = new Scheduled(now + delayNanos, action);
        timers.add(s);
        return s;
    }

    @Override
    public void scheduleAtEndOfInstant(Runnable action) {
        endOfInstant.add(action);
    }

    /** Runs the actions for the end of this instant, those they schedule for it too. */
    private void endInstant() {
        while (!endOfInstant.isEmpty()) {
            endOfInstant.poll().run();
            if (!timers.isEmpty() && timers.peek().due <= now) {
                return; // an event for now came first: the caller runs it, then ends the instant again
            }
        }
    }

    @Override
    public long wallMicros() {
        return now / 1_000;
    }

    @Override
    public long nanoTime() {
        return now;
    }

    /**
     * Moves the clock forward without running any timer: the core thread was paused (a GC pause,
     * SIGSTOP) and its timers are late; they run at the next {@link #advance}.
     */
    void pause(long nanos) {
        now += nanos;
    }

    /**
     * After a {@link #pause}: runs the timers that fell due meanwhile, in the order they fell due,
     * late, as a real loop runs them: the clock stays where the pause left it (an {@link #advance}
     * would run each at its due time).
     */
    void runLate() {
        while (!endOfInstant.isEmpty()) {
            endOfInstant.poll().run(); // the end of the instant the pause began in
        }
        while (!timers.isEmpty() && timers.peek().due <= now) {
            Scheduled s = timers.poll();
            if (!s.cancelled) {
                s.action.run();
            }
        }
    }

    /**
     * Moves virtual time forward, running every timer that falls due, in order, and each
     * instant's end-of-instant actions once no timer is due at it, the instant the clock stops at
     * included: the test's calls after an advance come after the end of that instant.
     */
    void advance(long nanos) {
        long until = now + nanos;
        while (true) {
            if (!timers.isEmpty() && timers.peek().due <= now) {
                run(timers.poll());
            } else if (!endOfInstant.isEmpty()) {
                endInstant();
            } else if (!timers.isEmpty() && timers.peek().due <= until) {
                Scheduled s = timers.poll();
                now = s.due;
                run(s);
            } else {
                break;
            }
        }
        now = until;
    }

    private static void run(Scheduled s) {
        if (!s.cancelled) {
            s.action.run();
        }
    }

    /** Timers scheduled and not yet run or cancelled. */
    int pendingTimers() {
        return (int) timers.stream().filter(s -> !s.cancelled).count() + endOfInstant.size();
    }

    /** The messages sent since the last call, and forgets them. */
    List<KernelToPager> drain() {
        List<KernelToPager> out = new ArrayList<>(sent);
        sent.clear();
        return out;
    }
}
