package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link SessionsGate} with two pagers: what task processes are told (the kernel gate's mirror)
 * when a pager without a lease is lost and rejoins. Before, the rejoin did not recompute the
 * gate: task processes kept the other pager's lease end, and could take the rejoined no-lease
 * pager's futexes on the fast path until that pager's next renewal (review shmfixb C).
 */
class SessionsGateTest {
    private static final long END = 1_000_000_000L;

    /** A session's own parts are made but never run here: only its gate is used. */
    private static KernelSession session(int pager) {
        return new KernelSession(null, pager, "k", null, null);
    }

    @Test
    void aPagerWithoutLeaseThatRejoinsIsCountedAtOnce() {
        KernelSession[] sessions = {session(0), session(1)};
        SessionsGate gates = new SessionsGate(sessions);
        List<Long> told = new ArrayList<>();
        gates.gate().mirrorTo(told::add);
        sessions[0].gate.openUntil(END); // pager 0: a lease; pager 1: none (its gate never moves)
        assertThat(last(told)).as("one pager without lease: task processes are told none").isEqualTo(Long.MAX_VALUE);

        gates.leaveOut(1); // pager 1 lost, its futexes forgotten
        assertThat(last(told)).as("pager 1 left out: pager 0's lease").isEqualTo(END);
        sessions[1] = session(1); // what KernelSessions.replace does
        gates.mirror(sessions[1]);
        assertThat(last(told)).isEqualTo(END);

        gates.rejoined(sessions[1]); // welcomed, without a lease again
        assertThat(last(told)).as("pager 1 in use again, without lease: at once, not at pager 0's next renewal")
                .isEqualTo(Long.MAX_VALUE);
        assertThat(gates.gate().open(END - 1)).as("the kernel's own gate: pager 0's lease").isTrue();
        assertThat(gates.gate().open(END)).isFalse();
    }

    @Test
    void aPagerWithALeaseThatRejoinsIsCountedAtItsEnd() {
        KernelSession[] sessions = {session(0), session(1)};
        SessionsGate gates = new SessionsGate(sessions);
        List<Long> told = new ArrayList<>();
        gates.gate().mirrorTo(told::add);
        sessions[0].gate.openUntil(END);
        sessions[1].gate.openUntil(END + 5);
        gates.leaveOut(1);
        sessions[1] = session(1);
        gates.mirror(sessions[1]);
        sessions[1].gate.openUntil(END / 2); // its new lease, opened before the welcome was handled
        assertThat(last(told)).as("still left out").isEqualTo(END);

        gates.rejoined(sessions[1]);
        assertThat(last(told)).as("its new lease's end, the earlier").isEqualTo(END / 2);
    }

    private static long last(List<Long> told) {
        return told.get(told.size() - 1);
    }
}
