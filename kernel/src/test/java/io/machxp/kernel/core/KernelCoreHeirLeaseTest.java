package io.machxp.kernel.core;

import static io.machxp.kernel.core.DeadOwnerHeirs.word;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import org.junit.jupiter.api.Test;

/**
 * The woken heir of a dead owner's futex (FutexHeirs) when its session ends under it: a pager
 * lost while the heir's page is on its way wakes nobody (the loss fails every waiter), and a
 * priority change that runs after the lease ran out, before its timer saw it, hands nothing out;
 * and in a lease grace (the kernel hands out nothing it holds, LeaseGrace): an heir whose run
 * or leaving falls in it hands nothing out until the lease runs again.
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
        DeadOwnerHeirs.Waiters w = DeadOwnerHeirs.ownerDiesWhileAHigherThreadComputes(new CoreFixture(true), 10 * MS);
        CoreFixture k = w.k();
        MachThread owner = w.owner();
        MachThread heir = w.heir();
        MachThread next = w.next();
        Answer<Acquired> heirWaits = w.heirWaits();
        Answer<Acquired> nextWaits = w.nextWaits();
        Answer<Void> work = w.work();
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
        DeadOwnerHeirs.Waiters w = DeadOwnerHeirs.ownerDiesWhileAHigherThreadComputes(new CoreFixture(true), 10 * MS);
        CoreFixture k = w.k();
        MachThread owner = w.owner();
        MachThread heir = w.heir();
        MachThread next = w.next();
        Answer<Acquired> heirWaits = w.heirWaits();
        Answer<Acquired> nextWaits = w.nextWaits();
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

    // ---- a lease grace: the kernel hands out nothing it holds (LeaseGrace) ----------------------

    /**
     * A kernel at a replicated pager, lease 1 s, whose keepalives go unanswered: it resumes its
     * session on a new stream (the stall), and its lease runs out at 800 ms.
     */
    private static CoreFixture replicated() {
        CoreFixture k = new CoreFixture(CoreOptions.DEFAULT, 1000, 77);
        k.env.replicated = true;
        return k;
    }

    private static void intoGrace(CoreFixture k) {
        k.env.advance(850 * MS - k.env.nanoTime());
        assertThat(k.env.traces).as("in its grace from 800 ms").contains("lease-grace 1000 ms");
    }

    /** The next leader takes the resume: the grace ends with nothing lost, and what it parked runs next. */
    private static void resumeTaken(CoreFixture k) {
        k.core.xp().onXp(PagerToKernel.newBuilder().setPagerWelcome(PagerWelcome.newBuilder().setKernelId(1)
                .setResumed(true).setReceived(k.env.numbered)).build());
        assertThat(k.env.traces).contains("lease-grace-over resumed");
        k.env.advance(1);
    }

    /**
     * Defect 1 of the review: the woken heir whose turn to run comes in a lease grace took the
     * futex there. It waits for the grace's end (the kernel hands out nothing while its lease is
     * in doubt), then takes it.
     */
    @Test
    void aWokenHeirThatRunsInALeaseGraceTakesTheFutexOnlyOnceTheLeaseRunsAgain() {
        CoreFixture k = replicated();
        MachThread owner = k.thread(10);
        MachThread heir = k.thread(20);
        MachThread high = k.thread(30);
        k.acquireFromPager(owner, k.base);
        Answer<Acquired> waiting = k.lockFull(heir, k.base);
        Answer<Void> work = k.compute(high, 1000 * MS);
        k.terminate(owner).value();
        assertThat(word(k)).isEqualTo(FutexWord.OWNER_DIED | FutexWord.WAITERS);
        intoGrace(k);
        k.env.advance(1050 * MS - k.env.nanoTime()); // high's compute ends at 1000 ms: the heir runs
        assertThat(work.answered()).isTrue();
        assertThat(waiting.answered()).as("nothing handed out in the grace").isFalse();
        assertThat(word(k)).isEqualTo(FutexWord.OWNER_DIED | FutexWord.WAITERS);
        resumeTaken(k);
        assertThat(waiting.value().ownerDied()).isTrue();
        assertThat(word(k)).isEqualTo(heir.tid | FutexWord.OWNER_DIED | FutexWord.WAITERS);
    }

    /**
     * Defect 1, the heir's leaving: a woken heir that ends in a grace passed the futex on at once
     * to the next waiter, which could run. It is woken instead, and takes it once the lease runs.
     */
    @Test
    void aWokenHeirThatEndsInALeaseGraceHandsNothingOutThere() {
        DeadOwnerHeirs.Waiters w = DeadOwnerHeirs.ownerDiesWhileAHigherThreadComputes(replicated(), 1000 * MS);
        CoreFixture k = w.k();
        MachThread heir = w.heir();
        MachThread next = w.next();
        Answer<Acquired> heirWaits = w.heirWaits();
        Answer<Acquired> nextWaits = w.nextWaits();
        Answer<Void> work = w.work();
        intoGrace(k);
        k.env.advance(1050 * MS - k.env.nanoTime());
        assertThat(work.answered()).isTrue();
        k.terminate(heir).value(); // the CPU is free: the next waiter could run at once
        assertThat(heirWaits.error().errno()).isEqualTo(Errno.ESRCH);
        k.env.advance(10 * MS);
        assertThat(nextWaits.answered()).as("nothing handed out in the grace").isFalse();
        assertThat(word(k)).isEqualTo(FutexWord.OWNER_DIED | FutexWord.WAITERS);
        resumeTaken(k);
        assertThat(nextWaits.value().ownerDied()).isTrue();
        assertThat(word(k)).isEqualTo(next.tid | FutexWord.OWNER_DIED | FutexWord.WAITERS);
    }
}
