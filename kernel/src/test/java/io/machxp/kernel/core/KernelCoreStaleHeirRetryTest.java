package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A stale unlock heir whose page-in is refused while a waiter elsewhere waits (heir11 MED-1): the
 * page is asked for again with a backoff (FutexRewriteRetry), one fetch at a time, until it comes;
 * its return passes the futex on to the waiter elsewhere. Local waiters still get EIO.
 */
class KernelCoreStaleHeirRetryTest {
    private static final long MS = 1_000_000L;

    private final CoreFixture k = new CoreFixture(true);
    private final MachThread high = k.thread(70);
    private final MachThread low = k.thread(20);
    private byte[] page;

    /** high unlocks to low (cannot run: the woken heir), the page leaves; {@code waiterElsewhere} > 0: a relinquish then. */
    private Answer<Acquired> heirWokenPageElsewhere(int waiterElsewhere) {
        k.acquireFromPager(high, k.base);
        Answer<Acquired> heirWaits = k.lockFull(low, k.base);
        k.computeThen(high, 10 * MS, () -> {
            k.unlock(high, k.base).value();
            k.env.drain();
            page = k.takePageBack();
            if (waiterElsewhere > 0) {
                k.relinquish(0, waiterElsewhere);
                k.env.drain();
            }
        });
        k.env.advance(10 * MS);
        k.env.advance(1);
        return heirWaits;
    }

    @Test
    void aWaiterElsewherePendingBeforeTheHeirLeftIsServedByARetry() {
        Answer<Acquired> heirWaits = heirWokenPageElsewhere(15);
        assertThat(k.env.drain()).anyMatch(KernelToPager::hasMemoryObjectDataRequest);
        k.dataError(0, "transient store error");
        assertThat(heirWaits.error().errno()).as("a refused page: EIO, as any lock's").isEqualTo(Errno.EIO);
        k.env.advance(1);
        assertThat(k.env.drain()).anyMatch(KernelToPager::hasMemoryObjectDataRequest);
        k.dataError(0, "transient store error");
        k.env.advance(1);
        assertThat(k.baseWord()).isEqualTo((low.tid | FutexWord.WAITERS) & 0xffffffffL);
        int refusedRetries = k.refuseFor(300, true); // 3 s refused
        assertThat(refusedRetries).as("retried, with a backoff (no storm)").isBetween(2, 12);
        assertThat(k.untilDataRequest(true)).anyMatch(KernelToPager::hasMemoryObjectDataRequest);
        k.supply(0, page);
        k.env.advance(1);
        List<KernelToPager> sent = k.env.drain();
        assertThat(sent).as("the futex passes on to the waiter elsewhere").anyMatch(m ->
                m.hasMemoryObjectFutexReleased() && m.getMemoryObjectFutexReleased().getHandoff());
        assertThat(k.futex(k.base).staleHeirTid).isZero();
        assertThat(k.futex(k.base).rewriteRetryTimer).isNull();
        k.env.advance(5000 * MS);
        assertThat(k.env.drain()).as("no retry once done").noneMatch(KernelToPager::hasMemoryObjectDataRequest);
    }

    @Test
    void aRelinquishAfterTheHeirLeftWhoseFetchIsRefusedIsRetried() {
        Answer<Acquired> heirWaits = heirWokenPageElsewhere(0);
        k.env.drain();
        k.dataError(0, "transient store error");
        assertThat(heirWaits.error().errno()).isEqualTo(Errno.EIO);
        k.env.advance(1);
        k.env.drain();
        k.dataError(0, "transient store error");
        k.env.advance(1);
        k.env.advance(5000 * MS);
        assertThat(k.env.drain()).as("nobody waits: no retry").noneMatch(KernelToPager::hasMemoryObjectDataRequest);
        k.relinquish(0, 25);
        assertThat(k.env.drain()).anyMatch(KernelToPager::hasMemoryObjectDataRequest);
        k.dataError(0, "transient store error");
        assertThat(k.refuseFor(100, true)).isPositive();
        assertThat(k.untilDataRequest(true)).anyMatch(KernelToPager::hasMemoryObjectDataRequest);
        k.supply(0, page);
        k.env.advance(1);
        assertThat(k.env.drain()).anyMatch(m ->
                m.hasMemoryObjectFutexReleased() && m.getMemoryObjectFutexReleased().getHandoff());
        assertThat(k.futex(k.base).staleHeirTid).isZero();
    }
}
