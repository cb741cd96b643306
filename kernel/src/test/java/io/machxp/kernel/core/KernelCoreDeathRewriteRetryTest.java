package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A dead owner's pass-on whose page-in is refused while a waiter elsewhere waits (heir11 MED-1,
 * the pre-existing death case): the page is asked for again with a backoff until it comes, and its
 * return passes the futex on with OWNER_DIED to the waiter elsewhere.
 */
class KernelCoreDeathRewriteRetryTest {
    private static final long MS = 1_000_000L;

    private final CoreFixture k = new CoreFixture(true);
    private final MachThread owner = k.thread(30);
    private final MachThread local = k.thread(10);
    private byte[] page;

    private Answer<Acquired> ownerDiesWithItsPageElsewhereAndRefused() {
        k.acquireFromPager(owner, k.base);
        Answer<Acquired> localWaits = k.lockFull(local, k.base);
        k.env.drain();
        page = k.takePageBack();
        k.relinquish(0, 5); // a waiter elsewhere, below the local one: pending
        k.env.advance(1);
        for (KernelToPager m : k.env.drain()) {
            if (m.hasMemoryObjectDataRequest()) {
                k.dataError(0, "transient store error"); // the word fetch for the relinquish
            }
        }
        k.env.advance(1);
        k.terminate(owner).value();
        k.env.advance(1);
        assertThat(k.env.drain()).as("the death's pass-on faults the page in").anyMatch(KernelToPager::hasMemoryObjectDataRequest);
        k.dataError(0, "transient store error");
        k.env.advance(1);
        assertThat(localWaits.error().errno()).as("a refused page: EIO here").isEqualTo(Errno.EIO);
        assertThat(FutexWord.owner(k.futex(k.base).state())).as("the dead TID still in the word").isEqualTo(owner.tid);
        return localWaits;
    }

    @Test
    void aDeadOwnersRefusedPassOnIsRetriedUntilThePageComes() {
        ownerDiesWithItsPageElsewhereAndRefused();
        assertThat(k.refuseFor(300, false)).as("retried with a backoff").isBetween(2, 12);
        List<KernelToPager> sent = k.untilDataRequest(false);
        assertThat(sent).anyMatch(KernelToPager::hasMemoryObjectDataRequest);
        k.supply(0, page);
        k.env.advance(1);
        assertThat(k.env.drain()).as("passed on to the waiter elsewhere, its page along").anyMatch(m ->
                m.hasMemoryObjectFutexReleased() && m.getMemoryObjectFutexReleased().getHandoff());
        assertThat(k.env.traces).as("as a death: OWNER_DIED in the word").anyMatch(t -> t.startsWith("owner-died"));
        assertThat(k.futex(k.base).rewriteRetryTimer).isNull();
        k.env.advance(5000 * MS);
        assertThat(k.env.drain()).noneMatch(KernelToPager::hasMemoryObjectDataRequest);
    }

    @Test
    void theRetryStopsWhenThePagerIsLost() {
        ownerDiesWithItsPageElsewhereAndRefused();
        assertThat(k.refuseFor(20, false)).isPositive();
        assertThat(k.futex(k.base).rewriteRetryTimer).as("the next retry scheduled").isNotNull();
        k.core.xp().onPagerLost(0, "pager gone");
        assertThat(k.futex(k.base).rewriteRetryTimer).isNull();
        k.env.advance(10_000 * MS);
        assertThat(k.env.drain()).noneMatch(KernelToPager::hasMemoryObjectDataRequest);
    }

