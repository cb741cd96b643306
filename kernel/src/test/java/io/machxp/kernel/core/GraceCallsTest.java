package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.task.Errno;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Calls parked in a lease grace stay answerable between the grace's end and their run: a
 * shutdown or session end in that window fails them, a caller that goes away in it cancels its
 * call, and a run that throws fails only its own reply.
 */
class GraceCallsTest {
    private final FakeKernelEnv env = new FakeKernelEnv();
    private final GraceCalls calls = new GraceCalls(env);
    private final List<String> ran = new ArrayList<>();
    private final Object sessionA = new Object();
    private final Object sessionB = new Object();

    private Answer<Void> park(String name) {
        return park(sessionA, name);
    }

    private Answer<Void> park(Object session, String name) {
        Answer<Void> a = new Answer<>();
        calls.park(session, a, () -> {
            ran.add(name);
            a.complete(null);
        });
        return a;
    }

    @Test
    void aShutdownBeforeTheReleasedBatchRunsFailsItsCalls() {
        Answer<Void> a = park("a");
        calls.release(sessionA);
        calls.failAll(KernelError.of(Errno.ESRCH, "kernel shuts down"));
        assertThat(a.error().errno()).as("answered at once, not by a timer a shut-down kernel never runs")
                .isEqualTo(Errno.ESRCH);
        env.advance(1);
        assertThat(ran).as("a failed call does not run later").isEmpty();
    }

    @Test
    void aCallerThatGoesAwayBeforeTheReleasedBatchRunsIsNotRun() {
        Answer<Void> a = park("a");
        Answer<Void> b = park("b");
        calls.release(sessionA);
        calls.cancel(a);
        env.advance(1);
        assertThat(ran).as("the cancelled lock does not run for a caller that is gone").containsExactly("b");
        assertThat(a.answered()).isFalse();
        assertThat(b.answered()).isTrue();
    }

    @Test
    void aRunThatThrowsFailsItsReplyAndTheRestRun() {
        Answer<Void> bad = new Answer<>();
        calls.park(sessionA, bad, () -> {
            throw new IllegalStateException("boom");
        });
        Answer<Void> b = park("b");
        calls.release(sessionA);
        env.advance(1);
        assertThat(bad.error().errno()).isEqualTo(Errno.EIO);
        assertThat(b.answered()).as("the rest of the batch is answered").isTrue();
        assertThat(calls.count()).isZero();
    }

    @Test
    void aCallParkedAgainWhileTheBatchRunsWaitsForTheNextRelease() {
        Answer<Void> a = new Answer<>();
        calls.park(sessionA, a, () -> calls.park(sessionA, a, () -> a.complete(null)));
        calls.release(sessionA);
        env.advance(1);
        assertThat(calls.count()).as("parked again: another grace holds").isEqualTo(1);
        assertThat(a.answered()).isFalse();
        calls.release(sessionA);
        env.advance(1);
        assertThat(a.answered()).isTrue();
    }

    /**
     * A session that ends in its grace re-runs its own calls (each then fails through the session,
     * or goes on); another session's calls stay parked, and a grace ending elsewhere runs none of them.
     */
    @Test
    void aSessionEndingInItsGraceRunsItsOwnCallsAgainAndLeavesTheOthers() {
        Answer<Void> a = park(sessionA, "a");
        Answer<Void> b = park(sessionB, "b");
        calls.sessionOver(sessionA);
        env.advance(1);
        assertThat(ran).as("A's call ran again (to fail through its session), B's waits for B").containsExactly("a");
        assertThat(a.answered()).isTrue();
        assertThat(b.answered()).isFalse();
        calls.release(sessionA);
        env.advance(1);
        assertThat(b.answered()).as("A's grace never releases B's call").isFalse();
        calls.release(sessionB);
        env.advance(1);
        assertThat(ran).containsExactly("a", "b");
    }

    /** A timed call parked past its deadline leaves and is answered by its timeout. */
    @Test
    void aParkedTimedCallIsAnsweredAtItsDeadline() {
        Answer<Void> a = new Answer<>();
        calls.park(sessionA, a, () -> a.complete(null), 5, () -> a.fail(KernelError.of(Errno.ETIMEDOUT, "late")));
        env.advance(4);
        assertThat(a.answered()).isFalse();
        env.advance(1);
        assertThat(a.error().errno()).isEqualTo(Errno.ETIMEDOUT);
        assertThat(calls.count()).isZero();
        calls.release(sessionA);
        env.advance(1);
        assertThat(calls.count()).isZero();
    }
}
