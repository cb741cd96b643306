package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.Errno;
import org.junit.jupiter.api.Test;

/** thread_compute under the kernel's preemptive priority scheduler, in virtual time. */
class KernelCoreSchedulerTest {
    private static final long MS = 1_000_000;

    @Test
    void aHigherPriorityThreadPreemptsAndTheLowerOneResumesWhereItWas() {
        CoreFixture k = new CoreFixture(true);
        MachThread low = k.thread(10);
        MachThread high = k.thread(50);
        Answer<Void> lowDone = k.compute(low, 10 * MS);
        k.env.advance(2 * MS);
        Answer<Void> highDone = k.compute(high, 5 * MS);
        k.env.advance(5 * MS - 1);
        assertThat(highDone.answered()).isFalse();
        k.env.advance(1);
        assertThat(highDone.answered()).as("done at 7ms").isTrue();
        assertThat(lowDone.answered()).isFalse();
        k.env.advance(8 * MS - 1);
        assertThat(lowDone.answered()).isFalse();
        k.env.advance(1);
        assertThat(lowDone.answered()).as("2ms + 8ms of CPU, done at 15ms").isTrue();
    }

    @Test
    void equalPrioritiesRunInArrivalOrderAndCpusRunInParallel() {
        CoreFixture one = new CoreFixture(true);
        Answer<Void> a = one.compute(one.thread(20), 5 * MS);
        Answer<Void> b = one.compute(one.thread(20), 5 * MS);
        one.env.advance(5 * MS);
        assertThat(a.answered()).isTrue();
        assertThat(b.answered()).as("no time slicing among equals (SCHED_FIFO)").isFalse();
        one.env.advance(5 * MS);
        assertThat(b.answered()).isTrue();

        CoreFixture two = new CoreFixture(CoreOptions.DEFAULT.withCpus(2));
        Answer<Void> c = two.compute(two.thread(20), 5 * MS);
        Answer<Void> d = two.compute(two.thread(20), 5 * MS);
        two.env.advance(5 * MS);
        assertThat(c.answered()).isTrue();
        assertThat(d.answered()).isTrue();
    }

    @Test
    void aBoostLetsTheOwnerPreemptAndTheDeboostGivesTheCpuBack() {
        CoreFixture k = new CoreFixture(true);
        MachThread low = k.thread(10);
        MachThread mid = k.thread(50);
        MachThread high = k.thread(90);
        k.acquireFromPager(low, k.base);
        Answer<Void> lowCs = k.compute(low, 10 * MS);
        k.env.advance(1 * MS);
        Answer<Void> midWork = k.compute(mid, 100 * MS);
        k.env.advance(1 * MS);
        assertThat(low.onCpu).isFalse();
        k.lock(high, k.base);
        assertThat(low.onCpu).as("boosted to 90 over mid").isTrue();
        k.env.advance(9 * MS);
        assertThat(lowCs.answered()).isTrue();
        k.unlock(low, k.base).value();
        assertThat(mid.onCpu).isTrue();
        assertThat(midWork.answered()).isFalse();
    }

    @Test
    void withoutPriorityInheritanceANewBasePriorityStillSchedules() {
        // --no-pi turns off boosting, not thread_set_priority: a thread raised above the one
        // computing preempts it, and one lowered below it gives the CPU up.
        CoreFixture k = new CoreFixture(CoreOptions.DEFAULT.withPriorityInheritance(false));
        MachThread low = k.thread(10);
        MachThread mid = k.thread(50);
        Answer<Void> lowWork = k.compute(low, 10 * MS);
        k.env.advance(1 * MS);
        Answer<Void> midWork = k.compute(mid, 10 * MS);
        assertThat(mid.onCpu).isTrue();
        k.setPriority(low, 80).value();
        assertThat(low.effectivePriority).isEqualTo(80);
        assertThat(low.onCpu).as("raised to 80 over mid's 50").isTrue();
        assertThat(mid.onCpu).isFalse();
        k.setPriority(low, 5).value();
        assertThat(low.effectivePriority).isEqualTo(5);
        assertThat(mid.onCpu).as("lowered to 5 under mid's 50").isTrue();
        k.env.advance(10 * MS);
        assertThat(midWork.answered()).isTrue();
        assertThat(lowWork.answered()).isFalse();
    }

    @Test
    void badDurationsAndPrioritiesAreEinvalAndBusyThreadsEbusy() {
        CoreFixture k = new CoreFixture(true);
        MachThread t = k.thread(10);
        assertThat(k.compute(t, -1).error().errno()).isEqualTo(Errno.EINVAL);
        assertThat(k.setPriority(t, 0).error().errno()).isEqualTo(Errno.EINVAL);
        assertThat(k.setPriority(t, 100).error().message()).contains("use 1 (lowest) to 99 (highest)");
        Answer<MachThread> bad = new Answer<>();
        k.core.threadCreate(k.task.id, 120, bad);
        assertThat(bad.error().errno()).isEqualTo(Errno.EINVAL);
        Answer<Void> busy = k.compute(t, MS);
        assertThat(k.compute(t, MS).error().errno()).isEqualTo(Errno.EBUSY);
        k.terminate(t).value();
        assertThat(busy.error().errno()).as("terminated while computing").isEqualTo(Errno.ESRCH);
    }

