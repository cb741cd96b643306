package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexHeld;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A release that answers a relinquish_futex(try) grants the highest try first, ahead of the
 * kernels queued since the try and of the releaser's own request_again below it (xp-spec 8.3):
 * the holder gives a futex whose woken heir has not run to a try above the heir, asking again
 * for the heir inside the release. Before, the queue won: a kernel queued at 5 while the holder
 * was asked took the futex ahead of the heir (20) and the try (30) failed (heir-late10 review,
 * MED-1). A try above the priority the holder was asked with, that came while it was asked, is
 * asked for again if the holder keeps the futex (LOW-1).
 */
class TryAheadOfQueueTest {
    private final XpKernels x = new XpKernels(new MemoryPageStore());
    private final long a = x.kernel(1, "A");
    private final long b = x.kernel(2, "B");
    private final long c = x.kernel(3, "C");
    private final long d = x.kernel(4, "D");

    TryAheadOfQueueTest() {
        lock(a, 0);
        assertThat(said(a)).containsExactly("granted");
    }

    /** The reviewer's race: a try at 30, then a lock at 5; A gives up its heir (20) to the try. */
    @Test
    void aReleaseToATryGrantsItAheadOfAKernelQueuedSinceAndOfTheHeir() {
        trylock(b, 30);
        assertThat(said(a)).containsExactly("relinquish 30 try");
        lock(c, 5);
        assertThat(said(a)).containsExactly("relinquish 5");
        released(a, true, 20);
        assertThat(said(b)).as("the try first; A's heir (20) waits before C (5)").containsExactly("granted+relinquish 20");
        assertThat(said(c)).isEmpty();
        released(b, false, 0);
        assertThat(said(a)).containsExactly("granted+relinquish 5");
        released(a, false, 0);
        assertThat(said(c)).containsExactly("granted");
        assertThat(x.stats.refused()).isZero();
    }

    /**
     * A kernel queued since the ask above the try goes first: it may have reached the holder before
     * its decision, and Linux's trylock steals only above the top waiter (review tb LOW-1: before,
     * the try at 30, or at 0 on a plain unlock, was granted ahead of C at 90).
     */
    @Test
    void aKernelQueuedAboveTheTryGoesFirst() {
        trylock(b, 30);
        lock(c, 90);
        said(a);
        released(a, true, 20);
        assertThat(said(c)).containsExactly("granted+relinquish 20");
        assertThat(said(b)).containsExactly("busy");
    }

    /** The same for a try at 0 whose ask crossed a plain unlock. */
    @Test
    void aKernelQueuedAboveATryAtZeroGoesFirstOnAPlainUnlock() {
        trylock(b, 0);
        lock(c, 90);
        said(a);
        released(a, false, 0);
        assertThat(said(c)).containsExactly("granted");
        assertThat(said(b)).containsExactly("busy");
    }

    /** An older kernel releases without request_again and asks with a separate lock_futex: the try still goes first. */
    @Test
    void anOlderHoldersSeparateLockFutexQueuesBehindTheTry() {
        trylock(b, 30);
        lock(c, 5);
        said(a);
        released(a, false, 0);
        assertThat(said(b)).containsExactly("granted+relinquish 5");
        assertThat(said(c)).isEmpty();
        lock(a, 20);
        assertThat(said(b)).containsExactly("relinquish 20");
        released(b, false, 0);
        assertThat(said(a)).as("the heir's kernel (20) before C (5)").containsExactly("granted+relinquish 5");
        assertThat(said(c)).isEmpty();
    }

    /**
     * A release whose request_again is at or above the try (it crossed the try: an owner's unlock
     * with threads waiting there) queues the releaser first, as before: the try is busy.
     */
    @Test
    void aReleaseAskingAgainAtOrAboveTheTryKeepsTheQueuesOrder() {
        trylock(b, 30);
        said(a);
        released(a, true, 30);
        assertThat(said(a)).containsExactly("granted");
        assertThat(said(b)).containsExactly("busy");
    }

    /** A try above the one asked for, that came while A was asked, is asked again after A's futex_held. */
    @Test
    void aHigherTryThatCameWhileTheHolderWasAskedGetsAnAskOfItsOwn() {
        trylock(b, 10);
        assertThat(said(a)).containsExactly("relinquish 10 try");
        trylock(c, 30);
        trylock(d, 10);
        assertThat(said(a)).as("one ask out at a time").isEmpty();
        held(a);
        assertThat(said(b)).containsExactly("busy");
        assertThat(said(d)).containsExactly("busy");
        assertThat(said(c)).isEmpty();
        assertThat(said(a)).containsExactly("relinquish 30 try");
        released(a, true, 20);
        assertThat(said(c)).containsExactly("granted+relinquish 20");
        held(a); // A's answer to nothing: dropped
        assertThat(x.stats.refused()).isZero();
    }

    /** A try above, then held again: busy; nothing more is asked. */
    @Test
    void theTryAboveIsBusyWhenTheHolderKeepsTheFutexFromItToo() {
        trylock(b, 10);
        trylock(c, 30);
        said(a);
        held(a);
        assertThat(said(a)).containsExactly("relinquish 30 try");
        held(a);
        assertThat(said(c)).containsExactly("busy");
        assertThat(said(a)).isEmpty();
        lock(d, 0);
        assertThat(said(a)).containsExactly("relinquish 0");
    }

    /** Of several tries waiting, a release answering them grants the highest (the first of equals). */
    @Test
    void aReleaseAnsweringSeveralTriesGrantsTheHighest() {
        trylock(b, 10);
        trylock(c, 30);
        trylock(d, 30);
        said(a);
        released(a, false, 0);
        assertThat(said(c)).containsExactly("granted");
        assertThat(said(b)).containsExactly("busy");
        assertThat(said(d)).containsExactly("busy");
    }

    private void lock(long s, int priority) {
        x.xp(s, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(XpKernels.OBJ).setOffset(0).setPriority(priority)));
    }

    private void trylock(long s, int priority) {
        x.xp(s, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(XpKernels.OBJ).setOffset(0).setTry(true).setPriority(priority)));
    }

    private void released(long s, boolean again, int priority) {
        x.xp(s, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(XpKernels.OBJ).setOffset(0).setFencingToken(x.pager.fencingToken("obj", 0))
                .setRequestAgain(again).setRequestPriority(priority)));
    }

    private void held(long s) {
        x.xp(s, KernelToPager.newBuilder().setMemoryObjectFutexHeld(MemoryObjectFutexHeld.newBuilder()
                .setObjectId(XpKernels.OBJ).setOffset(0).setFencingToken(x.pager.fencingToken("obj", 0))));
    }

    /** The futex messages sent to the session since the last look, spelled out. */
    private List<String> said(long s) {
        return x.take(s).stream().map(m -> switch (m.getRoutineCase()) {
            case MEMORY_OBJECT_FUTEX_GRANTED -> m.getMemoryObjectFutexGranted().getRelinquish()
                    ? "granted+relinquish " + m.getMemoryObjectFutexGranted().getRelinquishPriority() : "granted";
            case MEMORY_OBJECT_FUTEX_BUSY -> "busy";
            case MEMORY_OBJECT_RELINQUISH_FUTEX -> "relinquish " + m.getMemoryObjectRelinquishFutex().getPriority()
                    + (m.getMemoryObjectRelinquishFutex().getTry() ? " try" : "");
            default -> m.getRoutineCase().name();
        }).toList();
    }
}
