package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.xp.PagerWelcome;
import io.machxp.proto.xp.PagerToKernel;
import org.junit.jupiter.api.Test;

/**
 * A lock parked in a lease grace whose caller goes away is not run again when the grace ends (its
 * parked reply is the wrapper that records the grant, GrantRecording).
 */
class ParkedLockCancelledTest {
    private static final long MS = 1_000_000;

    @Test
    void aCancelledLockParkedInAGraceDoesNotRunAgain() {
        CoreFixture k = new CoreFixture(CoreOptions.DEFAULT, 1000, 77);
        k.env.replicated = true;
        MachThread owner = k.thread();
        MachThread t2 = k.thread();
        k.acquireFromPager(owner, k.base);
        k.env.advance(850 * MS - k.env.nanoTime());
        assertThat(k.env.traces).contains("lease-grace 1000 ms");
        Answer<Acquired> lock = k.lockFull(t2, k.base);   // parked in the grace
        k.core.abortWait(k.task.id, t2.tid, lock);        // its gRPC caller goes away (stopWhenCancelled)
        k.core.xp().onXp(PagerToKernel.newBuilder().setPagerWelcome(PagerWelcome.newBuilder().setKernelId(1)
                .setResumed(true).setReceived(k.env.numbered)).build());
        assertThat(k.env.traces).contains("lease-grace-over resumed");
        k.env.advance(1);
        assertThat(t2.blockedIn).as("the cancelled lock is not run at the grace's end").isNull();
    }
}