    /**
     * A page the pager refuses for long (late12 LOW-3, perfretry MED-2): after the fetches at the
     * longest delay were refused {@link FutexRewriteRetry#REFUSALS_AT_MAX} times a warning says so
     * once, and the page is asked for again at a slow pace (four times the longest delay without a
     * lease), never stopping: the waiter elsewhere keeps its priority, so the pager sends no new
     * relinquish, and once the store serves the page again the futex is passed on to it.
     */
    @Test
    void aPageRefusedForLongIsAskedForAtASlowPaceAndPassedOnOnceServed() {
        ownerDiesWithItsPageElsewhereAndRefused();
        int requests = k.refuseFor(1000, false); // 10 s refused
        assertThat(requests).as("the backoff's doublings, the refusals at the longest delay, one at the slow pace")
                .isEqualTo(FutexRewriteRetry.MAX_DOUBLINGS + FutexRewriteRetry.REFUSALS_AT_MAX + 1);
        assertThat(k.refuseFor(1000, false)).as("still asked, slowly: every 3.2 s").isBetween(3, 4);
        assertThat(k.env.traces).as("said once").filteredOn(t -> t.startsWith("futex-rewrite-slowed")).hasSize(1);
        FutexEntry e = k.futex(k.base);
        assertThat(e.relinquishPending).as("a relinquish is never withdrawn").isTrue();
        assertThat(FutexWord.owner(e.state())).as("the pass-on still pending").isEqualTo(owner.tid);
        // The store serves the page again; no new relinquish (the waiter elsewhere is steady):
        assertThat(k.untilDataRequest(false)).as("asked again").anyMatch(KernelToPager::hasMemoryObjectDataRequest);
        k.supply(0, page);
        k.env.advance(1);
        assertThat(k.env.drain()).as("passed on to the waiter elsewhere").anyMatch(m ->
                m.hasMemoryObjectFutexReleased() && m.getMemoryObjectFutexReleased().getHandoff());
        assertThat(FutexWord.isAbsent(e.state())).isTrue();
    }

    /**
     * The same with no thread waiting here, the relinquish coming after the death's refusal (the
     * perfretry review's probe): past the bound, a store that serves the page again is asked and
     * the futex leaves; the dead owner's TID was in the word until then.
     */
    @Test
    void aHealedStoreIsAskedAgainPastTheBoundWithOnlyAWaiterElsewhere() {
        k.acquireFromPager(owner, k.base);
        k.env.drain();
        page = k.takePageBack();
        k.terminate(owner).value();
        k.env.advance(1);
        assertThat(k.env.drain()).anyMatch(KernelToPager::hasMemoryObjectDataRequest);
        k.dataError(0, "transient store error");
        k.relinquish(0, 5); // a waiter elsewhere, steady priority
        k.env.advance(1);
        assertThat(k.env.drain()).anyMatch(KernelToPager::hasMemoryObjectDataRequest);
        k.dataError(0, "transient store error");
        k.refuseFor(1000, false); // 10 s refused: past the bound
        assertThat(k.env.traces).anyMatch(t -> t.startsWith("futex-rewrite-slowed"));
        assertThat(FutexWord.owner(k.futex(k.base).state())).isEqualTo(owner.tid);
        assertThat(k.untilDataRequest(false)).as("the page asked for again once the store may serve it")
                .anyMatch(KernelToPager::hasMemoryObjectDataRequest);
        k.supply(0, page);
        k.env.advance(1);
        assertThat(k.env.drain()).as("passed on to the waiter elsewhere").anyMatch(m ->
                m.hasMemoryObjectFutexReleased() && m.getMemoryObjectFutexReleased().getHandoff());
    }

    /**
     * The need ends while a retry's fetch is out (the relinquish voided: a broken stream clears it)
     * and that fetch is refused: the round ends with its backoff reset, so a later round (a new
     * relinquish) starts from the first delay, not the last round's longest (late12 LOW-3).
     */
    @Test
    void aRoundThatEndsOnARefusalResetsTheBackoff() {
        ownerDiesWithItsPageElsewhereAndRefused();
        assertThat(k.refuseFor(300, false)).isPositive();
        assertThat(k.untilDataRequest(false)).anyMatch(KernelToPager::hasMemoryObjectDataRequest);
        FutexEntry e = k.futex(k.base);
        long first = e.rewriteRetryNanos >> FutexRewriteRetry.MAX_DOUBLINGS;
        assertThat(first).as("at the longest delay").isPositive();
        e.relinquishPending = false; // as FutexSessionEnds.streamBroken voids it, the fetch out
        k.dataError(0, "transient store error");
        k.env.advance(1);
        assertThat(e.rewriteRetryNanos).as("the round ended: backoff reset").isZero();
        assertThat(e.rewriteRetryTimer).isNull();
        k.relinquish(0, 5); // the new pager asks again
        k.env.advance(1);
        assertThat(k.env.drain()).anyMatch(KernelToPager::hasMemoryObjectDataRequest);
        k.dataError(0, "transient store error");
        assertThat(e.rewriteRetryNanos).as("a new round starts at the first delay").isEqualTo(first);
    }

