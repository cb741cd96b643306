package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.Errno;
import org.junit.jupiter.api.Test;

/**
 * A waiter whose lock timed out leaves its wait only once it has run on its CPU; a higher thread
 * whose next call comes later in the same instant, however many events later (an answer event,
 * then the call), takes the CPU first, as a SCHED_FIFO thread woken at the same time would run
 * first. The timed-out waiter's run is confirmed at the end of the instant, as an idle CPU is
 * released (late8 review F5: it was confirmed one event later, so a higher thread whose call came
 * two events later lost to it).
 */
class TimedOutWaiterYieldsInInstantTest {
    private static final long MS = 1_000_000;

    @Test
    void aHigherThreadCallingTwoEventsLaterInTheInstantRunsBeforeTheTimedOutWaiterLeaves() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(10);
        MachThread low = k.thread(20);
        MachThread high = k.thread(50);
        k.acquireFromPager(owner, k.base);
        Answer<AcquirePath> timed = k.lock(low, k.base, 5 * MS);
        Answer<Void> highWork = new Answer<>();
        // high's answer and then its next call, in the instant the waiter's timer fires
        k.env.schedule(5 * MS, () -> k.env.schedule(0, () -> k.env.schedule(0,
                () -> k.core.threadCompute(k.task.id, high.tid, 5 * MS, highWork))));
        k.env.advance(5 * MS);
        assertThat(timed.answered()).as("high took the CPU before the waiter could leave").isFalse();
        k.env.advance(5 * MS);
        assertThat(highWork.answered()).isTrue();
        assertThat(timed.error().errno()).as("it leaves once high is done").isEqualTo(Errno.ETIMEDOUT);
    }
}
