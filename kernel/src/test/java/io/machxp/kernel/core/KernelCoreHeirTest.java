package io.machxp.kernel.core;

import static io.machxp.kernel.core.DeadOwnerHeirs.word;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.policy.MinimumHold;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The woken heir of a dead owner's futex (FutexHeirs.wakeHeir): as Linux's robust-list walk,
 * an owner's death leaves the word OWNER_DIED|WAITERS with no owner and wakes the top waiter,
 * which takes the futex when it runs; a strictly higher lock or trylock takes it first. Also what
 * must not change meanwhile: a higher waiter elsewhere takes it, a page taken away is faulted back
 * first, a fired timeout is kept (a lease grace, and the session's end: KernelCoreHeirLeaseTest).
 */
class KernelCoreHeirTest {
    private static final long MS = 1_000_000L;

    /**
     * As Linux measured it (docs/linux-mode.md): an owner dies while its waiter cannot run (a
     * higher thread computes on the only CPU); nobody owns the futex until the woken waiter runs
     * (word OWNER_DIED|WAITERS), so the higher thread's trylock takes it with EOWNERDEAD, and the
     * waiter, still queued, gets it (ok) at that thread's unlock. A trylock at the waiter's
     * priority is busy.
     */
    @Test
    void aHigherTrylockBeforeTheWokenWaiterRunsTakesItWithOwnerDied() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(10);
        MachThread waiter = k.thread(20);
        MachThread same = k.thread(20);
        MachThread high = k.thread(30);
        k.acquireFromPager(owner, k.base);
        Answer<Acquired> waiting = k.lockFull(waiter, k.base);
        Answer<Acquired> taken = new Answer<>();
        k.computeThen(high, 10 * MS, () -> k.core.vmTrylockFutex(k.task.id, high.tid, k.base, taken));
        k.terminate(owner).value();
        assertThat(waiting.answered()).as("the waiter has no CPU to take the futex").isFalse();
        assertThat(word(k)).as("nobody owns it until the waiter runs: no TID in the word")
                .isEqualTo(FutexWord.OWNER_DIED | FutexWord.WAITERS);
        assertThat(k.trylock(same, k.base).value()).as("at the waiter's priority: busy").isNull();
        k.env.advance(10 * MS);
        assertThat(taken.value().ownerDied()).as("EOWNERDEAD for the thread above the waiter").isTrue();
        assertThat(waiting.answered()).isFalse();
        k.consistent(high, k.base).value();
        k.unlock(high, k.base).value();
        assertThat(waiting.value().ownerDied()).isFalse();
        assertThat(word(k)).isEqualTo(waiter.tid | FutexWord.WAITERS);
    }

    /** The same with a lock: the higher thread takes it (EOWNERDEAD), the waiter gets it after. */
    @Test
    void aHigherLockBeforeTheWokenWaiterRunsTakesItWithOwnerDied() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(10);
        MachThread waiter = k.thread(20);
        MachThread high = k.thread(30);
        k.acquireFromPager(owner, k.base);
        Answer<Acquired> waiting = k.lockFull(waiter, k.base);
        Answer<Acquired> taken = new Answer<>();
        k.computeThen(high, 10 * MS, () -> k.core.vmLockFutex(k.task.id, high.tid, k.base, -1, taken));
        k.terminate(owner).value();
        k.env.advance(10 * MS);
        assertThat(taken.value()).extracting(Acquired::path, Acquired::ownerDied)
                .containsExactly(AcquirePath.FAST_PATH, true);
        assertThat(word(k)).isEqualTo(high.tid | FutexWord.OWNER_DIED | FutexWord.WAITERS);
        k.consistent(high, k.base).value();
        k.unlock(high, k.base).value();
        assertThat(waiting.value().ownerDied()).isFalse();
    }

    /**
     * A waiter that can run when the owner dies is woken too and takes the futex at its run, at
     * the end of the instant of the death (Linux's woken waiter takes the ownerless lock when it
     * runs): meanwhile the word is OWNER_DIED|WAITERS with no owner.
     */
    @Test
    void aWaiterThatCanRunTakesTheFutexAtItsRunInTheInstantOfTheDeath() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(10);
        MachThread waiter = k.thread(20);
        k.acquireFromPager(owner, k.base);
        Answer<Acquired> waiting = k.lockFull(waiter, k.base);
        k.terminate(owner).value();
        assertThat(word(k)).isEqualTo(FutexWord.OWNER_DIED | FutexWord.WAITERS);
        k.env.advance(0);
        assertThat(waiting.value()).extracting(Acquired::path, Acquired::ownerDied)
                .containsExactly(AcquirePath.LOCAL_HANDOFF, true);
        assertThat(word(k)).isEqualTo(waiter.tid | FutexWord.OWNER_DIED | FutexWord.WAITERS);
        assertThat(k.env.traces).anyMatch(t -> t.startsWith("owner-died-wake"));
    }

    /**
     * An owner dies holding two futexes on one CPU, each with a waiter (measured on Linux:
     * scenarios/death-two-higher-heir-steals.yaml): both are woken, the higher runs first, and
     * its lock of the other futex, whose woken waiter has not run, takes it with EOWNERDEAD; the
     * lower waiter is never boosted and gets that futex at the higher one's unlock. machxp handed
     * each futex at once to a waiter that could run, counting the dead owner's CPU for each alone,
     * so the higher one's lock waited for the lower one and boosted it.
     */
    @Test
    void theHigherOfTwoWaitersWokenByOneDeathTakesTheOthersFutexFirst() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(10);
        MachThread low = k.thread(20);
        MachThread high = k.thread(30);
        long a = k.base;
        long b = k.base + 64;
        k.acquireFromPager(owner, a);
        k.acquireFromPager(owner, b);
        Answer<Acquired> lowWaits = k.lockFull(low, a);
        Answer<Acquired> highWaits = new Answer<>();
        Answer<Acquired> highTakesA = new Answer<>();
        k.core.vmLockFutex(k.task.id, high.tid, b, -1, new Reply<>() {
            @Override
            public void complete(Acquired value) {
                highWaits.complete(value);
                // its next call, a syscall's CPU later: the lock of a
                k.computeThen(high, 1_000, () -> k.core.vmLockFutex(k.task.id, high.tid, a, -1, highTakesA));
            }

            @Override
            public void fail(KernelError error) {
                highWaits.fail(error);
            }
        });
        k.terminate(owner).value();
        k.env.advance(10 * MS);
        assertThat(highWaits.value().ownerDied()).isTrue();
        assertThat(highTakesA.value().ownerDied()).as("taken from the woken lower waiter: EOWNERDEAD").isTrue();
        assertThat(lowWaits.answered()).isFalse();
        assertThat(low.effectivePriority).as("the lower waiter owns nothing: never boosted").isEqualTo(20);
        k.consistent(high, a).value();
        k.unlock(high, a).value();
        k.env.advance(MS);
        assertThat(lowWaits.value().ownerDied()).isFalse();
    }

    /**
     * An owner killed while it computes holds its CPU no longer: its waiter, lower than it but
     * alone on the kernel now, gets the futex at the death (it was woken as if the dead owner
     * still ran, and took it only at its run).
     */
    @Test
    void anOwnerKilledOnItsCpuLeavesItToTheWaiterAtOnce() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(20);
        MachThread waiter = k.thread(10);
        k.acquireFromPager(owner, k.base);
        Answer<Acquired> waiting = k.lockFull(waiter, k.base);
        k.compute(owner, 10 * MS);
        k.terminate(owner).value();
        k.env.advance(0);
        assertThat(waiting.value().ownerDied()).isTrue();
    }

    /** A woken heir that ends before it runs passes the dead owner's futex on to the next waiter. */
    @Test
    void aWokenHeirThatEndsBeforeItRunsWakesTheNextWaiter() {
        DeadOwnerHeirs.Waiters w = DeadOwnerHeirs.ownerDiesWhileAHigherThreadComputes(new CoreFixture(true), 10 * MS);
        CoreFixture k = w.k();
        MachThread heir = w.heir();
        MachThread next = w.next();
        Answer<Acquired> heirWaits = w.heirWaits();
        Answer<Acquired> nextWaits = w.nextWaits();
        Answer<Void> work = w.work();
        k.terminate(heir).value();
        assertThat(heirWaits.error().errno()).isEqualTo(Errno.ESRCH);
        assertThat(nextWaits.answered()).as("the next waiter has no CPU either").isFalse();
        assertThat(word(k)).isEqualTo(FutexWord.OWNER_DIED | FutexWord.WAITERS);
        k.env.advance(10 * MS);
        assertThat(work.answered()).isTrue();
        assertThat(nextWaits.value().ownerDied()).isTrue();
        assertThat(word(k)).isEqualTo(next.tid | FutexWord.OWNER_DIED | FutexWord.WAITERS);
    }

    /** A dead owner's futex with its heir woken but not run yet: what {@link #ownerDiesWhileAHigherThreadRuns} made. */
    private record Died(CoreFixture k, MachThread owner, MachThread heir, MachThread high, Answer<Acquired> heirWaits,
            Answer<Void> work) {}

    /**
     * The owner (10) of the futex at offset 0 dies while its waiter (20), the heir, cannot run: a
     * higher thread (30) computes 10 ms on the only CPU.
     */
    private static Died ownerDiesWhileAHigherThreadRuns() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(10);
        MachThread heir = k.thread(20);
        MachThread high = k.thread(30);
        k.acquireFromPager(owner, k.base);
        Answer<Acquired> heirWaits = k.lockFull(heir, k.base);
        Answer<Void> work = k.compute(high, 10 * MS);
        k.terminate(owner).value();
        return new Died(k, owner, heir, high, heirWaits, work);
    }

    // ---- a waiter elsewhere --------------------------------------------------------------------

    /**
     * Defect 2: relinquish_futex for a waiter elsewhere above the woken heir boosted nobody (the
     * futex has no owner) and waited for the heir's run and section. As a higher local lock would,
     * the waiter elsewhere takes it first: released to the pager with OWNER_DIED in its word
     * (EOWNERDEAD there), asked for again for the heir, who waits on.
     */
    @Test
    void aHigherWaiterElsewhereTakesTheFutexBeforeTheWokenHeirRuns() {
        Died d = ownerDiesWhileAHigherThreadRuns();
        CoreFixture k = d.k();
        Answer<Acquired> waiting = d.heirWaits();
        Answer<Void> work = d.work();
        k.env.drain();
        k.relinquish(0, 40);
        List<KernelToPager> sent = k.env.drain();
        assertThat(sent).extracting(KernelToPager::getRoutineCase)
                .containsExactly(KernelToPager.RoutineCase.MEMORY_OBJECT_FUTEX_RELEASED);
        var released = sent.get(0).getMemoryObjectFutexReleased();
        assertThat(released.getRequestAgain()).as("asked for again: the heir waits on").isTrue();
        assertThat(released.getRequestPriority()).isEqualTo(20);
        assertThat(released.getPages(0).getData().asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .getInt(0) & ~FutexWord.WAITERS).as("the word says its owner died").isEqualTo(FutexWord.OWNER_DIED);
        assertThat(FutexWord.isAbsent(k.futex(k.base).state())).isTrue();
        k.env.advance(10 * MS);
        assertThat(work.answered()).isTrue();
        assertThat(waiting.answered()).as("the heir waits for the kernel elsewhere").isFalse();
    }

    /** A waiter elsewhere at the heir's priority waits behind it: the heir takes it, boosted, and gives it back at its unlock. */
    @Test
    void aWaiterElsewhereAtTheHeirsPriorityWaitsBehindIt() {
        Died d = ownerDiesWhileAHigherThreadRuns();
        CoreFixture k = d.k();
        MachThread heir = d.heir();
        Answer<Acquired> waiting = d.heirWaits();
        k.env.drain();
        k.relinquish(0, 20);
        assertThat(k.sentRoutines()).isEmpty();
        k.env.advance(10 * MS);
        assertThat(waiting.value().ownerDied()).isTrue();
        k.consistent(heir, k.base).value();
        k.unlock(heir, k.base).value();
        assertThat(k.sentRoutines()).containsExactly(KernelToPager.RoutineCase.MEMORY_OBJECT_FUTEX_RELEASED);
    }

    /**
     * Defect 2, the other half: a waiter raised above the woken heir is the top waiter now, and is
     * woken in its place (as Linux's priority-chain walk wakes the new top waiter of a lock with no
     * owner): it takes the futex when it runs, before the heir.
     */
    @Test
    void aWaiterRaisedAboveTheWokenHeirTakesItsPlace() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(10);
        MachThread heir = k.thread(20);
        MachThread other = k.thread(15);
        MachThread high = k.thread(30);
        k.acquireFromPager(owner, k.base);
        Answer<Acquired> heirWaits = k.lockFull(heir, k.base);
        Answer<Acquired> otherWaits = k.lockFull(other, k.base);
        Answer<Void> work = k.compute(high, 10 * MS);
        k.terminate(owner).value();
        k.setPriority(other, 25).value();
        assertThat(otherWaits.answered()).as("it cannot run yet either").isFalse();
        k.env.advance(10 * MS);
        assertThat(work.answered()).isTrue();
        assertThat(otherWaits.value().ownerDied()).as("the new top waiter takes it").isTrue();
        assertThat(heirWaits.answered()).isFalse();
        assertThat(word(k)).isEqualTo(other.tid | FutexWord.OWNER_DIED | FutexWord.WAITERS);
    }

    /**
     * The woken heir lowered below a waiter elsewhere (its relinquish pending, below the heir when
     * it came) is no longer the top waiter: the waiter elsewhere gets the futex through the pager,
     * with OWNER_DIED in its word, as Linux wakes the new top waiter.
     */
    @Test
    void aWokenHeirLoweredBelowAWaiterElsewhereLetsThatWaiterHaveIt() {
        Died d = ownerDiesWhileAHigherThreadRuns();
        CoreFixture k = d.k();
        MachThread heir = d.heir();
        Answer<Acquired> waiting = d.heirWaits();
        k.env.drain();
        k.relinquish(0, 18);
        assertThat(k.sentRoutines()).as("below the heir: it waits behind it").isEmpty();
        k.setPriority(heir, 15).value();
        List<KernelToPager> sent = k.env.drain();
        assertThat(sent).extracting(KernelToPager::getRoutineCase)
                .containsExactly(KernelToPager.RoutineCase.MEMORY_OBJECT_FUTEX_RELEASED);
        assertThat(sent.get(0).getMemoryObjectFutexReleased().getRequestPriority()).isEqualTo(15);
        k.env.advance(10 * MS);
        assertThat(waiting.answered()).isFalse();
    }

    /** A waiter raised above the woken heir and above every running thread takes the futex at once. */
    @Test
    void aWaiterRaisedAboveEveryRunningThreadTakesItAtOnce() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(10);
        MachThread heir = k.thread(20);
        MachThread other = k.thread(15);
        MachThread high = k.thread(30);
        k.acquireFromPager(owner, k.base);
        Answer<Acquired> heirWaits = k.lockFull(heir, k.base);
        Answer<Acquired> otherWaits = k.lockFull(other, k.base);
        k.compute(high, 10 * MS);
        k.terminate(owner).value();
        k.setPriority(other, 40).value();
        k.env.advance(1);
        assertThat(otherWaits.value().ownerDied()).isTrue();
        k.env.advance(10 * MS);
        assertThat(heirWaits.answered()).isFalse();
    }

    // ---- the page, and a timeout ---------------------------------------------------------------

    /**
     * Defect 3: the page was taken away while the heir waited, and its run set a live word without
     * the page (an unlock's NOT_RECOVERABLE then never reached the page). The page is faulted in
     * first.
     */
    @Test
    void aWokenHeirWhosePageWasTakenAwayFaultsItInBeforeItTakesTheFutex() {
        Died d = ownerDiesWhileAHigherThreadRuns();
        CoreFixture k = d.k();
        MachThread heir = d.heir();
        Answer<Acquired> waiting = d.heirWaits();
        k.env.drain();
        k.lockRequest(0, ReturnPolicy.RETURN_ALL, true, VmProt.VM_PROT_NONE, true); // for another kernel's read
        var returned = k.env.drain().stream().filter(KernelToPager::hasMemoryObjectDataReturn).findFirst()
                .orElseThrow().getMemoryObjectDataReturn();
        assertThat(FutexWord.isNoPage(k.futex(k.base).state())).isTrue();
        k.env.advance(10 * MS);
        assertThat(waiting.answered()).as("the word can change only with the page").isFalse();
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).isZero();
        k.supply(0, returned.getData().toByteArray());
        assertThat(waiting.value().ownerDied()).isTrue();
        assertThat(word(k)).isEqualTo(heir.tid | FutexWord.OWNER_DIED | FutexWord.WAITERS);
        k.unlock(heir, k.base).value(); // not marked consistent
        assertThat(k.futex(k.base).state()).isEqualTo(FutexWord.NOT_RECOVERABLE);
        k.lockRequest(0, ReturnPolicy.RETURN_ALL, true, VmProt.VM_PROT_NONE, true);
        var again = k.env.drain().stream().filter(KernelToPager::hasMemoryObjectDataReturn).findFirst()
                .orElseThrow().getMemoryObjectDataReturn();
        assertThat(again.getData().asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(0))
                .as("what the next kernel reads").isEqualTo(FutexWord.NOT_RECOVERABLE);
    }

    /**
     * Defect 4: a timed heir whose timer fired while it was woken lost its timeout when a higher
     * thread took the futex first, and waited on for that thread's unlock. As Linux's waiter, which
     * finds the lock taken and its timer fired when it runs, it leaves with ETIMEDOUT.
     */
    @Test
    void aTimedHeirWhoseTimerFiredLeavesWithEtimedoutWhenAHigherThreadTakesTheFutex() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(10);
        MachThread heir = k.thread(20);
        MachThread high = k.thread(30);
        k.acquireFromPager(owner, k.base);
        Answer<AcquirePath> waiting = k.lock(heir, k.base, 5 * MS);
        Answer<Acquired> taken = new Answer<>();
        k.computeThen(high, 10 * MS, () -> k.core.vmTrylockFutex(k.task.id, high.tid, k.base, taken));
        k.terminate(owner).value();
        k.env.advance(5 * MS);
        assertThat(waiting.answered()).as("its timer fired, but it has no CPU to leave").isFalse();
        k.env.advance(5 * MS);
        assertThat(taken.value().ownerDied()).isTrue();
        k.env.advance(1);
        assertThat(waiting.error().errno()).as("it ran, found the futex taken and its timeout passed")
                .isEqualTo(Errno.ETIMEDOUT);
        k.consistent(high, k.base).value();
        k.unlock(high, k.base).value();
        assertThat(word(k)).isEqualTo(FutexWord.FREE);
    }

    /** A timed heir whose timer fired and that takes the futex when it runs gets it (it looks at the futex first). */
    @Test
    void aTimedHeirWhoseTimerFiredTakesTheFutexWhenItRuns() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(10);
        MachThread heir = k.thread(20);
        MachThread high = k.thread(30);
        k.acquireFromPager(owner, k.base);
        Answer<Acquired> waiting = new Answer<>();
        k.core.vmLockFutex(k.task.id, heir.tid, k.base, 5 * MS, waiting);
        k.compute(high, 10 * MS);
        k.terminate(owner).value();
        k.env.advance(10 * MS + 1);
        assertThat(waiting.value().ownerDied()).isTrue();
    }

    // ---- a second review ----------------------------------------------------------------------

    /** Takes the futex's page away (for another kernel's read); returns what the kernel sent back. */
    private static byte[] pageTakenAway(CoreFixture k) {
        k.env.drain();
        k.lockRequest(0, ReturnPolicy.RETURN_ALL, true, VmProt.VM_PROT_NONE, true);
        byte[] data = k.env.drain().stream().filter(KernelToPager::hasMemoryObjectDataReturn).findFirst()
                .orElseThrow().getMemoryObjectDataReturn().getData().toByteArray();
        assertThat(FutexWord.isNoPage(k.futex(k.base).state())).isTrue();
        return data;
    }

    /**
     * A live pager refusing the page the woken heir faults in (memory_object_data_error) left the
     * heir woken for good: not answered, its timer ignored (it was the heir). Its lock fails with
     * the page's error (EIO, as a lock whose page-in is refused), and the next waiter is woken in
     * its place and takes the futex with the page.
     */
    @Test
    void aWokenHeirWhosePageIsRefusedFailsAndTheNextWaiterIsWoken() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(10);
        MachThread heir = k.thread(20);
        MachThread next = k.thread(15);
        MachThread high = k.thread(30);
        k.acquireFromPager(owner, k.base);
        Answer<AcquirePath> heirWaits = k.lock(heir, k.base, 50 * MS);
        Answer<Acquired> nextWaits = k.lockFull(next, k.base);
        k.compute(high, 10 * MS);
        k.terminate(owner).value();
        byte[] page = pageTakenAway(k);
        k.env.advance(10 * MS);
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).isZero();
        k.dataError(0, "disk on fire");
        assertThat(heirWaits.error().errno()).isEqualTo(Errno.EIO);
        assertThat(heirWaits.error().message()).contains("disk on fire");
        k.env.advance(1);
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).as("the next waiter faults it in").isZero();
        k.supply(0, page);
        assertThat(nextWaits.value().ownerDied()).isTrue();
        assertThat(word(k)).isEqualTo(next.tid | FutexWord.OWNER_DIED | FutexWord.WAITERS);
    }

    /**
     * A woken heir that ends while the page is away faulted the page in to pass the futex on; a
     * refused page left the waiters queued, with nobody woken. The next waiter is woken at once
     * (it faults the page in when it runs): refused again, its lock fails with the page's error.
     */
    @Test
    void aWokenHeirThatEndsWhileThePageIsAwayLeavesNoWaiterStranded() {
        DeadOwnerHeirs.Waiters w = DeadOwnerHeirs.ownerDiesWhileAHigherThreadComputes(new CoreFixture(true), 10 * MS);
        CoreFixture k = w.k();
        MachThread heir = w.heir();
        Answer<Acquired> heirWaits = w.heirWaits();
        Answer<Acquired> nextWaits = w.nextWaits();
        Answer<Void> work = w.work();
        pageTakenAway(k);
        k.terminate(heir).value();
        assertThat(heirWaits.error().errno()).isEqualTo(Errno.ESRCH);
        k.env.advance(10 * MS);
        assertThat(work.answered()).isTrue();
        List<KernelToPager> sent = k.env.drain();
        assertThat(sent).extracting(KernelToPager::getRoutineCase)
                .containsExactly(KernelToPager.RoutineCase.MEMORY_OBJECT_DATA_REQUEST);
        k.dataError(0, "disk on fire");
        assertThat(nextWaits.error().errno()).isEqualTo(Errno.EIO);
        assertThat(k.futex(k.base).waiters.isEmpty()).isTrue();
    }

    /**
     * A woken heir that ends while the page is away left no heir during the page-in, and a lock
     * below the next waiter whose fault came first took the futex (EOWNERDEAD) ahead of it. The
     * next waiter is the heir at once: the lower lock waits behind it.
     */
    @Test
    void aLowerLockWhileTheNextHeirAwaitsThePageWaitsBehindIt() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(3);
        MachThread heir = k.thread(10);
        MachThread next = k.thread(8);
        MachThread low = k.thread(5);
        MachThread high = k.thread(30);
        k.acquireFromPager(owner, k.base);
        Answer<Acquired> heirWaits = k.lockFull(heir, k.base);
        Answer<Acquired> nextWaits = k.lockFull(next, k.base);
        Answer<Void> work = k.compute(high, 10 * MS);
        k.terminate(owner).value();
        byte[] page = pageTakenAway(k);
        Answer<Acquired> lowWaits = k.lockFull(low, k.base); // faults the page in
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).isZero();
        k.terminate(heir).value();
        assertThat(heirWaits.error().errno()).isEqualTo(Errno.ESRCH);
        k.supply(0, page);
        assertThat(lowWaits.answered()).as("below the next waiter: it waits").isFalse();
        k.env.advance(10 * MS);
        assertThat(work.answered()).isTrue();
        assertThat(nextWaits.value().ownerDied()).isTrue();
        assertThat(lowWaits.answered()).isFalse();
        assertThat(word(k)).isEqualTo(next.tid | FutexWord.OWNER_DIED | FutexWord.WAITERS);
    }

    /**
     * One CPU: the owner computes above a ready thread, which is above the waiter; the owner is
     * killed. Its CPU goes to the ready thread, not to the waiter (SCHED_FIFO): the waiter is woken,
     * and the ready thread's lock takes the futex first (EOWNERDEAD), as on Linux. The death gave
     * the futex to the waiter at once, counting the freed CPU as the waiter's.
     */
    @Test
    void anOwnerKilledOnItsCpuLeavesTheFutexToAHigherReadyThreadFirst() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(30);
        MachThread ready = k.thread(20);
        MachThread waiter = k.thread(10);
        k.acquireFromPager(owner, k.base);
        Answer<Acquired> waiting = k.lockFull(waiter, k.base);
        k.compute(owner, 10 * MS);
        Answer<Acquired> taken = new Answer<>();
        k.computeThen(ready, 1 * MS, () -> k.core.vmLockFutex(k.task.id, ready.tid, k.base, -1, taken));
        k.terminate(owner).value();
        assertThat(waiting.answered()).as("the ready thread has the CPU").isFalse();
        assertThat(word(k)).isEqualTo(FutexWord.OWNER_DIED | FutexWord.WAITERS);
        k.env.advance(1 * MS);
        assertThat(taken.value().ownerDied()).as("EOWNERDEAD for the thread above the waiter").isTrue();
        assertThat(waiting.answered()).isFalse();
        k.consistent(ready, k.base).value();
        k.unlock(ready, k.base).value();
        assertThat(waiting.value().ownerDied()).isFalse();
    }

    /** A ready thread at the waiter's priority is ahead of it too (a woken thread joins the tail of its priority). */
    @Test
    void anOwnerKilledOnItsCpuWithAReadyThreadAtTheWaitersPriorityWakesTheWaiter() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(30);
        MachThread ready = k.thread(10);
        MachThread waiter = k.thread(10);
        k.acquireFromPager(owner, k.base);
        Answer<Acquired> waiting = k.lockFull(waiter, k.base);
        k.compute(owner, 10 * MS);
        Answer<Void> work = k.compute(ready, 1 * MS);
        k.terminate(owner).value();
        assertThat(waiting.answered()).isFalse();
        assertThat(k.env.traces).anyMatch(t -> t.startsWith("owner-died-wake"));
        k.env.advance(1 * MS + 1);
        assertThat(work.answered()).isTrue();
        assertThat(waiting.value().ownerDied()).isTrue();
    }

    /**
     * A waiter raised above the woken heir, below a waiter elsewhere that a hold policy keeps
     * waiting (the dead owner ranked above it): re-electing went to the waiter elsewhere, and when
     * the hold kept the futex here it stopped there, the heir staying. The raised waiter takes the
     * heir's place.
     */
    @Test
    void aWaiterRaisedAboveTheHeirTakesItsPlaceWhileAHoldKeepsTheWaiterElsewhereWaiting() {
        CoreFixture k = new CoreFixture(CoreOptions.DEFAULT.withFutexPolicy(new MinimumHold(100 * MS)));
        MachThread owner = k.thread(40);
        MachThread heir = k.thread(20);
        MachThread other = k.thread(15);
        MachThread high = k.thread(50);
        k.acquireFromPager(owner, k.base);
        Answer<Acquired> heirWaits = k.lockFull(heir, k.base);
        Answer<Acquired> otherWaits = k.lockFull(other, k.base);
        Answer<Void> work = k.compute(high, 10 * MS);
        k.terminate(owner).value();
        k.env.drain();
        k.relinquish(0, 30);
        assertThat(k.sentRoutines()).as("the hold keeps it here (the dead owner ranked above 30)").isEmpty();
        k.setPriority(other, 25).value();
        assertThat(k.sentRoutines()).isEmpty();
        k.env.advance(10 * MS);
        assertThat(work.answered()).isTrue();
        assertThat(otherWaits.value().ownerDied()).as("the new top waiter here takes it").isTrue();
        assertThat(heirWaits.answered()).isFalse();
    }

    /**
     * The owner dies while its futex's page is elsewhere: the kernel faults the page in to mark
     * OWNER_DIED and pass the futex on. A live pager refusing it (memory_object_data_error) left
     * every waiter queued with nobody woken, for ever for an untimed one. They fail with the
     * page's error (EIO), as a lock whose page-in is refused does.
     */
    @Test
    void anOwnersDeathWhoseFutexPageIsRefusedFailsTheWaitersInsteadOfStrandingThem() {
        CoreFixture k = new CoreFixture(true);
        MachThread owner = k.thread(10);
        MachThread w = k.thread(20);
        k.acquireFromPager(owner, k.base);
        Answer<Acquired> waits = k.lockFull(w, k.base);
        pageTakenAway(k);
        k.terminate(owner).value();
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).isZero();
        k.dataError(0, "disk on fire");
        assertThat(waits.error().errno()).isEqualTo(Errno.EIO);
        assertThat(waits.error().message()).contains("disk on fire");
    }
}
