package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.PAGE;
import static io.machxp.pager.page.XpKernels.page;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.PagerToKernel;
import org.junit.jupiter.api.Test;

/**
 * A relinquish_futex(try) and page lock_requests that went on the wire in one flush (they waited
 * in the holder's outbox behind a grant's journal entry) are a tie in their sending; the one
 * asked first is the oldest owed, whichever queue it is in (late7 review O2: the page won every
 * such tie, so an answer to a request asked after the try counted as progress on a try the
 * kernel had skipped).
 */
class OwedTieAcrossQueuesTest {
    private static final long LEASE = 1_000_000_000L;
    private static final long DEADLINE = 3 * LEASE;
    private static final long MS = 1_000_000L;
    private static final long FUTEX = 2L * PAGE;

    @Test
    void aTryAskedBeforeAPageRequestOfTheSameFlushIsTheOldestOwed() {
        XpKernels x = new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, 3).withAnswerDeadline(DEADLINE));
        long h = x.kernel(1, "H");
        long r = x.kernel(2, "R");
        long k = x.kernel(3, "K");
        x.write(h, 0);
        x.write(h, PAGE);
        x.lockFutex(h, FUTEX);
        x.take(h);
        x.deferStoreEffects();
        x.lockFutex(h, FUTEX + 64); // its grant waits for the journal: H's outbox waits behind it
        x.advance(MS);
        x.xp(k, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(XpKernels.OBJ).setOffset(FUTEX).setTry(true))); // the try, asked first
        x.advance(MS);
        x.read(r, 0); // a lock_request asked after the try: H will answer this one
        x.advance(MS);
        x.read(r, PAGE); // and one asked after that, never answered
        x.advance(MS);
        assertThat(x.take(h)).as("all waits in H's outbox").isEmpty();
        x.runStore(); // one flush: all three go on the wire now
        assertThat(x.take(h)).extracting(PagerToKernel::getRoutineCase).contains(
                PagerToKernel.RoutineCase.MEMORY_OBJECT_RELINQUISH_FUTEX,
                PagerToKernel.RoutineCase.MEMORY_OBJECT_LOCK_REQUEST);
        x.advanceHeard(DEADLINE / 2, LEASE / 4, h, r, k);
        x.returnDirty(h, 0, page(1), true); // H answers the request asked after the try: it skipped the try
        x.lockCompleted(h, 0);
        x.advanceHeard(DEADLINE / 2 - LEASE / 4, LEASE / 4, h, r, k);
        assertThat(x.ended).as("within D of the flush").doesNotContainKey(h);
        x.advanceHeard(LEASE / 2, LEASE / 4, h, r, k);
        assertThat(x.ended.get(h)).as("D after the flush: the try, asked first, is unanswered")
                .startsWith("ETIMEDOUT").contains("memory_object_relinquish_futex (try)");
    }
}