    /**
     * The owner dies with its page elsewhere and nobody waiting, here or elsewhere: the death's
     * page-in is refused and nothing is asked again (nobody waits). A relinquish then (a waiter
     * elsewhere): the pass-on still waits for the page, so the page is asked for again, with the
     * backoff while it is refused, and its return passes the futex on with OWNER_DIED (late12,
     * "Not finished": the relinquish's fetch was retried only for a stale heir).
     */
    @Test
    void aRelinquishAfterARefusedDeathWithNoWaiterAsksForThePageAgain() {
        k.acquireFromPager(owner, k.base);
        k.env.drain();
        page = k.takePageBack();
        k.terminate(owner).value();
        k.env.advance(1);
        assertThat(k.env.drain()).as("the death's pass-on faults the page in").anyMatch(KernelToPager::hasMemoryObjectDataRequest);
        k.dataError(0, "transient store error");
        k.env.advance(5000 * MS);
        assertThat(k.env.drain()).as("nobody waits: nothing asked").noneMatch(KernelToPager::hasMemoryObjectDataRequest);
        assertThat(FutexWord.owner(k.futex(k.base).state())).isEqualTo(owner.tid);
        k.relinquish(0, 5);
        k.env.advance(1);
        assertThat(k.env.drain()).as("the relinquish asks for the page").anyMatch(KernelToPager::hasMemoryObjectDataRequest);
        k.dataError(0, "transient store error");
        assertThat(k.refuseFor(300, false)).as("asked again with a backoff").isBetween(2, 12);
        assertThat(k.untilDataRequest(false)).anyMatch(KernelToPager::hasMemoryObjectDataRequest);
        k.supply(0, page);
        k.env.advance(1);
        List<KernelToPager> sent = k.env.drain();
        assertThat(sent).as("passed on to the waiter elsewhere, OWNER_DIED").anyMatch(m ->
                m.hasMemoryObjectFutexReleased() && m.getMemoryObjectFutexReleased().getHandoff());
        assertThat(k.env.traces).anyMatch(t -> t.startsWith("owner-died"));
        assertThat(FutexWord.isAbsent(k.futex(k.base).state())).isTrue();
        assertThat(k.futex(k.base).rewriteRetryTimer).isNull();
    }

    /**
     * A dead owner's woken heir (it cannot run: a higher thread computes) whose page then goes
     * elsewhere; it runs, its page-in is refused (EIO) and so is its leaving's: with nobody here to
     * wake, the page is asked for again while the waiter elsewhere waits, and its return passes the
     * futex on, OWNER_DIED in the word.
     */
    @Test
    void aDeadOwnersHeirThatLeftWithItsPageRefusedIsRetried() {
        MachThread high = k.thread(70);
        k.acquireFromPager(owner, k.base);
        Answer<Acquired> heirWaits = k.lockFull(local, k.base);
        k.computeThen(high, 10 * MS, () -> {
            k.terminate(owner);
            k.env.drain();
            page = k.takePageBack();
            k.relinquish(0, 5); // below the heir: pending
            k.env.drain();
        });
        k.env.advance(10 * MS);
        k.env.advance(1);
        assertThat(k.env.drain()).as("the heir's run faults the page in").anyMatch(KernelToPager::hasMemoryObjectDataRequest);
        k.dataError(0, "transient store error");
        k.env.advance(1);
        assertThat(heirWaits.error().errno()).isEqualTo(Errno.EIO);
        assertThat(k.env.drain()).as("its leaving faults it in").anyMatch(KernelToPager::hasMemoryObjectDataRequest);
        k.dataError(0, "transient store error");
        k.env.advance(1);
        assertThat(k.baseWord() & FutexWord.OWNER_DIED).isNotZero();
        assertThat(k.refuseFor(300, false)).as("retried with a backoff").isBetween(2, 12);
        List<KernelToPager> sent = k.untilDataRequest(false);
        k.supply(0, page);
        k.env.advance(1);
        assertThat(k.env.drain()).as("given back to the waiter elsewhere").anyMatch(KernelToPager::hasMemoryObjectFutexReleased);
        assertThat(FutexWord.isAbsent(k.futex(k.base).state())).isTrue();
        assertThat(k.futex(k.base).rewriteRetryTimer).isNull();
    }
}
