package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.AcquirePath;
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

    /**
     * Linux's chain walk requeues the owner's own waiter in the next futex's queue before it looks
     * at that futex's owner (review heir-late10, LOW-2): t1 (10) owns f1 and waits for f2, held
     * elsewhere, ahead of t2 (10); a lock at 30 whose timeout had passed, on f1, leaves t1 behind
     * t2, so f2's grant goes to t2. The old code stopped at f2's missing owner before the requeue.
     */
    @Test
    void anExpiredLockRequeuesTheOwnersWaitForAFutexHeldElsewhere() {
        MachThread t1 = k.thread(10);
        MachThread t2 = k.thread(10);
        MachThread t4 = k.thread(30);
        long f2 = k.base + CoreFixture.PAGE;
        k.acquireFromPager(t1, k.base);
        Answer<AcquirePath> t1Waits = k.lock(t1, f2);
        k.env.advance(MS);
        Answer<AcquirePath> t2Waits = k.lock(t2, f2);
        k.env.drain();
        assertThat(k.lock(t4, k.base, 0).error().errno()).isEqualTo(Errno.ETIMEDOUT);
        assertThat(t1.effectivePriority).as("no boost left").isEqualTo(10);
        k.grant(CoreFixture.PAGE);
        k.zeroFill(CoreFixture.PAGE);
        assertThat(t2Waits.value()).as("t1 was requeued behind t2").isEqualTo(AcquirePath.PAGER_GRANT);
        assertThat(t1Waits.answered()).isFalse();
    }

    /**
     * The same requeue where the next futex has a woken heir (no owner): t1 (10) owns f1 and is
     * the woken heir of f2 (an unlock while it could not run), t2 (10) waits behind it; the
     * expired lock at 30 on f1 leaves t1 behind t2, and as Linux wakes the new top waiter of a
     * lock with no owner (t1, not the top waiter, cannot take it), t2 gets f2 and t1 waits on.
     */
    @Test
    void anExpiredLockRequeuesTheOwnerThatIsAWokenHeirBehindItsEqual() {
        MachThread t1 = k.thread(10);
        MachThread t2 = k.thread(10);
        MachThread o = k.thread(70);
        MachThread t4 = k.thread(30);
        long f2 = k.base + CoreFixture.PAGE;
        k.acquireFromPager(t1, k.base);
        k.acquireFromPager(o, f2);
        Answer<AcquirePath> t1Waits = k.lock(t1, f2);
        k.env.advance(MS);
        Answer<AcquirePath> t2Waits = k.lock(t2, f2);
        Answer<AcquirePath> expired = new Answer<>();
        k.computeThen(o, 10 * MS, () -> {
            k.unlock(o, f2).value();
            assertThat(k.futex(f2).heir.thread).as("t1, which cannot run, is the woken heir").isSameAs(t1);
            k.core.vmLockFutex(k.task.id, t4.tid, k.base, 0, new Reply<>() {
                @Override
                public void complete(io.machxp.kernel.futex.Acquired value) {
                    expired.complete(null);
                }

                @Override
                public void fail(KernelError error) {
                    expired.fail(error);
                }
            });
        });
        k.env.advance(20 * MS);
        assertThat(expired.error().errno()).isEqualTo(Errno.ETIMEDOUT);
        assertThat(t2Waits.value()).as("t1 was requeued behind t2, the new top waiter").isNotNull();
        assertThat(t1Waits.answered()).isFalse();
    }
}