    /**
     * As Linux measured it: a waiter whose timeout fires while the owner, boosted to the waiter's
     * own priority, holds the only CPU cannot leave the wait; the owner finishes and unlocks
     * first, in the same instant (it keeps its CPU into its next call), and the waiter gets the
     * futex instead of ETIMEDOUT.
     */
    @Test
    void aWaiterWhoseTimerFiresWithoutItsCpuGetsTheFutexFromAnUnlockFirst() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(10);
        MachThread high = k.thread(90);
        k.acquireFromPager(owner, k.base);
        Answer<Void> unlocked = new Answer<>();
        // The owner's next call comes as its compute ends, in the same instant, as a program's does.
        k.core.threadCompute(k.task.id, owner.tid, 20 * MS, new Reply<>() {
            @Override
            public void complete(Void value) {
                k.core.vmUnlockFutex(k.task.id, owner.tid, k.base, unlocked);
            }

            @Override
            public void fail(KernelError error) {
                unlocked.fail(error);
            }
        });
        k.env.advance(1 * MS);
        Answer<io.machxp.proto.task.AcquirePath> waiting = k.lock(high, k.base, 5 * MS);
        assertThat(owner.effectivePriority).isEqualTo(90);
        k.env.advance(10 * MS);
        assertThat(waiting.answered()).as("its timer fired, but it has no CPU").isFalse();
        k.env.advance(10 * MS);
        assertThat(unlocked.answered()).isTrue();
        assertThat(waiting.value()).isEqualTo(io.machxp.proto.task.AcquirePath.LOCAL_HANDOFF);
        k.env.advance(1 * MS);
        assertThat(high.computing()).as("no run left over from the timeout").isFalse();
    }

    /** A waiter whose timer fires when it can get its CPU leaves at once with ETIMEDOUT. */
    @Test
    void aWaiterWhoseTimerFiresWithItsCpuTimesOut() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(10);
        MachThread high = k.thread(90);
        k.acquireFromPager(owner, k.base);
        Answer<io.machxp.proto.task.AcquirePath> waiting = k.lock(high, k.base, 5 * MS);
        k.env.advance(5 * MS);
        assertThat(waiting.error().errno()).isEqualTo(Errno.ETIMEDOUT);
    }

    /**
     * Two waiters whose timers fired while the owner, boosted to the higher one, computed on the
     * only CPU (timeouts-without-cpu-two-waiters.yaml, measured on Linux): the unlock hands the
     * futex to the higher waiter, and the lower one, still queued, does not run before it: its run
     * of no time to leave the wait is not done while the new owner's next call, an event later in
     * the same instant, takes the CPU (it was, and the lower waiter answered ETIMEDOUT); the new
     * owner's unlock then hands it the futex.
     */
    @Test
    void aLowerWaiterWhoseTimerFiredStaysQueuedWhileTheNewOwnerRuns() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(10);
        MachThread middle = k.thread(30);
        MachThread high = k.thread(90);
        k.acquireFromPager(owner, k.base);
        k.core.threadCompute(k.task.id, owner.tid, 20 * MS, new Reply<>() {
            @Override
            public void complete(Void value) {
                k.unlock(owner, k.base);
            }

            @Override
            public void fail(KernelError error) {
                throw new AssertionError(String.valueOf(error));
            }
        });
        k.env.advance(1 * MS);
        Answer<io.machxp.proto.task.AcquirePath> lower = k.lock(middle, k.base, 5 * MS);
        k.env.advance(1 * MS);
        Answer<Void> handedOn = new Answer<>();
        // The new owner's next call comes a moment later, as a program's does, after a syscall's CPU.
        k.core.vmLockFutex(k.task.id, high.tid, k.base, 5 * MS, new Reply<>() {
            @Override
            public void complete(io.machxp.kernel.futex.Acquired value) {
                k.env.schedule(0, () -> k.core.threadCompute(k.task.id, high.tid, 1_000, new Reply<>() {
                    @Override
                    public void complete(Void v) {
                        k.core.vmUnlockFutex(k.task.id, high.tid, k.base, handedOn);
                    }

                    @Override
                    public void fail(KernelError error) {
                        handedOn.fail(error);
                    }
                }));
            }

            @Override
            public void fail(KernelError error) {
                handedOn.fail(error);
            }
        });
        assertThat(owner.effectivePriority).isEqualTo(90);
        k.env.advance(25 * MS);
        assertThat(handedOn.value()).isNull();
        assertThat(lower.answered()).as("the lower waiter was still queued: the unlock handed it the futex").isTrue();
        assertThat(lower.value()).isEqualTo(io.machxp.proto.task.AcquirePath.LOCAL_HANDOFF);
    }
}
