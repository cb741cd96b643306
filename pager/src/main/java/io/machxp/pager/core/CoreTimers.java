package io.machxp.pager.core;

import io.machxp.pager.futex.FutexRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The core's timers as data: a kind and its arguments, not a closure, so that the pending ones
 * can be written into a snapshot and set again in a core restored from it
 * ({@link SnapshotWriter}, {@link SnapshotReader}). The env only runs them when due
 * ({@link PagerEnv#schedule}). Pager core thread only.
 *
 * <h2>Overview</h2>
 * <pre>
 *  set(delay, timer)   kept as pending (due = now + delay, in the order set); the env is asked to
 *                      run it after delay
 *  the env runs it     if still pending: no longer pending, handed to the core ({@link #fire})
 *  restore(pending)    every pending timer is dropped (what the env still runs of them is
 *                      ignored) and those given are set, in their order
 * </pre>
 * The kinds: a session's lease check, the forgetting of a dead session, the end of the grace
 * period, a grant's lease (the grant policy's), the check of a session's answer deadline, and
 * the asking back of idle futexes while requests wait for a futex record.
 */
final class CoreTimers {
    /** What a timer does when due. */
    sealed interface Timer permits LeaseCheck, ForgetDead, GraceEnd, GrantLeaseEnd, AnswerCheck, AskBack {}

    /** The session's lease is checked ({@link SessionLeases}). */
    record LeaseCheck(KernelSession session) implements Timer {}

    /** A session declared dead is forgotten: nothing more can arrive from it ({@link SessionLeases}). */
    record ForgetDead(long sessionId) implements Timer {}

    /** The grace period after a restart ends ({@link PagerGrace}). */
    record GraceEnd() implements Timer {}

    /** A grant's lease ends: its holder is asked to relinquish, if the grant {@code token} still holds it. */
    record GrantLeaseEnd(FutexRecord futex, long token) implements Timer {}

    /** The deadline of the answers the session owes is checked ({@link AnswerDeadlines}). */
    record AnswerCheck(KernelSession session) implements Timer {}

    /** Idle futexes are asked back again for requests parked at the bound on futex records ({@link FutexParking}). */
    record AskBack() implements Timer {}

    /** A pending timer: when it is due, on the core's clock. */
    record Pending(long due, Timer timer) {}

    private final PagerEnv env;
    /** By the number each was set under: the order set. */
    private final TreeMap<Long, Pending> pending = new TreeMap<>();
    private long sets;
    private Consumer<Timer> handler = t -> {
        throw new IllegalStateException("a core timer ran before the core was built");
    };

    CoreTimers(PagerEnv env) {
        this.env = env;
    }

    /** Who runs a timer that is due: the core, once built. */
    void handler(Consumer<Timer> value) {
        handler = value;
    }

    /** Runs {@code timer} after {@code delayNanos} (0 if negative). */
    void set(long delayNanos, Timer timer) {
        long delay = Math.max(0, delayNanos);
        long number = sets++;
        pending.put(number, new Pending(env.nanoTime() + delay, timer));
        env.schedule(delay, () -> fire(number));
    }

    private void fire(long number) {
        Pending p = pending.remove(number);
        if (p != null) {
            handler.accept(p.timer());
        }
    }

    /** The pending timers in the order they run: when due, then the order set. */
    List<Pending> pending() {
        List<Pending> out = new ArrayList<>(pending.values());
        out.sort((a, b) -> Long.compare(a.due(), b.due())); // stable: ties keep the order set
        return out;
    }

    /** Drops every pending timer and sets those given, in their order, each to run when it is due. */
    void restore(List<Pending> timers) {
        pending.clear();
        long now = env.nanoTime();
        for (Pending p : timers) {
            set(p.due() - now, p.timer());
        }
    }
}
