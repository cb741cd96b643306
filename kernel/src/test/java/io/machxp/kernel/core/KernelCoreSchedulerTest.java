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
}
