package io.machxp.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A raw FUTEX_LOCK_PI that the kernel answers EINTR or EAGAIN, on a fake futex call: it must end
 * when the run is stopped or after a bound, and keep its first deadline (a SCHED_FIFO thread
 * looping here without end held a CPU in the hang the linuxlate2 review traced).
 */
class LinuxLockCallsTest {
    /** Answers each futex call from {@code answers} (an errno, or 0 for success), then fails the test. */
    private static final class ScriptedCalls extends LinuxLockCalls {
        final int[] answers;
        final int stopAfter;
        int calls;
        int errno;
        final List<String> deadlines = new ArrayList<>();
        final Memory scratch;

        ScriptedCalls(Memory scratch, int stopAfter, int... answers) {
            super(scratch, null);
            this.scratch = scratch;
            this.stopAfter = stopAfter;
            this.answers = answers;
        }

        @Override
        long futex(long at, int op, long timeout) {
            if (calls > LinuxLockCalls.MAX_RETRIES + 10) {
                throw new AssertionError("rawLock loops on after " + calls + " calls");
            }
            deadlines.add(timeout == 0 ? "none" : new Pointer(timeout).getLong(0) + "." + new Pointer(timeout).getLong(8));
            errno = answers[Math.min(calls, answers.length - 1)];
            calls++;
            return errno == 0 ? 0 : -1;
        }

        @Override
        int errno() {
            return errno;
        }

        @Override
        boolean stopped() {
            return calls >= stopAfter;
        }
    }

    private static Memory word() {
        Memory m = new Memory(8);
        m.clear();
        return m;
    }

    @Test
    void aRawLockAnsweredEintrOverAndOverEndsOnceTheRunIsStopped() {
        Memory scratch = new Memory(64);
        ScriptedCalls c = new ScriptedCalls(scratch, 5, LinuxSupport.EINTR);
        Outcome o = c.rawLock(Pointer.nativeValue(word()), -1);
        assertThat(c.calls).isEqualTo(5);
        assertThat(o.code()).isEqualTo("EINTR");
        assertThat(o.detail()).contains("the run was stopped");
    }

    @Test
    void aRawLockAnsweredEagainWithoutEndGivesUpAfterTheBound() {
        ScriptedCalls c = new ScriptedCalls(new Memory(64), Integer.MAX_VALUE, LinuxSupport.EAGAIN);
        Outcome o = c.rawLock(Pointer.nativeValue(word()), -1);
        assertThat(c.calls).isEqualTo(LinuxLockCalls.MAX_RETRIES);
        assertThat(o.code()).isEqualTo("EAGAIN");
        assertThat(o.failed()).isTrue();
    }

    @Test
    void aRawLockThatRetriesKeepsTheDeadlineOfItsFirstTry() {
        assumeTrue(LinuxNative.UNAVAILABLE == null, "needs the C library (clock_gettime)");
        ScriptedCalls c = new ScriptedCalls(new Memory(64), Integer.MAX_VALUE,
                LinuxSupport.EINTR, LinuxSupport.EAGAIN, LinuxSupport.EINTR, 0);
        Outcome o = c.rawLock(Pointer.nativeValue(word()), 10_000_000);
        assertThat(o.code()).isEqualTo("ok");
        assertThat(c.deadlines).hasSize(4);
        assertThat(c.deadlines).as("one absolute deadline for every try").containsOnly(c.deadlines.get(0));
    }

    @Test
    void aRawLockThatTheKernelRefusesOtherwiseAnswersAtOnce() {
        ScriptedCalls c = new ScriptedCalls(new Memory(64), Integer.MAX_VALUE, LinuxSupport.EDEADLK);
        assertThat(c.rawLock(Pointer.nativeValue(word()), -1).code()).isEqualTo("EDEADLK");
        assertThat(c.calls).isEqualTo(1);
    }
}
