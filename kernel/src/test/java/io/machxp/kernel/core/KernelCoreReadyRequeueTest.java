package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.Errno;
import org.junit.jupiter.api.Test;

/**
 * Where a ready thread stands among its equals after its priority changes, as Linux places a
 * runnable SCHED_FIFO task (rt_mutex_setprio, sched_setscheduler; POSIX asks the same): raised,
 * at the tail of its new priority; lowered, at the head. A lock whose timeout had passed, which
 * Linux queues behind the owner for an instant, leaves a ready owner at the head of its priority
 * (measured: scenarios/lowered-ready-thread-goes-to-head.yaml,
 * raised-ready-thread-goes-to-tail.yaml, expired-lock-requeues-ready-owner.yaml).
 */
class KernelCoreReadyRequeueTest {
    private static final long MS = 1_000_000;
    private final CoreFixture k = new CoreFixture(true);

    @Test
    void aReadyThreadLoweredGoesToTheHeadOfItsNewPriority() {
        MachThread t5 = k.thread(60);
        MachThread t4 = k.thread(80);
        MachThread t3 = k.thread(70);
        k.compute(t5, 40 * MS);
        k.env.advance(MS);
        Answer<Void> t4Done = k.compute(t4, 10 * MS); // preempts t5: t5 at the head of 60
        k.env.advance(MS);
        k.compute(t3, MS); // ready at 70 behind t4
        k.env.advance(MS);
        k.setPriority(t3, 60).value();
        k.env.advance(8 * MS);
        assertThat(t4Done.answered()).isTrue();
        k.env.advance(1); // the end of t4's instant
        assertThat(t3.onCpu).as("lowered: ahead of t5, preempted earlier at 60").isTrue();
        assertThat(t5.onCpu).isFalse();
    }

    @Test
    void aReadyThreadRaisedGoesToTheTailOfItsNewPriority() {
        MachThread t4 = k.thread(80);
        MachThread t3 = k.thread(50);
        MachThread t6 = k.thread(60);
        Answer<Void> t4Done = k.compute(t4, 10 * MS);
        k.env.advance(MS);
        k.compute(t3, MS); // ready at 50
        k.env.advance(MS);
        k.compute(t6, MS); // ready at 60, after t3
        k.env.advance(MS);
        k.setPriority(t3, 60).value();
        k.env.advance(7 * MS);
        assertThat(t4Done.answered()).isTrue();
        k.env.advance(1);
        assertThat(t6.onCpu).as("raised: behind t6, ready at 60 before").isTrue();
        assertThat(t3.onCpu).isFalse();
    }

    @Test
    void anExpiredLockLeavesItsReadyOwnerAtTheHeadOfItsPriority() {
        MachThread t3 = k.thread(60);
        MachThread t5 = k.thread(60);
        MachThread t4 = k.thread(80);
        k.acquireFromPager(t3, k.base);
        k.compute(t5, 40 * MS);
        k.env.advance(MS);
        k.compute(t3, MS); // ready behind t5
        k.env.advance(MS);
        k.compute(t4, MS); // preempts t5: t5 at the head of 60
        k.env.advance(MS); // t4 is done and keeps its CPU into its next calls of this instant
        assertThat(k.lock(t4, k.base, 0).error().errno()).isEqualTo(Errno.ETIMEDOUT);
        assertThat(t3.effectivePriority).as("no boost left, nor logged").isEqualTo(60);
        Answer<Void> t4Done = k.compute(t4, 10 * MS);
        k.env.advance(10 * MS);
        assertThat(t4Done.answered()).isTrue();
        k.env.advance(1);
        assertThat(t3.onCpu).as("boosted and lowered for an instant: ahead of t5").isTrue();
        assertThat(t5.onCpu).isFalse();
    }

    /**
     * Linux leaves a running task in its place on its priority's list: one put at the head while
     * it runs comes before it when it is preempted (it was "back at the head" of its priority).
     */
    @Test
    void aThreadPreemptedAfterAnEqualWasLoweredToTheHeadStandsBehindIt() {
        MachThread t3 = k.thread(60);
        MachThread t5 = k.thread(60);
        MachThread t4 = k.thread(80);
        k.acquireFromPager(t3, k.base);
        k.compute(t5, 40 * MS);
        k.env.advance(MS);
        k.compute(t3, MS); // ready behind t5, which runs
        k.env.advance(MS);
        assertThat(k.lock(t4, k.base, 0).error().errno()).isEqualTo(Errno.ETIMEDOUT);
        assertThat(t5.onCpu).isTrue();
        Answer<Void> t4Done = k.compute(t4, 10 * MS); // preempts t5
        assertThat(t5.onCpu).isFalse();
        k.env.advance(10 * MS);
        assertThat(t4Done.answered()).isTrue();
        k.env.advance(1);
        assertThat(t3.onCpu).as("put at the head while t5 ran: ahead of it").isTrue();
        assertThat(t5.onCpu).isFalse();
    }

    @Test
    void anOwnerThatIsNotReadyOrIsAboveTheLockKeepsItsPlace() {
        MachThread t3 = k.thread(60);
        MachThread t5 = k.thread(60);
        MachThread t4 = k.thread(50);
        MachThread hi = k.thread(90);
        k.acquireFromPager(t3, k.base);
        k.compute(t5, 40 * MS);
        k.env.advance(MS);
        k.compute(t3, MS); // ready behind t5
        k.env.advance(MS);
        Answer<Void> hiDone = k.compute(hi, 10 * MS); // preempts t5
        assertThat(k.lock(t4, k.base, 0).error().errno()).as("a lower expired lock").isEqualTo(Errno.ETIMEDOUT);
        k.env.advance(10 * MS);
        assertThat(hiDone.answered()).isTrue();
        k.env.advance(1);
        assertThat(t5.onCpu).as("t4 below t3 raised nobody: t5 first, as before").isTrue();
    }
}
