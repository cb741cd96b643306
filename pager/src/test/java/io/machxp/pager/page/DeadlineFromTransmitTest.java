package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.PagerToKernel;
import org.junit.jupiter.api.Test;

/**
 * The answer deadline (xp-spec 4.8) counts from when the awaited request went on the wire, not
 * from when the core queued it behind a grant waiting for its holders'-journal entry (a slow or
 * failing store). Found by the XP review (finding 6): H was ended ETIMEDOUT for not answering a
 * relinquish_futex(try) it had never received.
 */
class DeadlineFromTransmitTest {
    private static final long LEASE = 1_000_000_000L;

    @Test
    void aRequestWaitingBehindAJournalWriteIsNotOverdueAndIsOnceSent() {
        XpKernels x = new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, 3));
        long deadline = PagerOptions.defaultAnswerDeadlineNanos(LEASE);
        long h = x.kernel(1, "H");
        long k = x.kernel(2, "K");
        x.deferStoreEffects(); // the store does not write: the grant to H waits for its journal entry
        x.lockFutex(h, 0);
        x.xp(k, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(XpKernels.OBJ).setOffset(0).setTry(true))); // relinquish(try) to H waits behind it
        assertThat(x.take(h)).as("nothing reached H").isEmpty();
        x.advanceHeard(deadline + LEASE, LEASE / 4, h, k);
        assertThat(x.ended).as("H never received the request").doesNotContainKey(h);
        x.runStore();
        assertThat(x.take(h)).extracting(PagerToKernel::getRoutineCase).containsSubsequence(
                PagerToKernel.RoutineCase.MEMORY_OBJECT_FUTEX_GRANTED,
                PagerToKernel.RoutineCase.MEMORY_OBJECT_RELINQUISH_FUTEX);
        x.advanceHeard(deadline - LEASE / 4, LEASE / 4, h, k);
        assertThat(x.ended).as("within D of the transmit").doesNotContainKey(h);
        x.advanceHeard(LEASE / 2, LEASE / 4, h, k);
        assertThat(x.ended.get(h)).as("D after the transmit, unanswered").startsWith("ETIMEDOUT")
                .contains("memory_object_relinquish_futex (try)");
    }
}
