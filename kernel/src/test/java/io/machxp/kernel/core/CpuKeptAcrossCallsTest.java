package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.task.MachThread;
import org.junit.jupiter.api.Test;

/**
 * A thread whose call is answered keeps its CPU while it makes its next call in the same instant,
 * as a SCHED_FIFO thread keeps it until it blocks: an equal that is ready does not get in between
 * (Scheduler frees an idle CPU at the end of the instant). The kernel's test env runs that timing
 * as the simulator does (late8 review F6: it freed the CPU one event later, so no kernel unit test
 * saw the release the simulator has).
 */
class CpuKeptAcrossCallsTest {
    private static final long MS = 1_000_000;

    @Test
    void aThreadCallingAgainInTheInstantItsComputeEndedKeepsItsCpuAheadOfAReadyEqual() {
        CoreFixture k = new CoreFixture(true);
        MachThread first = k.thread(20);
        MachThread second = k.thread(20);
        Answer<Void> firstAgain = new Answer<>();
        // As the simulator delivers an answer: an event for the answer, which schedules one for
        // the caller's next call (two events later in the same instant).
        k.core.threadCompute(k.task.id, first.tid, 5 * MS, new Reply<Void>() {
            @Override
            public void complete(Void value) {
                k.env.schedule(0, () -> k.env.schedule(0,
                        () -> k.core.threadCompute(k.task.id, first.tid, 5 * MS, firstAgain)));
            }

            @Override
            public void fail(KernelError error) {
                throw new AssertionError(error);
            }
        });
        Answer<Void> secondWork = k.compute(second, 5 * MS); // ready, behind first (SCHED_FIFO)
        k.env.advance(10 * MS);
        assertThat(firstAgain.answered()).as("first kept its CPU across its calls: done at 10 ms").isTrue();
        assertThat(secondWork.answered()).as("second waits for first to block").isFalse();
        k.env.advance(5 * MS);
        assertThat(secondWork.answered()).as("done at 15 ms").isTrue();
    }
}
