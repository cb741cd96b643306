package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import org.junit.jupiter.api.Test;

/**
 * The woken heir of a dead owner's futex (FutexHeirs) when its session ends under it: a pager
 * lost while the heir's page is on its way wakes nobody (the loss fails every waiter), and a
 * priority change that runs after the lease ran out, before its timer saw it, hands nothing out.
 */
class KernelCoreHeirLeaseTest {
    private static final long MS = 1_000_000L;

    /**
     * The heir (20) runs and faults in the futex's page, taken away meanwhile; the pager is lost
     * before it comes. The loss fails the page-in first, then forgets the futex: the heir's
     * refusal callback took the failed page-in for a refusal by a live pager and woke the next
     * waiter (15) as the heir, with a run due, just before the loss failed it. Nobody is woken:
     * both fail with the loss's error.
     */
    @Test
    void aPagerLostWhileTheHeirsPageIsOnItsWayWakesNobody() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(10);
        MachThread heir = k.thread(20);
        MachThread next = k.thread(15);
        MachThread high = k.thread(30);
        k.acquireFromPager(owner, k.base);
        Answer<Acquired> heirWaits = k.lockFull(heir, k.base);
        Answer<Acquired> nextWaits = k.lockFull(next, k.base);
        Answer<Void> work = k.compute(high, 10 * MS);
        k.terminate(owner).value();
        k.env.drain();
        k.lockRequest(0, ReturnPolicy.RETURN_ALL, true, VmProt.VM_PROT_NONE, true); // for another kernel's read
        assertThat(k.env.drain()).anyMatch(KernelToPager::hasMemoryObjectDataReturn);
        assertThat(FutexWord.isNoPage(k.futex(k.base).state())).isTrue();
        k.env.advance(10 * MS);
        assertThat(work.answered()).isTrue();
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).as("the heir faults the page in").isZero();
        int tracedBefore = k.env.traces.size();

        k.core.xp().onPagerLost(0, "test");

        assertThat(heirWaits.error().errno()).isEqualTo(Errno.EIO);
        assertThat(nextWaits.error().errno()).isEqualTo(Errno.EIO);
        assertThat(k.env.traces.subList(tracedBefore, k.env.traces.size()))
                .as("no waiter woken as the heir of a forgotten futex").noneMatch(t -> t.startsWith("owner-died-wake"));
        assertThat(next.computing()).as("no heir's run left for a thread whose lock failed").isFalse();
    }

    /**
     * The heir (20) ends while the page is away and a waiter elsewhere (17) comes before the next
     * waiter here (15): the kernel faults the page in to pass the futex on (to the pager), and the
     * pager is lost before it comes. The failed page-in woke the waiter here as the heir, as for a
     * page a live pager refuses, just before the loss failed it. Nobody is woken.
     */
    @Test
    void aPagerLostWhileAnEndedHeirsPageIsOnItsWayWakesNobody() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(10);
        MachThread heir = k.thread(20);
        MachThread next = k.thread(15);
        MachThread high = k.thread(30);
        k.acquireFromPager(owner, k.base);
        Answer<Acquired> heirWaits = k.lockFull(heir, k.base);
        Answer<Acquired> nextWaits = k.lockFull(next, k.base);
        k.compute(high, 10 * MS);
        k.terminate(owner).value();
        k.env.drain();
        k.relinquish(0, 17); // below the heir: it waits behind it
        assertThat(k.sentRoutines()).isEmpty();
        k.lockRequest(0, ReturnPolicy.RETURN_ALL, true, VmProt.VM_PROT_NONE, true);
        assertThat(k.env.drain()).anyMatch(KernelToPager::hasMemoryObjectDataReturn);
        k.terminate(heir).value();
        assertThat(heirWaits.error().errno()).isEqualTo(Errno.ESRCH);
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).as("faulted in to pass it on").isZero();
        int tracedBefore = k.env.traces.size();

        k.core.xp().onPagerLost(0, "test");

        assertThat(nextWaits.error().errno()).isEqualTo(Errno.EIO);
        assertThat(k.env.traces.subList(tracedBefore, k.env.traces.size()))
                .as("no waiter woken as the heir of a forgotten futex").noneMatch(t -> t.startsWith("owner-died-wake"));
        assertThat(next.computing()).as("no heir's run left for a thread whose lock failed").isFalse();
    }

    /**
     * Two CPUs. A waiter (10) of the dead owner's futex a, boosted to 45 by a timed waiter of the
     * futex b it owns, is the woken heir; a waiter (20) waits behind it. The timed waiter's timer
     * fires and it gets a CPU to leave, the heir the other; the kernel pauses past its lease before
     * either run ends. The leave runs first, late: the heir falls to 10 below the waiter of 20,
     * which took its place and was given a at once (EOWNERDEAD), although the lease had run out
     * (its timer, due later, had not run yet). It checks the lease first: lost, every waiter fails.
     */
    @Test
    void aHeirReplacedAfterAPauseLongerThanTheLeaseHandsNothingOut() {
        CoreFixture k = new CoreFixture(CoreOptions.DEFAULT.withCpus(2), 1000);
        long a = k.base;
        long b = k.base + 8;
        MachThread owner = k.thread(5);
        MachThread heir = k.thread(10);
        MachThread next = k.thread(20);
        MachThread timed = k.thread(45);
        MachThread high1 = k.thread(50);
        MachThread high2 = k.thread(50);
        k.acquireFromPager(owner, a);
        k.acquireFromPager(heir, b);
        Answer<Acquired> heirWaits = k.lockFull(heir, a);
        Answer<Acquired> nextWaits = k.lockFull(next, a);
        k.compute(high1, 1000 * MS);
        k.compute(high2, 1000 * MS);
        Answer<AcquirePath> timedWaits = k.lock(timed, b, MS);
        assertThat(heir.effectivePriority).isEqualTo(45);
        k.env.advance(MS); // its timer fires; it leaves when it gets a CPU
        k.terminate(owner).value();
        assertThat(k.env.traces).contains("owner-died-wake obj+0x0");
        assertThat(heirWaits.answered()).isFalse();
        k.terminate(high1).value(); // the timed waiter gets this CPU
        k.terminate(high2).value(); // the heir this one
        assertThat(timedWaits.answered()).isFalse();

        k.env.pause(1000 * MS); // past the lease's end at 800 ms
        k.env.runLate();

        assertThat(timedWaits.error().errno()).isEqualTo(Errno.ETIMEDOUT);
        assertThat(nextWaits.error().errno()).as("nothing handed out after the lease's end").isEqualTo(Errno.EIO);
        assertThat(nextWaits.error().message()).contains("lease");
        assertThat(heirWaits.error().errno()).isEqualTo(Errno.EIO);
    }
}
