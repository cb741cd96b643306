package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataSupply;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A relinquish_futex with try that waits for the held word's page ({@code FutexEntry.tryAwaitsPage},
 * xp-spec 8.3): what crosses that wait (a plain relinquish, a local lock or unlock faulting the same
 * page, a refused page) and its bound (half the session's lease, a core timer): one answer each
 * time, the futex consistent afterwards. The crossings are review M2 of branch trylock (they passed
 * before the bound too); the bound is review H1 (without it, nothing answered the try: the pager's
 * answer deadline would end this kernel for the silence of the page's writer).
 */
class TrylockAwaitsPageTest {
    private static final int PAGE = 4096;
    private static final long LEASE_MS = 1000;
    private static final long MS = 1_000_000;
    private CoreFixture k = new CoreFixture(true);

    private static byte[] page(int at, int value) {
        byte[] p = new byte[PAGE];
        ByteBuffer.wrap(p).order(ByteOrder.LITTLE_ENDIAN).putInt(at, value);
        return p;
    }

    /** The page back from the pager, newer than this kernel's copy (written elsewhere). */
    private void supplyNewer(byte[] data, long version) {
        k.core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectDataSupply(MemoryObjectDataSupply.newBuilder()
                .setObjectId(CoreFixture.OBJECT_ID).setOffset(0).setData(ByteString.copyFrom(data)).setVersion(version))
                .build());
    }

    /** O holds the futex at 32, its page leaves unwaited, and a try arrives: the page is fetched. */
    private MachThread awaiting() {
        MachThread o = k.thread();
        k.acquireFromPager(o, k.base + 32);
        k.lockRequest(0, ReturnPolicy.RETURN_DIRTY, true, VmProt.VM_PROT_NONE, true);
        k.env.drain();
        k.relinquishTry(32);
        List<KernelToPager> sent = k.env.drain();
        assertThat(sent).extracting(KernelToPager::hasMemoryObjectDataRequest).containsOnlyOnce(true);
        assertThat(sent).extracting(KernelToPager::hasMemoryObjectFutexHeld).doesNotContain(true);
        assertThat(k.futex(k.base + 32).tryAwaitsPage).isTrue();
        return o;
    }

    private long state() {
        return k.futex(k.base + 32).state();
    }

    private static List<KernelToPager> answers(List<KernelToPager> sent) {
        return sent.stream().filter(m -> m.hasMemoryObjectFutexHeld() || m.hasMemoryObjectFutexReleased()).toList();
    }

    @Test
    void aPlainRelinquishCrossingTheFetchOfAWordWrittenFreeEndsInOneRelease() {
        awaiting();
        k.relinquish(32, 5); // a kernel queued meanwhile
        assertThat(answers(k.env.drain())).isEmpty();
        supplyNewer(page(32, 0), 5);
        List<KernelToPager> sent = k.env.drain();
        assertThat(sent).extracting(KernelToPager::hasMemoryObjectFutexReleased).containsOnlyOnce(true);
        assertThat(sent).extracting(KernelToPager::hasMemoryObjectFutexHeld).doesNotContain(true);
        assertThat(FutexWord.isAbsent(state())).isTrue();
        assertThat(k.futex(k.base + 32).relinquishPending).isFalse();
    }

    @Test
    void aPlainRelinquishCrossingTheFetchOfAWordStillOwnedIsGivenBackAtTheUnlock() {
        MachThread o = awaiting();
        k.relinquish(32, 5);
        k.env.drain();
        supplyNewer(page(32, o.tid), 5);
        assertThat(k.env.drain()).extracting(KernelToPager::hasMemoryObjectFutexHeld).containsOnlyOnce(true);
        assertThat(k.unlock(o, k.base + 32).answered()).isTrue();
        assertThat(k.env.drain()).extracting(KernelToPager::hasMemoryObjectFutexReleased)
                .as("given back at the unlock").containsOnlyOnce(true);
    }

    @Test
    void aLocalLockFaultingTheSamePageOfAWordWrittenFreeIsNotLost() {
        awaiting();
        MachThread w = k.thread();
        Answer<AcquirePath> lock = k.lock(w, k.base + 32);
        k.env.drain();
        supplyNewer(page(32, 0), 5);
        List<KernelToPager> sent = k.env.drain();
        assertThat(sent).extracting(KernelToPager::hasMemoryObjectFutexReleased).as("the try answered first")
                .containsOnlyOnce(true);
        assertThat(lock.answered() || sent.stream().anyMatch(KernelToPager::hasMemoryObjectLockFutex))
                .as("W either took it or asks the pager").isTrue();
    }

    @Test
    void theOwnersUnlockFaultingTheSamePageOfAWordStillOwnedIsAnswered() {
        MachThread o = awaiting();
        Answer<Void> unlock = k.unlock(o, k.base + 32);
        assertThat(unlock.answered()).isFalse();
        k.env.drain();
        supplyNewer(page(32, o.tid), 5);
        assertThat(k.env.drain()).extracting(KernelToPager::hasMemoryObjectFutexHeld).containsOnlyOnce(true);
        assertThat(unlock.answered()).isTrue();
        assertThat(FutexWord.isAbsent(state())).as("kept here, free").isFalse();
        assertThat(FutexWord.owner(state())).isZero();
    }

    /** Review L1: the refused page answers busy from the held word, WAITERS set as any busy answer. */
    @Test
    void aRefusedPageAnswersBusyFromTheHeldWordWithWaiters() {
        MachThread o = awaiting();
        k.dataError(0, "refused");
        List<KernelToPager> sent = k.env.drain();
        assertThat(answers(sent)).extracting(KernelToPager::hasMemoryObjectFutexHeld).containsExactly(true);
        assertThat(sent).extracting(KernelToPager::hasMemoryObjectDataRequest).as("no second fetch").doesNotContain(true);
        assertThat(FutexWord.word(state())).isEqualTo(o.tid | FutexWord.WAITERS);
        assertThat(k.futex(k.base + 32).tryAwaitsPage).isFalse();
    }

    /**
     * Review H1: the page does not come within half a lease (its writer elsewhere keeps it and does
     * not answer its recall): the held word answers busy then, WAITERS set; the page that comes
     * later answers nothing more. Failed before the bound: no answer at all.
     */
    @Test
    void aPageNotBackWithinHalfALeaseIsAnsweredBusyFromTheHeldWord() {
        k = new CoreFixture(CoreOptions.DEFAULT.withCacheFutexes(true), LEASE_MS);
        MachThread o = awaiting();
        k.env.advance(LEASE_MS / 2 * MS - 1);
        k.answerKeepalives();
        assertThat(answers(k.env.drain())).as("still waiting for the page").isEmpty();
        k.env.advance(1);
        k.answerKeepalives();
        List<KernelToPager> sent = k.env.drain();
        assertThat(answers(sent)).extracting(KernelToPager::hasMemoryObjectFutexHeld).containsExactly(true);
        assertThat(sent).extracting(KernelToPager::hasMemoryObjectDataRequest).as("the fetch already out").doesNotContain(true);
        assertThat(FutexWord.word(state())).isEqualTo(o.tid | FutexWord.WAITERS);

        supplyNewer(page(32, 0), 5); // the page at last, its word written free elsewhere: the try was answered
        assertThat(answers(k.env.drain())).isEmpty();
    }

    /** The page that comes in time answers once, and the bound, cancelled, answers nothing later. */
    @Test
    void aPageBackInTimeCancelsTheBound() {
        k = new CoreFixture(CoreOptions.DEFAULT.withCacheFutexes(true), LEASE_MS);
        MachThread o = awaiting();
        supplyNewer(page(32, o.tid), 5);
        assertThat(answers(k.env.drain())).extracting(KernelToPager::hasMemoryObjectFutexHeld).containsExactly(true);
        assertThat(k.futex(k.base + 32).tryPageTimer).isNull();
        for (int quarter = 0; quarter < 4; quarter++) {
            k.env.advance(LEASE_MS / 4 * MS);
            k.answerKeepalives();
        }
        assertThat(answers(k.env.drain())).isEmpty();
    }

    /**
     * Review L2 of branch trylock: O ends while the try waits for the page. The page comes with
     * O's TID still in the word: the death is settled first (OWNER_DIED in the word, nobody here
     * waits), then the try is answered from that word: given back once (futex_released), so the
     * trylock elsewhere takes it as Linux's TRYLOCK_PI takes a word of OWNER_DIED and TID 0
     * (TID|OWNER_DIED, EOWNERDEAD). The death's own page-in, resumed after, finds the futex gone
     * and sends nothing more.
     */
    @Test
    void anOwnerThatEndsWhileTheTryWaitsForThePageLetsTheTryTakeItWithOwnerDied() {
        MachThread o = awaiting();
        Answer<Void> ended = k.terminate(o);
        assertThat(k.env.drain()).extracting(KernelToPager::hasMemoryObjectDataRequest)
                .as("the death waits for the same page: no second fetch").doesNotContain(true);
        supplyNewer(page(32, o.tid), 5);
        List<KernelToPager> sent = k.env.drain();
        assertThat(answers(sent)).extracting(KernelToPager::hasMemoryObjectFutexReleased).containsExactly(true);
        assertThat(ended.answered()).isTrue();
        assertThat(FutexWord.isAbsent(state())).as("given back to the trylock").isTrue();
        assertThat(k.futex(k.base + 32).tryAwaitsPage).isFalse();
        int word = ByteBuffer.wrap(k.read(k.base + 32, 4).value()).order(ByteOrder.LITTLE_ENDIAN).getInt();
        assertThat(word).as("the word the page carries to the trylock").isEqualTo(FutexWord.OWNER_DIED);
    }

    /**
     * O ends while the try waits and the page does not come within the bound: the held word
     * (O's, dead) answers busy, as a trylock that runs before Linux's robust-list walk; when the
     * page comes, the death leaves OWNER_DIED in the word, kept here free, nothing more sent.
     */
    @Test
    void anOwnerThatEndsWhileTheTryWaitsPastTheBoundAnswersBusyThenLeavesOwnerDied() {
        k = new CoreFixture(CoreOptions.DEFAULT.withCacheFutexes(true), LEASE_MS);
        MachThread o = awaiting();
        Answer<Void> ended = k.terminate(o);
        k.env.advance(LEASE_MS / 2 * MS);
        k.answerKeepalives();
        assertThat(answers(k.env.drain())).extracting(KernelToPager::hasMemoryObjectFutexHeld).containsExactly(true);
        supplyNewer(page(32, o.tid), 5);
        assertThat(answers(k.env.drain())).isEmpty();
        assertThat(ended.answered()).isTrue();
        assertThat(FutexWord.word(state()) & ~FutexWord.WAITERS).as("free here, its owner died")
                .isEqualTo(FutexWord.OWNER_DIED);
    }

    /**
     * A second try after the first one's bound fired, the page's fetch still out: before, it
     * joined that fetch and waited another half lease (a busy answer each half lease while the
     * writer elsewhere stays silent, one more waiting fault on the page each time). Now it is
     * answered busy from the held word at once, with no second fetch; once the page is here, a
     * try is answered from its word again.
     */
    @Test
    void aTryAfterTheBoundFiredIsAnsweredAtOnceWhileThatFetchIsOut() {
        k = new CoreFixture(CoreOptions.DEFAULT.withCacheFutexes(true), LEASE_MS);
        MachThread o = awaiting();
        k.env.advance(LEASE_MS / 2 * MS);
        k.answerKeepalives();
        assertThat(answers(k.env.drain())).extracting(KernelToPager::hasMemoryObjectFutexHeld).containsExactly(true);

        k.relinquishTry(32);
        List<KernelToPager> sent = k.env.drain();
        assertThat(answers(sent)).as("answered at once").extracting(KernelToPager::hasMemoryObjectFutexHeld)
                .containsExactly(true);
        assertThat(sent).extracting(KernelToPager::hasMemoryObjectDataRequest).doesNotContain(true);
        assertThat(k.futex(k.base + 32).tryAwaitsPage).isFalse();
        assertThat(k.futex(k.base + 32).tryPageTimer).as("no second bound").isNull();
        assertThat(k.futex(k.base + 32).page.waiting).as("no second waiting fault").hasSize(1);
        assertThat(FutexWord.word(state())).isEqualTo(o.tid | FutexWord.WAITERS);

        supplyNewer(page(32, 0), 5); // the page at last, its word written free elsewhere
        assertThat(answers(k.env.drain())).isEmpty();
        assertThat(k.futex(k.base + 32).tryPageOverdue).isFalse();
        k.relinquishTry(32);
        assertThat(answers(k.env.drain())).as("the word here decides again: nobody's, given back")
                .extracting(KernelToPager::hasMemoryObjectFutexReleased).containsExactly(true);
    }

    /** A fetch that fails after the bound fired ends the overdue state: the next try fetches again. */
    @Test
    void aFetchRefusedAfterTheBoundLetsTheNextTryFetchAgain() {
        k = new CoreFixture(CoreOptions.DEFAULT.withCacheFutexes(true), LEASE_MS);
        awaiting();
        k.env.advance(LEASE_MS / 2 * MS);
        k.answerKeepalives();
        k.env.drain();
        k.dataError(0, "refused");
        assertThat(answers(k.env.drain())).isEmpty();
        assertThat(k.futex(k.base + 32).tryPageOverdue).isFalse();
        k.relinquishTry(32);
        List<KernelToPager> sent = k.env.drain();
        assertThat(sent).extracting(KernelToPager::hasMemoryObjectDataRequest).containsOnlyOnce(true);
        assertThat(answers(sent)).isEmpty();
        assertThat(k.futex(k.base + 32).tryAwaitsPage).isTrue();
    }
}
